"""Stages that start from a saved file: `corona sky --transport-file` reads the emission tables
written by `corona transport` and gives the same sky as the chain run from scratch."""
import h5py
import numpy as np
import pytest

from montecarlo.cli import main

SMALL = ["--set", "sky.nside=2", "--set", "galactic_plane.fit=false", "--set", 'sky.models=["corona"]',
         "--set", 'sky.particles=["nu"]', "--set", "sky.E_per_decade=1", "-q"]


def test_sky_from_transport_file_matches_the_full_chain(tmp_path):
    saved = tmp_path / "transport.h5"
    assert main(["transport", "-o", str(saved), "--set", 'emission.models=["corona"]',
                 "--set", 'emission.particles=["nu"]', "-q"]) == 0
    assert main(["sky", "-o", str(tmp_path / "direct.h5")] + SMALL) == 0
    assert main(["sky", "--transport-file", str(saved), "-o", str(tmp_path / "from_file.h5")] + SMALL) == 0
    with h5py.File(tmp_path / "direct.h5") as a, h5py.File(tmp_path / "from_file.h5") as b:
        direct, loaded = a["sky/corona/nu/map"][()], b["sky/corona/nu/map"][()]
    assert direct.shape == loaded.shape and direct.min() > 0
    # the saved table is the same table (float64 round trip): identical to rounding
    np.testing.assert_allclose(loaded, direct, rtol=1e-12, atol=0)


def test_sky_from_a_file_without_emission_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as fh:
        fh["x"] = 1.0
    assert main(["sky", "--transport-file", str(bad), "-o", str(tmp_path / "s.h5")] + SMALL) == 2
    err = capsys.readouterr().err
    assert "--transport-file" in err and "Traceback" not in err


@pytest.mark.parametrize("particle", ["gamma"])
def test_sky_from_file_missing_a_particle_names_it(tmp_path, capsys, particle):
    saved = tmp_path / "transport.h5"
    assert main(["transport", "-o", str(saved), "--set", 'emission.models=["corona"]',
                 "--set", 'emission.particles=["nu"]', "-q"]) == 0
    args = SMALL[:-3] + ["--set", f'sky.particles=["{particle}"]', "-q"]
    assert main(["sky", "--transport-file", str(saved), "-o", str(tmp_path / "s.h5")] + args) == 2
    assert f"/emission/corona/{particle}" in capsys.readouterr().err
