"""Galactic-plane analysis of [T]: region averages, eq. 7 and 10, the four fitted cases."""
import numpy as np
import pytest

import montecarlo
import transport
from montecarlo.galactic_plane import fits as gp
from montecarlo.sky.analysis import REGIONS, pixel_directions, region_intensity
from transport.emission.registry import build_emission

COARSE = {"opacity.grid": "coarse"}
E_FIT = np.geomspace(1e13, 2e15, 12)


@pytest.fixture(scope="module")
def snr_disk():
    cfg = transport.load_config({**COARSE, "disk.distribution": "snr_tibet", "disk.spectrum": "A"})
    return cfg, {p: build_emission(cfg, "disk", p, None, E_FIT) for p in ("gamma", "nu")}


def test_region_quadrature_agrees_with_a_fine_healpix_map(snr_disk):
    """Direct (l, sin b) quadrature vs the pixel average of an nside-256 map (0.23 deg pixels):
    the thin disk's latitude profile is resolved by both; they agree within 1 %."""
    cfg, em = snr_disk
    direct = region_intensity(em["gamma"], 1e14, "tibet_A", fields=(), config=cfg)
    l_deg, b_deg = pixel_directions(256)
    sel = REGIONS["tibet_A"].contains(l_deg, b_deg)
    pix = montecarlo.intensity(em["gamma"], 1e14, l_deg[sel], b_deg[sel], fields=(), config=cfg).mean()
    assert direct[0] == pytest.approx(pix, rel=0.01, abs=0)


@pytest.mark.parametrize("E_gamma", [2e14, 1e15])
def test_eq7_attenuation_correction_against_survival_probabilities(snr_disk, E_gamma):
    """The [T] eq. 7 correction integral n / integral n P_surv, from the line-of-sight
    integrator, against an independent triple quadrature over (l, b, s) of the emissivity times
    exp(-tau) from the opacity module's own path integrals (optical_depth_paths). Tolerance 1 %:
    the independent quadrature is coarse (16 x 12 directions, 48 distances) on a smooth
    integrand."""
    from montecarlo.geometry import direction_from_lb, sun_position_kpc
    from montecarlo.opacity.api import opacity_for
    cfg, em = snr_disk
    fields = ("cmb", "dust")
    ours = gp.attenuation_correction(em["gamma"], E_gamma, "tibet_A", fields, cfg)[0]
    lx, lw = np.polynomial.legendre.leggauss(16)
    l_nodes = 62.5 + 37.5 * lx
    bx, bw = np.polynomial.legendre.leggauss(6)
    b_nodes = np.concatenate([-2.5 - 2.5 * bx, 2.5 + 2.5 * bx])      # split at b = 0 (cusp)
    b_w = np.concatenate([bw, bw]) * 2.5 * np.cos(np.radians(b_nodes))
    sx, sw = np.polynomial.legendre.leggauss(8)
    edges = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 16.0, 25.0])           # kpc from the Sun
    s_nodes = ((edges[1:, None] - edges[:-1, None]) * 0.5 * (sx + 1) + edges[:-1, None]).ravel()
    s_w = ((edges[1:, None] - edges[:-1, None]) * 0.5 * sw).ravel()
    L, B, S = np.meshgrid(l_nodes, b_nodes, s_nodes, indexing="ij")
    W = (lw[:, None, None] * b_w[None, :, None] * s_w[None, None, :])
    sun = sun_position_kpc(cfg.observer.r_sun_kpc)
    x = sun + S.ravel()[:, None] * direction_from_lb(L.ravel(), B.ravel())
    q = em["gamma"](np.array([E_gamma]), x[:, 0], x[:, 1], x[:, 2])[0]
    tau = opacity_for(cfg).optical_depth_paths(x, sun, [E_gamma], fields)[:, 0]
    independent = np.sum(W.ravel() * q) / np.sum(W.ravel() * q * np.exp(-tau))
    assert independent > 1.02                      # the attenuation is not negligible here
    assert ours == pytest.approx(independent, rel=0.01, abs=0)


