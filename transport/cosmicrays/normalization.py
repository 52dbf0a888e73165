"""Observed cosmic-ray flux at the Sun and the normalisation of the corona source.

[C, Sec. III]: the source amplitude Q0 is chosen so that the model proton flux at the Sun,
(c/4pi) j(E, r_sun), never exceeds the observed flux at any grid energy and touches it at
one (docs/physics.md, section 2). Reference: Gaisser's H3a (Astropart. Phys. 35, 801 (2012)),
taken from the `crflux` package rather than re-typed.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from transport.core.data import load_table
from transport.core.errors import CoronaError

#: crflux gives GeV^-1 m^-2 s^-1 sr^-1 for E in GeV; ours is eV^-1 cm^-2 s^-1 sr^-1.
_PER_GEV_M2_TO_PER_EV_CM2 = 1e-9 * 1e-4

#: Shipped all-particle measurements (total energy per particle), for plots.
KASCADE_FILES = {
    "KASCADE 2005 (SIBYLL 2.1)": "cosmic_rays/kascade_2005_sibyll21_allparticle.txt",
    "KASCADE-Grande (SIBYLL 2.1)": "cosmic_rays/kascade_grande_sibyll21_allparticle.txt",
}


@lru_cache(maxsize=None)
def _h3a():
    from crflux.models import HillasGaisser2012
    return HillasGaisser2012("H3a")


def reference_flux(E_eV, reference: str = "H3a_all") -> np.ndarray:
    """Observed cosmic-ray intensity [cm^-2 s^-1 sr^-1 eV^-1] at total energy per particle E.

    "H3a_all": all-particle H3a (five mass groups, three populations); "H3a_protons": its
    proton component. Gaisser 2012, Astropart. Phys. 35, 801, eq. 3 and Table 1.
    """
    E_gev = np.asarray(E_eV, dtype=float) / 1e9
    model = _h3a()
    if reference == "H3a_all":
        flux = model.total_flux(E_gev)
    elif reference == "H3a_protons":
        flux = model.nucleus_flux(14, E_gev)
    else:
        raise ValueError(f"unknown reference flux {reference!r}")
    return np.asarray(flux, dtype=float) * _PER_GEV_M2_TO_PER_EV_CM2


def h3a_group_flux(E_eV, corsika_id: int) -> np.ndarray:
    """H3a intensity of one mass group (crflux id: 14 p, 402 He, 1206 CNO, 2814 Mg-Si, 5426 Fe)
    at total energy per particle E [cm^-2 s^-1 sr^-1 eV^-1]."""
    E_gev = np.asarray(E_eV, dtype=float) / 1e9
    return np.asarray(_h3a().nucleus_flux(corsika_id, E_gev), dtype=float).reshape(
        E_gev.shape) * _PER_GEV_M2_TO_PER_EV_CM2


def h3a_nucleon_flux(E_n_eV) -> np.ndarray:
    """H3a all-nucleon intensity per unit energy per nucleon [cm^-2 s^-1 sr^-1 eV^-1]:
    every nucleus of energy A E_n counts as A nucleons of energy E_n (superposition),
    sum_groups A^2 Phi_A(A E_n) (crflux ``tot_nucleon_flux``)."""
    E_gev = np.asarray(E_n_eV, dtype=float) / 1e9
    return np.asarray(_h3a().tot_nucleon_flux(E_gev), dtype=float).reshape(
        E_gev.shape) * _PER_GEV_M2_TO_PER_EV_CM2


def kascade_points():
    """KASCADE and KASCADE-Grande all-particle points: {label: (E_eV, flux, err_lo, err_hi)},
    flux and errors (statistical and systematic in quadrature) in cm^-2 s^-1 sr^-1 eV^-1."""
    points = {}
    for label, path in KASCADE_FILES.items():
        E, flux, st_lo, st_hi, sy_lo, sy_hi = load_table(path, ncols=6).T[:6]
        k = _PER_GEV_M2_TO_PER_EV_CM2
        points[label] = (E * 1e9, flux * k, np.hypot(st_lo, sy_lo) * k, np.hypot(st_hi, sy_hi) * k)
    return points


@dataclass(frozen=True)
class Normalization:
    """Result of scaling the source to the observed flux.

    factor: Q0 [cm^-3 s^-1 eV^-1] (the model was solved with Q0 = 1);
    E_touch_eV: grid energy where the scaled model flux equals the observed one.
    """
    factor: float
    E_touch_eV: float
    reference: str


def touch_normalization(E_eV, model_flux, observed_flux, reference="", E_min_eV=0.0) -> Normalization:
    """Largest factor with factor * model_flux <= observed_flux at every energy >= E_min_eV.

    model_flux, observed_flux: arrays over the same energies (any common units). Raises
    CoronaError if the model flux is zero at every such energy.
    """
    model_flux = np.asarray(model_flux, dtype=float)
    observed_flux = np.asarray(observed_flux, dtype=float)
    usable = (model_flux > 0) & (np.asarray(E_eV) >= E_min_eV)
    if not np.any(usable):
        raise CoronaError("the model cosmic-ray flux at the Sun is zero at every energy used for "
                          "the normalisation: the cosmic rays do not reach observer.r_sun_kpc "
                          "within time.t_end_gyr (raise diffusion.D0_cm2_s or t_end_gyr)")
    ratio = np.full(model_flux.shape, np.inf)
    ratio[usable] = observed_flux[usable] / model_flux[usable]
    k = int(np.argmin(ratio))
    return Normalization(factor=float(ratio[k]), E_touch_eV=float(np.asarray(E_eV)[k]),
                         reference=reference)
