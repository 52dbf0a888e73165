"""Breit-Wheeler cross-section, the isotropic kernel, the direction convention and the CMB."""
import numpy as np
import pytest
from scipy import optimize

import montecarlo as mc
from montecarlo.opacity import breit_wheeler as pp
from montecarlo.opacity import ratetables as rt
from montecarlo.fields import cmb
from transport.core.constants import K_B_EV_K, KPC_CM, M_E_EV, SIGMA_T_CM2


# --------------------------------------------------------------------------- cross-section
def test_threshold_is_2_me_c2():
    """sigma = 0 at and below s = 4 m^2; just above it sigma ~ (3/8) sigma_T sqrt(x - 1)
    (threshold expansion, exact to O(x - 1)); tolerance 1e-3 covers the next order at 1e-6."""
    s_th = 4.0 * M_E_EV ** 2
    assert pp.sigma_gg_cm2(np.array([0.5 * s_th, s_th]))[...].tolist() == [0.0, 0.0]
    x = 1.0 + 1e-6
    assert pp.sigma_hat(np.array([x]))[0] == pytest.approx(0.375 * np.sqrt(x - 1.0), rel=1e-3, abs=0)


def test_peak_value_and_position():
    """Known maximum of Breit-Wheeler: 0.2556 sigma_T (1.70e-25 cm^2) at s = 7.87 m^2 c^4
    (x = s/4m^2 = 1.968); located on a dense grid, so 1e-3 relative in x, 1e-4 in value."""
    x = np.geomspace(1.5, 3.0, 200001)
    s = pp.sigma_hat(x)
    i = s.argmax()
    assert s[i] == pytest.approx(0.25564, rel=1e-4, abs=0)
    assert x[i] == pytest.approx(1.968, rel=1e-3, abs=0)
    assert s[i] * SIGMA_T_CM2 == pytest.approx(1.70e-25, rel=3e-3, abs=0)


@pytest.mark.parametrize("x, tol", [(1e3, 2e-3), (1e6, 2e-6), (1e12, 1e-9), (1e18, 1e-9)])
def test_high_energy_limit(x, tol):
    """sigma -> (3/8) sigma_T (ln 4x - 1)/x; corrections are O(ln x / x), hence the tolerances;
    also checks that 1 - b^2 does not cancel at x = 1e18."""
    assert pp.sigma_hat(np.array([x]))[0] / pp.sigma_hat_high_energy(x) == pytest.approx(1.0, abs=tol, rel=0)


# --------------------------------------------------------------------------- isotropic kernel
@pytest.mark.parametrize("w", [1.0 + 1e-7, 1.001, 1.3, 2.0, 5.0, 30.0, 1e3, 1e6, 1e10, 1e15])
def test_gould_schreder_kernel_table_against_quadrature(w):
    """Tabulated g(w) (100 nodes per decade, ln-linear interpolation) against adaptive
    quadrature of its definition: interpolation error bound 3e-5."""
    assert pp.gs_kernel(np.array([w]))[0] == pytest.approx(pp.gs_kernel_direct(w)[0], rel=3e-5, abs=0)


def test_gould_schreder_kernel_against_biteau_williams():
    """Independent closed form (Biteau & Williams 2015 eq. 7, as ebltable's p_kernel):
    g(w) = (3/4) P(1 - 1/w) / w^2. Their form loses precision above w ~ 1e7 (cancellation),
    so the comparison stops there; agreement to the table's 3e-5."""
    from ebltable.ebl_from_model import p_kernel
    w = np.geomspace(1.001, 1e6, 60)
    ref = 0.75 * p_kernel(1.0 - 1.0 / w) / w ** 2
    assert np.allclose(pp.gs_kernel(w), ref, rtol=3e-5, atol=0)


