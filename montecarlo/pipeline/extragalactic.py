"""``corona extragalactic``: the Milky Way corona plus the coronae of all other galaxies
([C] Sec. IV-V, Fig. 4-7; docs/extragalactic.md). Under mpirun every rank helps build the
cascade response table (when it is neither bundled nor cached); rank 0 does the rest."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from transport import build_emissions, load_config, solve
from transport.core.errors import ArgumentError
from transport.core.grid import log_grid
from transport.core.output import atomic_hdf5, provenance, write_array

from montecarlo import observations as obs
from montecarlo import plots
from montecarlo.cascade import extragalactic as eg
from montecarlo.cascade import montecarlo as mc
from montecarlo.cascade.response import ResponseSpec, response_table
from montecarlo.fields import ebl as ebl_field
from montecarlo.lineofsight.integrator import intensity
from montecarlo.parallel import rank_and_size, world
from montecarlo.pipeline.preflight import preflight

NEUTRINOS = ("nu", "nu_e", "nu_mu", "nu_tau")
#: Energies where the fractions of the observed backgrounds are printed [eV].
ICECUBE_E_EV = 1e14
FERMI_E_EV = (1e9, 1e10, 1e11)
#: Energy where extragalactic.xi fixes [C]'s xi (all-flavour neutrinos) [eV].
XI_E_EV = 1e14


@dataclass
class Products:
    """Spectra [cm^-2 s^-1 sr^-1 eV^-1] on E_eV (NaN where the emission tables do not reach)."""
    E_eV: np.ndarray
    spectra: dict = field(default_factory=dict)     # name -> array
    scalars: dict = field(default_factory=dict)


def specs_from_config(cfg):
    """(Universe, ResponseSpec) of the [extragalactic] section, checked before long work."""
    x = cfg.extragalactic
    top = ebl_field.density(x.ebl_model).z_range[1]
    spec = ResponseSpec(model=x.ebl_model, cosmology=x.cosmology,
                        settings=mc.Settings(E_min_eV=x.E_min_eV, thinning=x.thinning,
                                             ic_group=x.ic_group, tally_primary=False,
                                             T0_K=cfg.fields.cmb_T0_K),
                        per_cell=x.table_primaries_per_cell, seed=x.seed)
    if x.z_max > min(top, max(spec.z_nodes)) + 1e-9:
        raise ArgumentError(f"extragalactic.z_max = {x.z_max:g} is not allowed: expected <= "
                            f"{min(top, max(spec.z_nodes)):g} (EBL model {x.ebl_model!r} and the "
                            "response table)")
    if x.E_max_eV <= x.E_min_eV:
        raise ArgumentError(f"extragalactic.E_max_eV = {x.E_max_eV:g} must exceed "
                            f"extragalactic.E_min_eV = {x.E_min_eV:g}")
    return eg.Universe(x.cosmology, x.imf, x.z_max, x.m_star_mw_msun), spec


def _directional(emission, E, n_dir, fields, cfg):
    """I(E, theta) at Gauss-Legendre nodes of cos(theta) (theta from the Galactic centre) plus
    the centre and anticentre: (mu, weights, I (n_E, n_dir), I_centre, I_anticentre)."""
    mu, w = np.polynomial.legendre.leggauss(n_dir)
    l = np.concatenate([np.degrees(np.arccos(mu)), [0.0, 180.0]])
    I = intensity(emission, E, l, np.zeros_like(l), fields=fields, config=cfg)
    return mu, w, I[:, :n_dir], I[:, n_dir], I[:, n_dir + 1]


def xi_scale(cfg, corona, universe) -> tuple[float, float]:
    """(self-consistent xi, scale): [C]'s xi = I_MW(anticentre) / I_EG of the all-flavour
    neutrinos at XI_E_EV from eq. (1) (docs/extragalactic.md, section 1), and the factor
    xi_self / extragalactic.xi that multiplies every extragalactic spectrum so that xi takes
    the configured value (1 when extragalactic.xi = "self-consistent"; xi_self is NaN then if
    XI_E_EV is outside the emission tables)."""
    target = cfg.extragalactic.xi
    nu = corona["nu"]
    if not nu.E_eV[0] <= XI_E_EV <= nu.E_eV[-1]:
        if isinstance(target, str):
            return float("nan"), 1.0
        raise ArgumentError(f"extragalactic.xi = {target:g} is fixed at {XI_E_EV:g} eV, outside the "
                            f"emission tables ({nu.E_eV[0]:g} .. {nu.E_eV[-1]:g} eV): raise "
                            'emission.E_max_eV or use extragalactic.xi = "self-consistent"')
    E = np.array([XI_E_EV])
    I_mw = intensity(nu, E, np.array([180.0]), np.array([0.0]), fields=(), config=cfg)[0, 0]
    I_eg = eg.direct_intensity(E, eg.EmissionRate.from_emission(nu), universe)[0]
    xi_self = float(I_mw / I_eg)
    return xi_self, (1.0 if isinstance(target, str) else xi_self / float(target))


def corona_products(cfg, emissions, table, universe, E):
    """All spectra of [C] Fig. 4-5 on the energies E (module docstring); the extragalactic
    ones multiplied by the scale of :func:`xi_scale` (1 unless extragalactic.xi is set)."""
    n_dir = cfg.extragalactic.directions
    p = Products(E)
    corona = emissions["corona"]
    lo, hi = corona["gamma"].E_eV[0], corona["gamma"].E_eV[-1]
    inside = (E >= lo) & (E <= hi)
    Ei = E[inside]

    def full(values):
        out = np.full(E.size, np.nan)
        out[inside] = values
        return out

    for particle in ("gamma",) + tuple(n for n in NEUTRINOS if n in corona):
        fields = ("cmb",) if particle == "gamma" else ()
        mu, w, I, I_c, I_a = _directional(corona[particle], Ei, n_dir, fields, cfg)
        mean = 0.5 * I @ w
        p.spectra[f"mw_{particle}_all_sky"] = full(mean)
        p.spectra[f"mw_{particle}_anticentre"] = full(I_a)
        p.spectra[f"mw_{particle}_centre"] = full(I_c)
        p.spectra[f"mw_{particle}_dipole_sum"] = full(1.5 * (I * mu) @ w)      # 3 <I mu>
        L = eg.EmissionRate.from_emission(corona[particle])
        if particle == "gamma":
            direct, casc = table.gamma_intensity(E, L, universe)
            direct = np.where(E >= lo, direct, np.nan)      # (1+z) E0 below the table: incomplete
            p.spectra["eg_gamma_direct"] = direct
            p.spectra["eg_gamma_cascade"] = casc
            p.spectra["eg_gamma"] = direct + casc
        else:
            p.spectra[f"eg_{particle}"] = np.where(E >= lo, eg.direct_intensity(E, L, universe), np.nan)
    xi_self, scale = xi_scale(cfg, corona, universe)
    for name in p.spectra:
        if name.startswith("eg_"):
            p.spectra[name] = p.spectra[name] * scale
    p.scalars["xi_self_consistent_100TeV"] = xi_self
    p.scalars["xi_used_100TeV"] = xi_self / scale
    p.scalars["eg_scale"] = scale
    combine(p)
    alpha = cfg.source.alpha
    p.scalars["alpha"] = float(alpha)
    p.scalars["I_z_power_law"] = eg.I_z_power_law(alpha, universe)
    return p


def combine(p: Products) -> Products:
    """The sums of the Milky Way (mw_*) and extragalactic (eg_*) spectra of ``p``: totals,
    isotropic parts, dipoles, contrasts, xi(E) of the neutrinos, and the fractions of the
    observed backgrounds (scalars); filled in place and returned."""
    E, s = p.E_eV, p.spectra
    particles = [k[len("mw_"):-len("_all_sky")] for k in s if k.startswith("mw_") and k.endswith("_all_sky")]
    for particle in particles:
        s[f"total_{particle}"] = s[f"mw_{particle}_all_sky"] + s[f"eg_{particle}"]
        s[f"isotropic_{particle}"] = s[f"mw_{particle}_anticentre"] + s[f"eg_{particle}"]
        A = s[f"mw_{particle}_dipole_sum"] / s[f"mw_{particle}_all_sky"]
        s[f"dipole_{particle}_corona"] = A
        s[f"dipole_{particle}_with_eg"] = s[f"mw_{particle}_dipole_sum"] / s[f"total_{particle}"]
        Imax, Imin = s[f"mw_{particle}_centre"], s[f"mw_{particle}_anticentre"]
        s[f"contrast_{particle}_corona"] = (Imax - Imin) / (Imax + Imin)
        s[f"contrast_{particle}_with_eg"] = (Imax - Imin) / (Imax + Imin + 2 * s[f"eg_{particle}"])
    s["xi_nu"] = s["mw_nu_anticentre"] / s["eg_nu"]
    # backgrounds
    k = int(np.argmin(np.abs(np.log(E / ICECUBE_E_EV))))
    p.scalars["nu_fraction_icecube_100TeV"] = float(s["total_nu"][k] / obs.icecube_power_law(E[k]))
    p.scalars["xi_nu_100TeV"] = float(s["xi_nu"][k])
    igrb = obs.fermi_igrb()
    for Ef in FERMI_E_EV:
        j = int(np.argmin(np.abs(np.log(E / Ef))))
        ref = np.exp(np.interp(np.log(E[j]), np.log(igrb.E_eV), np.log(igrb.intensity)))
        p.scalars[f"gamma_isotropic_fraction_igrb_{Ef / 1e9:g}GeV"] = float(s["isotropic_gamma"][j] / ref)
        p.scalars[f"gamma_total_fraction_igrb_{Ef / 1e9:g}GeV"] = float(s["total_gamma"][j] / ref)
    return p


def with_xi(p: Products, xi: float) -> Products:
    """A copy of ``p`` with its extragalactic spectra scaled so that [C]'s xi at XI_E_EV is
    ``xi`` (what extragalactic.xi = xi gives, without recomputing anything)."""
    factor = float(p.scalars["xi_used_100TeV"]) / float(xi)
    spectra = {k: (v * factor if k.startswith("eg_") else v) for k, v in p.spectra.items()
               if k.startswith(("mw_", "eg_"))}
    scalars = dict(p.scalars, xi_used_100TeV=float(xi), eg_scale=float(p.scalars["eg_scale"]) * factor)
    return combine(Products(p.E_eV, spectra, scalars))


def write_products(path, cfg, p: Products, table, seeds):
    with atomic_hdf5(path) as fh:
        fh.attrs.update(provenance(cfg, seeds))
        fh.attrs["response_key"] = table.key
        for k, v in p.scalars.items():
            fh.attrs[k] = v
        g = fh.create_group("extragalactic")
        write_array(g, "E_eV", p.E_eV, "eV", "observed energies")
        for name, values in p.spectra.items():
            unit = "" if name.startswith(("dipole", "contrast", "xi")) else "cm^-2 s^-1 sr^-1 eV^-1"
            write_array(g, name, values, unit, name.replace("_", " "))
        r = fh.create_group("response")
        write_array(r, "E_obs_eV", table.E_obs_eV, "eV", "cascade bin centres")


def cmd_extragalactic(args) -> int:
    cfg = load_config(args.config, overrides=args.overrides)
    if args.write_table:
        outputs = [(args.write_table, "--write-table")]
    else:
        outputs = [(args.output, "-o/--output")]
    preflight(cfg, outputs=outputs, overwrite=args.overwrite, fields=(), opacity=True,
              stages=() if args.write_table else ("transport", "emission"))
    universe, spec = specs_from_config(cfg)
    t0 = time.perf_counter()
    table = response_table(cfg, spec, progress=not args.quiet and rank_and_size(world())[0] == 0)
    if rank_and_size(world())[0] != 0:
        return 0
    t_table = time.perf_counter() - t0
    if args.write_table:
        table.write(args.write_table, cfg, seeds={"seed": spec.seed}, claims=spec.claims())
        if not args.quiet:
            print(f"wrote the response table to {args.write_table} ({t_table:.1f} s; key "
                  f"{table.key[:12]}, energy closure {table.attrs.get('energy_closure_mean', float('nan')):.2e})")
        return 0
    sol = solve(cfg, progress=not args.quiet)
    emissions = build_emissions(cfg, sol)
    if "corona" not in emissions or "gamma" not in emissions["corona"] or "nu" not in emissions["corona"]:
        raise ArgumentError('corona extragalactic needs emission.models to include "corona" and '
                            'emission.particles to include "gamma" and "nu"')
    x = cfg.extragalactic
    E = log_grid(x.E_min_eV, x.E_max_eV, x.E_per_decade)
    p = corona_products(cfg, emissions, table, universe, E)
    write_products(args.output, cfg, p, table, {"seed": spec.seed})
    if not args.quiet:
        print(f"wrote {args.output} ({time.perf_counter() - t0:.1f} s; response table "
              f"{t_table:.1f} s, key {table.key[:12]}; "
              f"normalisation reference: {cfg.normalization.reference})")
        for k, v in p.scalars.items():
            print(f"  {k} = {v:.4g}")
    if args.plots:
        stem = Path(args.output).with_suffix("")
        title = (f"alpha = {cfg.source.alpha:g}, E_cut = {cfg.source.E_cut_eV:.2g} eV, "
                 f"D0 = {cfg.diffusion.D0_cm2_s:.2g} cm^2/s")
        plots.plot_extragalactic(p, f"{stem}_spectra.png", title)
        plots.plot_dipole_extragalactic(p, f"{stem}_dipole.png", title)
        if not args.quiet:
            print(f"wrote {stem}_spectra.png, {stem}_dipole.png")
    return 0


def pipeline_result(cfg, inputs, comm=None, progress=False, checkpoint_dir=None) -> dict:
    """The extragalactic stage of `corona run` (montecarlo.pipeline.optional): the isotropic
    intensities of all galaxies' coronae at Earth, ``gamma`` (after EBL + CMB absorption and
    the cascade) and ``nu`` [cm^-2 s^-1 sr^-1 eV^-1] on ``E_eV`` (the extragalactic energy grid
    within the emission tables), plus the Fig. 4-5 spectra and scalars (xi, fractions; with
    extragalactic.xi set, the extragalactic parts are scaled to it: :func:`xi_scale`)."""
    universe, spec = specs_from_config(cfg)
    corona = inputs["emission"].get("corona", {})
    if "gamma" not in corona or "nu" not in corona:
        raise ArgumentError('the extragalactic stage needs emission.models to include "corona" '
                            'and emission.particles to include "gamma" and "nu"')
    # every rank helps build the table; only rank 0 draws its bars
    table = response_table(cfg, spec, progress=progress and rank_and_size(comm)[0] == 0)
    x = cfg.extragalactic
    E = log_grid(x.E_min_eV, x.E_max_eV, x.E_per_decade)
    lo, hi = corona["gamma"].E_eV[0], corona["gamma"].E_eV[-1]
    E = E[(E >= lo) & (E <= hi)]
    if E.size == 0:
        raise ArgumentError(f"extragalactic.E_min_eV = {x.E_min_eV:g} .. extragalactic.E_max_eV = "
                            f"{x.E_max_eV:g} does not overlap the emission tables ({lo:g} .. "
                            f"{hi:g} eV)")
    p = corona_products(cfg, inputs["emission"], table, universe, E)
    return {"E_eV": E, "gamma": p.spectra["eg_gamma"], "nu": p.spectra["eg_nu"],
            "spectra": dict(p.spectra), "scalars": dict(p.scalars), "table_key": table.key}
