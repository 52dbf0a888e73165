"""Galactic-plane gamma rays and neutrinos against Tibet ASgamma and LHAASO [T, eq. 5-12].

The four cases of [T]: CR x gas distributed as a uniform disk ([T] eq. 8) or like SNRs
([T] eq. 9) times the all-flavour neutrino spectrum A or B ([T] App. B, eq. B7, B8), photons
through [T] eq. 1. For each case the photon intensity averaged over the Tibet regions A and B
(attenuated by pair production on the CMB and the dust) is fitted to the Tibet ASgamma points
with one free normalisation and the asymmetric-error chi^2 of [T] eq. 12 (the last bin at
60 % of its value and errors, because ~40 % of its events lie near the Cygnus Cocoon). The fit
fixes the neutrino intensities: per region through [T] eq. 7 and over the whole sky through
[T] eq. 10.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import observations
from .fitting import chi2_asymmetric, fit_normalization
from .lineofsight import intensity
from .sky import get_region


# --------------------------------------------------------------------------- region averages
def region_intensity(emission, E_eV, region, fields=("cmb", "dust"), config=None,
                     n_b: int = 8, l_panel_deg: float = 5.0) -> np.ndarray:
    """Intensity averaged over a sky region [cm^-2 s^-1 sr^-1 eV^-1], shape (n_E,):

        <I> = (1 / Delta Omega) integral dl integral cos b db I(E, l, b)

    by Gauss-Legendre quadrature in sin b on each side of b = 0 (the thin disk makes a cusp
    there; ``n_b`` nodes per side) and 4-point panels of at most ``l_panel_deg`` in l.
    """
    reg = get_region(region)
    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    gx, gw = np.polynomial.legendre.leggauss(4)
    n_l = max(1, int(np.ceil(reg.l_width_deg / l_panel_deg)))
    dl = reg.l_width_deg / n_l
    l_nodes = (reg.l_min_deg + dl * (np.arange(n_l)[:, None] + 0.5 * (gx[None, :] + 1.0))).ravel()
    l_weights = np.tile(0.5 * np.radians(dl) * gw, n_l)
    bx, bw = np.polynomial.legendre.leggauss(n_b)
    s_lo, s_hi = np.sin(np.radians(reg.b_min_deg)), np.sin(np.radians(reg.b_max_deg))
    pieces = [(s_lo, min(s_hi, 0.0)), (max(s_lo, 0.0), s_hi)]
    sin_b, sin_w = [], []
    for a, b in pieces:
        if b > a:
            sin_b.append(0.5 * (b - a) * (bx + 1.0) + a)
            sin_w.append(0.5 * (b - a) * bw)
    sin_b, sin_w = np.concatenate(sin_b), np.concatenate(sin_w)
    L, S = np.meshgrid(l_nodes, sin_b, indexing="ij")
    W = l_weights[:, None] * sin_w[None, :]
    I = intensity(emission, E, L.ravel(), np.degrees(np.arcsin(S.ravel())), fields=fields,
                  config=config)
    return (I @ W.ravel()) / reg.solid_angle_sr


# --------------------------------------------------------------------------- [T] eq. 7, 10
def neutrino_from_gamma(E2_gamma_at_2E, attenuation_correction):
    """[T, eq. 7]: E_nu^2 Phi_nu(E_nu) = (3/2) E_g^2 Phi_g(E_g = 2 E_nu) x correction, where the
    correction = integral n / integral n P_surv(2 E_nu) over the region's lines of sight (the
    unattenuated over the attenuated photon intensity of the same spatial model)."""
    return 1.5 * np.asarray(E2_gamma_at_2E, dtype=float) * np.asarray(attenuation_correction, dtype=float)


def extrapolate_flux(flux_observed, integral_target, integral_observed):
    """[T, eq. 10]: the flux from a target region from the flux measured in another one,
    scaled by the ratio of integral dOmega integral ds n P over the two regions (P = 1 for
    neutrinos)."""
    return np.asarray(flux_observed, dtype=float) * (np.asarray(integral_target, dtype=float)
                                                    / np.asarray(integral_observed, dtype=float))


# --------------------------------------------------------------------------- the four cases
CASES = (("uniform", "A"), ("uniform", "B"), ("snr_tibet", "A"), ("snr_tibet", "B"))


@dataclass
class CaseFit:
    """One [T] case fitted to Tibet ASgamma (intensities in cm^-2 s^-1 sr^-1 eV^-1)."""
    distribution: str
    spectrum: str
    norm: float
    chi2: float
    dof: int
    E_eV: np.ndarray                           # model energy grid of the spectra below
    gamma: dict = field(default_factory=dict)  # region -> fitted attenuated photon intensity
    neutrino: dict = field(default_factory=dict)  # region or "all_sky" -> all-flavour intensity
    lhaaso_chi2: dict = field(default_factory=dict)  # "inner"/"outer" -> (chi2, n_points)

    @property
    def chi2_per_dof(self) -> float:
        return self.chi2 / self.dof


def tibet_points(last_bin_fraction: float = 0.6):
    """Tibet ASgamma regions A and B with the last bin's value and errors scaled [T, eq. 12]."""
    return {name: observations.tibet_asgamma(name).scaled(last_bin_fraction, last_only=True)
            for name in ("A", "B")}