def _cmb_rate_2d(E, T=cmb.T0_K):
    """Independent brute force of eq. (1) for the CMB: a 2-D Gauss-Legendre integral over the
    target energy (composite, 48 panels in ln eps) and the angle (t = 1 - u.k, substituted
    t = t_min + (2 - t_min) v^2 to smooth the threshold), with sigma evaluated directly."""
    kT = K_B_EV_K * T
    lo = max(M_E_EV ** 2 / E, 1e-4 * kT)
    edges = np.linspace(np.log(lo), np.log(60 * kT), 49)
    ge, we = np.polynomial.legendre.leggauss(16)
    gv, wv = np.polynomial.legendre.leggauss(64)
    h = np.diff(edges)[:, None]
    ln_eps = (0.5 * (edges[:-1, None] + edges[1:, None]) + 0.5 * h * ge).ravel()
    w_eps = (0.5 * h * we).ravel()
    eps = np.exp(ln_eps)
    t_min = np.minimum(2.0 * M_E_EV ** 2 / (E * eps), 2.0)
    v = 0.5 * (gv + 1.0)
    t = t_min[:, None] + (2.0 - t_min[:, None]) * v[None, :] ** 2
    jac = (2.0 - t_min[:, None]) * 2.0 * v[None, :] * 0.5 * wv[None, :]
    inner = 0.5 * np.sum(t * pp.sigma_gg_cm2(2.0 * E * eps[:, None] * t) * jac, axis=1)
    return np.sum(w_eps * eps * cmb.dn_deps(eps, T) * inner)


def test_isotropic_rate_against_2d_brute_force():
    """The Gould & Schreder single integral equals the 2-D (energy, angle) integral of eq. (1)
    for a black body. Both quadratures are converged to < 1e-6; the single integral uses the
    tabulated kernel g(w), interpolated to < 3e-5 (measured 0.6-2.4e-5), so 3e-5 is the
    tolerance. Energies from 5e13 eV, where the threshold lies deep in the Wien tail: a fixed
    64-per-decade eps grid was off there by 0.1-0.9 % (fixed by the threshold-adapted
    quadrature of cmb_rate_direct_per_cm)."""
    E = np.array([5e13, 1e14, 1.5e14, 2e14, 3e14, 1e15, 2.2e15, 1e16, 1e18])
    ours = rt.cmb_rate_direct_per_cm(E, cmb.T0_K)
    ref = np.array([_cmb_rate_2d(e) for e in E])
    assert np.allclose(ours, ref, rtol=3e-5, atol=0)


def test_cmb_minimum_mean_free_path_against_brute_force():
    """lambda_min of the CMB and the energy where it occurs, from the public API (cached
    table + interpolation) against the 2-D brute force, both minimised in ln E; required
    < 0.5 % (measured ~2e-5 in lambda, ~4e-4 in E, where the minimum is very flat). Also the
    published value: 7.07 kpc at 2.2 PeV (Vernetto & Lipari 2016, T = 2.725 K)."""
    opts = {"xatol": 1e-5}
    bounds = (np.log(1e15), np.log(5e15))
    ref = optimize.minimize_scalar(lambda x: -_cmb_rate_2d(np.exp(x)), bounds=bounds,
                                   method="bounded", options=opts)
    ours = optimize.minimize_scalar(lambda x: float(mc.mean_free_path_kpc(np.exp(x))),
                                    bounds=bounds, method="bounded", options=opts)
    lam_ref = 1.0 / (-ref.fun) / KPC_CM
    assert ours.fun == pytest.approx(lam_ref, rel=5e-3, abs=0)
    assert np.exp(ours.x) == pytest.approx(np.exp(ref.x), rel=5e-3, abs=0)
    assert ours.fun == pytest.approx(7.07, abs=0.01, rel=0)
    assert np.exp(ours.x) == pytest.approx(2.2e15, rel=0.01, abs=0)


