"""Priors of the fit parameters: uniform, log-uniform and normal (optionally truncated), as
scipy.stats distributions, with the unit-cube transform the nested samplers need
(docs/fit.md, "Fit files").

In a fit file each parameter is one table::

    "source.alpha" = {min = 2.0, max = 2.8}                                  # uniform
    "diffusion.D0_cm2_s" = {min = 1e28, max = 1e31, prior = "log-uniform"}
    "diffusion.delta" = {prior = "normal", mean = 0.33, sigma = 0.05, min = 0.1, max = 0.7}
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from transport.core.errors import ConfigError

KINDS = ("uniform", "log-uniform", "normal")


class FitError(ConfigError):
    """A fit file, fit directory or checkpoint that cannot be used; the message says why."""


@dataclass(frozen=True)
class Prior:
    """The prior of one parameter (``name`` as written in the fit file)."""
    name: str
    kind: str
    lo: float = -np.inf
    hi: float = np.inf
    mean: float = np.nan
    sigma: float = np.nan

    @property
    def dist(self):
        """The scipy.stats frozen distribution."""
        if self.kind == "uniform":
            return stats.uniform(loc=self.lo, scale=self.hi - self.lo)
        if self.kind == "log-uniform":
            return stats.loguniform(self.lo, self.hi)
        a, b = (self.lo - self.mean) / self.sigma, (self.hi - self.mean) / self.sigma
        if np.isinf(a) and np.isinf(b):
            return stats.norm(loc=self.mean, scale=self.sigma)
        return stats.truncnorm(a, b, loc=self.mean, scale=self.sigma)

    @property
    def log_scale(self) -> bool:
        """Plot (and summarise) on a logarithmic axis."""
        return self.kind == "log-uniform"

    def transform(self, u):
        """The parameter value at unit-cube coordinate u (the inverse CDF)."""
        return self.dist.ppf(u)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n independent draws."""
        return self.transform(rng.random(n))

    def range(self) -> tuple[float, float]:
        """(lowest, highest) value a fit can reach: the bounds, or mean -/+ 6 sigma."""
        lo = self.lo if np.isfinite(self.lo) else self.mean - 6.0 * self.sigma
        hi = self.hi if np.isfinite(self.hi) else self.mean + 6.0 * self.sigma
        return float(lo), float(hi)

    def describe(self) -> str:
        if self.kind == "normal":
            cut = (f", truncated to [{self.lo:g}, {self.hi:g}]"
                   if np.isfinite(self.lo) or np.isfinite(self.hi) else "")
            return f"normal(mean {self.mean:g}, sigma {self.sigma:g}{cut})"
        return f"{self.kind} [{self.lo:g}, {self.hi:g}]"


def _number(name, spec, key, required=True):
    value = spec.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise FitError(f"fit.parameters.{name}.{key} = {value!r} is not allowed: expected a "
                       "finite number")
    return float(value)


def parse_prior(name: str, spec) -> Prior:
    """The prior of parameter ``name`` from its fit-file table (FitError on any problem)."""
    if not isinstance(spec, dict):
        raise FitError(f"fit.parameters.{name} = {spec!r} is not allowed: expected a table such "
                       "as {min = 2.0, max = 2.8} or {min = 1e28, max = 1e31, prior = \"log-uniform\"}")
    kind = spec.get("prior", "uniform")
    if kind not in KINDS:
        raise FitError(f"fit.parameters.{name}.prior = {kind!r} is not allowed: expected one of "
                       + ", ".join(f'"{k}"' for k in KINDS))
    allowed = {"prior", "min", "max"} | ({"mean", "sigma"} if kind == "normal" else set())
    extra = set(spec) - allowed
    if extra:
        raise FitError(f"fit.parameters.{name}: unknown field(s) {', '.join(sorted(extra))} for "
                       f"prior = \"{kind}\"; allowed: {', '.join(sorted(allowed))}")
    if kind == "normal":
        mean, sigma = _number(name, spec, "mean"), _number(name, spec, "sigma")
        if sigma <= 0:
            raise FitError(f"fit.parameters.{name}.sigma = {sigma:g} is not allowed: expected > 0")
        lo = _number(name, spec, "min", required=False)
        hi = _number(name, spec, "max", required=False)
        lo = -np.inf if lo is None else lo
        hi = np.inf if hi is None else hi
        if not lo < hi:
            raise FitError(f"fit.parameters.{name}: min = {lo:g} must be below max = {hi:g}")
        if not lo < mean < hi and abs(min(mean - lo, hi - mean)) > 3 * sigma:
            raise FitError(f"fit.parameters.{name}: the normal prior (mean {mean:g}, sigma "
                           f"{sigma:g}) lies more than 3 sigma outside [min, max] = [{lo:g}, {hi:g}]")
        return Prior(name, kind, lo, hi, mean, sigma)
    lo, hi = _number(name, spec, "min"), _number(name, spec, "max")
    if not lo < hi:
        raise FitError(f"fit.parameters.{name}: min = {lo:g} must be below max = {hi:g}")
    if kind == "log-uniform" and lo <= 0:
        raise FitError(f"fit.parameters.{name}: prior = \"log-uniform\" needs min > 0 (min = {lo:g})")
    return Prior(name, kind, lo, hi)


class UnitTransform:
    """u (n_dim,) in [0, 1]^n_dim -> parameter values (n_dim,): the nested samplers' prior
    (a class, so that a sampler checkpoint can pickle it)."""

    def __init__(self, priors):
        self.priors = tuple(priors)
        self._dists = None

    def __call__(self, u):
        if self._dists is None:
            self._dists = [p.dist for p in self.priors]
        return np.array([d.ppf(x) for d, x in zip(self._dists, np.asarray(u, dtype=float))])

    def __getstate__(self):
        return {"priors": self.priors, "_dists": None}
