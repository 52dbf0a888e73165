"""Cosmic-ray transport in the Milky Way corona and the emission it produces.

Public API:
    load_config(path_or_mapping=None, overrides=None) -> Config
    solve(config) -> TransportSolution   (arrays r_kpc, E_eV, j in cm^-3 eV^-1)
    pp_emissivity(E_p_eV, j_p, n_gas_cm3, E_eV, particle="gamma", model="aafrag")
        -> q in cm^-3 s^-1 eV^-1 of pp secondaries
    SphericalEmission(r_kpc, E_eV, q), AxisymmetricEmission(R_kpc, z_kpc, E_eV, q)
        -> tabulated q(E, x), evaluated at Galactocentric points (numba kernels in
           transport.emission.table_kernels)
    corona_emission(solution, particle) -> SphericalEmission of the corona
    build_emission(config, model, particle, solution=None), build_emissions(config, solution)
        -> the configured models ("corona", "disk", "cocoons", "extra1", "extra2")
    read_emission(hdf5_dataset) -> the SphericalEmission or AxisymmetricEmission saved there

Citations [C], [T], [L], [K], [D] are the papers the model follows, referenced in full in
docs/physics.md. Importing the package points numba's kernel cache at the project's cache
directory (:mod:`transport.core.cachedir`).
"""
from transport.core.cachedir import configure_numba_cache

configure_numba_cache()          # before any kernel module is imported

from transport.core.config import Config, load_config
from transport.emission.corona import YieldRangeWarning, corona_emission
from transport.emission.tables import AxisymmetricEmission, SphericalEmission, read_emission
from transport.emission.registry import (MODEL_NAMES, build_emission, build_emissions,
                                         emission_energy_grid)
from transport.core.errors import ArgumentError, ConfigError, CoronaError, DataFileError
from transport.hadronic.secondaries import PARTICLES, pp_emissivity
from transport.cosmicrays.solver import DiffusionRegimeWarning, TransportSolution, solve

__all__ = ["ArgumentError", "AxisymmetricEmission", "Config", "ConfigError", "CoronaError",
           "DataFileError", "DiffusionRegimeWarning", "MODEL_NAMES", "PARTICLES",
           "SphericalEmission", "TransportSolution", "YieldRangeWarning", "build_emission",
           "build_emissions", "corona_emission", "emission_energy_grid", "load_config",
           "pp_emissivity", "read_emission", "solve"]
