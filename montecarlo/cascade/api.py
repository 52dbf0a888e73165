"""Python API of the cascade Monte Carlo: :func:`cascade_spectrum`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transport.core.config import Config, load_config
from transport.core.errors import ArgumentError

from montecarlo.cascade import interactions
from montecarlo.cascade import kernels as ck
from montecarlo.cascade import montecarlo as mc
from montecarlo.fields import ebl as ebl_field


@dataclass
class CascadeSpectrum:
    """Observed spectrum of a cascade run, per injected primary (observer frame).

    E_eV: bin centres; E2dNdE, E2dNdE_err [eV]; energy_fraction: photon energy arriving above
    E_min over the energy injected (source frame); closure: relative energy closure of the
    run, (photons + leptons + below threshold + adiabatic) / injected - 1; closure_per_cascade:
    mean |closure| of single cascades (0 to rounding for thinning 0 or 1, stochastic for
    0 < thinning < 1, where energy is conserved on average); accounts: the
    energy accounts per primary [eV] (kernels.ACC_*); n_primaries."""
    E_eV: np.ndarray
    E2dNdE: np.ndarray
    E2dNdE_err: np.ndarray
    energy_fraction: float
    closure: float
    closure_per_cascade: float
    accounts: np.ndarray
    n_primaries: int
    edges_eV: np.ndarray

    def __getitem__(self, name):
        return getattr(self, name)


def cascade_spectrum(z_source, E_inj_min_eV, E_inj_max_eV, index, ebl_model="dominguez",
                     E_min_eV=1e8, n_primaries=2000, seed=1, thinning=0.5, ic_group=0.01,
                     cosmology="planck18", bins_per_decade=8, cascade=True, tally_primary=True,
                     config=None, progress=False) -> CascadeSpectrum:
    """Cascade of photons injected with dN/dE ~ E^-index between E_inj_min_eV and
    E_inj_max_eV (source frame) at z_source, followed to z = 0 on the CMB and the EBL model
    ``ebl_model`` (docs/extragalactic.md). Rank-invariant under mpirun (batches of 500).
    Returns a :class:`CascadeSpectrum` (also indexable by field name)."""
    cfg = config if isinstance(config, Config) else load_config(config)
    model = ebl_field.check_model(ebl_model, argument="ebl_model")
    z_top = ebl_field.density(model).z_range[1]
    z = float(z_source)
    if not 0.0 <= z <= z_top:
        raise ArgumentError(f"z_source = {z_source!r} is not allowed: expected 0 <= z_source <= "
                            f"{z_top:g} (EBL model {model!r})")
    lo, hi = float(E_inj_min_eV), float(E_inj_max_eV)
    if not (np.isfinite(lo) and np.isfinite(hi) and E_min_eV < lo <= hi <= 1e19):
        raise ArgumentError(f"E_inj_min_eV = {E_inj_min_eV!r}, E_inj_max_eV = {E_inj_max_eV!r} are "
                            f"not allowed: expected E_min_eV = {E_min_eV:g} < E_inj_min_eV <= "
                            "E_inj_max_eV <= 1e19")
    if not np.isfinite(index):
        raise ArgumentError(f"index = {index!r} is not allowed: expected a finite number")
    if int(n_primaries) < 1:
        raise ArgumentError(f"n_primaries = {n_primaries!r} is not allowed: expected >= 1")
    settings = mc.Settings(E_min_eV=float(E_min_eV), thinning=float(thinning), ic_group=float(ic_group),
                           bins_per_decade=int(bins_per_decade), E_bins_max_eV=max(hi, 10 * E_min_eV),
                           cascade=bool(cascade), tally_primary=bool(tally_primary),
                           T0_K=cfg.fields.cmb_T0_K)
    # tables up to the next multiple of 0.5 above z_source: quick to build, cached per step
    z_table = min(z_top, max(0.5, float(np.ceil(z / 0.5)) * 0.5))
    tables = interactions.cascade_tables(cfg, model, cosmology, z_table, progress)
    tally = mc.run_power_law(tables, settings, z, lo, hi, float(index), int(n_primaries), int(seed),
                             progress=progress)
    dn, err = tally.dN_dE()
    edges = tally.edges_eV
    E = np.sqrt(edges[1:] * edges[:-1])
    acc = tally.accounts[0] / n_primaries
    return CascadeSpectrum(E, E ** 2 * dn[0], E ** 2 * err[0],
                           float(acc[ck.ACC_PHOTONS] / acc[ck.ACC_INJECTED]),
                           float(tally.closure()[0]),
                           float(tally.counters[ck.CNT_CLOSURE] / n_primaries), acc, int(n_primaries),
                           edges)
