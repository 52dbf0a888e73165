"""Speed of the electromagnetic cascade Monte Carlo and of the extragalactic spectrum.

    python benchmarks/bench_cascade.py [--output benchmarks/results/bench_cascade.json]

Prints and writes JSON:
- primaries/s and secondaries (pair + inverse-Compton events)/s per core of the numba kernel
  against the same kernel run as pure Python (NUMBA_DISABLE_JIT=1 in a subprocess, the same
  code line by line) in the same run, and their ratio (per event);
- MPI efficiency at 2 ranks, T(1 rank) / (2 T(2 ranks)), of the same response-table run
  (every node of the default table, the primaries per node chosen so that one rank takes
  >= 60 s, --mpi-seconds), timed from a barrier after compilation and table loading (start-up
  excluded), with each rank's busy time inside the cascade kernel (the load balance) and the
  load average; and the default table's build time on 2 ranks scaled from it;
- the time of one extragalactic gamma-ray spectrum (direct + cascade) from the table;
- the table's interpolation error: the cascade of E^-1 exp(-E / 3e14 eV) photons injected at
  z = 0.25 and 1.15 (between table nodes) from the table against direct Monte Carlo runs.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from montecarlo.cascade import extragalactic as eg
from montecarlo.cascade import kernels as ck
from montecarlo.cascade import montecarlo as mc
from montecarlo.cascade.interactions import cascade_tables
from montecarlo.cascade.response import ResponseSpec, ResponseTable, bundled_path
from transport.core.config import load_config
from transport.core.output import code_version

from _report import uptime, write_json

HERE = Path(__file__).resolve().parent
WORK = dict(z=0.1, E=1e13, thinning=0.5)


def kernel_speed(n, seed=3):
    """(seconds, primaries, events) of n primaries of WORK, after a warm-up call."""
    tables = cascade_tables(load_config(None), "dominguez", "planck18", 3.9)
    st = mc.Settings(thinning=WORK["thinning"])
    mc.run_power_law(tables, st, WORK["z"], WORK["E"], WORK["E"], 2.0, 2, seed, batch_size=2)
    t0 = time.perf_counter()
    t = mc.run_power_law(tables, st, WORK["z"], WORK["E"], WORK["E"], 2.0, n, seed, batch_size=n)
    dt = time.perf_counter() - t0
    return dt, n, float(t.counters[ck.CNT_PAIRS] + t.counters[ck.CNT_IC])


def cells_run(per_cell, target_s=0.0):
    """The response-table workload (every node of the default table, per_cell primaries each)
    timed on every rank from a barrier after compilation and table loading, so that start-up
    is excluded. With target_s > 0 (one rank only) per_cell is first scaled so that the timed
    run lasts about target_s (a pilot of per_cell primaries per node). Returns, on rank 0,
    {"per_cell", "ranks": [{"wall_s", "cpu_s", "busy_cpu_s", "batches"} per rank]}: wall and
    CPU time of the run (CPU time includes MPI's busy waiting), CPU time inside the cascade
    kernel (montecarlo.cascade.montecarlo.simulate, timed by a wrapper) and batches done."""
    from montecarlo.parallel import rank_and_size, world
    comm = world()
    spec = ResponseSpec()
    tables = cascade_tables(load_config(None), spec.model, spec.cosmology, 3.9)
    z, E = np.meshgrid(spec.z_nodes, spec.E_inj_eV, indexing="ij")
    mc.run_cells(tables, spec.settings, E.ravel()[:4], z.ravel()[:4], 2, 9)       # compile
    if target_s > 0:
        c0 = time.process_time()
        mc.run_cells(tables, spec.settings, E.ravel(), z.ravel(), per_cell, spec.seed + 1)
        scale = 1.1 * target_s / (time.process_time() - c0)     # 10 % margin over target_s
        per_cell = int(np.ceil(per_cell * scale / 4.0)) * 4       # an even number of batches
    kernel, busy = mc.simulate, [0.0, 0]

    def timed(*args):
        c = time.process_time()
        out = kernel(*args)
        busy[0] += time.process_time() - c
        busy[1] += 1
        return out

    mc.simulate = timed
    try:
        if comm is not None:
            comm.Barrier()
        t0, c0 = time.perf_counter(), time.process_time()
        mc.run_cells(tables, spec.settings, E.ravel(), z.ravel(), per_cell, spec.seed)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        mc.simulate = kernel
    row = {"wall_s": wall, "cpu_s": cpu, "busy_cpu_s": busy[0], "batches": busy[1]}
    rows = comm.gather(row, root=0) if comm is not None else [row]
    if rank_and_size(comm)[0] == 0:
        return {"per_cell": per_cell, "ranks": rows}
    return None


def mpi_efficiency(target_s):
    """T(1 rank) / (2 T(2 ranks)) for the same response-table run of >= target_s on one rank
    (start-up excluded: compilation and table loading happen before a barrier), from wall
    times and from CPU times (the slowest rank's; CPU time is what a shared machine distorts
    least: MPICH waits busily, so waiting for a late rank still counts), with each rank's CPU
    time inside the kernel (the load balance) and the load average."""
    load0 = os.getloadavg()
    pilot = _sub(["--child", "cells", "--n", "2", "--target", str(target_s)])
    one, per_cell = pilot["ranks"][0], pilot["per_cell"]
    two = _sub(["--child", "cells", "--n", str(per_cell)], n_ranks=2)["ranks"]
    busy = [r["busy_cpu_s"] for r in two]
    return {"per_cell": per_cell, "t_1_rank_s": one["wall_s"], "cpu_1_rank_s": one["cpu_s"],
            "t_2_ranks_s": max(r["wall_s"] for r in two),
            "cpu_2_ranks_s": [r["cpu_s"] for r in two],
            "efficiency": one["wall_s"] / (2 * max(r["wall_s"] for r in two)),
            "efficiency_cpu": one["cpu_s"] / (2 * max(r["cpu_s"] for r in two)),
            "busy_cpu_1_rank_s": one["busy_cpu_s"], "busy_cpu_2_ranks_s": busy,
            "batches_2_ranks": [r["batches"] for r in two],
            "load_balance": float(np.mean(busy) / np.max(busy)),
            "work_2_over_1_rank": float(np.sum(busy) / one["busy_cpu_s"]),
            "load_average_before": load0, "load_average_after": os.getloadavg()}


def _sub(args, env=None, n_ranks=1):
    cmd = [sys.executable, str(Path(__file__).resolve())] + args
    if n_ranks > 1:
        cmd = [str(Path(sys.executable).parent / "mpirun"), "-n", str(n_ranks)] + cmd
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    env = {k: v for k, v in env.items() if n_ranks == 1 or k not in ("PMI_SIZE", "PMI_RANK")}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def interpolation_error(table: ResponseTable, n=4000, group=4, E_cut=3e14):
    """Table vs direct MC (thinning 0.5) for a smooth spectrum, dN/dE ~ E^-1 exp(-E/E_cut) on
    [1e10, 1e17] eV (sampled by rejection), injected at z between nodes; compared in groups
    of ``group`` observed-energy bins (half decades) where the MC error is below 10 %, with
    the table's own statistical error propagated."""
    tables = cascade_tables(load_config(None), "dominguez", "planck18", 3.9)
    st = replace(ResponseSpec().settings, thinning=0.5)
    lo, hi = 1e10, 1e17
    E_L = np.geomspace(lo, hi, 2000)
    shape = np.exp(-E_L / E_cut) / E_L
    L = eg.EmissionRate(E_L, shape / np.trapezoid(shape * E_L, np.log(E_L)))
    rng = np.random.default_rng(5)
    E = lo * (hi / lo) ** rng.random(40 * n)
    E = E[rng.random(E.size) < np.exp(-E / E_cut)][:n]
    width = np.diff(table.edges_eV)
    m = (width.size // group) * group
    out = {}
    for z in (0.25, 1.15):
        t = mc.unpack(mc.simulate(tables, st, E, np.full(E.size, z), np.zeros(E.size, np.int64), 1, 17),
                      1, table.edges_eV, [E.size])
        N = E.size
        count = (t.spec[0] / N)[:m].reshape(-1, group).sum(axis=1)
        var = np.maximum(t.spec_sq[0] / N - (t.spec[0] / N) ** 2, 0.0) / (N - 1)
        err = np.sqrt(var[:m].reshape(-1, group).sum(axis=1))        # bins nearly independent
        G, G_err = table.single_source(z, L, with_error=True)
        G, G_err = G * width, G_err * width
        tab = G[:m].reshape(-1, group).sum(axis=1)
        tab_err = np.sqrt((G_err[:m] ** 2).reshape(-1, group).sum(axis=1))
        good = (count > 0) & (err < 0.1 * count)
        ratio = tab[good] / count[good]
        E_mc = float(np.sum(t.spec[0] / N * table.E_obs_eV))
        E_tab = float(np.sum(G * table.E_obs_eV))
        out[f"z={z}"] = {"groups_compared": int(good.sum()),
                         "median_abs_dev": float(np.median(np.abs(ratio - 1))),
                         "max_abs_dev": float(np.max(np.abs(ratio - 1))),
                         "mc_rel_err_median": float(np.median(err[good] / count[good])),
                         "table_rel_err_median": float(np.median(tab_err[good] / tab[good])),
                         "deviation_over_combined_error_rms": float(np.sqrt(np.mean(
                             ((tab[good] - count[good]) / np.hypot(err[good], tab_err[good])) ** 2))),
                         "energy_ratio_table_over_mc": E_tab / E_mc}
    return out


def report_mpi(m):
    """Print the MPI figures (and the default table's build time scaled from them)."""
    m["table_build_s_2_ranks_default"] = m["t_2_ranks_s"] * ResponseSpec().per_cell / m["per_cell"]

    def verdict(e):
        return "met" if e >= 0.9 else "MISSED"

    print(f"MPI, response-table run ({m['per_cell']} primaries per node, start-up excluded): 1 rank "
          f"{m['t_1_rank_s']:.1f} s, 2 ranks {m['t_2_ranks_s']:.1f} s -> efficiency "
          f"{100 * m['efficiency']:.1f} % (wall: {verdict(m['efficiency'])}), "
          f"{100 * m['efficiency_cpu']:.1f} % (CPU: {verdict(m['efficiency_cpu'])})   target >= 90 %")
    b = m["busy_cpu_2_ranks_s"]
    print(f"  2 ranks: CPU in the kernel {b[0]:.1f} s / {b[1]:.1f} s ({m['batches_2_ranks'][0]} / "
          f"{m['batches_2_ranks'][1]} batches: balance {100 * m['load_balance']:.1f} %), of "
          f"{m['cpu_2_ranks_s'][0]:.1f} s / {m['cpu_2_ranks_s'][1]:.1f} s CPU; kernel work on 2 ranks / 1 "
          f"rank {m['work_2_over_1_rank']:.3f}; load average {m['load_average_before'][0]:.1f} -> "
          f"{m['load_average_after'][0]:.1f} on {os.cpu_count()} cores (other jobs slow the 2-rank "
          "run's wall time most)")
    print(f"  default table ({ResponseSpec().per_cell}/node) on 2 ranks ~ "
          f"{m['table_build_s_2_ranks_default']:.0f} s")
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--output", default=str(HERE / "results" / "bench_cascade.json"))
    ap.add_argument("--child", default="")
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--target", type=float, default=0.0)
    ap.add_argument("--mpi-seconds", type=float, default=60.0,
                    help="length of the one-rank run of the MPI efficiency measurement")
    ap.add_argument("--mpi-only", action="store_true", help="only the MPI efficiency")
    a = ap.parse_args()
    if a.child == "kernel":
        print(json.dumps(kernel_speed(a.n)))
        return
    if a.child == "cells":
        out = cells_run(a.n, a.target)
        if out is not None:
            print(json.dumps(out))
        return
    result = {"code_version": code_version(), "machine": platform.processor() or platform.machine(),
              "cpu_count": os.cpu_count(), "workload": WORK, "uptime_before": uptime()}
    print(f"uptime: {result['uptime_before']}")
    if a.mpi_only:
        result["mpi"] = report_mpi(mpi_efficiency(a.mpi_seconds))
        result["uptime_after"] = uptime()
        print(f"uptime: {result['uptime_after']}")
        write_json(result, a.output)
        return
    t, n, ev = _sub(["--child", "kernel", "--n", "300"])
    tp, n_p, ev_p = _sub(["--child", "kernel", "--n", "3"], env={"NUMBA_DISABLE_JIT": "1"})
    result["numba"] = {"primaries_per_s": n / t, "events_per_s": ev / t}
    result["pure_python"] = {"primaries_per_s": n_p / tp, "events_per_s": ev_p / tp}
    result["speedup_events"] = (ev / t) / (ev_p / tp)
    print(f"numba: {n / t:.1f} primaries/s, {ev / t:.3g} events/s; pure Python: "
          f"{n_p / tp:.3g} primaries/s, {ev_p / tp:.3g} events/s; speed-up {result['speedup_events']:.0f}x")
    result["mpi"] = report_mpi(mpi_efficiency(a.mpi_seconds))
    table = ResponseTable.read(bundled_path("dominguez"))
    u = eg.Universe()
    E = np.geomspace(1e8, 1e17, 91)
    L = eg.EmissionRate(np.geomspace(1e9, 1e18, 91), 1e30 * np.geomspace(1e9, 1e18, 91) ** -2.4)
    table.gamma_intensity(E, L, u)
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        table.gamma_intensity(E, L, u)
    result["spectrum_from_table_ms"] = (time.perf_counter() - t0) / reps * 1e3
    print(f"one extragalactic spectrum from the table: {result['spectrum_from_table_ms']:.1f} ms")
    result["interpolation"] = interpolation_error(table)
    for k, v in result["interpolation"].items():
        print(f"table vs direct MC at {k}: median |dev| {v['median_abs_dev']:.3f}, max "
              f"{v['max_abs_dev']:.3f} over {v['groups_compared']} half decades (errors: MC "
              f"{v['mc_rel_err_median']:.3f}, table {v['table_rel_err_median']:.3f}; rms deviation / "
              f"error {v['deviation_over_combined_error_rms']:.2f}); energy ratio "
              f"{v['energy_ratio_table_over_mc']:.3f}")
    result["uptime_after"] = uptime()
    print(f"uptime: {result['uptime_after']}")
    write_json(result, a.output)


if __name__ == "__main__":
    main()
