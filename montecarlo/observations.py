"""Observational points shipped in ``inputs/observations/``, converted to common units.

Every spectrum loader returns :class:`SpectralPoints` with energies in eV and intensities in
cm^-2 s^-1 sr^-1 eV^-1 (the per-energy intensity I(E), not E^2 I); the IceCube Galactic-plane
template fits are :class:`TemplateFit`. The files state their sources; ``inputs/README.md`` lists
them. A data set's ``region`` names the sky region (montecarlo.sky.analysis.REGIONS) it is
defined on, source mask included: average models over that region.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from transport.core.data import input_path, load_csv_rows, load_table
from transport.core.errors import ConfigError, DataFileError

_TEV = 1e12
_GEV = 1e9


@dataclass(frozen=True)
class SpectralPoints:
    """Measured intensity I(E) [cm^-2 s^-1 sr^-1 eV^-1] at E_eV with 1-sigma errors.

    upper_limit marks points that are upper limits (then ``intensity`` is the limit).
    E_lo_eV / E_hi_eV: bin edges where known (else equal to E_eV).
    """
    label: str
    particle: str
    region: str
    E_eV: np.ndarray
    intensity: np.ndarray
    err_lo: np.ndarray
    err_hi: np.ndarray
    E_lo_eV: np.ndarray
    E_hi_eV: np.ndarray
    upper_limit: np.ndarray = field(default=None)
    source: str = ""

    def __post_init__(self):
        if self.upper_limit is None:
            object.__setattr__(self, "upper_limit", np.zeros(self.E_eV.shape, dtype=bool))

    def e2(self):
        """(E^2 I, E^2 err_lo, E^2 err_hi) [eV cm^-2 s^-1 sr^-1]."""
        E2 = self.E_eV ** 2
        return E2 * self.intensity, E2 * self.err_lo, E2 * self.err_hi

    def scaled(self, factor: float, last_only: bool = False) -> "SpectralPoints":
        """Copy with intensity and errors multiplied by ``factor`` (all points or the last)."""
        f = np.ones(self.E_eV.size)
        f[-1 if last_only else slice(None)] = factor
        return SpectralPoints(self.label, self.particle, self.region, self.E_eV, self.intensity * f,
                              self.err_lo * f, self.err_hi * f, self.E_lo_eV, self.E_hi_eV,
                              self.upper_limit, self.source)


TIBET_REGIONS = {"A": "tibet_A", "B": "tibet_B"}
LHAASO_REGIONS = {"inner": "lhaaso_inner", "outer": "lhaaso_outer"}


def tibet_asgamma(region: str = "A") -> SpectralPoints:
    """Tibet ASgamma 2021 diffuse gamma rays (PRL 126, 141101), region "A" (25 < l < 100) or
    "B" (50 < l < 200), |b| < 5 deg. Digitised points (see the file header); statistical errors."""
    if region not in TIBET_REGIONS:
        raise ConfigError(f"Tibet ASgamma region {region!r} is not known: expected 'A' or 'B'")
    Emin, Emax, E, flux, lo, hi = load_table(f"observations/tibet_asgamma_2021_region{region}.txt", 6).T
    k = 1.0 / _TEV
    return SpectralPoints(f"Tibet ASgamma 2021 region {region}", "gamma", TIBET_REGIONS[region],
                          E * _TEV, flux * k, lo * k, hi * k, Emin * _TEV, Emax * _TEV,
                          source="Amenomori et al., PRL 126, 141101 (2021), digitised")


def lhaaso_km2a(region: str = "inner", include_systematic: bool = True) -> SpectralPoints:
    """LHAASO-KM2A 2023 diffuse gamma rays (PRL 131, 151001), "inner" (15 < l < 125) or "outer"
    (125 < l < 235), |b| < 5 deg, outside the LHAASO source mask: the regions "lhaaso_inner" /
    "lhaaso_outer" carry it (docs/sky.md). Errors: statistical, plus the systematic one in
    quadrature when ``include_systematic``."""
    if region not in LHAASO_REGIONS:
        raise ConfigError(f"LHAASO region {region!r} is not known: expected 'inner' or 'outer'")
    lg_lo, lg_hi, E, phi, st_lo, st_hi, sys = load_table(f"observations/lhaaso_km2a_2023_{region}.txt", 7).T
    k = 1.0 / _TEV
    sys = sys if include_systematic else 0.0 * sys
    return SpectralPoints(f"LHAASO-KM2A 2023 {region}", "gamma", LHAASO_REGIONS[region], E * _TEV,
                          phi * k, np.hypot(st_lo, sys) * k, np.hypot(st_hi, sys) * k,
                          10 ** lg_lo * _TEV, 10 ** lg_hi * _TEV,
                          source="Cao et al., PRL 131, 151001 (2023), Supplementary Tables S2/S3")


def icecube_binned(all_flavour: bool = True) -> SpectralPoints:
    """IceCube combined-fit astrophysical neutrino intensity, binned (segmented) unfolding.

    The file gives E^2 Phi per flavour in 1e-8 GeV cm^-2 s^-1 sr^-1; ``all_flavour`` multiplies by 3
    (flavour equipartition). Bins with central = lower = 0 are upper limits."""
    table = np.loadtxt(input_path("observations/icecube_combinedfit_binned.csv"), delimiter=",", comments="#", ndmin=2)
    E, E_lo, E_hi, central, lower, upper = table.T
    limit = (central == 0) & (lower == 0)
    value = np.where(limit, upper, central)
    scale = (3.0 if all_flavour else 1.0) * 1e-8 / E ** 2 / _GEV      # GeV cm^-2 -> per eV
    return SpectralPoints("IceCube combined fit" + (" (all flavours)" if all_flavour else " (per flavour)"),
                          "nu" if all_flavour else "nu_per_flavour", "all_sky", E * _GEV, value * scale,
                          np.where(limit, 0.0, central - lower) * scale,
                          np.where(limit, 0.0, upper - central) * scale, E_lo * _GEV, E_hi * _GEV,
                          limit, source="IceCube combined fit, doi:10.7910/DVN/ZBO52I")


def icecube_power_law(E_eV, all_flavour: bool = True) -> np.ndarray:
    """IceCube 6-year cascades power law [cm^-2 s^-1 sr^-1 eV^-1] (PRL 125, 121104; quoted in [L]):
    1.66e-18 (E / 100 TeV)^-2.53 GeV^-1 cm^-2 s^-1 sr^-1 per flavour; x3 for all flavours."""
    E0_tev, phi0, _, _, gamma, _ = load_table("observations/icecube_cascades_2020_powerlaw.txt", 6)[0]
    per_flavour = phi0 / _GEV * (np.asarray(E_eV, dtype=float) / (E0_tev * _TEV)) ** -gamma
    return per_flavour * (3.0 if all_flavour else 1.0)


@dataclass(frozen=True)
class TemplateFit:
    """IceCube's best-fitting normalisation of one Galactic-plane template (Science 380, 1338,
    Table 1), as published: ``value`` (+err_hi, -err_lo) in ``unit``; the pi0 template's value is
    E^2 dN/dE at E0_eV of the per-flavour (nu + nubar) flux integrated over the whole sky
    [1e-12 TeV cm^-2 s^-1], with a power law of ``spectral_index``; the KRA-gamma values are
    multiples of the template's own model flux (E0_eV and spectral_index NaN)."""
    template: str
    E0_eV: float
    value: float
    err_lo: float
    err_hi: float
    unit: str
    spectral_index: float
    pretrial_sigma: float
    source: str = "IceCube Collaboration, Science 380, 1338 (2023), Table 1"

    def intensity(self, E_eV, all_flavour: bool = True, scale: float = 1.0) -> np.ndarray:
        """Sky-averaged intensity [cm^-2 s^-1 sr^-1 eV^-1] of the fitted power law (pi0 template
        only): (value x scale) (E/E0)^-index / E^2 / 4 pi, x3 for all flavours. ``scale`` = 1 for
        the best fit, 1 + err_hi/value or 1 - err_lo/value for the 1-sigma band."""
        if not np.isfinite(self.spectral_index):
            raise ConfigError(f"IceCube template {self.template!r} is a multiple of its model flux "
                              "(not shipped): no spectrum to evaluate; only 'pi0' has one")
        if self.unit != "1e-12 TeV cm^-2 s^-1":
            raise DataFileError(f"IceCube template {self.template!r}: unit {self.unit!r} is not the "
                                "expected '1e-12 TeV cm^-2 s^-1'")
        E = np.asarray(E_eV, dtype=float)
        e2_flux = self.value * scale * 1e-12 * _TEV * (E / self.E0_eV) ** (2.0 - self.spectral_index)
        return e2_flux / E ** 2 / (4.0 * np.pi) * (3.0 if all_flavour else 1.0)


