"""The Gauss-Legendre panel and the ray exit distances of montecarlo.lineofsight.integrator
against closed forms, so that a constant-factor error in :func:`gauss_legendre_panel` or
:meth:`RayGeometry.exit_distance` (the x1.1 mutants of benchmarks/mutants.py) fails here. The
panel's nodes and weights set every line-of-sight integral (module constants _X, _W, _S, built
at import); the exit distance ends each ray at the emission's edge (an overshoot only adds
panels where q = 0, so the integrals do not show it).

Exit distances from o = (8.5, 0, 0) kpc: a sphere of radius 20 gives 28.5 towards the centre,
11.5 away from it and sqrt(20^2 - 8.5^2) sideways; a cylinder R = 15 with |z| <= 2 gives 23.5,
6.5, sqrt(15^2 - 8.5^2) and 2 straight up (rtol=1e-12, atol=0: a few operations).

- Three nodes: x = 0, -/+ sqrt(3/5), weights 8/9 and 5/9 (Abramowitz & Stegun 25.4.29).
- Any order n: sum w_i x_i^k = Integral_{-1}^{1} x^k dx = (1 - (-1)^(k+1)) / (k + 1) and
  (S x^k)_i = Integral_{-1}^{x_i} x^k dx = (x_i^(k+1) - (-1)^(k+1)) / (k + 1), k < n.

Tolerances: rtol=0, atol=1e-12. The values are of order 1 (some exactly 0, hence an absolute
tolerance); the integration matrix comes from a polynomial fit through the n nodes, accurate to
~1e-14 at n <= 12, so 1e-12 is round-off with margin and far below a 10 % change.
"""
import numpy as np
from numpy.testing import assert_allclose

from montecarlo.lineofsight import integrator


def test_three_point_rule_closed_form():
    x, w, S = integrator.gauss_legendre_panel(3)
    a = np.sqrt(3.0 / 5.0)
    assert_allclose(x, [-a, 0.0, a], rtol=0, atol=1e-12)
    assert_allclose(w, [5 / 9, 8 / 9, 5 / 9], rtol=0, atol=1e-12)
    assert S.shape == (3, 3)


def test_panel_integrates_monomials_exactly():
    for n in sorted({2, 6, integrator.ORDER}):
        x, w, S = integrator.gauss_legendre_panel(n)
        assert x.size == w.size == n and S.shape == (n, n)
        for k in range(n):
            full = (1.0 - (-1.0) ** (k + 1)) / (k + 1)
            assert_allclose(np.sum(w * x ** k), full, rtol=0, atol=1e-12)
            partial = (x ** (k + 1) - (-1.0) ** (k + 1)) / (k + 1)
            assert_allclose(S @ x ** k, partial, rtol=0, atol=1e-12)


def test_module_panel_is_the_default_order():
    x, w, S = integrator.gauss_legendre_panel()
    assert_allclose(integrator._X, x, rtol=0, atol=1e-15)
    assert_allclose(integrator._W, w, rtol=0, atol=1e-15)
    assert_allclose(integrator._S, S, rtol=0, atol=1e-15)


def test_exit_distance_sphere_cylinder_slab():
    o = np.array([8.5, 0.0, 0.0])
    dirs = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    empty = np.zeros(0)
    sphere = integrator.RayGeometry(empty, empty, empty, r_max=20.0)
    assert_allclose(sphere.exit_distance(o, dirs), [28.5, 11.5, np.sqrt(400.0 - 72.25)],
                    rtol=1e-12, atol=0)
    disk = integrator.RayGeometry(empty, empty, empty, R_max=15.0, z_max=2.0)
    dirs = np.vstack([dirs, [0.0, 0.0, 1.0]])
    assert_allclose(disk.exit_distance(o, dirs), [23.5, 6.5, np.sqrt(225.0 - 72.25), 2.0],
                    rtol=1e-12, atol=0)
