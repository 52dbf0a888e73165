"""``corona paper --gallery -o docs/figures``: every figure of the README gallery, drawn from
the current code and the bundled default configuration (docs/figures/README.md).

The default model runs through :func:`.run.run_model` (its stages cached in
``<cache root>/gallery``, see :mod:`transport.core.cachedir`, so a rerun only redraws), and
the figures are those ``corona run`` draws, plus [C] Fig. 2 (the two diffusion coefficients at
one source amplitude) and [T] Fig. 5 (survival probabilities). Every PNG carries the code
version, the configuration ("default"), its overrides and the SHA-256 of its input values in
its text chunks (:func:`transport.plots.stamped`); tests/test_gallery.py fails when a
committed figure no longer shows the configuration it names.
"""
from __future__ import annotations

import time
from pathlib import Path

from transport import load_config
from transport.core.cachedir import cache_root
from transport.core.safety import check_output_dir
from transport.plots import stamped

from montecarlo import plots
from montecarlo.opacity.api import opacity_for
from montecarlo.parallel import rank_and_size, world
from montecarlo.pipeline.figures import plot_fixed_source_profiles, run_figures
from montecarlo.pipeline.run import run_model
from montecarlo.pipeline.summary import summary_table

#: Name of the configuration the gallery shows (in the PNG metadata: "default" = the bundled
#: inputs/default.toml, without overrides).
GALLERY_CONFIG = "default"
#: Figures drawn besides those of ``corona run``.
EXTRA_FIGURES = ("cr_radial.png", "survival.png")


def gallery_config():
    return load_config(None)


def make_gallery(outdir, say=print, progress: bool = False) -> list:
    """Draw the gallery into ``outdir``; returns the paths written (rank 0; [] elsewhere)."""
    outdir = Path(outdir)
    cfg = gallery_config()
    records = run_model(cfg, cache_root() / "gallery", figures=False, say=say, progress=progress)
    if rank_and_size(world())[0] != 0:
        return []
    outdir.mkdir(parents=True, exist_ok=True)
    with stamped(cfg, GALLERY_CONFIG):
        written = run_figures(records, outdir)
        plot_fixed_source_profiles(cfg, records["transport"].result.Q0_cm3_s_eV,
                                   outdir / "cr_radial.png", progress=progress)
        sources = [(l, b, cfg.observer.r_sun_kpc) for l, b in plots.FIG5_SOURCES]
        plots.plot_survival(opacity_for(cfg), sources, ("cmb", "dust"), outdir / "survival.png")
    say(summary_table(records["summary"].result))
    return written + [outdir / name for name in EXTRA_FIGURES]


def cmd_gallery(args) -> int:
    outdir = check_output_dir(args.outdir, what="-o/--outdir")
    say = (lambda text: None) if args.quiet else print
    t0 = time.perf_counter()
    written = make_gallery(outdir, say, progress=not args.quiet)
    if written:
        print(f"corona paper --gallery: {len(written)} figures in {outdir} "
              f"({time.perf_counter() - t0:.0f} s)")
        for path in written:
            print(f"  {path}")
    return 0
