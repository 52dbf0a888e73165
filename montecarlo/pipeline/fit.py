"""``corona fit FIT.toml -o DIR``: Bayesian inference over the whole chain (docs/fit.md).

A fit file names a base config and the parameters (any fittable config key) with their
priors, the data and the sampler::

    base = "../baseline.toml"            # relative to the fit file; "" or absent: the default
    [fit]
    sampler = "nautilus"                 # "nautilus" (default) | "dynesty" | "emcee"
    n_live = 400
    seed = 1
    data = ["cr_protons", "fermi_igrb", "icecube"]        # corona fit --list-data
    [fit.parameters]
    "source.alpha" = {min = 2.0, max = 2.8}
    "diffusion.D0_cm2_s" = {min = 1e28, max = 1e31, prior = "log-uniform"}
    [fit.likelihood]                     # options of the data sets (montecarlo.inference.likelihoods)
    igrb_sided = "one"
    [fit.set]                            # fixed config overrides
    "sky.nside" = 32
    [fit.mock]                           # injection-recovery: data made by the model at truth
    truth = {"source.alpha" = 2.3, "diffusion.D0_cm2_s" = 3e29}
    quantities = ["gamma_all_sky", "nu_all_sky"]
    relative_error = 0.1
    seed = 2

Under ``mpirun -n N`` the likelihood calls of every sampler batch are shared by the N ranks
(:class:`montecarlo.parallel.SharedMap` over mpi4py.futures); without mpirun they run here, or on
``--workers`` local processes. Each likelihood call uses one core. The sampler checkpoints
into DIR/checkpoint/ (montecarlo.inference.samplers): rerunning the command after a kill
resumes. DIR/posterior.h5 holds the samples, summaries, evidence, derived quantities,
diagnostics and provenance; DIR/corner.png and DIR/derived.png the plots.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from transport import load_config
from transport.core.config import read_toml
from transport.core.errors import ArgumentError, CoronaError
from transport.core.output import atomic_hdf5, provenance
from transport.core.sealed import code_key
from transport.core.safety import check_output_dir
from transport.core.schema import SCHEMA
from transport.core.keys import check_value

from montecarlo import plots
from montecarlo.inference import likelihoods as lk
from montecarlo.inference.forward import (DERIVED, CoronaForward, check_parameter,
                                          quantity_names)
from montecarlo.inference.priors import FitError, Prior, UnitTransform, parse_prior
from montecarlo.inference.samplers import (NESTED, SAMPLERS, SamplerResult, Settings,
                                           check_installed, run_sampler)
from montecarlo.parallel import SharedMap, task_executor, world

TOP_KEYS = {"base", "fit"}
FIT_KEYS = {"sampler", "seed", "n_live", "n_eff", "n_networks", "dlogz", "walkers", "steps", "burn",
            "checkpoint_s", "data", "parameters", "likelihood", "set", "mock", "derived_samples"}
MOCK_KEYS = {"truth", "quantities", "relative_error", "seed"}
PERCENTILES = (2.5, 16.0, 50.0, 84.0, 97.5)
#: Highest proton energy of a fit with a free cut-off: 30 x its largest value (grid.E_max_eV).
E_MAX_PER_CUT = 30.0

#: The sources a fit depends on (its checkpoint key; transport.core.sealed.code_key): the whole
#: chain, so a regular and an editable install of the same code share checkpoints.
FIT_SOURCES = ("transport/**/*.py", "montecarlo/**/*.py", "inputs/**/*")


@dataclass(frozen=True)
class FitSpec:
    """A parsed, checked fit file."""
    path: Path
    raw: dict
    base: str                    # absolute path of the base config, or "" (bundled default)
    fixed: dict                  # [fit.set] and the pins of the energy grid
    priors: tuple
    datasets: tuple
    options: lk.Options
    settings: Settings
    mock: dict | None
    derived_samples: int
    key: str

    @property
    def names(self) -> tuple:
        return tuple(p.name for p in self.priors)

    def base_config(self):
        return load_config(self.base or None, overrides=self.fixed)


# --------------------------------------------------------------------------- parsing
def _integer(table, key, default, lo, hi, where="fit"):
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise FitError(f"{where}.{key} = {value!r} is not allowed: expected an integer {lo} ... {hi}")
    return value


def _real(table, key, default, lo, hi, where="fit"):
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo < value <= hi:
        raise FitError(f"{where}.{key} = {value!r} is not allowed: expected a number > {lo:g} "
                       f"and <= {hi:g}")
    return float(value)


def _settings(fit: dict) -> Settings:
    sampler = fit.get("sampler", "nautilus")
    if sampler not in SAMPLERS:
        raise FitError(f"fit.sampler = {sampler!r} is not allowed: expected one of "
                       + ", ".join(f'"{s}"' for s in SAMPLERS))
    s = Settings(sampler=sampler, seed=_integer(fit, "seed", 1, 0, 2 ** 63 - 1),
                 n_live=_integer(fit, "n_live", 400, 10, 100000),
                 n_eff=_integer(fit, "n_eff", 3000, 10, 10 ** 7),
                 n_networks=_integer(fit, "n_networks", 4, 1, 64),
                 dlogz=_real(fit, "dlogz", 0.1, 0.0, 100.0),
                 walkers=_integer(fit, "walkers", 32, 2, 100000),
                 steps=_integer(fit, "steps", 3000, 1, 10 ** 8),
                 burn=_integer(fit, "burn", 1000, 0, 10 ** 8),
                 checkpoint_s=_real(fit, "checkpoint_s", 60.0, 1.0, 86400.0))
    if s.sampler == "emcee" and s.burn >= s.steps:
        raise FitError(f"fit.burn = {s.burn} must be below fit.steps = {s.steps}")
    return s


def _check_range(prior: Prior) -> None:
    """Both ends of the prior range are allowed values of the config key."""
    section, _, key = prior.name.partition(".")
    spec = SCHEMA[section][key]
    if spec.kind != "real":
        raise FitError(f"fit.parameters.{prior.name}: the key takes {spec.allowed()}; only real "
                       "numbers can be fitted")
    for end in prior.range():
        try:
            check_value(prior.name, spec, end)
        except CoronaError as exc:
            raise FitError(f"fit.parameters.{prior.name}: the prior reaches a value the key does "
                           f"not allow: {exc}") from None


def _mock(raw, names, priors, regions) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FitError(f"[fit.mock] = {raw!r} is not allowed: expected a table")
    extra = set(raw) - MOCK_KEYS
    if extra:
        raise FitError(f"fit.mock: unknown key(s) {', '.join(sorted(extra))}; allowed: "
                       + ", ".join(sorted(MOCK_KEYS)))
    truth = raw.get("truth")
    if not isinstance(truth, dict) or set(truth) != set(names):
        raise FitError(f"fit.mock.truth = {truth!r} is not allowed: expected a value for every "
                       f"parameter ({', '.join(names)})")
    for prior in priors:
        value = truth[prior.name]
        lo, hi = prior.range()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise FitError(f"fit.mock.truth.{prior.name} = {value!r} is not allowed: expected a "
                           f"number inside the prior range [{lo:g}, {hi:g}]")
    known = quantity_names([f"region:{r}" for r in regions])
    quantities = raw.get("quantities", ["gamma_all_sky", "nu_all_sky"])
    if (not isinstance(quantities, list) or not quantities or any(q not in known for q in quantities)
            or len(set(quantities)) != len(quantities)):
        raise FitError(f"fit.mock.quantities = {quantities!r} is not allowed: expected distinct "
                       f"names from {', '.join(known)}")
    error = _real(raw, "relative_error", 0.1, 0.0, 10.0, "fit.mock")
    seed = _integer(raw, "seed", 0, 0, 2 ** 63 - 1, "fit.mock")
    return {"truth": {n: float(truth[n]) for n in names}, "quantities": tuple(quantities),
            "relative_error": error, "seed": seed}


def parse_fit(path) -> FitSpec:
    """Read and check a fit file (FitError naming the key on any problem), before any
    computation: the base config with every parameter at both ends of its range is loaded."""
    path = Path(path)
    if not path.is_file():
        raise FitError(f"fit file '{path}' does not exist")
    return fit_from_mapping(read_toml(path), path)


def fit_from_mapping(raw: dict, path: Path) -> FitSpec:
    """:func:`parse_fit` of an already-read mapping (``path`` locates a relative base)."""
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise FitError(f"fit file '{path}': unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                       f"allowed: {', '.join(sorted(TOP_KEYS))}")
    fit = raw.get("fit")
    if not isinstance(fit, dict):
        raise FitError(f"fit file '{path}': a [fit] table is needed (see docs/fit.md)")
    unknown = set(fit) - FIT_KEYS
    if unknown:
        raise FitError(f"fit.{sorted(unknown)[0]}: unknown key; allowed: {', '.join(sorted(FIT_KEYS))}")
    base = raw.get("base", "")
    if not isinstance(base, str):
        raise FitError(f"base = {base!r} is not allowed: expected a path to a config file or \"\"")
    if base:
        base_path = (path.parent / base).resolve()
        if not base_path.is_file():
            raise FitError(f"base = {base!r}: config file '{base_path}' does not exist")
        base = str(base_path)
    settings = _settings(fit)
    params = fit.get("parameters")
    if not isinstance(params, dict) or not params:
        raise FitError("[fit.parameters] is missing or empty: name at least one config key, e.g. "
                       '"source.alpha" = {min = 2.0, max = 2.8}')
    fixed = fit.get("set", {})
    if not isinstance(fixed, dict):
        raise FitError("[fit.set] must be a table of \"section.key\" = value")
    for name in params:
        if name.count(".") != 1 or name.split(".")[0] not in SCHEMA or name.split(".")[1] not in SCHEMA[name.split(".")[0]]:
            raise FitError(f"fit.parameters.{name}: no config key \"{name}\" (keys are "
                           "\"section.key\"; `corona config keys` lists them)")
        check_parameter(name)
        if name in fixed:
            raise FitError(f"{name} is both fixed in [fit.set] and fitted in [fit.parameters]")
    priors = tuple(parse_prior(name, spec) for name, spec in params.items())
    for prior in priors:
        _check_range(prior)
    try:
        base_cfg = load_config(base or None, overrides=fixed)
    except CoronaError as exc:
        raise FitError(f"fit file '{path}': the base config with [fit.set] is not valid: {exc}") from None
    fixed = dict(fixed)
    cut = next((p for p in priors if p.name == "source.E_cut_eV"), None)
    if cut is not None and "E_max_eV" not in base_cfg.user.get("grid", {}):
        fixed["grid.E_max_eV"] = min(E_MAX_PER_CUT * cut.range()[1], 1e21)   # one grid for every cut-off
        base_cfg = load_config(base or None, overrides=fixed)
    for end in (0, 1):
        values = {p.name: p.range()[end] for p in priors}
        try:
            load_config(base or None, overrides={**fixed, **values})
        except CoronaError as exc:
            raise FitError(f"fit file '{path}': the parameters at the {('lower', 'upper')[end]} "
                           f"ends of their ranges make an invalid config: {exc}") from None
    datasets = fit.get("data", ["cr_protons", "fermi_igrb", "icecube"])
    if (not isinstance(datasets, list) or not datasets or any(d not in lk.DATASETS for d in datasets)
            or len(set(datasets)) != len(datasets)):
        raise FitError(f"fit.data = {datasets!r} is not allowed: expected distinct names from "
                       f"{', '.join(lk.DATASETS)} (`corona fit --list-data`)")
    options = lk.parse_options(fit.get("likelihood"))
    regions = tuple(base_cfg.sky.regions)
    for name in datasets:
        if lk.DATASETS[name].plane:
            for region, _ in lk.plane_points(name, base_cfg):
                if region not in regions:
                    raise FitError(f"fit.data: \"{name}\" needs sky.regions to include \"{region}\" "
                                   f"(sky.regions = {list(regions)})")
    mock = _mock(fit.get("mock"), tuple(params), priors, regions)
    derived = _integer(fit, "derived_samples", 1000, 0, 10 ** 6)
    canonical = {"fit": raw, "base_config": base_cfg.to_dict(), "code": code_key(FIT_SOURCES)}
    key = hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()
    return FitSpec(path, raw, base, fixed, priors, tuple(datasets), options, settings, mock,
                   derived, key)


# --------------------------------------------------------------------------- the likelihood
#: One forward model per process and fit (workers build theirs at their first task).
_FORWARDS: dict = {}


def single_core() -> None:
    """Numba and BLAS on one thread in this process: the parallelism of a fit is over ranks."""
    import numba
    from threadpoolctl import threadpool_limits
    numba.set_num_threads(1)
    threadpool_limits(limits=1)


class FitLikelihood:
    """ln L of a parameter vector (the order of ``names``): the sum over the data sets, or the
    mock data's. Picklable, so that mpi4py.futures and dynesty's checkpoint carry it, with the
    fit's ``key``."""

    def __init__(self, key: str, base_user: dict, names, datasets, options: lk.Options,
                 mock: dict | None = None, mock_error: float = 0.1):
        self.key, self.base_user, self.names = key, base_user, tuple(names)
        self.datasets, self.options = tuple(datasets), options
        self.mock, self.mock_error = mock, mock_error

    def forward(self) -> CoronaForward:
        if self.key not in _FORWARDS:
            single_core()
            _FORWARDS.clear()
            _FORWARDS[self.key] = CoronaForward(load_config(self.base_user))
        return _FORWARDS[self.key]

    def plane_regions(self) -> dict:
        """{region: data energies} of the Galactic-plane data sets of the fit."""
        wanted = [d for d in self.datasets if lk.DATASETS[d].plane] if self.mock is None else []
        return {region: pts.E_eV for name in wanted
                for region, pts in lk.plane_points(name, self.forward().base)}

    def predict(self, theta, full: bool = False):
        values = {n: float(v) for n, v in zip(self.names, np.atleast_1d(theta))}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.forward().predict(values, full=full, plane_models=self.options.plane_models,
                                          plane_regions=self.plane_regions())

    def ln_likelihood(self, prediction) -> float:
        if self.mock is not None:
            return lk.ln_mock(prediction, self.mock, self.mock_error)
        return float(sum(lk.DATASETS[d].ln_likelihood(prediction, self.options) for d in self.datasets))

    def __call__(self, theta) -> float:
        try:
            value = self.ln_likelihood(self.predict(theta))
        except CoronaError:
            return -np.inf
        return value if np.isfinite(value) else -np.inf

    def derived(self, theta) -> dict:
        """The derived quantities (:data:`montecarlo.inference.forward.DERIVED`) at ``theta``."""
        try:
            summary = self.predict(theta, full=True).summary()
        except CoronaError:
            return {name: np.nan for name in DERIVED}
        return {name: float(summary.get(name, np.nan)) for name in DERIVED}


