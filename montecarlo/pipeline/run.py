"""``corona run``: the full chain for one model, as cached stages (see :mod:`.stages`).

transport -> emission -> sky (line of sight) -> galactic_plane -> [mc] -> [extragalactic]
-> summary -> figures

The stages in brackets are used when their packages exist and the [pipeline] section asks for
them (:mod:`.optional`); galactic_plane ([T] fits, :mod:`.plane`) when galactic_plane.fit.
``DIR/corona_run.h5`` holds the provenance, the summary table and /stages/<name>: an HDF5
external link to the stage's cache file DIR/cache/<name>.h5 (each result is stored once), the
PNG figures go into DIR, and the summary table is printed (:mod:`.summary`).
"""
from __future__ import annotations

import json
import time
import warnings
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np

from transport import load_config, solve
from transport.core.errors import ArgumentError
from transport.core.output import atomic_hdf5, provenance
from transport.core.sealed import shape_problem
from transport.cosmicrays.normalization import Normalization
from transport.cosmicrays.solver import Budget, TransportSolution
from transport.emission.registry import build_emission
from transport.emission.tables import SphericalEmission
from transport.plots import stamped

from montecarlo import observations as obs
from montecarlo.parallel import claimed, on_root, world
from montecarlo.pipeline import optional
from montecarlo.pipeline.figures import run_figures
from montecarlo.pipeline.plane import plane_stage, plane_summary
from montecarlo.pipeline.summary import summary_table, write_summary_table
from montecarlo.pipeline.stages import SEALED_ATTRS, Context, Stage, link_stages, run_stages
from montecarlo.sky.maps import SkyComponent, SkyProducts, make_sky, write_sky
from montecarlo.pipeline.preflight import preflight

RUN_FILE = "corona_run.h5"

#: Config sections each core stage depends on.
TRANSPORT_DEPENDS = ("observer", "gas", "hadronic.sigma_inel", "hadronic.sigma_const_mb",
                     "diffusion", "source", "grid", "time", "normalization")
EMISSION_DEPENDS = ("hadronic", "neutrino", "emission", "galaxy", "distributions", "disk",
                    "extra1", "extra2", "cocoons", "sky.models", "sky.particles",
                    "sea", "observer")
SKY_DEPENDS = ("observer", "sky", "fields", "dust", "opacity.dust_mode", "opacity.grid",
               "opacity.path_segment_kpc", "cosmology")
#: Source files that compute each core stage (transport.core.sealed.code_key: an edit of any
#: of them recomputes the stage and those after it).
TRANSPORT_SOURCES = ("transport/**/*.py", "inputs/cosmic_rays/*")
EMISSION_SOURCES = ("transport/**/*.py",)
SKY_SOURCES = ("transport/core/*.py", "transport/emission/*.py", "montecarlo/sky/*.py",
               "montecarlo/lineofsight/*.py", "montecarlo/opacity/*.py", "montecarlo/fields/*.py",
               "montecarlo/geometry.py", "inputs/dust/*", "inputs/fields/*")
SUMMARY_SOURCES = ("montecarlo/pipeline/run.py", "montecarlo/pipeline/optional.py",
                   "montecarlo/observations.py", "inputs/observations/*")


# --------------------------------------------------------------------------- transport
def _transport(cfg, inputs, ctx):
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        return solve(cfg, progress=ctx.progress)


def _save_transport(group, sol):
    sol.write_groups(group)
    if sol.normalization is not None:
        group["normalization"].attrs["reference"] = sol.normalization.reference


def _load_transport(group, cfg) -> TransportSolution:
    cr, norm = group["cr"], group["normalization"]
    normalization = None
    if "factor" in norm.attrs:
        normalization = Normalization(float(norm.attrs["factor"]), float(norm.attrs["E_touch_eV"]),
                                      str(norm.attrs["reference"]))
    invalid = norm.attrs.get("diffusion_invalid_from_eV")
    return TransportSolution(
        config=cfg, r_kpc=cr["r_kpc"][()], r_faces_kpc=cr["r_faces_kpc"][()], E_eV=cr["E_eV"][()],
        j=cr["j"][()], t_gyr=float(cr.attrs["t_gyr"]), snapshot_t_gyr=cr["snapshots/t_gyr"][()],
        snapshot_j=cr["snapshots/j"][()], n_gas_cm3=cr["n_gas_cm3"][()],
        Q0_cm3_s_eV=float(cr.attrs["Q0_cm3_s_eV"]), normalization=normalization,
        budget=Budget(*(cr[f"budget/{n}"][()] for n in ("injected", "escaped", "lost", "content"))),
        diffusion_invalid_from_eV=None if invalid is None else float(invalid))


