"""Speed of the electromagnetic cascade Monte Carlo and of the extragalactic spectrum.

    python benchmarks/bench_cascade.py [--output benchmarks/results/bench_cascade.json]

Prints and writes JSON:
- primaries/s and secondaries (pair + inverse-Compton events)/s per core of the numba kernel
  against the same kernel run as pure Python (NUMBA_DISABLE_JIT=1 in a subprocess, the same
  code line by line) in the same run, and their ratio (per event);
- MPI efficiency at 2 ranks, T(1 rank) / (2 T(2 ranks)), of a response-table run;
- the time to build the response table (a tenth of the default primaries per node on 2 ranks,
  and that time x 10);
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

from _report import write_json

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


def cells_run(per_cell):
    """The response-table workload with per_cell primaries per node (timed on this rank)."""
    spec = ResponseSpec()
    tables = cascade_tables(load_config(None), spec.model, spec.cosmology, 3.9)
    z, E = np.meshgrid(spec.z_nodes, spec.E_inj_eV, indexing="ij")
    mc.run_cells(tables, spec.settings, E.ravel()[:4], z.ravel()[:4], 2, 9)       # compile
    t0 = time.perf_counter()
    mc.run_cells(tables, spec.settings, E.ravel(), z.ravel(), per_cell, spec.seed, progress=False)
    return time.perf_counter() - t0


def _sub(args, env=None, n_ranks=1):
    cmd = [sys.executable, str(Path(__file__).resolve())] + args
    if n_ranks > 1:
        cmd = [str(Path(sys.executable).parent / "mpirun"), "-n", str(n_ranks)] + cmd
    env = {**os.environ, **(env or {})}
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--output", default=str(HERE / "results" / "bench_cascade.json"))
    ap.add_argument("--child", default="")
    ap.add_argument("--n", type=int, default=0)
    a = ap.parse_args()
    if a.child == "kernel":
        print(json.dumps(kernel_speed(a.n)))
        return
    if a.child == "cells":
        from montecarlo.parallel import rank_and_size, world
        dt = cells_run(a.n)
        if rank_and_size(world())[0] == 0:
            print(json.dumps(dt))
        return
    result = {"code_version": code_version(), "machine": platform.processor() or platform.machine(),
              "cpu_count": os.cpu_count(), "workload": WORK}
    t, n, ev = _sub(["--child", "kernel", "--n", "300"])
    tp, n_p, ev_p = _sub(["--child", "kernel", "--n", "3"], env={"NUMBA_DISABLE_JIT": "1"})
    result["numba"] = {"primaries_per_s": n / t, "events_per_s": ev / t}
    result["pure_python"] = {"primaries_per_s": n_p / tp, "events_per_s": ev_p / tp}
    result["speedup_events"] = (ev / t) / (ev_p / tp)
    print(f"numba: {n / t:.1f} primaries/s, {ev / t:.3g} events/s; pure Python: "
          f"{n_p / tp:.3g} primaries/s, {ev_p / tp:.3g} events/s; speed-up {result['speedup_events']:.0f}x")
    per_cell = 20
    t1 = _sub(["--child", "cells", "--n", str(per_cell)])
    t2 = _sub(["--child", "cells", "--n", str(per_cell)], n_ranks=2)
    result["mpi"] = {"t_1_rank_s": t1, "t_2_ranks_s": t2, "efficiency": t1 / (2 * t2),
                     "per_cell": per_cell}
    result["table_build_s_2_ranks_default"] = t2 * ResponseSpec().per_cell / per_cell
    print(f"response table ({per_cell} primaries/node): 1 rank {t1:.1f} s, 2 ranks {t2:.1f} s, "
          f"efficiency {t1 / (2 * t2):.2f}; default table ({ResponseSpec().per_cell}/node) "
          f"on 2 ranks ~ {result['table_build_s_2_ranks_default']:.0f} s")
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
    write_json(result, a.output)


if __name__ == "__main__":
    main()
