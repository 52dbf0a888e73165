"""Speed of `corona fit`'s likelihood: evaluations per second per core, and MPI efficiency.

    python benchmarks/bench_fit.py [--output benchmarks/results/bench_fit.json] [--seconds 20]

The likelihood of runs/fit/corona_limits.toml's data (CR protons by the touching rule, the
Fermi-LAT IGRB with its foreground band, IceCube cascades) on the baseline model at nside 64,
each call on one core (numba and BLAS threads = 1), timed in this process:

1. only source-spectrum parameters vary (alpha, E_cut): one unit response serves every call
   (target >= 200 / s);
2. transport parameters vary (D0, delta, alpha): a unit-response solve per call (target
   >= 20 / s), and the solve split into its numba kernels and the rest; the kernels called as
   `transport.solve` called them before (~100 calls per solve) and as now (one per segment);
3. the calls of 2. in batches of 100 (nautilus's) shared over 1 and 2 MPI ranks
   (montecarlo.parallel.SharedMap over mpi4py.futures, `mpirun -n N` subprocesses, the two
   counts interleaved, best of three each): efficiency = rate(2) / (2 rate(1)) (target >= 90 %).

Speeds measured on a shared machine are pessimistic: the load average is printed with each.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from transport.core.constants import GYR_S
from transport.core.output import code_version
from transport.cosmicrays import solver_kernels as kernels
from transport.cosmicrays.solver import build_problem, history, schedule, unit_response

from montecarlo.inference.forward import CoronaForward
from montecarlo.inference.priors import UnitTransform
from montecarlo.parallel import SharedMap, task_executor, world
from montecarlo.pipeline import fit as fitting

from _report import write_json

ROOT = Path(__file__).resolve().parents[1]
FIT_FILE = ROOT / "runs" / "fit" / "corona_limits.toml"
SOURCE = ("source.alpha", "source.E_cut_eV")
TRANSPORT = ("diffusion.D0_cm2_s", "diffusion.delta", "source.alpha")


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def likelihood_for(names):
    """The production fit's likelihood with only ``names`` free (the others at the base)."""
    spec = fitting.parse_fit(FIT_FILE)
    priors = tuple(p for p in spec.priors if p.name in names)
    spec = fitting.FitSpec(spec.path, spec.raw, spec.base, spec.fixed, priors, spec.datasets,
                           spec.options, spec.settings, None, 0, spec.key + "+" + ",".join(names))
    return spec, fitting.make_likelihood(spec, None, say=lambda text: None)


def points(spec, n, seed=1):
    transform = UnitTransform(spec.priors)
    rng = np.random.default_rng(seed)
    return [transform(u) for u in rng.random((n, len(spec.priors)))]


def rate(likelihood, thetas, seconds) -> tuple[float, float, int]:
    """(calls per wall-clock second, calls per CPU second of this process, calls) over at least
    ``seconds`` (cycling through ``thetas``). On a loaded machine the CPU rate is the per-core
    figure; the wall-clock one is what the load left."""
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds or n < 5:
        likelihood(thetas[n % len(thetas)])
        n += 1
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0), n


