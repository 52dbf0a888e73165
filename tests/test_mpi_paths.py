"""MPI paths that must neither hang nor mix streams: `corona run` under `mpirun -n 2` when the
extragalactic stage has to build its cascade response table (a collective Monte Carlo), an
error seen by the ranks (the job ends with the error, not a hang), and per-batch kernel seeds."""
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from montecarlo import parallel

MPIRUN = Path(sys.executable).parent / "mpirun"
needs_mpirun = pytest.mark.skipif(not MPIRUN.exists(), reason="no mpirun beside the interpreter")

TINY = ["grid.cells_per_decade=12", "grid.E_per_decade=4", "time.dt_max_gyr=0.5",
        "emission.E_per_decade=3", "sky.nside=2", "sky.E_per_decade=1", 'sky.fields=["cmb"]',
        'sky.regions=["tibet_A"]', "galactic_plane.fit=false", 'pipeline.extragalactic="on"',
        "extragalactic.seed=7", "extragalactic.table_primaries_per_cell=2"]


def _corona(args, tmp_path, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    env["CORONA_CACHE_DIR"] = str(tmp_path / "cache")      # the response table must be built
    cmd = [str(MPIRUN), "-n", "2", sys.executable, "-m", "montecarlo.cli"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path)


@needs_mpirun
def test_run_builds_the_cascade_table_on_two_ranks(tmp_path):
    sets = [a for s in TINY for a in ("--set", s)]
    proc = _corona(["run", "-o", "out", "--no-figures", "-q"] + sets, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with h5py.File(tmp_path / "out" / "corona_run.h5") as fh:
        assert "extragalactic" in fh.attrs["stages"]
    assert list((tmp_path / "cache").glob("response-*.h5")), "the built table is cached"


@needs_mpirun
def test_an_error_ends_the_whole_mpi_job(tmp_path):
    (tmp_path / "afile").write_text("x")
    proc = _corona(["mc", "-o", "afile/x.h5", "-q"], tmp_path, timeout=120)
    assert proc.returncode != 0
    assert "afile" in proc.stderr and "Traceback" not in proc.stderr


def test_kernel_seeds_of_one_run_are_distinct_32_bit_integers():
    seeds = [parallel.batch_kernel_seed32(5, b) for b in range(100000)]
    assert len(set(seeds)) == len(seeds) and 0 <= min(seeds) and max(seeds) < 2 ** 32
    assert parallel.batch_kernel_seed32(6, 0) != parallel.batch_kernel_seed32(5, 0)
    with pytest.raises(Exception, match="2\\^32"):
        parallel.batch_kernel_seed32(5, 2 ** 32)
    np.testing.assert_array_equal(parallel.batch_kernel_seed32(5, 3), seeds[3])
