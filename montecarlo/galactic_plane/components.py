"""Shared pieces of the plane-paper models [L, D, K]: region-averaged spectra of emission
tables, the separable unresolved-source components (ECPL photons x a spatial distribution) in a
form cheap enough to fit, and the chi^2 of a model curve against measured points.

A separable component q(E, x) = s(E) f(x) has the region average I(E) = s(E) A(E) with the
"profile" A(E) = <integral f(x) exp(-tau(E, x)) ds / 4 pi> over the region (energy dependent
through the attenuation only), so its spectrum can change without another line-of-sight
integration: this is how the EXTRA normalisations and cut-offs of [L] are fitted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from montecarlo.galactic_plane.fitting import chi2_asymmetric
from montecarlo.sky.analysis import region_intensity
from transport.emission import disk
from transport.emission.disk import ecpl, plane_table


def region_spectra(emission, E_eV, regions, fields, cfg) -> dict:
    """{region: intensity averaged over the region (its source mask applied)} [cm^-2 s^-1
    sr^-1 eV^-1]; neutrino tables are never attenuated."""
    return {r: region_intensity(emission, E_eV, r, fields, cfg) for r in regions}


def profile(cfg, distribution: str, particle: str, E_eV, regions, fields) -> dict:
    """{region: A(E)}: the region average of the unit-spectrum table f(R, z) of
    ``distribution`` [cm^-2 s^-1 sr^-1 eV^-1 per (cm^-3 s^-1 eV^-1)] (see the module docstring)."""
    E = np.asarray(E_eV, dtype=float)
    table = plane_table(cfg, distribution, np.ones(E.size), E, {"particle": particle})
    return region_spectra(table, E, regions, fields, cfg)


@dataclass(frozen=True)
class ECPL:
    """Photon emissivity at the distribution's reference point of an unresolved-source
    component [L, Sec. 3.3]: s(E) = norm q_ref(E_norm) (E/E_cut)^-Gamma e^(-E/E_cut) /
    (same at E_norm), q_ref the local reference emissivity (as ``extra1.norm``)."""
    Gamma: float
    E_cut_eV: float
    norm: float
    E_norm_eV: float
    q_ref_norm: float           # local reference emissivity at E_norm [cm^-3 s^-1 eV^-1]

    def photons(self, E_eV) -> np.ndarray:
        shape = ecpl(E_eV, self.Gamma, self.E_cut_eV) / ecpl(self.E_norm_eV, self.Gamma, self.E_cut_eV)
        return self.norm * self.q_ref_norm * shape

    def neutrinos(self, E_eV) -> np.ndarray:
        """All-flavour neutrinos of a hadronic component, [T] eq. 1."""
        return disk.neutrinos_from_photons(self.photons, E_eV)


def reference_emissivity(cfg, E_norm_eV: float) -> float:
    """q_ref(E_norm) of :func:`transport.emission.disk.local_reference_emissivity`."""
    return float(disk.local_reference_emissivity(E_norm_eV, "gamma", cfg))


def loglog(E_model, values, E_eV) -> np.ndarray:
    """values(E_model) at E_eV, linear in (ln E, ln values)."""
    v = np.maximum(np.asarray(values, dtype=float), 1e-300)
    return np.exp(np.interp(np.log(E_eV), np.log(E_model), np.log(v)))


def chi2_points(E_model, model, points) -> tuple[float, int]:
    """chi^2 of [T] eq. 12 (asymmetric errors) of a model curve against ``points``
    (SpectralPoints inside the model's energy range; upper limits skipped) and their number."""
    E = points.E_eV
    use = (E >= E_model[0]) & (E <= E_model[-1]) & ~points.upper_limit
    if not np.any(use):
        return 0.0, 0
    m = loglog(E_model, model, E[use])
    return chi2_asymmetric(m, points.intensity[use], points.err_lo[use], points.err_hi[use]), int(use.sum())


def mean_ratio(E_model, model, points) -> float:
    """Geometric mean of model / data over ``points`` in the model's range (upper limits
    skipped): which side of the data the model lies on, and by how much."""
    E = points.E_eV
    use = (E >= E_model[0]) & (E <= E_model[-1]) & ~points.upper_limit
    return float(np.exp(np.mean(np.log(loglog(E_model, model, E[use]) / points.intensity[use]))))


@dataclass
class ModelSpectra:
    """Spectra of one paper model: per component and region, photons (attenuated) and
    all-flavour neutrinos [cm^-2 s^-1 sr^-1 eV^-1] on E_eV."""
    name: str
    E_eV: np.ndarray
    gamma: dict = field(default_factory=dict)      # component -> region -> I(E)
    nu: dict = field(default_factory=dict)         # component -> region -> I(E)
    params: dict = field(default_factory=dict)     # fitted or fixed numbers
    chi2: dict = field(default_factory=dict)       # data set -> (chi2, n_points)

    def total(self, particle: str, region: str, components=None) -> np.ndarray:
        table = self.gamma if particle == "gamma" else self.nu
        names = [c for c in table if components is None or c in components]
        return sum(table[c][region] for c in names if region in table[c])

    def chi2_per_dof(self, keys, n_free: int = 0) -> float:
        """Sum of chi^2 over the data sets ``keys`` per degree of freedom (points - n_free)."""
        chi2 = sum(self.chi2[k][0] for k in keys if k in self.chi2)
        n = sum(self.chi2[k][1] for k in keys if k in self.chi2) - n_free
        return chi2 / n if n > 0 else float("nan")
