"""The samplers of `corona fit`, from well-kept libraries: nautilus (importance nested sampling,
the default), dynesty (nested sampling) and emcee (affine-invariant ensemble MCMC), each with
its own checkpoint, made safe against kill -9 and tied to the fit (docs/fit.md, "Samplers").

All three sample the unit cube u in [0, 1]^d mapped to the parameters by the priors' inverse
CDFs (:class:`montecarlo.inference.priors.UnitTransform`), so one prior definition serves all.

Checkpoints (DIR/checkpoint/):
- nautilus: the sampler's own HDF5 state (``Sampler.write``; resumed by ``Sampler(filepath=...)``),
  written by us after every ``checkpoint_s`` of sampling to a temporary file that carries the
  fit key and a checksum of every dataset and attribute, then renamed into place (nautilus's own
  writes delete the file before rewriting it);
- dynesty: the sampler's pickle (``run_nested(checkpoint_file=...)``, written through a
  temporary file by dynesty; resumed by ``NestedSampler.restore``); the key is the likelihood
  object's, pickled with it;
- emcee: the ``HDFBackend`` file, appended to at every step; after every ``checkpoint_s`` a
  copy with the key and a checksum is renamed into place, and a resumed run starts from it.
A checkpoint whose key differs (fit file, resolved config or code version changed) or whose
checksum fails is refused with one clear error (``--restart`` discards it).
"""
from __future__ import annotations

import os
import pickle
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
from scipy.special import logsumexp

from transport.core import sealed
from transport.core.safety import clean_stale_temp_files, temp_path
from transport.core.sealed import SEAL_ATTRS

from montecarlo.inference.priors import FitError

SAMPLERS = ("nautilus", "dynesty", "emcee")
NESTED = ("nautilus", "dynesty")


@dataclass
class Settings:
    """Sampler settings of the [fit] table (docs/fit.md lists them with their defaults)."""
    sampler: str = "nautilus"
    seed: int = 1
    n_live: int = 400
    n_eff: int = 3000             # nautilus: effective sample size to reach
    n_networks: int = 4           # nautilus: networks per bound
    dlogz: float = 0.1            # dynesty: stopping criterion on the remaining evidence
    walkers: int = 32             # emcee
    steps: int = 3000             # emcee: steps per walker
    burn: int = 1000              # emcee: steps discarded
    checkpoint_s: float = 60.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class SamplerResult:
    """Raw samples (parameter values), their normalised log weights and ln L, the evidence
    (nested samplers) and diagnostics."""
    points: np.ndarray
    log_weights: np.ndarray
    log_likelihood: np.ndarray
    log_evidence: float = np.nan
    log_evidence_error: float = np.nan
    n_calls: int = 0
    diagnostics: dict = field(default_factory=dict)
    resumed: bool = False

    @property
    def weights(self) -> np.ndarray:
        return np.exp(self.log_weights - logsumexp(self.log_weights))

    @property
    def kish_ess(self) -> float:
        """Effective sample size of the weights, (sum w)^2 / sum w^2 (Kish)."""
        w = self.weights
        return float(1.0 / np.sum(w ** 2))


# --------------------------------------------------------------------------- checkpoint files
#: Seal kind of a sampler checkpoint (transport.core.sealed: the fit key as its claim, a
#: checksum of every dataset and attribute of the file).
CHECKPOINT_KIND = "fit checkpoint"


def seal(path: Path, source: Path, key: str, move: bool = False) -> None:
    """Copy (``move``: move) the HDF5 file ``source`` to ``path`` atomically, sealed with the fit
    key (:func:`transport.core.sealed.seal` on its root group)."""
    tmp = temp_path(path)
    (os.replace if move else shutil.copyfile)(source, tmp)
    with h5py.File(tmp, "r+") as fh:
        for name in SEAL_ATTRS:              # a copy of an earlier sealed checkpoint
            fh.attrs.pop(name, None)
        sealed.seal(fh, CHECKPOINT_KIND, {"fit_key": key})
    os.replace(tmp, path)


def check_sealed(path: Path, key: str) -> None:
    """FitError unless ``path`` is a sealed checkpoint of the fit ``key`` whose checksums match."""
    try:
        with h5py.File(path, "r") as fh:
            problem = sealed.check(fh, CHECKPOINT_KIND, {"fit_key": key})
    except OSError as exc:
        raise FitError(f"checkpoint {path} is unreadable ({exc}): rerun with --restart to discard it") from None
    if problem is None:
        return
    if problem.reason == "fit_key":
        raise FitError(f"checkpoint {path} belongs to a different fit (the fit file, its resolved "
                       "config or the code changed): rerun with --restart to discard it, "
                       "or write to another -o directory")
    raise FitError(f"checkpoint {path} fails its checksum (a damaged file: {problem}): rerun "
                   "with --restart to discard it")


