"""The ``corona`` command.

    corona transport [CONFIG] -o OUT.h5 [--plots]     CR density in the corona and the
                                                      emissivities of every emission model
    corona figures transport [CONFIG] --outdir DIR    seed 004 Fig. 2 and 3 as PNG
    corona survival [CONFIG] --l L --b B --distance-kpc D [--fields cmb,dust] [--plot PNG]
                                                      pair-production survival probability
    corona sky [CONFIG] -o OUT.h5 [--plots] [--fits]  transport, emission, HEALPix maps,
                                                      region spectra, dipole, plane fits
    corona config show [CONFIG]                       the fully resolved configuration
    corona config keys                                every key, default, range, meaning

Every subcommand takes ``--set section.key=value`` (repeatable). Input errors print one
line and exit with status 2; nothing prints a traceback for a bad config.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from transport.errors import CoronaError


def _common(parser: argparse.ArgumentParser, config=True):
    if config:
        parser.add_argument("config", nargs="?", default=None,
                            help="TOML config file (default: the bundled baseline)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.KEY=VALUE",
                        help="override one config key (repeatable), e.g. --set source.alpha=2.2")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summaries")


def _load(args):
    from transport import load_config
    return load_config(args.config, overrides=args.overrides)


def _say(args, text):
    if not args.quiet:
        print(text)


# --------------------------------------------------------------------------- transport
def cmd_transport(args) -> int:
    from transport import build_emissions, solve

    cfg = _load(args)
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
        from transport.plots import plot_corona_emission, plot_radial_profiles, plot_spectra
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
SEED_D0_CM2_S = (1.2e29, 4e30)


def cmd_figures(args) -> int:
    """Seed 004 Fig. 2 (two D0 at one fixed source normalisation) and Fig. 3."""
    from transport import solve
    from transport.plots import plot_radial_profiles, plot_spectra

    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cfg = _load(args)
    base = solve(cfg, progress=not args.quiet)
    plot_spectra(base, outdir / "fig3_cr_spectra.png")
    fixed = {"normalization.mode": "rate", "normalization.Q0_cm3_s_eV": base.Q0_cm3_s_eV}
    profiles = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # D0 = 4e30 leaves the diffusion regime at the top energies
        for D0 in SEED_D0_CM2_S:
            sol = solve(cfg.with_overrides({**fixed, "diffusion.D0_cm2_s": D0}), progress=not args.quiet)
            profiles[f"D0 = {D0:.2g} cm$^2$/s"] = sol
    plot_radial_profiles(profiles, 1e14, outdir / "fig2_cr_radial.png")
    _say(args, f"wrote {outdir / 'fig2_cr_radial.png'} and {outdir / 'fig3_cr_spectra.png'} "
               f"(fixed Q0 = {base.Q0_cm3_s_eV:.3e} cm^-3 s^-1 eV^-1)")
    return 0


# --------------------------------------------------------------------------- survival
def cmd_survival(args) -> int:
    """P_surv(E) from a source at (l, b, d) to the Sun (seed 000 eq. 3-4, Fig. 5)."""

    from montecarlo.opacity import check_fields, opacity_for
    from transport.errors import ArgumentError
    from transport.grid import log_grid

    cfg = _load(args)
    fields = check_fields(args.fields, argument="--fields")
    if not args.E_min_eV < args.E_max_eV:
        raise ArgumentError(f"--E-min-eV = {args.E_min_eV:g} must be below --E-max-eV = "
                            f"{args.E_max_eV:g}")
    if args.per_decade < 1:
        raise ArgumentError(f"--per-decade = {args.per_decade} is not allowed: expected >= 1")
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
        from montecarlo.plots import FIG5_SOURCES, plot_survival
        sources = [(l, b, cfg.observer.r_sun_kpc) for l, b in FIG5_SOURCES]
        if (args.l, args.b, args.distance_kpc) not in sources:
            sources.append((args.l, args.b, args.distance_kpc))
        plot_survival(opacity, sources, fields, args.plot)
        _say(args, f"wrote {args.plot}")
    return 0


# --------------------------------------------------------------------------- sky
def cmd_sky(args) -> int:
    """The whole chain: CR transport, emissivities, sky maps and products, plane fits."""
    import numpy as np

    from montecarlo import galactic_plane as gp
    from montecarlo.skymaps import make_sky, write_fits_maps, write_sky
    from transport import build_emissions, solve
    from transport.emission_models import build_emission
    from transport.grid import log_grid
    from transport.output import atomic_hdf5, provenance

    cfg = _load(args)
    t0 = time.perf_counter()
    sol = solve(cfg, progress=not args.quiet)
    emissions = build_emissions(cfg, sol)
    for model in cfg.sky.models:
        for particle in cfg.sky.particles:
            if particle not in emissions.get(model, {}):
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
        from montecarlo import plots
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
    from transport.config import describe_schema

    if args.action == "keys":
        print(describe_schema(), end="")
    else:
        print(_load(args).to_toml(), end="")
    return 0


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corona",
        description="Gamma rays and neutrinos from cosmic rays in the Milky Way corona.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("transport", help="solve CR transport in the corona, write HDF5")
    _common(p)
    p.add_argument("-o", "--output", default="runs/transport.h5", help="output HDF5 file")
    p.add_argument("--plots", action="store_true",
                   help="also draw OUT_spectra.png, OUT_profile.png and OUT_emission.png")
    p.set_defaults(func=cmd_transport)

    p = sub.add_parser("figures", help="reproduce the seed papers' figures as PNG")
    p.add_argument("which", choices=["transport"], help="transport: seed 004 Fig. 2 and 3")
    _common(p)
    p.add_argument("--outdir", default="runs/figures", help="directory for the PNG files")
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("survival", help="pair-production survival probability P_surv(E) "
                       "from a Galactic source to the Sun (seed 000 Fig. 5)")
    _common(p)
    p.add_argument("--l", type=float, required=True, metavar="DEG", help="Galactic longitude [deg]")
    p.add_argument("--b", type=float, required=True, metavar="DEG", help="Galactic latitude [deg]")
    p.add_argument("--distance-kpc", type=float, required=True, metavar="KPC",
                   help="distance of the source from the Sun [kpc]")
    p.add_argument("--fields", default="cmb,dust",
                   help="comma-separated photon fields: cmb, dust, ebl, tabulated (default "
                        "cmb,dust; \"\" = none)")
    p.add_argument("--E-min-eV", type=float, default=1e12, help="lowest energy [eV] (1e12)")
    p.add_argument("--E-max-eV", type=float, default=1e17, help="highest energy [eV] (1e17)")
    p.add_argument("--per-decade", type=int, default=8, help="energies per decade (8)")
    p.add_argument("--plot", metavar="PNG", default=None,
                   help="also draw seed 000 Fig. 5 (P_surv vs energy and vs distance)")
    p.set_defaults(func=cmd_survival)

    p = sub.add_parser("sky", help="maps, region spectra, dipole and Galactic-plane fits")
    _common(p)
    p.add_argument("-o", "--output", default="runs/sky.h5", help="output HDF5 file")
    p.add_argument("--plots", action="store_true",
                   help="also draw maps, region spectra, corona spectra and the dipole (PNG)")
    p.add_argument("--fits", action="store_true",
                   help="also write the maps as HEALPix FITS (OUT_<model>_<particle>.fits)")
    p.add_argument("--equatorial", action="store_true",
                   help="also write FITS maps in equatorial (ICRS) coordinates (implies --fits)")
    p.set_defaults(func=cmd_sky)

    p = sub.add_parser("config", help="show the resolved config or the key reference")
    p.add_argument("action", choices=["show", "keys"])
    _common(p)
    p.set_defaults(func=cmd_config)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"corona: warning ({category.__name__}): {message}", file=sys.stderr)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except CoronaError as exc:
            print(f"corona {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("corona: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
