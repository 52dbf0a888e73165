"""Steady-state cosmic-ray diffusion in the Galactic halo: the CR sea of the plane models
[L, D, K] (docs/papers.md, "The cosmic-ray sea").

Above ~10 GV the transport of Galactic protons and nuclei is diffusion in a cylinder of
radius R_h and half-height H with free escape at its surface; reacceleration, convection,
energy losses and spallation change the spectra by less than the papers' spread there
(GALPROP's DR model of [L] Table I, DRAGON's KRA-gamma of [D]). For a source density Q(E) f(R, z)
the density n(E, R, z) obeys, at every rigidity rho,

    -(1/R) d/dR (R D(rho, R) dn/dR) - d/dz (D(rho, R) dn/dz) = Q f(R, z),
    n = 0 at R = R_h and |z| = H,  dn/dR = 0 at R = 0,  dn/dz = 0 at z = 0 (mirror symmetry),

solved here by conservative finite volumes on cells of (R, z) (fluxes through cell faces, second
order on a uniform grid) and one sparse LU solve per rigidity. The diffusion coefficient is

- "uniform": D = D0 (rho / rho0)^delta, the same everywhere (GALPROP / conventional models, [L]
  Table I: D0 = 7.69e28 cm^2/s at rho0 = 4 GV, delta = 0.362; the beta^eta factor is 1 above
  10 GV). The spatial shape of n then does not depend on rho.
- "kra_gamma": D = D0 (rho / rho0)^delta(R) with delta(R) = A R + B for R < R_A and
  A R_A + B beyond (the KRA-gamma model of Gaggero et al. 2015, PRD 91, 083012: A = 0.035
  kpc^-1, B = 0.21, R_A = 11 kpc; delta = 0.5 near the Sun): towards the inner Galaxy D grows
  more slowly with rigidity, so the CR spectrum hardens there [D].

Lengths are in kpc, D in cm^2/s, Q in cm^-3 s^-1 and n in cm^-3.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from transport.core.constants import KPC_CM
from transport.core.errors import ArgumentError

#: Diffusion models (config key sea.transport).
TRANSPORT_MODELS = ("uniform", "kra_gamma")


@dataclass(frozen=True)
class HaloGrid:
    """Finite-volume cells of the halo: R in [0, R_h], z in [0, H] (mirrored below the plane).
    Faces and centres in kpc."""
    R_faces: np.ndarray
    z_faces: np.ndarray

    @property
    def R_centres(self) -> np.ndarray:
        return 0.5 * (self.R_faces[1:] + self.R_faces[:-1])

    @property
    def z_centres(self) -> np.ndarray:
        return 0.5 * (self.z_faces[1:] + self.z_faces[:-1])

    @property
    def shape(self) -> tuple[int, int]:
        return self.R_faces.size - 1, self.z_faces.size - 1

    def volumes_kpc3(self) -> np.ndarray:
        """Cell volumes pi (R_out^2 - R_in^2) dz [kpc^3], shape (n_R, n_z), for z >= 0."""
        ring = np.pi * np.diff(self.R_faces ** 2)
        return ring[:, None] * np.diff(self.z_faces)[None, :]


def halo_grid(R_halo_kpc: float, H_kpc: float, R_step_kpc: float, z_step_kpc: float) -> HaloGrid:
    """Uniform cells of at most R_step x z_step filling [0, R_h] x [0, H]."""
    for name, value in (("R_halo_kpc", R_halo_kpc), ("H_kpc", H_kpc), ("R_step_kpc", R_step_kpc),
                        ("z_step_kpc", z_step_kpc)):
        if not (np.isfinite(value) and value > 0):
            raise ArgumentError(f"{name} = {value!r} is not allowed: expected a positive length [kpc]")
    n_R = max(2, int(np.ceil(R_halo_kpc / R_step_kpc - 1e-9)))
    n_z = max(2, int(np.ceil(H_kpc / z_step_kpc - 1e-9)))
    return HaloGrid(np.linspace(0.0, R_halo_kpc, n_R + 1), np.linspace(0.0, H_kpc, n_z + 1))


def diffusion_index(R_kpc, model: str, delta: float, A_per_kpc: float = 0.0, B: float = 0.0,
                    R_A_kpc: float = 0.0):
    """Rigidity index delta of D at radius R: ``delta`` everywhere for "uniform"; the KRA-gamma
    delta(R) = A min(R, R_A) + B for "kra_gamma" (Gaggero et al. 2015)."""
    R = np.asarray(R_kpc, dtype=float)
    if model == "uniform":
        return np.full(R.shape, float(delta))
    if model == "kra_gamma":
        return A_per_kpc * np.minimum(R, R_A_kpc) + B
    raise ArgumentError(f"transport model {model!r} is not allowed: expected one of "
                        + ", ".join(f'"{m}"' for m in TRANSPORT_MODELS))


def diffusion_coefficient_cm2_s(rigidity_V, R_kpc, D0_cm2_s: float, rho0_V: float, index):
    """D(rho, R) = D0 (rho / rho0)^delta(R) [cm^2/s]; ``index`` = delta at every R (broadcast)."""
    rho = np.asarray(rigidity_V, dtype=float)
    return D0_cm2_s * (rho[..., None] / rho0_V) ** np.asarray(index, dtype=float)


def _operator(grid: HaloGrid, D_R_cm2_s):
    """Sparse matrix L with L n = (integral over each cell of -div(D grad n)) [kpc^3 cm^-3 s^-1]
    for D depending on R only: D at the cell centres (n_R,), harmonic means on radial faces."""
    n_R, n_z = grid.shape
    D = np.asarray(D_R_cm2_s, dtype=float) / KPC_CM ** 2          # kpc^2 / s
    Rf, zf = grid.R_faces, grid.z_faces
    Rc, zc = grid.R_centres, grid.z_centres
    dz = np.diff(zf)
    ring = np.pi * np.diff(Rf ** 2)                                  # kpc^2
    # radial conductances between cells i and i+1 (area 2 pi R_f dz, distance dR)
    D_face = 2.0 * D[:-1] * D[1:] / (D[:-1] + D[1:])
    g_R = (2.0 * np.pi * Rf[1:-1] * D_face / np.diff(Rc))[:, None] * dz[None, :]
    g_out = (2.0 * np.pi * Rf[-1] * D[-1] / (Rf[-1] - Rc[-1])) * dz    # to n = 0 at R_h
    # vertical conductances between cells k and k+1 (area ring, distance dzc)
    g_z = (ring * D)[:, None] / np.diff(zc)[None, :]
    g_top = ring * D / (zf[-1] - zc[-1])                             # to n = 0 at H
    idx = np.arange(n_R * n_z).reshape(n_R, n_z)
    diag = np.zeros((n_R, n_z))
    diag[:-1, :] += g_R
    diag[1:, :] += g_R
    diag[-1, :] += g_out
    diag[:, :-1] += g_z
    diag[:, 1:] += g_z
    diag[:, -1] += g_top
    rows = [idx.ravel(), idx[:-1, :].ravel(), idx[1:, :].ravel(), idx[:, :-1].ravel(), idx[:, 1:].ravel()]
    cols = [idx.ravel(), idx[1:, :].ravel(), idx[:-1, :].ravel(), idx[:, 1:].ravel(), idx[:, :-1].ravel()]
    vals = [diag.ravel(), -g_R.ravel(), -g_R.ravel(), -g_z.ravel(), -g_z.ravel()]
    return sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n_R * n_z,) * 2)


def solve_steady(grid: HaloGrid, D_R_cm2_s, source_cm3_s) -> np.ndarray:
    """Density n [cm^-3] on the cell centres, shape (n_R, n_z), of the steady diffusion problem
    (module docstring) with D(R) at the cell centres [cm^2/s] and the source density Q f at the
    cell centres [cm^-3 s^-1]."""
    S = np.asarray(source_cm3_s, dtype=float)
    if S.shape != grid.shape:
        raise ArgumentError(f"source has shape {S.shape}: expected {grid.shape} (the cells)")
    D = np.asarray(D_R_cm2_s, dtype=float)
    if D.shape != (grid.shape[0],) or not np.all(np.isfinite(D) & (D > 0)):
        raise ArgumentError(f"D_R_cm2_s must be {grid.shape[0]} positive finite values (one per "
                            "radial cell)")
    rhs = (S * grid.volumes_kpc3()).ravel()
    return splu(_operator(grid, D)).solve(rhs).reshape(grid.shape)


def escape_rate_s(grid: HaloGrid, D_R_cm2_s, n_cm3) -> float:
    """Particles per second leaving the upper half of the halo through its surface (R = R_h
    and z = H) for the density ``n`` [cm^-3 kpc^3 / s]; in steady state it equals the
    integrated source of the upper half (the solver's conservation check)."""
    D = np.asarray(D_R_cm2_s, dtype=float) / KPC_CM ** 2
    Rf, zf = grid.R_faces, grid.z_faces
    ring = np.pi * np.diff(Rf ** 2)
    top = np.sum(ring * D * n_cm3[:, -1] / (zf[-1] - grid.z_centres[-1]))
    side = np.sum(2.0 * np.pi * Rf[-1] * D[-1] * n_cm3[-1, :] / (Rf[-1] - grid.R_centres[-1])
                  * np.diff(zf))
    return float(top + side)
