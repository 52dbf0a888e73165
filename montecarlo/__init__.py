"""Photons from emission to Earth: line-of-sight integrals, Monte Carlo, sky maps."""
