"""Deterministic line-of-sight intensities: the fast map maker and the Monte Carlo's reference.

I(E, n) = (1/4pi) integral_0^s_max ds q(E, x_sun + s n) exp(-tau(E, s)),
tau(E, s) = integral_0^s ds' / lambda(E, x_sun + s' n, u = -n)

for gamma rays seen in sky direction n (they travel along u = -n, docs/physics.md, section 5; [T]
eq. 3-5); neutrinos are not attenuated. Graded Gauss-Legendre panels along each ray (see
:mod:`montecarlo.lineofsight.kernels`) resolve the inner Galaxy, the corona core, the thin disk and
the table edges; tau at every node comes from the panel's own spectral integration matrix, so
the attenuation is integrated to the same order as the emission.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transport.core.constants import KPC_CM
from transport.core.errors import ArgumentError
from transport.core.progress import track

from montecarlo.lineofsight import kernels as lk
from montecarlo.geometry import direction_from_lb, sun_position_kpc
from transport.core.config import Config, load_config
from montecarlo.opacity.api import check_fields, opacity_for

#: Gauss-Legendre nodes per panel.
ORDER = 4
#: Largest panel as a fraction of the local length scale.
ALPHA = 0.8
R_FLOOR_KPC = 0.05
Z_FLOOR_KPC = 0.02
H_MAX_KPC = 25.0


def gauss_legendre_panel(order: int = ORDER):
    """Nodes x_i, weights w_i on [-1, 1] and the integration matrix S_ij = int_{-1}^{x_i} L_j,
    L_j the Lagrange polynomials on the nodes (exact for polynomials of degree < order)."""
    x, w = np.polynomial.legendre.leggauss(order)
    smat = np.empty((order, order))
    for j in range(order):
        values = np.zeros(order)
        values[j] = 1.0
        coef = np.polynomial.polynomial.polyfit(x, values, order - 1)
        antider = np.polynomial.polynomial.polyint(coef, lbnd=-1.0)
        smat[:, j] = np.polynomial.polynomial.polyval(x, antider)
    return x, w, smat


_X, _W, _S = gauss_legendre_panel()


@dataclass(frozen=True)
class RayGeometry:
    """Where rays may need panel breaks, and where the emission ends (all kpc)."""
    spheres: np.ndarray
    cylinders: np.ndarray
    planes: np.ndarray
    r_max: float = np.inf          # spherical support
    R_max: float = np.inf          # cylindrical support
    z_max: float = np.inf

    def exit_distance(self, o, dirs) -> np.ndarray:
        """Distance along each ray to the edge of the emission's support."""
        b = dirs @ o
        c = o @ o
        s = np.full(dirs.shape[0], np.inf)
        if np.isfinite(self.r_max):
            s = np.minimum(s, -b + np.sqrt(np.maximum(b * b - (c - self.r_max ** 2), 0.0)))
        if np.isfinite(self.R_max):
            a2 = dirs[:, 0] ** 2 + dirs[:, 1] ** 2
            bc = dirs[:, :2] @ o[:2]
            cc = o[:2] @ o[:2] - self.R_max ** 2
            with np.errstate(divide="ignore", invalid="ignore"):
                cyl = np.where(a2 > 1e-24, (-bc + np.sqrt(np.maximum(bc * bc - a2 * cc, 0.0))) / a2, np.inf)
            s = np.minimum(s, cyl)
        if np.isfinite(self.z_max):
            with np.errstate(divide="ignore", invalid="ignore"):
                plane = np.where(np.abs(dirs[:, 2]) > 1e-12,
                                 (np.sign(dirs[:, 2]) * self.z_max - o[2]) / dirs[:, 2], np.inf)
            s = np.minimum(s, plane)
        if not np.all(np.isfinite(s)):
            raise ArgumentError("the emission has no finite extent along some rays: tabulated "
                                "emissions end at their last grid node")
        return np.maximum(s, 0.0)


#: A table cell across which q changes by more than this factor (or between zero and
#: non-zero) is a feature: rays get panel breaks where they cross its nodes.
FEATURE_RATIO = 100.0


