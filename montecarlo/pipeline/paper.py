"""``corona paper [-o DIR]``: the papers' figures as PNG, from the configs in runs/paper/;
``corona paper --gallery -o docs/figures``: the README gallery (:mod:`.gallery`).

[C] (Kalashev & Troitsky 2016): Fig. 1 (gas density), Fig. 2 (CR radial profiles for the two
D0 at a fixed source), Fig. 3 (CR spectra), Fig. 4 (all-sky gamma and neutrino spectra vs
IceCube / IGRB), Fig. 5 (dipole), Fig. 6 (Fig. 4 for D0 = 4e30 cm^2/s), Fig. 7 (Fig. 4 for the
hard spectrum); Fig. 4, 6 and 7 include the extragalactic sum when that stage runs (see
:mod:`.optional`). [T] (Fang & Murase 2021): Fig. 1 (Galactic-plane fits to Tibet ASgamma),
Fig. 2 (plane neutrinos), Fig. 5 (survival probabilities). The [C] models run through
:func:`.run.run_model`, so their stages are cached in DIR/<model>/ and a rerun only redraws.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from transport import load_config
from transport.core.grid import log_grid
from transport.cosmicrays.gas import corona_density
from transport.plots import plot_spectra, save_figure, stamped

from montecarlo import plots
from montecarlo.galactic_plane import fits as gp
from montecarlo.opacity.api import opacity_for
from montecarlo.pipeline.extragalactic import Products, with_xi
from montecarlo.pipeline.figures import plot_fixed_source_profiles
from montecarlo.pipeline.gallery import cmd_gallery
from montecarlo.pipeline.run import run_model
from montecarlo.pipeline.papers import paper_ct
from montecarlo.pipeline.papers.plane import plane_papers, write_agreement
from transport.core.safety import check_output_dir

PAPER_DIR = Path(__file__).resolve().parents[2] / "runs" / "paper"
#: [C] models: name -> config file in runs/paper/.
C_MODELS = {"baseline": "kalashev2016_baseline.toml",
            "fast_diffusion": "kalashev2016_fast_diffusion.toml",
            "hard_spectrum": "kalashev2016_hard_spectrum.toml"}
#: [T] config in runs/paper/.
T_CONFIG = "fang2021_tibet.toml"


def plot_gas_profiles(cfg, path):
    """[C] Fig. 1: n_e(r) of the simulation fit, the observational fit and their maximum."""
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
    save_figure(fig, path)


def kalashev2016_figures(outdir, say=print, agreement=None) -> list:
    """[C] Fig. 1-7 (module docstring): kalashev2016_fig*.png in ``outdir``."""
    outdir = Path(outdir)
    written = []
    records = {}
    for name, config in C_MODELS.items():
        cfg = load_config(PAPER_DIR / config)
        records[name] = run_model(cfg, outdir / name, figures=False, say=say)
    base = records["baseline"]
    cfg = base["transport"].result.config
    if agreement is not None:
        agreement += paper_ct.c_entries(base["summary"].result, cfg)
    with stamped(cfg, f"runs/paper/{C_MODELS['baseline']}"):
        plot_gas_profiles(cfg, outdir / "kalashev2016_fig1_gas.png")
        plot_fixed_source_profiles(cfg, base["transport"].result.Q0_cm3_s_eV,
                                   outdir / "kalashev2016_fig2_cr_radial.png")
        plot_spectra(base["transport"].result, outdir / "kalashev2016_fig3_cr_spectra.png")
        plots.plot_dipole(base["sky"].result, outdir / "kalashev2016_fig5_dipole.png")
    written += [outdir / f for f in ("kalashev2016_fig1_gas.png", "kalashev2016_fig2_cr_radial.png",
                                     "kalashev2016_fig3_cr_spectra.png", "kalashev2016_fig5_dipole.png")]
    if "extragalactic" in base:
        written += plot_fig4_both_ways(base, outdir)
    for fig, name in (("fig4", "baseline"), ("fig6", "fast_diffusion"), ("fig7", "hard_spectrum")):
        path = outdir / f"kalashev2016_{fig}_spectra_{name}.png"
        with stamped(records[name]["transport"].result.config, f"runs/paper/{C_MODELS[name]}"):
            plots.plot_corona_spectra(records[name]["sky"].result, path)
        written.append(path)
    return written


#: [C]'s xi drawn beside the self-consistent one: the upper end of "xi < 1 in all realistic cases".
XI_PAPER = 1.0


def plot_fig4_both_ways(base: dict, outdir: Path) -> list:
    """[C] Fig. 4 with all galaxies' coronae twice: with the self-consistent xi (~13) and with
    the extragalactic part scaled to xi = XI_PAPER (extragalactic.xi; docs/extragalactic.md,
    "xi"). Each PNG carries the config it shows (the second with the override)."""
    eg = base["extragalactic"].result
    cfg = base["transport"].result.config
    stored = Products(eg["E_eV"], dict(eg["spectra"]), dict(eg["scalars"]))
    xi_self = float(stored.scalars["xi_self_consistent_100TeV"])
    products = with_xi(stored, xi_self)         # undo an extragalactic.xi of the run, if any
    paths = [outdir / "kalashev2016_fig4_all_galaxies.png",
             outdir / f"kalashev2016_fig4_all_galaxies_xi{XI_PAPER:g}.png"]
    override = {"extragalactic.xi": XI_PAPER}
    with stamped(cfg, f"runs/paper/{C_MODELS['baseline']}"):
        plots.plot_extragalactic(products, paths[0], f"[C] Fig. 4, self-consistent xi = {xi_self:.3g} "
                                                     "(100 TeV neutrinos)")
    with stamped(cfg.with_overrides(override), f"runs/paper/{C_MODELS['baseline']}", override):
        plots.plot_extragalactic(with_xi(products, XI_PAPER), paths[1],
                                 f"[C] Fig. 4 as drawn: extragalactic part scaled to xi = {XI_PAPER:g} "
                                 f"(x {xi_self / XI_PAPER:.3g})")
    return paths


def fang2021_figures(outdir, progress=False, agreement=None) -> list:
    """[T] Fig. 1, 2 and 5 (module docstring): fang2021_fig*.png in ``outdir``."""
    outdir = Path(outdir)
    cfg = load_config(PAPER_DIR / T_CONFIG)
    g = cfg.galactic_plane
    fields = tuple(cfg.sky.fields) if cfg.sky.attenuate else ()
    fits = gp.fit_all_cases(cfg, log_grid(g.E_min_eV, g.E_max_eV, g.E_per_decade), fields,
                            g.last_bin_fraction, progress=progress)
    if agreement is not None:
        agreement += paper_ct.t_entries(fits)
    names = ("fang2021_fig1_tibet_regions.png", "fang2021_fig2_plane_neutrinos.png",
             "fang2021_fig5_survival.png")
    with stamped(cfg, f"runs/paper/{T_CONFIG}"):
        plots.plot_region_spectra(fits, outdir / names[0], g.last_bin_fraction)
        plots.plot_plane_neutrinos(fits, outdir / names[1])
        sources = [(l, b, cfg.observer.r_sun_kpc) for l, b in plots.FIG5_SOURCES]
        plots.plot_survival(opacity_for(cfg), sources, ("cmb", "dust"), outdir / names[2])
    return [outdir / f for f in names]


def cmd_paper(args) -> int:
    if args.gallery:
        return cmd_gallery(args)
    outdir = check_output_dir(args.outdir, what="-o/--outdir")
    outdir.mkdir(parents=True, exist_ok=True)
    say = (lambda text: None) if args.quiet else print
    t0 = time.perf_counter()
    written, agreement = [], []
    if args.paper in ("C", "all"):
        written += kalashev2016_figures(outdir, say, agreement)
    if args.paper in ("T", "all"):
        written += fang2021_figures(outdir, progress=not args.quiet, agreement=agreement)
    plane_paths, plane_entries = plane_papers(outdir, args.paper, progress=not args.quiet)
    written += plane_paths
    written.append(write_agreement(outdir, agreement + plane_entries, complete=args.paper == "all"))
    print(f"corona paper: {len(written)} figures in {outdir} ({time.perf_counter() - t0:.0f} s)")
    for path in written:
        print(f"  {path}")
    return 0
