"""Figures of the cosmic-ray solution (seed 004 Fig. 2 and 3 and the normalisation) and of the
corona emissivity."""
from __future__ import annotations

import numpy as np

from transport.cosmicrays.normalization import kascade_points, reference_flux

#: Radii of the seed's Fig. 3 style spectra [kpc].
SPECTRUM_RADII_KPC = (8.5, 20.0, 50.0, 100.0, 250.0)


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_spectra(solution, path, radii_kpc=SPECTRUM_RADII_KPC):
    """Seed 004 Fig. 3: E^2.7 j(E) at several radii, and the flux at the Sun against data."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    E = solution.E_eV
    for r in radii_kpc:
        ax1.loglog(E, E ** 2.7 * solution.j_at(r), label=f"r = {r:g} kpc")
    ax1.set_xlabel("proton energy E [eV]")
    ax1.set_ylabel(r"$E^{2.7}\,j$ [eV$^{1.7}$ cm$^{-3}$]")
    ax1.set_title(f"CR density in the corona, t = {solution.t_gyr:g} Gyr, "
                  f"D0 = {solution.config.diffusion.D0_cm2_s:.2g} cm$^2$/s")
    _floor(ax1, [E ** 2.7 * solution.j_at(r) for r in radii_kpc])
    ax1.legend()

    r_sun = solution.config.observer.r_sun_kpc
    ax2.loglog(E, E ** 2.7 * solution.flux_at(r_sun), "k", label=f"model at r = {r_sun:g} kpc")
    for ref, style in (("H3a_all", "--"), ("H3a_protons", ":")):
        ax2.loglog(E, E ** 2.7 * reference_flux(E, ref), style, label=f"Gaisser {ref}")
    for label, (Ek, flux, lo, hi) in kascade_points().items():
        ax2.errorbar(Ek, Ek ** 2.7 * flux, yerr=[Ek ** 2.7 * lo, Ek ** 2.7 * hi], fmt="x",
                     ms=4, label=label)
    if solution.normalization is not None:
        ax2.axvline(solution.normalization.E_touch_eV, color="grey", lw=0.8)
    ax2.set_xlabel("total energy per particle E [eV]")
    ax2.set_ylabel(r"$E^{2.7}\,I$ [eV$^{1.7}$ cm$^{-2}$ s$^{-1}$ sr$^{-1}$]")
    ax2.set_title("flux at the Sun vs observed")
    _floor(ax2, [E ** 2.7 * reference_flux(E, "H3a_all")])
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_radial_profiles(solutions: dict, E_eV, path):
    """Seed 004 Fig. 2: E j(E, r) at one energy for several solutions (label -> solution)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    shown = []
    for label, sol in solutions.items():
        Ej = E_eV * sol.j_at_energy(E_eV)
        shown.append(Ej[(sol.r_kpc >= 1.0) & (sol.r_kpc <= 1e3)])
        ax.loglog(sol.r_kpc, Ej, label=label)
    ax.axvline(next(iter(solutions.values())).config.source.r_Q_kpc, color="grey", lw=0.8, ls=":")
    ax.set_xlim(1.0, 1e3)
    _floor(ax, shown, decades=4)
    ax.set_xlabel("galactocentric radius r [kpc]")
    ax.set_ylabel(r"$E\,j$ [cm$^{-3}$]")
    ax.set_title(f"CR density at E = {E_eV:.3g} eV")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _floor(ax, curves, decades=6):
    """Limit the y-range to ``decades`` below the largest value of ``curves``."""
    top = max(float(np.nanmax(c)) for c in curves)
    ax.set_ylim(top / 10 ** decades, top * 3)
