"""Figures of the cosmic-ray solution ([C] Fig. 2 and 3 and the normalisation) and of the
corona emissivity, and how every corona figure is saved: :func:`save_figure` writes the PNG with
its provenance in text chunks (the code version; inside :func:`stamped` also the configuration
shown, its overrides and the SHA-256 of its input values, :func:`config_inputs_sha256`), so that
a figure of the gallery can be checked against the configuration it claims to show."""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import json

import numpy as np
from PIL import Image, PngImagePlugin

from transport.core.config import default_config_path, read_toml
from transport.core.constants import GEV_EV, M_P_EV
from transport.core.output import code_version
from transport.cosmicrays.normalization import kascade_points, reference_flux
from transport.hadronic.cross_section import T_TH_GEV

#: Radii of the [C] Fig. 3 style spectra [kpc].
SPECTRUM_RADII_KPC = (8.5, 20.0, 50.0, 100.0, 250.0)
#: Legend names of the normalisation references (normalization.reference).
REFERENCE_LABELS = {"H3a_protons": "H3a protons (Gaisser 2012)",
                    "H3a_all": "H3a all particles (Gaisser 2012)",
                    "GSF_protons": "GSF protons (Dembinski et al. 2017)"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


# --------------------------------------------------------------------------- provenance
_STAMP = contextvars.ContextVar("corona_figure_stamp", default=None)
#: PNG text-chunk keywords of the provenance.
META_VERSION, META_CONFIG, META_OVERRIDES, META_SHA = (
    "corona code version", "corona config", "corona config overrides", "corona config sha256")


def config_inputs_text(cfg) -> str:
    """Canonical text of the exact inputs of ``cfg``: every key's value as written in the
    bundled defaults or set by the user (config file, overrides), before derived values
    ("auto") are resolved; JSON with sorted keys."""
    defaults = read_toml(default_config_path())
    inputs = {section: {key: cfg.user.get(section, {}).get(key, defaults[section][key])
                        for key in values} for section, values in cfg.to_dict().items()}
    return json.dumps(inputs, sort_keys=True)


def config_inputs_sha256(cfg) -> str:
    return hashlib.sha256(config_inputs_text(cfg).encode()).hexdigest()


def figure_metadata(cfg=None, config_name: str = "", overrides=None) -> dict:
    """PNG text chunks: the code version, and with ``cfg`` the configuration shown
    (``config_name``: "default" or a path relative to the repository), its overrides (JSON: a
    mapping or a list of "section.key=value", as :func:`transport.load_config` takes them) and
    :func:`config_inputs_sha256`."""
    meta = {"Software": f"corona {code_version()}", META_VERSION: code_version()}
    if cfg is not None:
        meta.update({META_CONFIG: config_name or "(unnamed)",
                     META_OVERRIDES: json.dumps(overrides or {}, sort_keys=True),
                     META_SHA: config_inputs_sha256(cfg)})
    return meta


@contextlib.contextmanager
def stamped(cfg, config_name: str = "", overrides=None):
    """Figures saved inside carry the provenance of ``cfg`` (see :func:`figure_metadata`)."""
    token = _STAMP.set(figure_metadata(cfg, config_name, overrides))
    try:
        yield
    finally:
        _STAMP.reset(token)


def save_figure(fig, path, dpi: int = 120) -> None:
    """Save ``fig`` as an 8-bit palette PNG (a quarter of the RGBA size; line plots and
    colour maps have fewer than 256 colours) with its provenance text chunks, and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    _pyplot().close(fig)
    info = PngImagePlugin.PngInfo()
    for key, value in (_STAMP.get() or figure_metadata()).items():
        info.add_text(key, value)
    image = Image.open(buffer).convert("RGB")
    image.quantize(colors=256, dither=Image.Dither.NONE).save(path, format="PNG", optimize=True,
                                                              pnginfo=info)


def plot_spectra(solution, path, radii_kpc=SPECTRUM_RADII_KPC):
    """[C] Fig. 3: E^2.7 j(E) at several radii, and the flux at the Sun against data. The
    dotted line marks the pion-production threshold: below it pp collisions do not remove
    protons, so j steps up by ~40 % in the lowest bins (docs/transport.md)."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    E = solution.E_eV
    for r in radii_kpc:
        ax1.loglog(E, E ** 2.7 * solution.j_at(r), label=f"r = {r:g} kpc")
    ax1.axvline(M_P_EV + T_TH_GEV * GEV_EV, color="0.5", lw=0.8, ls=":",
                label="pp threshold (no losses below)")
    ax1.set_xlabel("proton energy E [eV]")
    ax1.set_ylabel(r"$E^{2.7}\,j$ [eV$^{1.7}$ cm$^{-3}$]")
    ax1.set_title(f"CR proton density in the corona, t = {solution.t_gyr:g} Gyr, "
                  f"D0 = {solution.config.diffusion.D0_cm2_s:.2g} cm$^2$/s")
    _floor(ax1, [E ** 2.7 * solution.j_at(r) for r in radii_kpc])
    ax1.legend()

    r_sun = solution.config.observer.r_sun_kpc
    ax2.loglog(E, E ** 2.7 * solution.flux_at(r_sun), "k", label=f"model protons at r = {r_sun:g} kpc")
    for ref, style in (("H3a_all", "--"), ("H3a_protons", ":")):
        ax2.loglog(E, E ** 2.7 * reference_flux(E, ref), style, label=REFERENCE_LABELS[ref])
    for label, (Ek, flux, lo, hi) in kascade_points().items():
        ax2.errorbar(Ek, Ek ** 2.7 * flux, yerr=[Ek ** 2.7 * lo, Ek ** 2.7 * hi], fmt="x",
                     ms=4, label=label)
    if solution.normalization is not None:
        n = solution.normalization
        ax2.axvline(n.E_touch_eV, color="grey", lw=0.8,
                    label=f"normalised: touches {REFERENCE_LABELS.get(n.reference, n.reference)} "
                          f"at {n.E_touch_eV:.2g} eV")
    ax2.set_xlabel("total energy per particle E [eV]")
    ax2.set_ylabel(r"$E^{2.7}\,I$ [eV$^{1.7}$ cm$^{-2}$ s$^{-1}$ sr$^{-1}$]")
    ax2.set_title("flux at the Sun vs observed")
    _floor(ax2, [E ** 2.7 * reference_flux(E, "H3a_all")])
    ax2.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def plot_radial_profiles(solutions: dict, E_eV, path):
    """[C] Fig. 2: E j(E, r) at one energy for several solutions (label -> solution)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    shown = []
    for label, sol in solutions.items():
        Ej = E_eV * sol.j_at_energy(E_eV)
        shown.append(Ej[(sol.r_kpc >= 1.0) & (sol.r_kpc <= 1e3)])
        ax.loglog(sol.r_kpc, Ej, label=label)
    r_Q = next(iter(solutions.values())).config.source.r_Q_kpc
    ax.axvline(r_Q, color="grey", lw=0.8, ls=":", label=f"source radius r_Q = {r_Q:g} kpc")
    ax.set_xlim(1.0, 1e3)
    _floor(ax, shown, decades=4)
    ax.set_xlabel("galactocentric radius r [kpc]")
    ax.set_ylabel(r"$E\,j$ [cm$^{-3}$]")
    ax.set_title(f"CR proton density at E = {E_eV:.3g} eV")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


#: Radii of the corona emissivity figure [kpc] (the last just inside the 250 kpc gas edge).
EMISSION_RADII_KPC = (8.5, 20.0, 50.0, 100.0, 245.0)


def plot_corona_emission(gamma, nu, path, radii_kpc=EMISSION_RADII_KPC):
    """E^2 q(E, r) of corona photons and all-flavour neutrinos at several radii [C, eq. 6]
    (intrinsic emissivities, before any absorption)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    shown = []
    for ax, em, label in ((axes[0], gamma, "gamma rays"), (axes[1], nu, r"neutrinos (all flavours, $\nu + \bar\nu$)")):
        E = em.E_eV
        for r in radii_kpc:
            y = E ** 2 * em(E, r, 0.0, 0.0)
            shown.append(y)
            ax.loglog(E, y, label=f"r = {r:g} kpc")
        ax.set_xlabel("energy E [eV]")
        ax.set_title(f"corona {label}, {em.attrs.get('yields', '')} yields")
        ax.legend()
    axes[0].set_ylabel(r"$E^2\,q(E, r)$ [eV cm$^{-3}$ s$^{-1}$]")
    _floor(axes[0], shown, decades=8)
    fig.tight_layout()
    save_figure(fig, path)


def _floor(ax, curves, decades=6):
    """Limit the y-range to ``decades`` below the largest value of ``curves``."""
    top = max(float(np.nanmax(c)) for c in curves)
    ax.set_ylim(top / 10 ** decades, top * 3)
