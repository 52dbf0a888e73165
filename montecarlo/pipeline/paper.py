"""``corona paper [-o DIR]``: the seed papers' figures as PNG, from the configs in runs/paper/.

Seed 004 ([C]): Fig. 1 (gas density), Fig. 2 (CR radial profiles for the two D0 at a fixed
source), Fig. 3 (CR spectra), Fig. 4 (all-sky gamma and neutrino spectra vs IceCube / IGRB),
Fig. 5 (dipole), Fig. 6 (Fig. 4 for D0 = 4e30 cm^2/s), Fig. 7 (Fig. 4 for the hard spectrum);
Fig. 4, 6 and 7 include the extragalactic sum when that stage runs (see :mod:`.optional`).
Seed 000 ([T]): Fig. 1 (Galactic-plane fits to Tibet ASgamma), Fig. 2 (plane neutrinos),
Fig. 5 (survival probabilities). The seed 004 models run through :func:`.run.run_model`, so
their stages are cached in DIR/<model>/ and a rerun only redraws.
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from transport import load_config, solve
from transport.core.grid import log_grid
from transport.cosmicrays.gas import corona_density
from transport.plots import plot_radial_profiles, plot_spectra

from montecarlo import plots
from montecarlo.galactic_plane import fits as gp
from montecarlo.opacity.api import opacity_for
from montecarlo.pipeline.run import run_model
from montecarlo.pipeline.papers import paper_ct
from montecarlo.pipeline.papers.plane import plane_papers, write_agreement
from transport.core.safety import check_output_dir

PAPER_DIR = Path(__file__).resolve().parents[2] / "runs" / "paper"
#: Seed 004 models: name -> config file in runs/paper/.
SEED004_MODELS = {"baseline": "seed004_baseline.toml", "fast_diffusion": "seed004_fast_diffusion.toml",
                  "hard_spectrum": "seed004_hard_spectrum.toml"}


def plot_gas_profiles(cfg, path):
    """Seed 004 Fig. 1: n_e(r) of the simulation fit, the observational fit and their maximum."""
    plt = plots._pyplot()
    r = np.geomspace(1.0, 300.0, 400)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    gas = cfg.gas
    for profile, single, style, label in (("beta", "inner", "--", "simulation fit (inner)"),
                                          ("beta", "outer", ":", "observational fit (outer)"),
                                          ("max_beta", gas.single, "-", "max of the two (used)")):
        variant = cfg.with_overrides({"gas.profile": profile, "gas.single": single}).gas
        ax.loglog(r, corona_density(r, variant), style, label=label)
    ax.set_xlabel("galactocentric radius r [kpc]")
    ax.set_ylabel(r"$n_e$ [cm$^{-3}$]")
    ax.set_title(f"corona gas density (cut at R_max = {gas.R_max_kpc:g} kpc)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def seed004_figures(outdir, say=print, agreement=None) -> list:
    outdir = Path(outdir)
    written = []
    records = {}
    for name, config in SEED004_MODELS.items():
        cfg = load_config(PAPER_DIR / config)
        records[name] = run_model(cfg, outdir / name, figures=False, say=say)
    base = records["baseline"]
    cfg = base["transport"].result.config
    if agreement is not None:
        agreement += paper_ct.c_entries(base["summary"].result, cfg)
    plot_gas_profiles(cfg, outdir / "seed004_fig1_gas.png")
    fixed = {"normalization.mode": "rate", "normalization.Q0_cm3_s_eV": base["transport"].result.Q0_cm3_s_eV}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # D0 = 4e30 leaves the diffusion regime at the top energies
        profiles = {f"D0 = {D0:.2g} cm$^2$/s": solve(cfg.with_overrides({**fixed, "diffusion.D0_cm2_s": D0}))
                    for D0 in (1.2e29, 4e30)}
    plot_radial_profiles(profiles, 1e14, outdir / "seed004_fig2_cr_radial.png")
    plot_spectra(base["transport"].result, outdir / "seed004_fig3_cr_spectra.png")
    written += [outdir / f for f in ("seed004_fig1_gas.png", "seed004_fig2_cr_radial.png",
                                     "seed004_fig3_cr_spectra.png")]
    for fig, name in (("fig4", "baseline"), ("fig6", "fast_diffusion"), ("fig7", "hard_spectrum")):
        path = outdir / f"seed004_{fig}_spectra_{name}.png"
        plots.plot_corona_spectra(records[name]["sky"].result, path)
        written.append(path)
    plots.plot_dipole(base["sky"].result, outdir / "seed004_fig5_dipole.png")
    written.append(outdir / "seed004_fig5_dipole.png")
    return written


def seed000_figures(outdir, progress=False, agreement=None) -> list:
    outdir = Path(outdir)
    cfg = load_config(PAPER_DIR / "seed000_tibet.toml")
    g = cfg.galactic_plane
    fields = tuple(cfg.sky.fields) if cfg.sky.attenuate else ()
    fits = gp.fit_all_cases(cfg, log_grid(g.E_min_eV, g.E_max_eV, g.E_per_decade), fields,
                            g.last_bin_fraction, progress=progress)
    if agreement is not None:
        agreement += paper_ct.t_entries(fits)
    plots.plot_region_spectra(fits, outdir / "seed000_fig1_tibet_regions.png", g.last_bin_fraction)
    plots.plot_plane_neutrinos(fits, outdir / "seed000_fig2_plane_neutrinos.png")
    sources = [(l, b, cfg.observer.r_sun_kpc) for l, b in plots.FIG5_SOURCES]
    plots.plot_survival(opacity_for(cfg), sources, ("cmb", "dust"), outdir / "seed000_fig5_survival.png")
    return [outdir / f for f in ("seed000_fig1_tibet_regions.png", "seed000_fig2_plane_neutrinos.png",
                                 "seed000_fig5_survival.png")]


def cmd_paper(args) -> int:
    outdir = check_output_dir(args.outdir, what="-o/--outdir")
    outdir.mkdir(parents=True, exist_ok=True)
    say = (lambda text: None) if args.quiet else print
    t0 = time.perf_counter()
    written, agreement = [], []
    if args.seed in ("004", "C", "all"):
        written += seed004_figures(outdir, say, agreement)
    if args.seed in ("000", "T", "all"):
        written += seed000_figures(outdir, progress=not args.quiet, agreement=agreement)
    plane_paths, plane_entries = plane_papers(outdir, args.seed, progress=not args.quiet)
    written += plane_paths
    written.append(write_agreement(outdir, agreement + plane_entries, complete=args.seed == "all"))
    print(f"corona paper: {len(written)} figures in {outdir} ({time.perf_counter() - t0:.0f} s)")
    for path in written:
        print(f"  {path}")
    return 0
