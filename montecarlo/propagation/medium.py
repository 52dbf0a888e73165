"""The absorbing medium of the Monte Carlo: pair-production rates from the opacity tables
(docs/physics.md, section 4) in the form the tracking kernels take.

sigma_u(E): the spatially uniform, isotropic part [kpc^-1] (CMB, EBL at z = 0, a user's
tabulated field, and an optional constant absorber for tests and what-if runs);
dust: the direction-dependent table (or its angle average, opacity.dust_mode) with its
energy stencils and a majorant sigma_d,max(E) >= sigma_d(E; x, u) for all x, u
(:meth:`montecarlo.opacity.ratetables.DustRateTable.max_rate_per_kpc` times a safety factor).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transport.core.constants import KPC_CM
from transport.core.errors import ArgumentError

from montecarlo.opacity.api import check_fields, opacity_for
from montecarlo.opacity.ratetables import check_energies
from montecarlo.propagation import kernels as pk

#: Majorant = this factor x the largest tabulated dust rate (covers the overshoot of the cubic
#: energy interpolation between nodes; violations are counted and reported).
MAJORANT_SAFETY = 1.05
#: Energies whose largest dust rate gives tau < 1e-9 over 1 Mpc skip the dust (as the
#: line-of-sight integrator does).
_DUST_NEGLIGIBLE_PER_KPC = 1e-12


@dataclass
class Medium:
    """Rates at the tally energies in kernel form (see module docstring)."""
    sigma_uniform: np.ndarray          # (n_E,) kpc^-1
    dust_mode: int                     # kernels.DUST_NONE / DUST_ANISO / DUST_ISO
    sigma_dust_max: np.ndarray         # (n_E,) kpc^-1, 0 where no dust
    dust_i: np.ndarray                 # (n_E,) int64 stencil starts
    dust_w: np.ndarray                 # (n_E, 4)
    tables: tuple                      # (ln_aniso, ln_iso, R, z, mu, psi)
    fields: tuple


_EMPTY4 = np.zeros((2, 2, 2, 2, 4), dtype=np.float32)
_EMPTY2 = np.zeros((2, 2, 4), dtype=np.float32)
_GRID = np.array([0.0, 1.0])


def medium_for(E_eV, fields=("cmb", "dust"), config=None, absorber_per_kpc=None) -> Medium:
    """The medium of ``fields`` (names as :func:`montecarlo.intensity`) at energies E_eV,
    plus a constant absorber [kpc^-1] (scalar or one value per energy; None = none)."""
    names = check_fields(fields)
    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    n = E.size
    sigma_u = np.zeros(n)
    if absorber_per_kpc is not None:
        extra = np.broadcast_to(np.asarray(absorber_per_kpc, dtype=float), (n,)).copy()
        if not np.all(np.isfinite(extra) & (extra >= 0)):
            raise ArgumentError(f"absorber_per_kpc = {absorber_per_kpc!r} is not allowed: "
                                "expected finite rates >= 0 [kpc^-1]")
        sigma_u += extra
    mode, d_max = pk.DUST_NONE, np.zeros(n)
    d_i, d_w = np.zeros(n, dtype=np.int64), np.zeros((n, 4))
    tables = (_EMPTY4, _EMPTY2, _GRID, _GRID, _GRID, _GRID)
    if names:
        check_energies(E)
        opacity = opacity_for(config)
        uniform = tuple(f for f in names if f != "dust")
        if uniform:
            sigma_u += opacity.rate_isotropic_per_cm(E, uniform, 0.0) * KPC_CM
        if "dust" in names:
            dust = opacity.dust
            mode = (pk.DUST_ANISO if opacity.config.opacity.dust_mode == "anisotropic"
                    else pk.DUST_ISO)
            iE, wE, zero = dust.energy_weights(E)
            d_max = dust.max_rate_per_kpc(E) * MAJORANT_SAFETY
            d_max[zero | (d_max < _DUST_NEGLIGIBLE_PER_KPC)] = 0.0
            d_i, d_w = np.ascontiguousarray(iE, dtype=np.int64), np.ascontiguousarray(wE)
            tables = (dust.ln_aniso, dust.ln_iso, np.ascontiguousarray(dust.R_kpc, dtype=float),
                      np.ascontiguousarray(dust.z_kpc, dtype=float),
                      np.ascontiguousarray(dust.mu, dtype=float),
                      np.ascontiguousarray(dust.psi, dtype=float))
    return Medium(sigma_u, mode, d_max, d_i, d_w, tables, names)