def _check_transport(sol, cfg) -> str | None:
    shape = (sol.E_eV.size, sol.r_kpc.size)
    return (shape_problem("cr/j", sol.j, shape)
            or shape_problem("cr/snapshots/j", sol.snapshot_j, (sol.snapshot_t_gyr.size, *shape))
            or shape_problem("cr/n_gas_cm3", sol.n_gas_cm3, (sol.r_kpc.size,))
            or shape_problem("cr/r_faces_kpc", sol.r_faces_kpc, (sol.r_kpc.size + 1,)))


TRANSPORT = Stage("transport", TRANSPORT_DEPENDS, (), _transport, _save_transport, _load_transport,
                  guard=lambda sol: {"cr/j": sol.j, "cr/n_gas_cm3": sol.n_gas_cm3,
                                     "cr/snapshots/j": sol.snapshot_j},
                  description="CR proton density in the corona [C, eq. 4-5]",
                  sources=TRANSPORT_SOURCES, validate=_check_transport)


# --------------------------------------------------------------------------- emission
def _emission(cfg, inputs, ctx):
    """Emission tables of sky.models x sky.particles (what the sky stage maps)."""
    sol = inputs["transport"]
    return {m: {p: build_emission(cfg, m, p, sol) for p in cfg.sky.particles} for m in cfg.sky.models}


def _save_emission(group, emissions):
    for model, per in emissions.items():
        sub = group.create_group(model)
        for particle, emission in per.items():
            emission.to_hdf5(sub, particle)


def _load_emission(group, cfg):
    return {m: {p: SphericalEmission.from_hdf5(ds) for p, ds in sub.items()} for m, sub in group.items()}


def _missing_components(held: dict, cfg, what: str) -> str | None:
    """'WHAT/model/particle missing' for the first of sky.models x sky.particles not held."""
    for m in cfg.sky.models:
        for p in cfg.sky.particles:
            if p not in held.get(m, {}):
                return f"{what}/{m}/{p} is missing (sky.models x sky.particles need it)"
    return None


EMISSION = Stage("emission", EMISSION_DEPENDS, ("transport",), _emission, _save_emission,
                 _load_emission,
                 guard=lambda em: {f"{m}/{p}": e.q for m, per in em.items() for p, e in per.items()},
                 description="emissivity tables q(E, x) [C, eq. 6]", sources=EMISSION_SOURCES,
                 validate=lambda em, cfg: _missing_components(em, cfg, "emission"))


# --------------------------------------------------------------------------- sky
def _sky(cfg, inputs, ctx):
    return make_sky(cfg, inputs["emission"], progress=ctx.progress)


def _save_sky(group, products):
    write_sky(group, products)


def _load_sky(group, cfg) -> SkyProducts:
    sky = group["sky"]
    products = SkyProducts(sky["E_eV"][()], int(sky.attrs["nside"]))
    for model, per in sky.items():
        if not isinstance(per, h5py.Group):
            continue
        for particle, g in per.items():
            att = str(g.attrs["attenuated_by"])
            products.components[(model, particle)] = SkyComponent(
                model, particle, g["map"][()], g["all_sky"][()],
                {name: ds[()] for name, ds in g["regions"].items()},
                g["dipole/amplitude"][()], g["dipole/l_deg"][()], g["dipole/b_deg"][()],
                g["dipole/contrast"][()], () if att == "none" else tuple(att.split(",")))
    return products


def _check_sky(products, cfg) -> str | None:
    held = {}
    for (m, p), c in products.components.items():
        held.setdefault(m, {})[p] = c
        bad = shape_problem(f"sky/{m}/{p}/map", c.maps, (products.E_eV.size, 12 * products.nside ** 2))
        if bad:
            return bad
    return _missing_components(held, cfg, "sky")


