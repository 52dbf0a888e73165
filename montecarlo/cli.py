"""The ``corona`` command.

    corona transport [CONFIG] -o OUT.h5 [--plots]     CR density in the corona and the
                                                      emissivities of every emission model
    corona figures transport [CONFIG] --outdir DIR    [C] Fig. 2 and 3 as PNG
    corona survival [CONFIG] --l L --b B --distance-kpc D [--fields cmb,dust] [--plot PNG]
                                                      pair-production survival probability
    corona sky [CONFIG] -o OUT.h5 [--plots] [--fits]  transport, emission, HEALPix maps,
                                                      region spectra, dipole, plane fits
    [mpirun -n N] corona mc [CONFIG] -o OUT.h5 [--emission TRANSPORT.h5]
                                                      Monte Carlo maps, all-sky, regions,
                                                      dipole with errors (docs/montecarlo.md)
    corona extragalactic [CONFIG] -o OUT.h5 [--plots] Milky Way corona + coronae of all galaxies
                                                      (EM cascades; mpirun-capable), [C] Fig. 4-7
    corona run [CONFIG] [-o DIR] [--from STAGE=FILE]  the full chain for one model, cached stages,
                                                      one HDF5 file, figures, summary table
    corona scan SCAN.toml -o DIR [--plot]             a parameter scan (mpirun -n N: task farm),
                                                      restartable, one file per point
    [mpirun -n N] corona fit FIT.toml -o DIR          Bayesian fit (posterior, evidence, limits),
                                                      resumable; --list-data lists the data sets
    corona validate [--resolution ci|full]            the analytic validation suite (exit 1 on
                                                      a failure; under mpirun also the MPI path)
    corona paper [-o DIR] [--paper C|T|L|D|K|all]     the five papers' figures and DIR/agreement.json
    corona paper --gallery -o docs/figures            the README gallery from the default config
    corona config show [CONFIG]                       the fully resolved configuration
    corona config keys                                every key, default, range, meaning

Every subcommand takes ``--set section.key=value`` (repeatable). Input errors print one
line and exit with status 2; nothing prints a traceback for a bad config. Outputs are checked
before computing; an existing output is replaced only with ``--overwrite``. SIGTERM acts like
Ctrl-C (exit 143, no partial files). ``corona --version`` prints the code version.
"""
from __future__ import annotations

import argparse
import sys
import warnings

from transport.core.errors import CoronaError
from transport.core.output import code_version
from transport.core.progress import user_notes
from transport.core.safety import Terminated, sigterm_as_interrupt

from montecarlo.pipeline.commands import (cmd_config, cmd_figures, cmd_sky, cmd_survival,
                                          cmd_transport)
from montecarlo.parallel import RunInterrupted, abort_other_ranks, is_root
from montecarlo.pipeline.mc import cmd_mc
from montecarlo.pipeline.extragalactic import cmd_extragalactic
from montecarlo.pipeline.fit import cmd_fit
from montecarlo.pipeline.paper import cmd_paper
from montecarlo.pipeline.run import cmd_run
from montecarlo.pipeline.scan import cmd_scan
from montecarlo.pipeline.validation import RESOLUTIONS, cmd_validate


def _common(parser: argparse.ArgumentParser, config=True):
    if config:
        parser.add_argument("config", nargs="?", default=None,
                            help="TOML config file (default: the bundled baseline)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.KEY=VALUE",
                        help="override one config key (repeatable), e.g. --set source.alpha=2.2")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summaries")


