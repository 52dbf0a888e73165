"""Speed of the line-of-sight map maker against scipy quadrature per ray.

    python benchmarks/bench_sky.py [--output benchmarks/results/bench_sky.json] [--nside 64]

Prints and writes JSON: wall time and rays per second of a HEALPix map (nside 64 = 49152
rays) at 50 energies of the baseline corona's gamma-ray emission with CMB + dust attenuation
(and without), against scipy.integrate.quad_vec per ray (all 50 energies at once, the
unattenuated integrand, split at the table's nodes) on a subset of rays in the same run,
with the agreement of the two.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numba
import numpy as np
from scipy.integrate import quad_vec

import montecarlo
import transport
from montecarlo.geometry import direction_from_lb, sun_position_kpc
from montecarlo.lineofsight.integrator import ray_geometry
from montecarlo.opacity.api import opacity_for
from montecarlo.sky.analysis import pixel_directions
from transport.core.constants import KPC_CM
from transport.emission.registry import build_emission
from transport.core.output import code_version

from _report import write_json


def quad_reference(em, E, o, n):
    """(1/4pi) integral q ds by quad_vec between the sphere crossings of every table node."""
    b, c = n @ o, o @ o
    s_max = ray_geometry(em).exit_distance(o, n[None])[0]
    pts = [-b]
    for r in np.unique(em.r_kpc):
        d = b * b - (c - r * r)
        if d > 0:
            pts += [-b - np.sqrt(d), -b + np.sqrt(d)]
    edges = sorted({0.0, s_max, *[p for p in pts if 0 < p < s_max]})
    f = lambda s: em(E, *(o + s * n))
    total = sum(quad_vec(f, a, z, epsrel=1e-8)[0] for a, z in zip(edges[:-1], edges[1:]))
    return total * KPC_CM / (4 * np.pi)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/results/bench_sky.json")
    parser.add_argument("--nside", type=int, default=64)
    parser.add_argument("--n-energies", type=int, default=50)
    parser.add_argument("--baseline-rays", type=int, default=24)
    args = parser.parse_args()

    warnings.simplefilter("ignore", transport.DiffusionRegimeWarning)
    cfg = transport.load_config()
    sol = transport.solve(cfg)
    em = build_emission(cfg, "corona", "gamma", sol)
    E = np.geomspace(1e9, 1e17, args.n_energies)
    l_deg, b_deg = pixel_directions(args.nside)
    t0 = time.perf_counter()
    opacity_for(cfg, progress=True).dust                     # build or load the rate table
    t_tables = time.perf_counter() - t0
    montecarlo.intensity(em, E[:3], l_deg[:8], b_deg[:8])     # compile / load kernels

    t0 = time.perf_counter()
    montecarlo.intensity(em, E, l_deg, b_deg, fields=("cmb", "dust"))
    t_att = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain = montecarlo.intensity(em, E, l_deg, b_deg, fields=())
    t_plain = time.perf_counter() - t0

    rng = np.random.default_rng(1)
    subset = rng.choice(l_deg.size, args.baseline_rays, replace=False)
    o = sun_position_kpc(cfg.observer.r_sun_kpc)
    dirs = direction_from_lb(l_deg[subset], b_deg[subset])
    t0 = time.perf_counter()
    ref = np.array([quad_reference(em, E, o, n) for n in dirs]).T
    t_quad = (time.perf_counter() - t0) / args.baseline_rays
    agree = float(np.max(np.abs(plain[:, subset] / ref - 1.0)))

    n_rays = l_deg.size
    result = {
        "benchmark": "sky",
        "code_version": code_version(),
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "numba_threads": numba.get_num_threads()},
        "problem": {"nside": args.nside, "rays": int(n_rays), "energies": int(E.size),
                    "emission": "baseline corona, gamma", "fields": ["cmb", "dust"],
                    "dust_mode": cfg.opacity.dust_mode, "dust_grid": cfg.opacity.grid},
        "rate_tables_load_or_build_s": t_tables,
        "map_attenuated": {"wall_s": t_att, "rays_per_s": n_rays / t_att,
                           "ray_energies_per_s": n_rays * E.size / t_att},
        "map_unattenuated": {"wall_s": t_plain, "rays_per_s": n_rays / t_plain},
        "scipy_quad_vec_per_ray": {"rays": args.baseline_rays, "s_per_ray": t_quad,
                                   "rays_per_s": 1.0 / t_quad,
                                   "ratio_vs_unattenuated_map": t_quad * n_rays / t_plain},
        "max_relative_difference_vs_quad": agree,
        "target_wall_s": 10.0,
    }
    print(f"map: nside {args.nside} ({n_rays} rays) x {E.size} energies, corona gamma")
    print(f"  CMB + dust attenuation: {t_att:6.2f} s  ({n_rays / t_att:9.0f} rays/s)   target < 10 s")
    print(f"  no attenuation:         {t_plain:6.2f} s  ({n_rays / t_plain:9.0f} rays/s)")
    print(f"scipy quad_vec per ray (all energies, no attenuation): {t_quad * 1e3:.1f} ms/ray "
          f"({1 / t_quad:.1f} rays/s) -> {t_quad * n_rays / t_plain:.0f}x slower than the map maker")
    print(f"max relative difference map vs quad_vec on {args.baseline_rays} rays: {agree:.1e}")
    write_json(result, args.output)


if __name__ == "__main__":
    main()
