"""Orchestration of the cascade Monte Carlo: batches of primaries on the MPI decomposition of
:mod:`montecarlo.parallel` (each batch has its own random streams, so results do not depend on
the number of ranks), tallies and their statistical errors (docs/extragalactic.md).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from transport.core.errors import ArgumentError

from montecarlo.cascade import kernels as ck
from montecarlo.cascade.interactions import CascadeTables
from montecarlo.fields.cmb import T0_K
from montecarlo.parallel import batch_generator, batch_kernel_seed, run_batches
from transport.core.constants import K_B_EV_K


@dataclass(frozen=True)
class Settings:
    """Monte Carlo settings (config section [extragalactic]).

    E_min_eV: photons tallied down to this observed energy (lower ones are dropped);
    thinning: exponent a of the (E_i/E)^a thinning (0: none); ic_group: largest energy
    fraction an inverse-Compton step may carry (grouped scatterings); bins_per_decade and
    E_bins_max_eV: observed-energy bins from E_min_eV; cascade: False = absorption only;
    tally_primary: also tally photons that never interacted.
    """
    E_min_eV: float = 1e8
    thinning: float = 0.5
    ic_group: float = 0.01
    bins_per_decade: int = 8
    E_bins_max_eV: float = 1e17
    cascade: bool = True
    tally_primary: bool = True
    T0_K: float = T0_K

    def __post_init__(self):
        checks = [("E_min_eV", self.E_min_eV, 1e7, 1e12), ("thinning", self.thinning, 0.0, 1.0),
                  ("ic_group", self.ic_group, 1e-4, 0.2), ("bins_per_decade", self.bins_per_decade, 1, 100)]
        for name, v, lo, hi in checks:
            if not lo <= v <= hi:
                raise ArgumentError(f"{name} = {v!r} is not allowed: expected {lo:g} <= {name} <= {hi:g}")
        if not self.E_bins_max_eV > self.E_min_eV:
            raise ArgumentError(f"E_bins_max_eV = {self.E_bins_max_eV:g} must exceed E_min_eV = "
                                f"{self.E_min_eV:g}")

    @property
    def edges_eV(self) -> np.ndarray:
        n = int(np.ceil(np.log10(self.E_bins_max_eV / self.E_min_eV) * self.bins_per_decade - 1e-9))
        return self.E_min_eV * 10.0 ** (np.arange(n + 1) / self.bins_per_decade)


@dataclass
class Tally:
    """Summed tallies of a run over n_cells injection cells (``spec``: photon weights per
    observed-energy bin, per cell; ``spec_sq``: sums of per-primary squares; ``accounts``:
    energy accounts, kernels.ACC_*; ``counters``: kernels.CNT_*; ``n_primaries`` per cell)."""
    spec: np.ndarray
    spec_sq: np.ndarray
    accounts: np.ndarray
    counters: np.ndarray
    n_primaries: np.ndarray
    edges_eV: np.ndarray

    def dN_dE(self):
        """Mean observed dN/dE per primary [eV^-1] and its standard error, shape (n_cells, n_bins)."""
        N = self.n_primaries[:, None]
        width = np.diff(self.edges_eV)[None, :]
        mean = self.spec / N
        var = np.maximum(self.spec_sq / N - mean ** 2, 0.0) / np.maximum(N - 1, 1)
        return mean / width, np.sqrt(var) / width

    def closure(self):
        """Relative energy closure per cell: (photons + leptons + below + adiabatic) / injected - 1."""
        a = self.accounts
        out = a[:, ck.ACC_PHOTONS] + a[:, ck.ACC_LEPTONS] + a[:, ck.ACC_BELOW] + a[:, ck.ACC_ADIABATIC]
        return out / a[:, ck.ACC_INJECTED] - 1.0


def _layout(n_cells, nb):
    sizes = [n_cells * nb, n_cells * nb, n_cells * ck.N_ACCOUNTS, ck.N_COUNTERS]
    return np.cumsum([0] + sizes)


def simulate(tables: CascadeTables, settings: Settings, E_inj, z_inj, cell, n_cells, seed):
    """One kernel call (one random stream ``seed``); returns the flat tally vector. The kernel
    seeds numba's Mersenne Twister, whose seed is 32 bits (numba casts it to uint32): the low
    32 bits are passed, which also lets the same kernel run as pure Python (NUMBA_DISABLE_JIT)."""
    edges = settings.edges_eV
    nb = edges.size - 1
    spec = np.zeros((n_cells, nb))
    spec_sq = np.zeros((n_cells, nb))
    acc = np.zeros((n_cells, ck.N_ACCOUNTS))
    cnt = np.zeros(ck.N_COUNTERS)
    status = ck.run_cascades(np.ascontiguousarray(E_inj, dtype=float),
                             np.ascontiguousarray(z_inj, dtype=float),
                             np.ascontiguousarray(cell, dtype=np.int64), int(seed) & 0xFFFFFFFF,
                             float(settings.E_min_eV), float(np.log(edges[0])),
                             float(np.log(edges[1] / edges[0])), spec, spec_sq, acc, cnt,
                             float(settings.thinning), float(settings.ic_group),
                             float(K_B_EV_K * settings.T0_K), bool(settings.cascade),
                             bool(settings.tally_primary), *tables.kernel_args())
    if status != 0:
        raise ArgumentError("the cascade particle stack overflowed: raise extragalactic.thinning "
                            "(fewer secondaries are followed)")
    return np.concatenate([spec.ravel(), spec_sq.ravel(), acc.ravel(), cnt])


def unpack(total, n_cells, edges, n_primaries) -> Tally:
    nb = edges.size - 1
    o = _layout(n_cells, nb)
    return Tally(total[o[0]:o[1]].reshape(n_cells, nb), total[o[1]:o[2]].reshape(n_cells, nb),
                 total[o[2]:o[3]].reshape(n_cells, ck.N_ACCOUNTS), total[o[3]:o[4]].copy(),
                 np.asarray(n_primaries, dtype=float), edges)


def fingerprint(**parts) -> str:
    """A short digest of everything a run depends on (for checkpoints and cache keys)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def sample_power_law(rng, n, E_lo, E_hi, index):
    """n energies from dN/dE ~ E^-index on [E_lo, E_hi] (inverse CDF)."""
    u = rng.random(n)
    if abs(index - 1.0) < 1e-12:
        return E_lo * (E_hi / E_lo) ** u
    g = 1.0 - index
    return (E_lo ** g + u * (E_hi ** g - E_lo ** g)) ** (1.0 / g)


