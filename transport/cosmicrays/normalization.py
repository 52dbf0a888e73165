"""Observed cosmic-ray flux at the Sun and the normalisation of the corona source.

[C, Sec. III]: the source amplitude Q0 is chosen so that the model proton flux at the Sun,
(beta c/4pi) j(E, r_sun), never exceeds the observed flux at any grid energy at or above
normalization.E_min_eV (default 10 GeV: below it solar modulation shapes the measured flux)
and touches it at one (docs/physics.md, section 2; docs/normalization.md). The model
transports protons only, so the default reference is the observed proton flux, H3a protons
(Gaisser, Astropart. Phys. 35, 801 (2012)); GSF protons (Dembinski et al., PoS ICRC2017 533,
the Global Spline Fit) is the second proton reference and H3a all-particle the conservative
upper bound. All are taken from the `crflux` package rather than re-typed.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from transport.core.constants import C_CM_S, M_P_EV
from transport.core.data import load_table
from transport.core.errors import ConfigError, CoronaError, DataFileError

#: crflux gives GeV^-1 m^-2 s^-1 sr^-1 for E in GeV; ours is eV^-1 cm^-2 s^-1 sr^-1.
_PER_GEV_M2_TO_PER_EV_CM2 = 1e-9 * 1e-4

#: Shipped all-particle measurements (total energy per particle), for plots.
KASCADE_FILES = {
    "KASCADE 2005 (SIBYLL 2.1)": "cosmic_rays/kascade_2005_sibyll21_allparticle.txt",
    "KASCADE-Grande (SIBYLL 2.1)": "cosmic_rays/kascade_grande_sibyll21_allparticle.txt",
}


#: normalization.reference choices (the first is the default; docs/normalization.md).
REFERENCES = ("H3a_protons", "GSF_protons", "H3a_all")

#: Version of the Global Spline Fit that Dembinski et al. (PoS ICRC2017 533) published.
GSF_VERSION = "2017"


@lru_cache(maxsize=None)
def _h3a():
    from crflux.models import HillasGaisser2012
    return HillasGaisser2012("H3a")


@lru_cache(maxsize=None)
def _gsf():
    """crflux's GlobalSplineFit; needs the globalsplinefit package and its bundled data."""
    try:
        from crflux.models import GlobalSplineFit
        return GlobalSplineFit(version=GSF_VERSION)
    except Exception as exc:      # ImportError, or its data files missing/unreadable
        raise DataFileError(
            f'normalization.reference = "GSF_protons" needs the globalsplinefit package and its '
            f"data (GSF {GSF_VERSION}): {type(exc).__name__}: {exc}; install it with "
            '`pip install globalsplinefit` or use reference = "H3a_protons"') from None


def reference_flux(E_eV, reference: str = REFERENCES[0]) -> np.ndarray:
    """Observed cosmic-ray intensity [cm^-2 s^-1 sr^-1 eV^-1] at total energy per particle E.

    "H3a_protons": the proton component of H3a, "H3a_all": all-particle H3a (five mass groups,
    three populations), Gaisser 2012, Astropart. Phys. 35, 801, eq. 3 and Table 1;
    "GSF_protons": the protons of the Global Spline Fit (Dembinski et al., PoS ICRC2017 533).
    """
    E_gev = np.asarray(E_eV, dtype=float) / 1e9
    if reference == "H3a_all":
        flux = _h3a().total_flux(E_gev)
    elif reference == "H3a_protons":
        flux = _h3a().nucleus_flux(14, E_gev)
    elif reference == "GSF_protons":
        flux = np.asarray(_gsf().nucleus_flux(14, E_gev), dtype=float).reshape(E_gev.shape)
    else:
        raise ConfigError(f"normalization.reference = {reference!r} is not one of {REFERENCES}")
    return np.asarray(flux, dtype=float) * _PER_GEV_M2_TO_PER_EV_CM2


def proton_beta(E_eV) -> np.ndarray:
    """Speed of a proton of total energy E in units of c: sqrt(1 - (m_p c^2 / E)^2)."""
    E = np.asarray(E_eV, dtype=float)
    return np.sqrt(np.clip(1.0 - (M_P_EV / E) ** 2, 0.0, None))


def proton_intensity(E_eV, j) -> np.ndarray:
    """Isotropic intensity (beta c / 4pi) j [cm^-2 s^-1 sr^-1 eV^-1] of protons with density
    j [cm^-3 eV^-1] at total energies E_eV (first axis of j)."""
    beta = proton_beta(E_eV).reshape((-1,) + (1,) * (np.ndim(j) - 1))
    return beta * C_CM_S / (4.0 * np.pi) * np.asarray(j, dtype=float)


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
