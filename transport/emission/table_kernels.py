"""Numba kernels evaluating tabulated emissivities q(E, x) at single points.

Other numba kernels (line-of-sight integrals, Monte Carlo) call these directly, millions of
times; they allocate nothing, do no I/O and take the table arrays as arguments.

Calling convention (x, y, z Galactocentric Cartesian [kpc]: the Galactic centre at the
origin, z perpendicular to the Galactic plane; iE an index into the table's energy grid
``emission.E_eV``; the result in cm^-3 s^-1 eV^-1):

    value = spherical_q(*corona.kernel_tables, iE, x, y, z)          # SphericalEmission
    value = axisymmetric_q(*disk.kernel_tables, iE, x, y, z)         # AxisymmetricEmission

or, for all table energies at once (one location lookup, out of length n_E):

    spherical_q_spectrum(*corona.kernel_tables, x, y, z, out)
    axisymmetric_q_spectrum(*disk.kernel_tables, x, y, z, out)

``kernel_tables`` is a tuple of C-contiguous arrays (and a flag): for a spherical table
(ln_r, r_hint, r_lookup, q, ln_q) with ln_r = ln(r_kpc) of the radial nodes, q (n_E, n_r),
ln_q = ln q (-inf where q = 0); for an axisymmetric table
(R, R_hint, R_lookup, z, z_hint, z_lookup, q, ln_q, mirror) with R, z the nodes [kpc], q
(n_E, n_R, n_z) and mirror: evaluate at |z|. Each axis carries an index of uniform bins
(made by :func:`axis_index`) that finds the node interval in a constant number of steps.

Interpolation. Spherical: linear in (ln r, ln q) between nodes (exact for power laws; a table
with a node at r = 0 is handed to the kernels with that first interval resampled, see
:class:`transport.SphericalEmission`). Axisymmetric: bilinear in (R, z) of ln q
(exact for exponentials in R and |z|). Where a bracketing value is zero the interpolation is
linear in q instead. Repeated nodes are allowed and mark a discontinuity (value on the left
at the first copy, on the right at the second). Outside the table: q = 0 beyond the last node
of every axis (e.g. beyond the corona edge); inside the first radial node (r < r_0, R < R_0)
and, for mirrored tables, below the first z node, the first value holds.
"""
import math

import numpy as np
from numba import njit, prange

#: Bins of an axis index: at least this many per node, at most MAX_BINS.
BINS_PER_NODE = 4
MAX_BINS = 1 << 16


def axis_index(nodes):
    """(hint, lookup) for :func:`locate`: uniform bins over [nodes[0], nodes[-1]]; hint[b] is
    the interval holding the bin's left edge (0 for the first bin), lookup = (origin, bins per
    unit, steps), steps = the most intervals any bin reaches into, so that a fixed number of
    comparisons finds the interval. Bins double from 4 per node until a bin reaches into at
    most 2 intervals (or 65536 bins)."""
    nodes = np.asarray(nodes, dtype=float)
    lo, hi = nodes[0], nodes[-1]
    n_bins = BINS_PER_NODE * nodes.size
    while True:
        edges = lo + (hi - lo) * np.arange(n_bins + 1) / n_bins
        start = np.searchsorted(nodes, edges[:-1], side="right") - 1
        start[0] = 0
        end = np.minimum(np.searchsorted(nodes, edges[1:], side="right") - 1, nodes.size - 2)
        start = np.clip(start, 0, nodes.size - 2)
        steps = int(np.max(end - start))
        if steps <= 2 or n_bins >= MAX_BINS:
            break
        n_bins *= 2
    return (np.ascontiguousarray(start, dtype=np.int64),
            np.array([lo, n_bins / (hi - lo), steps], dtype=float))


@njit(cache=True)
def locate(nodes, hint, lookup, value):
    """Index k with nodes[k] <= value < nodes[k + 1] (largest such k, at most n - 2), for
    nodes[0] <= value <= nodes[-1]: the bin's hint, then a fixed number of branch-free steps."""
    n = nodes.size
    b = int((value - lookup[0]) * lookup[1])
    b = min(max(b, 0), hint.size - 1)
    k = hint[b]
    for _ in range(int(lookup[2])):
        advance = np.int64(nodes[min(k + 1, n - 1)] <= value)
        k = min(k + advance, n - 2)
    return k


