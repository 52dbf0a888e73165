"""The absorbing medium of the Monte Carlo: pair-production rates from the opacity tables
(docs/physics.md, section 4) in the form the tracking kernels take.

sigma_u(E): the spatially uniform, isotropic part [kpc^-1] (CMB, EBL at z = 0, a user's
tabulated field, and an optional constant absorber for tests and what-if runs);
dust: the direction-dependent table (or its angle average, opacity.dust_mode) at each tally
energy (the opacity table's 4-node ln E stencil applied once here, not at every tracking step:
:func:`dust_at_energies`) and a majorant sigma_d,max(E) >= sigma_d(E; x, u) for all x, u
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
    dust_ln: np.ndarray                # (n_E, n_R, n_z, n_mu, n_psi) ln rate [kpc^-1]
    dust_grids: tuple                  # (R, lut, inv_h, z, ..., mu, ..., psi, ...): kernels.dust_rate
    fields: tuple


def _grids(*axes) -> tuple:
    """The grids of :func:`montecarlo.propagation.kernels.dust_rate` with their look-ups."""
    out = ()
    for axis in axes:
        axis = np.ascontiguousarray(axis, dtype=float)
        out += (axis, *pk.grid_lookup(axis))
    return out


_GRID = np.array([0.0, 1.0])
_NO_GRIDS = _grids(_GRID, _GRID, _GRID, _GRID)


def dust_at_energies(dust, E_eV, mode, needed):
    """The dust table of ``mode`` (kernels.DUST_ANISO or DUST_ISO) at the energies E_eV:
    (ln rate (n_E, n_R, n_z, n_mu, n_psi) float64, with n_mu = n_psi = 1 for the angle
    average; grids). The 4-node stencil in ln E of
    :meth:`~montecarlo.opacity.ratetables.DustRateTable.energy_weights` is applied node by
    node in float64 in the order of the opacity kernels, so each node's value equals the one
    they compute at every look-up, to the last bit. Energies where ``needed`` is False stay
    zero (never read)."""
    iE, wE, _ = dust.energy_weights(E_eV)
    if mode == pk.DUST_ANISO:
        table = dust.ln_aniso
        grids = _grids(dust.R_kpc, dust.z_kpc, dust.mu, dust.psi)
    else:
        table = dust.ln_iso[:, :, None, None, :]
        grids = _grids(dust.R_kpc, dust.z_kpc) + _NO_GRIDS[6:]
    out = np.zeros((iE.size,) + table.shape[:4])
    for e in np.nonzero(needed)[0]:
        i, w = iE[e], wE[e]
        out[e] = (w[0] * table[..., i].astype(float) + w[1] * table[..., i + 1].astype(float)
                  + w[2] * table[..., i + 2].astype(float) + w[3] * table[..., i + 3].astype(float))
    return out, grids


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
    d_ln, d_grids = np.zeros((n, 2, 2, 1, 1)), _NO_GRIDS
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
            _, _, zero = dust.energy_weights(E)
            d_max = dust.max_rate_per_kpc(E) * MAJORANT_SAFETY
            d_max[zero | (d_max < _DUST_NEGLIGIBLE_PER_KPC)] = 0.0
            d_ln, d_grids = dust_at_energies(dust, E, mode, d_max > 0.0)
    return Medium(sigma_u, mode, d_max, d_ln, d_grids, names)