def feature_nodes(nodes, q, axis) -> np.ndarray:
    """Nodes of the table axis ``axis`` of q that bound a sharp cell (FEATURE_RATIO or a
    zero/non-zero step, in any energy and at any node of the other axes): a Gauss-Legendre
    panel straddling such a cell would integrate a step, so panels end there."""
    nodes = np.asarray(nodes, dtype=float)
    a = np.moveaxis(q, axis, -1)
    lo, hi = a[..., :-1], a[..., 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        sharp = ((lo > 0) != (hi > 0)) | (np.maximum(lo, hi) > FEATURE_RATIO * np.minimum(lo, hi))
    cells = np.nonzero(np.any(sharp.reshape(-1, nodes.size - 1), axis=0))[0]
    return np.unique(np.concatenate([nodes[cells], nodes[cells + 1]]))


def ray_geometry(emission) -> RayGeometry:
    """Breakpoints of a tabulated emission: its discontinuities (repeated grid nodes), its
    sharp cells (:func:`feature_nodes`), its outer edges and, for disks, the mid-plane
    (q ~ exp(-|z|/z_g) has a kink there)."""
    def repeated(nodes):
        nodes = np.asarray(nodes, dtype=float)
        return np.unique(nodes[1:][np.diff(nodes) == 0.0])

    if emission.geometry == "spherical":
        r = emission.r_kpc
        spheres = np.unique(np.concatenate([repeated(r), feature_nodes(r, emission.q, 1), [r[-1]]]))
        return RayGeometry(spheres[spheres > 0], np.empty(0), np.empty(0), r_max=float(r[-1]))
    R, z = emission.R_kpc, emission.z_kpc
    z_abs = np.abs(np.concatenate([repeated(z), feature_nodes(z, emission.q, 2), [z[-1]], [z[0]]]))
    planes = np.unique(np.concatenate([z_abs, -z_abs, [0.0]]))
    cylinders = np.unique(np.concatenate([repeated(R), feature_nodes(R, emission.q, 1), [R[-1]]]))
    return RayGeometry(np.empty(0), cylinders[cylinders > 0], planes,
                       R_max=float(R[-1]), z_max=float(max(abs(z[0]), abs(z[-1]))))


def ray_panels(o, dirs, geometry: RayGeometry, alpha=ALPHA):
    """Panels of every ray: offsets (n_rays + 1), panel starts and lengths [kpc].

    Spherical emissions grade panels by the distance to the centre only; disks also by the
    height over the plane."""
    s_max = geometry.exit_distance(o, dirs)
    z_floor = Z_FLOOR_KPC if geometry.planes.size else np.inf
    args = (o, np.ascontiguousarray(dirs), s_max, geometry.spheres, geometry.cylinders,
            geometry.planes, float(alpha), R_FLOOR_KPC, z_floor, H_MAX_KPC)
    counts = lk.count_panels(*args)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    starts = np.empty(offsets[-1])
    lengths = np.empty(offsets[-1])
    lk.fill_panels(*args, offsets, starts, lengths)
    return offsets, starts, lengths


def node_positions(o, dirs, offsets, starts, lengths):
    """Flattened nodes (panel by panel, ORDER per panel): positions (N, 3) and the ray index."""
    ray = np.repeat(np.arange(dirs.shape[0]), np.diff(offsets))
    s = (starts[:, None] + 0.5 * lengths[:, None] * (_X[None, :] + 1.0)).ravel()
    ray_of_node = np.repeat(ray, ORDER)
    return o[None, :] + s[:, None] * dirs[ray_of_node], ray_of_node


#: Rays integrated together (bounds the memory of the node tables: ~60 nodes per ray).
CHUNK_RAYS = 2048


def integrate_rays(emission, E_eV, o, dirs, kappa_fn=None, alpha=ALPHA, progress=False) -> np.ndarray:
    """(1/4pi) integral q exp(-tau) ds for every ray [cm^-2 s^-1 sr^-1 eV^-1], shape (n_E, n_rays).

    emission: callable emission(E_eV, x, y, z) -> q (n_E, N) [cm^-3 s^-1 eV^-1] with a
    ``geometry`` description (see :func:`ray_geometry`); kappa_fn(E_eV, x, y, z, ux, uy, uz)
    -> 1/lambda (n_E, N) [1/kpc] for photons moving along u, or None for no attenuation.
    """
    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    dirs = np.atleast_2d(np.asarray(dirs, dtype=float))
    geometry = ray_geometry(emission)
    out = np.empty((E.size, dirs.shape[0]))
    what = " ".join(str(emission.attrs[k]) for k in ("model", "particle")
                    if k in getattr(emission, "attrs", {}))
    for a in track(range(0, dirs.shape[0], CHUNK_RAYS), progress,
                   f"line of sight: {what or 'emission'}", unit="chunk"):
        b = min(a + CHUNK_RAYS, dirs.shape[0])
        out[:, a:b] = _integrate_chunk(emission, E, o, dirs[a:b], geometry, kappa_fn, alpha)
    return out * KPC_CM / (4.0 * np.pi)


def _integrate_chunk(emission, E, o, dirs, geometry, kappa_fn, alpha):
    offsets, starts, lengths = ray_panels(o, dirs, geometry, alpha)
    pos, ray_of_node = node_positions(o, dirs, offsets, starts, lengths)
    q = np.ascontiguousarray(np.asarray(emission(E, pos[:, 0], pos[:, 1], pos[:, 2]),
                                        dtype=float).reshape(E.size, -1))
    if kappa_fn is None:
        kappa = np.zeros((E.size, 1))
    else:
        u = -dirs[ray_of_node]
        kappa = np.ascontiguousarray(np.asarray(
            kappa_fn(E, pos[:, 0], pos[:, 1], pos[:, 2], u[:, 0], u[:, 1], u[:, 2]),
            dtype=float).reshape(E.size, -1))
    out = np.empty((E.size, dirs.shape[0]))
    lk.integrate(offsets, lengths, ORDER, _W, _S, q, kappa, np.any(kappa > 0.0, axis=1), out)
    return out


def intensity(emission, E_eV, l_deg, b_deg, fields=("cmb", "dust"), r_sun_kpc=None, config=None,
              progress=False) -> np.ndarray:
    """Intensity I(E, n) [cm^-2 s^-1 sr^-1 eV^-1] of ``emission`` seen from the Sun in the
    Galactic directions (l_deg, b_deg) (arrays of equal shape), attenuated by pair production
    on ``fields`` (any of "cmb", "dust", "ebl", "tabulated"; () = none; neutrino emissions,
    attrs["particle"] starting with "nu", are never attenuated).

    Shape (n_E, n_directions); a scalar E_eV or scalar direction drops that axis.
    r_sun_kpc defaults to observer.r_sun_kpc of ``config`` (the bundled default: 8.5 kpc).
    """

    cfg = config if isinstance(config, Config) else load_config(config)
    r_sun = cfg.observer.r_sun_kpc if r_sun_kpc is None else float(r_sun_kpc)
    l = np.asarray(l_deg, dtype=float)
    b = np.asarray(b_deg, dtype=float)
    if l.shape != b.shape:
        raise ArgumentError(f"l_deg has shape {l.shape} but b_deg has shape {b.shape}: expected equal shapes")
    if np.any(~np.isfinite(b) | (np.abs(b) > 90.0)) or np.any(~np.isfinite(l)):
        raise ArgumentError("b_deg must be finite and within [-90, 90] deg, l_deg finite")
    E = np.asarray(E_eV, dtype=float)
    particle = str(getattr(emission, "attrs", {}).get("particle", "gamma"))
    kappa_fn = None if particle.startswith("nu") else attenuation_function(fields, cfg)
    out = integrate_rays(emission, E.ravel(), sun_position_kpc(r_sun),
                         direction_from_lb(l.ravel(), b.ravel()), kappa_fn, progress=progress)
    return out.reshape(E.shape + l.shape)


def attenuation_function(fields, config=None):
    """kappa_fn(E, x, y, z, ux, uy, uz) -> 1/lambda (n_E, N) [1/kpc] for :func:`integrate_rays`
    from the pair-production rate tables of ``fields`` (None when fields is empty)."""

    names = check_fields(fields)
    if not names:
        return None
    opacity = opacity_for(config)

    def kappa(E_eV, x, y, z, ux, uy, uz):
        return opacity.rate_per_kpc(E_eV, np.stack([x, y, z], axis=-1), np.stack([ux, uy, uz], axis=-1),
                                    names)
    return kappa
