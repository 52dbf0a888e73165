"""Emission tables q(E, x) [cm^-3 s^-1 eV^-1]: spherical and axisymmetric tables with their
numba point kernels, and the models built from a configuration (corona, disk, cocoons,
EXTRA components; docs/physics.md, sec. 3 and 7)."""
from transport.emission.tables import AxisymmetricEmission, SphericalEmission, read_emission

__all__ = ["AxisymmetricEmission", "SphericalEmission", "read_emission"]
