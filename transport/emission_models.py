"""The emission models and their construction from a configuration.

Each model is a config section (PHYSICS.md sections 3 and 7); the corona comes from the
transport solution:

    "corona"   SphericalEmission     [C, eq. 6], from TransportSolution and [hadronic]
    "disk"     AxisymmetricEmission  [disk]: CR x gas in the Galactic plane [T, L]
    "cocoons"  AxisymmetricEmission  [cocoons]: source grammage [K]
    "extra1"   AxisymmetricEmission  [extra1]: unresolved sources, ECPL, 20 TeV [L]
    "extra2"   AxisymmetricEmission  [extra2]: unresolved sources, ECPL, 2 PeV [L]

All tables share the [emission] energy grid.
"""
from __future__ import annotations


import numpy as np

from .errors import ArgumentError
from .grid import log_grid
from .yields import MODELS as YIELD_MODELS

MODEL_NAMES = ("corona", "disk", "cocoons", "extra1", "extra2")


def emission_energy_grid(cfg) -> np.ndarray:
    """Log-spaced secondary energies [eV] from emission.E_min_eV to emission.E_max_eV
    ("auto": the proton grid's top, at most the highest energy of hadronic.yields)."""
    e = cfg.emission
    top = e.E_max_eV
    if top == "auto":
        top = min(cfg.grid.E_max_eV, YIELD_MODELS[cfg.hadronic.yields].secondary_max_eV)
    return log_grid(e.E_min_eV, top, e.E_per_decade)


def build_emission(cfg, model: str, particle: str, solution=None, E_eV=None):
    """The emission table of ``model`` for ``particle`` (a solution is needed for "corona")."""
    E = emission_energy_grid(cfg) if E_eV is None else np.asarray(E_eV, dtype=float)
    if model == "corona":
        if solution is None:
            raise ArgumentError('model = "corona" needs the transport solution (solution=None given)')
        from .corona_emission import corona_emission
        return corona_emission(solution, particle, E)
    if model == "disk":
        from .disk import disk_emission
        return disk_emission(cfg, particle, E)
    if model in ("extra1", "extra2"):
        from .disk import extra_emission
        return extra_emission(cfg, model, particle, E)
    if model == "cocoons":
        from .cocoons import cocoon_emission
        return cocoon_emission(cfg, particle, E)
    raise ArgumentError(f"model = {model!r} is not allowed: expected one of "
                        + ", ".join(f'"{m}"' for m in MODEL_NAMES))


def build_emissions(cfg, solution=None) -> dict:
    """{model: {particle: emission}} for every emission.models x emission.particles."""
    E = emission_energy_grid(cfg)
    return {model: {p: build_emission(cfg, model, p, solution, E) for p in cfg.emission.particles}
            for model in cfg.emission.models}