def run_power_law(tables, settings, z_source, E_lo, E_hi, index, n_primaries, seed,
                  batch_size=500, checkpoint_path=None, progress=False) -> Tally:
    """Cascades of n_primaries photons with dN/dE ~ E^-index on [E_lo, E_hi] (local energies)
    injected at z_source, in batches of batch_size (rank-invariant)."""
    n_batches = max(1, int(np.ceil(n_primaries / batch_size)))
    edges = settings.edges_eV

    def batch(b):
        m = min(batch_size, n_primaries - b * batch_size)
        rng = batch_generator(seed, b)
        E = sample_power_law(rng, m, E_lo, E_hi, index) if E_hi > E_lo else np.full(m, E_lo)
        return simulate(tables, settings, E, np.full(m, z_source), np.zeros(m, np.int64), 1,
                        batch_kernel_seed(seed, b))

    fp = fingerprint(kind="power_law", settings=asdict(settings), z=z_source, E=[E_lo, E_hi],
                     index=index, n=n_primaries, seed=seed, batch=batch_size, tables=tables.path)
    res = run_batches(batch, n_batches, (int(_layout(1, edges.size - 1)[-1]),),
                      checkpoint_path=checkpoint_path, fingerprint=fp, progress=progress,
                      desc="cascades")
    return unpack(res.total, 1, edges, [n_primaries])


def run_cells(tables, settings, E_cells, z_cells, per_cell, seed, per_batch=2,
              checkpoint_path=None, progress=False, chunk_batches=16) -> Tally:
    """Monochromatic cascades: per_cell primaries of local energy E_cells[c] at z_cells[c]
    for every cell c; each batch runs per_batch primaries of every cell (balanced batches)."""
    E_cells = np.asarray(E_cells, dtype=float)
    z_cells = np.asarray(z_cells, dtype=float)
    n_cells = E_cells.size
    n_batches = max(1, int(np.ceil(per_cell / per_batch)))
    edges = settings.edges_eV

    def batch(b):
        m = min(per_batch, per_cell - b * per_batch)
        cell = np.repeat(np.arange(n_cells), m)
        return simulate(tables, settings, E_cells[cell], z_cells[cell], cell, n_cells,
                        batch_kernel_seed(seed, b))

    fp = fingerprint(kind="cells", settings=asdict(settings), E=E_cells.tolist(), z=z_cells.tolist(),
                     n=per_cell, seed=seed, batch=per_batch, tables=tables.path)
    res = run_batches(batch, n_batches, (int(_layout(n_cells, edges.size - 1)[-1]),),
                      checkpoint_path=checkpoint_path, fingerprint=fp, progress=progress,
                      desc="cascade table", chunk_batches=chunk_batches)
    return unpack(res.total, n_cells, edges, np.full(n_cells, per_cell))
