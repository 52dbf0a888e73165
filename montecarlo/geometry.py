"""Galactic geometry: the Sun's position, Galactic coordinates and Galactocentric frames.

Frames ([T], Sec. 2.1; docs/physics.md, section 5):

- Galactocentric (GC) frame: Cartesian x, y, z in kpc, the Galactic centre at the origin,
  the Galactic plane z = 0, the Sun at (-r_sun, 0, 0).
- Galactic coordinates seen from the Sun: x_g = s (cos b cos l, cos b sin l, sin b), with
  the x-axis towards the Galactic centre; x = x_g + x_sun.
- Local cylindrical frame at a point: e_R (away from the z-axis), e_phi, e_z. The photon
  fields are axisymmetric and symmetric under z -> -z, so the dust rate table is indexed by
  (R, |z|, mu, psi): mu = u.e_z (sign flipped when z < 0) and psi = the angle in [0, pi]
  between the horizontal part of u and e_R (computed in ``_kernels._local_aniso``).

All functions are pure and vectorised over their leading array arguments.
"""
from __future__ import annotations

import numpy as np


def sun_position_kpc(r_sun_kpc: float) -> np.ndarray:
    """The Sun in the Galactocentric frame: (-r_sun, 0, 0) [kpc] (in the plane)."""
    return np.array([-float(r_sun_kpc), 0.0, 0.0])


def direction_from_lb(l_deg, b_deg) -> np.ndarray:
    """Unit vector(s) towards Galactic longitude l and latitude b [deg], shape (..., 3)."""
    l = np.radians(np.asarray(l_deg, dtype=float))
    b = np.radians(np.asarray(b_deg, dtype=float))
    return np.stack([np.cos(b) * np.cos(l), np.cos(b) * np.sin(l), np.sin(b)], axis=-1)


def lb_from_direction(n):
    """Galactic (l, b) [deg] of unit vector(s) n (..., 3); l in [0, 360)."""
    n = np.asarray(n, dtype=float)
    l = np.degrees(np.arctan2(n[..., 1], n[..., 0])) % 360.0
    b = np.degrees(np.arcsin(np.clip(n[..., 2], -1.0, 1.0)))
    return l, b


def galactocentric_from_lbd(l_deg, b_deg, distance_kpc, r_sun_kpc: float) -> np.ndarray:
    """Galactocentric position [kpc] of a point at (l, b) and distance d from the Sun."""
    n = direction_from_lb(l_deg, b_deg)
    d = np.asarray(distance_kpc, dtype=float)[..., None]
    return sun_position_kpc(r_sun_kpc) + d * n
