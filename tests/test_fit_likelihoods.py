"""The fit's likelihoods against hand-computed values (docs/fit.md, "Likelihoods").

Every expected number below is worked out in the comment next to it from the equation in
docs/fit.md; the tolerances are round-off (rel 1e-12) unless a comment says otherwise. A factor
of 2 in any sigma, bound or band changes each of these values by far more."""
from __future__ import annotations

import numpy as np
import pytest

from transport import load_config
from transport.core.data import input_path
from transport.cosmicrays.normalization import reference_flux

from montecarlo import observations as obs
from montecarlo.inference import likelihoods as lk
from montecarlo.inference.forward import Prediction
from montecarlo.inference.priors import FitError

def test_one_sided_and_worst_excess():
    # excesses (0, 1, 3) over sigmas (1, 1, 2): chi^2 = 0 + 1 + 2.25
    assert lk.one_sided([1, 3, 5], [2, 2, 2], [1, 1, 2]) == pytest.approx(-1.625, rel=1e-12, abs=0)
    # pulls (-1, 1, 1.5): only the largest counts
    assert lk.worst_excess([1, 3, 5], [2, 2, 2], [1, 1, 2]) == pytest.approx(-1.125, rel=1e-12, abs=0)
    assert lk.worst_excess([1, 1], [2, 2], [1, 1]) == 0.0


def test_igrb_one_sided_uses_the_upper_edge_of_the_band():
    # s+ = 1.15: bound 1.15, sigma 1.15 x 0.1 = 0.115; (0.05 / 0.115)^2 / 2
    got = lk.igrb([1.2], [1.0], [0.1], [0.1], band=(0.30, 0.15), sided="one")
    assert got == pytest.approx(-0.5 * (0.05 / 0.115) ** 2, rel=1e-12, abs=0)
    assert lk.igrb([1.14], [1.0], [0.1], [0.1], band=(0.30, 0.15), sided="one") == 0.0


def test_igrb_two_sided_profiles_the_band_scale():
    # chi^2(N) = sum ((a_i N - 1) / 0.1)^2 with a = (1.1, 0.9): minimum (n - (sum a)^2 / sum a^2)
    # / 0.01 = (2 - 4 / 2.02) / 0.01 at N = 2 / 2.02, inside [1/1.15, 1/0.7]
    got = lk.igrb([1.1, 0.9], [1.0, 1.0], [0.1, 0.1], [0.1, 0.1], band=(0.30, 0.15), sided="two")
    assert got == pytest.approx(-0.5 * (2 - 4 / 2.02) / 0.01, rel=1e-10, abs=0)
    # model twice the data: N* = 1/2 is outside the band, clipped to 1/1.15 (s = 1.15)
    got = lk.igrb([2.0, 2.0], [1.0, 1.0], [0.1, 0.1], [0.1, 0.1], band=(0.30, 0.15), sided="two")
    assert got == pytest.approx(-0.5 * 2 * ((2 / 1.15 - 1) / 0.1) ** 2, rel=1e-10, abs=0)
    # asymmetric errors: model below the data by 0.4 with err_lo = 0.2, no room in a zero band
    got = lk.igrb([0.6], [1.0], [0.2], [0.5], band=(0.0, 0.0), sided="two")
    assert got == pytest.approx(-0.5 * (0.4 / 0.2) ** 2, rel=1e-12, abs=0)


FIT = obs.PowerLawFit("test", E0_eV=1e14, phi0=1.0, phi0_err_lo=0.3, phi0_err_hi=0.2, gamma=2.0,
                      gamma_err=0.1, E_range_eV=(1e13, 1e15))


def test_power_law_bound_counts_the_worst_energy_in_range():
    E = np.array([1e13, 1e14, 1e15, 1e16])
    model = np.array([1.5, 1.1, 1.0, 100.0]) * FIT(E)          # 1e16 is outside the range
    # at 1e13: sigma / Phi = hypot(0.2, 0.1 ln 0.1); pull 0.5 / that beats 0.1 / 0.2 at E0
    pull = 0.5 / np.hypot(0.2, 0.1 * np.log(0.1))
    assert lk.power_law_bound(E, model, FIT) == pytest.approx(-0.5 * pull ** 2, rel=1e-12, abs=0)


def test_power_law_measurement_compares_amplitude_and_index():
    E = np.geomspace(1e13, 1e15, 9)
    model = 1.3 * (E / 1e14) ** -2.2
    # ((1.3 - 1) / 0.2)^2 + ((2.2 - 2.0) / 0.1)^2 = 2.25 + 4
    assert lk.power_law_measurement(E, model, FIT) == pytest.approx(-3.125, rel=1e-9, abs=0)


