"""Galactic geometry: the Sun's position, Galactic coordinates and Galactocentric frames.

Frames (seed 000, Sec. 2.1; PHYSICS.md section 5):

- Galactocentric (GC) frame: Cartesian x, y, z in kpc, the Galactic centre at the origin,
  the Galactic plane z = 0, the Sun at (-r_sun, 0, 0).
- Galactic coordinates seen from the Sun: x_g = s (cos b cos l, cos b sin l, sin b), with
  the x-axis towards the Galactic centre; x = x_g + x_sun.
- Local cylindrical frame at a point: e_R (away from the z-axis), e_phi, e_z. The photon
  fields are axisymmetric and symmetric under z -> -z, so direction-dependent quantities are
  tabulated against (R, |z|, mu, psi): mu = u.e_z (sign flipped when z < 0) and
  psi = the angle in [0, pi] between the horizontal part of u and e_R.

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


def cylindrical(x_kpc):
    """(R, phi, z) of Galactocentric position(s) x (..., 3): R [kpc], phi [rad], z [kpc]."""
    x = np.asarray(x_kpc, dtype=float)
    return np.hypot(x[..., 0], x[..., 1]), np.arctan2(x[..., 1], x[..., 0]), x[..., 2]


def local_direction(x_kpc, u):
    """Direction u at position x in the symmetry-reduced local frame: (R, |z|, mu, psi).

    mu = u_z, sign-flipped where z < 0 (mirror symmetry of the fields about the plane);
    psi in [0, pi] is the angle between the horizontal part of u and e_R (mirror symmetry
    about the plane through the z-axis and x). On the axis (R = 0) e_R is undefined and the
    fields are isotropic in azimuth: psi = 0 is returned.
    """
    x = np.asarray(x_kpc, dtype=float)
    u = np.asarray(u, dtype=float)
    R = np.hypot(x[..., 0], x[..., 1])
    safe = np.where(R > 0.0, R, 1.0)
    u_R = (u[..., 0] * x[..., 0] + u[..., 1] * x[..., 1]) / safe
    u_phi = (-u[..., 0] * x[..., 1] + u[..., 1] * x[..., 0]) / safe
    psi = np.where(R > 0.0, np.arctan2(np.abs(u_phi), u_R), 0.0)
    mu = np.where(x[..., 2] < 0.0, -u[..., 2], u[..., 2])
    return R, np.abs(x[..., 2]), mu, psi


def local_to_cartesian(mu, psi):
    """Unit vector(s) with local components (e_R, e_phi, e_z) = (sin t cos psi, sin t sin psi, mu)."""
    mu = np.asarray(mu, dtype=float)
    psi = np.asarray(psi, dtype=float)
    st = np.sqrt(np.clip(1.0 - mu * mu, 0.0, 1.0))
    return np.stack([st * np.cos(psi), st * np.sin(psi), mu], axis=-1)
