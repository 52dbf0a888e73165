"""Spatial shapes of the Galactic-plane models f(R, z) (docs/physics.md, section 7).

R is the Galactocentric cylindrical radius and z the height above the plane [kpc]. Shapes are
dimensionless, equal to 1 at their reference point (R_ref, 0) (anywhere inside the uniform
disk); :func:`volume_kpc3` gives their volume integral, so f / volume is a density normalised
to unit volume integral [K, eq. 1-3].

- "uniform": 1 for R < R_disk and |z| < z_disk [T, eq. 8], R_disk = 15 kpc, z_disk = 0.2 kpc.
- "snr_tibet": (R/R_ref)^zeta exp(-eta (R - R_ref)/R_ref - |z|/z_g) [T, eq. 9] with zeta = 1.09,
  eta = 3.87 (Green 2015), z_g = 0.2 kpc, R_ref = 8.5 kpc.
- "snr_lhaaso": the same form with 1.25, 3.56, z_s = 0.2 kpc, R_ref = 8.3 kpc [L, eq. 2].
- "pulsar": pulsar surface density of Lorimer et al. 2006 (MNRAS 372, 777, eq. 10: B = 1.9,
  C = 5.0, R_sun = 8.5 kpc) with their exponential height distribution of scale 0.33 kpc.
"""
from __future__ import annotations

import math

import numpy as np

from transport.core.grid import log_grid

#: Distribution names (and the config-key prefixes of their parameters in [distributions]).
DISTRIBUTIONS = ("uniform", "snr_tibet", "snr_lhaaso", "pulsar")

#: First non-zero radial node of the power-exponential tables [kpc].
R_MIN_NODE_KPC = 0.01


def uniform_disk(R_kpc, z_kpc, R_disk_kpc, z_disk_kpc):
    """1 inside the disk R < R_disk, |z| < z_disk, 0 outside [T, eq. 8]."""
    R, z = np.broadcast_arrays(np.asarray(R_kpc, dtype=float), np.asarray(z_kpc, dtype=float))
    return np.where((R < R_disk_kpc) & (np.abs(z) < z_disk_kpc), 1.0, 0.0)


def power_exponential(R_kpc, z_kpc, index, eta, z_scale_kpc, R_ref_kpc):
    """(R/R_ref)^index exp(-eta (R - R_ref)/R_ref - |z|/z_scale): the SNR forms of [T, eq. 9]
    and [L, eq. 2] and the pulsar density of Lorimer et al. 2006 (eq. 10, index B, eta C)."""
    R, z = np.broadcast_arrays(np.asarray(R_kpc, dtype=float), np.asarray(z_kpc, dtype=float))
    return ((R / R_ref_kpc) ** index
            * np.exp(-eta * (R - R_ref_kpc) / R_ref_kpc - np.abs(z) / z_scale_kpc))


def parameters(name: str, section) -> dict:
    """Parameters of distribution ``name`` from the ``[distributions]`` config section."""
    if name == "uniform":
        return {"R_disk_kpc": section["uniform_R_kpc"], "z_disk_kpc": section["uniform_z_kpc"]}
    if name == "pulsar":
        return {"index": section["pulsar_B"], "eta": section["pulsar_C"],
                "z_scale_kpc": section["pulsar_z_kpc"], "R_ref_kpc": section["pulsar_R_ref_kpc"]}
    if name in ("snr_tibet", "snr_lhaaso"):
        return {"index": section[f"{name}_zeta"], "eta": section[f"{name}_eta"],
                "z_scale_kpc": section[f"{name}_z_kpc"], "R_ref_kpc": section[f"{name}_R_ref_kpc"]}
    raise ValueError(f"unknown distribution {name!r}")


def shape(name: str, section, R_kpc, z_kpc) -> np.ndarray:
    """f(R, z) of distribution ``name`` (1 at the reference point)."""
    p = parameters(name, section)
    if name == "uniform":
        return uniform_disk(R_kpc, z_kpc, **p)
    return power_exponential(R_kpc, z_kpc, **p)


def reference_point_kpc(name: str, section) -> tuple[float, float]:
    """(R, z) where f = 1: R_ref of the power-exponential forms, the centre of the uniform disk."""
    return (0.0, 0.0) if name == "uniform" else (parameters(name, section)["R_ref_kpc"], 0.0)


def volume_kpc3(name: str, section) -> float:
    """Integral f dV over all space [kpc^3]: pi R_disk^2 2 z_disk for the uniform disk;
    2 pi e^eta R_ref^-a Gamma(a + 2) (R_ref/eta)^(a + 2) 2 z_s for the power-exponential."""
    p = parameters(name, section)
    if name == "uniform":
        return math.pi * p["R_disk_kpc"] ** 2 * 2.0 * p["z_disk_kpc"]
    a, b, R0 = p["index"], p["eta"], p["R_ref_kpc"]
    radial = 2.0 * math.pi * math.exp(b) * R0 ** -a * math.gamma(a + 2.0) * (R0 / b) ** (a + 2.0)
    return radial * 2.0 * p["z_scale_kpc"]


def table_nodes(name: str, section, R_max_kpc, z_max_kpc, R_per_decade, z_step_kpc):
    """(R nodes, z nodes) [kpc] on which the axisymmetric table (bilinear in ln q) reproduces
    f: exactly for the uniform disk (its edges repeated, as discontinuities, on a coarse grid)
    and in |z| (exponential); for the power-exponential forms R = 0, then log-spaced from
    R_MIN_NODE_KPC with n per decade, where the R^a factor is reproduced to a h^2 / 8,
    h = 10^(1/n) - 1 (0.15 % for a = 1.9, n = 30) and the exp(-eta R) factor exactly. Inside
    the first node (a fraction 1e-7 of a 30 kpc disk) the table is linear in q."""
    z = np.linspace(0.0, z_max_kpc, max(2, math.ceil(z_max_kpc / z_step_kpc - 1e-9) + 1))
    if name == "uniform":
        p = parameters(name, section)
        Rd, zd = p["R_disk_kpc"], p["z_disk_kpc"]
        R = np.linspace(0.0, R_max_kpc, 7)
        if Rd < R_max_kpc:
            R = np.sort(np.concatenate([R[R != Rd], [Rd, Rd]]))
        if zd < z_max_kpc:
            z = np.sort(np.concatenate([z[z != zd], [zd, zd]]))
        return R, z
    return np.concatenate([[0.0], log_grid(R_MIN_NODE_KPC, R_max_kpc, R_per_decade)]), z


def tabulate(name: str, section, R_nodes, z_nodes) -> np.ndarray:
    """f on the (R, z) nodes, shape (n_R, n_z); at a repeated node (a discontinuity) the first
    copy takes the value from the inside (left) and the second from the outside (right)."""
    RR, ZZ = np.meshgrid(R_nodes, z_nodes, indexing="ij")
    f = shape(name, section, RR, ZZ)
    if name == "uniform":
        p = parameters(name, section)
        first_R = np.r_[True, np.diff(R_nodes) > 0]         # first copy of each node
        first_z = np.r_[True, np.diff(z_nodes) > 0]
        R_in = np.where(first_R[:, None] & (RR == p["R_disk_kpc"]), True, RR < p["R_disk_kpc"])
        z_in = np.where(first_z[None, :] & (ZZ == p["z_disk_kpc"]), True, ZZ < p["z_disk_kpc"])
        f = np.where(R_in & z_in, 1.0, 0.0)
    return f