SKY = Stage("sky", SKY_DEPENDS, ("emission",), _sky, _save_sky, _load_sky,
            guard=lambda p: {f"sky/{m}/{q}/{k}": v for (m, q), c in p.components.items()
                             for k, v in (("map", c.maps), ("all_sky", c.all_sky))},
            description="line-of-sight maps, region spectra, dipole [C, Sec. III; T, eq. 5-11]",
            sources=SKY_SOURCES, validate=_check_sky)


# --------------------------------------------------------------------------- summary
SUMMARY_IGRB_E_EV = (1e9, 1e10, 1e11)
SUMMARY_ICECUBE_E_EV = 1e14
SUMMARY_DIPOLE_E_EV = (1e12, 1e15)
SUMMARY_XI_E_EV = (1e12, 1e15)


def loglog_at(E_eV, values, E0) -> float:
    """values(E) interpolated linearly in (ln E, ln values) at E0 (0 where values vanish)."""
    v = np.maximum(np.asarray(values, dtype=float), 1e-300)
    return float(np.exp(np.interp(np.log(E0), np.log(E_eV), np.log(v))))


def _chi2(points, E_eV, model) -> tuple[float, int]:
    """chi^2 of a model spectrum against measured points (asymmetric errors: the side the
    model lies on; upper limits count only when exceeded), and the number of points used."""
    chi2, n = 0.0, 0
    for E, I, lo, hi, limit in zip(points.E_eV, points.intensity, points.err_lo, points.err_hi,
                                   points.upper_limit):
        if not E_eV[0] <= E <= E_eV[-1]:
            continue
        m = loglog_at(E_eV, model, E)
        if limit:
            chi2 += ((m - I) / I) ** 2 if m > I else 0.0
        else:
            sigma = hi if m > I else lo
            chi2 += ((m - I) / sigma) ** 2
        n += 1
    return chi2, n


@lru_cache(maxsize=None)
def _observations():
    """(IGRB points, IceCube binned points, IceCube power law at 100 TeV), read once."""
    return obs.fermi_igrb(), obs.icecube_binned(), float(obs.icecube_power_law(SUMMARY_ICECUBE_E_EV))


def summarise(E_eV, gamma_all_sky, nu_all_sky, gamma_dipole, nu_dipole, anticentre=None,
              eg=None, gamma_contrast=None, nu_contrast=None) -> dict:
    """The summary scalars of one model from its all-sky spectra, dipole amplitudes, (when
    given) contrasts and the extragalactic part ``eg`` = {"E_eV", "gamma", "nu"} isotropic
    intensities.

    Keys: nu_icecube_frac_100TeV, gamma_igrb_frac_{1,10,100}GeV, dipole_{gamma,nu}_{1TeV,1PeV},
    contrast_{gamma,nu}_{1TeV,1PeV} (with the contrasts), chi2_icecube and chi2_igrb (+ _n,
    the number of points), with ``eg``: the same with suffix _total and xi_{1TeV,1PeV}, [C]'s
    xi = I_MW(anticentre) / I_EG (docs/physics.md, section 6) of the neutrinos (no
    absorption: for gamma rays I_EG vanishes at PeV energies); ``anticentre`` is then the
    neutrino intensity towards l = 180 deg, b = 0. The printed table: :mod:`.summary`."""
    igrb, icecube, icecube_100TeV = _observations()
    out = {"nu_icecube_frac_100TeV": loglog_at(E_eV, nu_all_sky, SUMMARY_ICECUBE_E_EV) / icecube_100TeV}
    for E in SUMMARY_IGRB_E_EV:
        out[f"gamma_igrb_frac_{E / 1e9:g}GeV"] = (loglog_at(E_eV, gamma_all_sky, E)
                                                  / loglog_at(igrb.E_eV, igrb.intensity, E))
    for E, tag in zip(SUMMARY_DIPOLE_E_EV, ("1TeV", "1PeV")):
        out[f"dipole_gamma_{tag}"] = float(np.interp(np.log(E), np.log(E_eV), gamma_dipole))
        out[f"dipole_nu_{tag}"] = float(np.interp(np.log(E), np.log(E_eV), nu_dipole))
        for particle, values in (("gamma", gamma_contrast), ("nu", nu_contrast)):
            if values is not None:
                out[f"contrast_{particle}_{tag}"] = float(np.interp(np.log(E), np.log(E_eV), values))
    out["chi2_icecube"], out["chi2_icecube_n"] = _chi2(icecube, E_eV, nu_all_sky)
    out["chi2_igrb"], out["chi2_igrb_n"] = _chi2(igrb, E_eV, gamma_all_sky)
    if eg is not None:
        g_eg = np.exp(np.interp(np.log(E_eV), np.log(eg["E_eV"]), np.log(np.maximum(eg["gamma"], 1e-300))))
        n_eg = np.exp(np.interp(np.log(E_eV), np.log(eg["E_eV"]), np.log(np.maximum(eg["nu"], 1e-300))))
        total = summarise(E_eV, gamma_all_sky + g_eg, nu_all_sky + n_eg,
                          gamma_dipole * gamma_all_sky / (gamma_all_sky + g_eg),
                          nu_dipole * nu_all_sky / (nu_all_sky + n_eg))
        out.update({f"{k}_total": v for k, v in total.items()})
        if anticentre is not None:
            for E, tag in zip(SUMMARY_XI_E_EV, ("1TeV", "1PeV")):
                out[f"xi_{tag}"] = loglog_at(E_eV, anticentre, E) / loglog_at(E_eV, n_eg, E)
    return out


