"""What the plane papers' figure modules share: their configs (runs/paper/), energies and
attenuating fields, and the drawing of E^2 I spectra with data points."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from montecarlo import plots
from transport import load_config
from transport.plots import save_figure
from transport.core.grid import log_grid

PAPER_DIR = Path(__file__).resolve().parents[3] / "runs" / "paper"
#: Colours of the model components in every plane figure.
COLOURS = {"sea": "tab:blue", "extra1": "tab:red", "extra2": "darkred", "cocoons": "tab:cyan",
           "total": "k"}
#: Data set -> (marker, colour).
DATA_STYLE = {"km2a": ("o", "tab:green"), "wcda": ("s", "tab:olive"), "fermi": ("x", "0.3")}


def paper_config(name: str, overrides=None):
    """runs/paper/<name> with ``overrides`` (dotted keys) on top."""
    return load_config(PAPER_DIR / name, overrides or {})


def energies(cfg) -> np.ndarray:
    """Model energies of the plane figures: galactic_plane.E_min_eV .. E_max_eV."""
    g = cfg.galactic_plane
    return log_grid(g.E_min_eV, g.E_max_eV, g.E_per_decade)


def fields(cfg) -> tuple:
    """Photon fields attenuating the gamma rays (sky.fields when sky.attenuate)."""
    return tuple(cfg.sky.fields) if cfg.sky.attenuate else ()


def e2(E_eV, intensity) -> np.ndarray:
    """E^2 I [GeV cm^-2 s^-1 sr^-1]."""
    return plots._e2_gev(E_eV, intensity)


def draw_data(ax, data: dict, region_of=None) -> None:
    """Measured points of ``data`` {name: SpectralPoints} (those on ``region_of`` when given)."""
    for name, pts in data.items():
        if region_of is not None and not pts.region.startswith(region_of):
            continue
        marker, colour = DATA_STYLE.get(name.split("_")[0], ("D", "k"))
        plots._points(ax, pts, marker, pts.label, color=colour, ms=3.5)


def finish(fig, axes, path, title=None) -> Path:
    """Log axes, labels, legends; save ``path`` (with the provenance of the config it shows:
    the paper modules draw inside :func:`transport.plots.stamped`)."""
    for ax in np.atleast_1d(axes).ravel():
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("energy E [eV]")
        ax.set_ylabel(plots._E2_LABEL)
        ax.legend(fontsize=6.5)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    return Path(path)


def subplots(nrows=1, ncols=1, size=(6.4, 4.8)):
    plt = plots._pyplot()
    return plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False)