@njit(cache=True)
def _mix(a, b, la, lb, w):
    """(1 - w) a + w b, in ln q when both are positive (selected without branching)."""
    linear = a + w * (b - a)
    logarithmic = math.exp(la + w * (lb - la))
    return logarithmic if (a > 0.0) & (b > 0.0) else linear


#: Where a point falls relative to a spherical table (see :func:`_radial_cell`).
_OUTSIDE, _CORE, _INSIDE = 0, 1, 2


@njit(cache=True)
def _radial_cell(ln_r, r_hint, r_lookup, x, y, z):
    """(where, k, w): beyond the table (_OUTSIDE), inside the first node (_CORE), or in the
    interval k with weight w in ln r (_INSIDE)."""
    n = ln_r.size
    r = math.sqrt(x * x + y * y + z * z)
    lr = math.log(r) if r > 0.0 else -math.inf
    if lr > ln_r[n - 1]:
        return _OUTSIDE, 0, 0.0
    if lr <= ln_r[0]:
        return _CORE, 0, 0.0
    k = locate(ln_r, r_hint, r_lookup, lr)
    width = ln_r[k + 1] - ln_r[k]
    return _INSIDE, k, (lr - ln_r[k]) / width if width > 0.0 else 1.0


@njit(cache=True)
def _radial_value(q, ln_q, iE, where, k, w):
    """q at energy index iE in the cell found by :func:`_radial_cell`."""
    if where == _OUTSIDE:
        return 0.0
    if where == _CORE:
        return q[iE, 0]
    return _mix(q[iE, k], q[iE, k + 1], ln_q[iE, k], ln_q[iE, k + 1], w)


@njit(cache=True)
def spherical_q(ln_r, r_hint, r_lookup, q, ln_q, iE, x, y, z):
    """q(E_iE, r) at the point (x, y, z) [kpc] of a spherical table (see module docstring)."""
    where, k, w = _radial_cell(ln_r, r_hint, r_lookup, x, y, z)
    return _radial_value(q, ln_q, iE, where, k, w)


@njit(cache=True)
def spherical_q_spectrum(ln_r, r_hint, r_lookup, q, ln_q, x, y, z, out):
    """out[iE] = spherical_q(..., iE, x, y, z) for every table energy (one radial lookup)."""
    where, k, w = _radial_cell(ln_r, r_hint, r_lookup, x, y, z)
    for iE in range(q.shape[0]):
        out[iE] = _radial_value(q, ln_q, iE, where, k, w)


@njit(cache=True)
def _bilinear(q, ln_q, iE, i, u, j, v):
    """Bilinear interpolation in cell (i, j), in ln q when all four corners are positive."""
    a = q[iE, i, j]
    b = q[iE, i + 1, j]
    c = q[iE, i, j + 1]
    d = q[iE, i + 1, j + 1]
    linear = (1.0 - u) * ((1.0 - v) * a + v * c) + u * ((1.0 - v) * b + v * d)
    logarithmic = math.exp((1.0 - u) * ((1.0 - v) * ln_q[iE, i, j] + v * ln_q[iE, i, j + 1])
                           + u * ((1.0 - v) * ln_q[iE, i + 1, j] + v * ln_q[iE, i + 1, j + 1]))
    return logarithmic if (a > 0.0) & (b > 0.0) & (c > 0.0) & (d > 0.0) else linear


