"""[L] (Shao et al. 2023) figures and agreement entries: Fig. 4 (Model 2 / Model 1 against
LHAASO and Fermi-LAT, inner and outer, masked), Fig. 5 (25 < l < 100 deg unmasked), Fig. 7
(per-flavour neutrinos of Model 2, whole sky and 25 < l < 100) and Fig. 8 (Model 1)."""
from __future__ import annotations

from pathlib import Path


from montecarlo import observations as obs
from montecarlo.galactic_plane import shao2023
from montecarlo.pipeline.papers import common
from montecarlo.pipeline.papers.agreement import entry

CONFIG = "plane_L_shao2023.toml"
LABELS = {"sea": r"CR sea $\pi^0$ (DR)", "extra1": "EXTRA1", "extra2": "EXTRA2", "total": "total"}
SIDES = (("inner", "lhaaso_inner", "15 < l < 125, |b| < 5, masked"),
         ("outer", "lhaaso_outer", "125 < l < 235, |b| < 5, masked"))


def _components(ax, m, particle, region, scale=1.0):
    table = m.gamma if particle == "gamma" else m.nu
    for name in table:
        if region in table[name]:
            ax.plot(m.E_eV, scale * common.e2(m.E_eV, table[name][region]), "--",
                    color=common.COLOURS[name], label=LABELS[name])
    ax.plot(m.E_eV, scale * common.e2(m.E_eV, m.total(particle, region)), "-", color="k",
            label=LABELS["total"])


def fig4(results, data, path):
    fig, axes = common.subplots(2, 2)
    for row, name in enumerate(("model2", "model1")):
        m = results[name]
        for col, (side, region, label) in enumerate(SIDES):
            ax = axes[row, col]
            _components(ax, m, "gamma", region)
            common.draw_data(ax, {k: p for k, p in data.items() if k.endswith(side)})
            ax.set_xlim(1e9, m.E_eV[-1])
            ax.set_ylim(1e-10, 1e-5)
            ax.set_title(f"{name} ({m.params['injection']}), {label}", fontsize=9)
    return common.finish(fig, axes, path, "[L] Fig. 4: CR sea + unresolved sources vs LHAASO (masked)")


def fig5(results, path):
    fig, axes = common.subplots()
    _components(axes[0, 0], results["model2"], "gamma", "tibet_A")
    axes[0, 0].set_ylim(1e-10, 1e-5)
    axes[0, 0].set_title("Model 2 (DR-low), 25 < l < 100, |b| < 5, no mask", fontsize=9)
    return common.finish(fig, axes, path, "[L] Fig. 5")


def fig7(results, path, name="model2", regions=("all_sky", "tibet_A")):
    fig, axes = common.subplots(1, len(regions))
    E = results[name].E_eV
    fits = obs.icecube_galactic_plane()
    for ax, region in zip(axes[0], regions):
        _components(ax, results[name], "nu", region, scale=1.0 / 3.0)
        ic = obs.icecube_power_law(E, all_flavour=False)
        ax.plot(E, common.e2(E, ic), ":", color="tab:blue", label="IceCube total ([L] eq. 1)")
        if region == "all_sky":
            pi0 = fits["pi0"]
            lo, hi = (pi0.intensity(E, False, s) for s in (1 - pi0.err_lo / pi0.value, 1 + pi0.err_hi / pi0.value))
            ax.fill_between(E, common.e2(E, lo), common.e2(E, hi), color="tab:red", alpha=0.3,
                            label=r"IceCube $\pi^0$ template fit (sky average)")
        ax.set_xlim(1e12, E[-1])
        ax.set_ylim(1e-12, 1e-6)
        ax.set_title(f"{name}, {'all sky' if region == 'all_sky' else '25 < l < 100, |b| < 5'}, per flavour",
                     fontsize=9)
    return common.finish(fig, axes, path, "[L] Fig. 7" if name == "model2" else "[L] Fig. 8")


def _interval(m, name) -> str:
    lo, hi = m.params[f"{name}_E_cut_68_eV"]
    top = shao2023.EXTRAS[name].E_cut_range_eV[1]
    if hi >= top * (1 - 1e-9):
        return f"ours: 68 % lower limit {lo:.2g} eV (the fit range ends at {top:.2g} eV)"
    return f"ours: 68 % range {lo:.2g}-{hi:.2g} eV (profile Delta chi^2 = 1)"