def test_cmb_photon_number_density():
    """16 pi zeta(3) (kT/hc)^3 = 410.7 cm^-3 at 2.7255 K; the spectrum integrates to it."""
    assert cmb.number_density_cm3(2.7255) == pytest.approx(410.7, abs=0.05, rel=0)
    eps = cmb.energy_grid_eV(2.7255)
    assert np.trapezoid(cmb.dn_deps(eps, 2.7255), eps) == pytest.approx(410.7, rel=1e-3, abs=0)


@pytest.mark.parametrize("z", [0.1, 1.0, 3.0])
def test_cmb_redshift_scaling(z):
    """lambda^-1(E, z) = (1+z)^3 lambda^-1(E(1+z), 0): two independent integrations over
    different black bodies (T0 (1+z) at E, T0 at E (1+z)) agree to the quadrature accuracy
    (1e-6); the public API (table at T0 with the scaling) agrees to its interpolation (1e-4)."""
    E = np.geomspace(1e13, 1e17, 9)
    lhs = rt.cmb_rate_direct_per_cm(E, cmb.temperature_K(z))
    rhs = (1 + z) ** 3 * rt.cmb_rate_direct_per_cm(E * (1 + z), cmb.T0_K)
    assert np.allclose(lhs, rhs, rtol=1e-6, atol=0)
    api = 1.0 / (mc.mean_free_path_kpc(E, ("cmb",), z=z) * KPC_CM)
    # Where the rate is physical (1/lambda > 1e-35 cm^-1, lambda < 3e13 kpc) the table route
    # agrees to its cubic interpolation, measured < 2e-5: 1e-4. Below, the direct integral
    # stops at 50 kT (exactly 0) while the table continues ln(rate) smoothly: both negligible.
    real = lhs > 1e-35
    assert real.sum() >= 6
    assert np.allclose(api[real], lhs[real], rtol=1e-4, atol=0)
    assert np.all(api[~real] < 1e-35)


def test_cmb_table_against_direct():
    """Cached CMB table (32 per decade, cubic in ln E) against direct integration at energies
    between nodes, from 5e13 eV (tau ~ 1e-6 over 25 kpc) up. Measured < 1e-5: 3e-5. (With
    ln-linear interpolation it was 0.6 % near 1e14 eV, where ln(rate) ~ -E0/E bends.)"""
    E = np.geomspace(5.1e13, 0.9e20, 61)
    api = 1.0 / (mc.mean_free_path_kpc(E) * KPC_CM)
    assert np.allclose(api, rt.cmb_rate_direct_per_cm(E, cmb.T0_K), rtol=3e-5, atol=0)


# --------------------------------------------------------------------------- direction convention
def test_head_on_beam_has_s_equal_4_E_eps():
    """A beam travelling along k = -u (head-on): s = 2 E eps (1 - u.k) = 4 E eps, and the
    rate is n (1 - u.k) sigma = 2 n sigma(4 E eps). Chosen E eps so that 4 E eps is above
    threshold but 2 E eps and E eps (the seed's argument) are below: a wrong convention
    gives zero. A co-moving beam (k = u) never interacts."""
    eps = 1e-3
    E = 1.2 * M_E_EV ** 2 / eps                      # 4 E eps = 1.2 x threshold
    u = np.array([1.0, 0.0, 0.0])
    rate = pp.beam_rate_per_cm(E, u, eps, 1.0, -u)
    assert rate == pytest.approx(2.0 * pp.sigma_gg_cm2(4 * E * eps), rel=1e-12, abs=0)
    assert rate > 0 and pp.sigma_gg_cm2(2 * E * eps) == 0.0
    assert pp.beam_rate_per_cm(E, u, eps, 1.0, u) == 0.0