def icecube_galactic_plane() -> dict:
    """IceCube 2023 Galactic-plane template fits: {"pi0", "KRAgamma5", "KRAgamma50"} ->
    :class:`TemplateFit` (values as published; see the file header)."""
    relative = "observations/icecube_galactic_plane_2023_templates.csv"
    num = lambda text: float(text) if text.strip() else np.nan
    out = {}
    for row in load_csv_rows(relative):
        try:
            out[row["template"]] = TemplateFit(
                row["template"], num(row["E0_TeV"]) * _TEV, num(row["value"]), num(row["err_lo"]),
                num(row["err_hi"]), row["unit"], num(row["spectral_index"]), num(row["pretrial_sigma"]))
        except (KeyError, ValueError) as exc:
            raise DataFileError(f"data file '{relative}': row {row} is not valid: {exc}") from None
    return out


@dataclass(frozen=True)
class PowerLawFit:
    """A published power-law fit Phi(E) = phi0 (E / E0)^-gamma [cm^-2 s^-1 sr^-1 eV^-1] with its
    1-sigma errors (phi0 asymmetric) and the energy range the data constrain [eV]."""
    label: str
    E0_eV: float
    phi0: float
    phi0_err_lo: float
    phi0_err_hi: float
    gamma: float
    gamma_err: float
    E_range_eV: tuple

    def __call__(self, E_eV) -> np.ndarray:
        return self.phi0 * (np.asarray(E_eV, dtype=float) / self.E0_eV) ** -self.gamma


