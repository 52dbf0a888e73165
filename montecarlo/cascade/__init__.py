"""Coronae of other galaxies: the cosmological sum of the Milky Way corona's emission and the
electromagnetic cascade of its gamma rays on the EBL and CMB (docs/extragalactic.md)."""
