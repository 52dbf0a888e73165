"""Fast model evaluation: sky responses to the radial shells of a spherical emission table.

Everything downstream of the corona's emissivity q(E, r) is linear in q, and the attenuation
does not depend on the cosmic-ray parameters. Expanding q in hat functions h_k(ln r) on a fine
radial grid rho_k (the table's own nodes, each interval split into ``pipeline.kernel_subdivision``
parts; repeated nodes, i.e. discontinuities, kept as pairs),

    q(E, r) ~ sum_k q(E, rho_k) h_k(ln r),

every sky product P (all-sky average, dipole vector, region averages) of the line-of-sight
integral (docs/physics.md, section 5; [T] eq. 3-5) becomes

    P(E) = sum_k K_P(E, k) q(E, rho_k),
    K_P(E, k) = (1/4pi) sum_rays c_P(ray) sum_nodes w_node exp(-tau(E, node)) h_k(ln r_node),

with the same rays, panels, Gauss-Legendre nodes and tau as :mod:`montecarlo.lineofsight`
(c_P: 1/n_pix for the all-sky average, 3 n/n_pix for the dipole vector, the region quadrature
weights of :func:`montecarlo.sky.analysis.region_quadrature`, or the normalised pixel weights of
:func:`montecarlo.sky.analysis.region_weights` when sky.mask_file is set; both remove a region's
source mask). The only difference from the direct calculation is the hat
interpolation between fine nodes instead of the table's (ln r, ln q) interpolation: ~1e-4 for
4 sub-nodes per interval of a 40-per-decade grid (tested to 1e-3).

The kernels K are computed once per geometry (the table's radial nodes), sky energies, photon
fields and observer, and cached as HDF5 in the rate-table cache (atomic, keyed by everything they
depend on and the source of the modules that compute them). Evaluating a model is then one
table lookup on (n_E x n_rho) points and a matrix product per particle.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from transport.core.constants import KPC_CM
from transport.core.errors import ArgumentError

from montecarlo.geometry import direction_from_lb, sun_position_kpc
from montecarlo.lineofsight.integrator import (_S, _W, ORDER, attenuation_function, node_positions,
                                               ray_geometry, ray_panels)
from montecarlo.opacity.ratetables import cached_table
from montecarlo.sky import masks
from montecarlo.sky.analysis import (lb_from_direction, load_mask, pixel_directions,
                                     pixel_vectors, region_quadrature, region_weights)
from montecarlo.sky.maps import sky_energies, sky_regions

UNITS = "cm^-2 s^-1 sr^-1 eV^-1 per (cm^-3 s^-1 eV^-1)"
#: Rays per chunk while building kernels (bounds memory: ~60 nodes per ray x n_E).
CHUNK_RAYS = 512
#: Kernel sets kept in memory per process (a scan worker reuses them for every point).
MEMO_SIZE = 4
_MEMO: dict = {}
#: Modules whose code defines the kernels (an edit rebuilds them).
_SOURCES = ("pipeline/response.py", "lineofsight/integrator.py", "lineofsight/kernels.py",
            "sky/analysis.py", "sky/masks.py")


# --------------------------------------------------------------------------- radial basis
def fine_radial_grid(emission, subdivision: int) -> np.ndarray:
    """ln rho_k: the emission table's kernel nodes (ln r) with every interval split into
    ``subdivision`` equal parts in ln r; a repeated node (discontinuity) stays a pair."""
    ln_r = np.asarray(emission.kernel_tables[0], dtype=float)
    parts = []
    for i in range(ln_r.size - 1):
        a, b = ln_r[i], ln_r[i + 1]
        if b > a:
            parts.append(a + (b - a) * np.arange(subdivision) / subdivision)
        else:
            parts.append([a])               # end of the inner side of a discontinuity
    parts.append([ln_r[-1]])
    return np.concatenate(parts)


def hat_matrix(ln_rho: np.ndarray, r_kpc: np.ndarray) -> sp.csr_matrix:
    """Sparse H (n_points x n_rho): q(r) ~ sum_k H[p, k] q(rho_k), linear in ln r between
    fine nodes, q(rho_0) inside rho_0, zero beyond the last node."""
    n = ln_rho.size
    with np.errstate(divide="ignore"):
        lr = np.log(np.asarray(r_kpc, dtype=float))
    k = np.clip(np.searchsorted(ln_rho, lr, side="right") - 1, 0, n - 2)
    width = ln_rho[k + 1] - ln_rho[k]
    t = np.where(width > 0, (lr - ln_rho[k]) / np.where(width > 0, width, 1.0), 1.0)
    t = np.clip(t, 0.0, 1.0)
    core = lr <= ln_rho[0]
    t[core] = 0.0
    outside = lr > ln_rho[-1]
    rows = np.repeat(np.arange(lr.size), 2)
    cols = np.stack([k, k + 1], axis=1).ravel()
    vals = np.stack([1.0 - t, t], axis=1)
    vals[outside] = 0.0
    return sp.csr_matrix((vals.ravel(), (rows, cols)), shape=(lr.size, n))


def shell_radii(ln_rho) -> np.ndarray:
    """Radii [kpc] where q(rho_k) is evaluated: rho_k, except that the two nodes of a pair at a
    discontinuity move just inside and just outside it (they take the inner and outer value)."""
    ln_rho = np.asarray(ln_rho, dtype=float)
    r = np.exp(ln_rho)
    pair = np.zeros(r.size, dtype=bool)
    pair[:-1] = ln_rho[1:] == ln_rho[:-1]
    r = np.where(pair, r * (1.0 - 1e-12), r)
    after = np.zeros(r.size, dtype=bool)
    after[1:] = pair[:-1]
    return np.where(after, r * (1.0 + 1e-12), r)


def shell_values(emission, E_eV, ln_rho) -> np.ndarray:
    """q(E, rho_k) (n_E, n_rho) with the table's own interpolation at :func:`shell_radii`."""
    return emission(np.asarray(E_eV, dtype=float), shell_radii(ln_rho), 0.0, 0.0)