def _points(values, lo, hi, limit):
    n = len(values)
    one = np.ones(n)
    return obs.SpectralPoints("t", "nu", "all_sky", one, np.asarray(values, float),
                              np.asarray(lo, float), np.asarray(hi, float), one, one,
                              np.asarray(limit, bool))


def test_binned_measured_bins_and_limits():
    pts = _points([1.0, 0.5], [0.2, 0.0], [0.3, 0.0], [False, True])
    # measured: (0.6 / 0.3)^2 = 4; limit: (0.25 / 0.5)^2 = 0.25
    assert lk.binned([1.6, 0.25], pts, "one") == pytest.approx(-2.125, rel=1e-12, abs=0)
    # below the measured bin: nothing one-sided, (0.4 / 0.2)^2 two-sided
    assert lk.binned([0.6, 0.25], pts, "one") == pytest.approx(-0.125, rel=1e-12, abs=0)
    assert lk.binned([0.6, 0.25], pts, "two") == pytest.approx(-2.125, rel=1e-12, abs=0)


def test_flux_bound_and_lognormal():
    # r = max(1, 1.1) = 1.1: ((1.1 - 1) / 0.1)^2 / 2
    assert lk.flux_bound([1.0, 2.2], [1.0, 2.0], 0.1) == pytest.approx(-0.5, rel=1e-10, abs=0)
    assert lk.flux_bound([0.5, 1.0], [1.0, 2.0], 0.1) == 0.0
    # (ln e - ln 1) / 0.5 = 2
    assert lk.lognormal([np.e], [1.0], 0.5) == pytest.approx(-2.0, rel=1e-12, abs=0)
    assert lk.lognormal([0.0], [1.0], 0.5) == -np.inf


# --------------------------------------------------------------------------- data sets
def _prediction(E, gamma=None, nu=None, cr=None, mode="observed_flux"):
    """A Prediction stub: all-sky rows only (the dipole rows zero)."""
    names = ("all_sky", "dipole_x", "dipole_y", "dipole_z")
    zero = np.zeros(E.size)
    rows = {p: np.array([v if v is not None else zero, zero, zero, zero])
            for p, v in (("gamma", gamma), ("nu", nu))}
    cfg = load_config({"normalization.mode": mode})
    cr_E, cr_flux = cr if cr is not None else (E, zero)
    return Prediction(E, names, rows, cr_E, cr_flux, 1.0, None, cfg)


def test_fermi_igrb_data_set_from_the_shipped_points():
    igrb = obs.fermi_igrb()
    E = np.geomspace(1e9, 1e17, 49)
    gamma = 3e-6 * (E / 1e9) ** -2.3                                 # a power law: exact in loglog
    got = lk.ln_fermi_igrb(_prediction(E, gamma=gamma), lk.Options())
    sel = igrb.E_eV >= 1e9
    m = 3e-6 * (igrb.E_eV[sel] / 1e9) ** -2.3
    excess = np.maximum(m - 1.15 * igrb.intensity[sel], 0.0) / (1.15 * igrb.err_hi[sel])
    assert got == pytest.approx(-0.5 * np.sum(excess ** 2), rel=1e-9, abs=0)
    assert got < -1.0                                                # the test bites


def test_icecube_cascade_data_set_uses_the_file_and_its_range():
    E = np.geomspace(1e9, 1e17, 49)
    fit = obs.icecube_cascades_2020()
    assert fit.phi0 == pytest.approx(3 * 1.66e-18 / 1e9, rel=1e-12, abs=0)     # all flavours
    nu = 2.0 * fit(E)
    nu[E > 2.6e15] *= 1e6                                           # outside the range: ignored
    got = lk.ln_icecube(_prediction(E, nu=nu), lk.Options())
    inside = (E >= 1.6e13) & (E <= 2.6e15)
    rel = np.hypot(0.25 / 1.66, 0.07 * np.log(E[inside] / 1e14))
    assert got == pytest.approx(-0.5 * np.max(1.0 / rel) ** 2, rel=1e-9, abs=0)


def test_cr_protons_touching_rule_and_free_amplitude():
    E = np.geomspace(1e10, 1e15, 6)
    flux = reference_flux(E) * np.array([0.5, 1.2, 0.9, 1.0, 0.3, 0.2])
    touching = _prediction(E, cr=(E, flux))
    assert lk.ln_cr_protons(touching, lk.Options()) == 0.0          # by construction
    free = _prediction(E, cr=(E, flux), mode="rate")
    assert lk.ln_cr_protons(free, lk.Options()) == pytest.approx(-0.5 * (0.2 / 0.1) ** 2,
                                                                 rel=1e-9, abs=0)