def anticentre_intensity(component: SkyComponent) -> np.ndarray:
    """I(E) of the map pixel towards the anticentre (l = 180, b = 0)."""
    import healpy as hp  # slow import, only when a summary is made
    nside = hp.npix2nside(component.maps.shape[1])
    return component.maps[:, hp.ang2pix(nside, 180.0, 0.0, lonlat=True)]


def _summary(cfg, inputs, ctx) -> dict:
    sky = inputs["sky"]
    gamma, nu = sky.components[("corona", "gamma")], sky.components[("corona", "nu")]
    eg = inputs.get("extragalactic")
    result = summarise(sky.E_eV, gamma.all_sky, nu.all_sky, gamma.dipole_amplitude,
                       nu.dipole_amplitude, anticentre_intensity(nu),
                       optional.isotropic_spectra(eg) if eg is not None else None,
                       gamma.contrast, nu.contrast)
    if eg is not None and not isinstance(cfg.extragalactic.xi, str):
        # extragalactic.xi scaled the extragalactic part by eg_scale = xi_self / xi (xi_scale)
        scale = float(eg.get("scalars", {}).get("eg_scale", float("nan")))
        for tag in ("1TeV", "1PeV"):
            if f"xi_{tag}" in result:
                result[f"xi_self_consistent_{tag}"] = result[f"xi_{tag}"] * scale
    if inputs.get("galactic_plane") is not None:
        result.update(plane_summary(inputs["galactic_plane"]))
    mc = inputs.get("mc")
    if mc is not None:
        result.update(optional.mc_summary(mc, sky))
    return result


def _save_summary(group, summary):
    for k, v in summary.items():
        group.attrs[k] = v
    write_summary_table(group, summary)


def _load_summary(group, cfg):
    return {k: v for k, v in group.attrs.items() if k not in SEALED_ATTRS}


def _summary_needs(cfg) -> tuple:
    return (("sky",) + (("galactic_plane",) if cfg.galactic_plane.fit else ())
            + tuple(n for n in ("mc", "extragalactic") if optional.wanted(cfg, n)))


def summary_stage(cfg) -> Stage:
    return Stage("summary", ("sky.models", "sky.particles"), _summary_needs(cfg), _summary,
                 _save_summary, _load_summary,
                 guard=lambda s: {k: v for k, v in s.items() if k.startswith(("nu_", "gamma_", "dipole"))},
                 description="summary (IceCube / IGRB fractions, anisotropy, xi, chi^2)",
                 sources=SUMMARY_SOURCES)


def pipeline_stages(cfg) -> list[Stage]:
    """The stages of ``corona run`` for ``cfg``, in order."""
    return [TRANSPORT, EMISSION, SKY, plane_stage(cfg), *optional.stages(cfg), summary_stage(cfg)]


