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

from montecarlo import observations
from montecarlo.galactic_plane.fitting import chi2_asymmetric, fit_normalization
from montecarlo.sky.analysis import get_region, region_intensity, region_solid_angle
from transport.emission.registry import build_emission
from transport.core.output import write_array


# --------------------------------------------------------------------------- [T] eq. 7, 10
def neutrino_from_gamma(E2_gamma_at_2E, attenuation_correction):
    """[T, eq. 7]: E_nu^2 Phi_nu(E_nu) = (3/2) E_g^2 Phi_g(E_g = 2 E_nu) x correction, where the
    correction = integral n / integral n P_surv(2 E_nu) over the region's lines of sight (see
    :func:`attenuation_correction`). Applied to a measured photon intensity it gives the
    neutrinos of the same pp emission."""
    return 1.5 * np.asarray(E2_gamma_at_2E, dtype=float) * np.asarray(attenuation_correction, dtype=float)


def attenuation_correction(emission, E_gamma_eV, region, fields=("cmb", "dust"), config=None):
    """[T, eq. 7] correction integral dOmega ds n / integral dOmega ds n P_surv(E_gamma) over a
    region: the unattenuated over the attenuated photon intensity of the model's emission."""
    unattenuated = region_intensity(emission, E_gamma_eV, region, (), config)
    return unattenuated / region_intensity(emission, E_gamma_eV, region, fields, config)


def extrapolate_flux(flux_observed, integral_target, integral_observed):
    """[T, eq. 10]: the flux from a target region from the flux measured in another one,
    scaled by the ratio of integral dOmega integral ds n P over the two regions (P = 1 for
    neutrinos). [T] eq. 11 writes the same ratio with region averages of n_CR, tau_pp, P."""
    return np.asarray(flux_observed, dtype=float) * (np.asarray(integral_target, dtype=float)
                                                    / np.asarray(integral_observed, dtype=float))


def column_integral(emission, E_eV, region, config=None):
    """integral dOmega integral ds q(E, x) / 4pi over a region [cm^-2 s^-1 eV^-1]: the region's
    unattenuated flux, proportional to its integral dOmega ds n for a separable model (over the
    unmasked sky of a region with a source mask)."""
    reg = get_region(region)
    return region_intensity(emission, E_eV, reg, (), config) * region_solid_angle(reg)


# --------------------------------------------------------------------------- the four cases
CASES = (("uniform", "A"), ("uniform", "B"), ("snr_tibet", "A"), ("snr_tibet", "B"))
#: Regions whose fitted spectra are kept: the data regions and the whole |b| < 5 deg plane.
PLANE_REGIONS = ("tibet_A", "tibet_B", "lhaaso_inner", "lhaaso_outer", "galactic_plane")


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
    #: neutrinos from the measured Tibet photons: region "A"/"B" or "all_sky" ->
    #: (E_nu_eV, intensity, err_lo, err_hi) by [T] eq. 7 (and eq. 10 for the whole sky)
    tibet_neutrinos: dict = field(default_factory=dict)

    @property
    def chi2_per_dof(self) -> float:
        return self.chi2 / self.dof


def tibet_points(last_bin_fraction: float = 0.6):
    """Tibet ASgamma regions A and B with the last bin's value and errors scaled [T, eq. 12]."""
    return {name: observations.tibet_asgamma(name).scaled(last_bin_fraction, last_only=True)
            for name in ("A", "B")}


def fit_case(cfg, distribution: str, spectrum: str, E_eV, fields=("cmb", "dust"),
             last_bin_fraction: float = 0.6) -> CaseFit:
    """Fit one case: model photon intensities in the Tibet regions at the data energies, the
    normalisation by [T] eq. 12, then on ``E_eV`` the fitted photon spectra and the model's
    neutrinos per region and over the whole sky; and the neutrinos implied by the measured
    photons through [T] eq. 7 (attenuation correction of this case's model) and eq. 10."""

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
    for region in PLANE_REGIONS:
        result.gamma[region] = fit.norm * region_intensity(gamma_em, E_table, region, fields, case_cfg)
        result.neutrino[region] = fit.norm * region_intensity(nu_em, E_table, region, (), case_cfg)
    result.neutrino["all_sky"] = fit.norm * region_intensity(nu_em, E_table, "all_sky", (), case_cfg)
    for name in ("inner", "outer"):
        pts = observations.lhaaso_km2a(name)
        m = fit.norm * region_intensity(gamma_em, pts.E_eV, pts.region, fields, case_cfg)
        result.lhaaso_chi2[name] = (chi2_asymmetric(m, pts.intensity, pts.err_lo, pts.err_hi),
                                    pts.E_eV.size)
    # [T] eq. 7 and 10 applied to the measured points (the last bin at full value)
    E_ref = np.array([1e14])
    all_sky_column = column_integral(nu_em, E_ref, "all_sky", case_cfg)[0]
    for name in ("A", "B"):
        pts = observations.tibet_asgamma(name)
        corr = attenuation_correction(gamma_em, pts.E_eV, pts.region, fields, case_cfg)
        E_nu = pts.E_eV / 2.0
        to_nu = lambda v: neutrino_from_gamma(pts.E_eV ** 2 * v, corr) / E_nu ** 2
        values = (to_nu(pts.intensity), to_nu(pts.err_lo), to_nu(pts.err_hi))
        result.tibet_neutrinos[name] = (E_nu, *values)
        ratio = all_sky_column / column_integral(nu_em, E_ref, pts.region, case_cfg)[0]
        region_sr = region_solid_angle(pts.region)
        result.tibet_neutrinos[f"all_sky_from_{name}"] = (
            E_nu, *(extrapolate_flux(v * region_sr, ratio, 1.0) / (4.0 * np.pi) for v in values))
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
        from_data = sub.require_group("nu_from_tibet")
        from_data.attrs["description"] = ("all-flavour neutrinos implied by the measured Tibet "
                                          "photons: [T] eq. 7 per region, eq. 10 for the sky")
        for name, (E_nu, values, err_lo, err_hi) in f.tibet_neutrinos.items():
            g = from_data.require_group(name)
            write_array(g, "E_eV", E_nu, "eV")
            write_array(g, "intensity", values, units)
            write_array(g, "err_lo", err_lo, units)
            write_array(g, "err_hi", err_hi, units)
