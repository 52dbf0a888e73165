"""The Galactic-plane fits of montecarlo.galactic_plane.fits checked for their own consistency
with an independent evaluation of the model, so that a constant-factor error in the returned
fit (the x1.1 mutants of benchmarks/mutants.py of fit_case and fit_all_cases: they scale the
reported normalisation) fails here.

[T] eq. 12: the reported normalisation N multiplies the model's photon intensity in every
region, and the reported chi^2 is the asymmetric chi^2 of N x model at the Tibet points. Here
the model is evaluated again from the emission (transport.emission.registry.build_emission and
montecarlo.sky.analysis.region_intensity, called by this test), and

    gamma[region] = N x region_intensity(model),   chi2 = chi2_asymmetric(N x model(points)).

Tolerance: rtol=1e-9, atol=0 - the same deterministic quadratures evaluated twice, so only
round-off separates them; a 10 % error in N changes both by 10 % or more (chi^2 near its
minimum by (0.1 N / sigma_N)^2 > 1).
"""
import numpy as np
from numpy.testing import assert_allclose

import transport
from montecarlo.galactic_plane import fits
from montecarlo.galactic_plane.fitting import chi2_asymmetric
from montecarlo.sky.analysis import region_intensity
from transport.emission.registry import build_emission

COARSE = {"opacity.grid": "coarse"}
E_FIT = np.geomspace(1e13, 2e15, 6)
CASE = ("snr_tibet", "A")


def _model(cfg, E):
    case_cfg = cfg.with_overrides({"disk.distribution": CASE[0], "disk.spectrum": CASE[1]})
    return case_cfg, build_emission(case_cfg, "disk", "gamma", None, E)


def _check(fit, cfg):
    case_cfg, em = _model(cfg, fit.E_eV)
    assert fit.norm > 0
    for region in ("tibet_A", "galactic_plane"):
        expected = fit.norm * region_intensity(em, fit.E_eV, region, ("cmb", "dust"), case_cfg)
        assert_allclose(fit.gamma[region], expected, rtol=1e-9, atol=0)
    data = fits.tibet_points()
    model = np.concatenate([region_intensity(em, p.E_eV, p.region, ("cmb", "dust"), case_cfg)
                            for p in data.values()])
    measured = np.concatenate([p.intensity for p in data.values()])
    lo = np.concatenate([p.err_lo for p in data.values()])
    hi = np.concatenate([p.err_hi for p in data.values()])
    assert_allclose(fit.chi2, chi2_asymmetric(fit.norm * model, measured, lo, hi),
                    rtol=1e-9, atol=0)


def test_fit_case_normalisation_is_the_one_applied():
    cfg = transport.load_config(COARSE)
    _check(fits.fit_case(cfg, *CASE, E_FIT), cfg)


def test_fit_all_cases_returns_the_fits_of_fit_case():
    cfg = transport.load_config(COARSE)
    (fit,) = fits.fit_all_cases(cfg, E_FIT, cases=(CASE,))
    assert (fit.distribution, fit.spectrum) == CASE
    _check(fit, cfg)