def entries(results) -> list:
    """[L]'s numbers beside ours (module docstring of :mod:`montecarlo.galactic_plane.shao2023`)."""
    m1, m2 = results["model1"], results["model2"]
    out = [
        entry("L", "Fig. 7a, Sec. 4.2", "Galactic neutrinos / IceCube astrophysical flux, whole sky "
              "(Model 2, hadronic EXTRAs)", shao2023.NU_FRACTION_E_EV, 0.09,
              m2.params["nu_fraction_icecube_20TeV"], "[L]: 'around 9 %'; IceCube = [L] eq. 1"),
        entry("L", "Fig. 7a", "the same without the EXTRAs (CR sea alone, DR-low)", shao2023.NU_FRACTION_E_EV,
              None, m2.params["nu_fraction_icecube_20TeV_sea_only"], "[L] show the sea's line only"),
        entry("L", "Sec. 3.3", "EXTRA1 photon cut-off energy [eV] (fitted, Model 2)", None, 2e13,
              m2.params["extra1_E_cut_eV"], "[L]: '~20 TeV' (30 TeV in their ref. [42]); "
              + _interval(m2, "extra1")),
        entry("L", "Sec. 3.3", "EXTRA1 photon cut-off energy [eV] (fitted, Model 1)", None, 2e13,
              m1.params["extra1_E_cut_eV"], "[L]: '~20 TeV'; " + _interval(m1, "extra1")),
        entry("L", "Sec. 3.3", "EXTRA2 photon cut-off energy [eV] (fitted, Model 2)", None, 2e15,
              m2.params["extra2_E_cut_eV"], "[L]: 2 PeV; " + _interval(m2, "extra2")),
        entry("L", "Sec. 5", "Galactic neutrinos / IceCube, EXTRA2 hadronic (Model 2, EXTRA2 cut-off "
              "fixed at [L]'s 2 PeV, norms re-fitted)", 1e15, 0.01,
              m2.params["nu_fraction_icecube_1PeV_Ecut2PeV"], "[L]: 'around 1 % ... at PeV'; Delta chi^2 "
              f"= {m2.params['delta_chi2_Ecut2PeV']:.2f} against our best fit"),
        entry("L", "Sec. 5", "the same with our best-fit EXTRA2 cut-off", 1e15, 0.01,
              m2.params["nu_fraction_icecube_1PeV"], "the KM2A points (to 1 PeV) bound the cut-off "
              "only from below: the PeV neutrinos follow the unbounded cut-off"),
        entry("L", "Sec. 5", "Galactic neutrinos / IceCube, EXTRA2 leptonic (Model 2)", 1e15, 0.004,
              m2.params["nu_fraction_icecube_1PeV_extra2_leptonic"], "[L]: '~0.4 %'"),
    ]
    for key in [k for k in m1.chi2]:
        above = m1.params.get(f"sea_over_data_above_60TeV_{key}")
        below = m1.params.get(f"sea_over_data_below_60TeV_{key}")
        if above is not None:
            out.append(entry("L", "Fig. 4c, d, Sec. 3.3", f"DR-high sea alone / {key} points above 60 TeV "
                             "(geometric mean)", None, 1.0, above,
                             "[L]: the DR-high-only model is 'consistent with the data ... above 60 TeV'"))
        if below is not None:
            out.append(entry("L", "Fig. 4c, d, Sec. 3.3", f"DR-high sea alone / {key} points below 60 TeV "
                             "(geometric mean)", None, None, below,
                             "[L]: below 60 TeV it 'can not explain the LHAASO data' (< 1)"))
    sea_frac = m1.params["nu_fraction_icecube_100TeV_sea_only"]
    out.append(entry("C", "Sec. V", "Galactic-disk neutrinos / IceCube, whole sky (our CR sea, "
                     "[L] DR-high, no EXTRA)", 1e14, 0.06, sea_frac,
                     "[C] quote (4-8) % from their ref. [23] for conventional CR spectra"))
    for name, m in (("Model 1", m1), ("Model 2", m2)):
        for side in ("inner", "outer"):
            keys = [k for k in m.chi2 if k.endswith(side)]
            out.append(entry("L", "Fig. 4", f"chi^2/dof vs LHAASO {side} (masked; {', '.join(keys)}), "
                             f"{name}", None, None, m.chi2_per_dof(keys, m.params["n_free"] // 2),
                             "[L] quote no chi^2 ('well explained'); dof = points - fitted "
                             "parameters per region"))
    return out


def run(outdir, overrides=None, progress=False):
    """Compute [L]'s models from runs/paper/plane_L_shao2023.toml; (figure paths, entries)."""
    cfg = common.paper_config(CONFIG, overrides)
    data = shao2023.datasets()
    results = shao2023.compute(cfg, common.energies(cfg), common.fields(cfg), data, progress)
    outdir = Path(outdir)
    paths = [fig4(results, data, outdir / "paper_L_fig4_lhaaso.png"),
             fig5(results, outdir / "paper_L_fig5_window.png"),
             fig7(results, outdir / "paper_L_fig7_neutrinos.png"),
             fig7(results, outdir / "paper_L_fig8_neutrinos_model1.png", "model1", ("tibet_A",))]
    return paths, entries(results)
