"""Figures: pair-production survival ([T] Fig. 5), sky maps, the corona's spectra and
dipole ([C] Fig. 4-5) and the Galactic-plane fits ([T] Fig. 1-2). Every figure is saved with
:func:`transport.plots.save_figure` (provenance in the PNG's text chunks)."""
from __future__ import annotations

import warnings

import numpy as np
from montecarlo import observations as obs
from transport.cosmicrays.normalization import kascade_points
from transport.plots import _pyplot, save_figure

#: [T] Fig. 5, right panel: energies of the distance curves [eV] (red, blue).
FIG5_ENERGIES_EV = (2e14, 1e15)
#: [T] Fig. 5 directions: the Galactic centre and (l, b) = (90, 0), both at 8.5 kpc.
FIG5_SOURCES = ((0.0, 0.0), (90.0, 0.0))
_STYLE = {"cmb": ":", "dust": "--"}
#: Legend and title names of the particles ("nu" = all flavours, nu + nubar; one flavour at
#: Earth after oscillations otherwise).
PARTICLE_NAMES = {"gamma": "gamma rays", "nu": "neutrinos, all flavours",
                  "nu_e": "electron neutrinos (per flavour)", "nu_mu": "muon neutrinos (per flavour)",
                  "nu_tau": "tau neutrinos (per flavour)"}
#: Legend names of the sky regions of the plane figures.
FIELD_NAMES = {"cmb": "CMB", "dust": "dust", "ebl": "EBL", "tabulated": "tabulated field"}
REGION_NAMES = {"tibet_A": "Tibet region A", "tibet_B": "Tibet region B",
                "lhaaso_inner": "LHAASO inner region", "lhaaso_outer": "LHAASO outer region"}


def particle_name(particle: str) -> str:
    return PARTICLE_NAMES.get(particle, particle)


def plot_survival(opacity, sources, fields, path, E_eV=None, max_distance_kpc=30.0):
    """[T] Fig. 5: P_surv versus energy (left) and versus distance (right).

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
    ax1.set_title(f"solid: {' + '.join(FIELD_NAMES.get(f, f) for f in fields)}"
                  + (", dotted: CMB, dashed: dust" if len(parts) > 1 else ""), fontsize=10)
    ax1.legend(fontsize=8, loc="lower left")
    dist = np.linspace(0.0, max_distance_kpc, 121)
    families = (("tab:red", "darkred"), ("tab:blue", "navy"))
    for k, (l, b, _) in enumerate(sources[:3]):
        for E0, family in zip(FIG5_ENERGIES_EV, families):
            for style, flds in parts:
                P = opacity.survival_probability(np.array([E0]), l, b, dist, flds)[:, 0]
                ax2.plot(dist, P, style, color=family[min(k, 1)], lw=(1.0, 2.5, 1.6)[k],
                         label=f"{energy_text(E0)}, l = {l:g}, b = {b:g}" if style == "-" else None)
    ax2.set_xlabel("distance of the source from the Sun [kpc]")
    ax2.set_ylabel(r"$P_{\rm surv}$")
    ax2.set_ylim(0.0, 1.02)
    ax2.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    save_figure(fig, path)


# --------------------------------------------------------------------------- sky figures
_EV_PER_GEV = 1e9
_E2_LABEL = r"$E^2 I$ [GeV cm$^{-2}$ s$^{-1}$ sr$^{-1}$]"


def _e2_gev(E_eV, intensity):
    """E^2 I in GeV cm^-2 s^-1 sr^-1 from E [eV] and I [cm^-2 s^-1 sr^-1 eV^-1]."""
    return np.asarray(E_eV) ** 2 * np.asarray(intensity) / _EV_PER_GEV


def _finish(fig, ax, path, xlabel, title, legend_outside=False):
    """Common axis labels, legend (beside the axes with ``legend_outside``) and saving of the
    E^2 I figures."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_E2_LABEL)
    ax.set_title(title, fontsize=10)
    if legend_outside:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def _points(ax, pts, fmt, label, scale=1.0, **kw):
    y, lo, hi = (scale * v / _EV_PER_GEV for v in pts.e2())
    ok = ~pts.upper_limit
    ax.errorbar(pts.E_eV[ok], y[ok], yerr=[lo[ok], hi[ok]], fmt=fmt, label=label, **kw)
    if np.any(pts.upper_limit):
        ax.errorbar(pts.E_eV[~ok], y[~ok], yerr=0.3 * y[~ok], uplims=True, fmt=fmt, **kw)


