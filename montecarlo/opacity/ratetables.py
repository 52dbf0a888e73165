"""Interaction-rate tables for pair production, built once and cached on disk in HDF5.

Tables (all rates are inverse mean free paths, CGS inside, kpc^-1 where paths are in kpc):

- CMB: 1/lambda(E) at T0 on a ln E grid (32 per decade); at redshift z,
  1/lambda(E, z) = (1 + z)^3 1/lambda(E (1 + z), 0) (the black body only rescales).
- EBL and user tables ("tabulated"): 1/lambda(E, z) on (ln E, z) grids from the proper
  photon density (Gould & Schreder kernel, :func:`montecarlo.opacity.breit_wheeler.isotropic_rate_per_cm`).
- Dust: the direction-dependent rate 1/lambda(E; R, |z|, mu, psi) of eq. (1) of
  :mod:`montecarlo.opacity.breit_wheeler` and its angle-averaged approximation 1/lambda(E; R, |z|)
  on an (R, z) grid, from line-of-sight columns of dust binned in temperature.

Every file carries provenance (code version, creation time, the resolved config) and the
SHA-256 key of what it was built from (config sections, data files, grid, TABLE_VERSION and
the source code of the table modules); a table is rebuilt when the key changes, and when a
dataset's stored SHA-256 or a sanity check (finite, monotonic grids, rates >= 0) fails. Cache directory: opacity.cache_dir, "auto" =
$CORONA_CACHE_DIR, else $XDG_CACHE_HOME/corona, else ~/.cache/corona.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from transport.core.constants import K_B_EV_K, KPC_CM, M_E_EV, SIGMA_T_CM2
from transport.core.errors import ArgumentError, CoronaError
from transport.core.grid import log_grid

from montecarlo.opacity import kernels as _kernels
from montecarlo.fields import cmb as cmb_field
from montecarlo.fields.dust import (DustModel, direction_grid, direction_grid_mu,
                                    photon_density_per_column)
from montecarlo.opacity.breit_wheeler import gs_kernel, isotropic_rate_per_cm, sigma_gg_cm2
from transport.core.output import atomic_hdf5, provenance
from transport.core.sealed import array_digest  # the project's one checksum (stored per dataset)
from montecarlo.fields import ebl as ebl_field
from montecarlo.fields import tabulated
from transport.core.data import input_path
from transport.core.cachedir import cache_root
from transport.core.progress import note, track
from montecarlo.fields.dust import direct_photon_density
from montecarlo.opacity.breit_wheeler import anisotropic_rate_per_cm

#: Bump when the way a table is computed changes (invalidates cached files).
TABLE_VERSION = 3
#: Energy range of every table and of the public API [eV].
E_MIN_EV = 1.0e9
E_MAX_EV = 1.0e20
#: Energy range of the dust tables [eV]: below it no dust photon (T < 200 K) is above the
#: pair threshold (the build checks the rate there is < 1e-9 of its maximum and uses zero);
#: above it ln(rate) is extrapolated linearly in ln E (rate ~ ln E / E, far below the CMB's).
DUST_E_RANGE_EV = (1.0e11, 1.0e19)

#: Dust-table resolutions. R, z nodes [kpc]; photon directions: n_mu_k sinh-spaced cosines x
#: n_phi_k azimuths on [0, pi] (mirrored) for the rays, merged by ``group`` cosines for the
#: angular integral of the rate; gamma directions: n_mu_u x n_psi_u uniform;
#: E_per_decade; n_T temperature bins (2-200 K, uniform in ln T); y_ratio: sub-steps of the
#: kernel grid per energy step. "fine" agrees with the direct calculation to < 1 %.
DUST_GRIDS = {
    "fine": dict(
        R=[0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10,
           11, 12, 13, 14, 15, 16, 17, 18, 20, 22, 25, 30, 40, 60, 100],
        z=[0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1, 1.5, 2.5, 4, 7, 12, 20,
           35, 60, 100],
        n_mu_k=64, n_phi_k=25, group=2, n_mu_u=25, n_psi_u=13, E_per_decade=8, n_T=160,
        y_ratio=8),
    "coarse": dict(
        R=[0, 1, 2, 3, 4, 5, 6, 7, 8, 8.5, 9, 10, 12, 15, 20, 30, 50, 100],
        z=[0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3, 8, 20, 100],
        n_mu_k=32, n_phi_k=13, group=2, n_mu_u=9, n_psi_u=7, E_per_decade=8, n_T=96,
        y_ratio=8),
}
_T_RANGE_K = (2.0, 200.0)
_EPS_DUST_EV = (1.25e-4, 1.2)          # Draine's table spans 1e-4 - 1e4 micron
_RAY = dict(s_inner=1.0, ds_inner=0.05, ds_outer=0.2, R_box=60.0, z_box=6.0)


# --------------------------------------------------------------------------- energy grids
def energy_grid(per_decade: int, lo: float = E_MIN_EV, hi: float = E_MAX_EV) -> np.ndarray:
    """Log-spaced gamma-ray energies from lo to hi [eV] (both included)."""
    return log_grid(lo, hi, per_decade)


def check_energies(E_eV, argument: str = "E_eV") -> np.ndarray:
    """E as a float array, or ArgumentError if any value is outside [E_MIN_EV, E_MAX_EV]."""
    E = np.asarray(E_eV, dtype=float)
    bad = ~np.isfinite(E) | (E < E_MIN_EV) | (E > E_MAX_EV)
    if np.any(bad):
        raise ArgumentError(f"{argument} = {float(E[bad].ravel()[0]):g} is outside the tabulated "
                            f"range: allowed {E_MIN_EV:g} <= {argument} <= {E_MAX_EV:g} eV")
    return E


def _interp_index(grid_ln: np.ndarray, x_ln: np.ndarray):
    """Left index and linear weight of x on a uniform ascending grid (clamped)."""
    step = grid_ln[1] - grid_ln[0]
    t = np.clip((x_ln - grid_ln[0]) / step, 0.0, grid_ln.size - 1.000000001)
    i = t.astype(np.int64)
    return i, t - i


# --------------------------------------------------------------------------- cache
def cache_directory(cfg) -> Path:
    """Where rate tables are cached (see module docstring)."""
    value = cfg.opacity.cache_dir
    if value and value != "auto":
        return Path(value).expanduser()
    return cache_root()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


#: Modules whose source code the tables are computed by: any edit rebuilds the tables.
_TABLE_SOURCES = ("opacity/breit_wheeler.py", "opacity/ratetables.py", "opacity/kernels.py",
                  "fields/__init__.py", "fields/cmb.py", "fields/ebl.py", "fields/dust.py",
                  "fields/dust_kernels.py", "fields/tabulated.py")


@lru_cache(maxsize=None)
def code_digest() -> str:
    """SHA-256 of the source of the modules that compute the rate tables."""
    here = Path(__file__).resolve().parent.parent      # the montecarlo package
    digest = hashlib.sha256()
    for name in _TABLE_SOURCES:
        digest.update(name.encode())
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def table_key(kind: str, spec: dict) -> str:
    """SHA-256 of everything a table depends on: ``spec`` (config sections, data files, grid;
    JSON-serialisable), TABLE_VERSION and the source code of the table modules."""
    payload = json.dumps({"kind": kind, "version": TABLE_VERSION, "code": code_digest(), **spec},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


#: 1-D grids of the tables (must be finite and strictly monotonic).
_GRID_NAMES = ("E_eV", "z", "R_kpc", "z_kpc", "mu", "psi")


class CacheWarning(UserWarning):
    """A cached table was corrupt (rebuilt) or the cache directory cannot be written."""


#: Cache directories already reported as unwritable (warned once per process).
_UNWRITABLE: set = set()


def table_problem(arrays: dict) -> str | None:
    """What is wrong with loaded table arrays, or None: every value finite, the 1-D grids
    strictly monotonic, rates and energy densities (not their logarithms) non-negative."""
    for name, data in arrays.items():
        data = np.asarray(data)
        if data.size == 0:
            return f"{name} is empty"
        if not np.all(np.isfinite(data)):
            return f"{name} has NaN or infinite values"
        if name in _GRID_NAMES and data.ndim == 1 and data.size > 1:
            step = np.diff(data)
            if not (np.all(step > 0) or np.all(step < 0)):
                return f"grid {name} is not strictly monotonic"
        if not name.startswith("ln_") and ("rate" in name or name.startswith("u_")) \
                and np.any(data < 0):
            return f"{name} has negative values"
    return None


def _load_cached(path: Path, key: str, names):
    """The named datasets of a cached table, or None if absent, stale, unreadable, altered
    (SHA-256 of a dataset differs from the one stored with it) or not a sane table (then a
    CacheWarning says it is rebuilt)."""
    import h5py
    if not path.is_file():
        return None
    try:
        with h5py.File(path, "r") as fh:
            if fh.attrs.get("table_key") != key:
                return None
            arrays, altered = {}, []
            for n in names:
                arrays[n] = fh[n][()]
                if fh[n].attrs.get("sha256") != array_digest(arrays[n]):
                    altered.append(n)
    except (OSError, KeyError, ValueError):
        return None
    problem = (f"checksum mismatch in {', '.join(altered)}" if altered else table_problem(arrays))
    if problem:
        warnings.warn(f"cached rate table '{path}' is corrupt ({problem}); rebuilding it",
                      CacheWarning, stacklevel=3)
        return None
    return arrays


def _save(path: Path, key: str, cfg, arrays: dict, units: dict, spec: dict):
    with atomic_hdf5(path) as fh:
        for k, v in provenance(cfg).items():
            fh.attrs[k] = v
        fh.attrs["table_key"] = key
        fh.attrs["table_version"] = TABLE_VERSION
        fh.attrs["table_spec"] = json.dumps(spec, sort_keys=True)
        for name, data in arrays.items():
            data = np.asarray(data)
            ds = fh.create_dataset(name, data=data, **({"compression": "gzip", "shuffle": True}
                                                       if data.size > 4096 else {}))
            ds.attrs["units"] = units[name]
            ds.attrs["sha256"] = array_digest(data)


def cached_table(kind: str, cfg, spec: dict, build, units: dict, progress=False):
    """Load the table ``kind`` with dependencies ``spec`` from the cache, or build and save it.

    build(progress) -> dict of arrays. Returns (arrays, path, built) where built tells
    whether the table was computed now. A cache directory that cannot be written is reported
    once per process (CacheWarning); the table is then kept in memory only.
    """
    key = table_key(kind, spec)
    directory = cache_directory(cfg)
    path = directory / f"{kind}-{key[:20]}.h5"
    arrays = _load_cached(path, key, units)
    if arrays is not None:
        return arrays, path, False
    note(f"building the {kind} rate table (first run only; cached in {directory})")
    arrays = build(progress)
    problem = table_problem(arrays)
    if problem:               # would be rejected on every load: keep it in memory only
        warnings.warn(f"rate table {kind}: {problem}; not cached", CacheWarning, stacklevel=2)
        return arrays, path, True
    try:
        _save(path, key, cfg, arrays, units, spec)
    except CoronaError as exc:
        warn_cache_unwritable(directory, exc)
    return arrays, path, True


def warn_cache_unwritable(directory, reason) -> None:
    """CacheWarning that ``directory`` cannot hold the cache, once per directory and process."""
    if str(directory) not in _UNWRITABLE:
        _UNWRITABLE.add(str(directory))
        warnings.warn(f"cannot cache rate tables in '{directory}' ({reason}); they are rebuilt "
                      "on every run: set opacity.cache_dir or $CORONA_CACHE_DIR to a writable "
                      "directory", CacheWarning, stacklevel=3)


# --------------------------------------------------------------------------- isotropic tables
@dataclass
class IsotropicRateTable:
    """ln(1/lambda [cm^-1]) on a uniform ln E grid and a z grid; cubic Lagrange interpolation
    in ln E (the dust tables' :func:`energy_stencil`), linear in z. Cubic, not linear: near
    the pair threshold ln(rate) ~ -E_0/E bends so strongly that ln-linear interpolation on 32
    nodes per decade is off by 0.6 % at 1e14 eV in the CMB; cubic by < 1e-5. The
    below-threshold floor is continued smoothly (:func:`smooth_floor`) so that the cubic
    cannot overshoot there; where ln-linear interpolation of the unsmoothed table is below
    the floor (below threshold, e.g. under the EBL's UV edge) the rate stays exactly zero."""
    lnE: np.ndarray            # (n_E,) uniform
    z: np.ndarray              # (n_z,) ascending
    ln_rate: np.ndarray        # (n_z, n_E)
    name: str

    def __post_init__(self):
        self._raw = np.array(self.ln_rate, dtype=float)
        self.ln_rate = smooth_floor(self._raw.copy())

    def rate_per_cm(self, E_eV, z=0.0):
        """1/lambda [cm^-1] at energies E (any shape) and one redshift z (proper units)."""
        E = np.asarray(E_eV, dtype=float)
        if self.z.size == 1:
            if z != self.z[0]:
                raise ArgumentError(f"z = {z!r}: the field {self.name!r} is tabulated only at "
                                    f"z = {self.z[0]:g}")
            row, raw = self.ln_rate[0], self._raw[0]
        else:
            if not self.z[0] <= z <= self.z[-1]:
                raise ArgumentError(f"z = {z!r} is outside the field {self.name!r}: allowed "
                                    f"{self.z[0]:g} <= z <= {self.z[-1]:g}")
            iz = min(np.searchsorted(self.z, z, side="right") - 1, self.z.size - 2)
            wz = (z - self.z[iz]) / (self.z[iz + 1] - self.z[iz])
            row = (1.0 - wz) * self.ln_rate[iz] + wz * self.ln_rate[iz + 1]
            raw = (1.0 - wz) * self._raw[iz] + wz * self._raw[iz + 1]
        grid = np.exp(self.lnE)
        iE, wE, _ = energy_stencil(grid, np.clip(E, grid[0], grid[-1]).ravel())
        rate = np.exp(np.sum(wE * row[iE[:, None] + np.arange(4)], axis=1)).reshape(E.shape)
        i, w = _interp_index(self.lnE, np.log(E))
        linear = (1.0 - w) * raw[i] + w * raw[i + 1]
        return np.where((rate > _RATE_ZERO) & (linear > np.log(_RATE_ZERO)), rate, 0.0)


#: Rates below this [cm^-1] (mean free paths beyond 1e170 Gpc) are stored as 1e-300 and
#: returned as zero: the field is below the pair threshold there.
_RATE_ZERO = 1e-200


def cmb_rate_direct_per_cm(E_eV, T_K, n_nodes=128):
    """CMB 1/lambda [cm^-1] by direct integration of eq. (2) of
    :mod:`montecarlo.opacity.breit_wheeler` over the black body at temperature T.

    The integral over ln eps runs from the pair threshold eps_th = m_e^2 c^4 / E (or 1e-4 kT,
    whichever is larger) to 50 kT, substituted ln eps = ln eps_lo + v^2 and done with
    ``n_nodes``-point Gauss-Legendre in v: the kernel rises from the threshold as
    (eps - eps_th)^(3/2), which a fixed eps grid resolves badly when the threshold lies in the
    Wien tail (a 64-per-decade trapezoid was off by 0.1-0.9 % at 0.5-2e14 eV); the
    substitution makes the integrand smooth. Agrees with a 2-D (energy, angle) brute force
    to 2e-5 (the Gould & Schreder kernel table's interpolation).
    """
    E = np.atleast_1d(np.asarray(E_eV, dtype=float)).ravel()
    kT = K_B_EV_K * float(T_K)
    lo = np.maximum(M_E_EV ** 2 / E, 1e-4 * kT)
    span = np.log(50.0 * kT / lo)
    out = np.zeros(E.shape)
    ok = span > 0.0                                  # else: threshold above 50 kT, rate 0
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    root = np.sqrt(span[ok])[:, None]
    v = 0.5 * (x + 1.0)[None, :] * root
    eps = lo[ok][:, None] * np.exp(v * v)
    integrand = gs_kernel(E[ok][:, None] * eps / M_E_EV ** 2) * eps * cmb_field.dn_deps(eps, T_K)
    out[ok] = SIGMA_T_CM2 * np.sum(integrand * 2.0 * v * (0.5 * w[None, :] * root), axis=1)
    return out.reshape(np.shape(E_eV))


def cmb_table(cfg, progress=False):
    """The CMB rate at T0 = fields.cmb_T0_K on the 32-per-decade energy grid (cached)."""
    T0 = cfg.fields.cmb_T0_K
    E = energy_grid(32)
    spec = {"T0_K": T0, "E": [E_MIN_EV, E_MAX_EV, 32]}

    def build(progress):
        return {"E_eV": E, "rate_per_cm": cmb_rate_direct_per_cm(E, T0)}
    arrays, _, _ = cached_table("cmb", cfg, spec, build, {"E_eV": "eV", "rate_per_cm": "cm^-1"},
                                progress)
    ln_rate = np.log(np.maximum(arrays["rate_per_cm"], 1e-300))[None, :]
    return IsotropicRateTable(np.log(arrays["E_eV"]), np.array([0.0]), ln_rate, "cmb")


def ebl_z_grid(z_max: float) -> np.ndarray:
    """Redshift nodes of the EBL rate tables: steps of 0.01 to z = 1, 0.025 beyond."""
    z1 = np.arange(0.0, min(z_max, 1.0) + 1e-9, 0.01)
    if z_max > 1.0:
        z2 = np.arange(1.0, z_max + 1e-9, 0.025)[1:]
        z1 = np.concatenate([z1, z2])
    if z1[-1] < z_max - 1e-9:
        z1 = np.append(z1, z_max)
    return z1


def ebl_table(cfg, model=None, progress=False):
    """EBL rate table of ``model`` (default fields.ebl_model) on (E, z), cached."""
    from importlib import metadata

    model = ebl_field.check_model(model or cfg.fields.ebl_model)
    dens = ebl_field.density(model)
    E = energy_grid(32)
    z = ebl_z_grid(dens.z_range[1])
    lo, hi = dens.eps_range_eV
    eps = np.geomspace(lo, hi, int(np.ceil(np.log10(hi / lo) * 48)) + 1)
    spec = {"model": model, "ebltable": metadata.version("ebltable"),
            "E": [E_MIN_EV, E_MAX_EV, 32], "z": [float(z[-1]), int(z.size)]}

    def build(progress):
        n = dens.dn_deps(eps, z)                               # (n_eps, n_z)
        ln_rate = np.empty((z.size, E.size))
        for iz in track(range(z.size), progress, f"EBL pair-production rates ({model})", unit="z"):
            ln_rate[iz] = np.log(np.maximum(isotropic_rate_per_cm(E, eps, n[:, iz]), 1e-300))
        return {"E_eV": E, "z": z, "rate_per_cm": np.exp(ln_rate)}
    arrays, _, _ = cached_table(f"ebl-{model}", cfg, spec, build,
                                {"E_eV": "eV", "z": "", "rate_per_cm": "cm^-1"}, progress)
    return IsotropicRateTable(np.log(arrays["E_eV"]), arrays["z"],
                              np.log(np.maximum(arrays["rate_per_cm"], 1e-300)), model)


def tabulated_table(cfg, progress=False):
    """Rate table of the user's isotropic field (fields.tabulated_file), cached."""
    field = tabulated.load(cfg.fields.tabulated_file)
    E = energy_grid(32)
    spec = {"file": str(field.path), "sha256": _file_digest(field.path),
            "E": [E_MIN_EV, E_MAX_EV, 32]}

    def build(progress):
        eps = field.fine_energy_grid()
        rates = np.array([isotropic_rate_per_cm(E, eps, field.dn_deps(eps, zz))
                          for zz in field.z])
        return {"E_eV": E, "z": field.z, "rate_per_cm": rates}
    arrays, _, _ = cached_table("tabulated", cfg, spec, build,
                                {"E_eV": "eV", "z": "", "rate_per_cm": "cm^-1"}, progress)
    return IsotropicRateTable(np.log(arrays["E_eV"]), arrays["z"],
                              np.log(np.maximum(arrays["rate_per_cm"], 1e-300)), "tabulated")


# --------------------------------------------------------------------------- dust geometry
@dataclass
class PhotonDirections:
    """Target-photon directions k in the local frame (e_R, e_phi, e_z).

    Rays are traced along the fine "half" set (n_mu sinh-spaced cosines x n_phi azimuths in
    [0, pi]; the fields are mirror-symmetric about the R-z plane): k_half, w_half (solid
    angles including the mirror images; sum 4 pi). The rate sums over the coarser "groups"
    (``group`` consecutive cosines merged, photon number conserved, at the number-weighted
    mean direction): half direction h adds group_w[h] of its kernel to group group_of[h];
    the full set k_full (groups and the mirror images of the interior azimuths) refers to
    its group by half_of, with solid angles w_full.
    """
    k_half: np.ndarray
    w_half: np.ndarray
    group_of: np.ndarray
    group_w: np.ndarray
    k_full: np.ndarray
    half_of: np.ndarray
    w_full: np.ndarray


def photon_directions(n_mu: int, n_phi_half: int, group: int = 1) -> PhotonDirections:
    """The photon-direction sets of the dust table (see :class:`PhotonDirections`):
    trapezoid weights in the sinh-spaced mu, periodic trapezoid in azimuth."""
    if n_mu % group:
        raise ValueError("n_mu must be a multiple of group")
    mu, w_mu = direction_grid_mu(n_mu)
    phi = np.linspace(0.0, np.pi, n_phi_half)
    dphi = phi[1] - phi[0]
    st = np.sqrt(np.clip(1.0 - mu * mu, 0.0, 1.0))
    mirrored = (np.arange(n_phi_half) > 0) & (np.arange(n_phi_half) < n_phi_half - 1)
    k_half = np.stack([np.outer(st, np.cos(phi)), np.outer(st, np.sin(phi)),
                       np.repeat(mu[:, None], n_phi_half, axis=1)], axis=-1).reshape(-1, 3)
    w_single = np.outer(w_mu, np.full(n_phi_half, dphi)).ravel()
    w_half = w_single * np.tile(np.where(mirrored, 2.0, 1.0), n_mu)
    i_mu, j_phi = np.divmod(np.arange(n_mu * n_phi_half), n_phi_half)
    group_of = (i_mu // group) * n_phi_half + j_phi
    n_groups = (n_mu // group) * n_phi_half
    W = np.bincount(group_of, weights=w_single, minlength=n_groups)
    group_w = w_single / W[group_of]
    k_group = np.stack([np.bincount(group_of, weights=w_single * k_half[:, c], minlength=n_groups)
                        for c in range(3)], axis=-1)
    k_group /= np.linalg.norm(k_group, axis=1)[:, None]
    g_mirrored = np.tile(mirrored, n_mu // group)
    k_full = np.concatenate([k_group, k_group[g_mirrored] * np.array([1.0, -1.0, 1.0])])
    half_of = np.concatenate([np.arange(n_groups), np.nonzero(g_mirrored)[0]]).astype(np.int64)
    w_full = np.concatenate([W, W[g_mirrored]])
    return PhotonDirections(k_half, w_half, group_of.astype(np.int64), group_w, k_full,
                            half_of, w_full)


def gamma_directions(n_mu: int, n_psi: int):
    """Gamma-ray direction grid: mu uniform in [-1, 1], psi uniform in [0, pi]; (mu, psi, u)."""
    mu = np.linspace(-1.0, 1.0, n_mu)
    psi = np.linspace(0.0, np.pi, n_psi)
    st = np.sqrt(np.clip(1.0 - mu * mu, 0.0, 1.0))
    u = np.stack([st[:, None] * np.cos(psi)[None, :], st[:, None] * np.sin(psi)[None, :],
                  np.repeat(mu[:, None], n_psi, axis=1)], axis=-1).reshape(-1, 3)
    return mu, psi, u


@dataclass
class DustKernels:
    """Temperature-bin kernels of the dust field (built once per model and grid).

    lnT (n_T,): bin temperatures (uniform in ln T); Q (n_T, n_y): Integral d eps J_b(eps)
    sigma(2 y eps) on the ln y grid; P (n_T, n_E): sigma_T Integral d eps J_b g(E eps/m^2)
    (angle-averaged kernel); U (n_T,): Integral d eps eps J_b [eV]. J_b = dn/(d eps dOmega)
    per unit dust column at T_b [cm^-3 eV^-1 sr^-1 per g cm^-2].
    """
    lnT: np.ndarray
    Q: np.ndarray
    P: np.ndarray
    U: np.ndarray
    lny0: float
    dly: float


def dust_kernels(model: DustModel, E: np.ndarray, n_T: int, y_ratio: int) -> DustKernels:
    """Compute the temperature-bin kernels (see :class:`DustKernels`)."""
    lnT = np.linspace(np.log(_T_RANGE_K[0]), np.log(_T_RANGE_K[1]), n_T)
    lo, hi = _EPS_DUST_EV
    eps = np.geomspace(lo, hi, int(np.ceil(np.log10(hi / lo) * 96)) + 1)
    J = photon_density_per_column(eps, np.exp(lnT), model.kappa_file)      # (n_T, n_eps)
    dl = np.diff(np.log(eps))
    wq = np.zeros_like(eps)
    wq[:-1] += 0.5 * dl
    wq[1:] += 0.5 * dl
    Jw = J * (wq * eps)[None, :]                                          # d ln eps weights
    dlnE = np.log(E[1] / E[0])
    dly = dlnE / y_ratio
    y_thr = 2.0 * M_E_EV ** 2 / hi                                        # F(y) = 0 below
    M = int(np.ceil((np.log(E[0]) - np.log(y_thr)) / dly))
    n_y = M + y_ratio * (E.size - 1) + int(np.ceil(np.log(2.0) / dly)) + 2
    lny0 = np.log(E[0]) - M * dly
    y = np.exp(lny0 + dly * np.arange(n_y))
    Q = np.empty((n_T, n_y))
    for a in range(0, n_y, 64):                                           # chunks in y
        s = 2.0 * y[a:a + 64, None] * eps[None, :]
        Q[:, a:a + 64] = Jw @ sigma_gg_cm2(s).T
    P = SIGMA_T_CM2 * Jw @ gs_kernel(E[None, :] * eps[:, None] / M_E_EV ** 2)
    U = Jw @ eps
    return DustKernels(lnT, Q, P, U, float(lny0), float(dly))


def energy_stencil(E_grid, E_eV):
    """Stencils in ln E on the uniform grid E_grid (see DustRateTable.energy_weights):
    (iE, wE (n, 4), zero). Cubic Lagrange through nodes iE .. iE + 3; above the table linear
    extrapolation from the last two nodes; ``zero``: energies below the table."""
    E = check_energies(np.atleast_1d(E_eV)).ravel()
    n = E_grid.size
    t = (np.log(E) - np.log(E_grid[0])) / np.log(E_grid[1] / E_grid[0])
    zero = t < -1e-9
    t = np.maximum(t, 0.0)
    iE = np.clip(np.floor(t).astype(np.int64) - 1, 0, n - 4)
    x = t - iE                                  # position within the stencil nodes 0..3
    w = np.empty((E.size, 4))
    w[:, 0] = -(x - 1) * (x - 2) * (x - 3) / 6.0
    w[:, 1] = x * (x - 2) * (x - 3) / 2.0
    w[:, 2] = -x * (x - 1) * (x - 3) / 2.0
    w[:, 3] = x * (x - 1) * (x - 2) / 6.0
    above = t > n - 1                           # linear extrapolation from the last two nodes
    f = t[above] - (n - 2)
    w[above] = np.stack([np.zeros_like(f), np.zeros_like(f), 1.0 - f, f], axis=-1)
    return iE, np.ascontiguousarray(w), zero


#: ln(rate [kpc^-1]) below which a dust-table entry is the underflow floor (no photon above
#: the pair threshold, rate < 1e-300 cm^-1).
_LN_FLOOR_KPC = -400.0


def smooth_floor(ln_rate):
    """Replace the underflow floor at the low-energy end of every row (last axis) by a
    linear continuation of the first two resolved nodes, in place: ln(rate) then falls
    steadily below the pair threshold instead of jumping by hundreds, so the cubic energy
    interpolation cannot overshoot there (a plain cubic across the jump gave a spurious
    absorption spike at 2 TeV). The continued rates are < e^-40 kpc^-1: nothing physical
    changes."""
    valid = ln_rate > _LN_FLOOR_KPC
    has = valid.any(axis=-1) & valid[..., -2:].all(axis=-1)
    j0 = np.argmax(valid, axis=-1)
    j0 = np.where(has, np.minimum(j0, ln_rate.shape[-1] - 2), 0)
    v0 = np.take_along_axis(ln_rate, j0[..., None], axis=-1)
    v1 = np.take_along_axis(ln_rate, j0[..., None] + 1, axis=-1)
    slope = np.maximum(v1 - v0, 1.0)
    j = np.arange(ln_rate.shape[-1])
    fill = (j < j0[..., None]) & has[..., None]
    ln_rate[...] = np.where(fill, v0 - (j0[..., None] - j) * slope, ln_rate)
    return ln_rate


def direction_weights(u, k_full, w_full, E0, lny0, dly):
    """Interpolation data of eq. (1) on the kernel grid, for gamma directions u (n_u, 3)
    and target-photon directions k_full (n_k, 3) with solid-angle weights w_full: the rate
    is sum_k coef[u, k] F_k(E (1 - u.k)) with coef = w (1 - u.k), and E_j (1 - u.k) falls at
    index i0 + ratio j + frac of the ln y grid (ln y_m = lny0 + m dly; E_j = E0 e^(j ratio dly)).
    """
    one_minus = np.clip(1.0 - np.asarray(u) @ np.asarray(k_full).T, 0.0, 2.0)
    with np.errstate(divide="ignore"):
        t = np.log(one_minus) / dly + (np.log(E0) - lny0) / dly
    fl = np.floor(np.where(np.isfinite(t), t, 0.0))
    frac = np.where(np.isfinite(t), t - fl, 0.0)
    coef = np.where(one_minus > 0.0, np.asarray(w_full)[None, :] * one_minus, 0.0)
    return fl.astype(np.int64), frac, coef


def rate_from_kernels(E, u, k_full, half_of, w_full, F, lny0, dly, ratio):
    """Direction-dependent rate [F units x sr] on energies E (uniform in ln E with step
    ratio * dly) for gamma directions u: the same code path as the dust table. F (n_h, n_y):
    per-direction kernels F_h(y) = Integral d eps dn/(d eps dOmega) sigma(2 y eps) on the
    ln y grid; half_of maps each k_full to its row of F. Returns (n_u, n_E)."""
    i0, frac, coef = direction_weights(np.atleast_2d(u), k_full, w_full, E[0], lny0, dly)
    used = coef > 0.0
    if np.any(used) and i0[used].max() + ratio * (E.size - 1) + 2 > np.shape(F)[1]:
        raise ValueError(f"rate_from_kernels: the kernel grid ({np.shape(F)[1]} nodes) ends "
                         f"below y = E (1 - u.k) of the highest energy {E[-1]:.4g} eV: it must "
                         "reach 2 E_max (head-on collisions)")
    rate = np.zeros((i0.shape[0], E.size))
    _kernels.accumulate_rate(np.ascontiguousarray(F, dtype=float), np.asarray(half_of, np.int64),
                             i0, frac, coef, E.size, int(ratio), rate)
    return rate


@dataclass
class DustRateTable:
    """Dust pair-production rates on the (R, |z|) grid and the interpolation around them.

    ln_aniso (n_R, n_z, n_mu, n_psi, n_E) and ln_iso (n_R, n_z, n_E): ln(1/lambda [kpc^-1]);
    u_eV_cm3 (n_R, n_z): dust photon energy density. Beyond the grid (R > R[-1] or
    |z| > z[-1], 100 kpc) the edge value falls as 1/r^2 with the Galactocentric distance. The ln-rate tables are float32 (absolute
    precision ~1e-6 in ln rate, i.e. relative 1e-6 in the rate) to halve the memory; the
    logarithm (not the rate) is stored so that rates far below float32's range survive.
    """
    E_eV: np.ndarray
    R_kpc: np.ndarray
    z_kpc: np.ndarray
    mu: np.ndarray
    psi: np.ndarray
    ln_aniso: np.ndarray
    ln_iso: np.ndarray
    u_eV_cm3: np.ndarray

    def energy_weights(self, E_eV):
        """(iE, wE, zero): the 4-node stencils in ln E for the energies E
        (:func:`energy_stencil`): cubic Lagrange interpolation of ln(rate) inside the table,
        linear extrapolation above it; and the mask of energies below the table (rate 0)."""
        return energy_stencil(self.E_eV, E_eV)

    def max_rate_per_kpc(self, E_eV) -> np.ndarray:
        """Upper bound of 1/lambda [kpc^-1] over all positions and directions at energies E:
        the largest table rate at the stencil nodes (the clamped cubic stays between them;
        above the table the same linear extrapolation as the rates)."""
        ln_max = np.maximum(self.ln_aniso.max(axis=(0, 1, 2, 3)), self.ln_iso.max(axis=(0, 1)))
        iE, wE, zero = self.energy_weights(E_eV)
        nodes = ln_max[iE[:, None] + np.arange(4)[None, :]]
        above = np.log(np.atleast_1d(E_eV)).ravel() > np.log(self.E_eV[-1])
        ln_bound = np.where(above, np.sum(wE * nodes, axis=1), nodes.max(axis=1))
        return np.where(zero, 0.0, np.exp(ln_bound))

    MODES = ("anisotropic", "angle_averaged")

    def _check_mode(self, mode):
        if mode not in self.MODES:
            raise ArgumentError(f"mode = {mode!r} is not allowed: expected one of "
                                + ", ".join(repr(m) for m in self.MODES))

    def rate_per_kpc(self, x_kpc, u, E_eV, mode="anisotropic"):
        """Interpolated 1/lambda [kpc^-1] at Galactocentric points x (n, 3) for directions
        u (n, 3) and energies E: (n, n_E)."""
        self._check_mode(mode)
        x = np.ascontiguousarray(np.atleast_2d(x_kpc), dtype=float)
        u = np.ascontiguousarray(np.broadcast_to(np.atleast_2d(u), x.shape), dtype=float)
        iE, wE, zero = self.energy_weights(E_eV)
        out = np.empty((x.shape[0], iE.size))
        if mode == "anisotropic":
            _kernels.rate_at_aniso(self.ln_aniso, self.R_kpc, self.z_kpc, self.mu, self.psi,
                                   iE, wE, x, u, out)
        else:
            _kernels.rate_at_iso(self.ln_iso, self.R_kpc, self.z_kpc, iE, wE, x, out)
        out[:, zero] = 0.0
        return out

    def tau(self, starts_kpc, ends_kpc, E_eV, mode="anisotropic", segment_kpc=0.25,
            gl_order=4):
        """Optical depth along straight paths starts -> ends (n_paths, 3): (n_paths, n_E)."""
        self._check_mode(mode)
        starts = np.ascontiguousarray(np.atleast_2d(starts_kpc), dtype=float)
        ends = np.ascontiguousarray(np.broadcast_to(np.atleast_2d(ends_kpc), starts.shape),
                                    dtype=float)
        iE, wE, zero = self.energy_weights(E_eV)
        gx, gw = np.polynomial.legendre.leggauss(gl_order)
        out = np.empty((starts.shape[0], iE.size))
        if mode == "anisotropic":
            _kernels.tau_paths_aniso(self.ln_aniso, self.R_kpc, self.z_kpc, self.mu, self.psi,
                                     iE, wE, starts, ends, float(segment_kpc), gx, gw, out)
        else:
            _kernels.tau_paths_iso(self.ln_iso, self.R_kpc, self.z_kpc, iE, wE, starts, ends,
                                   float(segment_kpc), gx, gw, out)
        out[:, zero] = 0.0
        return out


def dust_spec(cfg) -> dict:
    """Everything the dust table depends on (for its cache key)."""
    d = cfg.to_dict()["dust"]
    return {"dust": d, "r_sun_kpc": cfg.observer.r_sun_kpc, "grid": cfg.opacity.grid,
            "grid_spec": DUST_GRIDS[cfg.opacity.grid], "ray": _RAY,
            "kappa_sha256": _file_digest(input_path(d["kappa_file"])),
            "E": list(DUST_E_RANGE_EV)}


def build_dust_arrays(model: DustModel, grid: dict, progress=False) -> dict:
    """Compute the dust rate table (see :class:`DustRateTable`) as plain arrays."""
    E = energy_grid(grid["E_per_decade"], *DUST_E_RANGE_EV)
    kern = dust_kernels(model, E, grid["n_T"], grid["y_ratio"])
    dirs = photon_directions(grid["n_mu_k"], grid["n_phi_k"], grid["group"])
    look = np.ascontiguousarray(-dirs.k_half)         # photons travelling along k come from -k
    mu_u, psi_u, u = gamma_directions(grid["n_mu_u"], grid["n_psi_u"])
    i0, frac, coef = direction_weights(u, dirs.k_full, dirs.w_full, E[0], kern.lny0, kern.dly)
    R = np.asarray(grid["R"], dtype=float)
    z = np.asarray(grid["z"], dtype=float)
    comp = model.component_array()
    aniso = np.empty((R.size, z.size, u.shape[0], E.size))
    iso = np.empty((R.size, z.size, E.size))
    energy = np.empty((R.size, z.size))
    Qc = np.ascontiguousarray(kern.Q)
    Pc = np.ascontiguousarray(kern.P)
    for iR in track(range(R.size), progress, "dust pair-production table (first run only)", unit="R"):
        _kernels.build_points(
            np.full(z.size, R[iR]), z, look, dirs.w_half, dirs.group_of, dirs.group_w,
            int(dirs.group_of.max()) + 1, comp, model.T_scale_kpc, model.r_sun_kpc, kern.lnT[0],
            kern.lnT[1] - kern.lnT[0], _RAY["s_inner"], _RAY["ds_inner"], _RAY["ds_outer"],
            _RAY["R_box"], _RAY["z_box"], Qc, Pc, np.ascontiguousarray(kern.U), dirs.half_of,
            i0, frac, coef, E.size, grid["y_ratio"], KPC_CM, aniso[iR], iso[iR], energy[iR])
    if iso[..., 0].max() > 1e-9 * iso.max():
        raise CoronaError("dust rate table: the rate at the lowest tabulated energy "
                          f"{E[0]:g} eV is not negligible; the dust temperatures are too high "
                          "for the table's energy range")
    shape = (R.size, z.size, mu_u.size, psi_u.size, E.size)
    ln_aniso = np.log(np.maximum(aniso.reshape(shape), 1e-300)) + np.log(KPC_CM)
    return {"E_eV": E, "R_kpc": R, "z_kpc": z, "mu": mu_u, "psi": psi_u,
            "ln_rate_aniso_per_kpc": ln_aniso.astype(np.float32),
            "rate_iso_per_cm": iso, "u_eV_cm3": energy}


_DUST_UNITS = {"E_eV": "eV", "R_kpc": "kpc", "z_kpc": "kpc", "mu": "", "psi": "rad",
               "ln_rate_aniso_per_kpc": "ln(kpc^-1)", "rate_iso_per_cm": "cm^-1",
               "u_eV_cm3": "eV cm^-3"}


def dust_table(cfg, progress=False) -> DustRateTable:
    """The dust rate table for the config's dust model and grid (cached)."""
    model = DustModel.from_config(cfg)
    grid = DUST_GRIDS[cfg.opacity.grid]
    arrays, _, _ = cached_table("dust", cfg, dust_spec(cfg),
                                lambda p: build_dust_arrays(model, grid, p), _DUST_UNITS, progress)
    ln_aniso = smooth_floor(np.array(arrays["ln_rate_aniso_per_kpc"], dtype=np.float32))
    ln_iso = smooth_floor((np.log(np.maximum(arrays["rate_iso_per_cm"], 1e-300))
                           + np.log(KPC_CM)).astype(np.float32))
    return DustRateTable(arrays["E_eV"], arrays["R_kpc"], arrays["z_kpc"], arrays["mu"],
                         arrays["psi"], np.ascontiguousarray(ln_aniso),
                         np.ascontiguousarray(ln_iso), arrays["u_eV_cm3"])


def dust_rate_direct_per_cm(model: DustModel, x_kpc, u, E_eV, n_mu=96, n_phi=96, n_eps=240,
                            n_steps=3000):
    """Reference dust rate [cm^-1] at one point and direction without any table: eq. (1)
    by direct quadrature over photon directions (n_mu sinh-spaced cosines x n_phi azimuths
    around the local e_z) and energies, the photon density from brute-force line-of-sight
    integration (:func:`montecarlo.fields.dust.direct_photon_density`). Slow; for tests and
    validation."""
    k, w = direction_grid(n_mu, n_phi)
    eps = np.geomspace(*_EPS_DUST_EV, n_eps)
    dn = direct_photon_density(model, eps, x_kpc, -k, n_steps=n_steps)
    return anisotropic_rate_per_cm(E_eV, np.asarray(u, dtype=float), k, w, eps, dn)
