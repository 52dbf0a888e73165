"""`corona run` stages: caching by config slice, starting from a saved file, numerical guards,
the summary scalars, and the fast evaluation (response kernels) against the direct
line-of-sight calculation."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from transport import load_config, solve
from transport.emission.registry import build_emission
from transport.emission.tables import SphericalEmission

from montecarlo import observations as obs
from montecarlo.pipeline import optional, response
from montecarlo.pipeline import validation as v
from montecarlo.pipeline.response import fine_radial_grid, hat_matrix, response_kernels, shell_values
from montecarlo.pipeline.run import RUN_FILE, pipeline_stages, run_model, summarise
from montecarlo.pipeline.scan import sky_products
from montecarlo.pipeline.stages import Context, Stage, StageError, run_stages

#: CI-size model: coarse transport grid, nside-2 maps at 1 energy per decade, CMB only.
TINY = {"grid.cells_per_decade": 12, "grid.E_per_decade": 4, "time.dt_max_gyr": 0.5,
        "emission.E_per_decade": 3, "sky.nside": 2, "sky.E_per_decade": 1, "sky.fields": ["cmb"],
        "sky.regions": ["tibet_A"], "pipeline.extragalactic": "off", "pipeline.mc": "off",
        "galactic_plane.fit": False}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records = run_model(load_config(None, overrides=TINY), out, figures=False, say=lambda t: None)
    return out, records


def test_run_writes_every_stage_and_caches(tiny_run):
    out, first = tiny_run
    assert [r.status for r in first.values()] == ["computed"] * 4
    with h5py.File(out / RUN_FILE, "r") as fh:
        assert set(fh["stages"]) == {"transport", "emission", "sky", "summary"}
        assert "config_toml" in fh.attrs and "code_version" in fh.attrs
        assert fh["stages/transport"].attrs["stage_key"] == first["transport"].key
    again = run_model(load_config(None, overrides=TINY), out, figures=False, say=lambda t: None)
    assert [r.status for r in again.values()] == ["cached"] * 4
    # a sky option reruns the sky and the summary, never the transport or the emission
    changed = run_model(load_config(None, overrides={**TINY, "sky.regions": ["tibet_B"]}), out,
                        figures=False, say=lambda t: None)
    assert [r.status for r in changed.values()] == ["cached", "cached", "computed", "computed"]
    # the cached results are the computed ones
    np.testing.assert_array_equal(again["transport"].result.j, first["transport"].result.j)
    np.testing.assert_array_equal(again["sky"].result.components[("corona", "gamma")].maps,
                                  first["sky"].result.components[("corona", "gamma")].maps)


def test_start_from_a_saved_run_file(tiny_run, tmp_path):
    out, first = tiny_run
    cfg = load_config(None, overrides=TINY)
    stages = pipeline_stages(cfg)
    records = run_stages(cfg, stages[:1], tmp_path / "cache", Context(),
                         start_from={"transport": str(out / RUN_FILE)})
    assert records["transport"].status.startswith("loaded from")
    sol = records["transport"].result
    np.testing.assert_array_equal(sol.j, first["transport"].result.j)
    assert sol.Q0_cm3_s_eV == first["transport"].result.Q0_cm3_s_eV
    with pytest.raises(StageError, match="no stage 'nope'"):
        run_stages(cfg, stages[:1], tmp_path / "cache", Context(), start_from={"nope": "x.h5"})


def test_numerical_guard_names_stage_and_parameters(tmp_path):
    cfg = load_config(None, overrides={"source.alpha": 2.2})
    for bad, what in ((np.nan, "non-finite"), (-1.0, "negative")):
        stage = Stage("fake", ("source",), (), lambda c, i, x, v=bad: np.array([1.0, v]),
                      lambda g, r: g.create_dataset("x", data=r), lambda g, c: g["x"][()],
                      guard=lambda r: {"intensity": r})
        with pytest.raises(StageError, match=rf"stage 'fake' produced .*{what}.*source.alpha = 2.2"):
            run_stages(cfg, [stage], tmp_path, Context())


def test_optional_stages_follow_the_config():
    cfg = load_config(None, overrides={"pipeline.mc": "off", "pipeline.extragalactic": "off"})
    assert optional.stages(cfg) == []
    for name in optional.OPTIONAL:
        if not optional.available(name):
            with pytest.raises(Exception, match=f'pipeline.{name} = "on"'):
                optional.wanted(load_config(None, overrides={f"pipeline.{name}": "on"}), name)


def test_summary_fractions_and_diluted_dipole():
    """A neutrino spectrum = 0.5 x the IceCube power law gives a fraction of 0.5 at 100 TeV;
    a gamma spectrum = 0.25 x the IGRB points gives 0.25 at the IGRB energies (both exact up
    to the log-log interpolation of power laws: 1e-9); an isotropic extragalactic part equal
    to the corona's all-sky intensity halves the dipole."""
    E = np.geomspace(1e9, 1e17, 41)
    igrb = obs.fermi_igrb()
    gamma = 0.25 * np.exp(np.interp(np.log(E), np.log(igrb.E_eV), np.log(igrb.intensity)))
    nu = 0.5 * obs.icecube_power_law(E)
    dip = np.full(E.size, 0.3)
    s = summarise(E, gamma, nu, dip, dip)
    assert s["nu_icecube_frac_100TeV"] == pytest.approx(0.5, rel=1e-9, abs=0)
    assert s["gamma_igrb_frac_10GeV"] == pytest.approx(0.25, rel=1e-9, abs=0)
    eg = {"E_eV": E, "gamma": gamma, "nu": nu}
    t = summarise(E, gamma, nu, dip, dip, anticentre=2 * nu, eg=eg)
    assert t["dipole_gamma_1TeV_total"] == pytest.approx(0.15, rel=1e-12, abs=0)
    assert t["nu_icecube_frac_100TeV_total"] == pytest.approx(1.0, rel=1e-9, abs=0)
    assert t["xi_1TeV"] == pytest.approx(2.0, rel=1e-9, abs=0)


