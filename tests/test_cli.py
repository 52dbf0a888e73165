"""The ``corona`` command: outputs, provenance, atomic writes, one-line errors."""
import json
import shutil
from pathlib import Path
import subprocess
import sys

import h5py
import numpy as np
import pytest

import transport
from montecarlo.cli import main

FAST = ["--set", "grid.E_per_decade=2", "-q"]


def test_transport_writes_hdf5_with_units_and_provenance(tmp_path, baseline):
    out = tmp_path / "run.h5"
    assert main(["transport", "-o", str(out), "-q"]) == 0
    with h5py.File(out) as fh:
        assert fh["cr/r_kpc"].attrs["units"] == "kpc"
        assert fh["cr/E_eV"].attrs["units"] == "eV"
        assert fh["cr/j"].attrs["units"] == "cm^-3 eV^-1"
        assert fh["cr/j"].shape == (fh["cr/E_eV"].size, fh["cr/r_kpc"].size)
        assert np.allclose(fh["cr/j"][()], baseline.j, rtol=1e-12, atol=0)
        assert fh["normalization"].attrs["E_touch_eV"] == baseline.normalization.E_touch_eV
        for key in ("code_version", "created_utc", "config_toml", "seeds"):
            assert key in fh.attrs
        assert json.loads(fh.attrs["config_json"]) == baseline.config.to_dict()
        for model in baseline.config.emission.models:          # the configured models (not "sea")
            for particle in transport.PARTICLES:
                ds = fh[f"emission/{model}/{particle}"]
                assert ds.attrs["units"] == "cm^-3 s^-1 eV^-1"
                grids = ("E_eV", "r_kpc") if model == "corona" else ("E_eV", "R_kpc", "z_kpc")
                assert ds.shape == tuple(ds.attrs[g].size for g in grids)
        corona = transport.SphericalEmission.from_hdf5(fh["emission/corona/nu"])
        assert corona.attrs["yields"] == "aafrag"
        assert np.allclose(corona.q, transport.corona_emission(baseline, "nu").q, rtol=1e-12, atol=0)
    assert [p.name for p in tmp_path.iterdir()] == ["run.h5"]        # no temp file left


def test_resolved_config_in_the_file_reproduces_the_run(tmp_path):
    out = tmp_path / "run.h5"
    assert main(["transport", "-o", str(out), *FAST, "--set", "source.alpha=2.2"]) == 0
    with h5py.File(out) as fh:
        stored = fh.attrs["config_toml"]
        j = fh["cr/j"][()]
    cfg_file = tmp_path / "again.toml"
    cfg_file.write_text(stored)
    assert np.allclose(transport.solve(cfg_file).j, j, rtol=1e-12, atol=0)


def test_emission_models_and_particles_are_chosen_by_config(tmp_path):
    out = tmp_path / "few.h5"
    assert main(["transport", "-o", str(out), *FAST, "--set", 'emission.models=["disk"]',
                 "--set", 'emission.particles=["nu_tau"]']) == 0
    with h5py.File(out) as fh:
        assert list(fh["emission"]) == ["disk"] and list(fh["emission/disk"]) == ["nu_tau"]


def test_snapshots_and_plots(tmp_path):
    out = tmp_path / "snap.h5"
    assert main(["transport", "-o", str(out), *FAST, "--plots",
                 "--set", "time.snapshots_gyr=[2.0, 5.0]"]) == 0
    with h5py.File(out) as fh:
        assert list(fh["cr/snapshots/t_gyr"][()]) == [2.0, 5.0, 10.0]
        assert np.array_equal(fh["cr/snapshots/j"][-1], fh["cr/j"][()])
    assert (tmp_path / "snap_spectra.png").stat().st_size > 10_000
    assert (tmp_path / "snap_profile.png").stat().st_size > 10_000
    assert (tmp_path / "snap_emission.png").stat().st_size > 10_000


