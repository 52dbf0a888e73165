"""Galactic-plane models fitted to Tibet ASgamma and compared with LHAASO: the fits, the
asymmetric-error chi^2 (docs/physics.md, sec. 7)."""