def kernel_time(cfg, chunks_per_solve: int | None) -> float:
    """CPU seconds of the solver's numba kernels for one solve of ``cfg``, called once per segment
    (None) or in ~``chunks_per_solve`` pieces (what transport.solve did before)."""
    problem = build_problem(cfg)
    segments = schedule(cfg)
    tl, tr, vol = problem.coefficients()
    j = np.zeros((problem.E_eV.size, problem.grid.size))
    work, cp, inv = np.empty_like(j), np.empty_like(j), np.empty_like(j)
    acc = [np.zeros(problem.E_eV.size) for _ in range(3)]
    total = sum(s.n_steps for s in segments)
    chunk = total if chunks_per_solve is None else max(1, total // chunks_per_solve)
    t0 = time.process_time()
    for seg in segments:
        dt = seg.dt_gyr * GYR_S
        kernels.factorize(seg.theta * dt, problem.D_cm2_s, problem.loss_cm3_s, tl, tr,
                          problem.n_gas_cm3, cp, inv)
        for k0 in range(0, seg.n_steps, chunk):
            k1 = min(seg.n_steps, k0 + chunk)
            h = history(seg.t0_gyr + seg.dt_gyr * np.arange(k0, k1 + 1), cfg.source.history)
            kernels.advance(j, h, seg.theta, dt, problem.D_cm2_s, problem.loss_cm3_s,
                            problem.src_E, tl, tr, problem.n_gas_cm3, problem.src_r, vol,
                            cp, inv, work, *acc)
    return time.process_time() - t0


def best(fn, repeat=7) -> float:
    return min(fn() for _ in range(repeat))


def mpi_part(args) -> None:
    """Under mpirun: the transport-varying calls in batches of 100 over all ranks."""
    comm = world()
    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
    spec, likelihood = (likelihood_for(TRANSPORT) if rank == 0 else (None, None))
    if rank == 0:
        fitting.single_core()
        likelihood.forward()
        thetas = points(spec, args.calls, seed=3)
    with task_executor() as executor:
        if executor is None:
            return
        pool = SharedMap(executor, size)
        pool.map(likelihood, thetas[:4 * size])                    # workers build their model
        t0 = time.perf_counter()
        for start in range(0, len(thetas), 100):
            pool.map(likelihood, thetas[start:start + 100])
        elapsed = time.perf_counter() - t0
    print(json.dumps({"ranks": size, "calls": len(thetas), "seconds": elapsed,
                      "rate": len(thetas) / elapsed, "load": os.getloadavg()[0]}), flush=True)


def mpi_rate(n_ranks: int, calls: int) -> dict:
    mpirun = Path(sys.executable).parent / "mpirun"
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    cmd = [str(mpirun), "-n", str(n_ranks), sys.executable, __file__, "--mpi-part",
           "--calls", str(calls)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT / "benchmarks")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(done.stdout + done.stderr)
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/results/bench_fit.json")
    parser.add_argument("--seconds", type=float, default=20.0, help="timing per figure")
    parser.add_argument("--calls", type=int, default=200, help="calls per MPI measurement")
    parser.add_argument("--repeat-mpi", type=int, default=3, help="MPI measurements per rank count")
    parser.add_argument("--mpi-part", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.mpi_part:
        return mpi_part(args)
    fitting.single_core()
    out = {"code_version": code_version(), "machine": platform.node(), "fit_file": str(FIT_FILE)}

    spec, like = likelihood_for(SOURCE)
    like.forward()
    thetas = points(spec, 50)
    like(thetas[0]), like(thetas[1])                    # the second call contracts R
    r, c, n = rate(like, thetas, args.seconds)
    out["source_rate_per_s"], out["source_rate_per_cpu_s"] = r, c
    print(f"source-spectrum parameters only (alpha, E_cut): {c:7.1f} likelihood calls per CPU "
          f"second, {r:7.1f} per wall second ({n} calls; target >= 200 per core)   [{load()}]")

    spec, like = likelihood_for(TRANSPORT)
    like.forward()
    thetas = points(spec, 50, seed=2)
    like(thetas[0])
    r, c, n = rate(like, thetas, args.seconds)
    out["transport_rate_per_s"], out["transport_rate_per_cpu_s"] = r, c
    print(f"transport parameters (D0, delta, alpha):        {c:7.1f} likelihood calls per CPU "
          f"second, {r:7.1f} per wall second ({n} calls; target >= 20 per core)   [{load()}]")

    cfg = like.forward().base
    solve_s = best(lambda: _timed(unit_response, cfg))
    before = best(lambda: kernel_time(cfg, 100))
    now = best(lambda: kernel_time(cfg, None))
    out.update({"solve_s": solve_s, "kernels_s_before": before, "kernels_s_now": now})
    print(f"transport.solve (unit response), CPU, best of 7: {1e3 * solve_s:.1f} ms; its numba kernels "
          f"{1e3 * now:.1f} ms called once per time segment, {1e3 * before:.1f} ms called ~100 "
          f"times as before; overhead around the kernels {1e3 * (solve_s - now):.1f} ms   [{load()}]")
    rest = 1.0 / c - solve_s
    print(f"  one transport-varying likelihood call = solve {1e3 * solve_s:.1f} ms + interpolation, "
          f"emissivity, sky and likelihoods {1e3 * rest:.1f} ms (CPU)")

    runs = {1: [], 2: []}
    for _ in range(args.repeat_mpi):               # interleaved: both see the same load
        for n in (1, 2):
            runs[n].append(mpi_rate(n, args.calls))
    one, two = (max(runs[n], key=lambda r: r["rate"]) for n in (1, 2))
    efficiency = two["rate"] / (2.0 * one["rate"])
    out.update({"mpi_1": runs[1], "mpi_2": runs[2], "mpi_efficiency_2_ranks": efficiency})
    loads = ", ".join(f"{r['load']:.1f}" for r in runs[1] + runs[2])
    print(f"MPI, transport-varying calls in batches of 100 (best of {args.repeat_mpi}): 1 rank "
          f"{one['rate']:.1f} / s, 2 ranks {two['rate']:.1f} / s: efficiency {100 * efficiency:.0f} % "
          f"(target >= 90 %); all runs: 1 rank {[round(r['rate'], 1) for r in runs[1]]}, 2 ranks "
          f"{[round(r['rate'], 1) for r in runs[2]]}   [load average {loads}]")
    out["load_average"] = os.getloadavg()
    write_json(out, args.output)


def _timed(fn, *args) -> float:
    """CPU seconds of fn(*args) in this process."""
    t0 = time.process_time()
    fn(*args)
    return time.process_time() - t0


if __name__ == "__main__":
    main()
