"""Speed of the pair-production opacity: table builds and optical depths along Galactic paths.

    python benchmarks/bench_opacity.py [--output benchmarks/results/bench_opacity.json]

Prints and writes JSON: the time to build every rate table from scratch (CMB, EBL for the
default model, dust at the "fine" and "coarse" resolutions) in an empty cache directory and
to load them from the cache; optical depths per second along random Galactic paths with the
numba kernel (anisotropic and angle-averaged dust, CMB added) against scipy.integrate.quad
of the same interpolated rate in the same run, with their ratio and agreement.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import warnings

import numba
import numpy as np
from scipy import integrate

import transport
from montecarlo.geometry import galactocentric_from_lbd, sun_position_kpc
from montecarlo.opacity.api import Opacity
from transport.core.output import code_version

from _report import write_json


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def build_all(cfg):
    """Every table of one config, built (or loaded) now: seconds per table."""
    op = Opacity(cfg, progress=False)
    return {"cmb": timed(lambda: op.cmb)[0], "ebl": timed(lambda: op.ebl())[0],
            "dust": timed(lambda: op.dust)[0]}, op


def random_paths(n, rng, r_sun):
    """Sources uniform in longitude, |b| < 10 deg, 0.5-20 kpc from the Sun."""
    l = rng.uniform(0.0, 360.0, n)
    b = rng.uniform(-10.0, 10.0, n)
    d = rng.uniform(0.5, 20.0, n)
    return galactocentric_from_lbd(l, b, d, r_sun), d


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/results/bench_opacity.json")
    parser.add_argument("--paths", type=int, default=2000)
    parser.add_argument("--quad-paths", type=int, default=40)
    args = parser.parse_args()

    result = {"benchmark": "opacity", "code_version": code_version(),
              "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                          "numba": numba.__version__, "numba_threads": numba.get_num_threads()}}
    with tempfile.TemporaryDirectory() as cache:
        # compile the numba kernels once on a throw-away coarse build (not timed)
        Opacity(transport.load_config({"opacity.grid": "coarse",
                                       "opacity.cache_dir": cache + "/warm"}), False).dust
        builds = {}
        for grid in ("fine", "coarse"):
            cfg = transport.load_config({"opacity.grid": grid,
                                         "opacity.cache_dir": f"{cache}/{grid}"})
            scratch, _ = build_all(cfg)
            loaded, op = build_all(cfg)
            builds[grid] = {"from_scratch_s": scratch, "from_cache_s": loaded,
                            "total_from_scratch_s": sum(scratch.values()),
                            "total_from_cache_s": sum(loaded.values())}
            if grid == "fine":
                fine = op
        result["table_builds"] = builds

        rng = np.random.default_rng(2024)
        r_sun = fine.config.observer.r_sun_kpc
        sun = sun_position_kpc(r_sun)
        E = np.geomspace(3e13, 3e15, 16)
        starts, dist = random_paths(args.paths, rng, r_sun)
        table = fine.dust
        speed = {}
        for mode in ("anisotropic", "angle_averaged"):
            table.tau(starts[:2], sun, E[:2], mode)                       # warm-up
            t_numba, tau = timed(lambda: table.tau(starts, sun, E, mode))
            t_one, _ = timed(lambda: table.tau(starts, sun, E[:1], mode))
            # baseline: scipy.quad of the same interpolated rate, one energy per path
            q = min(args.quad_paths, args.paths)
            ref = np.empty(q)

            def quad_all():
                warnings.simplefilter("ignore", integrate.IntegrationWarning)  # float32 table noise
                for p in range(q):
                    u = (sun - starts[p]) / dist[p]
                    f = lambda s: table.rate_per_kpc(starts[p] + s * u, u, E[:1], mode)[0, 0]
                    ref[p] = integrate.quad(f, 0.0, dist[p], epsrel=1e-6, limit=200)[0]
            t_quad, _ = timed(quad_all)
            numba_rate_one = args.paths / t_one
            quad_rate = q / t_quad
            rel = np.abs(tau[:q, 0] - ref) / np.maximum(ref, 1e-30)
            speed[mode] = {
                "numba_tau_per_s_16_energies": args.paths * E.size / t_numba,
                "numba_paths_per_s_16_energies": args.paths / t_numba,
                "numba_tau_per_s_1_energy": numba_rate_one,
                "scipy_quad_tau_per_s_1_energy": quad_rate,
                "ratio_numba_vs_quad_1_energy": numba_rate_one / quad_rate,
                "max_relative_difference_vs_quad": float(rel[ref > 1e-6].max()),
            }
        t_full, _ = timed(lambda: fine.optical_depth_paths(starts, sun, E, ("cmb", "dust")))
        speed["cmb_plus_dust_anisotropic_paths_per_s_16_energies"] = args.paths / t_full
        result["galactic_paths"] = {"n_paths": args.paths, "n_energies": int(E.size),
                                    "distances_kpc": [0.5, 20.0], "abs_b_max_deg": 10.0,
                                    **speed}

    print(f"machine: {os.cpu_count()} cores, numba {numba.__version__} "
          f"({numba.get_num_threads()} threads)")
    for grid, b in result["table_builds"].items():
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in b["from_scratch_s"].items())
        print(f"{grid:6s} tables from scratch: {b['total_from_scratch_s']:7.2f} s ({parts}); "
              f"from cache: {b['total_from_cache_s']:.3f} s")
    for mode in ("anisotropic", "angle_averaged"):
        s = result["galactic_paths"][mode]
        print(f"dust {mode:14s}: numba {s['numba_tau_per_s_16_energies']:10.0f} tau/s "
              f"(16 energies per path), {s['numba_tau_per_s_1_energy']:8.0f} tau/s (1 energy); "
              f"scipy.quad {s['scipy_quad_tau_per_s_1_energy']:6.1f} tau/s; ratio "
              f"{s['ratio_numba_vs_quad_1_energy']:7.0f}x; max rel. diff "
              f"{s['max_relative_difference_vs_quad']:.1e}")
    print(f"cmb + dust (anisotropic): "
          f"{result['galactic_paths']['cmb_plus_dust_anisotropic_paths_per_s_16_energies']:.0f} "
          "paths/s with 16 energies")
    write_json(result, args.output)


if __name__ == "__main__":
    main()
