"""Shared fixtures: solved once per test session (numba kernels load from the on-disk cache)."""
import os
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
