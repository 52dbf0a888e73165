"""The normalisation fit with [T]'s asymmetric-error rule [T, eq. 12]."""
import numpy as np
import pytest

from montecarlo.galactic_plane.fitting import (chi2_asymmetric, fit_normalization,
                                               normalization_interval)


def test_upper_error_used_when_model_is_above():
    assert chi2_asymmetric([2.0], [1.0], [0.5], [1.0]) == pytest.approx(1.0, rel=1e-6, abs=0)    # above: err_hi
    assert chi2_asymmetric([0.5], [1.0], [0.5], [1.0]) == pytest.approx(1.0, rel=1e-6, abs=0)    # below: err_lo


def test_exact_minimum_agrees_with_a_brute_force_scan():
    rng = np.random.default_rng(1)
    model = np.geomspace(1.0, 1e-3, 6)
    data = model * 3.0 * np.exp(rng.normal(0, 0.3, 6))
    lo, hi = 0.2 * data, 0.5 * data
    fit = fit_normalization(model, data, lo, hi)
    grid = np.linspace(0.5, 10, 200001)
    chi = [chi2_asymmetric(n * model, data, lo, hi) for n in grid[::50]]
    n_scan = grid[::50][int(np.argmin(chi))]
    assert fit.norm == pytest.approx(n_scan, abs=5e-3, rel=0)
    assert fit.chi2 <= min(chi) + 1e-12 and fit.dof == 5


def test_recovers_a_known_normalisation_from_synthetic_data():
    """Noise-free data = 2.5 x model is recovered exactly (chi^2 = 0). With data scattered by the
    asymmetric errors (20 % up, 10 % down, split-normal), the Delta chi^2 = 1 interval covers the
    true 2.5 in 68 % of 1000 realisations; binomial 3-sigma band 0.64-0.72 (the switching-error
    chi^2 is not an exact likelihood, so accept 0.60-0.76)."""
    model = np.geomspace(1.0, 1e-2, 6)
    truth = 2.5 * model
    exact = fit_normalization(model, truth, 0.1 * truth, 0.2 * truth)
    assert exact.norm == pytest.approx(2.5, rel=1e-12, abs=0) and exact.chi2 == pytest.approx(0.0, abs=1e-20, rel=0)
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(1000):
        up = rng.random(6) < 2 / 3            # split normal, widths 0.2 (up) and 0.1 (down): P(up) = 2/3
        data = truth * (1 + np.where(up, 0.2, -0.1) * np.abs(rng.normal(0, 1, 6)))
        err_lo, err_hi = 0.2 * truth, 0.1 * truth     # truth below a point -> its lower error
        lo, hi = normalization_interval(model, data, err_lo, err_hi)
        covered += lo <= 2.5 <= hi
    assert 0.60 < covered / 1000 < 0.76