def test_figures_command(tmp_path):
    assert main(["figures", "transport", "--outdir", str(tmp_path), *FAST]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"fig2_cr_radial.png", "fig3_cr_spectra.png"}


@pytest.mark.parametrize("argv, fragment", [
    (["transport", "--set", "source.alphx=2"], "did you mean 'source.alpha'"),
    (["transport", "--set", "grid.E_min_eV=1e19"], "must be below grid.E_max_eV"),
    (["transport", "missing.toml"], "does not exist"),
    (["transport", "--set", "novalue"], "expected section.key=value"),
    (["config", "show", "--set", "gas.inner_n0_cm3=-1"], "gas.inner_n0_cm3 = -1"),
    (["transport", "--set", "hadronic.yields=kafexhiu2014"], "gives photons only"),
    (["transport", "--set", 'emission.models=["corona", "coccons"]'], 'did you mean "cocoons"'),
])
def test_bad_input_is_one_line_and_status_2(argv, fragment, capsys, tmp_path):
    assert main([*argv, "-o", str(tmp_path / "x.h5")] if argv[0] == "transport" else argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_config_commands(capsys):
    assert main(["config", "show", "--set", "source.alpha=2.1"]) == 0
    assert "alpha = 2.1" in capsys.readouterr().out
    assert main(["config", "keys"]) == 0
    assert "`D0_cm2_s`" in capsys.readouterr().out


def test_installed_console_script(tmp_path):
    # the console script installed with the package, next to this interpreter (whatever PATH is)
    exe = shutil.which("corona", path=str(Path(sys.executable).parent))
    assert exe, f"console script 'corona' not installed next to {sys.executable}"
    bad = subprocess.run([exe, "transport", "--set", "gas.profile=maxbeta", "-o", str(tmp_path / "x.h5")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "max_beta" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "montecarlo.cli", "config", "show"],
                          capture_output=True, text=True)
    assert good.returncode == 0 and "[source]" in good.stdout


# --------------------------------------------------------------------------- survival
SURV = ["survival", "--set", "opacity.grid=coarse", "-q"]


def test_survival_prints_a_table(capsys):
    assert main([*SURV, "--l", "0", "--b", "0", "--distance-kpc", "8.5",
                 "--E-min-eV", "1e13", "--E-max-eV", "1e16", "--per-decade", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("# P_surv from l = 0 deg, b = 0 deg, d = 8.5 kpc")
    assert out[1].split()[1:] == ["E_eV", "P_cmb+dust", "P_cmb", "P_dust"]
    rows = np.array([[float(v) for v in line.split()] for line in out[2:]])
    assert rows.shape == (7, 4)
    assert np.allclose(rows[:, 1], rows[:, 2] * rows[:, 3], rtol=1e-5, atol=0)   # exp(-tau) adds up
    import montecarlo as mc
    assert np.allclose(rows[:, 1], mc.survival_probability(rows[:, 0], 0, 0, 8.5,
                                                           config={"opacity.grid": "coarse"}),
                       rtol=1e-5, atol=0)


def test_survival_plot(tmp_path, capsys):
    png = tmp_path / "fig5.png"
    assert main([*SURV, "--l", "30", "--b", "0", "--distance-kpc", "12", "--fields", "cmb,dust",
                 "--per-decade", "1", "--plot", str(png)]) == 0
    assert png.stat().st_size > 20_000


@pytest.mark.parametrize("extra, fragment", [
    (["--fields", "cmb,dusty"], "did you mean 'dust'"),
    (["--E-min-eV", "1e5"], "E_eV = 100000 is outside"),
    (["--E-min-eV", "1e16", "--E-max-eV", "1e15"], "must be below"),
])
def test_survival_bad_input(extra, fragment, capsys):
    assert main([*SURV, "--l", "0", "--b", "0", "--distance-kpc", "8.5", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_survival_negative_distance(capsys):
    assert main([*SURV, "--l", "0", "--b", "0", "--distance-kpc=-2"]) == 2
    assert "distance_kpc = -2 is not allowed" in capsys.readouterr().err
