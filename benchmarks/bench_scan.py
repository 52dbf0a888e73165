"""Speed of scan points: fast evaluation (response kernels) against the direct line of sight.

    python benchmarks/bench_scan.py [--output benchmarks/results/bench_scan.json] [--nside 32]
                                    [--points 6]

Per-point sky products (all-sky, region and dipole spectra of the corona's gamma rays and
neutrinos, CMB + dust attenuated gamma rays, nside 32 x 41 energies, the summary scalars) from
the kernels and from the direct map maker, on the same emission tables in the same run, with
their largest relative difference; then whole scans (transport + emission + products per
point) through montecarlo.parallel.task_executor with 1 and 2 worker processes, for both
evaluations: points per hour per core.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from transport import load_config, solve
from transport.core.output import code_version
from transport.emission.registry import build_emission

from montecarlo.pipeline.response import response_kernels
from montecarlo.pipeline.scan import run_scan, scan_from_mapping, sky_products

from _report import write_json


def _scan(tmpdir, nside, points, evaluation):
    """A grid scan over D0 x alpha (``points`` points) at the benchmark's sky resolution."""
    alphas = [2.0 + 0.1 * k for k in range(max(points // 2, 1))]
    raw = {"method": "grid", "evaluation": evaluation,
           "set": {"sky.nside": nside, "sky.E_per_decade": 5},
           "parameters": {"diffusion.D0_cm2_s": [1.2e29, 4e29], "source.alpha": alphas}}
    return scan_from_mapping(raw, Path(tmpdir) / f"{evaluation}.toml")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/results/bench_scan.json")
    parser.add_argument("--nside", type=int, default=32)
    parser.add_argument("--points", type=int, default=6, help="points per scan (even)")
    parser.add_argument("--repeat", type=int, default=20, help="fast evaluations timed")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    cfg = load_config(None, overrides={"sky.nside": args.nside, "sky.E_per_decade": 5})
    sol = solve(cfg)
    gamma, nu = build_emission(cfg, "corona", "gamma", sol), build_emission(cfg, "corona", "nu", sol)

    t0 = time.perf_counter()
    kernels = response_kernels(cfg, gamma)
    t_kernels = time.perf_counter() - t0
    sky_products(cfg, gamma, nu, "fast")                  # warm (numba, observation files)
    t0 = time.perf_counter()
    for _ in range(args.repeat):
        fast = sky_products(cfg, gamma, nu, "fast")
    t_fast = (time.perf_counter() - t0) / args.repeat
    t0 = time.perf_counter()
    direct = sky_products(cfg, gamma, nu, "direct")
    t_direct = time.perf_counter() - t0
    diff = {k: float(np.max(np.abs(fast[k] / direct[k] - 1))) for k in
            ("gamma_all_sky", "nu_all_sky", "gamma_dipole", "nu_dipole")}
    diff.update({f"region {r}": float(np.max(np.abs(fast["regions"][r] / direct["regions"][r] - 1)))
                 for r in direct["regions"]})
    print(f"kernels ({'built' if kernels.built else 'loaded'}): {t_kernels:.2f} s, "
          f"{kernels.attenuated.nbytes / 1e6:.1f} MB per particle kind")
    print(f"products per point: fast {t_fast * 1e3:.1f} ms, direct {t_direct:.2f} s "
          f"(x{t_direct / t_fast:.0f}); largest relative difference {max(diff.values()):.2e}")

    scans = {}
    with tempfile.TemporaryDirectory() as tmp:
        for evaluation in ("fast", "direct"):
            for workers in (1, 2):
                scan = _scan(tmp, args.nside, args.points, evaluation)
                t0 = time.perf_counter()
                result = run_scan(scan, Path(tmp) / f"{evaluation}-{workers}", workers=workers,
                                  say=lambda text: None)
                wall = time.perf_counter() - t0
                rate = result["computed"] / wall * 3600 / workers
                scans[f"{evaluation}_{workers}"] = {"workers": workers, "points": result["computed"],
                                                    "wall_s": wall, "points_per_hour_per_core": rate}
                print(f"scan, {evaluation:6s} evaluation, {workers} worker(s): {result['computed']} "
                      f"points in {wall:.1f} s = {rate:.0f} points/hour/core")
    write_json({"benchmark": "bench_scan", "code_version": code_version(),
                "machine": platform.platform(), "cores": os.cpu_count(), "nside": args.nside,
                "n_energies": int(fast["E_eV"].size), "kernel_seconds": t_kernels,
                "kernel_built": kernels.built, "fast_products_s": t_fast,
                "direct_products_s": t_direct, "speedup_products": t_direct / t_fast,
                "max_relative_difference": diff, "scans": scans}, args.output)


if __name__ == "__main__":
    main()
