"""Photon fields (montecarlo.fields) against closed forms and independent quadratures, so that
a constant-factor error in the dust emissivity or the CMB functions (the x1.1 mutants of
benchmarks/mutants.py) fails here.

Dust emissivity:
[T, eqs. A3-A6]: eta_eps = rho kappa B_eps(T) with the black body per unit energy
B_eps = 2 eps^3 / (h^3 c^2) / (exp(eps / kT) - 1), and the photon density added per unit path
dn/(d eps dOmega ds) = eta_eps / (c eps) = rho kappa 2 eps^2 / (h^3 c^3 (exp(eps / kT) - 1)),
here per eV (one factor EV_ERG for d eps). The code goes through B_lambda and lambda / eps^2
instead (:func:`montecarlo.fields.dust.photon_density_per_column`).

Tolerance: rtol=1e-8, atol=0. Both sides are the same closed form evaluated by different
operations; they differ by round-off and by h c / e (HC_EV_CM, 10 digits, in the code's
wavelength) against h, c and e (exact SI values, in this test), i.e. ~1e-10 relative in
eps / kT <= 60, ~1e-9 in the exponential: 1e-8 bounds that and is far below a 10 % change.

Tabulated field: the rate integral's energy grid spans exactly the table, 48 nodes per decade
(1e-2 to 1 eV: 97 nodes) - rtol=1e-12, atol=0.

CMB ([T] eq. A1): T(z) = T0 (1 + z); dn/d eps integrated by scipy's quad against
16 pi zeta(3) (kT / hc)^3 (Fixsen 2009: 410.7 cm^-3 at 2.7255 K) - rtol=1e-8, atol=0 (quad's
requested accuracy 1e-11); the black body's peak of eps^2 / (e^x - 1) at x = 2 + W(-2 e^-2)
= 1.5936 (from d/dx = 0), and the grid's ends 1e-4 kT and 50 kT - rtol=1e-12, atol=0
(round-off).
"""
import numpy as np
from numpy.testing import assert_allclose
from scipy import integrate, special

import transport
from montecarlo.fields import cmb, dust
from transport.core.constants import C_CM_S, EV_ERG, H_ERG_S, HC_EV_CM, K_B_ERG_K, K_B_EV_K


def test_dust_emissivity_is_rho_kappa_black_body_in_photons():
    model = dust.DustModel.from_config(transport.load_config())
    assert len(model.components) == 2                      # cold and warm dust [T, eq. A5]
    eps_eV = np.geomspace(2e-3, 0.1, 7)                     # 620 to 12 micron
    x_kpc = np.array([[5.0, 3.0, 0.05], [-2.0, 0.5, -0.2]])
    got = model.emissivity(eps_eV, x_kpc)
    assert got.shape == (2, eps_eV.size)

    kappa = dust.kappa_cm2_g(HC_EV_CM / eps_eV * 1e4, model.kappa_file)   # cm^2 / g
    eps_erg = eps_eV * EV_ERG
    expected = np.zeros_like(got)
    for p, (x, y, z) in enumerate(x_kpc):
        R = np.hypot(x, y)
        for c in model.components:
            rho = c.rho0_g_cm3 * np.exp(-R / c.r_kpc - abs(z) / c.z_kpc)
            T = c.T_sun_K * np.exp(-(R - model.r_sun_kpc) / model.T_scale_kpc)
            n = 2.0 * eps_erg ** 2 / (H_ERG_S ** 3 * C_CM_S ** 3
                                      * np.expm1(eps_erg / (K_B_ERG_K * T)))
            expected[p] += rho * kappa * n * EV_ERG
    assert np.all(expected > 0)
    assert_allclose(got, expected, rtol=1e-8, atol=0)


def test_cmb_temperature_density_and_grid():
    assert_allclose(cmb.temperature_K([0.0, 1.0, 3.0], 2.7255), [2.7255, 5.451, 10.902],
                    rtol=1e-12, atol=0)
    T = 2.7255
    kT = K_B_EV_K * T
    total, _ = integrate.quad(lambda e: float(cmb.dn_deps(e, T)), 0.0, 60 * kT,
                              epsabs=0, epsrel=1e-11, limit=200)
    n = 16.0 * np.pi * special.zeta(3.0) * (kT / HC_EV_CM) ** 3
    assert_allclose(total, n, rtol=1e-8, atol=0)
    assert_allclose(cmb.number_density_cm3(T), n, rtol=1e-12, atol=0)
    assert_allclose(n, 410.7, rtol=1e-3, atol=0)              # Fixsen 2009
    # the absolute scale of dn/d eps at its maximum, x = 2 + W0(-2 e^-2)
    x_peak = 2.0 + special.lambertw(-2.0 * np.exp(-2.0)).real
    peak = 8.0 * np.pi * (x_peak * kT) ** 2 / HC_EV_CM ** 3 / np.expm1(x_peak)
    assert_allclose(cmb.dn_deps(x_peak * kT, T), peak, rtol=1e-12, atol=0)
    grid = cmb.energy_grid_eV(T)
    assert_allclose([grid[0], grid[-1]], [1e-4 * kT, 50.0 * kT], rtol=1e-12, atol=0)


def test_tabulated_field_fine_grid_spans_the_table():
    from pathlib import Path

    from montecarlo.fields.tabulated import TabulatedField
    eps = np.array([1e-2, 0.1, 1.0])
    field = TabulatedField(Path("table.txt"), eps, np.array([0.0]), np.ones((3, 1)))
    grid = field.fine_energy_grid()
    assert grid.size == 97
    assert_allclose(grid[[0, 48, -1]], [1e-2, 0.1, 1.0], rtol=1e-12, atol=0)