def test_eq7_on_the_model_photons_gives_the_model_neutrinos(snr_disk):
    """[T] eq. 7 applied to the model's attenuated photons returns the neutrinos integrated
    directly from the neutrino table (built with [T] eq. 1). The tables are interpolated
    linearly in (ln E, ln q) between their energies, and 2 E_nu is never a node of the
    photon table (node ratio 1.62), so the comparison measures that interpolation across the
    smooth break of model A: second order in the ln E step, measured 0.13-1.3 % on E_FIT
    (4.8 nodes per decade; tolerance 1.5 %) and 0.005-0.064 % on a grid 4x denser (1e-3)."""
    cfg, em = snr_disk

    def eq7_over_direct(em, E_nu):
        att = region_intensity(em["gamma"], 2 * E_nu, "tibet_A", ("cmb", "dust"), cfg)
        corr = gp.attenuation_correction(em["gamma"], 2 * E_nu, "tibet_A", ("cmb", "dust"), cfg)
        nu = gp.neutrino_from_gamma((2 * E_nu) ** 2 * att, corr) / E_nu ** 2
        return nu / region_intensity(em["nu"], E_nu, "tibet_A", (), cfg)
    E_nu = E_FIT[:6]
    assert np.allclose(eq7_over_direct(em, E_nu), 1.0, rtol=0, atol=1.5e-2)
    dense = np.geomspace(E_FIT[0], E_FIT[-1], 4 * (E_FIT.size - 1) + 1)
    fine = {p: build_emission(cfg, "disk", p, None, dense) for p in ("gamma", "nu")}
    assert np.allclose(eq7_over_direct(fine, E_nu), 1.0, rtol=0, atol=1e-3)


def test_eq10_extrapolates_a_region_to_the_whole_sky(snr_disk):
    """[T] eq. 10 with P = 1 (neutrinos): the all-sky flux from the Tibet-B flux (direct
    quadrature) times the ratio of the solid-angle integrals of the column (nside-64 map) equals
    the all-sky flux of a finer map (nside 128). The two methods and resolutions agree to 1 %."""
    cfg, em = snr_disk
    region = REGIONS["tibet_B"]
    flux_obs = region_intensity(em["nu"], 1e14, region, (), cfg)[0] * region.solid_angle_sr
    coarse = montecarlo.intensity(em["nu"], 1e14, *pixel_directions(64), fields=(), config=cfg)
    pixel_sr = 4 * np.pi / coarse.size
    flux_all = gp.extrapolate_flux(flux_obs, coarse.sum() * pixel_sr,
                                   coarse[REGIONS["tibet_B"].contains(*pixel_directions(64))].sum() * pixel_sr)
    fine = montecarlo.intensity(em["nu"], 1e14, *pixel_directions(128), fields=(), config=cfg)
    assert flux_all == pytest.approx(fine.mean() * 4 * np.pi, rel=0.01, abs=0)


def test_four_cases_fit_tibet():
    """[T]'s chi^2/dof: 1.6-2.0 (uniform) and 0.7-1.0 (SNR); measured here 1.30 / 1.89 and
    0.80 / 1.44 (A / B). Our Tibet points are digitised and our dust model differs, so accept
    1.0-2.5 (uniform) and 0.5-1.8 (SNR), and require SNR to fit better than uniform for each
    spectrum, as in the seed. Neutrinos at ~110 TeV, all sky, from the Tibet points through
    eq. 7 and 10: within [T]'s (3-6)e-9 GeV cm^-2 s^-1 sr^-1 (measured 4.49-4.55e-9 with
    our dust; a factor 2 either way fails). The models' own all-sky neutrinos (fitted to the
    same points) agree with that to 0.75-1.6 (measured 0.90-1.45: the models differ in the
    region they extrapolate from)."""
    cfg = transport.load_config(COARSE)
    fits = {(f.distribution, f.spectrum): f for f in gp.fit_all_cases(cfg, E_FIT)}
    for (distribution, spectrum), f in fits.items():
        lo, hi = (1.0, 2.5) if distribution == "uniform" else (0.5, 1.8)
        assert f.dof == 5 and lo < f.chi2_per_dof < hi
        k = np.argmin(np.abs(np.log(f.E_eV / 1e14)))
        E_nu, values, err_lo, err_hi = f.tibet_neutrinos["all_sky_from_A"]
        from_tibet = E_nu[1] ** 2 * values[1] / 1e9                     # E_nu ~ 110 TeV
        assert 3e-9 < from_tibet < 6e-9
        assert 0.75 < f.E_eV[k] ** 2 * f.neutrino["all_sky"][k] / 1e9 / from_tibet < 1.6
        assert np.all(err_lo > 0) and set(f.lhaaso_chi2) == {"inner", "outer"}
    for spectrum in ("A", "B"):
        assert fits[("snr_tibet", spectrum)].chi2 < fits[("uniform", spectrum)].chi2
