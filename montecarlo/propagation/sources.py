"""Where Monte Carlo photons start: emission tables and weighted point sets, and the
importance-sampling densities of the emission point (docs/montecarlo.md, "Sampling").

Tables (:class:`~transport.emission.tables.SphericalEmission`,
:class:`~transport.emission.tables.AxisymmetricEmission`: the corona, disk, cocoons, extra1/2
or a user's table). The estimator works in (direction, distance) seen from the Sun,
I(E, n) = (1/4pi) integral ds q(E, x_sun + s n) exp(-tau), so the 1/d^2 of a volume sampler
never appears: the direction is uniform on the sphere (density 1/4pi) and the distance s is
drawn from a per-pixel piecewise-constant density g_p(s) on K bins,

    g_p = (1 - eps) g_q + eps g_flat,

g_q proportional to the energy-summed, peak-normalised emissivity sum_E q(E, x)/max q(E)
sampled at the bin centres on five rays of the pixel (centre and corners), g_flat uniform on
[0, S] (S = the farthest point of the table from the Sun). The weight q/g is bounded by
q_max S / eps: the variance is finite whatever the table.

Point sets (:class:`PointEmission`): points x_i with luminosities L_i(E) [s^-1 eV^-1], each
emitting isotropically. A point is chosen with probability p_i proportional to its flux at
the Sun, sum_E (L_i(E) / sum_j L_j(E)) / d_i^2, so the 1/d^2 sits in the sampling density and
the score L_i(E) / (4 pi d_i^2 p_i) stays bounded (zero variance before attenuation for one
energy).
"""
from __future__ import annotations

import numpy as np

from transport.core.errors import ArgumentError
from transport.emission.tables import AxisymmetricEmission, SphericalEmission

#: Distance bins of the per-pixel densities and the flat (defensive) fraction.
N_DISTANCE_BINS = 128
DEFENSIVE_FRACTION = 0.1
#: The first distance bin is [0, INNER_FRACTION x S]; the others are log-spaced.
INNER_FRACTION = 1e-3
#: Pixels per chunk when the densities are built (bounds the memory).
_CHUNK_PIXELS = 512


class PointEmission:
    """An emission given as weighted points: Galactocentric positions x_kpc (N, 3), energies
    E_eV (n_E,) ascending, luminosity (n_E, N) [s^-1 eV^-1] per point (isotropic emitters).
    Between energies the luminosity is interpolated linearly in (ln E, ln L)."""

    geometry = "points"

    def __init__(self, x_kpc, E_eV, luminosity, *, attrs=None):
        x = np.ascontiguousarray(np.atleast_2d(np.asarray(x_kpc, dtype=float)))
        E = np.ascontiguousarray(np.atleast_1d(np.asarray(E_eV, dtype=float)))
        lum = np.ascontiguousarray(np.asarray(luminosity, dtype=float))
        if x.ndim != 2 or x.shape[1] != 3 or x.shape[0] < 1 or not np.all(np.isfinite(x)):
            raise ArgumentError(f"x_kpc has shape {x.shape}: expected finite positions (N, 3), N >= 1")
        if E.ndim != 1 or not np.all(np.isfinite(E) & (E > 0)) or np.any(np.diff(E) <= 0):
            raise ArgumentError("E_eV must be positive, finite and strictly increasing")
        if lum.shape != (E.size, x.shape[0]):
            raise ArgumentError(f"luminosity has shape {lum.shape}: expected (n_E, N) = "
                                f"{(E.size, x.shape[0])}")
        if not np.all(np.isfinite(lum)) or np.any(lum < 0):
            raise ArgumentError("luminosity contains negative or non-finite values: expected "
                                "finite luminosities >= 0 [s^-1 eV^-1]")
        self.x_kpc, self.E_eV, self.luminosity = x, E, lum
        self.attrs = dict(attrs or {})

    def at_energies(self, E_eV) -> np.ndarray:
        """Luminosities (n, N) at energies E_eV inside [E_eV[0], E_eV[-1]]."""
        E = np.asarray(E_eV, dtype=float)
        if E.size and (E.min() < self.E_eV[0] * (1 - 1e-12) or E.max() > self.E_eV[-1] * (1 + 1e-12)):
            raise ArgumentError(f"E_eV = {E.min():.4g} .. {E.max():.4g} is outside the point "
                                f"set: expected {self.E_eV[0]:.4g} <= E_eV <= {self.E_eV[-1]:.4g}")
        if self.E_eV.size == 1:
            return np.repeat(self.luminosity, E.size, axis=0)
        return energy_mix(self.E_eV, self.luminosity, E)


def check_emission(emission):
    """The emission as given, or ArgumentError for an unsupported object or negative values."""
    if not isinstance(emission, (SphericalEmission, AxisymmetricEmission, PointEmission)):
        raise ArgumentError(f"emission = {type(emission).__name__} is not allowed: expected a "
                            "SphericalEmission, AxisymmetricEmission or PointEmission")
    values = emission.luminosity if isinstance(emission, PointEmission) else emission.q
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ArgumentError("the emission contains negative or non-finite values: expected "
                            "q >= 0 everywhere")
    return emission