def test_hat_basis_keeps_discontinuities():
    """q = r^-3 for r < 2 kpc and 0.1 r^-3 beyond (a jump at a repeated node): the fine-grid
    hat interpolation reproduces the table to 1e-3 on both sides (10 sub-nodes per 0.1 in
    ln r: error ~ (3 x 0.01)^2 / 8 ~ 1e-4)."""
    r = np.concatenate([np.geomspace(0.1, 2.0, 31), np.geomspace(2.0, 20.0, 25)])
    q = np.where(np.arange(r.size) < 31, r ** -3.0, 0.1 * r ** -3.0)[None, :].repeat(2, axis=0)
    em = SphericalEmission(r, [1e9, 1e10], q)
    ln_rho = fine_radial_grid(em, 10)
    values = shell_values(em, [1e9], ln_rho)[0]
    x = np.array([0.05, 0.5, 1.999, 2.001, 7.0, 19.9, 25.0])
    approx = hat_matrix(ln_rho, x) @ values
    exact = em(1e9, x, 0.0, 0.0)
    np.testing.assert_allclose(approx, exact, rtol=1e-3, atol=0)


@pytest.fixture(scope="module")
def model_tables():
    cfg = load_config(None, overrides={**TINY, "sky.nside": 4, "sky.E_per_decade": 2,
                                       "sky.regions": ["tibet_A", "lhaaso_outer"],
                                       "grid.cells_per_decade": 20, "pipeline.kernel_subdivision": 8})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = solve(cfg)
    return cfg, build_emission(cfg, "corona", "gamma", sol), build_emission(cfg, "corona", "nu", sol)


