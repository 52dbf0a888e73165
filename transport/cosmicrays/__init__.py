"""Cosmic-ray protons in the corona: gas profile, diffusion coefficient, injection (the corona
source and the Galactic-plane injection spectra), the implicit finite-volume solver with its
numba kernels, and the normalisation to the observed flux at the Sun (docs/physics.md, sec. 1-2)."""
