"""Cosmic microwave background: an isotropic black body, T(z) = T0 (1 + z).

T0 = 2.7255 K (Fixsen 2009, ApJ 707, 916), the config key fields.cmb_T0_K; [T] eq. A1
uses 2.73 K. Number density n = 16 pi zeta(3) (k T / h c)^3 = 410.7 cm^-3 at 2.7255 K.
"""
from __future__ import annotations

import numpy as np
from scipy.special import zeta

from transport.core.constants import HC_EV_CM, K_B_EV_K

#: Default present-day CMB temperature [K] (Fixsen 2009).
T0_K = 2.7255


def temperature_K(z, T0_K: float = T0_K):
    """CMB temperature at redshift z [K]: T0 (1 + z)."""
    return T0_K * (1.0 + np.asarray(z, dtype=float))


def dn_deps(eps_eV, T_K):
    """Black-body photon number density per unit energy [cm^-3 eV^-1], all directions:
    dn/d eps = 8 pi eps^2 / (h c)^3 / (exp(eps / k T) - 1)   ([T] eq. A1 times 4 pi)."""
    eps = np.asarray(eps_eV, dtype=float)
    x = eps / (K_B_EV_K * np.asarray(T_K, dtype=float))
    with np.errstate(over="ignore"):
        return 8.0 * np.pi * eps ** 2 / HC_EV_CM ** 3 / np.expm1(x)


def number_density_cm3(T_K):
    """Total black-body photon number density [cm^-3]: 16 pi zeta(3) (k T / h c)^3."""
    return 16.0 * np.pi * zeta(3.0) * (K_B_EV_K * np.asarray(T_K, dtype=float) / HC_EV_CM) ** 3


def energy_grid_eV(T_K, per_decade: int = 64):
    """Log-spaced target energies resolving a black body at T: 1e-4 kT to 50 kT."""
    kT = K_B_EV_K * float(T_K)
    n = int(np.ceil(np.log10(50.0 / 1e-4) * per_decade)) + 1
    return np.geomspace(1e-4 * kT, 50.0 * kT, n)
