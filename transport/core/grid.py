"""Radial finite-volume grid and time-step schedule of the transport solver."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RadialGrid:
    """Spherical finite-volume cells; all radii in kpc.

    faces: N + 1 face radii, faces[0] = 0 (the centre), faces[-1] = r_out.
    centers: N cell centres (midpoints) where the solution j is reported.
    """
    faces: np.ndarray
    centers: np.ndarray

    @property
    def size(self) -> int:
        return self.centers.size


def radial_grid(r_min_kpc, r_out_kpc, cells_per_decade, anchors_kpc=()) -> RadialGrid:
    """Log-graded grid: a central cell [0, r_min], then log-spaced cells up to r_out.

    Every radius in ``anchors_kpc`` inside (r_min, r_out) is a cell face, so sharp features
    (the edge of the source sphere r_Q, the gas cut at R_max) fall on faces. Between
    anchors the cells are log-spaced with at least ``cells_per_decade`` per decade.
    """
    knots = sorted({r_min_kpc, r_out_kpc, *(a for a in anchors_kpc if r_min_kpc < a < r_out_kpc)})
    faces = [0.0, knots[0]]
    for a, b in zip(knots[:-1], knots[1:]):
        n = max(1, math.ceil(cells_per_decade * math.log10(b / a) - 1e-9))
        faces.extend(np.geomspace(a, b, n + 1)[1:])
    faces = np.asarray(faces)
    for a in knots:      # make anchors exact despite geomspace rounding
        faces[np.argmin(np.abs(faces - a))] = a
    return RadialGrid(faces=faces, centers=0.5 * (faces[1:] + faces[:-1]))


@dataclass(frozen=True)
class Segment:
    """Steps of constant size inside one interval of the schedule.

    theta = 1 is backward Euler, theta = 0.5 Crank-Nicolson. ``ends_at_output`` marks an
    interval whose end is a snapshot time (or t_end).
    """
    t0_gyr: float
    dt_gyr: float
    n_steps: int
    theta: float
    ends_at_output: bool

    @property
    def t1_gyr(self) -> float:
        return self.t0_gyr + self.n_steps * self.dt_gyr


def time_schedule(t_end_gyr, dt_max_gyr, kinks_gyr=(), snapshots_gyr=(), startup_steps=4):
    """Time steps from 0 to t_end as a list of :class:`Segment`.

    Steps land exactly on the history kinks (h(t) is linear between them, so the
    trapezoidal source term is exact), on every snapshot and on t_end. The first
    Crank-Nicolson step is replaced by ``startup_steps`` backward-Euler sub-steps
    (Rannacher start-up) to damp the stiff modes excited by switching the source on.
    """
    outputs = {float(t) for t in snapshots_gyr if 0.0 < t <= t_end_gyr} | {float(t_end_gyr)}
    breaks = sorted({0.0, *outputs, *(k for k in kinks_gyr if 0.0 < k < t_end_gyr)})
    segments = []
    for a, b in zip(breaks[:-1], breaks[1:]):
        n = max(1, math.ceil((b - a) / dt_max_gyr - 1e-9))
        dt = (b - a) / n
        if a == 0.0 and startup_steps > 0:
            segments.append(Segment(0.0, dt / startup_steps, startup_steps, 1.0, n == 1 and b in outputs))
            if n > 1:
                segments.append(Segment(dt, dt, n - 1, 0.5, b in outputs))
        else:
            segments.append(Segment(a, dt, n, 0.5, b in outputs))
    return segments


def loglog_interp(x_grid, values, x, axis=-1) -> np.ndarray:
    """``values`` sampled at ascending ``x_grid`` along ``axis``, evaluated at the scalar x
    (see :func:`loglog_resample`; the axis is removed)."""
    return np.take(loglog_resample(x_grid, values, [x], axis=axis), 0, axis=axis)


def loglog_resample(x_grid, values, x_new, axis=0) -> np.ndarray:
    """``values`` sampled at ascending ``x_grid`` along ``axis``, evaluated at every x_new.

    Linear in (ln x, ln value) between neighbouring samples where both are positive, linear
    in ln x otherwise; clamps to the end intervals (extrapolates linearly in logs) outside.
    """
    values = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
    xs, xn = np.log(x_grid), np.log(np.asarray(x_new, dtype=float))
    k = np.clip(np.searchsorted(xs, xn, side="right") - 1, 0, xs.size - 2)
    w = ((xn - xs[k]) / (xs[k + 1] - xs[k])).reshape((-1,) + (1,) * (values.ndim - 1))
    lo, hi = values[k], values[k + 1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        loglog = lo * (hi / lo) ** w
    return np.moveaxis(np.where((lo > 0) & (hi > 0), loglog, (1.0 - w) * lo + w * hi), 0, axis)


def log_grid_size(lo: float, hi: float, per_decade: float) -> int:
    """Number of log-spaced nodes from lo to hi (both included), at least ``per_decade`` per
    decade (a whole number of decades gives exactly per_decade per decade)."""
    return max(2, math.ceil(per_decade * math.log10(hi / lo) - 1e-9) + 1)


def log_grid(lo: float, hi: float, per_decade: float) -> np.ndarray:
    """Log-spaced nodes from lo to hi (both included), at least ``per_decade`` per decade."""
    return np.geomspace(lo, hi, log_grid_size(lo, hi, per_decade))
