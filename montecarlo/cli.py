"""The ``corona`` command.

    corona transport [CONFIG] -o OUT.h5 [--plots]     CR density in the corona and the
                                                      emissivities of every emission model
    corona figures transport [CONFIG] --outdir DIR    seed 004 Fig. 2 and 3 as PNG
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
