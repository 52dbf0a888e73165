"""``corona validate``: the analytic validation suite, as a table a user can read before a long
scan (quantity, expected, got, tolerance, pass).

Checks (each a closed form or published number, with the tolerance its method allows):

- transport: steady state of a uniform spherical source with constant D and an absorbing
  boundary, n(r) = q r_Q^3 / (3D) (1/r - 1/R_out) outside r_Q (docs/physics.md, section 2);
- Breit-Wheeler cross-section: the peak 0.25564 sigma_T at s / 4m^2 = 1.968, and the
  high-energy limit (3/8) sigma_T (ln 4x - 1) / x (Gould & Schreder 1967; docs/physics.md, section 4);
- CMB: the minimum pair-production mean free path, 7.07 kpc at 2.2 PeV (Vernetto & Lipari 2016);
- line of sight: the all-sky average and dipole of a uniform sphere seen from inside,
  <L> = R/2 + (R^2 - d^2)/(4d) ln((R + d)/(R - d)), A = d / <L> (docs/physics.md, section 5);
- fast evaluation: response kernels against the direct line-of-sight calculation (1e-3);
- optional packages: every ``<package>.validation.checks(resolution)`` of the optional stages
  (:mod:`.optional`; the Monte Carlo against exp(-tau), the cascade's energy conservation)
  when the package provides it;
- under mpirun with >= 2 ranks: :func:`montecarlo.parallel.run_batches` on a toy tally gives
  exactly the one-process result (rank invariance).
"""
from __future__ import annotations

import importlib
import importlib.util
import time
import warnings
from dataclasses import dataclass

import numpy as np

from transport import SphericalEmission, load_config, solve
from transport.core.constants import KPC_CM, SIGMA_T_CM2
from transport.core.errors import ArgumentError
from transport.emission.registry import build_emission

from montecarlo import parallel
from montecarlo.lineofsight.integrator import intensity
from montecarlo.opacity import breit_wheeler as bw
from montecarlo.opacity.api import mean_free_path_kpc
from montecarlo.pipeline import optional
from montecarlo.pipeline.scan import sky_products
from montecarlo.sky.analysis import all_sky_average, dipole, pixel_directions

RESOLUTIONS = ("ci", "full")


@dataclass
class Check:
    """One row of the table: |got / expected - 1| <= tolerance (relative) passes."""
    quantity: str
    expected: float
    got: float
    tolerance: float
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.got) and abs(self.got / self.expected - 1.0) <= self.tolerance)


# --------------------------------------------------------------------------- closed forms
def steady_sphere_density(r_cm, q, r_Q_cm, D_cm2_s, R_out_cm):
    """Steady n(r) of a uniform source q inside r_Q, constant D, n(R_out) = 0."""
    r = np.asarray(r_cm, dtype=float)
    return q * np.where(r > r_Q_cm, r_Q_cm ** 3 / (3 * D_cm2_s) * (1 / r - 1 / R_out_cm),
                        r_Q_cm ** 2 / (2 * D_cm2_s) - r ** 2 / (6 * D_cm2_s)
                        - r_Q_cm ** 3 / (3 * D_cm2_s * R_out_cm))


def sphere_mean_chord(R, d):
    """All-sky average chord length from a point at distance d < R from the centre of a sphere."""
    return R / 2 + (R ** 2 - d ** 2) / (4 * d) * np.log((R + d) / (R - d))


# --------------------------------------------------------------------------- checks
def check_transport(resolution) -> list[Check]:
    cpd = 20 if resolution == "ci" else 40
    D, R_out, r_Q = 1e31, 500.0, 5.0
    cfg = load_config({"normalization.mode": "rate", "gas.profile": "none",
                       "source.history": "constant", "diffusion.delta": 0.0,
                       "diffusion.D0_cm2_s": D, "source.r_Q_kpc": r_Q, "source.E_cut_eV": 1e21,
                       "grid.r_out_kpc": R_out, "grid.E_min_eV": 1e9, "grid.E_max_eV": 1e10,
                       "grid.E_per_decade": 1, "grid.cells_per_decade": cpd, "time.t_end_gyr": 10.0})
    sol = solve(cfg)
    q = sol.Q0_cm3_s_eV * np.exp(-sol.E_eV[0] / cfg.source.E_cut_eV)
    rows = []
    for r in (1.0, 20.0, 100.0):
        k = int(np.argmin(np.abs(np.log(sol.r_kpc / r))))
        exact = steady_sphere_density(sol.r_kpc[k] * KPC_CM, q, r_Q * KPC_CM, D, R_out * KPC_CM)
        rows.append(Check(f"steady sphere n(r = {sol.r_kpc[k]:.3g} kpc) [cm^-3 eV^-1]", float(exact),
                          float(sol.j[0, k]), 1e-2 if resolution == "ci" else 3e-3))
    return rows


def check_cross_section(resolution) -> list[Check]:
    x = np.geomspace(1.5, 3.0, 20001 if resolution == "ci" else 200001)
    s = bw.sigma_hat(x)
    i = int(s.argmax())
    return [Check("Breit-Wheeler peak sigma / sigma_T", 0.25564, float(s[i]), 1e-4),
            Check("Breit-Wheeler peak position s / 4m^2", 1.968, float(x[i]), 1e-3),
            Check("Breit-Wheeler peak sigma [cm^2]", 1.70e-25, float(s[i] * SIGMA_T_CM2), 3e-3),
            Check("Breit-Wheeler sigma at s/4m^2 = 1e6 / high-energy limit", 1.0,
                  float(bw.sigma_hat(np.array([1e6]))[0] / bw.sigma_hat_high_energy(1e6)), 2e-6)]


