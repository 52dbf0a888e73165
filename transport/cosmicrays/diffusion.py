"""Spatial diffusion coefficient of cosmic-ray protons in the corona [C, eq. 4]."""
from __future__ import annotations

import numpy as np

from transport.core.constants import GEV_EV


def diffusion_coefficient(E_eV, D0_cm2_s, delta=1.0 / 3.0):
    """D(E) = D0 (E / 1 GeV)^delta [cm^2/s], E total energy [C, eq. 4; Kolmogorov delta = 1/3]."""
    return D0_cm2_s * (np.asarray(E_eV, dtype=float) / GEV_EV) ** delta


def radial_factor(r_kpc, diffusion) -> np.ndarray:
    """Dimensionless radial profile f(r) of D(E, r) = D(E) f(r) for the ``[diffusion]`` section;
    the transport equation keeps it inside the divergence, r^-2 d/dr(r^2 D f dj/dr).

    "constant": f = 1 (the seed's choice); "power_law": f = (1 + r/r_D)^radial_index.
    """
    r_kpc = np.asarray(r_kpc, dtype=float)
    if diffusion["radial_profile"] == "constant":
        return np.ones_like(r_kpc)
    return (1.0 + r_kpc / diffusion["r_D_kpc"]) ** diffusion["radial_index"]
