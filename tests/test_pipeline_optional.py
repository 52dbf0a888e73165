"""`corona run` with its optional stages switched on: the Monte Carlo agrees with the line of
sight, and the extragalactic stage adds the coronae of all galaxies to the summary."""
import warnings

import numpy as np
import pytest

from transport import load_config

from montecarlo.pipeline.run import run_model

#: CI-size model (as tests/test_pipeline.py) with both optional stages on, 8192 MC photons.
TINY = {"grid.cells_per_decade": 12, "grid.E_per_decade": 4, "time.dt_max_gyr": 0.5,
        "emission.E_per_decade": 3, "sky.nside": 2, "sky.E_per_decade": 1, "sky.fields": ["cmb"],
        "sky.regions": ["tibet_A"], "pipeline.extragalactic": "on", "pipeline.mc": "on",
        "mc.n_photons": 8192, "mc.batch_photons": 2048, "mc.nside": 1, "mc.E_eV": [1e12, 1e15],
        "mc.fields": ["cmb"], "mc.regions": ["tibet_A"], "galactic_plane.fit": False}


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_model(load_config(None, overrides=TINY), tmp_path_factory.mktemp("run"),
                         figures=False, say=lambda t: None)


def test_mc_stage_agrees_with_the_line_of_sight(records):
    mc, s = records["mc"].result, records["summary"].result
    for k, tag in enumerate(("1TeV", "1PeV")):
        rel_err = mc["all_sky_err"][k] / mc["all_sky"][k]
        assert 0 < rel_err < 0.05
        # statistical agreement: 4 sigma of the MC error plus the line of sight's 1e-3
        assert abs(s[f"mc_over_los_{tag}"] - 1.0) < 4 * rel_err + 1e-3


def test_extragalactic_stage_enters_the_summary(records):
    eg, s = records["extragalactic"].result, records["summary"].result
    assert np.all(np.asarray(eg["nu"]) > 0) and np.all(np.isfinite(eg["gamma"]))
    # the isotropic part only adds: totals exceed the corona alone, dipoles are diluted
    assert s["nu_icecube_frac_100TeV_total"] > s["nu_icecube_frac_100TeV"]
    assert s["dipole_nu_1TeV_total"] < s["dipole_nu_1TeV"]
    # xi (neutrinos) agrees with the extragalactic stage's own ratio at 1 PeV, computed from its
    # exact anticentre line of sight (the summary uses the nside-2 map pixel: within 30 %)
    spectra = eg["spectra"]
    E = np.asarray(eg["E_eV"])
    k = int(np.argmin(np.abs(np.log(E / 1e15))))
    direct = spectra["mw_nu_anticentre"][k] / spectra["eg_nu"][k]
    assert s["xi_1PeV"] == pytest.approx(direct, rel=0.3, abs=0)
