"""The cascade response table G(E_obs | E_inj, z_inj) and the extragalactic spectrum of any
emission model as a sum over it (docs/extragalactic.md, "Response table").

G is the observed spectrum dN/dE_obs [eV^-1] of the *cascade* photons (those produced in the
cascade, not the primary if it arrives unscattered: that part is exp(-tau), computed exactly)
per photon injected at local energy E_inj and redshift z_inj, from the Monte Carlo of
:mod:`montecarlo.cascade.montecarlo` with monochromatic primaries at every node (run under MPI
by :func:`montecarlo.parallel.run_batches`; rank-invariant). Eq. (2) of
:mod:`montecarlo.cascade.extragalactic` is then

    I_casc(E0) = (c / 4 pi) Sum_j Sum_i W_j V_i n_gal(z_j) L(E_i) E_i G(E0 | E_i, z_j) / ((1 + z_j) H(z_j))

with trapezoid weights V_i in ln E_inj and W_j in z (G = 0 at z = 0). The table file carries
its provenance (config, code version, seeds), the key of everything it depends on (EBL model,
cosmology, grids, Monte Carlo settings, code digest), the statistical errors and the photon
optical-depth table used for eq. (1); writes are atomic. The default (dominguez) table ships
in inputs/cascade/ (regenerate: see inputs/README.md).
"""
from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from transport.core.constants import C_CM_S
from transport.core.data import inputs_dir
from transport.core.errors import ArgumentError, CoronaError
from transport.core.output import atomic_hdf5, provenance
from transport.core.sealed import (RebuildWarning, SealError, claims_key, finite_problem, read_sealed,
                                   seal, shape_problem, sources_digest)

from montecarlo.cascade import cosmology as cosmo
from montecarlo.cascade import interactions
from montecarlo.cascade import kernels as ck
from montecarlo.cascade import montecarlo as mc
from montecarlo.cascade.extragalactic import Universe, direct_intensity
from montecarlo.opacity.ratetables import cache_directory
from montecarlo.parallel import rank_and_size, world

#: Redshift nodes of the table (z = 0, where G = 0, is implicit).
Z_NODES = (0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.3, 1.7, 2.2,
           2.8, 3.4, 3.9)
#: Injected energies: E_INJ_PER_DECADE per decade from E_INJ_RANGE_EV[0] to [1] (below 1e10 eV
#: no photon pair-produces on the EBL, whose UV end is at 12.4 eV).
E_INJ_RANGE_EV = (1e10, 1e18)
E_INJ_PER_DECADE = 6
TABLE_FORMAT = 2
#: The sources that compute a table (its key: transport.core.sealed.sources_digest).
CODE_SOURCES = ("montecarlo/cascade/kernels.py", "montecarlo/cascade/montecarlo.py",
                *(f"montecarlo/{name}" for name in interactions.SOURCES))
#: Significant digits of the floats in a table's key (far above any physical difference,
#: far below the last-bit noise of a grid computed on another machine).
KEY_DIGITS = 12
#: seal_kind of a table file (transport.core.sealed).
RESPONSE_KIND = "cascade response table"


@dataclass
class ResponseSpec:
    """What a table depends on (its key)."""
    model: str = "dominguez"
    cosmology: str = "planck18"
    settings: mc.Settings = field(default_factory=lambda: mc.Settings(thinning=0.8, tally_primary=False))
    per_cell: int = 200
    seed: int = 1
    z_nodes: tuple = Z_NODES
    E_inj_eV: tuple = tuple(np.geomspace(*E_INJ_RANGE_EV, int(round(np.log10(E_INJ_RANGE_EV[1] / E_INJ_RANGE_EV[0]) * E_INJ_PER_DECADE)) + 1).tolist())

    def claims(self) -> dict:
        """What the table claims to be: the spec as canonical text (every float rounded to
        KEY_DIGITS significant digits, so that grids computed in floating point on another
        machine, e.g. the np.geomspace of E_inj_eV, give the same text) and the SHA-256 of
        the sources that compute it."""
        return {"format": TABLE_FORMAT, "spec": _rounded(asdict(self)),
                "code": sources_digest(CODE_SOURCES)}

    def key(self) -> str:
        """SHA-256 of :meth:`claims` (portable: exact inputs, never computed arrays' bits)."""
        return claims_key(self.claims())


def _rounded(value):
    """``value`` (nested dicts/lists) with floats as their KEY_DIGITS-significant-digit text."""
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{KEY_DIGITS}g}"
    return value


def _table_problem(arrays: dict) -> str | None:
    """Sanity of a table read back: finite, G and its error >= 0, shapes consistent."""
    n_z, n_E, n_b = arrays["z"].size, arrays["E_inj_eV"].size, arrays["edges_eV"].size - 1
    return (shape_problem("G", arrays["G"], (n_z, n_E, n_b))
            or shape_problem("G_err", arrays["G_err"], (n_z, n_E, n_b))
            or shape_problem("tau", arrays["tau"], (arrays["lnE_tau"].size, arrays["z_tau"].size))
            or finite_problem({n: arrays[n] for n in ("z", "E_inj_eV", "edges_eV", "G", "G_err",
                                                       "tau")})
            or finite_problem({n: arrays[n] for n in ("lnE_tau", "z_tau")}, nonnegative=False))