# --------------------------------------------------------------------------- kernels
@dataclass
class ResponseKernels:
    """K[particle kind][product] (n_E, n_rho) and what they were built for."""
    E_eV: np.ndarray
    ln_rho: np.ndarray
    products: tuple               # ("all_sky", "dipole_x", "dipole_y", "dipole_z", "region:<name>", ...)
    attenuated: np.ndarray        # (n_products, n_E, n_rho) for gamma rays
    unattenuated: np.ndarray      # (n_products, n_E, n_rho) for neutrinos
    path: Path | None = None
    built: bool = False

    def evaluate(self, emission, neutrino: bool | None = None) -> dict:
        """Sky products of a spherical emission table: {"all_sky", "dipole_amplitude",
        "dipole_l_deg", "dipole_b_deg", "regions": {name: ...}} (each (n_E,))."""
        if neutrino is None:
            neutrino = str(emission.attrs.get("particle", "gamma")).startswith("nu")
        kernel = self.unattenuated if neutrino else self.attenuated
        q = shell_values(emission, self.E_eV, self.ln_rho)
        values = np.einsum("pek,ek->pe", kernel, q)
        return products_from(self.products, values)


def products_from(names, values) -> dict:
    """Named products from the evaluated rows (all-sky, dipole vector, regions)."""
    rows = dict(zip(names, values))
    I0 = rows["all_sky"]
    d = np.stack([rows["dipole_x"], rows["dipole_y"], rows["dipole_z"]], axis=-1)
    norm = np.linalg.norm(d, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        amplitude = np.where(I0 != 0, norm / np.abs(I0), np.nan)
    l_deg, b_deg = lb_from_direction(d / np.where(norm > 0, norm, 1.0)[:, None])
    return {"all_sky": I0, "dipole_amplitude": amplitude, "dipole_l_deg": np.asarray(l_deg) % 360.0,
            "dipole_b_deg": np.asarray(b_deg),
            "regions": {n.split(":", 1)[1]: v for n, v in rows.items() if n.startswith("region:")}}


def _ray_weights(nside: int, regions: dict, mask) -> list:
    """[(l_deg, b_deg, C)]: ray directions and their product coefficients C (n_products, n_rays)
    for the pixel rays and each region's quadrature rays."""
    l_pix, b_pix = pixel_directions(nside)
    n = pixel_vectors(nside)
    npix = l_pix.size
    coeffs = [np.full(npix, 1.0 / npix), *(3.0 * n.T / npix)]
    groups = []
    extra = []
    for name, reg in regions.items():
        if mask is None:
            l_r, b_r, w_r = region_quadrature(reg)
            extra.append((name, l_r, b_r, w_r))
        else:
            row = region_weights(nside, reg, mask=mask)      # the region's source mask too
            coeffs.append(row / max(row.sum(), 1e-300))
    pixel_products = ["all_sky", "dipole_x", "dipole_y", "dipole_z"]
    if mask is not None:
        pixel_products += [f"region:{name}" for name in regions]
    groups.append((l_pix, b_pix, pixel_products, np.array(coeffs)))
    for name, l_r, b_r, w_r in extra:
        groups.append((l_r, b_r, [f"region:{name}"], w_r[None, :]))
    return groups


def _rays_kernel(emission, E, ln_rho, l_deg, b_deg, coeffs, r_sun, kappa_fn) -> np.ndarray:
    """sum over rays of coeffs x (1/4pi) sum_nodes w exp(-tau) h_k: (n_c, n_E, n_rho)."""
    o = sun_position_kpc(r_sun)
    dirs = direction_from_lb(np.asarray(l_deg, dtype=float), np.asarray(b_deg, dtype=float))
    geometry = ray_geometry(emission)
    out = np.zeros((coeffs.shape[0], E.size, ln_rho.size))
    for a in range(0, dirs.shape[0], CHUNK_RAYS):
        b = min(a + CHUNK_RAYS, dirs.shape[0])
        offsets, starts, lengths = ray_panels(o, dirs[a:b], geometry)
        pos, ray_of_node = node_positions(o, dirs[a:b], offsets, starts, lengths)
        half = 0.5 * lengths
        weight = np.repeat(half, ORDER) * np.tile(_W, lengths.size)          # (N,)
        if kappa_fn is None:
            node_w = np.broadcast_to(weight, (E.size, weight.size))
        else:
            u = -dirs[a:b][ray_of_node]
            kappa = np.asarray(kappa_fn(E, pos[:, 0], pos[:, 1], pos[:, 2], u[:, 0], u[:, 1],
                                        u[:, 2]), dtype=float).reshape(E.size, -1, ORDER)
            inner = half[None, :, None] * np.einsum("ij,epj->epi", _S, kappa)   # tau in panel
            panel = half[None, :] * (kappa @ _W)                                 # (n_E, n_panels)
            ends = np.cumsum(panel, axis=1)
            first = offsets[:-1]
            counts = np.diff(offsets)
            before = np.concatenate([np.zeros((E.size, 1)), ends[:, :-1]], axis=1)
            ray_start = np.repeat(before[:, first], counts, axis=1)             # tau at ray start
            tau0 = before - ray_start                                             # tau at panel start
            tau = (tau0[:, :, None] + inner).reshape(E.size, -1)
            node_w = weight[None, :] * np.exp(-tau)
        H = hat_matrix(ln_rho, np.linalg.norm(pos, axis=1))                       # (N, n_rho)
        c_node = coeffs[:, a:b][:, ray_of_node]                                   # (n_c, N)
        for c in range(coeffs.shape[0]):
            out[c] += (H.T @ (node_w * c_node[c]).T).T
    return out * KPC_CM / (4.0 * np.pi)


@lru_cache(maxsize=None)
def _sources_digest() -> str:
    here = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def kernel_spec(cfg, emission, E_eV) -> dict:
    """Everything the kernels depend on (JSON-serialisable): geometry, energies, sky, fields."""
    data = cfg.to_dict()
    ln_r = np.asarray(emission.kernel_tables[0], dtype=float)
    return {
        "ln_r_sha": hashlib.sha256(ln_r.tobytes()).hexdigest(),
        "E_eV": [float(e) for e in E_eV],
        "subdivision": cfg.pipeline.kernel_subdivision,
        "sky": {k: data["sky"][k] for k in ("nside", "attenuate", "fields", "regions",
                                            "custom_region", "mask_file")},
        "observer": data["observer"], "fields": data["fields"], "dust": data["dust"],
        "opacity": {k: data["opacity"][k] for k in ("dust_mode", "grid", "path_segment_kpc")},
        "cosmology": data["cosmology"], "sources": _sources_digest(),
        "masks": {n: masks.mask_key(r.mask) for n, r in sky_regions(cfg).items() if r.mask},
    }


def response_kernels(cfg, emission, E_eV=None, progress=False) -> ResponseKernels:
    """The (cached) response kernels of ``cfg``'s sky for the radial geometry of ``emission``
    (a SphericalEmission), at the sky energies (default: sky.E_min_eV .. sky.E_max_eV)."""
    if getattr(emission, "geometry", "") != "spherical":
        raise ArgumentError("fast evaluation needs a spherical emission table (the corona); got "
                            f"geometry {getattr(emission, 'geometry', None)!r}")
    E = sky_energies(cfg) if E_eV is None else np.asarray(E_eV, dtype=float)
    spec = kernel_spec(cfg, emission, E)
    memo_key = json.dumps(spec, sort_keys=True)
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    ln_rho = fine_radial_grid(emission, cfg.pipeline.kernel_subdivision)
    regions = sky_regions(cfg)
    names = ["all_sky", "dipole_x", "dipole_y", "dipole_z"] + [f"region:{n}" for n in regions]
    fields = tuple(cfg.sky.fields) if cfg.sky.attenuate else ()

    def build(progress_flag):
        mask = load_mask(cfg.sky.mask_file, cfg.sky.nside) if cfg.sky.mask_file else None
        groups = _ray_weights(cfg.sky.nside, regions, mask)
        kappa_fn = attenuation_function(fields, cfg)
        result = {}
        for label, fn in (("attenuated", kappa_fn), ("unattenuated", None)):
            rows = [_rays_kernel(emission, E, ln_rho, l, b, C, cfg.observer.r_sun_kpc, fn)
                    for l, b, _, C in groups]
            result[label] = np.concatenate(rows, axis=0)
        result["E_eV"], result["ln_rho"] = E, ln_rho
        return result

    arrays, path, built = cached_table("response", cfg, spec, build,
                                       {"attenuated": UNITS, "unattenuated": UNITS, "E_eV": "eV",
                                        "ln_rho": "ln kpc"}, progress)
    kernels = ResponseKernels(arrays["E_eV"], arrays["ln_rho"], tuple(names), arrays["attenuated"],
                              arrays["unattenuated"], path, built)
    if len(_MEMO) >= MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[memo_key] = kernels
    return kernels