def check_run_config(cfg) -> None:
    """The summary needs the corona's gamma rays and all-flavour neutrinos."""
    for key, values, needed in (("sky.models", cfg.sky.models, "corona"),
                                ("sky.particles", cfg.sky.particles, "gamma"),
                                ("sky.particles", cfg.sky.particles, "nu")):
        if needed not in values:
            raise ArgumentError(f"{key} = {list(values)} is not allowed for `corona run`: it must "
                                f"include \"{needed}\" (the summary uses it)")


# --------------------------------------------------------------------------- command
LOCK_FILE = ".corona.lock"


def run_model(cfg, outdir, *, start_from=None, progress=False, say=print, figures=True,
              comm="auto", accept_mismatch=False) -> dict:
    """Run every stage for ``cfg`` into ``outdir`` (claimed with a lock file for the duration,
    ``outdir/.corona.lock``); returns {name: StageRecord} (rank 0 writes
    ``outdir/corona_run.h5`` and the figures). ``accept_mismatch``: use ``start_from`` files
    saved under another config or code (see :mod:`.stages`); the run file records it."""
    check_run_config(cfg)
    comm = world() if comm == "auto" else comm
    outdir = Path(outdir)
    ctx = Context(comm=comm, progress=progress, say=say if (comm is None or comm.Get_rank() == 0)
                  else (lambda text: None), workdir=outdir / "cache")
    with claimed(outdir / LOCK_FILE, f"-o/--outdir '{outdir}'", comm):
        records = run_stages(cfg, pipeline_stages(cfg), outdir / "cache", ctx, start_from,
                             accept_mismatch)
        on_root(comm, lambda: _write_run(cfg, records, outdir, figures, ctx), broadcast=False)
    return records


def _write_run(cfg, records, outdir, figures, ctx) -> None:
    with atomic_hdf5(outdir / RUN_FILE) as fh:
        fh.attrs.update(provenance(cfg))
        fh.attrs["stages"] = ",".join(records)
        mismatched = {n: {"file": str(r.path), "difference": r.mismatch}
                      for n, r in records.items() if r.mismatch}
        if mismatched:       # stages taken from files of another config or code (--accept-mismatch)
            fh.attrs["accepted_mismatch"] = json.dumps(mismatched, sort_keys=True)
        link_stages(fh, records)
        if "summary" in records:                    # the main result, also without cache/
            _save_summary(fh.create_group("summary"), records["summary"].result)
    if figures:
        ctx.say("  drawing the figures")
        ctx.say("wrote " + ", ".join(str(p) for p in run_figures(records, outdir)))


def parse_start_from(items) -> dict:
    """--from STAGE=FILE (repeatable) -> {stage: path}."""
    out = {}
    for item in items or ():
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ArgumentError(f"--from {item!r} is not allowed: expected STAGE=FILE, e.g. "
                                "transport=old/corona_run.h5")
        if not Path(path).is_file():
            raise ArgumentError(f"--from {item!r}: file '{path}' does not exist")
        out[name] = path
    return out


def cmd_run(args) -> int:
    cfg = load_config(args.config, overrides=args.overrides)
    start_from = parse_start_from(args.start_from)
    # the directory is the stage cache: existing files are reused, not refused
    preflight(cfg, outdirs=[(args.outdir, "-o/--outdir")], opacity=True,
              stages=("transport", "emission", "sky") + (("mc",) if optional.wanted(cfg, "mc") else ()))
    say = (lambda text: None) if args.quiet else print
    t0 = time.perf_counter()
    with stamped(cfg, str(args.config or "default"), args.overrides):    # figure provenance
        records = run_model(cfg, args.outdir, start_from=start_from, progress=not args.quiet,
                            say=say, figures=not args.no_figures,
                            accept_mismatch=getattr(args, "accept_mismatch", False))
    comm = world()
    if comm is None or comm.Get_rank() == 0:
        print(f"corona run: {Path(args.outdir) / RUN_FILE} ({time.perf_counter() - t0:.1f} s; stages "
              + ", ".join(f"{n} {r.status}" for n, r in records.items()) + ")")
        print(summary_table(records["summary"].result))
    return 0
