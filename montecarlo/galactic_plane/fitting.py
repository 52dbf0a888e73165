"""Fits of model normalisations to measured spectra with asymmetric errors [T, eq. 12]."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def chi2_asymmetric(model, data, err_lo, err_hi) -> float:
    """sum_i (data_i - model_i)^2 / sigma_i^2 with sigma_i the upper error where the model is
    above the point and the lower error where it is below [T, eq. 12 and text]."""
    model, data = np.asarray(model, dtype=float), np.asarray(data, dtype=float)
    sigma = np.where(model > data, err_hi, err_lo)
    return float(np.sum((data - model) ** 2 / np.asarray(sigma, dtype=float) ** 2))


@dataclass(frozen=True)
class NormalizationFit:
    """Best-fit factor ``norm`` multiplying the model, its chi^2 and degrees of freedom."""
    norm: float
    chi2: float
    dof: int

    @property
    def chi2_per_dof(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else float("nan")


def fit_normalization(model, data, err_lo, err_hi) -> NormalizationFit:
    """Exact minimum over N > 0 of chi2_asymmetric(N * model, data, ...).

    Each term switches from the lower to the upper error at N_i = data_i / model_i, so chi^2(N)
    is quadratic between consecutive N_i: minimise each piece in closed form and keep the best.
    dof = number of points - 1.
    """
    model, data = np.asarray(model, dtype=float), np.asarray(data, dtype=float)
    err_lo, err_hi = np.asarray(err_lo, dtype=float), np.asarray(err_hi, dtype=float)
    if model.shape != data.shape or np.any(model <= 0) or np.any(err_lo <= 0) or np.any(err_hi <= 0):
        raise ValueError("fit_normalization needs matching arrays, model > 0 and errors > 0")
    breaks = np.unique(data / model)
    edges = np.concatenate([[0.0], breaks, [np.inf]])
    best = (np.inf, np.nan)
    for a, b in zip(edges[:-1], edges[1:]):
        probe = 0.5 * (a + b) if np.isfinite(b) else a + 1.0
        sigma = np.where(probe * model > data, err_hi, err_lo)
        w = 1.0 / sigma ** 2
        n = np.clip(np.sum(w * model * data) / np.sum(w * model ** 2), a, b)
        chi2 = chi2_asymmetric(n * model, data, err_lo, err_hi)
        if chi2 < best[0]:
            best = (chi2, n)
    return NormalizationFit(norm=float(best[1]), chi2=float(best[0]), dof=model.size - 1)


def normalization_interval(model, data, err_lo, err_hi, fit: NormalizationFit | None = None,
                           delta_chi2: float = 1.0) -> tuple[float, float]:
    """Range of N with chi^2(N) <= chi^2_min + delta_chi2 (1 = 68 % for one parameter)."""
    from scipy.optimize import brentq

    fit = fit or fit_normalization(model, data, err_lo, err_hi)
    model = np.asarray(model, dtype=float)
    excess = lambda n: chi2_asymmetric(n * model, data, err_lo, err_hi) - fit.chi2 - delta_chi2
    lo = 0.0 if excess(0.0) <= 0 else brentq(excess, 0.0, fit.norm)
    top = 2.0 * fit.norm + 1e-300
    while excess(top) <= 0:
        top *= 2.0
    return lo, brentq(excess, fit.norm, top)