def check_cmb(resolution) -> list[Check]:
    from scipy import optimize   # only for this check
    res = optimize.minimize_scalar(lambda x: float(mean_free_path_kpc(np.exp(x))),
                                   bounds=(np.log(1e15), np.log(5e15)), method="bounded",
                                   options={"xatol": 1e-5})
    return [Check("CMB minimum mean free path [kpc]", 7.07, float(res.fun), 2e-3),
            Check("CMB energy of the minimum [eV]", 2.2e15, float(np.exp(res.x)), 1e-2)]


def check_line_of_sight(resolution) -> list[Check]:
    nside = 16 if resolution == "ci" else 64
    R, d = 20.0, 8.5
    sphere = SphericalEmission([1e-3, R], [1e12, 1e15], np.ones((2, 2)))
    I = intensity(sphere, 1e12, *pixel_directions(nside), fields=(), r_sun_kpc=d)
    mean_L = sphere_mean_chord(R, d)
    tol = 5e-3 if resolution == "ci" else 5e-4
    return [Check(f"uniform sphere all-sky <I> (nside {nside}) [cm^-2 s^-1 sr^-1 eV^-1]",
                  mean_L * KPC_CM / (4 * np.pi), float(all_sky_average(I)), tol),
            Check(f"uniform sphere dipole A = d/<L> (nside {nside})", d / mean_L,
                  float(dipole(I)[0]), tol)]


def check_fast_evaluation(resolution) -> list[Check]:
    cfg = load_config(None, overrides={
        "grid.cells_per_decade": 20, "time.dt_max_gyr": 0.2, "emission.E_per_decade": 3,
        "sky.nside": 4 if resolution == "ci" else 16, "sky.E_per_decade": 2, "sky.fields": ["cmb"],
        "sky.regions": ["tibet_A"], "pipeline.kernel_subdivision": 8})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = solve(cfg)
    gamma, nu = (build_emission(cfg, "corona", p, sol) for p in ("gamma", "nu"))
    fast, direct = sky_products(cfg, gamma, nu, "fast"), sky_products(cfg, gamma, nu, "direct")
    rows = []
    for key in ("gamma_all_sky", "nu_all_sky", "gamma_dipole"):
        worst = int(np.argmax(np.abs(fast[key] / direct[key] - 1)))
        rows.append(Check(f"fast evaluation {key} (worst energy {direct['E_eV'][worst]:.2g} eV)",
                          float(direct[key][worst]), float(fast[key][worst]), 1e-3))
    return rows


def check_optional(resolution) -> list[Check]:
    """Checks the optional packages ship as ``<package>.validation.checks(resolution)``."""
    rows = []
    for name, spec in optional.OPTIONAL.items():
        module = f"{spec.package}.validation"
        if optional.available(name) and importlib.util.find_spec(module) is not None:
            for row in importlib.import_module(module).checks(resolution):
                rows.append(Check(*row) if not isinstance(row, Check) else row)
    return rows


SERIAL_CHECKS = (check_transport, check_cross_section, check_cmb, check_line_of_sight,
                 check_fast_evaluation, check_optional)


def _toy_tally(seed):
    def simulate(b):
        x = parallel.batch_generator(seed, b).exponential(size=2000)
        return np.histogram(x, bins=[0, 0.5, 1, 2, 4, np.inf])[0].astype(float)
    return simulate


def check_mpi(comm) -> list[Check]:
    """run_batches over all ranks against one process (rank 0): identical tallies."""
    total = parallel.run_batches(_toy_tally(5), 37, (5,), chunk_batches=4, progress=False,
                                 comm=comm).total
    if comm.Get_rank() != 0:
        return []
    serial = parallel.run_batches(_toy_tally(5), 37, (5,), chunk_batches=4, progress=False,
                                  comm=None).total
    return [Check(f"run_batches on {comm.Get_size()} ranks / 1 process, bin {k}", float(serial[k]),
                  float(total[k]), 0.0) for k in range(total.size)]


def run_checks(resolution="ci", checks=SERIAL_CHECKS, comm=None) -> list[Check]:
    """Every check (serial ones on rank 0; the MPI check on all ranks when comm has >= 2)."""
    if resolution not in RESOLUTIONS:
        raise ArgumentError(f"--resolution {resolution!r} is not allowed: expected one of "
                            + ", ".join(RESOLUTIONS))
    rows = []
    if comm is not None and comm.Get_size() > 1:       # first: every rank takes part
        rows += check_mpi(comm)
    rank = 0 if comm is None else comm.Get_rank()
    if rank == 0:
        for check in checks:
            t0 = time.perf_counter()
            new = check(resolution)
            for row in new:
                row.seconds = (time.perf_counter() - t0) / max(len(new), 1)
            rows += new
    return rows


def format_table(rows) -> str:
    head = f"{'quantity':<62s} {'expected':>12s} {'got':>12s} {'tolerance':>9s}  pass"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.quantity:<62.62s} {r.expected:12.5g} {r.got:12.5g} {r.tolerance:9.1e}  "
                     f"{'yes' if r.passed else 'NO'}")
    return "\n".join(lines)


def cmd_validate(args, checks=SERIAL_CHECKS) -> int:
    comm = parallel.world()
    rows = run_checks(args.resolution, checks, comm=comm)
    if comm is not None and comm.Get_rank() != 0:
        return 0
    print(format_table(rows))
    failed = [r for r in rows if not r.passed]
    print(f"{len(rows) - len(failed)} of {len(rows)} checks passed"
          + (f" ({comm.Get_size()} MPI ranks)" if comm is not None else " (one process; "
             "`mpirun -n 2 corona validate` also checks the MPI path)"))
    return 1 if failed else 0
