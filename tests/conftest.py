"""Shared fixtures: solved once per test session (numba kernels load from the on-disk cache)."""
import os
from pathlib import Path
import warnings

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

import transport  # noqa: E402


@pytest.fixture(scope="session")
def rate_config():
    """Factory: a config in normalization mode "rate" plus a dict of dotted-key overrides."""
    def make(overrides=None):
        return transport.load_config({"normalization.mode": "rate", **(overrides or {})})
    return make


@pytest.fixture(scope="session")
def baseline():
    """The bundled default model ([C] baseline), normalised to H3a protons."""
    return transport.solve()


@pytest.fixture(scope="session")
def solve_quiet():
    """solve() with the diffusion-regime warning silenced (for D0 = 4e30 scans)."""
    def run(cfg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", transport.DiffusionRegimeWarning)
            return transport.solve(cfg)
    return run


@pytest.fixture(scope="session", autouse=True)
def _opacity_cache_dir(tmp_path_factory):
    """Rate tables of the test session go to a fresh cache directory (built once per session)."""
    previous = os.environ.get("CORONA_CACHE_DIR")
    os.environ["CORONA_CACHE_DIR"] = str(tmp_path_factory.mktemp("corona-cache"))
    yield
    if previous is None:
        os.environ.pop("CORONA_CACHE_DIR", None)
    else:
        os.environ["CORONA_CACHE_DIR"] = previous


#: CI-size opacity config: the "coarse" dust table (built in a few seconds).
COARSE = {"opacity.grid": "coarse"}


@pytest.fixture(scope="session")
def coarse_opacity():
    """Opacity of the default model with the CI-size dust grid."""
    from montecarlo.opacity.api import opacity_for
    return opacity_for(transport.load_config(COARSE), progress=False)


@pytest.fixture(scope="session")
def corona_emissions(baseline):
    """Corona gamma-ray and all-flavour neutrino emissivity tables of the baseline model."""
    from transport.emission.registry import build_emission
    cfg = baseline.config
    return {p: build_emission(cfg, "corona", p, baseline) for p in ("gamma", "nu")}


@pytest.fixture
def serial_numba():
    """numba's parallel kernels on one thread for the test: references that call them one point
    at a time (scipy quad, ODE solvers) otherwise pay a parallel launch per point, ~25x slower
    on a busy 2-core machine for the same numbers."""
    import numba
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(threads)


@pytest.fixture
def wait_released():
    """wait(lock_path, timeout_s=60): block until the lock file is gone or its owner no longer
    runs. After `kill -9` of mpirun, its ranks are killed by the MPI launcher a moment later
    (they may sit in another process group); a restart before that is correctly refused as
    "in use", so tests that restart a killed job wait for the ranks first, as a user would."""
    import time as _time

    from transport.core.output import _lock_owner, _stale

    def wait(lock, timeout_s=60.0):
        deadline = _time.monotonic() + timeout_s
        while _time.monotonic() < deadline:
            owner = _lock_owner(Path(lock))
            if owner is None or (owner and _stale(owner)):
                return
            _time.sleep(0.05)
        raise AssertionError(f"lock '{lock}' still held after {timeout_s:g} s: {_lock_owner(Path(lock))}")
    return wait
