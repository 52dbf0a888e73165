"""Speed of the transport solver against a straightforward scipy.sparse implementation.

    python benchmarks/bench_transport.py [--output benchmarks/results/bench_transport.json]

Prints and writes JSON: cell-updates per second of the numba solver on one thread and on
all threads, wall time of the baseline 10-Gyr solve (default config, converged resolution),
and the same problem solved with scipy.sparse (spsolve every step, and an LU factorised
once per time-step size) in the same run, with the ratios and the agreement of the results.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import transport
from transport.core.constants import GYR_S
from transport.core.output import code_version
from transport.cosmicrays.solver import build_problem, evolve, schedule
from transport.cosmicrays.corona_source import history

from _report import write_json


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def scipy_solve(problem, segments, h_fn, factorize_once):
    """The same theta-scheme with block-diagonal sparse matrices over all energies."""
    tl, tr, vol = problem.coefficients()
    n_e, n = problem.E_eV.size, problem.grid.size
    blocks = []
    for e in range(n_e):       # row i: D tl_i j_{i-1} - (D (tl_i + tr_i) + lam n_i) j_i + D tr_i j_{i+1}
        D = problem.D_cm2_s[e]
        diag = -D * (tl + tr) - problem.loss_cm3_s[e] * problem.n_gas_cm3
        blocks.append(sp.diags([D * tl[1:], diag, D * tr[:-1]], [-1, 0, 1], shape=(n, n)))
    L = sp.block_diag(blocks, format="csc")
    eye = sp.identity(n_e * n, format="csc")
    src = np.outer(problem.src_E, problem.src_r).ravel()
    j = np.zeros(n_e * n)
    for seg in segments:
        dt = seg.dt_gyr * GYR_S
        A = (eye - seg.theta * dt * L).tocsc()
        B = (eye + (1.0 - seg.theta) * dt * L).tocsr()
        solve = spla.splu(A).solve if factorize_once else (lambda rhs, A=A: spla.spsolve(A, rhs))
        h = h_fn(seg.t0_gyr + seg.dt_gyr * np.arange(seg.n_steps + 1))
        for k in range(seg.n_steps):
            rhs = B @ j + dt * (seg.theta * h[k + 1] + (1.0 - seg.theta) * h[k]) * src
            j = solve(rhs)
    return j.reshape(n_e, n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/results/bench_transport.json")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    cfg = transport.load_config({"normalization.mode": "rate"})
    problem = build_problem(cfg)
    segments = schedule(cfg)
    h_fn = lambda t: history(t, cfg.source.history)
    n_steps = sum(s.n_steps for s in segments)
    cells = problem.E_eV.size * problem.grid.size * n_steps
    evolve(problem, segments, h_fn)                           # compile / load the cache

    threads_all = numba.get_num_threads()
    numba.set_num_threads(1)
    t_one, ours = best_of(lambda: evolve(problem, segments, h_fn).j, args.repeat)
    numba.set_num_threads(threads_all)
    t_all, _ = best_of(lambda: evolve(problem, segments, h_fn).j, args.repeat)
    t_solve, _ = best_of(lambda: transport.solve(transport.load_config()), args.repeat)

    t_spsolve, ref = best_of(lambda: scipy_solve(problem, segments, h_fn, False), 1)
    t_splu, _ = best_of(lambda: scipy_solve(problem, segments, h_fn, True), 1)
    significant = np.abs(ref) > 1e-12 * np.abs(ref).max()
    agree = float(np.max(np.abs(ours - ref)[significant] / np.abs(ref)[significant]))

    result = {
        "benchmark": "transport",
        "code_version": code_version(),
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "numba": numba.__version__, "numba_threads": threads_all},
        "problem": {"n_E": int(problem.E_eV.size), "n_r": int(problem.grid.size), "n_steps": int(n_steps),
                    "cell_updates": int(cells), "t_end_gyr": cfg.time.t_end_gyr},
        "numba_1_thread": {"wall_s": t_one, "cell_updates_per_s": cells / t_one},
        f"numba_{threads_all}_threads": {"wall_s": t_all, "cell_updates_per_s": cells / t_all},
        "baseline_solve_wall_s": t_solve,
        "scipy_spsolve": {"wall_s": t_spsolve, "cell_updates_per_s": cells / t_spsolve,
                          "ratio_numba_1_thread": t_spsolve / t_one},
        "scipy_splu_prefactorised": {"wall_s": t_splu, "cell_updates_per_s": cells / t_splu,
                                     "ratio_numba_1_thread": t_splu / t_one},
        "max_relative_difference_vs_scipy": agree,
        "targets": {"cell_updates_per_s_1_thread": 5e7, "ratio_vs_scipy": 20, "baseline_solve_s": 1.0},
    }
    print(f"problem: {problem.E_eV.size} energies x {problem.grid.size} cells x {n_steps} steps "
          f"= {cells / 1e6:.1f} M cell-updates")
    print(f"numba, 1 thread:        {t_one * 1e3:8.1f} ms  {cells / t_one / 1e6:8.1f} M cell-updates/s")
    print(f"numba, {threads_all} threads:       {t_all * 1e3:8.1f} ms  {cells / t_all / 1e6:8.1f} M cell-updates/s")
    print(f"baseline solve (default config, normalised, all threads): {t_solve * 1e3:.1f} ms")
    print(f"scipy.sparse spsolve:   {t_spsolve * 1e3:8.1f} ms  ratio {t_spsolve / t_one:6.1f}x (vs 1 thread)")
    print(f"scipy.sparse splu once: {t_splu * 1e3:8.1f} ms  ratio {t_splu / t_one:6.1f}x (vs 1 thread)")
    print(f"max relative difference numba vs scipy: {agree:.2e}")
    write_json(result, args.output)


if __name__ == "__main__":
    main()
