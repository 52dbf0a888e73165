"""Galactic geometry: the Sun, (l, b) directions, Galactocentric and local frames."""
import numpy as np
import pytest

from montecarlo import geometry as g


def test_sun_and_galactic_centre():
    """Sun at (-r_sun, 0, 0); l = 0, b = 0 points to the Galactic centre (x axis, [T]
    Sec. 2.1): the point 8.5 kpc away from the Sun that way is the origin."""
    assert np.allclose(g.sun_position_kpc(8.5), [-8.5, 0, 0], rtol=1e-5, atol=0)
    assert np.allclose(g.galactocentric_from_lbd(0, 0, 8.5, 8.5), 0.0, atol=1e-12, rtol=1e-5)
    assert np.allclose(g.direction_from_lb(90, 0), [0, 1, 0], atol=1e-12, rtol=1e-5)
    assert np.allclose(g.direction_from_lb(0, 90), [0, 0, 1], atol=1e-12, rtol=1e-5)


def test_lb_round_trip():
    rng = np.random.default_rng(1)
    l, b = rng.uniform(0, 360, 50), rng.uniform(-89, 89, 50)
    l2, b2 = g.lb_from_direction(g.direction_from_lb(l, b))
    assert np.allclose(l2, l, rtol=1e-5, atol=0) and np.allclose(b2, b, rtol=1e-5, atol=0)


def test_dust_rate_table_symmetries_and_direction(coarse_opacity):
    """The anisotropic dust rate obeys the field's symmetries (mirror y -> -y, z -> -z with the
    direction mirrored, rotation about the z-axis: 1e-6, float32 table) and, at the Sun, a
    gamma ray moving towards the Galactic centre meets the centre's infrared head-on, so it is
    absorbed more than one moving away (docs/physics.md, section 4 convention)."""
    E = [3e14]
    dust = coarse_opacity.dust
    x = np.array([[-6.0, 2.0, 0.05]])
    u = np.array([[0.6, -0.48, 0.64]])
    rate = dust.rate_per_kpc(x, u, E)
    mirror_y = np.array([1.0, -1.0, 1.0])
    mirror_z = np.array([1.0, 1.0, -1.0])
    assert dust.rate_per_kpc(x * mirror_y, u * mirror_y, E) == pytest.approx(rate, rel=1e-6, abs=0)
    assert dust.rate_per_kpc(x * mirror_z, u * mirror_z, E) == pytest.approx(rate, rel=1e-6, abs=0)
    c, s_ = np.cos(1.1), np.sin(1.1)
    rot = np.array([[c, -s_, 0], [s_, c, 0], [0, 0, 1]])
    assert dust.rate_per_kpc(x @ rot.T, u @ rot.T, E) == pytest.approx(rate, rel=1e-6, abs=0)
    sun = g.sun_position_kpc(8.5)[None, :]
    inward = dust.rate_per_kpc(sun, [[1.0, 0, 0]], E)
    outward = dust.rate_per_kpc(sun, [[-1.0, 0, 0]], E)
    assert inward[0, 0] > 1.2 * outward[0, 0]