def test_head_on_beam_through_the_table_machinery():
    """The dust table's code path (per-direction kernels F_k(y) on the ln y grid and the
    (1 - u.k) weighting, :func:`rate_from_kernels`) with a single mono-energetic beam:
    head-on gives 2 n sigma(4 E eps), perpendicular n sigma(2 E eps), co-moving 0 (to the
    kernel-grid interpolation, 64 nodes per decade: 1e-2 near threshold, 2e-3 elsewhere)."""
    eps, n = 1e-2, 1.0
    E = rt.energy_grid(8, 1e12, 1e17)
    ratio = 8
    dly = np.log(E[1] / E[0]) / ratio
    lny0 = np.log(E[0]) - 40 * dly
    # the kernel grid must reach y = 2 E_max (head-on: E (1 - u.k) = 2 E): ln 2 / dly = 19.3
    # steps above E_max, as dust_kernels builds it; with 12 the two top energies fell off the
    # grid and came back as zero (now an error, see test_kernel_grid_too_short_is_an_error)
    top = int(np.ceil(np.log(2.0) / dly)) + 2
    y = np.exp(lny0 + dly * np.arange(40 + ratio * (E.size - 1) + top))
    F = (n * pp.sigma_gg_cm2(2.0 * y * eps))[None, :]
    k = np.array([[0.0, 0.0, 1.0]])                           # the beam travels along +z
    u = np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    rate = rt.rate_from_kernels(E, u, k, [0], [1.0], F, lny0, dly, ratio)
    exact_head_on = 2.0 * n * pp.sigma_gg_cm2(4.0 * E * eps)
    exact_perp = n * pp.sigma_gg_cm2(2.0 * E * eps)
    sel = exact_head_on > 1e-3 * exact_head_on.max()
    assert np.allclose(rate[0][sel], exact_head_on[sel], rtol=1e-2, atol=0)
    sel = exact_perp > 1e-3 * exact_perp.max()
    assert np.allclose(rate[1][sel], exact_perp[sel], rtol=1e-2, atol=0)
    assert np.all(rate[2] == 0.0)
    away = (E * eps > 3 * M_E_EV ** 2)                         # far from threshold
    assert np.allclose(rate[0][away], exact_head_on[away], rtol=2e-3, atol=0)


def test_kernel_grid_too_short_is_an_error():
    """A kernel grid that does not reach y = 2 E_max would silently give zero rates at the
    top energies: one clear error instead."""
    E = rt.energy_grid(8, 1e12, 1e17)
    dly = np.log(E[1] / E[0]) / 8
    lny0 = np.log(E[0]) - 40 * dly
    F = np.ones((1, 40 + 8 * (E.size - 1) + 12))
    k = np.array([[0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="kernel grid"):
        rt.rate_from_kernels(E, np.array([[0.0, 0.0, -1.0]]), k, [0], [1.0], F, lny0, dly, 8)


def test_anisotropic_quadrature_of_an_isotropic_field_reduces_to_the_kernel():
    """Eq. (1) by direct quadrature over directions with an isotropic spectrum equals the
    single-integral isotropic rate (sinh-spaced 192 x 48 direction grid: 2e-3)."""
    from montecarlo.fields.dust import direction_grid_mu
    T = 20.0
    eps = np.geomspace(1e-5, 0.1, 400)
    mu, wmu = direction_grid_mu(192, stretch=1.0)
    phi = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    st = np.sqrt(1 - mu ** 2)
    k = np.stack([np.outer(st, np.cos(phi)), np.outer(st, np.sin(phi)),
                  np.repeat(mu[:, None], 48, axis=1)], axis=-1).reshape(-1, 3)
    w = np.repeat(wmu, 48) * 2 * np.pi / 48
    dn = np.broadcast_to(cmb.dn_deps(eps, T) / (4 * np.pi), (k.shape[0], eps.size))
    E = np.array([1e13, 1e14, 1e15])
    aniso = pp.anisotropic_rate_per_cm(E, np.array([0.3, 0.4, np.sqrt(0.75)]), k, w, eps, dn)
    iso = pp.isotropic_rate_per_cm(E, eps, cmb.dn_deps(eps, T))
    assert np.allclose(aniso, iso, rtol=2e-3, atol=0)
