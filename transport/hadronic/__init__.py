"""Proton-proton collisions: the inelastic cross-section, the secondary yield models (AAfrag,
Kafexhiu 2014, Kamae 2006, Kelner et al. 2006), emissivities of gamma rays and neutrinos and
neutrino flavour mixing (docs/physics.md, sec. 3)."""
from transport.hadronic.cross_section import sigma_inel_cm2, sigma_inel_kafexhiu2014_mb

__all__ = ["sigma_inel_cm2", "sigma_inel_kafexhiu2014_mb"]