def energy_mix(E_table, values, E_eV) -> np.ndarray:
    """values (n_E, ...) interpolated to the energies E_eV along the first axis, linearly in
    (ln E, ln value) where both neighbours are positive, linearly otherwise (the rule of the
    emission tables, :mod:`transport.emission.table_kernels`)."""
    lnE = np.log(E_table)
    lnx = np.log(np.asarray(E_eV, dtype=float))
    k = np.clip(np.searchsorted(lnE, lnx, side="right") - 1, 0, lnE.size - 2)
    w = np.clip((lnx - lnE[k]) / (lnE[k + 1] - lnE[k]), 0.0, 1.0)
    w = w.reshape((-1,) + (1,) * (values.ndim - 1))
    lo, hi = values[k], values[k + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        logm = np.exp((1 - w) * np.log(lo) + w * np.log(hi))
    out = np.where((lo > 0) & (hi > 0), logm, (1 - w) * lo + w * hi)
    return np.ascontiguousarray(np.where(w == 0.0, lo, np.where(w == 1.0, hi, out)))


def at_energies(emission, E_eV):
    """The table at the tally energies (same spatial grid, repeated nodes kept; energies
    interpolated node by node as the table itself does), so that the kernels index energies
    directly (a single energy is stored twice: tables have at least two)."""
    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    q = energy_mix(emission.E_eV, emission.q, E)
    if E.size == 1:                      # tables need two energies: a copy of the one
        E, q = np.array([E[0], E[0] * 1.001]), np.concatenate([q, q])
    if isinstance(emission, SphericalEmission):
        return SphericalEmission(emission.r_kpc, E, q, attrs=emission.attrs)
    return AxisymmetricEmission(emission.R_kpc, emission.z_kpc, E, q, attrs=emission.attrs)


def _last_live(nodes, q, axis):
    """The node beyond which the table is zero along ``axis`` (|nodes| for mirrored z)."""
    live = np.any(q > 0, axis=tuple(a for a in range(q.ndim) if a != axis))
    k = int(np.nonzero(live)[0].max()) + 1 if np.any(live) else 0
    return float(np.abs(nodes[min(k, nodes.size - 1)]))


def support_distance(emission, origin) -> float:
    """Largest distance from ``origin`` to a point where the table can be non-zero [kpc]."""
    o = np.asarray(origin, dtype=float)
    if isinstance(emission, SphericalEmission):
        return _last_live(emission.r_kpc, emission.q, 1) + float(np.linalg.norm(o))
    z_max = max(abs(emission.z_kpc[0]), _last_live(emission.z_kpc, emission.q, 2))
    R_max = _last_live(emission.R_kpc, emission.q, 1)
    return float(np.hypot(R_max + np.hypot(o[0], o[1]), z_max + abs(o[2])))


def distance_tables(emission, origin, nside: int, n_bins: int = N_DISTANCE_BINS,
                    defensive: float = DEFENSIVE_FRACTION):
    """(edges (K + 1,), cdf (n_pix, K + 1)) of the per-pixel distance densities g_p (module
    docstring) for a table already at the tally energies."""
    import healpy as hp  # optional-speed dependency: only the pixel geometry

    S = support_distance(emission, origin)
    edges = np.concatenate([[0.0], np.geomspace(INNER_FRACTION * S, S, n_bins)])
    width = np.diff(edges)
    mids = 0.5 * (edges[:-1] + edges[1:])
    n_pix = hp.nside2npix(nside)
    peak = emission.q.reshape(emission.q.shape[0], -1).max(axis=1)
    scale = np.where(peak > 0, 1.0 / np.where(peak > 0, peak, 1.0), 0.0)
    all_e = np.arange(emission.E_eV.size)
    cdf = np.empty((n_pix, n_bins + 1))
    flat = width / S
    for a in range(0, n_pix, _CHUNK_PIXELS):
        pix = np.arange(a, min(a + _CHUNK_PIXELS, n_pix))
        centre = np.array(hp.pix2vec(nside, pix)).T[:, None, :]           # (n, 1, 3)
        corners = np.transpose(hp.boundaries(nside, pix), (0, 2, 1)) if pix.size > 1 else \
            np.transpose(hp.boundaries(nside, pix[0]))[None]               # (n, 4, 3)
        rays = np.concatenate([centre, corners], axis=1)                 # (n, 5, 3)
        pts = origin[None, None, None, :] + mids[None, None, :, None] * rays[:, :, None, :]
        q = emission.q_at_index(all_e, pts[..., 0].ravel(), pts[..., 1].ravel(), pts[..., 2].ravel())
        shape = (scale @ q).reshape(pix.size, rays.shape[1], n_bins).mean(axis=1) * width[None, :]
        total = shape.sum(axis=1, keepdims=True)
        prob = np.where(total > 0, (1.0 - defensive) * shape / np.where(total > 0, total, 1.0)
                        + defensive * flat[None, :], flat[None, :])
        cdf[pix, 0] = 0.0
        cdf[pix, 1:] = np.cumsum(prob, axis=1)
        cdf[pix, 1:] /= cdf[pix, -1:]
    return edges, cdf


def point_choice(emission: PointEmission, lum, origin):
    """cdf (N + 1,) of choosing point i with probability proportional to its energy-summed,
    per-energy-normalised flux at ``origin`` (module docstring); points at the observer are
    an error (their flux is infinite)."""
    d2 = np.sum((emission.x_kpc - np.asarray(origin)[None, :]) ** 2, axis=1)
    if np.any(d2 <= 0.0):
        raise ArgumentError("a point of the emission sits exactly at the observer: its flux is "
                            "infinite (move it or drop it)")
    total = lum.sum(axis=1, keepdims=True)
    share = np.where(total > 0, lum / np.where(total > 0, total, 1.0), 0.0).sum(axis=0)
    weight = share / d2
    if weight.sum() <= 0:
        weight = 1.0 / d2
    cdf = np.concatenate([[0.0], np.cumsum(weight)])
    return cdf / cdf[-1]
