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
    """The bundled default model (seed 004 baseline), normalised to H3a all-particle."""
    return transport.solve()


@pytest.fixture(scope="session")
def solve_quiet():
    """solve() with the diffusion-regime warning silenced (for D0 = 4e30 scans)."""
    def run(cfg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", transport.DiffusionRegimeWarning)
            return transport.solve(cfg)
    return run