def checkpoint_path(directory: Path, sampler: str) -> Path:
    return Path(directory) / f"{sampler}{'.pkl' if sampler == 'dynesty' else '.h5'}"


# --------------------------------------------------------------------------- the samplers
def check_installed(sampler: str) -> None:
    """FitError naming the extra to install when the sampler's packages are missing."""
    import importlib.util
    missing = [m for m in (sampler, "arviz", "corner") if importlib.util.find_spec(m) is None]
    if missing:
        raise FitError(f"corona fit needs {', '.join(missing)}: pip install 'corona-cr[fit]'")


def run_sampler(settings: Settings, transform, loglike, n_dim: int, pool, directory: Path,
                key: str, say=print) -> SamplerResult:
    """Sample ``loglike`` (a picklable callable of the parameter vector carrying ``key``)
    under the prior ``transform``, resuming from the checkpoint in ``directory``."""
    check_installed(settings.sampler)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_files(directory)
    run = {"nautilus": _nautilus, "dynesty": _dynesty, "emcee": _emcee}[settings.sampler]
    return run(settings, transform, loglike, n_dim, pool, directory, key, say)


def _nautilus(s: Settings, transform, loglike, n_dim, pool, directory, key, say):
    from nautilus import Sampler  # optional dependency (extra "fit")
    path = checkpoint_path(directory, "nautilus")
    resumed = path.exists()
    if resumed:
        check_sealed(path, key)
    sampler = Sampler(transform, loglike, n_dim=n_dim, n_live=s.n_live, n_networks=s.n_networks,
                      pool=pool, seed=s.seed, filepath=path if resumed else None, resume=True)
    sampler.filepath = None                    # checkpoints are written below, atomically
    if resumed:
        say(f"nautilus: resuming from {path} ({sampler.n_like} likelihood calls done)")
    done = False
    while not done:
        done = sampler.run(n_eff=s.n_eff, timeout=s.checkpoint_s, discard_exploration=True)
        work = path.with_name("nautilus-write.h5")      # Sampler.write needs a .h5 name
        sampler.write(work, overwrite=True)
        seal(path, work, key, move=True)
        log_z = "n/a" if sampler.log_z is None else f"{sampler.log_z:.3f}"
        say(f"nautilus: {sampler.n_like} likelihood calls, effective sample size "
            f"{sampler.n_eff:.0f} of {s.n_eff}, log Z = {log_z}"
            + ("" if done else f" (checkpoint {path.name})"))
    points, log_w, log_l = sampler.posterior(return_as_dict=False)
    n_eff = float(sampler.n_eff)
    return SamplerResult(points, log_w, log_l, float(sampler.log_z), float(np.sqrt(1.0 / n_eff)),
                         int(sampler.n_like), {"ess": n_eff}, resumed)


def _dynesty(s: Settings, transform, loglike, n_dim, pool, directory, key, say):
    import dynesty  # optional dependency (extra "fit")
    path = checkpoint_path(directory, "dynesty")
    resumed = path.exists()
    queue = 1 if pool is None else pool.size
    if resumed:
        try:
            sampler = dynesty.NestedSampler.restore(str(path), pool=pool)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError) as exc:
            raise FitError(f"checkpoint {path} is unreadable ({exc}): rerun with --restart to "
                           "discard it") from None
        if _wrapped_key(sampler.loglikelihood) != key:
            raise FitError(f"checkpoint {path} belongs to a different fit (the fit file, its "
                           "resolved config or the code version changed): rerun with --restart "
                           "to discard it, or write to another -o directory")
        _innermost(sampler.loglikelihood).func = loglike       # this process's, not the pickled one
        say(f"dynesty: resuming from {path} ({int(np.sum(sampler.ncall))} likelihood calls done)")
    else:
        sampler = dynesty.NestedSampler(loglike, transform, n_dim, nlive=s.n_live, pool=pool,
                                        queue_size=queue, rstate=np.random.default_rng(s.seed),
                                        use_pool={"prior_transform": False})
    sampler.run_nested(dlogz=s.dlogz, checkpoint_file=str(path), checkpoint_every=s.checkpoint_s,
                       print_progress=False, resume=resumed)
    r = sampler.results
    log_w = r.logwt - r.logz[-1]
    result = SamplerResult(np.asarray(r.samples), log_w, np.asarray(r.logl), float(r.logz[-1]),
                           float(r.logzerr[-1]), int(np.sum(r.ncall)), {}, resumed)
    result.diagnostics["ess"] = result.kish_ess
    say(f"dynesty: {result.n_calls} likelihood calls, log Z = {result.log_evidence:.3f} +- "
        f"{result.log_evidence_error:.3f}")
    return result


