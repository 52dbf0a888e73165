"""Cosmic-ray transport in the Milky Way corona and the emission it produces.

Public API:
    load_config(path_or_mapping=None, overrides=None) -> Config
    solve(config) -> TransportSolution   (arrays r_kpc, E_eV, j in cm^-3 eV^-1)
"""
from .config import Config, load_config
from .errors import ConfigError, CoronaError, DataFileError
from .solver import DiffusionRegimeWarning, TransportSolution, solve

__all__ = ["Config", "ConfigError", "CoronaError", "DataFileError", "DiffusionRegimeWarning",
           "TransportSolution", "load_config", "solve"]
