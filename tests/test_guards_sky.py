"""Region fluxes of a uniform sphere against closed forms and an independent quadrature, so that
a constant-factor error in :func:`montecarlo.galactic_plane.fits.column_integral` (used by [T]
eq. 10 only as a ratio of two regions, where the factor cancels) or in
:func:`montecarlo.sky.analysis.region_intensity` (the x1.1 mutants of benchmarks/mutants.py)
fails here.

A uniform emissivity q0 inside a sphere of radius a about the Galactic centre, seen from the
Sun at d = 8.5 kpc: along a direction at angle psi from the centre (cos psi = cos b cos l) the
chord is l(psi) = d cos psi + sqrt(a^2 - d^2 sin^2 psi), so the column over a region is
(q0 / 4 pi) Integral dOmega l(psi), and over the whole sky

    Integral dOmega l = 2 pi [a + ((a^2 - d^2) / d) asinh(d / sqrt(a^2 - d^2))].

Box regions: scipy's dblquad of l(psi) cos b over the box (epsrel=1e-10).

Tolerance: rtol=1e-8, atol=0. The code integrates the same smooth chord with Gauss-Legendre
panels (it agrees to ~3e-15 here, the chord being analytic inside each panel); 1e-8 leaves
room for round-off and dblquad's 1e-10 and is far below a 10 % change.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate

from montecarlo.galactic_plane.fits import column_integral
from montecarlo.sky import analysis
from transport import SphericalEmission
from transport.core.constants import KPC_CM

Q0, A_KPC, D_KPC = 1e-25, 20.0, 8.5
RTOL = 1e-8


def _sphere():
    E = np.geomspace(1e12, 1e15, 4)
    return SphericalEmission(np.array([0.5, A_KPC]), E, np.full((E.size, 2), Q0))


def _chord_kpc(l_deg, b_deg):
    c = np.cos(np.radians(b_deg)) * np.cos(np.radians(l_deg))
    return D_KPC * c + np.sqrt(A_KPC ** 2 - D_KPC ** 2 * (1.0 - c * c))


def test_all_sky_column_closed_form():
    em = _sphere()
    b2 = A_KPC ** 2 - D_KPC ** 2
    omega_l = 2 * np.pi * (A_KPC + b2 / D_KPC * np.arcsinh(D_KPC / np.sqrt(b2)))
    expected = Q0 * KPC_CM / (4 * np.pi) * omega_l
    E = em.E_eV[1:3]
    assert_allclose(column_integral(em, E, "all_sky"), np.full(E.size, expected),
                    rtol=RTOL, atol=0)
    assert_allclose(analysis.region_intensity(em, E, "all_sky", ()),
                    np.full(E.size, expected / (4 * np.pi)), rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", ["tibet_A", "tibet_B", "galactic_plane"])
def test_box_region_column_against_dblquad(name):
    em = _sphere()
    r = analysis.REGIONS[name]
    val, _ = integrate.dblquad(lambda b, l: _chord_kpc(l, b) * np.cos(np.radians(b)),
                               r.l_min_deg, r.l_min_deg + r.l_width_deg, r.b_min_deg, r.b_max_deg,
                               epsabs=0, epsrel=1e-10)
    expected = Q0 * KPC_CM / (4 * np.pi) * val * np.radians(1.0) ** 2
    E = em.E_eV[1:2]
    assert_allclose(column_integral(em, E, name), [expected], rtol=RTOL, atol=0)
    assert_allclose(analysis.region_intensity(em, E, name, ()), [expected / r.solid_angle_sr],
                    rtol=RTOL, atol=0)


def test_make_sky_maps_of_uniform_spheres_per_model_and_particle():
    """make_sky over sky.models x sky.particles: every component's map, pixel by pixel, is
    q0 l(psi) / 4 pi of its own emission (chord of the module docstring, psi from the pixel
    centre; a different q0 per particle, so that components cannot be swapped), for every map
    energy, unattenuated (sky.attenuate = false). rtol=1e-8, atol=0 as above (measured:
    3e-15)."""
    import healpy as hp
    import transport
    from montecarlo.sky.maps import make_sky
    cfg = transport.load_config({"sky.nside": 8, "sky.E_per_decade": 1, "sky.E_min_eV": 1e12,
                                 "sky.E_max_eV": 1e13, "sky.attenuate": False,
                                 "sky.models": ["corona"], "sky.particles": ["gamma", "nu"],
                                 "sky.regions": ["tibet_A"]})
    E = np.array([1e11, 1e14])
    q0 = {"gamma": 1.0, "nu": 3.0}
    ems = {p: SphericalEmission(np.array([1e-3, A_KPC]), E, np.full((2, 2), q)) for p, q in q0.items()}
    products = make_sky(cfg, {"corona": ems})
    assert_allclose(products.E_eV, [1e12, 1e13], rtol=1e-12, atol=0)
    assert set(products.components) == {("corona", "gamma"), ("corona", "nu")}
    theta, phi = hp.pix2ang(8, np.arange(hp.nside2npix(8)))
    chord = _chord_kpc(np.degrees(phi), 90.0 - np.degrees(theta))
    for (model, particle), c in products.components.items():
        expected = q0[particle] * KPC_CM / (4 * np.pi) * chord
        assert_allclose(c.maps, np.broadcast_to(expected, c.maps.shape), rtol=RTOL, atol=0)
