"""Tabulated emissivities q(E, x) [cm^-3 s^-1 eV^-1] and their evaluation at arbitrary points.

Two geometries, each a table on a grid evaluated by the numba kernels of
:mod:`transport.emission.table_kernels` (which other kernels call directly, see there):

- :class:`SphericalEmission` (r_kpc, E_eV, q), q shape (n_E, n_r): the corona.
- :class:`AxisymmetricEmission` (R_kpc, z_kpc, E_eV, q), q shape (n_E, n_R, n_z): the
  Galactic plane, cocoons and unresolved sources; tables with z_kpc[0] >= 0 are mirrored
  (evaluated at |z|).

Points are Galactocentric Cartesian x, y, z [kpc]: the Galactic centre at the origin, z
perpendicular to the Galactic plane. q = 0 beyond the last node of every axis (e.g. beyond
the corona edge). Energies between table energies are interpolated linearly in (ln E, ln q);
energies outside the table are an error.
"""
from __future__ import annotations

import numpy as np

from transport.emission import table_kernels as ek
from transport.core.constants import KPC_CM
from transport.core.errors import ArgumentError

#: Units of every emissivity table.
Q_UNITS = "cm^-3 s^-1 eV^-1"

_GAUSS_X, _GAUSS_W = np.polynomial.legendre.leggauss(8)


def _axis(name, values, allow_zero=True, strict=False, allow_negative=False):
    a = np.ascontiguousarray(values, dtype=float)
    if a.ndim != 1 or a.size < 2:
        raise ArgumentError(f"{name} has shape {a.shape}: expected a 1-D array of at least 2 nodes")
    step = np.diff(a)
    ok = np.all(np.isfinite(a)) and (np.all(step > 0) if strict else np.all(step >= 0))
    ok = ok and (allow_negative or np.all(a >= 0 if allow_zero else a > 0))
    if not ok or a[-1] <= a[0]:
        what = "strictly increasing" if strict else "non-decreasing (repeated nodes mark a discontinuity)"
        sign = "" if allow_negative else (" >= 0" if allow_zero else " > 0")
        raise ArgumentError(f"{name} = [{a[0]:.4g} ... {a[-1]:.4g}] is not allowed: expected "
                            f"finite{sign}, {what} values")
    return a


def _table(q, shape):
    t = np.ascontiguousarray(q, dtype=float)
    if t.shape != shape:
        raise ArgumentError(f"q has shape {t.shape}: expected {shape} to match the grids")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ArgumentError(f"q contains negative or non-finite values: expected finite q >= 0 "
                            f"[{Q_UNITS}]")
    with np.errstate(divide="ignore"):
        return t, np.log(t)


