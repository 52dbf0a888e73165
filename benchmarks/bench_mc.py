"""Speed of the Monte Carlo propagation (montecarlo.propagation).

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        python benchmarks/bench_mc.py [--tracking-only] [--output benchmarks/results/bench_mc.json]

Prints (with `uptime` before and after) and writes JSON:
0. the targets: steps/s of the dust ratio-tracking step on one core and the ratio to the NumPy
   implementation of the same algorithm, in the same run on the same paths (30 kpc ending at
   the Sun, random directions, CMB + direction-dependent dust at the energy of the largest dust
   rate). A *step* is one tentative collision of the dust majorant inside a path: an
   exponential free path, one interpolation of the dust rate (16 corners of the (R, |z|, mu,
   psi) table at that energy, an atan2, an exp) and one weight update; the time includes
   everything else per path. NumPy: the same ratio tracking, the same majorant, the same
   table (Medium.dust_ln) and interpolation, vectorised over all paths. Best of --repeats
   runs each (CPU time);
1. photons/s on one core in the Galactic geometry (the [disk] model, analog estimator, CMB +
   dust, 100 TeV) against a NumPy implementation of the same algorithm; and steps/s of the
   corona at 2 PeV (paths to 250 kpc);
2. MPI strong scaling 1 -> 2 ranks (`mpirun -n 1|2`, wall time of the batches only);
3. time for the all-sky corona gamma-ray intensity at 1 PeV (CMB + dust) to reach 1 %
   statistical error, against the line-of-sight integrator's time for the same number (the
   mean of an nside-16 map, which agrees with nside 64 to < 1e-3 for the smooth corona).

One-core rates use the CPU time of the process (time.process_time) so that a shared machine
distorts them less; wall times are kept beside them. --tracking-only: part 0 alone (seconds).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import healpy as hp
import numba
import numpy as np

import montecarlo
import transport
from montecarlo.propagation import kernels as pk
from montecarlo.propagation.api import prepare
from montecarlo.propagation.medium import medium_for
from montecarlo.propagation.sources import at_energies
from montecarlo.opacity.api import opacity_for
from montecarlo.sky.analysis import pixel_directions
from transport.core.output import code_version
from transport.emission.registry import build_emission

from _report import uptime, write_json

E_GALACTIC = 1e14
TARGET_STEPS_PER_S = 3e6
TARGET_SPEEDUP = 20


# --------------------------------------------------------------------------- NumPy baseline
def _interp(grid, x):
    """Left index and weight on an ascending grid, clamped (as the numba _locate)."""
    i = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, grid.size - 2)
    w = np.clip((x - grid[i]) / (grid[i + 1] - grid[i]), 0.0, 1.0)
    return i, w


def numpy_q(em, x, y, z):
    """Axisymmetric table, bilinear in ln q (positive corners), zero outside."""
    R = np.hypot(x, y)
    zz = np.abs(z)
    inside = (R <= em.R_kpc[-1]) & (zz <= em.z_kpc[-1])
    i, u = _interp(em.R_kpc, np.maximum(R, em.R_kpc[0]))
    j, v = _interp(em.z_kpc, np.maximum(zz, em.z_kpc[0]))
    with np.errstate(divide="ignore"):
        lq = np.log(em.q[0])
    val = np.exp((1 - u) * ((1 - v) * lq[i, j] + v * lq[i, j + 1]) + u * ((1 - v) * lq[i + 1, j] + v * lq[i + 1, j + 1]))
    return np.where(inside, val, 0.0)


def numpy_dust(table, grids, x, u):
    """Direction-dependent dust rate [kpc^-1] at one energy: ``table`` = ln rate on
    (R, |z|, mu, psi) at that energy (Medium.dust_ln[e]: the ln E stencil applied once, as the
    numba kernel uses it), multilinear, far-field dilution beyond the grid (as kernels.dust_rate)."""
    R_g, z_g, mu_g, psi_g = grids[0], grids[3], grids[6], grids[9]
    R = np.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2)
    za = np.abs(x[:, 2])
    psi = np.arctan2(np.abs(u[:, 1] * x[:, 0] - u[:, 0] * x[:, 1]), u[:, 0] * x[:, 0] + u[:, 1] * x[:, 1])
    mu = np.where(x[:, 2] < 0, -u[:, 2], u[:, 2])
    iR, wR = _interp(R_g, R)
    iz, wz = _interp(z_g, za)
    im, wm = _interp(mu_g, mu)
    ip, wp = _interp(psi_g, psi)
    acc = np.log((np.minimum(R, R_g[-1]) ** 2 + np.minimum(za, z_g[-1]) ** 2) / (R ** 2 + za ** 2))
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                for d in (0, 1):
                    f = ((wR if a else 1 - wR) * (wz if b else 1 - wz) * (wm if c else 1 - wm)
                         * (wp if d else 1 - wp))
                    acc = acc + f * table[iR + a, iz + b, im + c, ip + d]
    return np.exp(acc)


def numpy_batch(problem, em, rng, n):
    """The analog algorithm of kernels.simulate_batch, vectorised over photons (one energy):
    returns (all-sky sum of scores, tracking steps)."""
    m = problem.medium
    o = problem.origin
    z = 2 * rng.random(n) - 1
    phi = 2 * np.pi * rng.random(n)
    st = np.sqrt(1 - z * z)
    nvec = np.stack([st * np.cos(phi), st * np.sin(phi), z], axis=1)
    pix = hp.ang2pix(problem.nside, np.arccos(z), phi)
    cdf = problem.cdf[pix]
    k = np.sum(cdf[:, 1:-1] <= rng.random(n)[:, None], axis=1)
    p_bin = cdf[np.arange(n), k + 1] - cdf[np.arange(n), k]
    width = np.diff(problem.edges)[k]
    L = problem.edges[k] + width * rng.random(n)
    x = o + L[:, None] * nvec
    a = numpy_q(em, x[:, 0], x[:, 1], x[:, 2]) * width / p_bin / (4 * np.pi)
    sig_u, sig_d = m.sigma_uniform[0], m.sigma_dust_max[0]
    sig_maj = sig_u + sig_d
    alive = a > 0
    t = np.zeros(n)
    active = np.nonzero(alive)[0]
    steps = 0
    while active.size:
        t[active] -= np.log(1 - rng.random(active.size)) / sig_maj
        out = t[active] >= L[active]
        active = active[~out]
        steps += active.size
        s = (L - t)[active]
        xi = rng.random(active.size) * sig_maj
        pos = o + s[:, None] * nvec[active]
        rate = numpy_dust(m.dust_ln[0], m.dust_grids, pos, -nvec[active])
        absorbed = xi < sig_u + rate
        alive[active[absorbed]] = False
        active = active[~absorbed]
    return float(np.sum(a * alive)), steps


# --------------------------------------------------------------------------- tracking only
@numba.njit
def _track_paths(L, nvec, origin, seed, sig_u, dmode, sig_d_max, table, grids):
    """Expected-value transmissions of paths o + L n -> o with the kernel's ratio tracking
    (kernels.transmission, one energy); returns (sum of weights, sum of squares, steps)."""
    np.random.seed(seed)
    counters = np.zeros(3)
    total = 0.0
    total2 = 0.0
    for p in range(L.size):
        w = pk.transmission(pk.EXPECTED, L[p], sig_u, dmode, sig_d_max, table, grids, origin[0],
                            origin[1], origin[2], nvec[p, 0], nvec[p, 1], nvec[p, 2], counters)
        total += w
        total2 += w * w
    return total, total2, counters[1]


def numpy_track_paths(L, nvec, origin, medium, rng):
    """The same ratio tracking (same majorant, same table, same interpolation) vectorised over
    paths with NumPy: every pass advances all paths still inside by one tentative collision.
    Returns (sum of weights, sum of squares, steps)."""
    sig = medium.sigma_dust_max[0]
    weight = np.exp(-medium.sigma_uniform[0] * L)
    t = np.zeros(L.size)
    active = np.arange(L.size)
    steps = 0
    while active.size:
        t[active] -= np.log(1 - rng.random(active.size)) / sig
        active = active[t[active] < L[active]]
        steps += active.size
        pos = origin + (L - t)[active, None] * nvec[active]
        weight[active] *= 1 - numpy_dust(medium.dust_ln[0], medium.dust_grids, pos, -nvec[active]) / sig
    return float(weight.sum()), float(np.sum(weight ** 2)), steps


def _best(fn, repeats):
    """(CPU seconds, wall seconds, result) of the fastest of ``repeats`` calls (CPU time)."""
    best = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        run = (time.process_time() - c0, time.perf_counter() - t0, out)
        best = run if best is None or run[0] < best[0] else best
    return best


def tracking_benchmark(cfg, n_paths, repeats):
    """Steps/s of the dust ratio tracking alone (kernels.transmission, expected estimator) and
    of the NumPy implementation of the same algorithm, on the same paths: 30 kpc ending at the
    Sun from random directions (they cross the inner Galaxy, where the dust is), at the energy
    of the largest dust rate, CMB + direction-dependent dust, the configured (fine) table.

    A *step* is one tentative collision of the dust majorant inside the path: an exponential
    free path, one interpolation of the dust rate (16 corners of the (R, |z|, mu, psi) table,
    an atan2 and an exp) and one weight update. Times cover everything per path (the last free
    path that leaves it, exp(-sigma_u L)); the rate is steps / CPU time, best of ``repeats``."""
    E_grid = np.geomspace(2e13, 1e15, 40)
    E = float(E_grid[np.argmax(opacity_for(cfg).dust.max_rate_per_kpc(E_grid))])
    m = medium_for([E], ("cmb", "dust"), cfg)
    rng = np.random.default_rng(3)
    z = rng.uniform(-1, 1, n_paths)
    phi = rng.uniform(0, 2 * np.pi, n_paths)
    nvec = np.stack([np.sqrt(1 - z * z) * np.cos(phi), np.sqrt(1 - z * z) * np.sin(phi), z], axis=1)
    L = np.full(n_paths, 30.0)
    origin = np.array([-cfg.observer.r_sun_kpc, 0.0, 0.0])
    args = (m.sigma_uniform[0], m.dust_mode, m.sigma_dust_max[0], m.dust_ln[0], m.dust_grids)
    _track_paths(L[:10], nvec[:10], origin, 1, *args)                   # compile / load
    cpu, wall, (w_nb, w2_nb, steps) = _best(lambda: _track_paths(L, nvec, origin, 1, *args), repeats)
    cpu_np, wall_np, (w_np, w2_np, steps_np) = _best(
        lambda: numpy_track_paths(L, nvec, origin, m, rng), repeats)
    mean, err = w_nb / n_paths, np.sqrt(max(w2_nb / n_paths - (w_nb / n_paths) ** 2, 0) / n_paths)
    mean_np = w_np / n_paths
    err_np = np.sqrt(max(w2_np / n_paths - mean_np ** 2, 0) / n_paths)
    return {"energy_eV": E, "paths": n_paths, "path_kpc": 30.0, "repeats": repeats,
            "sigma_dust_max_per_kpc": float(m.sigma_dust_max[0]),
            "steps": steps, "steps_per_path": steps / n_paths, "cpu_s": cpu, "wall_s": wall,
            "steps_per_s": steps / cpu, "ns_per_step": 1e9 * cpu / steps,
            "mean_transmission": mean, "mean_transmission_err": err,
            "numpy": {"paths": n_paths, "steps": steps_np, "cpu_s": cpu_np, "wall_s": wall_np,
                      "steps_per_s": steps_np / cpu_np, "ns_per_step": 1e9 * cpu_np / steps_np,
                      "mean_transmission": mean_np, "mean_transmission_err": err_np},
            "speedup_vs_numpy": (steps / cpu) / (steps_np / cpu_np),
            "transmission_difference_in_sigma": (mean - mean_np) / np.hypot(err, err_np)}


# --------------------------------------------------------------------------- MPI scaling
MPI_SCRIPT = r"""
import sys, time, json, numpy as np, transport
from montecarlo import parallel
from montecarlo.propagation.api import prepare, run
from transport.emission.registry import build_emission
cfg = transport.load_config()
em = build_emission(cfg, "disk", "gamma", None, np.array([1e13, 1e14, 1e15]))
p = prepare(em, [1e14], nside=16, fields=("cmb", "dust"), n_photons=int(sys.argv[1]),
            estimator="analog", config=cfg, batch_photons=4096)
