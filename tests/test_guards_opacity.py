"""Opacity-table building blocks against closed forms, so that a constant-factor error in the
functions of montecarlo.opacity that the physics tests pass over (the x1.1 mutants of
benchmarks/mutants.py) fails here.

- energy_grid: log-spaced from lo to hi, both included (per_decade per decade);
- direction_weights: the interpolation data of the anisotropic rate (module docstring of
  montecarlo.opacity.ratetables, eq. 1): for a gamma ray along u and a target direction k,
  E_j (1 - u.k) sits at ln y = ln E0 + ln(1 - u.k) (+ j ratio dly), i.e. at index
  t = (ln(1 - u.k) + ln E0 - ln y0) / dly of the ln y grid, split into floor(t) and t -
  floor(t); the weight is w_k (1 - u.k), zero for k = u.

Tolerance: rtol=1e-12, atol=0 (a few operations of round-off), far below a 10 % change; the
index itself exactly.
"""
import numpy as np
from numpy.testing import assert_allclose

from montecarlo.opacity import ratetables as rt


def test_energy_grid_spans_lo_to_hi_log_spaced():
    E = rt.energy_grid(32)
    assert_allclose(E[[0, -1]], [rt.E_MIN_EV, rt.E_MAX_EV], rtol=1e-12, atol=0)
    n = int(round(np.log10(rt.E_MAX_EV / rt.E_MIN_EV) * 32)) + 1
    assert E.size == n
    assert_allclose(np.diff(np.log(E)), np.log(10.0) / 32, rtol=1e-9, atol=0)
    assert_allclose(rt.energy_grid(4, 1e12, 1e14), np.geomspace(1e12, 1e14, 9), rtol=1e-12, atol=0)


def test_direction_weights_closed_form():
    u = np.array([[1.0, 0.0, 0.0], [0.0, 0.6, 0.8]])
    k = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.0, -0.8]])
    w = np.array([0.5, 1.5, 2.0, 0.25])
    E0, lny0, dly = 1e13, np.log(1e9), 0.05
    fl, frac, coef = rt.direction_weights(u, k, w, E0, lny0, dly)
    one_minus = 1.0 - u @ k.T
    live = one_minus > 0
    t = (np.log(np.where(live, one_minus, 1.0)) + np.log(E0) - lny0) / dly
    assert np.array_equal(fl[live], np.floor(t[live]).astype(np.int64))
    assert_allclose(frac[live], (t - np.floor(t))[live], rtol=1e-12, atol=0)
    assert_allclose(coef, np.where(live, w[None, :] * one_minus, 0.0), rtol=1e-12, atol=0)
    assert not live[0, 0] and coef[0, 0] == 0.0 and frac[0, 0] == 0.0


def test_optical_depth_galactic_in_the_cmb_is_rate_times_distance():
    """The CMB fills the Galaxy uniformly and isotropically: along any path tau = d / lambda,
    with 1/lambda of the CMB rate table (the functional interface against the isotropic rate
    of the same opacity). rtol=1e-9, atol=0: the path quadrature of a constant is exact up to
    round-off."""
    from montecarlo.opacity.api import opacity_for, optical_depth_galactic
    from transport.core.constants import KPC_CM
    E = np.array([3e14, 2e15, 1e17])
    d = np.array([0.5, 8.5, 20.0])
    tau = optical_depth_galactic(E, 30.0, -10.0, d, ("cmb",))
    rate = opacity_for(None).rate_isotropic_per_cm(E, ("cmb",))
    assert np.all(rate > 0)
    assert_allclose(tau, d[:, None] * KPC_CM * rate[None, :], rtol=1e-9, atol=0)


def test_dust_table_built_afresh_against_the_direct_rate(tmp_path):
    """The CI-size ("coarse") dust table built afresh (an empty cache directory, so that
    build_dust_arrays and dust_table run here) against eq. (1) computed without tables at the
    Sun towards the Galactic centre (brute-force line of sight, direct angular and energy
    quadrature), as tests/test_dust.py does with the session's table: each carries ~1 %
    discretisation error, so rtol=0.03, atol=0, below a 10 % change."""
    import transport
    from montecarlo.fields import dust
    from montecarlo.geometry import direction_from_lb, sun_position_kpc
    from transport.core.constants import KPC_CM
    cfg = transport.load_config({"opacity.grid": "coarse", "opacity.cache_dir": str(tmp_path)})
    table = rt.dust_table(cfg)
    assert any(f.is_file() for f in tmp_path.rglob("*")), "the table was not built here"
    model = dust.DustModel.from_config(cfg)
    x, u = sun_position_kpc(8.5), direction_from_lb(0.0, 0.0)
    E = np.array([1e14, 5e14])
    direct = rt.dust_rate_direct_per_cm(model, x, u, E, n_mu=32, n_phi=24, n_eps=100,
                                        n_steps=400) * KPC_CM
    assert_allclose(table.rate_per_kpc(x, u, E, "anisotropic")[0], direct, rtol=0.03, atol=0)