class _Emission:
    """Shared part: the energy grid, energy interpolation, HDF5 round trip."""

    geometry = ""

    def __init__(self, E_eV, attrs):
        self.E_eV = _axis("E_eV", E_eV, allow_zero=False, strict=True)
        self.attrs = dict(attrs or {})

    # -- subclasses provide
    @property
    def kernel_tables(self) -> tuple:
        raise NotImplementedError

    def _points(self, iE, wE, x, y, z, out):
        raise NotImplementedError

    # -- evaluation
    def energy_index(self, E_eV) -> int:
        """Index of the table energy equal to E_eV (to 1e-9 relative); ArgumentError otherwise."""
        if not (np.isfinite(E_eV) and E_eV > 0):
            raise ArgumentError(f"E_eV = {E_eV!r} is not allowed: expected one of emission.E_eV")
        k = int(np.argmin(np.abs(np.log(self.E_eV / float(E_eV)))))
        if abs(self.E_eV[k] / float(E_eV) - 1.0) > 1e-9:
            raise ArgumentError(f"E_eV = {E_eV:.6g} is not a table energy (nearest "
                                f"{self.E_eV[k]:.6g}): use one of emission.E_eV")
        return k

    def q_at_index(self, iE, x_kpc, y_kpc, z_kpc) -> np.ndarray:
        """q at table energy index (or indices) iE and points (x, y, z) [kpc] (broadcast
        together): shape np.shape(iE) + points shape."""
        idx = np.asarray(iE)
        if idx.dtype.kind not in "iu" or np.any((idx < 0) | (idx >= self.E_eV.size)):
            raise ArgumentError(f"iE = {iE!r} is not allowed: expected integers 0 <= iE < "
                                f"{self.E_eV.size}")
        return self._evaluate(idx, np.zeros(idx.shape), x_kpc, y_kpc, z_kpc)

    def _evaluate(self, iE, wE, x_kpc, y_kpc, z_kpc):
        """q mixed between table energies iE and iE + 1 with weights wE (see the kernels)."""
        points = np.broadcast(np.asarray(x_kpc), np.asarray(y_kpc), np.asarray(z_kpc)).shape
        x, y, z = (np.ascontiguousarray(np.broadcast_to(v, points).ravel(), dtype=float)
                   for v in (x_kpc, y_kpc, z_kpc))
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(np.isfinite(z))):
            raise ArgumentError("x_kpc, y_kpc, z_kpc must be finite (NaN or inf given)")
        out = np.empty((iE.size, x.size))
        self._points(np.ascontiguousarray(iE.ravel(), dtype=np.int64),
                     np.ascontiguousarray(wE.ravel(), dtype=float), x, y, z, out)
        return out.reshape(iE.shape + points)

    def __call__(self, E_eV, x_kpc, y_kpc, z_kpc) -> np.ndarray:
        """q [cm^-3 s^-1 eV^-1] at energies E_eV (inside the table) and points (x, y, z) [kpc]
        (broadcast together): shape np.shape(E_eV) + points shape. Between table energies
        linear in (ln E, ln q)."""
        E = np.asarray(E_eV, dtype=float)
        flat = E.ravel()
        lo, hi = self.E_eV[0], self.E_eV[-1]
        bad = ~np.isfinite(flat) | (flat < lo * (1 - 1e-12)) | (flat > hi * (1 + 1e-12))
        if np.any(bad):
            raise ArgumentError(f"E_eV = {flat[bad][0]:.4g} is outside the table: expected "
                                f"{lo:.4g} <= E_eV <= {hi:.4g}")
        lnE = np.log(self.E_eV)
        k = np.clip(np.searchsorted(lnE, np.log(flat), side="right") - 1, 0, lnE.size - 2)
        w = np.clip((np.log(flat) - lnE[k]) / (lnE[k + 1] - lnE[k]), 0.0, 1.0)
        k = np.where(w > 1.0 - 1e-9, k + 1, k)            # table energies: no mixing
        w = np.where((w < 1e-9) | (w > 1.0 - 1e-9), 0.0, w)
        return self._evaluate(k, w, x_kpc, y_kpc, z_kpc).reshape(E.shape + np.broadcast(
            np.asarray(x_kpc), np.asarray(y_kpc), np.asarray(z_kpc)).shape)

    # -- output
    def to_hdf5(self, group, name):
        """Dataset ``group/name`` holding q, with the grids and units as attributes."""
        ds = group.create_dataset(name, data=self.q, compression="gzip", shuffle=True)
        ds.attrs["units"] = Q_UNITS
        ds.attrs["geometry"] = self.geometry
        ds.attrs["E_eV"] = self.E_eV
        for key, value in self._grid_attrs().items():
            ds.attrs[key] = value
        for key, value in self.attrs.items():
            ds.attrs[key] = value
        return ds

    @staticmethod
    def from_hdf5(dataset) -> "_Emission":
        """The emission stored by :meth:`to_hdf5`, of the geometry stored in the file
        (kept for compatibility: :func:`read_emission` says what it does)."""
        return read_emission(dataset)


class SphericalEmission(_Emission):
    """Spherically symmetric emissivity q(E, r) tabulated at radii r_kpc (ascending, >= 0;
    repeated radii mark a discontinuity) and total energies E_eV (ascending), q of shape
    (n_E, n_r) in cm^-3 s^-1 eV^-1. Linear in (ln r, ln q) between nodes, q(r_0) for
    r < r_0, zero beyond r_kpc[-1].

    Numba: ``spherical_q(*emission.kernel_tables, iE, x, y, z)`` from
    :mod:`transport.emission.table_kernels`.
    """

    geometry = "spherical"

    def __init__(self, r_kpc, E_eV, q, *, attrs=None):
        super().__init__(E_eV, attrs)
        self.r_kpc = _axis("r_kpc", r_kpc)
        self.q, self.ln_q = _table(q, (self.E_eV.size, self.r_kpc.size))
        r, q = _resample_centre(self.r_kpc, self.q)
        with np.errstate(divide="ignore"):
            ln_r, ln_q = np.log(r), np.log(q)
        self._kernel = (ln_r, *ek.axis_index(ln_r), q, ln_q)

    @property
    def kernel_tables(self):
        """(ln_r, r_hint, r_lookup, q, ln_q): the arguments of ``emission_kernels.spherical_q``
        before (iE, x, y, z). For a table with a node at r = 0 the kernel nodes replace the
        first interval [0, r_1] by 80 log-spaced nodes from 1e-4 r_1 carrying the linear
        interpolation in r (to < 0.1 %)."""
        return self._kernel

    def _points(self, iE, wE, x, y, z, out):
        ek.spherical_q_points(*self.kernel_tables, iE, wE, x, y, z, out)

    def _grid_attrs(self):
        return {"r_kpc": self.r_kpc, "axes": "E, r"}

    def total_rate(self) -> np.ndarray:
        """Integral q dV over all space [s^-1 eV^-1] per table energy (Gauss-Legendre on each
        interval of the interpolated table, including the constant core r < r_0)."""
        edges = np.concatenate([[0.0], self.r_kpc]) if self.r_kpc[0] > 0 else self.r_kpc
        r, w = _gauss_nodes(edges)
        q = self.q_at_index(np.arange(self.E_eV.size), r, 0.0, 0.0)
        return q @ (4.0 * np.pi * r ** 2 * w) * KPC_CM ** 3