@dataclass
class ResponseTable:
    """G (n_z, n_E, n_bins) [eV^-1 per injected photon] and its standard error on the nodes,
    the observed-energy bin edges, and the photon optical depth tau(E0, z) on (lnE_tau, z_tau)."""
    z: np.ndarray
    E_inj_eV: np.ndarray
    edges_eV: np.ndarray
    G: np.ndarray
    G_err: np.ndarray
    lnE_tau: np.ndarray
    z_tau: np.ndarray
    tau: np.ndarray
    key: str
    attrs: dict

    @property
    def E_obs_eV(self):
        """Geometric bin centres [eV]."""
        return np.sqrt(self.edges_eV[1:] * self.edges_eV[:-1])

    def tau_photon(self, E0_eV, z):
        """Photon optical depth from z (bilinear in ln E0, z) of the cascade's own rates;
        E0_eV and z broadcast together."""
        E0, zz = np.broadcast_arrays(np.asarray(E0_eV, dtype=float), np.asarray(z, dtype=float))
        dl = self.lnE_tau[1] - self.lnE_tau[0]
        t = np.clip((np.log(E0) - self.lnE_tau[0]) / dl, 0, self.lnE_tau.size - 1.000001)
        i = t.astype(int)
        f = t - i
        dz = self.z_tau[1] - self.z_tau[0]
        u = np.clip(zz / dz, 0.0, self.z_tau.size - 1.000001)
        k = u.astype(int)
        g = u - k
        T = self.tau
        lo = (1 - f) * T[i, k] + f * T[i + 1, k]
        hi = (1 - f) * T[i, k + 1] + f * T[i + 1, k + 1]
        return (1 - g) * lo + g * hi

    def _energy_weights(self, L):
        lnE = np.log(self.E_inj_eV)
        w = np.zeros_like(lnE)
        d = np.diff(lnE)
        w[:-1] += 0.5 * d
        w[1:] += 0.5 * d
        return w * self.E_inj_eV * L(self.E_inj_eV)

    def single_source(self, z_source, L, with_error=False):
        """Cascade spectrum dN/dE_obs [eV^-1 s^-1] at the bin centres of a source at z_source
        emitting L(E) [s^-1 eV^-1] (local energies): linear in z between nodes, trapezoid in
        ln E_inj. with_error: also the statistical error from G_err."""
        z_all = np.concatenate([[0.0], self.z])
        if not 0.0 <= z_source <= z_all[-1]:
            raise ArgumentError(f"z_source = {z_source!r} is outside the response table: allowed "
                                f"0 <= z_source <= {z_all[-1]:g}")
        j = min(np.searchsorted(z_all, z_source, side="right") - 1, z_all.size - 2)
        g = (z_source - z_all[j]) / (z_all[j + 1] - z_all[j])
        pad = np.zeros((1,) + self.G.shape[1:])
        G_all = np.concatenate([pad, self.G])
        E_all = np.concatenate([pad, self.G_err])
        w = self._energy_weights(L)
        value = w @ ((1 - g) * G_all[j] + g * G_all[j + 1])
        if not with_error:
            return value
        var = (w ** 2) @ ((1 - g) ** 2 * E_all[j] ** 2 + g ** 2 * E_all[j + 1] ** 2)
        return value, np.sqrt(var)

    def cascade_intensity(self, L, universe: Universe):
        """Eq. (2) of :mod:`montecarlo.cascade.extragalactic` at the bin centres
        [cm^-2 s^-1 sr^-1 eV^-1]."""
        z_all = np.concatenate([[0.0], self.z])
        if universe.z_max > z_all[-1] + 1e-9:
            raise ArgumentError(f"z_max = {universe.z_max:g} is above the response table's last "
                                f"node {z_all[-1]:g}")
        wz = np.zeros_like(z_all)
        d = np.diff(z_all)
        wz[:-1] += 0.5 * d
        wz[1:] += 0.5 * d
        z = self.z
        Wz = (wz[1:] * universe.n_gal_cm3(z) / ((1.0 + z) * cosmo.hubble_per_s(z, universe.cosmology)))
        return C_CM_S / (4.0 * np.pi) * np.einsum("j,i,jib->b", Wz, self._energy_weights(L), self.G)

    def gamma_intensity(self, E0_eV, L, universe: Universe):
        """Extragalactic gamma rays at E0_eV: eq. (1) with this table's tau plus the cascade
        (2) interpolated log-log from the bin centres (zero outside them)."""
        E0 = np.asarray(E0_eV, dtype=float)
        direct = direct_intensity(E0, L, universe, tau=self.tau_photon)
        casc = self.cascade_intensity(L, universe)
        Ec = self.E_obs_eV
        with np.errstate(divide="ignore"):
            lc = np.log(np.maximum(casc, 1e-300))
        c = np.exp(np.interp(np.log(E0), np.log(Ec), lc))
        c = np.where((E0 >= self.edges_eV[0]) & (E0 <= self.edges_eV[-1]) & (c > 1e-299), c, 0.0)
        return direct, c

    # ------------------------------------------------------------------ I/O
    ARRAYS = (("z", ""), ("E_inj_eV", "eV"), ("edges_eV", "eV"), ("G", "eV^-1"),
              ("G_err", "eV^-1"), ("lnE_tau", "ln eV"), ("z_tau", ""), ("tau", ""))

    def write(self, path, cfg=None, seeds=None, claims=None):
        """Write atomically, sealed (transport.core.sealed) with ``claims`` (those of the spec
        that built it: :meth:`ResponseSpec.claims`) and a checksum of every array."""
        if claims is None:
            raise ArgumentError("ResponseTable.write needs the claims of its spec "
                                "(ResponseSpec.claims())")
        with atomic_hdf5(path) as fh:
            fh.attrs.update(provenance(cfg, seeds))
            fh.attrs.update({k: v for k, v in self.attrs.items()
                             if k not in fh.attrs and not k.startswith("seal_")})
            fh.attrs["response_key"] = self.key
            for name, unit in self.ARRAYS:
                data = np.asarray(getattr(self, name))
                ds = fh.create_dataset(name, data=data, **({"compression": "gzip", "shuffle": True}
                                                           if data.size > 4096 else {}))
                ds.attrs["units"] = unit
            seal(fh, RESPONSE_KIND, claims)

    @classmethod
    def read(cls, path, claims=None):
        """The table at ``path`` after its seal is checked (kind, ``claims`` when given,
        checksums) and its arrays are sane; raises SealError naming the file and the problem."""
        def load(fh):
            arrays = {n: fh[n][()] for n, _ in cls.ARRAYS}
            attrs = {k: fh.attrs[k] for k in fh.attrs}
            return arrays, attrs

        arrays, attrs = read_sealed(path, "/", RESPONSE_KIND, claims, load,
                                    lambda got: _table_problem(got[0]), what="response table")
        return cls(**arrays, key=str(attrs.get("seal_key", "")), attrs=attrs)


