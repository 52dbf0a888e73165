"""Interstellar gas of the Galactic disk: the target of the cosmic-ray sea [L, D, K].

R is the Galactocentric cylindrical radius and z the height above the plane [kpc]; densities
are per cm^3. The model is the axisymmetric one of the DRAGON code that [D] uses (the "NS"
gas model of Evoli et al. 2017, JCAP 02, 015, DRAGON2 paper I): analytic fits to the
three-dimensional H I map of Nakanishi & Sofue 2003 (PASJ 55, 191) and the H2 map of Nakanishi
& Sofue 2006 (PASJ 58, 847), each a Gaussian in z of half width at half maximum h(R),

    n(R, z) = n_0(R) 2^(-(z / h(R))^2),

    H I: n_0 = 0.94 (0.6 e^(-R/2.4) + 0.24 e^(-((R - 9.5)/4.8)^2)) cm^-3,
         h   = 1.06 (116.3 + 19.3 R + 4.1 R^2 - 0.05 R^3) pc,
    H2:  n_0 = 0.94 (11.2 e^(-R^2/0.874) + 0.83 e^(-((R - 4)/3.2)^2)) molecules cm^-3,
         h   = 1.06 (10.8 e^(0.28 R) + 42.78) pc

(R in kpc; the factors 0.94 and 1.06 rescale Nakanishi & Sofue's R_0 = 8 kpc to 8.5 kpc, as
DRAGON does), plus, where ``ionised`` is set, the warm ionised gas of Cordes et al. 1991
(Nature 354, 121) in the two-component form of GALPROP:

    n_HII = 0.025 e^(-|z|/1 kpc) e^(-(R/20 kpc)^2) + 0.2 e^(-|z|/0.15 kpc) e^(-((R - 4 kpc)/2 kpc)^2).

The pp target is the hydrogen nucleus density n_H = n_HI + 2 n_H2 + n_HII; helium in the gas is
the ``hadronic.nuclear_enhancement`` factor (docs/papers.md, "Gas").
"""
from __future__ import annotations

import numpy as np

#: Gas models (config key sea.gas).
GAS_MODELS = ("nakanishi_sofue",)

_LN2 = np.log(2.0)


def _arrays(R_kpc, z_kpc):
    return np.broadcast_arrays(np.asarray(R_kpc, dtype=float), np.asarray(z_kpc, dtype=float))


def hi_midplane_cm3(R_kpc):
    """H I mid-plane density n_0(R) [cm^-3] (Nakanishi & Sofue 2003, DRAGON fit)."""
    R = np.asarray(R_kpc, dtype=float)
    return 0.94 * (0.6 * np.exp(-R / 2.4) + 0.24 * np.exp(-((R - 9.5) / 4.8) ** 2))


def hi_hwhm_kpc(R_kpc):
    """H I half width at half maximum h(R) [kpc] (Nakanishi & Sofue 2003, DRAGON fit)."""
    R = np.asarray(R_kpc, dtype=float)
    return 1.06e-3 * (116.3 + 19.3 * R + 4.1 * R ** 2 - 0.05 * R ** 3)


def h2_midplane_cm3(R_kpc):
    """H2 mid-plane density n_0(R) [molecules cm^-3] (Nakanishi & Sofue 2006, DRAGON fit)."""
    R = np.asarray(R_kpc, dtype=float)
    return 0.94 * (11.2 * np.exp(-R ** 2 / 0.874) + 0.83 * np.exp(-((R - 4.0) / 3.2) ** 2))


def h2_hwhm_kpc(R_kpc):
    """H2 half width at half maximum h(R) [kpc] (Nakanishi & Sofue 2006, DRAGON fit)."""
    R = np.asarray(R_kpc, dtype=float)
    return 1.06e-3 * (10.8 * np.exp(0.28 * R) + 42.78)


def _gaussian_layer(n0, hwhm, z):
    return n0 * np.exp(-_LN2 * (z / hwhm) ** 2)


def hi_density_cm3(R_kpc, z_kpc):
    """n_HI(R, z) [cm^-3]."""
    R, z = _arrays(R_kpc, z_kpc)
    return _gaussian_layer(hi_midplane_cm3(R), hi_hwhm_kpc(R), z)


def h2_density_cm3(R_kpc, z_kpc):
    """n_H2(R, z) [molecules cm^-3]."""
    R, z = _arrays(R_kpc, z_kpc)
    return _gaussian_layer(h2_midplane_cm3(R), h2_hwhm_kpc(R), z)


def hii_density_cm3(R_kpc, z_kpc):
    """Warm ionised hydrogen n_HII(R, z) [cm^-3] (Cordes et al. 1991, GALPROP's form)."""
    R, z = _arrays(R_kpc, z_kpc)
    return (0.025 * np.exp(-np.abs(z) / 1.0) * np.exp(-(R / 20.0) ** 2)
            + 0.2 * np.exp(-np.abs(z) / 0.15) * np.exp(-((R - 4.0) / 2.0) ** 2))


def hydrogen_density_cm3(R_kpc, z_kpc, model: str = "nakanishi_sofue", ionised: bool = True):
    """Hydrogen nuclei n_H = n_HI + 2 n_H2 (+ n_HII) [cm^-3], the pp target of the sea."""
    if model not in GAS_MODELS:
        raise ValueError(f"gas model {model!r} is not known: expected one of {GAS_MODELS}")
    n = hi_density_cm3(R_kpc, z_kpc) + 2.0 * h2_density_cm3(R_kpc, z_kpc)
    return n + hii_density_cm3(R_kpc, z_kpc) if ionised else n


def gaussian_column_kpc_cm3(n0_cm3, hwhm_kpc):
    """Integral over all z of n_0 2^(-(z/h)^2): n_0 h sqrt(pi / ln 2) [kpc cm^-3]."""
    return np.asarray(n0_cm3, dtype=float) * np.asarray(hwhm_kpc, dtype=float) * np.sqrt(np.pi / _LN2)
