"""Cosmic-ray protons in the spherical corona: the implicit finite-volume diffusion solver.

Solves [C, eq. 4] (docs/physics.md, section 2)

    dj/dt = D(E) r^-2 d/dr(r^2 f(r) dj/dr) - c sigma_pp(E) n_gas(r) j + Q(E, r, t)

(f = 1 unless diffusion.radial_profile says otherwise; the conservative form keeps D(E, r)
inside the divergence) for all grid energies at once (no energy losses couple them), with
dj/dr = 0 at r = 0 and j = 0 at r_out, Crank-Nicolson steps after a backward-Euler start-up.
This module reads the config, builds the arrays and drives the kernels in
:mod:`transport.cosmicrays.solver_kernels`.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, replace

import numpy as np

from transport.cosmicrays import solver_kernels as _kernels
from transport.core.config import Config, load_config
from transport.core.constants import C_CM_S, GYR_S, KPC_CM
from transport.core.errors import ConfigError
from transport.core.estimates import check_memory
from transport.cosmicrays.diffusion import diffusion_coefficient, radial_factor
from transport.cosmicrays.gas import shell_average_density
from transport.core.grid import (RadialGrid, Segment, log_grid, loglog_interp, radial_grid,
                                 time_schedule)
from transport.hadronic.cross_section import sigma_inel_cm2
from transport.cosmicrays.normalization import (Normalization, proton_intensity, reference_flux,
                                                touch_normalization)
from transport.cosmicrays.corona_source import history, history_kinks_gyr, injection_spectrum
from transport.core.output import atomic_hdf5, provenance
from transport.core.output import write_array, write_emissions
from transport.core.progress import Bar, describe


class DiffusionRegimeWarning(UserWarning):
    """The diffusion speed D/r exceeds ~c/3: the diffusion equation does not hold there."""


@dataclass
class TransportProblem:
    """Arrays defining one transport problem (radii kpc, energies eV, CGS coefficients).

    D_cm2_s (n_E): D(E); f_faces (n_r + 1): radial factor of D at the cell faces;
    loss_cm3_s (n_E): c sigma_pp(E); n_gas_cm3 (n_r): cell-averaged gas density;
    src_E (n_E): source spectrum [cm^-3 s^-1 eV^-1] at h = 1; src_r (n_r): fraction of each
    cell inside the source sphere.
    """
    grid: RadialGrid
    E_eV: np.ndarray
    D_cm2_s: np.ndarray
    f_faces: np.ndarray
    loss_cm3_s: np.ndarray
    n_gas_cm3: np.ndarray
    src_E: np.ndarray
    src_r: np.ndarray

    def coefficients(self):
        """(tl, tr, vol): T_i/V_i, T_{i+1}/V_i [cm^-2] and cell volumes [cm^3] (4 pi included)."""
        faces = self.grid.faces * KPC_CM
        centers = self.grid.centers * KPC_CM
        vol = (faces[1:] ** 3 - faces[:-1] ** 3) / 3.0
        gap = np.empty(faces.size)
        gap[0] = np.inf                               # r = 0: no flux (regularity)
        gap[1:-1] = np.diff(centers)
        gap[-1] = faces[-1] - centers[-1]             # Dirichlet j = 0 on the outer face
        trans = faces ** 2 * self.f_faces / gap
        return trans[:-1] / vol, trans[1:] / vol, 4.0 * np.pi * vol


@dataclass
class Budget:
    """Particle budget per energy [eV^-1]: all four obey content = injected - escaped - lost."""
    injected: np.ndarray
    escaped: np.ndarray
    lost: np.ndarray
    content: np.ndarray

    def scaled(self, factor) -> "Budget":
        """The budget multiplied by ``factor`` (a number, or one per energy)."""
        return Budget(*(factor * a for a in (self.injected, self.escaped, self.lost, self.content)))


@dataclass
class EvolveResult:
    j: np.ndarray                 # (n_E, n_r) at the last time [cm^-3 eV^-1]
    t_gyr: float
    snapshot_t_gyr: np.ndarray    # output times (each snapshot and t_end)
    snapshot_j: np.ndarray        # (n_out, n_E, n_r)
    budget: Budget


def evolve(problem: TransportProblem, segments: list[Segment], history_fn, j0=None,
           progress: bool = False, description: str = "transport") -> EvolveResult:
    """Integrate the problem through the time schedule.

    history_fn: h(t_gyr), the source's time dependence (array in, array out).
    j0: initial j (n_E, n_r), zero by default. Snapshots are kept at every segment end
    flagged ``ends_at_output``.
    """
    n_e, n_r = problem.E_eV.size, problem.grid.size
    tl, tr, vol = problem.coefficients()
    j = np.zeros((n_e, n_r)) if j0 is None else np.array(j0, dtype=float, copy=True)
    content0 = j @ vol
    work = np.empty_like(j)
    cp = np.empty_like(j)
    inv_den = np.empty_like(j)
    injected, escaped, lost = np.zeros(n_e), np.zeros(n_e), np.zeros(n_e)
    snaps_t, snaps_j = [], []
    args = (problem.D_cm2_s, problem.loss_cm3_s, problem.src_E, tl, tr,
            problem.n_gas_cm3, problem.src_r, vol)
    total = sum(s.n_steps for s in segments)
    bar = Bar(total, describe(progress, description), "step")
    # one kernel call per segment; with a progress bar, ~100 calls in all (each call costs a
    # thread-pool launch and a history evaluation: 3 ms of a 27-ms solve on one thread, far
    # more with several threads on a loaded machine; benchmarks/bench_fit.py)
    chunk = max(1, total // 100) if progress else total
    for seg in segments:
        dt_s = seg.dt_gyr * GYR_S
        _kernels.factorize(seg.theta * dt_s, problem.D_cm2_s, problem.loss_cm3_s, tl, tr,
                           problem.n_gas_cm3, cp, inv_den)
        for k0 in range(0, seg.n_steps, chunk):
            k1 = min(seg.n_steps, k0 + chunk)
            h = np.asarray(history_fn(seg.t0_gyr + seg.dt_gyr * np.arange(k0, k1 + 1)), dtype=float)
            _kernels.advance(j, h, seg.theta, dt_s, *args, cp, inv_den, work,
                             injected, escaped, lost)
            bar.update(k1 - k0)
        if seg.ends_at_output:
            snaps_t.append(seg.t1_gyr)
            snaps_j.append(j.copy())
    bar.close()
    budget = Budget(injected, escaped, lost, j @ vol - content0)
    return EvolveResult(j=j, t_gyr=segments[-1].t1_gyr, snapshot_t_gyr=np.array(snaps_t),
                        snapshot_j=np.array(snaps_j), budget=budget)


# --------------------------------------------------------------------------- from a config
def energy_grid(cfg: Config) -> np.ndarray:
    """Log-spaced proton total energies [eV] from grid.E_min_eV to grid.E_max_eV."""
    g = cfg.grid
    return log_grid(g.E_min_eV, g.E_max_eV, g.E_per_decade)


def build_problem(cfg: Config, Q0: float = 1.0) -> TransportProblem:
    """Arrays of the transport problem described by ``cfg`` with source amplitude Q0."""
    grid = radial_grid(cfg.grid.r_min_kpc, cfg.grid.r_out_kpc, cfg.grid.cells_per_decade,
                       anchors_kpc=(cfg.source.r_Q_kpc, cfg.gas.R_max_kpc))
    E = energy_grid(cfg)
    inside = np.clip((cfg.source.r_Q_kpc ** 3 - grid.faces[:-1] ** 3)
                     / (grid.faces[1:] ** 3 - grid.faces[:-1] ** 3), 0.0, 1.0)
    return TransportProblem(
        grid=grid, E_eV=E,
        D_cm2_s=diffusion_coefficient(E, cfg.diffusion.D0_cm2_s, cfg.diffusion.delta),
        f_faces=radial_factor(grid.faces, cfg.diffusion),
        loss_cm3_s=C_CM_S * sigma_inel_cm2(E, cfg.hadronic),
        n_gas_cm3=shell_average_density(grid.faces[:-1], grid.faces[1:], cfg.gas),
        src_E=Q0 * injection_spectrum(E, cfg.source.alpha, cfg.source.E_cut_eV),
        src_r=inside,
    )


def schedule(cfg: Config) -> list[Segment]:
    return time_schedule(cfg.time.t_end_gyr, cfg.time.dt_max_gyr,
                         kinks_gyr=history_kinks_gyr(cfg.source.history),
                         snapshots_gyr=cfg.time.snapshots_gyr,
                         startup_steps=cfg.time.startup_steps)


def check_diffusion_regime(cfg: Config, problem: TransportProblem):
    """Warn if D(E, r)/r > c/3 at r >= r_Q for any energy below 10 E_cut.

    There the diffusive flux speed approaches c and the diffusion equation fails
    (docs/physics.md, section 2: D0 = 4e30 cm^2/s at the highest energies). Energies above
    10 E_cut carry an injection suppressed by e^-10 and are not reported.
    Returns the lowest affected energy [eV] or None.
    """
    faces = problem.grid.faces
    outside = faces >= cfg.source.r_Q_kpc
    speed = (problem.D_cm2_s[:, None] * problem.f_faces[None, outside]
             / (faces[None, outside] * KPC_CM)).max(axis=1)
    relevant = problem.E_eV <= 10.0 * cfg.source.E_cut_eV
    bad = relevant & (speed > C_CM_S / 3.0)
    if not np.any(bad):
        return None
    E_bad = problem.E_eV[bad]
    warnings.warn(
        f"D(E)/r exceeds c/3 beyond r_Q = {cfg.source.r_Q_kpc:g} kpc for E = {E_bad[0]:.3g}-"
        f"{E_bad[-1]:.3g} eV (D0 = {cfg.diffusion.D0_cm2_s:.3g} cm^2/s): the diffusion "
        "equation does not hold there and those energies are unreliable",
        DiffusionRegimeWarning, stacklevel=3)
    return float(E_bad[0])


@dataclass
class TransportSolution:
    """Cosmic-ray proton density in the corona.

    r_kpc (n_r): cell centres; E_eV (n_E): total energies; j (n_E, n_r): dn/dE at t_gyr
    [cm^-3 eV^-1]; snapshot_t_gyr / snapshot_j: every requested time (t_end last);
    Q0_cm3_s_eV: the source amplitude at 1 GeV the results correspond to;
    normalization: how Q0 was fixed (None in mode "rate"); budget: particle budget.
    """
    config: Config
    r_kpc: np.ndarray
    r_faces_kpc: np.ndarray
    E_eV: np.ndarray
    j: np.ndarray
    t_gyr: float
    snapshot_t_gyr: np.ndarray
    snapshot_j: np.ndarray
    n_gas_cm3: np.ndarray
    Q0_cm3_s_eV: float
    normalization: Normalization | None
    budget: Budget
    diffusion_invalid_from_eV: float | None = None

    def j_at(self, r_kpc: float) -> np.ndarray:
        """j(E) [cm^-3 eV^-1] at radius r_kpc (interpolated between cell centres)."""
        return loglog_interp(self.r_kpc, self.j, r_kpc, axis=1)

    def j_at_energy(self, E_eV: float) -> np.ndarray:
        """j(r) [cm^-3 eV^-1] at energy E_eV (interpolated between grid energies)."""
        return loglog_interp(self.E_eV, self.j, E_eV, axis=0)

    def flux_at(self, r_kpc: float) -> np.ndarray:
        """Isotropic intensity (beta c/4pi) j [cm^-2 s^-1 sr^-1 eV^-1] at radius r_kpc."""
        return proton_intensity(self.E_eV, self.j_at(r_kpc))

    def spectral_index(self, E1_eV: float, E2_eV: float, r_kpc: float) -> float:
        """Power-law index -d ln j / d ln E between the grid energies nearest E1 and E2."""
        i1 = int(np.argmin(np.abs(np.log(self.E_eV / E1_eV))))
        i2 = int(np.argmin(np.abs(np.log(self.E_eV / E2_eV))))
        j = self.j_at(r_kpc)
        return float(-np.log(j[i2] / j[i1]) / np.log(self.E_eV[i2] / self.E_eV[i1]))

    def write_hdf5(self, path, emissions=None) -> None:
        """Write /cr (and /cr/snapshots, /cr/budget, /normalization) atomically with provenance;
        with ``emissions`` ({model: {particle: emission}}, see :func:`transport.build_emissions`)
        also /emission/<model>/<particle>: q with its grids and units as attributes."""

        with atomic_hdf5(path) as fh:
            fh.attrs.update(provenance(self.config))
            self.write_groups(fh, emissions)

    def write_groups(self, fh, emissions=None) -> None:
        """The groups of :meth:`write_hdf5` in an open HDF5 file (no provenance attributes)."""

        cr = fh.create_group("cr")
        cr.attrs["t_gyr"] = self.t_gyr
        cr.attrs["Q0_cm3_s_eV"] = self.Q0_cm3_s_eV
        write_array(cr, "r_kpc", self.r_kpc, "kpc", "cell centres")
        write_array(cr, "r_faces_kpc", self.r_faces_kpc, "kpc", "cell faces")
        write_array(cr, "E_eV", self.E_eV, "eV", "proton total energy")
        write_array(cr, "j", self.j, "cm^-3 eV^-1",
                    f"proton density dn/dE at t = {self.t_gyr:g} Gyr, shape (E, r)")
        write_array(cr, "n_gas_cm3", self.n_gas_cm3, "cm^-3", "cell-averaged gas density")
        snaps = cr.create_group("snapshots")
        write_array(snaps, "t_gyr", self.snapshot_t_gyr, "Gyr")
        write_array(snaps, "j", self.snapshot_j, "cm^-3 eV^-1", "shape (t, E, r)")
        bud = cr.create_group("budget")
        bud.attrs["description"] = "particles per eV in the whole grid; content = injected - escaped - lost"
        for name in ("injected", "escaped", "lost", "content"):
            write_array(bud, name, getattr(self.budget, name), "eV^-1")
        norm = fh.create_group("normalization")
        norm.attrs["mode"] = self.config.normalization.mode
        norm.attrs["Q0_cm3_s_eV"] = self.Q0_cm3_s_eV
        if self.normalization is not None:
            norm.attrs["reference"] = self.normalization.reference
            norm.attrs["factor"] = self.normalization.factor
            norm.attrs["E_touch_eV"] = self.normalization.E_touch_eV
        if self.diffusion_invalid_from_eV is not None:
            norm.attrs["diffusion_invalid_from_eV"] = self.diffusion_invalid_from_eV
        if emissions:
            write_emissions(fh, emissions)


#: Config keys of the source spectrum and its amplitude: a unit response serves every value.
SOURCE_SPECTRUM_KEYS = ("source.alpha", "source.E_cut_eV", "normalization.mode",
                        "normalization.reference", "normalization.E_min_eV",
                        "normalization.Q0_cm3_s_eV")
#: What the unit response depends on (resolved values: grid.E_max_eV = "auto" follows E_cut).
UNIT_RESPONSE_DEPENDS = ("observer", "gas", "hadronic.sigma_inel", "hadronic.sigma_const_mb",
                         "diffusion", "source.r_Q_kpc", "source.history", "grid", "time")


def unit_response_key(cfg: Config) -> str:
    """SHA-256 of the resolved config values a :class:`UnitResponse` depends on."""
    data = cfg.to_dict()
    picked = {}
    for name in UNIT_RESPONSE_DEPENDS:
        section, _, key = name.partition(".")
        picked[name] = data[section][key] if key else data[section]
    return hashlib.sha256(json.dumps(picked, sort_keys=True).encode()).hexdigest()


@dataclass
class UnitResponse:
    """The present-day solution for unit injection, Q(E, r, t) = Theta(r_Q - r) h(t) in
    cm^-3 s^-1 eV^-1 at every grid energy (docs/transport.md, "Unit responses").

    The transport equation [C, eq. 4] is linear in Q and no energy losses couple the energies,
    so the solution for any source spectrum A(E) = Q0 (E / 1 GeV)^-alpha exp(-E/E_cut)
    [C, eq. 5] is j(E, r) = A(E) G(E, r), exactly: the source spectrum and its amplitude
    (:data:`SOURCE_SPECTRUM_KEYS`) need no new solve. G (n_E, n_r) [s]: j per unit Q;
    G_sun (n_E,): G at observer.r_sun_kpc (interpolated like TransportSolution.j_at).
    """
    config: Config
    key: str
    problem: TransportProblem
    G: np.ndarray
    t_gyr: float
    snapshot_t_gyr: np.ndarray
    snapshot_G: np.ndarray
    budget: Budget
    G_sun: np.ndarray

    @property
    def E_eV(self) -> np.ndarray:
        return self.problem.E_eV

    def serves(self, cfg: Config) -> bool:
        """True when ``cfg`` differs from this response's config at most in the source
        spectrum and its normalisation."""
        return unit_response_key(cfg) == self.key

    def amplitude(self, cfg: Config, alpha=None, E_cut_eV=None,
                  Q0_cm3_s_eV=None) -> tuple[np.ndarray, float, Normalization | None]:
        """(A(E) [cm^-3 s^-1 eV^-1] at the grid energies, Q0, normalisation) for ``cfg``, whose
        source.alpha, source.E_cut_eV and normalization.Q0_cm3_s_eV the arguments replace when
        given: normalization.mode "rate" takes Q0 as it is; "observed_flux" scales the flux at
        the Sun to touch the reference from below (docs/normalization.md)."""
        E = self.problem.E_eV
        shape = injection_spectrum(E, cfg.source.alpha if alpha is None else alpha,
                                   cfg.source.E_cut_eV if E_cut_eV is None else E_cut_eV)
        norm = cfg.normalization
        if norm.mode == "rate":
            Q0 = float(norm.Q0_cm3_s_eV if Q0_cm3_s_eV is None else Q0_cm3_s_eV)
            return Q0 * shape, Q0, None
        normalization = touch_normalization(
            E, proton_intensity(E, shape * self.G_sun), reference_flux(E, norm.reference),
            reference=norm.reference, E_min_eV=0.0 if norm.E_min_eV == "auto" else norm.E_min_eV)
        return normalization.factor * shape, normalization.factor, normalization

    def solution(self, cfg: Config | None = None) -> TransportSolution:
        """The :class:`TransportSolution` of ``cfg`` (default: this response's config), which
        may differ from it in the source spectrum and normalisation only."""
        cfg = self.config if cfg is None else cfg
        if not self.serves(cfg):
            raise ConfigError("this unit response was computed for another transport problem "
                              "(gas, diffusion, grid, time, source radius or history differ)")
        invalid_from = check_diffusion_regime(cfg, self.problem)
        A, Q0, normalization = self.amplitude(cfg)
        j = A[:, None] * self.G
        if not (np.all(np.isfinite(j)) and np.isfinite(Q0)):
            raise ConfigError(
                f"the cosmic-ray density overflows double precision with normalization.mode = "
                f"{cfg.normalization.mode!r} and normalization.Q0_cm3_s_eV = {Q0:g}: lower Q0 (the "
                "observed flux needs ~3e-34 cm^-3 s^-1 eV^-1)")
        problem = self.problem
        return TransportSolution(
            config=cfg, r_kpc=problem.grid.centers, r_faces_kpc=problem.grid.faces,
            E_eV=problem.E_eV, j=j, t_gyr=self.t_gyr, snapshot_t_gyr=self.snapshot_t_gyr,
            snapshot_j=A[None, :, None] * self.snapshot_G, n_gas_cm3=problem.n_gas_cm3,
            Q0_cm3_s_eV=Q0, normalization=normalization, budget=self.budget.scaled(A),
            diffusion_invalid_from_eV=invalid_from)


def unit_response(config=None, progress: bool = False) -> UnitResponse:
    """Solve the transport problem of ``config`` for unit injection at every energy (one solve,
    the cost of :func:`solve`); see :class:`UnitResponse`."""
    cfg = config if isinstance(config, Config) else load_config(config)
    check_memory(cfg, ("transport",))
    problem = build_problem(cfg)
    problem = replace(problem, src_E=np.ones_like(problem.E_eV))
    result = evolve(problem, schedule(cfg), lambda t: history(t, cfg.source.history),
                    progress=progress)
    G_sun = loglog_interp(problem.grid.centers, result.j, cfg.observer.r_sun_kpc, axis=1)
    return UnitResponse(config=cfg, key=unit_response_key(cfg), problem=problem, G=result.j,
                        t_gyr=result.t_gyr, snapshot_t_gyr=result.snapshot_t_gyr,
                        snapshot_G=result.snapshot_j, budget=result.budget, G_sun=G_sun)


def solve(config=None, progress: bool = False) -> TransportSolution:
    """Solve the corona transport problem for ``config`` (a Config, TOML path, mapping or None
    for the bundled default) and return the present-day solution.

    The problem is solved for unit injection at every energy and scaled by the source
    spectrum (the equation is linear in Q, :class:`UnitResponse`); in normalization mode
    "observed_flux" its amplitude makes the flux at observer.r_sun_kpc touch the reference.
    """
    return unit_response(config, progress=progress).solution()