p.simulate(0)                                      # compile / load kernels, tables
comm = parallel.world()
if comm is not None:
    comm.Barrier()
t0, c0 = time.perf_counter(), time.process_time()
r = run(p, chunk_batches=8)
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
cpus = comm.gather(cpu, root=0) if comm is not None else [cpu]
if parallel.rank_and_size(comm)[0] == 0:
    print(json.dumps({"wall_s": dt, "cpu_s_max": max(cpus), "ranks": r.n_ranks,
                      "all_sky_sum": float(r.total[0, 2 * p.n_pix])}))
"""


def mpi_scaling(n_photons):
    mpirun = Path(sys.executable).parent / "mpirun"
    if not mpirun.exists():
        return {"skipped": "no mpirun beside the interpreter"}
    out = {}
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(MPI_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    env["NUMBA_NUM_THREADS"] = "1"
    for n in (1, 2):
        proc = subprocess.run([str(mpirun), "-n", str(n), sys.executable, fh.name, str(n_photons)],
                              capture_output=True, text=True, timeout=600, env=env)
        out[n] = json.loads(proc.stdout.strip().splitlines()[-1])
    os.unlink(fh.name)
    return {"wall_s_1": out[1]["wall_s"], "wall_s_2": out[2]["wall_s"],
            "speedup": out[1]["wall_s"] / out[2]["wall_s"],
            "efficiency": out[1]["wall_s"] / (2 * out[2]["wall_s"]),
            "cpu_s_1": out[1]["cpu_s_max"], "cpu_s_2_slowest_rank": out[2]["cpu_s_max"],
            "efficiency_cpu": out[1]["cpu_s_max"] / (2 * out[2]["cpu_s_max"]),
            "identical_tallies": out[1]["all_sky_sum"] == out[2]["all_sky_sum"]}


# --------------------------------------------------------------------------- main
def print_tracking(t):
    targets_met = t["steps_per_s"] >= TARGET_STEPS_PER_S and t["speedup_vs_numpy"] >= TARGET_SPEEDUP
    print(f"dust ratio tracking ({t['energy_eV']:.3g} eV, sigma_max = {t['sigma_dust_max_per_kpc']:.3g}/kpc, "
          f"{t['paths']} paths of {t['path_kpc']:.0f} kpc, {t['steps_per_path']:.2f} steps/path; one core, "
          f"best of {t['repeats']}):")
    print(f"  numba {t['steps_per_s']:.3g} steps/s ({t['ns_per_step']:.0f} ns/step)   target >= "
          f"{TARGET_STEPS_PER_S:.0e}: {'met' if t['steps_per_s'] >= TARGET_STEPS_PER_S else 'MISSED'}")
    print(f"  numpy {t['numpy']['steps_per_s']:.3g} steps/s ({t['numpy']['ns_per_step']:.0f} ns/step, same "
          f"algorithm, table and paths) -> numba {t['speedup_vs_numpy']:.1f}x   target >= {TARGET_SPEEDUP}x: "
          f"{'met' if t['speedup_vs_numpy'] >= TARGET_SPEEDUP else 'MISSED'}")
    print(f"  mean transmission numba {t['mean_transmission']:.5f} +- {t['mean_transmission_err']:.5f}, numpy "
          f"{t['numpy']['mean_transmission']:.5f} +- {t['numpy']['mean_transmission_err']:.5f} "
          f"({t['transmission_difference_in_sigma']:+.2f} sigma)")
    return targets_met


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="benchmarks/results/bench_mc.json")
    parser.add_argument("--photons", type=int, default=200_000)
    parser.add_argument("--numpy-photons", type=int, default=20_000)
    parser.add_argument("--mpi-photons", type=int, default=400_000)
    parser.add_argument("--track-paths", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5, help="best of this many tracking runs")
    parser.add_argument("--tracking-only", action="store_true",
                        help="only the dust-tracking figures (seconds)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", transport.DiffusionRegimeWarning)
    cfg = transport.load_config()
    print(f"uptime before: {uptime()}")
    result = {"benchmark": "mc", "code_version": code_version(),
              "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                          "numba_threads": numba.get_num_threads(), "uptime_before": uptime()},
              "targets": {"steps_per_s_per_core": TARGET_STEPS_PER_S,
                          "speedup_vs_numpy": TARGET_SPEEDUP, "efficiency_2_ranks": 0.9}}

    # 0. the dust ratio-tracking step, one core (the targets)
    tracking_only = tracking_benchmark(cfg, args.track_paths, args.repeats)
    result["dust_tracking_only_one_core"] = tracking_only
    print_tracking(tracking_only)
    if args.tracking_only:
        result["machine"]["uptime_after"] = uptime()
        print(f"uptime after: {result['machine']['uptime_after']}")
        write_json(result, args.output)
        return

    # 1. Galactic geometry, one core
    disk = build_emission(cfg, "disk", "gamma", None, np.array([1e13, 1e14, 1e15]))
    problem = prepare(disk, [E_GALACTIC], nside=16, fields=("cmb", "dust"),
                      n_photons=args.photons, estimator="analog", config=cfg,
                      batch_photons=args.photons)
    problem.simulate(0)                                            # compile / load
    t0, c0 = time.perf_counter(), time.process_time()
    tally = problem.simulate(0)
    w_nb, t_nb = time.perf_counter() - t0, time.process_time() - c0
    steps_nb = tally[-1, 1]
    em1 = at_energies(disk, [E_GALACTIC])
    rng = np.random.default_rng(1)
    t0, c0 = time.perf_counter(), time.process_time()
    s_np, steps_np = numpy_batch(problem, em1, rng, args.numpy_photons)
    w_np, t_np = time.perf_counter() - t0, time.process_time() - c0
    nb_all_sky = tally[0, 2 * problem.n_pix] / args.photons
    np_all_sky = s_np / args.numpy_photons
    galactic = {
        "energy_eV": E_GALACTIC, "photons": args.photons, "cpu_s": t_nb, "wall_s": w_nb,
        "photons_per_s": args.photons / t_nb, "steps": steps_nb, "steps_per_s": steps_nb / t_nb,
        "steps_per_photon": steps_nb / args.photons,
        "numpy": {"photons": args.numpy_photons, "cpu_s": t_np, "wall_s": w_np,
                  "photons_per_s": args.numpy_photons / t_np, "steps_per_s": steps_np / t_np},
        "speedup_photons_vs_numpy": (args.photons / t_nb) / (args.numpy_photons / t_np),
        "all_sky_numba_vs_numpy_ratio": nb_all_sky / np_all_sky,
    }

    # 1b. tracking-dominated: the corona (paths to 250 kpc) at 2 PeV, ~20 steps per photon
    sol = transport.solve(cfg)
    corona = build_emission(cfg, "corona", "gamma", sol)
    n_track = max(args.photons // 10, 1000)
    track = prepare(corona, [2e15], nside=16, fields=("cmb", "dust"), n_photons=n_track,
                    estimator="analog", config=cfg, batch_photons=n_track)
    track.simulate(0)
    t0, c0 = time.perf_counter(), time.process_time()
    steps_tr = track.simulate(0)[-1, 1]
    w_tr, t_tr = time.perf_counter() - t0, time.process_time() - c0
    tracking = {"energy_eV": 2e15, "photons": n_track, "cpu_s": t_tr, "wall_s": w_tr, "steps": steps_tr,
                "steps_per_photon": steps_tr / n_track, "steps_per_s": steps_tr / t_tr,
                "photons_per_s": n_track / t_tr}

    # 2. MPI strong scaling
    scaling = mpi_scaling(args.mpi_photons)

    # 3. time to 1 % on the corona all-sky intensity at 1 PeV
    E = [1e15]
    pilot = montecarlo.monte_carlo(corona, E, nside=16, n_photons=20_000, config=cfg)
    rel = pilot.all_sky_err[0] / pilot.all_sky[0]
    n_needed = int(np.ceil(20_000 * (rel / 0.01) ** 2 * 1.1))
    t0 = time.perf_counter()
    res = montecarlo.monte_carlo(corona, E, nside=16, n_photons=n_needed, config=cfg)
    t_mc = time.perf_counter() - t0
    l_deg, b_deg = pixel_directions(16)
    montecarlo.intensity(corona, E, l_deg[:4], b_deg[:4], config=cfg)
    t0 = time.perf_counter()
    los = float(np.mean(montecarlo.intensity(corona, E, l_deg, b_deg, config=cfg)))
    t_los = time.perf_counter() - t0
    corona_result = {"energy_eV": 1e15, "photons": n_needed, "wall_s": t_mc,
                     "relative_error": float(res.all_sky_err[0] / res.all_sky[0]),
                     "all_sky_mc": float(res.all_sky[0]), "all_sky_los": los,
                     "mc_minus_los_in_sigma": float((res.all_sky[0] - los) / res.all_sky_err[0]),
                     "pair_fraction": float(res.pair_fraction[0]),
                     "line_of_sight_wall_s": t_los, "mc_over_los_time": t_mc / t_los}

    result.update({"galactic_one_core": galactic, "corona_tracking_one_core": tracking,
                   "mpi_strong_scaling": scaling, "corona_1pct": corona_result})
    g = galactic
    print(f"Galactic (disk, CMB + dust, {E_GALACTIC:.0e} eV, analog), one core: numba "
          f"{g['photons_per_s']:.3g} photons/s ({g['steps_per_photon']:.2f} steps/photon: source "
          f"sampling and tallies dominate), numpy {g['numpy']['photons_per_s']:.3g} photons/s -> "
          f"{g['speedup_photons_vs_numpy']:.0f}x; all-sky numba/numpy = {g['all_sky_numba_vs_numpy_ratio']:.3f}")
    print(f"corona at 2 PeV (analog, CMB + dust), one core: {tracking['steps_per_s']:.3g} steps/s, "
          f"{tracking['steps_per_photon']:.1f} steps/photon, {tracking['photons_per_s']:.3g} photons/s")
    if "efficiency" in scaling:
        print(f"MPI 1 -> 2 ranks: {scaling['wall_s_1']:.2f} s -> {scaling['wall_s_2']:.2f} s, "
              f"efficiency {100 * scaling['efficiency']:.0f} % (wall), "
              f"{100 * scaling['efficiency_cpu']:.0f} % (CPU time of the slowest rank)   target >= 90 %; identical tallies: "
              f"{scaling['identical_tallies']}")
    c = corona_result
    print(f"corona all-sky at 1 PeV to {100 * c['relative_error']:.2f} %: {c['photons']} photons, "
          f"{c['wall_s']:.2f} s vs line of sight {c['line_of_sight_wall_s']:.2f} s; MC - LOS = "
          f"{c['mc_minus_los_in_sigma']:.2f} sigma; pair fraction {100 * c['pair_fraction']:.1f} %")
    print("repeated:")
    print_tracking(tracking_only)
    result["machine"]["uptime_after"] = uptime()
    print(f"uptime after: {result['machine']['uptime_after']}")
    write_json(result, args.output)


if __name__ == "__main__":
    main()