def energy_text(E_eV: float) -> str:
    """An energy in the largest unit (eV ... EeV) that keeps it >= 1: "1 TeV", "2.5 PeV"."""
    units = ("eV", "keV", "MeV", "GeV", "TeV", "PeV", "EeV")
    k = int(np.clip(np.floor(np.log10(E_eV) / 3 + 1e-9), 0, len(units) - 1))
    return f"{E_eV / 10 ** (3 * k):.3g} {units[k]}"


def colour_ticks(lo: float, hi: float, n: int = 6) -> list:
    """Round tick values inside [lo, hi] for a colour bar (at least the two ends)."""
    from matplotlib.ticker import MaxNLocator
    ticks = [t for t in MaxNLocator(n).tick_values(lo, hi) if lo - 1e-9 <= t <= hi + 1e-9]
    return ticks if len(ticks) >= 2 else [lo, hi]


def plot_sky_map(component, E_eV_all, E_eV, path, decades: float = 4.0):
    """Mollweide map (Galactic, centre at l = 0, longitude increasing to the left) of
    log10 E^2 I at the map energy nearest E_eV, with a labelled graticule and a colour bar with
    round ticks; the colour scale spans at most ``decades`` below the brightest pixel."""
    import healpy as hp
    plt = _pyplot()
    k = int(np.argmin(np.abs(np.log(np.asarray(E_eV_all) / E_eV))))
    values = np.log10(np.maximum(_e2_gev(E_eV_all[k], component.maps[k]), 1e-300))
    hi = float(values.max())
    lo = max(float(values.min()), hi - decades)
    title = (f"{component.model}: {particle_name(component.particle)} at {energy_text(E_eV_all[k])}"
             + (f" (attenuated by {', '.join(FIELD_NAMES.get(f, f) for f in component.attenuated_by)})"
                if component.attenuated_by else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # healpy's own matplotlib deprecations
        hp.projview(values, coord="G", projection_type="mollweide", graticule=True,
                    graticule_labels=True, longitude_grid_spacing=60, latitude_grid_spacing=30,
                    min=lo, max=hi, cbar_ticks=colour_ticks(lo, hi), format="%.1f",
                    unit=r"log$_{10}$ $E^2 I$ [GeV cm$^{-2}$ s$^{-1}$ sr$^{-1}$]", title=title,
                    xlabel="Galactic longitude l", ylabel="Galactic latitude b",
                    cb_orientation="horizontal", fontsize={"title": 11, "xlabel": 9, "ylabel": 9,
                                                           "xtick_label": 8, "ytick_label": 8,
                                                           "cbar_label": 9, "cbar_tick_label": 8},
                    override_plot_properties={"figure_width": 8.0, "figure_size_ratio": 0.6,
                                              "cbar_shrink": 0.6, "cbar_pad": 0.06})
        save_figure(plt.gcf(), path, dpi=100)


def plot_region_spectra(fits, path, last_bin_fraction=0.6):
    """[T] Fig. 1: Tibet ASgamma regions A and B (last bin faint: its 60 % used in the fit)
    with the band of the four fitted cases; and LHAASO-KM2A inner/outer with the same models
    averaged over the same unmasked sky as the data (the regions carry LHAASO's source mask,
    docs/sky.md)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    panels = [(axes[0], [("tibet_A", obs.tibet_asgamma("A"), "tab:red"),
                         ("tibet_B", obs.tibet_asgamma("B"), "tab:orange")], "Tibet ASgamma"),
              (axes[1], [("lhaaso_inner", obs.lhaaso_km2a("inner"), "tab:blue"),
                         ("lhaaso_outer", obs.lhaaso_km2a("outer"), "tab:green")],
               "LHAASO-KM2A, source mask on model and data")]
    for ax, sets, title in panels:
        for region, pts, colour in sets:
            curves = np.array([_e2_gev(f.E_eV, f.gamma[region]) for f in fits])
            ax.fill_between(fits[0].E_eV, curves.min(axis=0), curves.max(axis=0), color=colour,
                            alpha=0.3, label=f"[T] models (4 cases), {REGION_NAMES.get(region, region)}")
            _points(ax, pts, "o", pts.label, color=colour, ms=4)
            if title.startswith("Tibet"):
                scaled = pts.scaled(last_bin_fraction, last_only=True)
                y = scaled.e2()[0][-1] / _EV_PER_GEV
                ax.plot(scaled.E_eV[-1], y, "o", color=colour, alpha=0.4, ms=4)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(5e12, 3e15)
        ax.set_xlabel("photon energy E [eV]")
        ax.set_ylabel(_E2_LABEL)
        ax.set_title(f"Galactic plane |b| < 5 deg vs {title}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def plot_plane_neutrinos(fits, path):
    """[T] Fig. 2: the all-sky-averaged all-flavour neutrino band of the four fitted cases
    against IceCube (binned points and the cascade power law, all flavours)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    E = fits[0].E_eV
    allsky = np.array([_e2_gev(E, f.neutrino["all_sky"]) for f in fits])
    plane = np.array([_e2_gev(E, f.neutrino["galactic_plane"]) for f in fits])
    ax.fill_between(E, allsky.min(axis=0), allsky.max(axis=0), color="tab:blue", alpha=0.4,
                    label="Galactic plane, all-sky average (4 cases)")
    ax.fill_between(E, plane.min(axis=0), plane.max(axis=0), color="grey", alpha=0.3, hatch="//",
                    label="Galactic plane, averaged over |b| < 5 deg")
    for k, f in enumerate(fits):
        E_nu, v, lo, hi = f.tibet_neutrinos["all_sky_from_A"]
        ax.errorbar(E_nu * (1 + 0.03 * k), _e2_gev(E_nu, v), yerr=[_e2_gev(E_nu, lo), _e2_gev(E_nu, hi)],
                    fmt="D", color="tab:purple", ms=3, alpha=0.7,
                    label="from Tibet A photons, all-sky, all flavours ([T] eq. 7, 10), 4 cases"
                    if k == 0 else None)
    _points(ax, obs.icecube_binned(), "s", "IceCube combined fit (all flavours)", color="k", ms=3)
    E_pl = np.geomspace(1e13, 3e15, 50)
    ax.plot(E_pl, _e2_gev(E_pl, obs.icecube_power_law(E_pl)), "k--", lw=1,
            label="IceCube cascades power law (all flavours = 3 x per flavour)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(E[0], E[-1])
    ax.set_ylim(1e-11, 1e-6)
    _finish(fig, ax, path, "neutrino energy E [eV]", "Galactic-plane neutrinos (all flavours)")


def plot_corona_spectra(products, path, model="corona"):
    """[C] Fig. 4: the corona's all-sky-averaged gamma-ray (attenuated) and all-flavour
    neutrino spectra with the gamma rays' isotropic part (faintest direction), against the
    IceCube astrophysical neutrinos and the Fermi-LAT isotropic background."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    E = products.E_eV
    styles = {"gamma": "tab:red", "nu": "tab:blue"}
    for (m, particle), c in products.components.items():
        if m != model or particle not in styles:
            continue
        ax.loglog(E, _e2_gev(E, c.all_sky), "--", color=styles[particle],
                  label=f"Milky Way corona: {particle_name(particle)} (all-sky average)")
        if particle == "gamma":
            ax.loglog(E, _e2_gev(E, c.isotropic_part), ":", color="k",
                      label="corona gamma rays, isotropic part (faintest direction)")
    _points(ax, obs.icecube_binned(), "s", "IceCube astrophysical neutrinos (all flavours)",
            color="tab:blue", ms=3)
    _points(ax, obs.fermi_igrb(), "o", "Fermi-LAT IGRB (model A)", color="tab:red", ms=3)
    ax.set_ylim(1e-12, 1e-5)
    _finish(fig, ax, path, "energy E [eV]", "Milky Way corona: gamma rays and neutrinos")


def plot_dipole(products, path, model="corona"):
    """[C] Fig. 5: dipole amplitude sqrt(3)|a_1|/a_00 and contrast versus energy."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    colours = {"gamma": "tab:red", "nu": "tab:blue", "nu_e": "tab:cyan", "nu_mu": "tab:purple",
               "nu_tau": "tab:green"}
    for (m, particle), c in products.components.items():
        if m != model:
            continue
        col = colours.get(particle, None)
        ax.semilogx(products.E_eV, c.dipole_amplitude, "-", color=col,
                    label=rf"{particle_name(particle)}: dipole $A = \sqrt{{3}}\,|a_1|/a_{{00}}$")
        ax.semilogx(products.E_eV, c.contrast, "--", color=col,
                    label=rf"{particle_name(particle)}: contrast $(I_{{max}} - I_{{min}})/(I_{{max}} + I_{{min}})$")
    ax.set_xlabel("energy E [eV]")
    ax.set_ylabel("anisotropy")
    ax.set_title(f"dipole anisotropy of the {model} emission")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def plot_extragalactic(products, path, title=""):
    """[C] Fig. 4, 6, 7: Milky Way corona (dashed) and all galaxies (solid) gamma rays
    (red) and all-flavour neutrinos (blue), the gamma rays' isotropic part (black dotted: the
    corona's anticentre intensity plus the extragalactic one), IceCube, the Fermi-LAT IGRB and
    the KASCADE / KASCADE-Grande cosmic-ray flux."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10.5, 5.2))
    E, s = products.E_eV, products.spectra
    for particle, colour in (("gamma", "tab:red"), ("nu", "tab:blue")):
        name = particle_name(particle)
        ax.loglog(E, _e2_gev(E, s[f"mw_{particle}_all_sky"]), "--", color=colour,
                  label=f"Milky Way corona: {name}")
        ax.loglog(E, _e2_gev(E, s[f"total_{particle}"]), "-", color=colour,
                  label=f"all galaxies incl. the Milky Way: {name}")
    ax.loglog(E, _e2_gev(E, s["eg_gamma_cascade"]), "-.", color="tab:orange", lw=1,
              label="extragalactic gamma rays: cascade part")
    ax.loglog(E, _e2_gev(E, s["isotropic_gamma"]), ":", color="k", label="gamma rays, isotropic part")
    _points(ax, obs.icecube_binned(), "s", "IceCube astrophysical neutrinos (all flavours)",
            color="tab:blue", ms=3)
    _points(ax, obs.fermi_igrb(), "o", "Fermi-LAT IGRB (model A)", color="tab:red", ms=3)
    for k, (label, (Ek, flux, lo, hi)) in enumerate(kascade_points().items()):
        ax.errorbar(Ek, _e2_gev(Ek, flux), yerr=[_e2_gev(Ek, lo), _e2_gev(Ek, hi)], fmt="x",
                    color="0.4", ms=4, lw=0.8, label=label)
    ax.set_xlim(E[0], E[-1] * 10)
    ax.set_ylim(1e-12, 1e-4)
    _finish(fig, ax, path, "energy E [eV]", title or "coronae of all galaxies", legend_outside=True)


def plot_dipole_extragalactic(products, path, title=""):
    """[C] Fig. 5 with the isotropic extragalactic intensity added: dipole amplitude
    3 <I mu> / <I> and contrast of the corona alone (dashed) and with it (solid)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    E, s = products.E_eV, products.spectra
    for particle, colour in (("gamma", "tab:red"), ("nu", "tab:blue")):
        name = particle_name(particle)
        ax.semilogx(E, s[f"dipole_{particle}_corona"], "--", color=colour,
                    label=f"{name}: dipole A, corona alone")
        ax.semilogx(E, s[f"dipole_{particle}_with_eg"], "-", color=colour,
                    label=f"{name}: dipole A, + extragalactic")
        ax.semilogx(E, s[f"contrast_{particle}_with_eg"], ":", color=colour,
                    label=f"{name}: contrast, + extragalactic")
    ax.set_xlabel("energy E [eV]")
    ax.set_ylabel(r"anisotropy ($A = \sqrt{3}\,|a_1|/a_{00}$; contrast $(I_{max} - I_{min})/(I_{max} + I_{min})$)",
                  fontsize=8)
    ax.set_title(title or "dipole anisotropy")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
