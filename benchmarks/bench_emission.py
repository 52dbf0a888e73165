"""Speed of evaluating tabulated emissivities q(E, x) at random points from numba kernels,
against plain NumPy / scipy interpolation of the same tables in the same run.

    python benchmarks/bench_emission.py [--points 10000000] [--output benchmarks/results/bench_emission.json]

Tables: the corona photon emissivity of the default model (SphericalEmission) and the default
Galactic-plane ("disk", SNR distribution) photon emissivity (AxisymmetricEmission), at one
energy index (1 TeV). Points: Galactocentric, radius log-uniform in [0.1, 300] kpc with
isotropic directions (corona), or R uniform in [0, 30] kpc and z uniform in [-1, 1] kpc
(disk); generated once, outside the timings. Timed: a numba kernel that loops over the points
calling ``emission_kernels.spherical_q`` / ``axisymmetric_q`` (the calling convention other
kernels use), on one thread and on all threads; the baselines evaluate the same interpolation
(linear in ln r resp. (R, z) of ln q) with numpy.interp and scipy's RegularGridInterpolator.
Also times ``spherical_q_spectrum`` (every table energy at a point, one radial lookup), the
form line-of-sight integrals use. Prints points per second and writes JSON with the ratios
and the agreement.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import numpy as np
import scipy
from numba import njit, prange
from scipy.interpolate import RegularGridInterpolator

import transport
from transport.emission import table_kernels as ek
from transport.core.output import code_version

from _report import write_json


@njit(cache=True)
def spherical_serial(ln_r, r_hint, r_lookup, q, ln_q, iE, x, y, z, out):
    for k in range(x.size):
        out[k] = ek.spherical_q(ln_r, r_hint, r_lookup, q, ln_q, iE, x[k], y[k], z[k])


@njit(cache=True, parallel=True)
def spherical_parallel(ln_r, r_hint, r_lookup, q, ln_q, iE, x, y, z, out):
    for k in prange(x.size):
        out[k] = ek.spherical_q(ln_r, r_hint, r_lookup, q, ln_q, iE, x[k], y[k], z[k])


@njit(cache=True)
def axisymmetric_serial(R, R_hint, R_lookup, zn, z_hint, z_lookup, q, ln_q, mirror, iE, x, y, z, out):
    for k in range(x.size):
        out[k] = ek.axisymmetric_q(R, R_hint, R_lookup, zn, z_hint, z_lookup, q, ln_q, mirror,
                                   iE, x[k], y[k], z[k])


@njit(cache=True, parallel=True)
def axisymmetric_parallel(R, R_hint, R_lookup, zn, z_hint, z_lookup, q, ln_q, mirror, iE, x, y, z, out):
    for k in prange(x.size):
        out[k] = ek.axisymmetric_q(R, R_hint, R_lookup, zn, z_hint, z_lookup, q, ln_q, mirror,
                                   iE, x[k], y[k], z[k])


@njit(cache=True)
def spherical_spectra(ln_r, r_hint, r_lookup, q, ln_q, x, y, z, out_row, total):
    """All table energies at every point (one radial lookup per point), summed per energy."""
    for k in range(x.size):
        ek.spherical_q_spectrum(ln_r, r_hint, r_lookup, q, ln_q, x[k], y[k], z[k], out_row)
        for m in range(out_row.size):
            total[m] += out_row[m]


def spherical_numpy(em, iE, x, y, z):
    """numpy.interp of ln q in ln r; q(r_0) inside r_0, zero beyond the last node."""
    r = np.sqrt(x * x + y * y + z * z)
    lq = np.interp(np.log(np.maximum(r, em.r_kpc[0])), np.log(em.r_kpc), em.ln_q[iE])
    return np.where(r <= em.r_kpc[-1], np.exp(lq), 0.0)


def spherical_scipy(em, iE, x, y, z):
    r = np.sqrt(x * x + y * y + z * z)
    f = RegularGridInterpolator((np.log(em.r_kpc),), em.ln_q[iE], bounds_error=False,
                                fill_value=-np.inf)
    return np.exp(f(np.log(np.maximum(r, em.r_kpc[0]))[:, None]))


def axisymmetric_scipy(em, iE, x, y, z):
    f = RegularGridInterpolator((em.R_kpc, em.z_kpc), em.ln_q[iE], bounds_error=False,
                                fill_value=-np.inf)
    return np.exp(f(np.column_stack([np.hypot(x, y), np.abs(z)])))


def best_of(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def agreement(a, b):
    both = (a > 0) & (b > 0)
    return float(np.max(np.abs(a[both] / b[both] - 1))), int(np.sum((a > 0) != (b > 0)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default="benchmarks/results/bench_emission.json")
    args = parser.parse_args()
    n = args.points

    cfg = transport.load_config()
    sol = transport.solve(cfg)
    corona = transport.corona_emission(sol, "gamma")
    disk = transport.build_emission(cfg, "disk", "gamma")
    iE = int(np.argmin(np.abs(np.log(corona.E_eV / 1e12))))

    rng = np.random.default_rng(12345)
    r = np.exp(rng.uniform(np.log(0.1), np.log(300.0), n))
    mu, phi = rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    s = np.sqrt(1 - mu ** 2)
    xs, ys, zs = r * s * np.cos(phi), r * s * np.sin(phi), r * mu
    R, ph = rng.uniform(0, 30.0, n), rng.uniform(0, 2 * np.pi, n)
    xd, yd, zd = R * np.cos(ph), R * np.sin(ph), rng.uniform(-1.0, 1.0, n)
    del r, mu, phi, s, R, ph
    out = np.empty(n)

    results = {}
    threads_all = numba.get_num_threads()
    for name, em, serial, parallel, pts, baselines in (
            ("spherical (corona)", corona, spherical_serial, spherical_parallel, (xs, ys, zs),
             {"numpy.interp": spherical_numpy, "scipy RegularGridInterpolator": spherical_scipy}),
            ("axisymmetric (disk)", disk, axisymmetric_serial, axisymmetric_parallel, (xd, yd, zd),
             {"scipy RegularGridInterpolator": axisymmetric_scipy})):
        tables = em.kernel_tables
        serial(*tables, iE, *(p[:10] for p in pts), out[:10])           # compile / load cache
        parallel(*tables, iE, *(p[:10] for p in pts), out[:10])
        numba.set_num_threads(1)
        t_one = best_of(lambda: serial(*tables, iE, *pts, out), args.repeat)
        numba.set_num_threads(threads_all)
        t_all = best_of(lambda: parallel(*tables, iE, *pts, out), args.repeat)
        ours = out.copy()
        entry = {"points": n, "table_shape": list(em.q.shape),
                 "numba_1_thread": {"wall_s": t_one, "points_per_s": n / t_one},
                 f"numba_{threads_all}_threads": {"wall_s": t_all, "points_per_s": n / t_all},
                 "baselines": {}}
        print(f"{name}: table {em.q.shape}, {n:.0e} points")
        print(f"  numba kernel, 1 thread:   {t_one:7.3f} s  {n / t_one / 1e6:8.1f} M points/s")
        print(f"  numba kernel, {threads_all} threads:  {t_all:7.3f} s  {n / t_all / 1e6:8.1f} M points/s")
        for label, fn in baselines.items():
            ref = None

            def run(fn=fn):
                nonlocal ref
                ref = fn(em, iE, *pts)
            t_ref = best_of(run, 1)
            worst, sign_mismatch = agreement(ours, ref)
            entry["baselines"][label] = {"wall_s": t_ref, "points_per_s": n / t_ref,
                                         "ratio_vs_numba_1_thread": t_ref / t_one,
                                         "max_relative_difference": worst,
                                         "zero_nonzero_mismatches": sign_mismatch}
            print(f"  {label:30s} {t_ref:7.3f} s  {n / t_ref / 1e6:8.1f} M points/s  "
                  f"numba 1 thread is {t_ref / t_one:5.1f}x faster; max rel. diff {worst:.1e}")
            del ref
        results[name] = entry

    m = min(n, 1_000_000)
    row, total = np.empty(corona.E_eV.size), np.zeros(corona.E_eV.size)
    spherical_spectra(*corona.kernel_tables, xs[:10], ys[:10], zs[:10], row, total)
    numba.set_num_threads(1)
    t_spec = best_of(lambda: spherical_spectra(*corona.kernel_tables, xs[:m], ys[:m], zs[:m], row, total),
                     args.repeat)
    numba.set_num_threads(threads_all)
    values = m * corona.E_eV.size
    results["spherical (corona), all energies per point"] = {
        "points": m, "energies": int(corona.E_eV.size), "wall_s": t_spec,
        "points_per_s": m / t_spec, "values_per_s": values / t_spec}
    print(f"spherical_q_spectrum, {corona.E_eV.size} energies at {m:.0e} points, 1 thread: "
          f"{t_spec:.3f} s  {values / t_spec / 1e6:.1f} M values/s")

    record = {"benchmark": "emission", "code_version": code_version(),
              "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                          "numba": numba.__version__, "numpy": np.__version__,
                          "scipy": scipy.__version__, "numba_threads": threads_all},
              "energy_eV": float(corona.E_eV[iE]), "results": results}
    write_json(record, args.output)


if __name__ == "__main__":
    main()
