"""Figures: pair-production survival (seed 000 Fig. 5), sky maps, the corona's spectra and
dipole (seed 004 Fig. 4-5) and the Galactic-plane fits (seed 000 Fig. 1-2)."""
from __future__ import annotations

import numpy as np
from montecarlo import observations as obs
from transport.cosmicrays.normalization import kascade_points

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


# --------------------------------------------------------------------------- sky figures
_EV_PER_GEV = 1e9
_E2_LABEL = r"$E^2 I$ [GeV cm$^{-2}$ s$^{-1}$ sr$^{-1}$]"


def _e2_gev(E_eV, intensity):
    """E^2 I in GeV cm^-2 s^-1 sr^-1 from E [eV] and I [cm^-2 s^-1 sr^-1 eV^-1]."""
    return np.asarray(E_eV) ** 2 * np.asarray(intensity) / _EV_PER_GEV


def _finish(fig, ax, path, xlabel, title):
    """Common axis labels, legend and saving of the E^2 I figures."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_E2_LABEL)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)


def _points(ax, pts, fmt, label, scale=1.0, **kw):
    y, lo, hi = (scale * v / _EV_PER_GEV for v in pts.e2())
    ok = ~pts.upper_limit
    ax.errorbar(pts.E_eV[ok], y[ok], yerr=[lo[ok], hi[ok]], fmt=fmt, label=label, **kw)
    if np.any(pts.upper_limit):
        ax.errorbar(pts.E_eV[~ok], y[~ok], yerr=0.3 * y[~ok], uplims=True, fmt=fmt, **kw)


def plot_sky_map(component, E_eV_all, E_eV, path):
    """Mollweide map (Galactic, centre at l = 0) of log10 E^2 I at the map energy nearest E_eV."""
    import healpy as hp
    plt = _pyplot()
    k = int(np.argmin(np.abs(np.log(np.asarray(E_eV_all) / E_eV))))
    values = np.log10(np.maximum(_e2_gev(E_eV_all[k], component.maps[k]), 1e-300))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # healpy's own matplotlib deprecations
        hp.mollview(values, coord="G", unit=r"log$_{10}$ $E^2 I$ [GeV cm$^{-2}$ s$^{-1}$ sr$^{-1}$]",
                    title=f"{component.model} {component.particle}, E = {E_eV_all[k]:.3g} eV"
                          + (f" (attenuated: {', '.join(component.attenuated_by)})"
                             if component.attenuated_by else ""))
        hp.graticule(dpar=30, dmer=60, alpha=0.3)
        fig = plt.gcf()
        fig.set_size_inches(9, 5)
        fig.savefig(path, dpi=110)
    plt.close(fig)


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
                            alpha=0.3, label=f"model band, {region}")
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
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_plane_neutrinos(fits, path):
    """Seed 000 Fig. 2: the all-sky-averaged all-flavour neutrino band of the four fitted cases
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
                    label="Tibet A photons -> all-sky nu ([T] eq. 7, 10), 4 cases" if k == 0 else None)
    _points(ax, obs.icecube_binned(), "s", "IceCube combined fit (all flavours)", color="k", ms=3)
    E_pl = np.geomspace(1e13, 3e15, 50)
    ax.plot(E_pl, _e2_gev(E_pl, obs.icecube_power_law(E_pl)), "k--", lw=1,
            label="IceCube cascades power law (x3 flavours)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(E[0], E[-1])
    ax.set_ylim(1e-11, 1e-6)
    _finish(fig, ax, path, "neutrino energy E [eV]", "Galactic-plane neutrinos (all flavours)")


def plot_corona_spectra(products, path, model="corona"):
    """Seed 004 Fig. 4: the corona's all-sky-averaged gamma-ray (attenuated) and all-flavour
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
                  label=f"Milky Way corona, {particle} (all-sky average)")
        if particle == "gamma":
            ax.loglog(E, _e2_gev(E, c.isotropic_part), ":", color="k",
                      label="corona gamma, isotropic part (faintest direction)")
    _points(ax, obs.icecube_binned(), "s", "IceCube (all flavours)", color="tab:blue", ms=3)
    _points(ax, obs.fermi_igrb(), "o", "Fermi-LAT IGRB (model A)", color="tab:red", ms=3)
    ax.set_ylim(1e-12, 1e-5)
    _finish(fig, ax, path, "energy E [eV]", "Milky Way corona: gamma rays and neutrinos")


def plot_dipole(products, path, model="corona"):
    """Seed 004 Fig. 5: dipole amplitude sqrt(3)|a_1|/a_00 and contrast versus energy."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    colours = {"gamma": "tab:red", "nu": "tab:blue", "nu_e": "tab:cyan", "nu_mu": "tab:purple",
               "nu_tau": "tab:green"}
    for (m, particle), c in products.components.items():
        if m != model:
            continue
        col = colours.get(particle, None)
        ax.semilogx(products.E_eV, c.dipole_amplitude, "-", color=col,
                    label=f"{particle}: A = sqrt(3)|a1|/a00")
        ax.semilogx(products.E_eV, c.contrast, "--", color=col,
                    label=f"{particle}: (Imax - Imin)/(Imax + Imin)")
    ax.set_xlabel("energy E [eV]")
    ax.set_ylabel("anisotropy")
    ax.set_title(f"dipole anisotropy of the {model} emission")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_extragalactic(products, path, title=""):
    """Seed 004 Fig. 4, 6, 7: Milky Way corona (dashed) and all galaxies (solid) gamma rays
    (red) and all-flavour neutrinos (blue), the gamma rays' isotropic part (black dotted: the
    corona's anticentre intensity plus the extragalactic one), IceCube, the Fermi-LAT IGRB and
    the KASCADE / KASCADE-Grande cosmic-ray flux."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 5.2))
    E, s = products.E_eV, products.spectra
    for particle, colour, name in (("gamma", "tab:red", "gamma"), ("nu", "tab:blue", "nu (all flavours)")):
        ax.loglog(E, _e2_gev(E, s[f"mw_{particle}_all_sky"]), "--", color=colour,
                  label=f"Milky Way corona, {name}")
        ax.loglog(E, _e2_gev(E, s[f"total_{particle}"]), "-", color=colour,
                  label=f"all galaxies incl. Milky Way, {name}")
    ax.loglog(E, _e2_gev(E, s["eg_gamma_cascade"]), "-.", color="tab:orange", lw=1,
              label="extragalactic gamma: cascade part")
    ax.loglog(E, _e2_gev(E, s["isotropic_gamma"]), ":", color="k", label="gamma, isotropic part")
    _points(ax, obs.icecube_binned(), "s", "IceCube (all flavours)", color="tab:blue", ms=3)
    _points(ax, obs.fermi_igrb(), "o", "Fermi-LAT IGRB (model A)", color="tab:red", ms=3)
    for k, (label, (Ek, flux, lo, hi)) in enumerate(kascade_points().items()):
        ax.errorbar(Ek, _e2_gev(Ek, flux), yerr=[_e2_gev(Ek, lo), _e2_gev(Ek, hi)], fmt="x",
                    color="0.4", ms=4, lw=0.8, label=label)
    ax.set_xlim(E[0], E[-1] * 10)
    ax.set_ylim(1e-12, 1e-4)
    _finish(fig, ax, path, "energy E [eV]", title or "coronae of all galaxies")


def plot_dipole_extragalactic(products, path, title=""):
    """Seed 004 Fig. 5 with the isotropic extragalactic intensity added: dipole amplitude
    3 <I mu> / <I> and contrast of the corona alone (dashed) and with it (solid)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    E, s = products.E_eV, products.spectra
    for particle, colour in (("gamma", "tab:red"), ("nu", "tab:blue")):
        ax.semilogx(E, s[f"dipole_{particle}_corona"], "--", color=colour,
                    label=f"{particle}: dipole, corona alone")
        ax.semilogx(E, s[f"dipole_{particle}_with_eg"], "-", color=colour,
                    label=f"{particle}: dipole, + extragalactic")
        ax.semilogx(E, s[f"contrast_{particle}_with_eg"], ":", color=colour,
                    label=f"{particle}: (Imax - Imin)/(Imax + Imin), + extragalactic")
    ax.set_xlabel("energy E [eV]")
    ax.set_ylabel("anisotropy")
    ax.set_title(title or "dipole anisotropy")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
