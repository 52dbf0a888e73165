"""Gamma-ray and neutrino emissivity of the corona from the transport solution [C, eq. 6].

q_i(E, r) = n_gas(r) c Integral dE_p j(E_p, r) sigma_inel dN_i/dE (:func:`pp_emissivity`),
with j the present-day proton density of :class:`transport.TransportSolution`, interpolated
linearly in (ln r, ln j) between cell centres (as ``TransportSolution.j_at``), and n_gas the
pointwise corona density (:func:`transport.cosmicrays.gas.corona_density`), not its cell average.

The table's radial nodes are the cell centres inside the gas edge R_max, the edge itself
(with the inside density; q = 0 beyond) and, for the "max_beta" profile, the radius where
the two beta profiles cross (a kink of n_gas), so that linear interpolation in (ln r, ln q)
reproduces the direct evaluation to < 0.1 %.
"""
from __future__ import annotations

import warnings

import numpy as np

from transport.emission.tables import SphericalEmission
from transport.cosmicrays.gas import corona_density, profile_crossing_kpc
from transport.core.grid import loglog_resample
from transport.hadronic.secondaries import pp_emissivity
from transport.hadronic.yields import MODELS as YIELD_MODELS
from transport.emission.energy_grid import emission_energy_grid


class YieldRangeWarning(UserWarning):
    """The proton spectrum extends beyond the highest primary energy of the yield model and
    is cut there: emissivities near that energy are underestimated."""


def corona_nodes_kpc(solution) -> np.ndarray:
    """Radial nodes of the corona emission table [kpc] (see module docstring)."""
    gas = solution.config.gas
    edge = min(gas.R_max_kpc, solution.r_kpc[-1])
    nodes = [solution.r_kpc[solution.r_kpc < edge], [edge]]
    if gas.profile == "max_beta":
        cross = profile_crossing_kpc(gas.inner_n0_cm3, gas.inner_beta, gas.outer_n0_cm3,
                                     gas.outer_beta, gas.rc_kpc)
        if np.isfinite(cross) and solution.r_kpc[0] < cross < edge:
            nodes.append([cross])
    return np.unique(np.concatenate(nodes))


def corona_emissivity(solution, particle: str, r_kpc, E_eV) -> np.ndarray:
    """Direct evaluation of q_i(E, r) [cm^-3 s^-1 eV^-1] at radii r_kpc and energies E_eV,
    shape (n_E, n_r), with hadronic.yields of the solution's config. A proton spectrum beyond
    the yields' highest primary energy is cut there with a :class:`YieldRangeWarning`."""
    cfg = solution.config
    spec = YIELD_MODELS[cfg.hadronic.yields]
    r = np.atleast_1d(np.asarray(r_kpc, dtype=float))
    E_p, j = solution.E_eV, loglog_resample(solution.r_kpc, solution.j, np.maximum(r, solution.r_kpc[0]), axis=1)
    keep = E_p <= spec.primary_max_eV * (1 + 1e-9)
    if not np.all(keep):
        if np.any(j[~keep] > 0):
            warnings.warn(
                f"the proton spectrum reaches {E_p[-1]:.3g} eV but hadronic.yields = "
                f"\"{spec.name}\" covers primaries only up to {spec.primary_max_eV:.3g} eV: it is "
                "cut there, so emissivities within a decade of that energy are underestimated",
                YieldRangeWarning, stacklevel=3)
        E_p, j = E_p[keep], j[keep]
    n = corona_density(r, cfg.gas)
    return pp_emissivity(E_p, j, n, E_eV, particle, spec.name,
                         hadronic=cfg.hadronic, neutrino=cfg.neutrino)


def corona_emission(solution, particle: str, E_eV=None) -> SphericalEmission:
    """The corona emission table of ``particle`` ("gamma", "nu", "nu_e", "nu_mu", "nu_tau")
    from a :class:`transport.TransportSolution`, on E_eV (default: the [emission] energy grid)."""
    if E_eV is None:
        E_eV = emission_energy_grid(solution.config)
    r = corona_nodes_kpc(solution)
    q = corona_emissivity(solution, particle, r, E_eV)
    cfg = solution.config
    return SphericalEmission(r, E_eV, q, attrs={
        "model": "corona", "particle": particle, "yields": cfg.hadronic.yields,
        "t_gyr": solution.t_gyr, "description": "pp emission of the corona [C, eq. 6]"})