def _innermost(wrapper):
    """dynesty's innermost likelihood wrapper (LogLikelihood around _function_wrapper, whose
    ``func`` is ours)."""
    while hasattr(wrapper, "loglikelihood"):
        wrapper = wrapper.loglikelihood
    return wrapper


def _wrapped_key(wrapper):
    """The ``key`` of the likelihood object inside dynesty's wrappers."""
    return getattr(getattr(_innermost(wrapper), "func", None), "key", None)


class _CubeLogProb:
    """emcee's target in the unit cube: ln L(T(u)) inside, -inf outside (the prior is uniform
    in u)."""

    def __init__(self, transform, loglike):
        self.transform, self.loglike = transform, loglike

    def __call__(self, u):
        u = np.asarray(u, dtype=float)
        if np.any(u <= 0.0) or np.any(u >= 1.0):
            return -np.inf
        return self.loglike(self.transform(u))


def _emcee(s: Settings, transform, loglike, n_dim, pool, directory, key, say):
    import emcee  # optional dependency (extra "fit")
    path = checkpoint_path(directory, "emcee")
    live = path.with_name("emcee-live.h5")
    resumed = path.exists()
    if resumed:
        check_sealed(path, key)
        shutil.copyfile(path, live)
    elif live.exists():
        live.unlink()                          # steps after no checkpoint: start again
    backend = emcee.backends.HDFBackend(str(live), name="mcmc")
    sampler = emcee.EnsembleSampler(s.walkers, n_dim, _CubeLogProb(transform, loglike),
                                    pool=pool, backend=backend)
    if backend.iteration == 0:
        rng = np.random.default_rng(s.seed)
        sampler.random_state = np.random.RandomState(s.seed).get_state()
        state = rng.random((s.walkers, n_dim))
    else:
        state = sampler.get_last_sample()
        say(f"emcee: resuming from {path} ({backend.iteration} of {s.steps} steps done)")
    while backend.iteration < s.steps:
        t0 = time.monotonic()
        for state in sampler.sample(state, iterations=s.steps - backend.iteration, store=True):
            if time.monotonic() - t0 > s.checkpoint_s:
                break
        state = sampler.get_last_sample()
        seal(path, live, key)
        say(f"emcee: {backend.iteration} of {s.steps} steps, acceptance "
            f"{np.mean(backend.accepted / max(backend.iteration, 1)):.2f}")
    chain_u = backend.get_chain(discard=s.burn)                    # (steps, walkers, d)
    log_l = backend.get_log_prob(discard=s.burn)
    chain = np.apply_along_axis(transform, -1, chain_u)
    diagnostics = emcee_diagnostics(chain, backend.get_chain(), s, emcee)
    diagnostics["acceptance"] = float(np.mean(backend.accepted) / backend.iteration)
    points = chain.reshape(-1, n_dim)
    return SamplerResult(points, np.zeros(points.shape[0]), log_l.reshape(-1),
                         n_calls=int(backend.iteration * s.walkers), diagnostics=diagnostics,
                         resumed=resumed)


def emcee_diagnostics(chain, full_chain_u, s: Settings, emcee) -> dict:
    """Integrated autocorrelation time of each parameter (emcee, over the whole run), and
    arviz's rank-normalised split R-hat and bulk effective sample size of the kept chain
    (walkers as chains: they are not independent, so R-hat is indicative)."""
    with warnings.catch_warnings():        # arviz announces a refactor on import
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az  # optional dependency (extra "fit")
    tau = emcee.autocorr.integrated_time(full_chain_u, quiet=True)
    data = {f"p{k}": np.swapaxes(chain[..., k], 0, 1) for k in range(chain.shape[-1])}
    dataset = az.convert_to_dataset(data)
    rhat = az.rhat(dataset)
    ess = az.ess(dataset, method="bulk")
    return {"autocorr_time": np.asarray(tau, dtype=float),
            "rhat": np.array([float(rhat[f"p{k}"]) for k in range(chain.shape[-1])]),
            "ess": np.array([float(ess[f"p{k}"]) for k in range(chain.shape[-1])]),
            "steps_over_tau": float(s.steps / np.max(tau))}
