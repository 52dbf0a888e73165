"""Monte Carlo propagation of gamma rays to the Sun through pair production (docs/montecarlo.md):
source sampling, delta tracking, tallies (maps, all-sky, regions, dipole) with errors."""
from montecarlo.propagation.api import MCResult, monte_carlo
from montecarlo.propagation.sources import PointEmission

__all__ = ["MCResult", "PointEmission", "monte_carlo"]
