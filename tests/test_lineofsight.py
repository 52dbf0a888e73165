"""Line-of-sight intensities against closed forms (issue 5 validation)."""
import healpy as hp
import numpy as np
import pytest

import montecarlo
from montecarlo.lineofsight import integrate_rays, observer_position, sky_directions
from montecarlo.sky import all_sky_average, contrast, dipole, pixel_directions
from transport import AxisymmetricEmission, SphericalEmission
from transport.constants import KPC_CM

R_SUN = 8.5
E = np.array([1e12, 1e15])


def uniform_sphere(radius_kpc, q0=1.0):
    """q0 [cm^-3 s^-1 eV^-1] for r < radius (the table's first-node value holds inside r_0)."""
    return SphericalEmission([1e-3, radius_kpc], E, np.full((E.size, 2), q0))


def chord(dirs, radius_kpc, r_sun=R_SUN):
    o = observer_position(r_sun)
    b = dirs @ o
    return -b + np.sqrt(b * b - (o @ o - radius_kpc ** 2))


@pytest.mark.parametrize("radius", [20.0, 250.0])
def test_uniform_sphere_is_q_times_chord_over_4pi(radius):
    """Exact: I(n) = q L(n) / (4 pi). The integrand is constant, so the quadrature is exact to
    round-off (1e-12)."""
    l_deg, b_deg = pixel_directions(16)
    I = montecarlo.intensity(uniform_sphere(radius), E, l_deg, b_deg, fields=())
    want = chord(sky_directions(l_deg, b_deg), radius) * KPC_CM / (4 * np.pi)
    assert np.allclose(I, want[None, :], rtol=1e-12)


def test_sphere_all_sky_average_and_dipole_in_closed_form():
    """Observer at d inside a uniform sphere of radius R:
    <L> = R/2 + (R^2 - d^2)/(4 d) ln((R + d)/(R - d)); contrast (I_max - I_min)/(I_max + I_min) = d/R
    (along and against the centre); dipole |d_vec| = d q / 4pi towards the centre, so A = d / <L>.
    Tolerances: pixel quadrature at nside 64 (5e-4) and pixel centres missing the exact extremes
    of the contrast (1e-3)."""
    R, d = 20.0, R_SUN
    I = montecarlo.intensity(uniform_sphere(R), 1e12, *pixel_directions(64), fields=())
    mean_L = R / 2 + (R ** 2 - d ** 2) / (4 * d) * np.log((R + d) / (R - d))
    assert all_sky_average(I) == pytest.approx(mean_L * KPC_CM / (4 * np.pi), rel=5e-4)
    assert contrast(I) == pytest.approx(d / R, rel=1e-3)
    amplitude, l_deg, b_deg = dipole(I)
    assert amplitude == pytest.approx(d / mean_L, rel=5e-4)
    assert (l_deg, b_deg) == pytest.approx((0.0, 0.0), abs=0.1)        # towards the centre


def test_thin_uniform_disk():
    """Uniform slab |z| < h inside R < R_d, Sun in the mid-plane: L = min(plane exit, cylinder
    exit); exact to round-off away from the grazing b = 0 rays (constant integrand)."""
    R_d, h = 15.0, 0.2
    disk = AxisymmetricEmission([0.0, R_d], [0.0, h], E, np.ones((E.size, 2, 2)))
    l_deg, b_deg = pixel_directions(16)
    dirs = sky_directions(l_deg, b_deg)
    o = observer_position(R_SUN)
    a2 = dirs[:, 0] ** 2 + dirs[:, 1] ** 2
    bc = dirs[:, :2] @ o[:2]
    cyl = (-bc + np.sqrt(bc ** 2 - a2 * (o[:2] @ o[:2] - R_d ** 2))) / a2
    with np.errstate(divide="ignore"):
        plane = np.where(dirs[:, 2] != 0, h / np.abs(dirs[:, 2]), np.inf)
    want = np.minimum(cyl, plane) * KPC_CM / (4 * np.pi)
    I = montecarlo.intensity(disk, 1e12, l_deg, b_deg, fields=())
    assert np.allclose(I, want, rtol=1e-10)


def test_uniform_absorber_in_the_cmb():
    """Uniform absorber (the CMB is uniform in the Galaxy): I = q lambda (1 - exp(-L/lambda)) / 4pi
    with lambda the CMB mean free path. Tolerance 1e-6: constant integrand and rate; the
    spectral tau integration is exact for them."""
    energies = np.array([3e14, 2e15, 1e16])
    em = SphericalEmission([1e-3, 40.0], energies, np.ones((3, 2)))
    l_deg, b_deg = pixel_directions(8)
    lam = montecarlo.mean_free_path_kpc(energies, fields=("cmb",))
    L = chord(sky_directions(l_deg, b_deg), 40.0)
    want = lam[:, None] * (1 - np.exp(-L[None, :] / lam[:, None])) * KPC_CM / (4 * np.pi)
    I = montecarlo.intensity(em, energies, l_deg, b_deg, fields=("cmb",))
    assert np.allclose(I, want, rtol=1e-6)
    assert np.all(lam < 40.0)          # the test is in the absorbing regime


def test_neutrinos_are_never_attenuated():
    em = SphericalEmission([1e-3, 40.0], [1e15, 2e15], np.ones((2, 2)), attrs={"particle": "nu"})
    a = montecarlo.intensity(em, 1e15, [0.0], [0.0], fields=("cmb", "dust"))
    b = montecarlo.intensity(em, 1e15, [0.0], [0.0], fields=())
    assert a == pytest.approx(b)


def test_shapes_and_bad_input():
    em = uniform_sphere(20.0)
    assert montecarlo.intensity(em, 1e12, 10.0, 5.0, fields=()).shape == ()
    assert montecarlo.intensity(em, E, [10.0, 20.0, 30.0], [0, 1, 2], fields=()).shape == (2, 3)
    with pytest.raises(ValueError, match="b_deg"):
        montecarlo.intensity(em, 1e12, [0.0], [95.0], fields=())
    with pytest.raises(ValueError, match="shape"):
        montecarlo.intensity(em, 1e12, [0.0, 1.0], [0.0], fields=())
