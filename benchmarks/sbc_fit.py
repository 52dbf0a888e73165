"""Simulation-based calibration of `corona fit` (Talts et al. 2018, arXiv:1804.06788).

    python benchmarks/sbc_fit.py [--mocks 100] [--workers 2] [--output benchmarks/results/sbc_fit.json]
    mpirun -n 3 python benchmarks/sbc_fit.py ...        # the mocks farmed over the ranks

For mock i = 0 .. N-1: the truth is drawn from the prior (seed i), the data are the model's
gamma-ray and neutrino all-sky spectra at the truth with 10 % log-normal noise (seed 10^6 + i,
the likelihood of [fit.mock]), and nautilus samples the posterior. A calibrated inference puts
the truth's rank among L = 99 posterior draws uniformly on 0 .. 99 and the truth inside the
central 68 % (95 %) interval in 68 % (95 %) of the mocks. Printed and written: the rank
histograms (10 bins) with their chi^2 p-values, and the coverages with binomial errors.

The parameters are alpha and E_cut of the baseline model (touching rule): source-spectrum
parameters, so one unit response serves every likelihood call and 100 fits take minutes.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import stats

from transport.core.output import code_version

from montecarlo.inference import likelihoods as lk
from montecarlo.inference.forward import CoronaForward
from montecarlo.inference.priors import UnitTransform
from montecarlo.inference.samplers import Settings, run_sampler
from montecarlo.parallel import task_executor, world
from montecarlo.pipeline import fit as fitting

from _report import write_json

FIT = {"fit": {"n_live": 100, "n_eff": 400, "n_networks": 1, "seed": 1,
               "parameters": {"source.alpha": {"min": 2.0, "max": 2.8},
                              "source.E_cut_eV": {"min": 1e15, "max": 1e17, "prior": "log-uniform"}}}}
QUANTITIES = ("gamma_all_sky", "nu_all_sky")
RELATIVE_ERROR = 0.1
L_DRAWS = 99
BINS = 10


def one_mock(i: int) -> dict:
    """Fit mock i; the truth's ranks and whether the 68 / 95 % intervals cover it."""
    warnings.simplefilter("ignore")
    spec = fitting.fit_from_mapping(FIT, Path(__file__))
    base = spec.base_config().user
    forward = fitting.FitLikelihood(spec.key, base, spec.names, (), spec.options).forward()
    rng = np.random.default_rng(i)
    truth = np.array([p.sample(rng, 1)[0] for p in spec.priors])
    data = lk.mock_data(forward.predict(dict(zip(spec.names, truth))), QUANTITIES,
                        RELATIVE_ERROR, 10 ** 6 + i)
    likelihood = fitting.FitLikelihood(spec.key, base, spec.names, (), spec.options, data,
                                       RELATIVE_ERROR)
    settings = Settings(**{**Settings().as_dict(), **{k: v for k, v in FIT["fit"].items()
                                                      if k in Settings().as_dict()}, "seed": i + 1})
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_sampler(settings, UnitTransform(spec.priors), likelihood, len(spec.priors),
                             None, Path(tmp), spec.key, say=lambda text: None)
    samples = fitting.equal_weight(result, i)
    draws = samples[np.random.default_rng(i + 7).choice(samples.shape[0], L_DRAWS, replace=False)]
    out = {"index": i, "seconds": time.perf_counter() - t0, "calls": result.n_calls,
           "truth": truth.tolist(), "rank": [int(np.sum(draws[:, k] < truth[k])) for k in range(truth.size)]}
    for level, (lo, hi) in ((68, (16.0, 84.0)), (95, (2.5, 97.5))):
        q = [fitting.weighted_percentiles(result.points[:, k], result.weights, (lo, hi))
             for k in range(truth.size)]
        out[f"covered_{level}"] = [bool(a <= t <= b) for (a, b), t in zip(q, truth)]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mocks", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="local processes without mpirun")
    parser.add_argument("--output", default="benchmarks/results/sbc_fit.json")
    args = parser.parse_args()
    spec = fitting.fit_from_mapping(FIT, Path(__file__))
    comm = world()
    if comm is None or comm.Get_rank() == 0:
        warnings.simplefilter("ignore")
        CoronaForward(spec.base_config())                    # sky kernels cached before the farm
    t0 = time.perf_counter()
    with task_executor(max_workers=args.workers) as pool:
        if pool is None:
            return
        results = []
        for r in pool.map(one_mock, range(args.mocks)):
            results.append(r)
            print(f"mock {r['index']:4d}: ranks {r['rank']}, {r['calls']} calls, {r['seconds']:.1f} s",
                  flush=True)
    wall = time.perf_counter() - t0
    out = {"code_version": code_version(), "mocks": args.mocks, "draws": L_DRAWS,
           "parameters": list(spec.names), "wall_s": wall, "load_average": os.getloadavg()}
    n = len(results)
    for k, name in enumerate(spec.names):
        ranks = np.array([r["rank"][k] for r in results])
        hist = np.histogram(ranks, bins=BINS, range=(0, L_DRAWS + 1))[0]
        p = float(stats.chisquare(hist).pvalue)
        out[name] = {"rank_histogram": hist.tolist(), "chi2_p_value": p}
        print(f"{name}: rank histogram (10 bins of 10 ranks) {hist.tolist()}, uniformity chi^2 p = {p:.3f}")
        for level in (68, 95):
            c = np.mean([r[f"covered_{level}"][k] for r in results])
            err = np.sqrt(level / 100 * (1 - level / 100) / n)
            out[name][f"coverage_{level}"] = float(c)
            print(f"  coverage of the central {level} % interval: {100 * c:.1f} % "
                  f"(expected {level} +- {100 * err:.1f} %)")
    print(f"{n} mocks in {wall:.0f} s   [load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}]")
    write_json(out, args.output)


if __name__ == "__main__":
    main()
