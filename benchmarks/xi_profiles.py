"""[C]'s xi = I_MW(anticentre) / I_EG, recomputed independently and for simple coronae
(docs/extragalactic.md, section 1, "xi").

    python benchmarks/xi_profiles.py [--output benchmarks/results/xi_profiles.json]

Prints and writes JSON (about 10 s):
- the baseline corona's xi (runs/paper/kalashev2016_baseline.toml, neutrinos, 100 TeV) from
  the code (montecarlo.cascade.extragalactic.xi) and from an independent recomputation written
  here: scipy quadrature of the anticentre column and of the cosmological sum with its own
  H(z) and its own nested integral for rho*(z), using only the emission table q(E, r);
- where the anticentre column comes from (8.5-20 kpc) for the emissivity, the gas and the
  cosmic rays separately;
- the stellar-mass density rho*(0) that xi = 1 would need with the baseline's spatial shape, and
  its fraction of the cosmic baryon density (Planck 2018);
- xi for simple coronae (alpha = 2.4), from [C]'s power-law form
  xi = M*_MW Integral_{r_sun}^{R} q dr / (c I_z Integral 4 pi r^2 q dr), and from the code for
  the same q(r) tabulated, with xi / (4 pi) beside it (the missing-4-pi hypothesis).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.integrate import quad
from scipy.interpolate import CubicSpline

from montecarlo.cascade import extragalactic as eg
from montecarlo.pipeline.extragalactic import specs_from_config
from transport import build_emissions, load_config, solve
from transport.core.constants import C_CM_S, KPC_CM, MPC_CM
from transport.cosmicrays.gas import corona_density
from transport.emission.tables import SphericalEmission

from _report import write_json

BASELINE = Path(__file__).resolve().parent.parent / "runs" / "paper" / "kalashev2016_baseline.toml"
E_REF_EV = 1e14
ALPHA = 2.4
R_SUN_KPC, R_MAX_KPC, R_INNER_KPC = 8.5, 250.0, 20.0
YR_S = 3.15576e7
#: Gravitational constant [cm^3 g^-1 s^-2] and solar mass [g] (CODATA 2018, IAU 2015).
G_CGS, MSUN_G = 6.67430e-8, 1.98841e33


# ------------------------------------------------------------ an independent cosmology
class Cosmology:
    """Flat LambdaCDM with the Planck 2018 H0, Omega_m, Omega_b (astropy's Planck18 numbers);
    no radiation, as the code (docs/extragalactic.md)."""

    def __init__(self):
        from astropy.cosmology import Planck18
        self.H0_s = Planck18.H0.to_value("km/(s Mpc)") * 1e5 / MPC_CM
        self.Om, self.Ob = float(Planck18.Om0), float(Planck18.Ob0)

    def H(self, z):
        return self.H0_s * np.sqrt(self.Om * (1 + z) ** 3 + 1 - self.Om)

    def rho_star(self, z, imf_factor=0.61):
        """Madau & Dickinson (2014) eq. 15 integrated with their eq. 2 (R = 0.27) [M_sun Mpc^-3]."""
        psi = lambda x: 0.015 * (1 + x) ** 2.7 / (1 + ((1 + x) / 2.9) ** 5.6)  # noqa: E731
        tail = quad(lambda x: psi(x) / ((1 + x) * self.H(x) * YR_S), z, np.inf,
                    epsrel=1e-11, limit=500)[0]
        return imf_factor * 0.73 * tail

    def rho_baryon(self):
        """Omega_b rho_crit [M_sun Mpc^-3]."""
        return self.Ob * 3 * self.H0_s ** 2 / (8 * np.pi * G_CGS) * MPC_CM ** 3 / MSUN_G


def redshift_table(cosmo, z_max=3.9, n=400):
    """rho*(z) on n nodes and its cubic spline (smooth, so the z quadratures converge)."""
    z = np.linspace(0.0, z_max, n)
    rho = np.array([cosmo.rho_star(x) for x in z])
    return z, rho, CubicSpline(z, rho)


def I_z(cosmo, ztab, alpha, z_max=3.9):
    """[C]'s I_z = Integral_0^z_max rho* (1 + z)^-alpha / H(z) dz [M_sun Mpc^-3 s]."""
    spline = ztab[2]
    return quad(lambda x: spline(x) * (1 + x) ** -alpha / cosmo.H(x), 0, z_max,
                epsrel=1e-10, limit=400)[0]


# ------------------------------------------------------------ xi, written out
def loglog(x, xp, fp):
    """Linear interpolation in (ln x, ln f); zero where f = 0 at a neighbouring node."""
    with np.errstate(divide="ignore"):
        return np.exp(np.interp(np.log(x), np.log(xp), np.log(fp), left=-np.inf, right=-np.inf))


def column(q_of_r, a, b):
    """Integral_a^b q dr by adaptive quadrature (breakpoints where profiles change slope)."""
    pts = [p for p in (10.0, 20.0, 50.0, 72.0, 100.0) if a < p < b]
    return quad(q_of_r, a, b, points=pts or None, epsrel=1e-10, limit=500)[0]


def xi_power_law(q_of_r, cosmo, ztab, alpha=ALPHA, m_star=6.43e10, r_max=R_MAX_KPC):
    """[C]'s xi for a power law: M*_MW Integral_{r_sun}^{R} q dr / (c I_z Integral 4 pi r^2 q dr)."""
    num = column(q_of_r, R_SUN_KPC, r_max) * KPC_CM
    vol = 4 * np.pi * column(lambda r: r * r * q_of_r(r), 0.0, r_max) * KPC_CM ** 3
    return m_star * num / (C_CM_S * I_z(cosmo, ztab, alpha) / MPC_CM ** 3 * vol)


def xi_full(emission, E0, cosmo, ztab, m_star=6.43e10, z_max=3.9):
    """xi of a tabulated emission at E0 with its own spectrum: the anticentre column of
    q(E0, r) over (c / 4 pi) Integral dz n_gal L((1 + z) E0) / H (the 1 / 4 pi cancels)."""
    r = emission.r_kpc
    iE = int(np.argmin(np.abs(np.log(emission.E_eV / E0))))
    assert abs(emission.E_eV[iE] / E0 - 1) < 1e-9, "E0 must be a table energy"
    q0 = emission.q[iE]
    q_of_r = lambda x: loglog(x, r, q0) if x >= r[0] else q0[0]  # noqa: E731
    num = column(q_of_r, R_SUN_KPC, r[-1]) * KPC_CM
    L = np.array([4 * np.pi * column(lambda x, k=k: x * x * (loglog(x, r, emission.q[k]) if x >= r[0]
                                                          else emission.q[k, 0]), 0.0, r[-1])
                  for k in range(emission.E_eV.size)]) * KPC_CM ** 3
    spline = ztab[2]
    eg_ = quad(lambda x: spline(x) / m_star / MPC_CM ** 3
               * loglog((1 + x) * E0, emission.E_eV, L) / cosmo.H(x), 0, z_max,
               epsrel=1e-10, limit=400)[0] * C_CM_S
    return num / eg_


def tabulate(r_kpc, shape, alpha=ALPHA):
    """SphericalEmission q = shape(r) (E / 1 GeV)^-alpha for the code's xi."""
    E = np.geomspace(1e9, 1e18, 91)
    return SphericalEmission(r_kpc, E, shape[None, :] * 1e-30 * (E[:, None] / 1e9) ** -alpha,
                             attrs={"particle": "nu"})


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", default="benchmarks/results/xi_profiles.json")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    cfg = load_config(BASELINE)
    universe, _ = specs_from_config(cfg)
    emission = build_emissions(cfg, solve(cfg, progress=False))["corona"]["nu"]
    cosmo = Cosmology()
    ztab = redshift_table(cosmo)
    E_ref = float(emission.E_eV[np.argmin(np.abs(np.log(emission.E_eV / E_REF_EV)))])
    out = {"config": str(BASELINE.name), "E_ref_eV": E_ref, "alpha_table": ALPHA}

    # 1. the baseline, code against the recomputation
    xi_code = float(eg.xi(emission, E_ref, universe))
    xi_ind = xi_full(emission, E_ref, cosmo, ztab)
    out["baseline"] = {"xi_code": xi_code, "xi_independent": xi_ind,
                       "relative_difference": xi_code / xi_ind - 1.0}
    print(f"baseline corona, nu at {E_ref:.4g} eV (the table energy nearest 100 TeV): xi code {xi_code:.5f}, independent "
          f"{xi_ind:.5f} (difference {100 * (xi_code / xi_ind - 1):+.3f} %)")

    # 2. where the anticentre column comes from
    r = emission.r_kpc
    q0 = emission.q[emission.energy_index(E_ref)]
    n_gas = lambda x: float(corona_density(x, cfg.gas))  # noqa: E731
    q_fn = lambda x: loglog(x, r, q0)  # noqa: E731
    cr_fn = lambda x: q_fn(x) / n_gas(x) if n_gas(x) > 0 else 0.0  # noqa: E731
    frac = {}
    for name, f in (("emissivity", q_fn), ("gas", n_gas), ("cosmic_rays", cr_fn)):
        frac[name] = column(f, R_SUN_KPC, R_INNER_KPC) / column(f, R_SUN_KPC, R_MAX_KPC)
        print(f"fraction of the anticentre column from {R_SUN_KPC:g}-{R_INNER_KPC:g} kpc, {name}: "
              f"{frac[name]:.3f}")
    out["column_fraction_8.5_20kpc"] = frac

    # 3. the rho*(0) that xi = 1 would need, against the cosmic baryons
    rho0 = float(ztab[1][0])
    xi_pl = xi_power_law(q_fn, cosmo, ztab)
    need = {"from_full_xi": rho0 * xi_code, "from_power_law_xi": rho0 * xi_pl}
    rho_b = cosmo.rho_baryon()
    out["rho_star_0"] = rho0
    out["rho_baryon"] = rho_b
    out["xi_power_law_baseline_shape"] = xi_pl
    out["rho_star_0_for_xi_1"] = need
    print(f"rho*(0) = {rho0:.4g} M_sun/Mpc^3 (Chabrier); baryons Omega_b rho_crit = {rho_b:.4g}")
    print(f"[C]'s power-law xi with the baseline's q(r) at {E_ref:.4g} eV (alpha {ALPHA}): {xi_pl:.3f}")
    for k, v in need.items():
        print(f"xi = 1 needs rho*(0) = {v:.3g} M_sun/Mpc^3 = {v / rho_b:.2f} of all baryons ({k})")

    # 4. simple coronae
    uniform = lambda x: 1.0 if x <= R_MAX_KPC else 0.0  # noqa: E731
    inv_r = lambda x: 1.0 / x if x <= R_MAX_KPC else 0.0  # noqa: E731
    rr = np.geomspace(1e-3, R_MAX_KPC, 600)
    rows = [
        ("uniform gas, uniform CRs (250 kpc)", uniform, np.ones_like(rr), rr),
        ("uniform gas, n_CR ~ 1/r (250 kpc)", inv_r, 1.0 / rr, rr),
        ("default gas, uniform CRs", n_gas, np.array([n_gas(x) for x in r]), r),
        ("uniform gas, baseline CRs", cr_fn, np.array([cr_fn(x) for x in r]), r),
        ("default (baseline q(r) at 100 TeV)", q_fn, q0, r),
    ]
    table = []
    print(f"\n| corona | xi ([C]'s power-law form) | xi (code) | xi / 4 pi | column from 8.5-20 kpc |")
    print("|---|---|---|---|---|")
    for name, f, shape, rgrid in rows:
        x_pl = xi_power_law(f, cosmo, ztab)
        x_code = float(eg.xi(tabulate(rgrid, np.asarray(shape, dtype=float)), E_REF_EV, universe))
        fr = column(f, R_SUN_KPC, R_INNER_KPC) / column(f, R_SUN_KPC, R_MAX_KPC)
        table.append({"corona": name, "xi_power_law": x_pl, "xi_code": x_code,
                      "xi_over_4pi": x_pl / (4 * np.pi), "column_fraction_8.5_20kpc": fr})
        print(f"| {name} | {x_pl:.4g} | {x_code:.4g} | {x_pl / (4 * np.pi):.3g} | {fr:.2f} |")
    out["simple_profiles"] = table
    R, rs = R_MAX_KPC, R_SUN_KPC
    out["uniform_closed_form"] = (6.43e10 * (R - rs) * KPC_CM
                                  / (C_CM_S * I_z(cosmo, ztab, ALPHA) / MPC_CM ** 3
                                     * 4 * np.pi / 3 * R ** 3 * KPC_CM ** 3))
    print(f"uniform corona, closed form M* (R - r_sun) / (c I_z 4 pi R^3 / 3): "
          f"{out['uniform_closed_form']:.4f}")
    print(f"missing-4-pi hypothesis: baseline xi / (4 pi) = {xi_code / (4 * np.pi):.3f}")
    out["baseline"]["xi_over_4pi"] = xi_code / (4 * np.pi)
    out["seconds"] = time.perf_counter() - t0
    write_json(out, args.output)
    return out


if __name__ == "__main__":
    main()
