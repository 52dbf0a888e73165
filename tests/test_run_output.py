"""`corona run`'s Galactic-plane stage (saved and read back) and its summary table: groups,
units, chi^2 with dof and p-values against closed forms."""
import math

import h5py
import numpy as np
import pytest

from transport import load_config
from montecarlo.galactic_plane.fits import CASES, CaseFit
from montecarlo.pipeline.plane import PlaneFits, load_plane, plane_summary, save_plane
from montecarlo.pipeline.run import pipeline_stages
from montecarlo.pipeline.summary import (ANISO, FIT, GAMMA, NU, PLANE, p_value, summary_rows,
                                         summary_table)


def _fake_fits():
    """Four cases with E^-2 neutrinos (E^2 I = k x 1e-9 GeV cm^-2 s^-1 sr^-1 for case k)."""
    E = np.geomspace(1e12, 3e15, 18)
    fits = []
    for k, (d, s) in enumerate(CASES, start=1):
        f = CaseFit(d, s, norm=0.5 * k, chi2=3.0 * k, dof=5, E_eV=E)
        f.gamma = {r: k * 1e-20 * (E / 1e12) ** -2.7 for r in ("tibet_A", "tibet_B", "lhaaso_inner")}
        f.neutrino = {"all_sky": k * 1e-9 * 1e9 / E ** 2, "tibet_A": 2e-30 * (E / 1e12) ** -2.5}
        f.lhaaso_chi2 = {"inner": (10.0 * k, 10), "outer": (5.0 * k, 5)}
        f.tibet_neutrinos = {"A": (E[:3] / 2, np.ones(3), 0.1 * np.ones(3), 0.2 * np.ones(3))}
        fits.append(f)
    return PlaneFits(fits, 0.6)


def test_plane_stage_saves_and_reads_back(tmp_path):
    result = _fake_fits()
    with h5py.File(tmp_path / "p.h5", "w") as fh:
        save_plane(fh.create_group("galactic_plane"), result)
    with h5py.File(tmp_path / "p.h5", "r") as fh:
        back = load_plane(fh["galactic_plane"])
    assert back.last_bin_fraction == 0.6
    assert [(f.distribution, f.spectrum) for f in back.fits] == list(CASES)
    for a, b in zip(result.fits, back.fits):
        assert (a.norm, a.chi2, a.dof, a.lhaaso_chi2) == (b.norm, b.chi2, b.dof, b.lhaaso_chi2)
        for name in a.gamma:
            np.testing.assert_array_equal(a.gamma[name], b.gamma[name])
        np.testing.assert_array_equal(a.neutrino["all_sky"], b.neutrino["all_sky"])
        np.testing.assert_array_equal(a.tibet_neutrinos["A"][3], b.tibet_neutrinos["A"][3])


def test_plane_summary_reads_the_fits():
    """E^2 I of an E^-2 spectrum at 100 TeV is its constant (log-log interpolation of a power
    law is exact up to rounding: 1e-12)."""
    s = plane_summary(_fake_fits())
    for k, (d, sp) in enumerate(CASES, start=1):
        assert s[f"plane_{d}_{sp}_nu_all_sky_E2_100TeV"] == pytest.approx(k * 1e-9, rel=1e-12, abs=0)
        assert (s[f"plane_{d}_{sp}_chi2_tibet"], s[f"plane_{d}_{sp}_dof_tibet"]) == (3.0 * k, 5)
        assert s[f"plane_{d}_{sp}_n_lhaaso_outer"] == 5


def test_the_plane_stage_is_in_the_run_by_default():
    names = [s.name for s in pipeline_stages(load_config(None))]
    assert names.index("sky") < names.index("galactic_plane") < names.index("summary")
    summary = [s for s in pipeline_stages(load_config(None)) if s.name == "summary"][0]
    assert "galactic_plane" in summary.needs
    off = load_config(None, overrides={"galactic_plane.fit": False})
    assert "galactic_plane" not in [s.name for s in pipeline_stages(off) if s.enabled(off)]


def test_p_values_against_closed_forms():
    """P(chi^2_2 >= x) = exp(-x/2); P(chi^2_1 >= x) = erfc(sqrt(x/2)) (both exact; the
    incomplete gamma function agrees to 1e-12)."""
    for x in (0.1, 2.0, 14.0, 160.0):
        assert p_value(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-12, abs=0)
        assert p_value(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-12, abs=0)


def test_summary_rows_have_groups_units_and_dof():
    summary = {"nu_icecube_frac_100TeV": 0.004, "nu_icecube_frac_100TeV_total": 0.0041,
               "gamma_igrb_frac_1GeV": 0.87, "dipole_gamma_1TeV": 1.77, "contrast_nu_1PeV": 0.97,
               "chi2_icecube": 14.0, "chi2_icecube_n": 2, "chi2_icecube_total": 2.0,
               "chi2_icecube_n_total": 2, **plane_summary(_fake_fits())}
    rows = {r["key"]: r for r in summary_rows(summary)}
    assert rows["nu_icecube_frac_100TeV"]["group"] == NU
    assert rows["gamma_igrb_frac_1GeV"]["group"] == GAMMA
    assert rows["dipole_gamma_1TeV"]["group"] == rows["contrast_nu_1PeV"]["group"] == ANISO
    assert rows["plane_uniform_A_nu_all_sky_E2_100TeV"]["group"] == PLANE
    assert rows["plane_uniform_A_nu_all_sky_E2_100TeV"]["unit"] == "GeV cm^-2 s^-1 sr^-1"
    ice = rows["chi2_icecube"]
    assert (ice["group"], ice["dof"]) == (FIT, 2)
    assert ice["p_value_corona"] == pytest.approx(math.exp(-7.0), rel=1e-12, abs=0)
    assert ice["p_value_with_extragalactic"] == pytest.approx(math.exp(-1.0), rel=1e-12, abs=0)
    tibet = rows["plane_snr_tibet_B_chi2_tibet"]
    assert (tibet["corona"], tibet["dof"]) == (12.0, 5)
    assert np.isnan(rows["gamma_igrb_frac_1GeV"]["with_extragalactic"])
    text = summary_table(summary)
    for header in (NU, GAMMA, ANISO, PLANE, FIT):
        assert header in text
    assert "not a fit to IceCube" in text and "14 / 2, p = 0.00091" in text
    assert "chi2_icecube" not in text and "xi_1TeV" not in text       # labels, not keys