def fit_case(cfg, distribution: str, spectrum: str, E_eV, fields=("cmb", "dust"),
             last_bin_fraction: float = 0.6, nside_all_sky: int = 32) -> CaseFit:
    """Fit one case: model photon intensities in the Tibet regions at the data energies, the
    normalisation by [T] eq. 12, then the fitted spectra on ``E_eV`` and the neutrinos."""
    from transport.emission_models import build_emission

    case_cfg = cfg.with_overrides({"disk.distribution": distribution, "disk.spectrum": spectrum})
    E_table = np.asarray(E_eV, dtype=float)
    gamma_em = build_emission(case_cfg, "disk", "gamma", None, E_table)
    nu_em = build_emission(case_cfg, "disk", "nu", None, E_table)
    data = tibet_points(last_bin_fraction)
    model = np.concatenate([region_intensity(gamma_em, pts.E_eV, pts.region, fields, case_cfg)
                            for pts in data.values()])
    measured = np.concatenate([pts.intensity for pts in data.values()])
    err_lo = np.concatenate([pts.err_lo for pts in data.values()])
    err_hi = np.concatenate([pts.err_hi for pts in data.values()])
    fit = fit_normalization(model, measured, err_lo, err_hi)

    result = CaseFit(distribution, spectrum, fit.norm, fit.chi2, fit.dof, E_table)
    regions = {"tibet_A", "tibet_B", "lhaaso_inner", "lhaaso_outer"}
    for region in sorted(regions):
        result.gamma[region] = fit.norm * region_intensity(gamma_em, E_table, region, fields, case_cfg)
        result.neutrino[region] = fit.norm * region_intensity(nu_em, E_table, region, (), case_cfg)
    from .sky import all_sky_average, pixel_directions
    l_deg, b_deg = pixel_directions(nside_all_sky)
    result.neutrino["all_sky"] = fit.norm * all_sky_average(
        intensity(nu_em, E_table, l_deg, b_deg, fields=(), config=case_cfg))
    for name in ("inner", "outer"):
        pts = observations.lhaaso_km2a(name)
        m = fit.norm * region_intensity(gamma_em, pts.E_eV, pts.region, fields, case_cfg)
        result.lhaaso_chi2[name] = (chi2_asymmetric(m, pts.intensity, pts.err_lo, pts.err_hi),
                                    pts.E_eV.size)
    return result


def fit_all_cases(cfg, E_eV, fields=("cmb", "dust"), last_bin_fraction: float = 0.6,
                  cases=CASES, progress: bool = False) -> list[CaseFit]:
    """The four [T] cases (uniform / SNR x spectrum A / B)."""
    from tqdm.auto import tqdm
    return [fit_case(cfg, d, s, E_eV, fields, last_bin_fraction)
            for d, s in tqdm(cases, desc="Galactic-plane fits", disable=not progress, leave=False)]


def write_fits(fh, fits, last_bin_fraction: float) -> None:
    """/galactic_plane/<distribution>_<spectrum>: norm, chi2, dof (attributes) and the fitted
    photon and neutrino intensities per region (and the all-sky neutrino average)."""
    from transport.output import write_array

    units = "cm^-2 s^-1 sr^-1 eV^-1"
    group = fh.require_group("galactic_plane")
    group.attrs["description"] = ("[T] cases fitted to Tibet ASgamma regions A and B with the "
                                  "asymmetric-error chi^2 of [T] eq. 12")
    group.attrs["last_bin_fraction"] = last_bin_fraction
    for f in fits:
        sub = group.require_group(f"{f.distribution}_{f.spectrum}")
        sub.attrs.update({"distribution": f.distribution, "spectrum": f.spectrum,
                          "norm": f.norm, "chi2": f.chi2, "dof": f.dof,
                          "chi2_per_dof": f.chi2_per_dof})
        for name, (chi2, n) in f.lhaaso_chi2.items():
            sub.attrs[f"lhaaso_{name}_chi2"] = chi2
            sub.attrs[f"lhaaso_{name}_points"] = n
        write_array(sub, "E_eV", f.E_eV, "eV")
        for region, values in f.gamma.items():
            write_array(sub.require_group("gamma"), region, values, units,
                        "fitted photon intensity averaged over the region (attenuated)")
        for region, values in f.neutrino.items():
            write_array(sub.require_group("nu"), region, values, units,
                        "all-flavour neutrino intensity averaged over the region")