@njit(cache=True)
def _plane_cell(R_nodes, R_hint, R_lookup, z_nodes, z_hint, z_lookup, mirror, x, y, z):
    """(inside, i, u, j, v): the (R, z) cell of the point and its weights; inside = False
    beyond the table (q = 0 there)."""
    R = math.sqrt(x * x + y * y)
    zz = abs(z) if mirror else z
    if (R > R_nodes[R_nodes.size - 1] or zz > z_nodes[z_nodes.size - 1]
            or (zz < z_nodes[0] and not mirror)):
        return False, 0, 0.0, 0, 0.0
    R = max(R, R_nodes[0])
    zz = max(zz, z_nodes[0])
    i = locate(R_nodes, R_hint, R_lookup, R)
    j = locate(z_nodes, z_hint, z_lookup, zz)
    dR = R_nodes[i + 1] - R_nodes[i]
    dz = z_nodes[j + 1] - z_nodes[j]
    u = (R - R_nodes[i]) / dR if dR > 0.0 else 0.0
    v = (zz - z_nodes[j]) / dz if dz > 0.0 else 0.0
    return True, i, u, j, v


@njit(cache=True)
def axisymmetric_q(R_nodes, R_hint, R_lookup, z_nodes, z_hint, z_lookup, q, ln_q, mirror,
                   iE, x, y, z):
    """q(E_iE, R, z) at the point (x, y, z) [kpc] of an axisymmetric table (see module
    docstring)."""
    inside, i, u, j, v = _plane_cell(R_nodes, R_hint, R_lookup, z_nodes, z_hint, z_lookup,
                                     mirror, x, y, z)
    return _bilinear(q, ln_q, iE, i, u, j, v) if inside else 0.0


@njit(cache=True)
def axisymmetric_q_spectrum(R_nodes, R_hint, R_lookup, z_nodes, z_hint, z_lookup, q, ln_q,
                            mirror, x, y, z, out):
    """out[iE] = axisymmetric_q(..., iE, x, y, z) for every table energy (one cell lookup)."""
    inside, i, u, j, v = _plane_cell(R_nodes, R_hint, R_lookup, z_nodes, z_hint, z_lookup,
                                     mirror, x, y, z)
    for iE in range(q.shape[0]):
        out[iE] = _bilinear(q, ln_q, iE, i, u, j, v) if inside else 0.0


@njit(cache=True)
def _mix_energy(lo, hi, w):
    """Between table energies: linear in (ln E, ln q) where both values are positive."""
    if w == 0.0:
        return lo
    if (lo > 0.0) & (hi > 0.0):
        return math.exp((1.0 - w) * math.log(lo) + w * math.log(hi))
    return lo + w * (hi - lo)


@njit(cache=True, parallel=True)
def spherical_q_points(ln_r, r_hint, r_lookup, q, ln_q, iE, wE, x, y, z, out):
    """out[m, p] = q at energy row m and point p: spherical_q(..., iE[m], ...) mixed with
    iE[m] + 1 by the weight wE[m] in (ln E, ln q) (wE = 0: the table energy iE[m] itself).
    One radial lookup per point."""
    for p in prange(x.size):
        where, k, w = _radial_cell(ln_r, r_hint, r_lookup, x[p], y[p], z[p])
        for m in range(iE.size):
            lo = _radial_value(q, ln_q, iE[m], where, k, w)
            if wE[m] == 0.0:
                out[m, p] = lo
            else:
                out[m, p] = _mix_energy(lo, _radial_value(q, ln_q, iE[m] + 1, where, k, w), wE[m])


@njit(cache=True, parallel=True)
def axisymmetric_q_points(R_nodes, R_hint, R_lookup, z_nodes, z_hint, z_lookup, q, ln_q, mirror,
                          iE, wE, x, y, z, out):
    """out[m, p] = q at energy row m and point p (as :func:`spherical_q_points`): one cell
    lookup per point, energies mixed by wE in (ln E, ln q)."""
    for p in prange(x.size):
        inside, i, u, j, v = _plane_cell(R_nodes, R_hint, R_lookup, z_nodes, z_hint, z_lookup,
                                         mirror, x[p], y[p], z[p])
        for m in range(iE.size):
            if not inside:
                out[m, p] = 0.0
            elif wE[m] == 0.0:
                out[m, p] = _bilinear(q, ln_q, iE[m], i, u, j, v)
            else:
                out[m, p] = _mix_energy(_bilinear(q, ln_q, iE[m], i, u, j, v),
                                        _bilinear(q, ln_q, iE[m] + 1, i, u, j, v), wE[m])
