"""Agreement entries of [C] (the corona, Kalashev & Troitsky) and [T] (the Tibet ASgamma plane
and its neutrinos) from the results ``corona paper`` already computes for their figures."""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from montecarlo import observations as obs
from montecarlo.galactic_plane import components as comp
from montecarlo.pipeline.papers.agreement import entry
from transport.cosmicrays.gas import beta_profile

#: [T] quoted ranges: chi^2/dof of the fit (Sec. 2.3) and the all-sky neutrinos (Sec. 4).
T_CHI2 = {"uniform": (1.6, 2.0), "snr_tibet": (0.7, 1.0)}
T_NU_ALL_SKY_100TEV_GEV = (3e-9, 6e-9)       # E^2 I, all flavours [GeV cm^-2 s^-1 sr^-1]
T_NU_FRACTION_100TEV = (0.05, 0.10)


def crossing_radius_kpc(gas) -> float:
    """Radius where the inner and outer beta profiles of [C] eq. 2-3 cross [kpc]."""
    diff = lambda r: (np.log(beta_profile(r, gas.inner_n0_cm3, gas.inner_beta, gas.rc_kpc))
                      - np.log(beta_profile(r, gas.outer_n0_cm3, gas.outer_beta, gas.rc_kpc)))
    return float(brentq(diff, 1.0, gas.R_max_kpc))


def c_entries(summary: dict, cfg) -> list:
    """[C] from the baseline model's summary (``corona run``'s summary stage)."""
    out = [
        entry("C", "Fig. 4, Sec. V", "corona neutrinos / IceCube astrophysical flux (all sky)", 1e14, 0.01,
              summary["nu_icecube_frac_100TeV"], "upper bound: [C] 'does not exceed 1 %'; IceCube = "
              "the 6-year cascade power law"),
        entry("C", "Fig. 1, Sec. II", "radius where the simulation and observational gas fits cross [kpc]",
              None, 45.0, crossing_radius_kpc(cfg.gas),
              "[C]: '~45 kpc' is where the fits' validity ranges meet; their numbers cross at 72 kpc "
              "(docs/physics.md, section 1)"),
        entry("C", "Fig. 4, Sec. V", "corona gamma rays / Fermi-LAT IGRB", 1e10, None,
              summary["gamma_igrb_frac_10GeV"], "[C]: 'a sizeable contribution', no number"),
    ]
    for tag, E in (("1TeV", 1e12), ("1PeV", 1e15)):
        if f"xi_{tag}" in summary:
            out.append(entry("C", "Sec. IV", "xi = I_MW(anticentre) / I_EG of the neutrinos", E, 1.0,
                             summary[f"xi_{tag}"], "upper bound: [C] 'in all realistic cases xi < 1'; the "
                             "self-consistent xi of docs/physics.md, section 6"))
    return out


def t_entries(fits) -> list:
    """[T] from the four fitted cases (montecarlo.galactic_plane.fits.CaseFit)."""
    out = []
    icecube = float(obs.icecube_power_law(1e14))
    for f in fits:
        lo, hi = T_CHI2[f.distribution]
        case = f"{f.distribution} x spectrum {f.spectrum}"
        out.append(entry("T", "Fig. 1, Sec. 2.3", f"chi^2/dof of the Tibet ASgamma fit, {case}", None,
                         0.5 * (lo + hi), f.chi2_per_dof, f"[T]: {lo}-{hi} for the "
                         f"{'uniform' if f.distribution == 'uniform' else 'SNR'} cases (centre shown)"))
        nu = float(comp.loglog(f.E_eV, f.neutrino["all_sky"], 1e14))
        lo, hi = T_NU_ALL_SKY_100TEV_GEV
        out.append(entry("T", "Fig. 2, Sec. 4", f"all-sky plane neutrinos E^2 I, all flavours "
                         f"[GeV cm^-2 s^-1 sr^-1], {case}", 1e14, 0.5 * (lo + hi), 1e14 ** 2 * nu / 1e9,
                         "[T]: '<~ (3-6)e-9' (centre shown)"))
        lo, hi = T_NU_FRACTION_100TEV
        out.append(entry("T", "Fig. 2, Sec. 2.3", f"plane neutrinos / IceCube all-sky flux, {case}", 1e14,
                         0.5 * (lo + hi), nu / icecube, "[T]: '<~ 5-10 %' (centre shown); IceCube = the "
                         "6-year cascade power law"))
        for side in ("inner", "outer"):
            chi2, n = f.lhaaso_chi2[side]
            out.append(entry("T", "Fig. 1 (LHAASO panel)", f"chi^2/dof vs LHAASO-KM2A {side} (masked), "
                             f"{case} fitted to Tibet", None, None, chi2 / n,
                             "[T] fit Tibet only and show no LHAASO comparison"))
    return out