def bundled_path(model: str) -> Path:
    return Path(inputs_dir()) / "cascade" / f"response_{model}.h5"


def build(cfg, spec: ResponseSpec, progress=False, checkpoint_path=None) -> ResponseTable:
    """Run the Monte Carlo for every (z, E_inj) node (under mpirun: all ranks)."""
    tables = interactions.cascade_tables(cfg, spec.model, spec.cosmology, max(spec.z_nodes), progress)
    z = np.asarray(spec.z_nodes, dtype=float)
    E = np.asarray(spec.E_inj_eV, dtype=float)
    zz, EE = np.meshgrid(z, E, indexing="ij")
    tally = mc.run_cells(tables, spec.settings, EE.ravel(), zz.ravel(), spec.per_cell, spec.seed,
                         checkpoint_path=checkpoint_path, progress=progress)
    dn, err = tally.dN_dE()
    shape = (z.size, E.size, -1)
    closure = tally.closure()
    attrs = {"spec_json": json.dumps(asdict(spec), default=str),
             "energy_closure_max": float(np.max(np.abs(closure))),
             "energy_closure_mean": float(np.mean(closure)),
             "events_pairs": float(tally.counters[ck.CNT_PAIRS]),
             "events_ic": float(tally.counters[ck.CNT_IC])}
    return ResponseTable(z, E, tally.edges_eV, dn.reshape(shape), err.reshape(shape),
                         tables.lnE, tables.z_tau, tables.tau_gamma, spec.key(), attrs)


def response_table(cfg, spec: ResponseSpec | None = None, progress=False, build_missing=True):
    """The response table of ``spec``: the bundled one (inputs/cascade/) or the cached one
    when its seal matches the spec and its checksums hold, else built now (under mpirun on
    all ranks) and cached. A table for another spec or code is passed over; a corrupt one
    (checksum, NaN, shape) is reported with a RebuildWarning and replaced."""
    spec = spec or ResponseSpec()
    claims = spec.claims()
    key = claims_key(claims)
    cached = cache_directory(cfg) / f"response-{spec.model}-{key[:20]}.h5"
    for path in (bundled_path(spec.model), cached):
        if not path.is_file():
            continue
        try:
            return ResponseTable.read(path, claims)
        except SealError as exc:
            if exc.problem is None or exc.problem.reason not in ("spec", "code", "format"):
                warnings.warn(f"{exc}; not used", RebuildWarning, stacklevel=2)
    if not build_missing:
        raise CoronaError(f"no response table for {spec.model!r} with key {key[:20]}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    table = build(cfg, spec, progress, checkpoint_path=cached.with_suffix(".checkpoint.h5"))
    if rank_and_size(world())[0] == 0:
        table.write(cached, cfg, seeds={"seed": spec.seed}, claims=claims)
    return table
