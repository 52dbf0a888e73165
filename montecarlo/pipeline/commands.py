"""What each ``corona`` subcommand does, given its parsed arguments: the pipeline stages
(transport, emission, sky, survival, figures, config) and their output. The argument parsing
is in :mod:`montecarlo.cli`."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from transport import build_emissions, load_config, solve
from transport.core.config import describe_schema
from transport.core.errors import ArgumentError, DataFileError
from transport.core.estimates import energies_bytes
from transport.core.grid import log_grid, log_grid_size
from transport.core.safety import refuse_if_too_big
from transport.core.output import EMISSION_KIND, atomic_hdf5, provenance
from transport.core.sealed import finite_problem, read_sealed
from transport.emission.registry import build_emission
from transport.emission.tables import read_emission
from transport.plots import plot_corona_emission, plot_radial_profiles, plot_spectra

from montecarlo import plots
from montecarlo.galactic_plane import fits as gp
from montecarlo.opacity.api import check_fields, opacity_for
from montecarlo.pipeline.figures import plot_fixed_source_profiles
from montecarlo.pipeline.preflight import preflight
from montecarlo.plots import FIG5_SOURCES, plot_survival
from montecarlo.sky.maps import make_sky, write_fits_maps, write_sky


def _load(args):
    return load_config(args.config, overrides=args.overrides)


def _say(args, text):
    if not args.quiet:
        print(text)


# --------------------------------------------------------------------------- transport
def cmd_transport(args) -> int:
    cfg = _load(args)
    preflight(cfg, outputs=[(args.output, "-o/--output")], overwrite=args.overwrite, fields=())
    t0 = time.perf_counter()
    sol = solve(cfg, progress=not args.quiet)
    wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    emissions = build_emissions(cfg, sol)
    wall_emission = time.perf_counter() - t0
    sol.write_hdf5(args.output, emissions=emissions)
    _say(args, f"wrote {args.output} ({sol.E_eV.size} energies x {sol.r_kpc.size} radii, "
               f"t = {sol.t_gyr:g} Gyr, {wall:.2f} s)")
    _say(args, f"emission ({cfg.hadronic.yields} yields, {wall_emission:.2f} s): "
               f"{', '.join(cfg.emission.models)} x {', '.join(cfg.emission.particles)}")
    if sol.normalization is not None:
        _say(args, f"normalisation: Q0 = {sol.Q0_cm3_s_eV:.4e} cm^-3 s^-1 eV^-1 at 1 GeV; "
                   f"flux at r = {cfg.observer.r_sun_kpc:g} kpc touches {sol.normalization.reference} "
                   f"at E = {sol.normalization.E_touch_eV:.3e} eV")
    if sol.E_eV[0] <= 1e10 and sol.E_eV[-1] >= 1e15:
        _say(args, f"spectral index at the Sun, 10 GeV - 1 PeV: "
                   f"{sol.spectral_index(1e10, 1e15, cfg.observer.r_sun_kpc):.3f} "
                   f"(alpha + delta = {cfg.source.alpha + cfg.diffusion.delta:.3f})")
    if args.plots:
        stem = Path(args.output).with_suffix("")
        plot_spectra(sol, f"{stem}_spectra.png")
        plot_radial_profiles({f"D0 = {cfg.diffusion.D0_cm2_s:.2g}": sol}, 1e14, f"{stem}_profile.png")
        written = [f"{stem}_spectra.png", f"{stem}_profile.png"]
        corona = emissions.get("corona", {})
        if "gamma" in corona and "nu" in corona:
            plot_corona_emission(corona["gamma"], corona["nu"], f"{stem}_emission.png")
            written.append(f"{stem}_emission.png")
        _say(args, "wrote " + ", ".join(written))
    return 0


# --------------------------------------------------------------------------- figures
def cmd_figures(args) -> int:
    """[C] Fig. 2 (two D0 at one fixed source normalisation) and Fig. 3."""
    cfg = _load(args)
    preflight(cfg, outdirs=[(args.outdir, "--outdir")], stages=("transport",), fields=())
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    base = solve(cfg, progress=not args.quiet)
    plot_spectra(base, outdir / "fig3_cr_spectra.png")
    plot_fixed_source_profiles(cfg, base.Q0_cm3_s_eV, outdir / "fig2_cr_radial.png",
                               progress=not args.quiet)
    _say(args, f"wrote {outdir / 'fig2_cr_radial.png'} and {outdir / 'fig3_cr_spectra.png'} "
               f"(fixed Q0 = {base.Q0_cm3_s_eV:.3e} cm^-3 s^-1 eV^-1)")
    return 0


# --------------------------------------------------------------------------- survival
def cmd_survival(args) -> int:
    """P_surv(E) from a source at (l, b, d) to the Sun ([T] eq. 3-4, Fig. 5)."""
    cfg = _load(args)
    fields = check_fields(args.fields, argument="--fields")
    for name, value in (("--E-min-eV", args.E_min_eV), ("--E-max-eV", args.E_max_eV)):
        if not (np.isfinite(value) and value > 0):
            raise ArgumentError(f"{name} = {value:g} is not allowed: expected a finite energy > 0")
    if not args.E_min_eV < args.E_max_eV:
        raise ArgumentError(f"--E-min-eV = {args.E_min_eV:g} must be below --E-max-eV = "
                            f"{args.E_max_eV:g}")
    if args.per_decade < 1:
        raise ArgumentError(f"--per-decade = {args.per_decade} is not allowed: expected >= 1")
    n_energies = log_grid_size(args.E_min_eV, args.E_max_eV, args.per_decade)
    refuse_if_too_big(energies_bytes(n_energies, arrays=8 * (1 + len(fields))),
                      ("--per-decade", "--E-min-eV", "--E-max-eV"),
                      what=f"`corona survival` with {n_energies:.3g} energies")
    preflight(cfg, outputs=[(args.plot, "--plot")] if args.plot else (), overwrite=True,
              stages=(), fields=fields, opacity=True)
    E = log_grid(args.E_min_eV, args.E_max_eV, args.per_decade)
    opacity = opacity_for(cfg, progress=not args.quiet)
    P = opacity.survival_probability(E, args.l, args.b, args.distance_kpc, fields)
    singles = [f for f in fields if len(fields) > 1]
    P_single = {f: opacity.survival_probability(E, args.l, args.b, args.distance_kpc, (f,))
                for f in singles}
    print(f"# P_surv from l = {args.l:g} deg, b = {args.b:g} deg, d = {args.distance_kpc:g} kpc "
          f"to the Sun (r_sun = {cfg.observer.r_sun_kpc:g} kpc); fields: "
          f"{', '.join(fields) or 'none'}; dust: {cfg.opacity.dust_mode}")
    print("# " + "  ".join([f"{'E_eV':>11s}", f"{'P_' + '+'.join(fields or ('none',)):>12s}"]
                           + [f"{'P_' + f:>12s}" for f in singles]))
    for i, e in enumerate(E):
        print("  " + "  ".join([f"{e:11.4e}", f"{P[i]:12.6f}"]
                               + [f"{P_single[f][i]:12.6f}" for f in singles]))
    if args.plot:
        sources = [(l, b, cfg.observer.r_sun_kpc) for l, b in FIG5_SOURCES]
        if (args.l, args.b, args.distance_kpc) not in sources:
            sources.append((args.l, args.b, args.distance_kpc))
        plot_survival(opacity, sources, fields, args.plot)
        _say(args, f"wrote {args.plot}")
    return 0


# --------------------------------------------------------------------------- sky
def read_saved_emissions(path, what: str = "--transport-file") -> dict:
    """{model: {particle: emission}} from the /emission group of a `corona transport` (or
    `corona sky`) file (``what`` names the option or key that gave the path). The group must
    be sealed (transport.core.output.write_emissions) and pass its checksums, and every table
    must be numeric, finite and >= 0; else one DataFileError naming the file and why."""
    def load(group):
        return {model: {particle: read_emission(group[model][particle])
                        for particle in group[model]} for model in group}

    def sanity(saved):
        return finite_problem({f"emission/{m}/{p}": e.q for m, per in saved.items()
                               for p, e in per.items()})

    if not Path(path).is_file():
        raise DataFileError(f"{what} '{path}' does not exist or is not a file")
    return read_sealed(path, "emission", EMISSION_KIND, None, load, sanity, what=what)


def cmd_sky(args) -> int:
    """The whole chain: CR transport, emissivities, sky maps and products, plane fits."""
    cfg = _load(args)
    preflight(cfg, outputs=[(args.output, "-o/--output")], overwrite=args.overwrite, opacity=True,
              stages=("transport", "emission", "sky"))
    t0 = time.perf_counter()
    if args.transport_file:
        sol, emissions = None, read_saved_emissions(args.transport_file)
    else:
        sol = solve(cfg, progress=not args.quiet)
        emissions = build_emissions(cfg, sol)
    for model in cfg.sky.models:
        for particle in cfg.sky.particles:
            if particle not in emissions.get(model, {}):
                if sol is None and model == "corona":
                    raise ArgumentError(f"--transport-file {args.transport_file} has no "
                                        f"/emission/corona/{particle}, which sky.models and "
                                        "sky.particles ask for: rerun `corona transport` with it "
                                        "in emission.particles, or drop --transport-file")
                emissions.setdefault(model, {})[particle] = build_emission(cfg, model, particle, sol)
    products = make_sky(cfg, emissions, progress=not args.quiet)
    fits = []
    if cfg.galactic_plane.fit:
        g = cfg.galactic_plane
        fields = tuple(cfg.sky.fields) if cfg.sky.attenuate else ()
        fits = gp.fit_all_cases(cfg, log_grid(g.E_min_eV, g.E_max_eV, g.E_per_decade), fields,
                                g.last_bin_fraction, progress=not args.quiet)
    written = {m: {p: e for p, e in per.items() if m in cfg.emission.models and p in cfg.emission.particles}
               for m, per in emissions.items() if m in cfg.emission.models}
    with atomic_hdf5(args.output) as fh:
        fh.attrs.update(provenance(cfg))
        if sol is not None:
            sol.write_groups(fh, written)
        write_sky(fh, products)
        if fits:
            gp.write_fits(fh, fits, cfg.galactic_plane.last_bin_fraction)
    _say(args, f"wrote {args.output} ({time.perf_counter() - t0:.1f} s): maps at nside "
               f"{products.nside}, {products.E_eV.size} energies "
               f"({products.E_eV[0]:.3g} - {products.E_eV[-1]:.3g} eV)")
    for (model, particle), c in products.components.items():
        for E_show in (1e12, 1e15):
            k = int(np.argmin(np.abs(np.log(products.E_eV / E_show))))
            _say(args, f"  {model} {particle} at {products.E_eV[k]:.3g} eV: dipole A = "
                       f"{c.dipole_amplitude[k]:.3f} towards (l, b) = ({c.dipole_l_deg[k]:.1f}, "
                       f"{c.dipole_b_deg[k]:.1f}) deg, contrast = {c.contrast[k]:.3f}")
    for f in fits:
        lh = ", ".join(f"{k} {v[0]:.1f}/{v[1]}" for k, v in f.lhaaso_chi2.items())
        k = int(np.argmin(np.abs(np.log(f.E_eV / 1e14))))
        _say(args, f"  plane fit {f.distribution} x {f.spectrum}: norm = {f.norm:.3g}, "
                   f"chi2/dof = {f.chi2:.2f}/{f.dof} = {f.chi2_per_dof:.2f}; LHAASO chi2/points: {lh}; "
                   f"all-sky nu E^2 I at {f.E_eV[k]:.3g} eV = {f.E_eV[k] ** 2 * f.neutrino['all_sky'][k] / 1e9:.2e} "
                   "GeV cm^-2 s^-1 sr^-1")
    stem = Path(args.output).with_suffix("")
    if args.fits or args.equatorial:
        _say(args, "wrote " + ", ".join(write_fits_maps(products, stem, args.equatorial)))
    if args.plots:
        done = []
        for (model, particle), c in products.components.items():
            path = f"{stem}_map_{model}_{particle}.png"
            plots.plot_sky_map(c, products.E_eV, cfg.sky.map_E_eV, path)
            done.append(path)
        if "corona" in cfg.sky.models:
            plots.plot_corona_spectra(products, f"{stem}_corona_spectra.png")
            plots.plot_dipole(products, f"{stem}_dipole.png")
            done += [f"{stem}_corona_spectra.png", f"{stem}_dipole.png"]
        if fits:
            plots.plot_region_spectra(fits, f"{stem}_plane_regions.png", cfg.galactic_plane.last_bin_fraction)
            plots.plot_plane_neutrinos(fits, f"{stem}_plane_neutrinos.png")
            done += [f"{stem}_plane_regions.png", f"{stem}_plane_neutrinos.png"]
        _say(args, "wrote " + ", ".join(done))
    return 0


# --------------------------------------------------------------------------- config
def cmd_config(args) -> int:
    if args.action == "keys":
        print(describe_schema(), end="")
    else:
        print(_load(args).to_toml(), end="")
    return 0
