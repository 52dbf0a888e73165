"""The emission models and their construction from a configuration.

Each model is a config section (docs/physics.md, sections 3 and 7); the corona comes from the
transport solution:

    "corona"   SphericalEmission     [C, eq. 6], from TransportSolution and [hadronic]
    "disk"     AxisymmetricEmission  [disk]: CR x gas in the Galactic plane [T, L]
    "cocoons"  AxisymmetricEmission  [cocoons]: source grammage [K]
    "extra1"   AxisymmetricEmission  [extra1]: unresolved sources, ECPL, 20 TeV [L]
    "extra2"   AxisymmetricEmission  [extra2]: unresolved sources, ECPL, 2 PeV [L]
    "sea"      AxisymmetricEmission  [sea]: CR sea (2D diffusion) x interstellar gas [L, D, K]

All tables share the [emission] energy grid.
"""
from __future__ import annotations


import numpy as np

from transport.core.errors import ArgumentError
from transport.emission.cocoons import cocoon_emission
from transport.emission.corona import corona_emission
from transport.emission.disk import disk_emission, extra_emission
from transport.emission.sea import sea_emission
from transport.emission.energy_grid import emission_energy_grid  # noqa: F401 (public here too)

MODEL_NAMES = ("corona", "disk", "cocoons", "extra1", "extra2", "sea")


def build_emission(cfg, model: str, particle: str, solution=None, E_eV=None):
    """The emission table of ``model`` for ``particle`` (a solution is needed for "corona")."""
    E = emission_energy_grid(cfg) if E_eV is None else np.asarray(E_eV, dtype=float)
    if model == "corona":
        if solution is None:
            raise ArgumentError('model = "corona" needs the transport solution (solution=None given)')
        return corona_emission(solution, particle, E)
    if model == "disk":
        return disk_emission(cfg, particle, E)
    if model in ("extra1", "extra2"):
        return extra_emission(cfg, model, particle, E)
    if model == "cocoons":
        return cocoon_emission(cfg, particle, E)
    if model == "sea":
        return sea_emission(cfg, particle, E)
    raise ArgumentError(f"model = {model!r} is not allowed: expected one of "
                        + ", ".join(f'"{m}"' for m in MODEL_NAMES))


def build_emissions(cfg, solution=None) -> dict:
    """{model: {particle: emission}} for every emission.models x emission.particles."""
    E = emission_energy_grid(cfg)
    return {model: {p: build_emission(cfg, model, p, solution, E) for p in cfg.emission.particles}
            for model in cfg.emission.models}
