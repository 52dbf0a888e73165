"""Galactic geometry: the Sun, (l, b) directions, Galactocentric and local frames."""
import numpy as np

from montecarlo import geometry as g


def test_sun_and_galactic_centre():
    """Sun at (-r_sun, 0, 0); l = 0, b = 0 points to the Galactic centre (x axis, seed 000
    Sec. 2.1): the point 8.5 kpc away from the Sun that way is the origin."""
    assert np.allclose(g.sun_position_kpc(8.5), [-8.5, 0, 0])
    assert np.allclose(g.galactocentric_from_lbd(0, 0, 8.5, 8.5), 0.0, atol=1e-12)
    assert np.allclose(g.direction_from_lb(90, 0), [0, 1, 0], atol=1e-12)
    assert np.allclose(g.direction_from_lb(0, 90), [0, 0, 1], atol=1e-12)


def test_lb_round_trip():
    rng = np.random.default_rng(1)
    l, b = rng.uniform(0, 360, 50), rng.uniform(-89, 89, 50)
    l2, b2 = g.lb_from_direction(g.direction_from_lb(l, b))
    assert np.allclose(l2, l) and np.allclose(b2, b)


def test_local_direction_frame():
    """At (R, 0, z): a photon moving radially outwards has psi = 0, inwards psi = pi, along
    e_phi psi = pi/2 for either sign (mirror symmetry); below the plane mu flips sign."""
    x = np.array([[3.0, 0.0, 0.2], [3.0, 0.0, 0.2], [0.0, 3.0, -0.2], [0.0, 3.0, -0.2]])
    u = np.array([[1.0, 0, 0], [-1.0, 0, 0], [1.0, 0, 0], [0, 0, 1.0]])
    R, z, mu, psi = g.local_direction(x, u)
    assert np.allclose(R, 3.0) and np.allclose(z, 0.2)
    assert np.allclose(psi[:3], [0.0, np.pi, np.pi / 2])
    assert mu[3] == -1.0
    assert np.allclose(g.local_to_cartesian(0.0, np.pi / 2), [0, 1, 0], atol=1e-12)
