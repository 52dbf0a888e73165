"""Closed-form checks of the plane-model building blocks (montecarlo.galactic_plane): each
function against a value computed by hand, so that a constant-factor error in any of them (the
x1.1 mutants of benchmarks/mutants.py) fails here.

Tolerances: the functions are a few floating-point operations on exact inputs, so the
comparisons use rtol=1e-12, atol=0 (round-off only, far below the 10 % of a mutant), except where
a root finder is involved (normalization_interval: brentq's default xtol 2e-12 on values of
order 1, so rtol=1e-9, atol=0).
"""
import numpy as np
from numpy.testing import assert_allclose

from montecarlo.galactic_plane import components, fits, fitting
from montecarlo.observations import SpectralPoints

RTOL = 1e-12


def _points(E, I, lo, hi, upper=None):
    E = np.asarray(E, dtype=float)
    return SpectralPoints("test", "gamma", "tibet_A", E, np.asarray(I, dtype=float),
                          np.asarray(lo, dtype=float), np.asarray(hi, dtype=float), E, E,
                          upper_limit=None if upper is None else np.asarray(upper, dtype=bool))


def test_chi2_asymmetric_by_hand():
    """[T, eq. 12]: lower error where the model is below the point, upper error above:
    (2-1)^2/0.5^2 + (2-3)^2/2^2 = 4 + 0.25."""
    chi2 = fitting.chi2_asymmetric([1.0, 3.0], [2.0, 2.0], [0.5, 0.5], [1.0, 2.0])
    assert_allclose(chi2, 4.25, rtol=RTOL, atol=0)


def test_fit_normalization_and_interval_symmetric_errors():
    """Symmetric errors: chi^2(N) = sum w (d - N m)^2 is a parabola, N0 = sum w m d / sum w m^2,
    chi2_min = sum w d^2 - N0^2 sum w m^2, and chi^2 = chi2_min + 1 at N0 -/+ 1/sqrt(sum w m^2)."""
    m = np.array([1.0, 2.0, 4.0])
    d = np.array([1.5, 1.9, 4.6])
    s = np.array([0.2, 0.3, 0.5])
    w = 1.0 / s ** 2
    N0 = np.sum(w * m * d) / np.sum(w * m ** 2)
    chi2 = np.sum(w * d ** 2) - N0 ** 2 * np.sum(w * m ** 2)
    fit = fitting.fit_normalization(m, d, s, s)
    assert_allclose(fit.norm, N0, rtol=RTOL, atol=0)
    assert_allclose(fit.chi2, chi2, rtol=1e-10, atol=0)   # difference of two sums: cancellation
    assert fit.dof == 2
    assert_allclose(fit.chi2_per_dof, chi2 / 2, rtol=1e-10, atol=0)
    half = 1.0 / np.sqrt(np.sum(w * m ** 2))
    lo, hi = fitting.normalization_interval(m, d, s, s, fit=fit)
    assert_allclose([lo, hi], [N0 - half, N0 + half], rtol=1e-9, atol=0)


def test_normalization_fit_chi2_per_dof():
    assert_allclose(fitting.NormalizationFit(norm=1.0, chi2=6.0, dof=3).chi2_per_dof, 2.0,
                    rtol=RTOL, atol=0)


def test_ecpl_photons_and_neutrinos():
    """s(E) = norm q_ref (E/E_cut)^-Gamma e^(-E/E_cut) / (same at E_norm) [L, Sec. 3.3] and
    q_nu(E) = 6 q_g(2E) ([T] eq. 1 inverted)."""
    c = components.ECPL(Gamma=2.5, E_cut_eV=1e15, norm=0.3, E_norm_eV=1e13, q_ref_norm=2e-30)
    E = np.array([1e12, 1e13, 1e14, 3e15])
    shape = ((E / 1e15) ** -2.5 * np.exp(-E / 1e15)) / ((1e13 / 1e15) ** -2.5 * np.exp(-1e13 / 1e15))
    assert_allclose(c.photons(E), 0.3 * 2e-30 * shape, rtol=RTOL, atol=0)
    assert_allclose(c.photons(1e13), 0.3 * 2e-30, rtol=RTOL, atol=0)
    assert_allclose(c.neutrinos(E / 2), 6.0 * 0.3 * 2e-30 * shape, rtol=RTOL, atol=0)


def test_loglog_is_exact_on_a_power_law():
    E_model = np.geomspace(1e12, 1e16, 9)
    E = np.geomspace(1.3e12, 9e15, 7)
    assert_allclose(components.loglog(E_model, 5.0 * E_model ** -2.7, E), 5.0 * E ** -2.7,
                    rtol=1e-11, atol=0)


def test_chi2_points_and_mean_ratio():
    """A model twice the data at two points with errors 0.1 I (model above: upper errors count);
    a point outside the model range and an upper limit are skipped."""
    E_model = np.geomspace(1e12, 1e15, 7)
    model = 1e-20 * (E_model / 1e12) ** -2.0
    E = np.array([2e12, 2e13, 5e15, 1e14])
    data = 0.5e-20 * (E / 1e12) ** -2.0
    pts = _points(E, data, 0.2 * data, 0.1 * data, upper=[False, False, False, True])
    chi2, n = components.chi2_points(E_model, model, pts)
    assert n == 2
    assert_allclose(chi2, 2 * (0.5 / 0.05) ** 2, rtol=1e-10, atol=0)   # (d - 2d)^2 / (0.1 d)^2
    assert_allclose(components.mean_ratio(E_model, model, pts), 2.0, rtol=1e-10, atol=0)


def test_model_spectra_total_and_chi2_per_dof():
    E = np.array([1e12, 1e13])
    ms = components.ModelSpectra("m", E, gamma={"a": {"r": np.array([1.0, 2.0])},
                                                "b": {"r": np.array([0.5, 0.25])}},
                                 chi2={"x": (6.0, 4), "y": (3.0, 3)})
    assert_allclose(ms.total("gamma", "r"), [1.5, 2.25], rtol=RTOL, atol=0)
    assert_allclose(ms.total("gamma", "r", components=("b",)), [0.5, 0.25], rtol=RTOL, atol=0)
    assert_allclose(ms.chi2_per_dof(("x", "y"), n_free=2), 9.0 / 5.0, rtol=RTOL, atol=0)


def test_tibet_relations_eq7_eq10():
    """[T, eq. 7]: E_nu^2 Phi_nu = (3/2) E_g^2 Phi_g(2 E_nu) x correction; [T, eq. 10]: flux
    scaled by the ratio of the two regions' integrals."""
    assert_allclose(fits.neutrino_from_gamma([2.0, 4.0], [1.0, 1.5]), [3.0, 9.0],
                    rtol=RTOL, atol=0)
    assert_allclose(fits.extrapolate_flux([2.0, 3.0], [5.0, 6.0], [4.0, 2.0]), [2.5, 9.0],
                    rtol=RTOL, atol=0)


def test_case_fit_chi2_per_dof():
    c = fits.CaseFit("uniform", "A", norm=1.0, chi2=7.0, dof=2, E_eV=np.array([1e12]))
    assert_allclose(c.chi2_per_dof, 3.5, rtol=RTOL, atol=0)
