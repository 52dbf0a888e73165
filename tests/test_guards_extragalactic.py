"""The cosmological sum (montecarlo.cascade.cosmology, montecarlo.cascade.extragalactic) against
independent values: closed forms of a flat Lambda-CDM H(z), the Madau & Dickinson (2014) eq. 15
and eq. 2 integrals done by scipy's adaptive quadrature, and a uniform sphere whose line-of-sight
integral and emission rate are elementary. Every quantity is compared with a tolerance far below
the 10 % of the x1.1 mutants of benchmarks/mutants.py.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import quad

from montecarlo.cascade import cosmology as cosmo
from montecarlo.cascade import extragalactic as eg
from transport.emission.tables import SphericalEmission

C_CM_S = 2.99792458e10
MPC_CM = 3.0856775814913673e24
KPC_CM = MPC_CM / 1e3
H0_SEED_S = 70.0e5 / MPC_CM               # 70 km/s/Mpc


def _H_seed(z):
    """Flat H0 = 70, Omega_m = 0.3, no radiation ([C]'s cosmology) [s^-1]."""
    return H0_SEED_S * np.sqrt(0.3 * (1.0 + z) ** 3 + 0.7)


def _psi(z):
    """Madau & Dickinson (2014) eq. 15 [M_sun yr^-1 Mpc^-3], typed in from the paper."""
    return 0.015 * (1.0 + z) ** 2.7 / (1.0 + ((1.0 + z) / 2.9) ** 5.6)


def _rho_star_salpeter(z):
    """Madau & Dickinson (2014) eq. 2 with R = 0.27, by adaptive quadrature [M_sun Mpc^-3]."""
    yr_s = 3.15576e7
    f = lambda zz: _psi(zz) / ((1.0 + zz) * _H_seed(zz) * yr_s)
    return 0.73 * (quad(f, z, 10.0, epsrel=1e-11, limit=400)[0]
                   + quad(f, 10.0, 1e3, epsrel=1e-11, limit=400)[0])


def test_hubble_closed_form():
    """H(z), c/H0 and c dt/dz of the seed cosmology against the closed form; rtol=1e-9, atol=0:
    the same formula evaluated through astropy (float round-off and the Mpc constant only)."""
    z = np.array([0.0, 0.5, 2.0, 3.9])
    assert_allclose(cosmo.hubble_per_s(z, "seed"), _H_seed(z), rtol=1e-9, atol=0)
    assert_allclose(cosmo.hubble_length_cm("seed"), C_CM_S / H0_SEED_S, rtol=1e-9, atol=0)
    assert_allclose(cosmo.dl_dz_cm(z, "seed"), C_CM_S / ((1.0 + z) * _H_seed(z)),
                    rtol=1e-9, atol=0)


def test_sfr_density_madau_dickinson_eq15():
    """psi(z) against eq. 15 typed in here; rtol=1e-12, atol=0 (round-off)."""
    z = np.array([0.0, 1.0, 1.86, 4.0])
    assert_allclose(cosmo.sfr_density(z), _psi(z), rtol=1e-12, atol=0)


def test_rho_star_and_galaxy_density_by_quadrature():
    """rho*(z) (eq. 2, Salpeter and the 0.61 Chabrier factor) and n_gal = rho*/M*_MW against
    scipy's quad of eq. 15. rtol=2e-4, atol=0: the module interpolates linearly on a z table
    of step 0.01 (error ~ (dz)^2 rho''/8 < 1e-4 relative at these z) - far below 10 %."""
    z = np.array([0.0, 1.0, 3.0])
    ref = np.array([_rho_star_salpeter(x) for x in z])
    assert_allclose(cosmo.rho_star_msun_mpc3(z, "seed", "salpeter"), ref, rtol=2e-4, atol=0)
    assert_allclose(cosmo.rho_star_msun_mpc3(z, "seed", "chabrier"), 0.61 * ref,
                    rtol=2e-4, atol=0)
    n_ref = 0.61 * ref / 6.43e10 / MPC_CM ** 3
    assert_allclose(cosmo.galaxy_density_per_cm3(z, "seed"), n_ref, rtol=2e-4, atol=0)
    assert_allclose(eg.Universe(cosmology="seed").n_gal_cm3(z), n_ref, rtol=2e-4, atol=0)


def test_z_quadrature_integrates_polynomials_exactly():
    """Composite Gauss-Legendre (8 nodes a segment) integrates z^k, k <= 15, exactly on
    [0, z_max]; rtol=1e-12, atol=0 (round-off). Scaled nodes or weights fail by >= 10 %."""
    z, w = eg.Universe(z_max=3.9).z_quadrature()
    for k in (0, 1, 3, 7):
        assert_allclose(np.sum(w * z ** k), 3.9 ** (k + 1) / (k + 1), rtol=1e-12, atol=0)


def _L_power_law(alpha=2.2):
    E = np.geomspace(1e9, 1e18, 91)
    return E, 1e40 * (E / 1e12) ** -alpha


def test_emission_rate_interpolates_a_power_law():
    """EmissionRate (and from_emission) is exact on a power law (linear in ln E, ln L);
    rtol=1e-10, atol=0 (round-off of exp/log); zero outside the table."""
    E, L = _L_power_law()

    class Table:
        E_eV = E

        def total_rate(self):
            return L

    for rate in (eg.EmissionRate(E, L), eg.EmissionRate.from_emission(Table())):
        x = np.array([3.3e10, 1e12, 7.7e15])
        assert_allclose(rate(x), 1e40 * (x / 1e12) ** -2.2, rtol=1e-10, atol=0)
        assert rate(1e19) == 0.0


@pytest.mark.parametrize("tau", [None, "grey"])
def test_direct_intensity_and_I_z_by_quadrature(tau):
    """Eq. (1) for L = L0 (E/E1)^-alpha and tau = 0 or tau = 0.5 z (grey), against scipy's quad of
    (c/4pi) Integral n_gal(z) L((1+z) E0) e^-tau / H(z) dz with n_gal from eq. 2 done here;
    I_z against the same integral without L. rtol=3e-4, atol=0: the module's rho* table
    interpolation (2e-4, test above) plus quadrature error < 1e-8."""
    alpha, E0 = 2.2, np.array([1e12, 1e14])
    E, L = _L_power_law(alpha)
    uni = eg.Universe(cosmology="seed", imf="salpeter", z_max=3.9)
    z_nodes = np.linspace(0.0, 3.9, 79)
    rho_nodes = np.array([_rho_star_salpeter(x) for x in z_nodes])
    rho = lambda zz: np.interp(zz, z_nodes, rho_nodes)          # eq. 2 on 79 nodes
    # (a helper for speed, checked against quad at a midpoint)
    assert_allclose(rho(1.95), _rho_star_salpeter(1.95), rtol=2e-4, atol=0)
    grey = (lambda e, z: 0.5 * z + 0.0 * e) if tau == "grey" else None
    ref = []
    for e0 in E0:
        f = lambda zz: (rho(zz) / 6.43e10 / MPC_CM ** 3 * 1e40 * ((1 + zz) * e0 / 1e12) ** -alpha
                        * (np.exp(-0.5 * zz) if grey else 1.0) / _H_seed(zz))
        ref.append(C_CM_S / (4 * np.pi) * quad(f, 0.0, 3.9, epsrel=1e-10, limit=200)[0])
    got = eg.direct_intensity(E0, eg.EmissionRate(E, L), uni, tau=grey)
    assert_allclose(got, ref, rtol=1e-3, atol=0)
    if tau is None:
        Iz = quad(lambda zz: rho(zz) * (1 + zz) ** -alpha / _H_seed(zz), 0.0, 3.9,
                  epsrel=1e-8, limit=200)[0]
        assert_allclose(eg.I_z_power_law(alpha, uni), Iz, rtol=1e-3, atol=0)


def _uniform_sphere(q0=1e-25, R_kpc=20.0):
    E = np.geomspace(1e12, 1e15, 4)
    return SphericalEmission(np.array([0.5, R_kpc]), E, np.full((E.size, 2), q0))


def test_anticentre_intensity_and_xi_of_a_uniform_sphere():
    """A uniform sphere q0 of radius R seen from r_sun towards the anticentre:
    I = q0 (R - r_sun) / 4 pi, and L = q0 4/3 pi R^3; xi = I / eq. (1) with that L.
    rtol=1e-3, atol=0: the line-of-sight quadrature across the sphere's edge (converged to
    better than 1e-4 in tests/test_lineofsight.py) - far below 10 %."""
    q0, R = 1e-25, 20.0
    em = _uniform_sphere(q0, R)
    E = em.E_eV[1:3]
    I_ref = q0 * (R - 8.5) * KPC_CM / (4 * np.pi)
    assert_allclose(eg.anticentre_intensity(em, E), np.full(E.size, I_ref), rtol=1e-3, atol=0)
    L_ref = q0 * 4.0 / 3.0 * np.pi * (R * KPC_CM) ** 3
    assert_allclose(em.total_rate(), np.full(em.E_eV.size, L_ref), rtol=1e-3, atol=0)
    uni = eg.Universe(cosmology="seed")
    I_eg = eg.direct_intensity(E, eg.EmissionRate(em.E_eV, np.full(em.E_eV.size, L_ref)), uni)
    assert_allclose(eg.xi(em, E, uni), I_ref / I_eg, rtol=2e-3, atol=0)