def test_fast_evaluation_matches_direct_line_of_sight(model_tables):
    """All-sky and region spectra, dipole amplitudes and summary scalars from the response
    kernels agree with the direct line-of-sight calculation to 1e-3 (the hat interpolation
    between 8 sub-nodes of a 20-per-decade table: ~1e-4; a factor 2 anywhere fails)."""
    cfg, gamma, nu = model_tables
    fast = sky_products(cfg, gamma, nu, "fast")
    direct = sky_products(cfg, gamma, nu, "direct")
    for key in ("gamma_all_sky", "nu_all_sky", "gamma_dipole", "nu_dipole"):
        np.testing.assert_allclose(fast[key], direct[key], rtol=1e-3, atol=0, err_msg=key)
    for name in direct["regions"]:
        np.testing.assert_allclose(fast["regions"][name], direct["regions"][name], rtol=1e-3,
                                   atol=0, err_msg=name)
    for key in ("nu_icecube_frac_100TeV", "gamma_igrb_frac_1GeV", "dipole_gamma_1PeV"):
        assert fast["summary"][key] == pytest.approx(direct["summary"][key], rel=1e-3, abs=0)
    response._MEMO.clear()                          # drop the in-memory copy: read the file
    kernels = response_kernels(cfg, gamma)
    assert not kernels.built and kernels.path.is_file()


def test_validation_suite_passes_and_catches_a_factor_two(capsys):
    """The cheap analytic checks of `corona validate` pass; a factor-2 error fails its row and
    makes the command exit with status 1."""
    rows = v.run_checks("ci", checks=(v.check_cross_section, v.check_line_of_sight))
    assert len(rows) == 6 and all(r.passed for r in rows), v.format_table(rows)
    bad = v.Check("x", 1.0, 2.0, 0.1)
    assert not bad.passed and "NO" in v.format_table([bad])
    args = type("Args", (), {"resolution": "ci"})()
    assert v.cmd_validate(args, checks=(lambda resolution: [bad],)) == 1
    assert "0 of 1 checks passed" in capsys.readouterr().out


def test_mpirun_two_ranks_gives_the_serial_run(tiny_run, tmp_path):
    """`mpirun -n 2 corona run` (transport started from the serial run's file): rank 0 computes
    the serial stages, both ranks finish, and the summary equals the one-process run's."""
    mpirun = Path(sys.executable).parent / "mpirun"
    if not mpirun.exists():
        pytest.skip("no mpirun beside the interpreter (extra 'mpi')")
    out, first = tiny_run
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={json.dumps(v)}")]
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    proc = subprocess.run([str(mpirun), "-n", "2", sys.executable, "-m", "montecarlo.cli", "run",
                           "-o", str(tmp_path / "mpi"), "--no-figures", "-q", *sets,
                           "--from", f"transport={out / RUN_FILE}"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("corona run:") == 1            # rank 0 reports, once
    with h5py.File(tmp_path / "mpi" / RUN_FILE, "r") as fh:
        summary = dict(fh["stages/summary"].attrs)
    for key, value in first["summary"].result.items():
        assert summary[key] == pytest.approx(value, rel=1e-12, abs=0), key


def test_run_file_links_each_stage_once_and_holds_the_summary_table(tiny_run, tmp_path):
    """corona_run.h5 stores no stage twice: /stages/<name> are relative external links to
    cache/<name>.h5 (still valid after moving the directory); /summary holds the scalars and
    the printed table."""
    import shutil
    from montecarlo.pipeline.summary import summary_rows
    out, first = tiny_run
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    with h5py.File(moved / RUN_FILE, "r") as fh:
        for name in first:
            link = fh["stages"].get(name, getlink=True)
            assert isinstance(link, h5py.ExternalLink) and link.filename == f"cache/{name}.h5"
            assert fh["stages"].attrs[f"{name}_status"] in ("computed", "cached")
        np.testing.assert_array_equal(fh["stages/sky/sky/corona/gamma/map"][()],
                                      first["sky"].result.components[("corona", "gamma")].maps)
        table = fh["summary/table"][()]
        rows = summary_rows(first["summary"].result)
        assert [r.decode() if isinstance(r, bytes) else r for r in table["key"]] == [r["key"] for r in rows]
        assert table["corona"][0] == rows[0]["corona"]
        stored = []
        fh.visit(stored.append)                # hard links only: what the file itself holds
    assert stored and all(name == "stages" or name.startswith("summary") for name in stored), stored
