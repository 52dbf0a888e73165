"""The Galactic-plane fits and paper models (montecarlo.galactic_plane) checked for their own
consistency with an independent evaluation, so that a constant-factor error in what they return
(the x1.1 mutants of benchmarks/mutants.py of fits.fit_case, fits.fit_all_cases and the
compute() of ambrosone2025, grasso2025, shao2023) fails here.

[T] eq. 12: the reported normalisation N multiplies the model's photon intensity in every
region, and the reported chi^2 is the asymmetric chi^2 of N x model at the Tibet points. Here
the model is evaluated again from the emission (transport.emission.registry.build_emission and
montecarlo.sky.analysis.region_intensity, called by this test), and

    gamma[region] = N x region_intensity(model),   chi2 = chi2_asymmetric(N x model(points)).

Paper models: every model's reported chi^2 per data set is the chi^2 of the sum of its
returned photon spectra in that data set's region (components.chi2_points), so the spectra
returned are the ones compared with the data.

Tolerance: rtol=1e-9, atol=0 - the same deterministic quadratures evaluated twice, so only
round-off separates them; a 10 % error in N changes both by 10 % or more (chi^2 near its
minimum by (0.1 N / sigma_N)^2 > 1), and a 10 % error in a returned spectrum changes its
chi^2 by far more than 1e-9.
"""
import pytest
import numpy as np
from numpy.testing import assert_allclose

import transport
from montecarlo.galactic_plane import ambrosone2025, fits, grasso2025, shao2023
from montecarlo.galactic_plane import components as comp
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


@pytest.mark.parametrize("module, datasets", [(grasso2025, grasso2025.datasets),
                                              (ambrosone2025, grasso2025.datasets),
                                              (shao2023, shao2023.datasets)])
def test_paper_models_chi2_is_that_of_the_returned_spectra(module, datasets):
    """Coarse sea grid, no attenuation, 5 energies (~3-8 s per paper)."""
    cfg = transport.load_config({**COARSE, "sea.R_step_kpc": 1.0, "sea.z_step_kpc": 0.2,
                                 "sea.rho_per_decade": 1})
    E = np.geomspace(1e11, 1e15, 5)
    data = datasets()
    out = module.compute(cfg, E, fields=(), data=data)
    assert out
    for name, m in out.items():
        assert set(m.chi2) == set(data)
        for key, points in data.items():
            chi2, n = comp.chi2_points(E, m.total("gamma", points.region), points)
            assert n == m.chi2[key][1] and chi2 > 0
            assert_allclose(m.chi2[key][0], chi2, rtol=1e-9, atol=0)
