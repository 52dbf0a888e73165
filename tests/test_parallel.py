"""montecarlo.parallel: batch streams, exact (order-independent) sums, checkpoints, MPI.

The toy "simulation" draws 1000 exponential numbers per batch from the batch's own stream and
tallies them into 5 bins; its expectation is known, and its result must not depend on the
number of ranks or on a restart.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from montecarlo import parallel
from transport.core.errors import CoronaError

HERE = Path(__file__).parent


def toy(seed):
    def simulate(b):
        x = parallel.batch_generator(seed, b).exponential(size=1000)
        return np.histogram(x, bins=[0, 0.5, 1, 2, 4, np.inf])[0].astype(float)
    return simulate


def test_streams_belong_to_batches_not_order():
    a = parallel.batch_generator(7, 3).random(4)
    parallel.batch_generator(7, 2).random(100)
    np.testing.assert_array_equal(parallel.batch_generator(7, 3).random(4), a)
    assert not np.array_equal(parallel.batch_generator(7, 4).random(4), a)
    assert not np.array_equal(parallel.batch_generator(8, 3).random(4), a)


def test_double_double_sum_is_order_independent():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(20000) * 10.0 ** rng.integers(-8, 8, 20000)
    hi = lo = 0.0
    for v in x:
        hi, lo = parallel.dd_add(hi, lo, v)
    hi2 = lo2 = 0.0
    for v in x[::-1]:
        hi2, lo2 = parallel.dd_add(hi2, lo2, v)
    import math
    exact = math.fsum(x)
    assert hi + lo == exact and hi2 + lo2 == exact


def test_serial_result_matches_expectation_and_chunking():
    r1 = parallel.run_batches(toy(5), 40, (5,), chunk_batches=7, progress=False)
    r2 = parallel.run_batches(toy(5), 40, (5,), chunk_batches=40, progress=False)
    np.testing.assert_array_equal(r1.total, r2.total)
    p = np.diff(1.0 - np.exp(-np.array([0, 0.5, 1, 2, 4, np.inf])))
    n = 40 * 1000
    # multinomial counts: 5 sigma of sqrt(n p (1 - p))
    assert np.all(np.abs(r1.total - n * p) < 5 * np.sqrt(n * p * (1 - p)))


def test_checkpoint_resume_gives_the_same_sum(tmp_path):
    ck = tmp_path / "run.ckpt.h5"
    calls = []

    def failing(b):
        calls.append(b)
        if b == 25:
            raise RuntimeError("simulated crash")
        return toy(9)(b)

    with pytest.raises(RuntimeError):
        parallel.run_batches(failing, 40, (5,), checkpoint_path=ck, chunk_batches=10,
                             fingerprint="x", progress=False)
    assert ck.is_file()
    calls.clear()
    resumed = parallel.run_batches(failing_fixed := toy(9), 40, (5,), checkpoint_path=ck,
                                   chunk_batches=10, fingerprint="x", progress=False)
    assert resumed.resumed_from == 20 and not ck.exists()
    full = parallel.run_batches(failing_fixed, 40, (5,), chunk_batches=10, progress=False)
    np.testing.assert_array_equal(resumed.total, full.total)
    # a checkpoint from another run is refused, not silently mixed in
    with pytest.raises(RuntimeError):
        parallel.run_batches(failing, 40, (5,), checkpoint_path=ck, chunk_batches=10,
                             fingerprint="x", progress=False)
    with pytest.raises(CoronaError, match="different run"):
        parallel.run_batches(toy(9), 40, (5,), checkpoint_path=ck, chunk_batches=10,
                             fingerprint="y", progress=False)


def test_mpirun_without_mpi4py_says_so(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(CoronaError, match="mpi4py is not installed"):
        parallel.world()


def _mpirun():
    exe = Path(sys.executable).parent / "mpirun"
    return str(exe) if exe.exists() else None


@pytest.mark.skipif(_mpirun() is None, reason="no mpirun beside the interpreter (extra 'mpi')")
def test_two_ranks_give_the_serial_result(tmp_path):
    serial = parallel.run_batches(toy(11), 23, (5,), chunk_batches=4, progress=False).total
    out = tmp_path / "mpi.npy"
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    proc = subprocess.run([_mpirun(), "-n", "2", sys.executable, str(HERE / "mpi_scripts" / "toy_batches.py"),
                           str(out)], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(out), serial)