#: Sensitive energy range of the 6-year cascade fit (Aartsen et al., PRL 125, 121104) [eV].
ICECUBE_CASCADES_RANGE_EV = (1.6e13, 2.6e15)


def icecube_cascades_2020(all_flavour: bool = True) -> PowerLawFit:
    """The IceCube 6-year cascade power law of :func:`icecube_power_law` with its errors
    (x3 for all flavours, as there)."""
    E0_tev, phi0, lo, hi, gamma, gamma_err = load_table("observations/icecube_cascades_2020_powerlaw.txt", 6)[0]
    k = (3.0 if all_flavour else 1.0) / _GEV
    return PowerLawFit("IceCube cascades 2020" + (" (all flavours)" if all_flavour else ""),
                       E0_tev * _TEV, phi0 * k, lo * k, hi * k, gamma, gamma_err,
                       ICECUBE_CASCADES_RANGE_EV)


def fermi_igrb() -> SpectralPoints:
    """Fermi-LAT isotropic gamma-ray background (Ackermann et al. 2015, foreground model A).

    The shipped column is E_c x (band-integrated intensity) in GeV m^-2 s^-1 sr^-1 (see the file's
    note); I(E_c) = Delta I / (E_c^2 (1/E_lo - 1/E_hi)), exact for an E^-2 spectrum within the band
    (a 2.32 index changes it by < 0.5 % for sqrt(2)-wide bands)."""
    E, dE_lo, dE_hi, y, y_lo, y_hi = load_table("observations/fermi_igrb_ackermann2015_modelA.txt", 6).T
    E_lo, E_hi = E - dE_lo, E + dE_hi
    band = E * (1.0 / E_lo - 1.0 / E_hi)                 # E_c Delta I = band x E_c^2 I(E_c)
    per_eV = 1e-4 / band / E ** 2 / _GEV                  # GeV m^-2 -> cm^-2, E^2 I -> I per eV
    return SpectralPoints("Fermi-LAT IGRB (model A)", "gamma", "all_sky", E * _GEV, y * per_eV,
                          y_lo * per_eV, y_hi * per_eV, E_lo * _GEV, E_hi * _GEV,
                          source="Ackermann et al., ApJ 799, 86 (2015)")
