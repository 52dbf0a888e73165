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
the ``hadronic.nuclear_enhancement`` factor (docs/papers.md, "What the plane papers share").

The second model, "galprop", is GALPROP's analytic gas (Moskalenko et al. 2002, ApJ 565, 280;
Strong & Moskalenko 1998), which [L]'s code offers: H I with the radial profile of Gordon &
Burton 1976 (their Table 1, interpolated between ring centres, exponential with 3 kpc beyond
15.75 kpc), the vertical profile of Dickey & Lockman 1990 inside 8 kpc (two Gaussians and an
exponential, 0.57 cm^-3 in the plane) and of Cox et al. 1986 outside 10 kpc (a Gaussian of 1/e
half-width 52.3 pc e^(0.11 R/kpc)), blended linearly between; H2 from the CO emissivity of
Bronfman et al. 1988 (Table 3: W_CO per kpc, mid-plane offset and half width at half maximum in
rings to 10.25 kpc) times X_CO (sea.X_CO); the same Cordes et al. 1991 H II. Both tables are
transcribed from the published DRAGON2 / GALPROP gas routines.
"""
from __future__ import annotations

import numpy as np

from transport.core.constants import KPC_CM
from transport.core.errors import ArgumentError

#: Gas models (config key sea.gas).
GAS_MODELS = ("nakanishi_sofue", "galprop")

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


# --------------------------------------------------------------------------- GALPROP's gas
#: Gordon & Burton 1976, Table 1: ring edges [kpc] and mid-plane H I density [cm^-3] (rings
#: 0-2, 2-2.5, ... 15.5-16 kpc); GALPROP scales it to Dickey & Lockman's 0.57 by 1 / 0.33.
_GB76_R = np.array([0.0, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5,
                    9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0, 14.5, 15.0,
                    15.5, 16.0])
_GB76_N = np.array([0.10, 0.13, 0.14, 0.16, 0.19, 0.25, 0.30, 0.33, 0.32, 0.31, 0.30, 0.37, 0.38,
                    0.36, 0.32, 0.29, 0.38, 0.40, 0.25, 0.23, 0.32, 0.36, 0.32, 0.25, 0.16, 0.10,
                    0.09, 0.08, 0.06, 0.00])
_GB76_DISK, _DL90_DISK = 0.33, 0.57
#: Bronfman et al. 1988, Table 3: ring radius [kpc], CO emissivity [K km/s per kpc], mid-plane
#: offset and half width at half maximum of the molecular layer [kpc].
_B88_R = np.array([0.00, 2.25, 2.75, 3.25, 3.75, 4.25, 4.75, 5.25, 5.75, 6.25, 6.75, 7.25, 7.75,
                   8.25, 8.75, 9.25, 9.75, 10.25])
_B88_W = np.array([0.0, 1.5, 3.3, 5.8, 5.5, 8.4, 9.0, 9.6, 8.6, 9.1, 7.9, 9.2, 7.7, 5.0, 3.6, 4.8,
                   1.7, 0.0])
_B88_Z0 = np.array([0.039, 0.039, 0.036, 0.000, -0.008, 0.001, -0.010, -0.001, -0.004, -0.019,
                    -0.022, -0.014, -0.009, -0.004, 0.013, -0.004, -0.020, -0.020])
_B88_ZH = np.array([0.077, 0.077, 0.080, 0.061, 0.065, 0.071, 0.072, 0.082, 0.083, 0.073, 0.063,
                    0.058, 0.072, 0.080, 0.066, 0.023, 0.147, 0.147])


def gb76_radial_cm3(R_kpc):
    """Gordon & Burton 1976 mid-plane H I [cm^-3]: linear between the ring centres (the first
    ring's value inside its centre), Y_last_ring e^(-(R - 15.75)/3 kpc) beyond 15.75 kpc."""
    R = np.asarray(R_kpc, dtype=float)
    centres = 0.5 * (_GB76_R[:-1] + _GB76_R[1:])
    inner = np.interp(R, centres, _GB76_N[:-1])
    return np.where(R > centres[-1], _GB76_N[-2] * np.exp(-(R - centres[-1]) / 3.0), inner)


def dl90_vertical_cm3(z_kpc):
    """Dickey & Lockman 1990 vertical H I profile [cm^-3] (0.566 in the plane): Gaussians of
    half width at half maximum 106 and 265 pc and an exponential of scale 403 pc."""
    z = np.asarray(z_kpc, dtype=float)
    return (0.395 * np.exp(-_LN2 * (z / 0.106) ** 2) + 0.107 * np.exp(-_LN2 * (z / 0.265) ** 2)
            + 0.064 * np.exp(-np.abs(z) / 0.403))


def c86_vertical_cm3(R_kpc, z_kpc):
    """Cox et al. 1986 flaring outer H I layer [cm^-3]: 0.57 e^(-(z / (52.3 pc e^(0.11 R)))^2)."""
    R, z = _arrays(R_kpc, z_kpc)
    return _DL90_DISK * np.exp(-(z / (0.0523 * np.exp(0.11 * R))) ** 2)


def hi_galprop_cm3(R_kpc, z_kpc):
    """GALPROP's analytic H I n(R, z) [cm^-3] (module docstring): the vertical profile of
    Dickey & Lockman inside 8 kpc, Cox et al. outside 10 kpc, blended linearly in between,
    times the Gordon & Burton radial profile over its 4-8 kpc disk value."""
    R, z = _arrays(R_kpc, z_kpc)
    w = np.clip((R - 8.0) / 2.0, 0.0, 1.0)
    vertical = (1.0 - w) * dl90_vertical_cm3(z) + w * c86_vertical_cm3(R, z)
    return vertical * gb76_radial_cm3(R) / _GB76_DISK


def h2_galprop_cm3(R_kpc, z_kpc, X_CO=1.9e20):
    """GALPROP's analytic H2 [molecules cm^-3]: Bronfman et al. 1988 CO emissivity (linear in R
    between rings, zero beyond 10.25 kpc) x X_CO [cm^-2 (K km/s)^-1], a Gaussian layer of the
    tabulated offset and half width."""
    R, z = _arrays(R_kpc, z_kpc)
    W = np.interp(R, _B88_R, _B88_W, right=0.0)
    z0 = np.interp(R, _B88_R, _B88_Z0)
    zh = np.interp(R, _B88_R, _B88_ZH)
    return np.maximum(W * X_CO / KPC_CM * np.exp(-_LN2 * ((z - z0) / zh) ** 2), 0.0)


def hydrogen_density_cm3(R_kpc, z_kpc, model: str = "nakanishi_sofue", ionised: bool = True,
                         X_CO: float = 1.9e20):
    """Hydrogen nuclei n_H = n_HI + 2 n_H2 (+ n_HII) [cm^-3], the pp target of the sea, for
    ``model`` in GAS_MODELS (X_CO only for "galprop")."""
    if model == "nakanishi_sofue":
        n = hi_density_cm3(R_kpc, z_kpc) + 2.0 * h2_density_cm3(R_kpc, z_kpc)
    elif model == "galprop":
        n = hi_galprop_cm3(R_kpc, z_kpc) + 2.0 * h2_galprop_cm3(R_kpc, z_kpc, X_CO)
    else:
        raise ArgumentError(f"sea.gas = {model!r} is not allowed: expected one of "
                            + ", ".join(f'"{m}"' for m in GAS_MODELS))
    return n + hii_density_cm3(R_kpc, z_kpc) if ionised else n


def gaussian_column_kpc_cm3(n0_cm3, hwhm_kpc):
    """Integral over all z of n_0 2^(-(z/h)^2): n_0 h sqrt(pi / ln 2) [kpc cm^-3]."""
    return np.asarray(n0_cm3, dtype=float) * np.asarray(hwhm_kpc, dtype=float) * np.sqrt(np.pi / _LN2)