def _overwrite(parser: argparse.ArgumentParser):
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the output file if it exists (otherwise an error)")


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corona",
        description="Gamma rays and neutrinos from cosmic rays in the Milky Way corona.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {code_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("transport", help="solve CR transport in the corona, write HDF5")
    _common(p)
    p.add_argument("-o", "--output", default="runs/transport.h5",
                   help="output HDF5 file (default: %(default)s)")
    _overwrite(p)
    p.add_argument("--plots", action="store_true",
                   help="also draw OUT_spectra.png, OUT_profile.png and OUT_emission.png")
    p.set_defaults(func=cmd_transport)

    p = sub.add_parser("figures", help="reproduce the papers' figures as PNG")
    p.add_argument("which", choices=["transport"],
                   help="transport: [C] Fig. 2 and 3 (Kalashev & Troitsky 2016)")
    _common(p)
    p.add_argument("--outdir", default="runs/figures",
                   help="directory for the PNG files (default: %(default)s)")
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("survival", help="pair-production survival probability P_surv(E) "
                       "from a Galactic source to the Sun ([T] Fig. 5, Fang & Murase 2021)")
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
                   help="also draw [T] Fig. 5 (P_surv vs energy and vs distance)")
    p.set_defaults(func=cmd_survival)

    p = sub.add_parser("sky", help="maps, region spectra, dipole and Galactic-plane fits")
    _common(p)
    p.add_argument("-o", "--output", default="runs/sky.h5",
                   help="output HDF5 file (default: %(default)s)")
    _overwrite(p)
    p.add_argument("--plots", action="store_true",
                   help="also draw maps, region spectra, corona spectra and the dipole (PNG)")
    p.add_argument("--fits", action="store_true",
                   help="also write the maps as HEALPix FITS (OUT_<model>_<particle>.fits)")
    p.add_argument("--transport-file", metavar="H5", default=None,
                   help="start from the emission tables saved by `corona transport` instead of "
                        "solving the transport again")
    p.add_argument("--equatorial", action="store_true",
                   help="also write FITS maps in equatorial (ICRS) coordinates (implies --fits)")
    p.set_defaults(func=cmd_sky)

    p = sub.add_parser("mc", help="Monte Carlo sky maps (run under mpirun -n N for MPI)")
    _common(p)
    p.add_argument("-o", "--output", default="runs/mc.h5",
                   help="output HDF5 file (default: %(default)s)")
    _overwrite(p)
    p.add_argument("--emission", default="", metavar="FILE.h5",
                   help="propagate the /emission tables of a `corona transport` file "
                        "(default: mc.emission_file, else compute them)")
    p.set_defaults(func=cmd_mc)

    p = sub.add_parser("extragalactic", help="Milky Way corona plus the coronae of all other "
                       "galaxies, with electromagnetic cascades ([C] Fig. 4-7)")
    _common(p)
    p.add_argument("-o", "--output", default="runs/extragalactic.h5",
                   help="output HDF5 file (default: %(default)s)")
    _overwrite(p)
    p.add_argument("--plots", action="store_true",
                   help="also draw OUT_spectra.png (Fig. 4/6/7) and OUT_dipole.png (Fig. 5)")
    p.add_argument("--write-table", metavar="H5", default=None,
                   help="only build (or load) the cascade response table and write it to H5 "
                        "(regenerates inputs/cascade/response_dominguez.h5)")
    p.set_defaults(func=cmd_extragalactic)

    p = sub.add_parser("run", help="the full chain for one model (transport, emission, sky, "
                       "Galactic-plane fits, optional Monte Carlo and extragalactic stages, "
                       "summary, figures); works under mpirun")
    _common(p)
    p.add_argument("-o", "--outdir", default="corona_run", help="output directory (corona_run)")
    p.add_argument("--from", dest="start_from", action="append", default=[], metavar="STAGE=FILE",
                   help="start a stage from a saved file (a stage file or a corona_run.h5), "
                        "e.g. --from transport=old/corona_run.h5 (repeatable)")
    p.add_argument("--accept-mismatch", action="store_true",
                   help="use --from files saved under another config or code version (the "
                        "difference is recorded in corona_run.h5; they never enter the cache)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("scan", help="a parameter scan (grid, Latin hypercube, Sobol) as a task "
                       "farm (mpirun -n N, else local processes); restartable")
    p.add_argument("scan", help="scan file (TOML, see docs/pipeline.md)")
    p.add_argument("-o", "--outdir", required=True, help="scan directory (points/, scan_summary.h5)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes without mpirun (default: the number of cores)")
    p.add_argument("--retry-failed", action="store_true", help="compute failed points again")
    p.add_argument("--plot", action="store_true",
                   help="draw the scalar results against the parameters (DIR/scan_corner.png)")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-point lines")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("fit", help="Bayesian fit of config keys to the data (nautilus, dynesty, "
                       "emcee; mpirun -n N shares the likelihood calls); resumable (docs/fit.md)")
    p.add_argument("fit", nargs="?", default=None, help="fit file (TOML, see docs/fit.md)")
    p.add_argument("-o", "--outdir", default=None, help="fit directory (posterior.h5, plots, checkpoint/)")
    p.add_argument("--workers", type=int, default=1,
                   help="local processes without mpirun (default 1: this process alone)")
    p.add_argument("--restart", action="store_true", help="discard the checkpoint and start over")
    p.add_argument("--list-data", action="store_true", help="list the data sets a fit can use")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("validate", help="run the analytic validation suite and print a table "
                       "(exit status 1 on any failure); mpirun -n 2 also checks the MPI path")
    p.add_argument("--resolution", choices=RESOLUTIONS, default="ci",
                   help="ci (fast, ~1 min) or full (production grids)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("paper", help="regenerate the papers' figures (runs/paper/) as PNG, or "
                       "the README gallery (--gallery)")
    p.add_argument("-o", "--outdir", default="runs/paper/figures", help="output directory")
    p.add_argument("--paper", choices=["C", "T", "L", "D", "K", "all"], default="all",
                   help="which paper's figures: C = Kalashev & Troitsky 2016, T = Fang & Murase "
                        "2021, L = Shao et al. 2023, D = Grasso et al. (DRAGON CR sea), "
                        "K = Ambrosone et al. 2025 (default all)")
    p.add_argument("--gallery", action="store_true",
                   help="draw every figure of docs/figures from the default config instead "
                        "(corona paper --gallery -o docs/figures)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_paper)

    p = sub.add_parser("config", help="show the resolved config or the key reference")
    p.add_argument("action", choices=["show", "keys"])
    _common(p)
    p.set_defaults(func=cmd_config)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"corona: warning ({category.__name__}): {message}", file=sys.stderr)


def main(argv=None) -> int:
    """Run one command. Exit status: 0 done, 2 bad input (one line), 130 interrupted (SIGINT,
    or an MPI run stopped at a checkpoint), 143 terminated (SIGTERM); temporary files of an
    interrupted write are removed (docs/robustness.md)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # user_notes: "compiling kernels, first run only", rate-table builds (rank 0)
    with warnings.catch_warnings(), sigterm_as_interrupt(), \
            user_notes(not getattr(args, "quiet", False)):
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except RunInterrupted as exc:
            print(f"corona {args.command}: {exc}", file=sys.stderr)
            return 130
        except CoronaError as exc:
            agreed = getattr(exc, "all_ranks", False)     # every MPI rank raised it: print once
            if not agreed or is_root():
                print(f"corona {args.command}: error: {exc}", file=sys.stderr)
            if not agreed:
                abort_other_ranks(2)
            return 2
        except Exception:
            abort_other_ranks(1, traceback=True)
            raise
        except Terminated as exc:
            print(f"corona {args.command}: terminated by signal {exc.signum} (temporary "
                  "files removed)", file=sys.stderr)
            return 128 + exc.signum
        except KeyboardInterrupt:
            print(f"corona {args.command}: interrupted (temporary files removed)",
                  file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
