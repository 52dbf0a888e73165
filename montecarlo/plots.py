"""Figures of the pair-production opacity (seed 000 Fig. 5)."""
from __future__ import annotations

import numpy as np

#: Seed 000 Fig. 5, right panel: energies of the distance curves [eV] (red, blue).
FIG5_ENERGIES_EV = (2e14, 1e15)
#: Seed 000 Fig. 5 directions: the Galactic centre and (l, b) = (90, 0), both at 8.5 kpc.
FIG5_SOURCES = ((0.0, 0.0), (90.0, 0.0))
_STYLE = {"cmb": ":", "dust": "--"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_survival(opacity, sources, fields, path, E_eV=None, max_distance_kpc=30.0):
    """Seed 000 Fig. 5: P_surv versus energy (left) and versus distance (right).

    sources: list of (l_deg, b_deg, distance_kpc), one colour (left) or line width (right)
    each. Line styles: solid = all ``fields`` together, dotted = CMB alone, dashed = dust
    alone (drawn when those fields are included and there is more than one field). Right:
    P_surv along each source's direction versus distance at 200 TeV (reds) and 1 PeV (blues).
    """
    plt = _pyplot()
    fields = tuple(fields)
    E = np.geomspace(1e12, 1e17, 81) if E_eV is None else np.asarray(E_eV)
    parts = [("-", fields)] + [(_STYLE[f], (f,)) for f in ("cmb", "dust")
                               if f in fields and len(fields) > 1]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12.5, 5.0))
    colours = ["0.45", "tab:cyan", "tab:green", "tab:purple"]
    for (l, b, d), colour in zip(sources, colours):
        for style, flds in parts:
            ax1.semilogx(E, opacity.survival_probability(E, l, b, d, flds), style, color=colour,
                         label=f"l = {l:g}, b = {b:g}, d = {d:g} kpc" if style == "-" else None)
    ax1.set_xlabel(r"$E_\gamma$ [eV]")
    ax1.set_ylabel(r"$P_{\rm surv}$")
    ax1.set_ylim(0.0, 1.02)
    ax1.set_title(f"solid: {'+'.join(fields)}" + (", dotted: CMB, dashed: dust"
                                                  if len(parts) > 1 else ""), fontsize=10)
    ax1.legend(fontsize=8, loc="lower left")
    dist = np.linspace(0.0, max_distance_kpc, 121)
    families = (("tab:red", "darkred"), ("tab:blue", "navy"))
    for k, (l, b, _) in enumerate(sources[:3]):
        for E0, family in zip(FIG5_ENERGIES_EV, families):
            for style, flds in parts:
                P = opacity.survival_probability(np.array([E0]), l, b, dist, flds)[:, 0]
                ax2.plot(dist, P, style, color=family[min(k, 1)], lw=(1.0, 2.5, 1.6)[k],
                         label=f"{E0 / 1e12:g} TeV, l = {l:g}, b = {b:g}" if style == "-" else None)
    ax2.set_xlabel("distance of the source from the Sun [kpc]")
    ax2.set_ylabel(r"$P_{\rm surv}$")
    ax2.set_ylim(0.0, 1.02)
    ax2.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