class AxisymmetricEmission(_Emission):
    """Axisymmetric emissivity q(E, R, z) tabulated at cylindrical radii R_kpc (ascending,
    >= 0) and heights z_kpc (ascending; mirrored, i.e. evaluated at |z|, when z_kpc[0] >= 0),
    repeated nodes marking discontinuities, and energies E_eV; q of shape (n_E, n_R, n_z) in
    cm^-3 s^-1 eV^-1. Bilinear in (R, z) of ln q; q(R_0) for R < R_0; zero beyond the last
    R or |z| node.

    Numba: ``axisymmetric_q(*emission.kernel_tables, iE, x, y, z)`` from
    :mod:`transport.emission.table_kernels`.
    """

    geometry = "axisymmetric"

    def __init__(self, R_kpc, z_kpc, E_eV, q, *, attrs=None):
        super().__init__(E_eV, attrs)
        self.R_kpc = _axis("R_kpc", R_kpc)
        self.z_kpc = _axis("z_kpc", z_kpc, allow_negative=True)
        self.mirror = bool(self.z_kpc[0] >= 0.0)
        self.q, self.ln_q = _table(q, (self.E_eV.size, self.R_kpc.size, self.z_kpc.size))
        self._R_index = ek.axis_index(self.R_kpc)
        self._z_index = ek.axis_index(self.z_kpc)

    @property
    def kernel_tables(self):
        """(R, R_hint, R_lookup, z, z_hint, z_lookup, q, ln_q, mirror): the arguments of
        ``emission_kernels.axisymmetric_q`` before (iE, x, y, z)."""
        return (self.R_kpc, *self._R_index, self.z_kpc, *self._z_index, self.q, self.ln_q,
                self.mirror)

    def _points(self, iE, wE, x, y, z, out):
        ek.axisymmetric_q_points(*self.kernel_tables, iE, wE, x, y, z, out)

    def _grid_attrs(self):
        return {"R_kpc": self.R_kpc, "z_kpc": self.z_kpc, "axes": "E, R, z"}

    def total_rate(self) -> np.ndarray:
        """Integral q dV over all space [s^-1 eV^-1] per table energy (Gauss-Legendre on each
        cell of the interpolated table, both sides of the plane for mirrored tables)."""
        R_edges = np.concatenate([[0.0], self.R_kpc]) if self.R_kpc[0] > 0 else self.R_kpc
        z_edges = self.z_kpc
        if self.mirror and z_edges[0] > 0:
            z_edges = np.concatenate([[0.0], z_edges])
        R, wR = _gauss_nodes(R_edges)
        z, wz = _gauss_nodes(z_edges)
        RR, ZZ = np.meshgrid(R, z, indexing="ij")
        q = self.q_at_index(np.arange(self.E_eV.size), RR.ravel(), 0.0, ZZ.ravel())
        weights = (2.0 * np.pi * R * wR)[:, None] * wz[None, :] * (2.0 if self.mirror else 1.0)
        return q @ weights.ravel() * KPC_CM ** 3


def _resample_centre(r_kpc, q):
    """Nodes and values for the kernels: unchanged if r_kpc[0] > 0; otherwise the first
    interval [0, r_p] (r_p the first positive node) as 80 log-spaced nodes from 1e-4 r_p with
    q linear in r, so that the kernels interpolate in ln r only."""
    if r_kpc[0] > 0:
        return r_kpc, q
    p = int(np.argmax(r_kpc > 0))
    sub = np.geomspace(1e-4 * r_kpc[p], r_kpc[p], 81)[:-1]
    q0, q1 = q[:, p - 1:p], q[:, p:p + 1]
    return (np.concatenate([sub, r_kpc[p:]]),
            np.ascontiguousarray(np.concatenate([q0 + (q1 - q0) * sub / r_kpc[p], q[:, p:]], axis=1)))


def _gauss_nodes(edges):
    """Gauss-Legendre points and weights on every non-empty interval between edges."""
    a, b = edges[:-1], edges[1:]
    keep = b > a
    a, b = a[keep], b[keep]
    half, mid = 0.5 * (b - a), 0.5 * (b + a)
    return ((mid[:, None] + half[:, None] * _GAUSS_X).ravel(),
            (half[:, None] * _GAUSS_W).ravel())


def read_emission(dataset) -> _Emission:
    """The emission table stored by ``to_hdf5`` in an HDF5 dataset: a SphericalEmission or
    an AxisymmetricEmission, as the dataset's ``geometry`` attribute says."""
    a = dataset.attrs
    extra = {k: a[k] for k in a if k not in ("units", "geometry", "E_eV", "axes", "r_kpc",
                                              "R_kpc", "z_kpc")}
    if a["geometry"] == "spherical":
        return SphericalEmission(a["r_kpc"], a["E_eV"], dataset[()], attrs=extra)
    return AxisymmetricEmission(a["R_kpc"], a["z_kpc"], a["E_eV"], dataset[()], attrs=extra)
