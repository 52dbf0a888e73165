"""Pair-production opacity: the Breit-Wheeler cross-section and kernels, interaction-rate
tables cached on disk, their numba kernels, and the public API (mean free paths, optical
depths, survival probabilities; docs/physics.md, sec. 4)."""
from montecarlo.opacity.api import (Opacity, check_fields, mean_free_path_kpc, opacity_for,
                                    optical_depth_cosmological, optical_depth_ebl,
                                    optical_depth_galactic, survival_probability)

__all__ = ["Opacity", "check_fields", "mean_free_path_kpc", "opacity_for",
           "optical_depth_cosmological", "optical_depth_ebl", "optical_depth_galactic",
           "survival_probability"]