def make_likelihood(spec: FitSpec, forward: CoronaForward, say=print) -> FitLikelihood:
    """The fit's likelihood; in mock mode, with the data drawn from the model at the truth."""
    base_user = spec.base_config().user
    if spec.mock is None:
        return FitLikelihood(spec.key, base_user, spec.names, spec.datasets, spec.options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        truth = forward.predict(spec.mock["truth"])
    data = lk.mock_data(truth, spec.mock["quantities"], spec.mock["relative_error"], spec.mock["seed"])
    say(f"mock data: {', '.join(spec.mock['quantities'])} of the model at the truth, "
        f"relative error {spec.mock['relative_error']:g}, seed {spec.mock['seed']} (fit.data ignored)")
    return FitLikelihood(spec.key, base_user, spec.names, spec.datasets, spec.options, data,
                         spec.mock["relative_error"])


# --------------------------------------------------------------------------- posterior
def equal_weight(result: SamplerResult, seed: int) -> np.ndarray:
    """Equal-weight posterior samples: the raw samples resampled systematically by weight
    (dynesty.utils.resample_equal), as many as raw samples; emcee's chain as it is."""
    from dynesty.utils import resample_equal  # optional dependency (extra "fit")
    if np.all(result.log_weights == result.log_weights[0]):
        return result.points
    return resample_equal(result.points, result.weights, rstate=np.random.default_rng(seed))


def weighted_percentiles(values, weights, q=PERCENTILES) -> np.ndarray:
    """Percentiles q [%] of weighted samples (dynesty.utils.quantile)."""
    from dynesty.utils import quantile  # optional dependency (extra "fit")
    return np.asarray(quantile(np.asarray(values, dtype=float), np.asarray(q) / 100.0,
                               weights=np.asarray(weights, dtype=float)))


def derived_quantities(likelihood: FitLikelihood, samples: np.ndarray, n_max: int, seed: int,
                       pool) -> tuple[np.ndarray, dict]:
    """(indices into ``samples``, {name: values}) for up to ``n_max`` equal-weight samples
    drawn without replacement (generator seeded with seed + 1), evaluated over the pool."""
    rng = np.random.default_rng(seed + 1)
    n = min(n_max, samples.shape[0])
    idx = np.sort(rng.choice(samples.shape[0], size=n, replace=False)) if n else np.zeros(0, int)
    rows = (pool.map if pool is not None else lambda f, xs: list(map(f, xs)))(
        likelihood.derived, list(samples[idx]))
    return idx, {name: np.array([r[name] for r in rows]) for name in DERIVED}


def write_posterior(path: Path, spec: FitSpec, result: SamplerResult, samples: np.ndarray,
                    derived_idx, derived: dict, seconds: float, n_ranks: int) -> Path:
    """DIR/posterior.h5 (docs/fit.md, "Output")."""
    cfg = spec.base_config()
    with atomic_hdf5(path) as fh:
        fh.attrs.update(provenance(cfg, seeds={"sampler": spec.settings.seed,
                                               **({"mock": spec.mock["seed"]} if spec.mock else {})}))
        fh.attrs.update({"fit_key": spec.key, "fit_file": str(spec.path),
                         "fit_toml": spec.path.read_text() if spec.path.is_file() else "",
                         "fit_json": json.dumps(spec.raw, sort_keys=True, default=str),
                         "sampler": spec.settings.sampler,
                         "sampler_settings_json": json.dumps(spec.settings.as_dict(), sort_keys=True),
                         "data": ",".join(spec.datasets) if spec.mock is None else "mock",
                         "likelihood_options_json": json.dumps(spec.options.__dict__, sort_keys=True),
                         "parameters": ",".join(spec.names), "seconds": seconds,
                         "n_ranks": n_ranks, "n_likelihood_calls": result.n_calls,
                         "resumed": result.resumed})
        for k, prior in enumerate(spec.priors):
            ds = fh.create_dataset(f"samples/{prior.name}", data=samples[:, k])
            ds.attrs["prior"] = prior.describe()
            fh.create_dataset(f"raw_samples/{prior.name}", data=result.points[:, k])
            summary = fh.create_dataset(f"summary/{prior.name}",
                                        data=weighted_percentiles(result.points[:, k], result.weights))
            summary.attrs["percentiles"] = np.array(PERCENTILES)
        fh.create_dataset("weights", data=result.weights)
        fh.create_dataset("log_likelihood", data=result.log_likelihood)
        if spec.settings.sampler in NESTED:
            fh.create_dataset("log_evidence", data=result.log_evidence)
            fh.create_dataset("log_evidence_error", data=result.log_evidence_error)
        fh.create_dataset("derived_indices", data=np.asarray(derived_idx, dtype=np.int64))
        for name, values in derived.items():
            ds = fh.create_dataset(f"derived/{name}", data=values)
            good = values[np.isfinite(values)]
            if good.size:
                ds.attrs["percentiles"] = np.array(PERCENTILES)
                ds.attrs["values"] = np.percentile(good, PERCENTILES)
                ds.attrs["upper_limit_95"] = float(np.percentile(good, 95.0))
        diag = fh.create_group("diagnostics")
        diag.attrs["n_likelihood_calls"] = result.n_calls
        for name, value in result.diagnostics.items():
            diag.create_dataset(name, data=value)
        if spec.mock is not None:
            mock = fh.create_group("mock")
            for name, value in spec.mock["truth"].items():
                mock.attrs[f"truth:{name}"] = value
            mock.attrs["relative_error"] = spec.mock["relative_error"]
            mock.attrs["quantities"] = ",".join(spec.mock["quantities"])
    return path


# --------------------------------------------------------------------------- plots
def _plot_values(prior: Prior, values):
    return (np.log10(values), f"log10 {prior.name}") if prior.log_scale else (values, prior.name)


def plot_corner(path: Path, spec: FitSpec, samples: np.ndarray) -> Path:
    """The corner plot of the equal-weight samples (log10 of log-uniform parameters), truths
    marked in mock mode."""
    with warnings.catch_warnings():        # corner imports arviz, which announces a refactor
        warnings.simplefilter("ignore", FutureWarning)
        import corner  # optional dependency (extra "fit")
    plt = plots._pyplot()
    cols, labels, truths = [], [], []
    for k, prior in enumerate(spec.priors):
        values, label = _plot_values(prior, samples[:, k])
        cols.append(values)
        labels.append(label)
        if spec.mock is not None:
            truths.append(_plot_values(prior, np.array([spec.mock["truth"][prior.name]]))[0][0])
    data = np.column_stack(cols)
    if data.shape[1] == 1:
        fig, ax = plt.subplots(figsize=(4.5, 3.5))
        ax.hist(data[:, 0], bins=40, histtype="step", color="k")
        for q in np.percentile(data[:, 0], (16, 50, 84)):
            ax.axvline(q, ls="--", color="0.5")
        if truths:
            ax.axvline(truths[0], color="tab:blue")
        ax.set_xlabel(labels[0])
    else:
        fig = corner.corner(data, labels=labels, truths=truths or None,
                            quantiles=(0.16, 0.5, 0.84), show_titles=True, title_fmt=".3g",
                            label_kwargs={"fontsize": 8}, title_kwargs={"fontsize": 7})
    fig.text(0.98, 0.98, f"corona fit {spec.path.name}\n{samples.shape[0]} samples "
             f"({spec.settings.sampler})", ha="right", va="top", fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_derived(path: Path, derived: dict) -> Path:
    """Marginal posteriors of the derived quantities, the 95 % upper limit marked."""
    plt = plots._pyplot()
    names = [n for n in DERIVED if np.any(np.isfinite(derived.get(n, [])))]
    cols = 4
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.4 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names):
        values = derived[name][np.isfinite(derived[name])]
        log = bool(np.all(values > 0) and values.max() > 30 * values.min())
        shown = np.log10(values) if log else values
        ax.hist(shown, bins=40, histtype="step", color="k")
        upper = np.percentile(values, 95.0)
        ax.axvline(np.log10(upper) if log else upper, color="tab:red", ls="--",
                   label=f"95 %: {upper:.3g}")
        ax.set_xlabel(("log10 " if log else "") + name, fontsize=8)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- the fit
def _prepare(spec: FitSpec, outdir: Path, restart: bool) -> Path:
    """DIR and DIR/checkpoint (emptied with --restart)."""
    outdir.mkdir(parents=True, exist_ok=True)
    checkpoint = outdir / "checkpoint"
    if restart and checkpoint.exists():
        shutil.rmtree(checkpoint)
    checkpoint.mkdir(exist_ok=True)
    return checkpoint


def run_fit(spec: FitSpec, outdir, workers: int = 1, restart: bool = False, say=print) -> dict | None:
    """Sample the posterior, derive, write DIR/posterior.h5 and the plots. Returns a summary
    on the master, None on MPI worker ranks."""
    outdir = Path(outdir)
    comm = world()
    rank, size = (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())
    likelihood = None
    if rank == 0:
        checkpoint = _prepare(spec, outdir, restart)
        single_core()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            forward = CoronaForward(spec.base_config(), progress=True)
        likelihood = make_likelihood(spec, forward, say)
        _FORWARDS.clear()
        _FORWARDS[spec.key] = forward
        say(f"fit {spec.path.name}: {len(spec.priors)} parameters "
            f"({', '.join(p.name + ' ' + p.describe() for p in spec.priors)}), "
            f"{spec.settings.sampler}, {size if comm is not None else workers} process(es); "
            f"forward model ready in {time.perf_counter() - t0:.1f} s")
    n_proc = size if comm is not None else workers
    with _executor(comm, workers) as executor:
        if rank != 0:
            return None
        pool = SharedMap(executor, n_proc) if executor is not None else None
        t0 = time.perf_counter()
        result = run_sampler(spec.settings, UnitTransform(spec.priors), likelihood,
                             len(spec.priors), pool, checkpoint, spec.key, say)
        seconds = time.perf_counter() - t0
        samples = equal_weight(result, spec.settings.seed)
        t1 = time.perf_counter()
        idx, derived = derived_quantities(likelihood, samples, spec.derived_samples,
                                          spec.settings.seed, pool)
        say(f"derived quantities of {idx.size} posterior samples ({time.perf_counter() - t1:.1f} s)")
    path = write_posterior(outdir / "posterior.h5", spec, result, samples, idx, derived, seconds, n_proc)
    pngs = [plot_corner(outdir / "corner.png", spec, samples)]
    if idx.size:
        pngs.append(plot_derived(outdir / "derived.png", derived))
    return {"path": path, "pngs": pngs, "result": result, "samples": samples, "derived": derived,
            "seconds": seconds}


class _NoExecutor:
    def __enter__(self):
        return None

    def __exit__(self, *args):
        return False


def _executor(comm, workers: int):
    """mpi4py.futures under mpirun; a local process pool of workers - 1 processes; or none."""
    if comm is None and workers <= 1:
        return _NoExecutor()
    return task_executor(max_workers=None if comm is not None else workers - 1)


def summary_lines(spec: FitSpec, outcome: dict) -> list[str]:
    """The printed summary: parameters (median and 68 / 95 % intervals), evidence,
    diagnostics, derived quantities with their 95 % upper limits."""
    result, samples = outcome["result"], outcome["samples"]
    lines = [f"{'parameter':<28} {'median':>11} {'68 % interval':>25} {'95 % interval':>25}"]
    for k, prior in enumerate(spec.priors):
        q = weighted_percentiles(result.points[:, k], result.weights)
        lines.append(f"{prior.name:<28} {q[2]:>11.4g} {f'[{q[1]:.4g}, {q[3]:.4g}]':>25} "
                     f"{f'[{q[0]:.4g}, {q[4]:.4g}]':>25}")
    if spec.settings.sampler in NESTED:
        lines.append(f"log evidence = {result.log_evidence:.3f} +- {result.log_evidence_error:.3f}")
    diag = ", ".join(f"{k} = {np.array2string(np.asarray(v), precision=3)}"
                     for k, v in result.diagnostics.items())
    lines.append(f"diagnostics: {result.n_calls} likelihood calls, {samples.shape[0]} "
                 f"equal-weight samples, {diag}")
    for name, values in outcome["derived"].items():
        good = values[np.isfinite(values)]
        if good.size:
            q = np.percentile(good, (16, 50, 84, 95))
            lines.append(f"{name:<28} median {q[1]:.4g} [{q[0]:.4g}, {q[2]:.4g}], "
                         f"95 % upper limit {q[3]:.4g}")
    return lines


def cmd_fit(args) -> int:
    if args.list_data:
        print(lk.describe_datasets())
        return 0
    if args.fit is None:
        raise ArgumentError("corona fit needs a fit file (FIT.toml), or --list-data")
    if args.outdir is None:
        raise ArgumentError("-o/--outdir is required: the fit directory (posterior.h5, plots, checkpoint)")
    if args.workers < 1:
        raise ArgumentError(f"--workers = {args.workers} is not allowed: expected >= 1")
    spec = parse_fit(args.fit)
    check_installed(spec.settings.sampler)
    outdir = check_output_dir(args.outdir, what="-o/--outdir")
    say = (lambda text: None) if args.quiet else print
    outcome = run_fit(spec, outdir, workers=args.workers, restart=args.restart, say=say)
    if outcome is None:          # an MPI worker rank
        return 0
    for line in summary_lines(spec, outcome):
        say(line)
    print(f"corona fit: wrote {outcome['path']}, " + ", ".join(str(p) for p in outcome["pngs"])
          + f" (sampling {outcome['seconds']:.1f} s)")
    return 0