def test_mock_data_are_log_normal_and_reproducible():
    E = np.geomspace(1e9, 1e17, 49)
    truth = 1e-6 * (E / 1e9) ** -2.5
    p = _prediction(E, gamma=truth, nu=2 * truth)
    a = lk.mock_data(p, ("gamma_all_sky", "nu_all_sky"), 0.1, seed=5)
    b = lk.mock_data(p, ("gamma_all_sky", "nu_all_sky"), 0.1, seed=5)
    noise = np.random.default_rng(5).standard_normal(2 * E.size)
    np.testing.assert_allclose(a["gamma_all_sky"], truth * np.exp(0.1 * noise[:E.size]), rtol=1e-12, atol=0)
    np.testing.assert_allclose(a["nu_all_sky"], b["nu_all_sky"], rtol=0, atol=0)
    # ln L at the truth: -1/2 sum noise^2 exactly
    assert lk.ln_mock(p, a, 0.1) == pytest.approx(-0.5 * np.sum(noise ** 2), rel=1e-10, abs=0)


@pytest.mark.parametrize("raw, message", [
    ({"igrb_sided": "both"}, "igrb_sided = 'both'"),
    ({"icecube": "hese"}, "fit.likelihood.icecube = 'hese'"),
    ({"igrb_foreground": [0.3]}, "igrb_foreground"),
    ({"cr_relative_error": 0}, "cr_relative_error = 0"),
    ({"plane_models": ["corona"]}, "plane_models"),
    ({"colour": 1}, "unknown key(s) colour"),
])
def test_bad_likelihood_options(raw, message):
    with pytest.raises(FitError) as err:
        lk.parse_options(raw)
    assert message in str(err.value)


def test_tibet_data_set_with_the_last_bin_at_60_percent():
    """[T] eq. 12: the last Tibet bin at 60 % of its value and errors. Plane models 20 % above
    the (scaled) points, no corona: chi^2 = sum (0.2 I_i / err_hi_i)^2 over regions A and B."""
    cfg = load_config()
    E = np.geomspace(1e9, 1e17, 9)
    names = ("all_sky", "dipole_x", "dipole_y", "dipole_z", "region:tibet_A", "region:tibet_B")
    rows = {p: np.zeros((len(names), E.size)) for p in ("gamma", "nu")}
    chi2, plane = 0.0, {}
    for region in ("A", "B"):
        pts = obs.tibet_asgamma(region)
        scale = np.ones(pts.E_eV.size)
        scale[-1] = 0.6
        plane[pts.region] = (pts.E_eV, 1.2 * pts.intensity * scale)
        chi2 += np.sum((0.2 * pts.intensity * scale / (pts.err_hi * scale)) ** 2)
    p = Prediction(E, names, rows, E, np.zeros(E.size), 1.0, None, cfg, plane=plane)
    assert lk.DATASETS["tibet"].ln_likelihood(p, lk.Options()) == pytest.approx(-0.5 * chi2, rel=1e-12, abs=0)


def test_lhaaso_data_set_with_systematic_errors_in_quadrature():
    """Plane models one upper error above every LHAASO point, the error being the statistical
    and systematic ones in quadrature from the file: chi^2 = number of points."""
    cfg = load_config()
    E = np.geomspace(1e9, 1e17, 9)
    names = ("all_sky", "dipole_x", "dipole_y", "dipole_z", "region:lhaaso_inner", "region:lhaaso_outer")
    rows = {p: np.zeros((len(names), E.size)) for p in ("gamma", "nu")}
    plane, n = {}, 0
    for region in ("inner", "outer"):
        lg_lo, lg_hi, E_tev, phi, st_lo, st_hi, sys_err = np.loadtxt(
            input_path(f"observations/lhaaso_km2a_2023_{region}.txt"), ndmin=2).T
        plane[f"lhaaso_{region}"] = (E_tev * 1e12, (phi + np.hypot(st_hi, sys_err)) / 1e12)
        n += E_tev.size
    p = Prediction(E, names, rows, E, np.zeros(E.size), 1.0, None, cfg, plane=plane)
    assert lk.DATASETS["lhaaso"].ln_likelihood(p, lk.Options()) == pytest.approx(-0.5 * n, rel=1e-9, abs=0)
