"""The deterministic line-of-sight integral of the emission, attenuated by pair production:
the fast path and the reference that the Monte Carlo is checked against (docs/physics.md, sec. 5)."""
from montecarlo.lineofsight.integrator import intensity

__all__ = ["intensity"]
