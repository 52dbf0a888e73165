"""``monte_carlo``: sky maps of an emission attenuated by pair production, by Monte Carlo.

The independent check of the line-of-sight integrator (docs/montecarlo.md): same quantity,
I(E, pixel) = pixel average of (1/4pi) integral ds q(E, x_sun + s n) exp(-tau) [docs/physics.md,
section 5], estimated from photon histories (:mod:`montecarlo.propagation.kernels`) in batches
with their own random streams (:func:`montecarlo.parallel.run_batches`: the result does not
depend on the number of MPI ranks). Energies are the tally energies themselves (no bins):
every photon history is transported at each of them.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field

import numpy as np

from transport.core.config import Config, load_config
from transport.core.constants import KPC_CM
from transport.core.errors import ArgumentError
from transport.emission.tables import AxisymmetricEmission, SphericalEmission
from transport.core.sealed import code_key

from montecarlo import parallel
from montecarlo.geometry import lb_from_direction, sun_position_kpc
from montecarlo.propagation import kernels as pk
from montecarlo.propagation.medium import medium_for
from montecarlo.propagation.sources import (PointEmission, at_energies, check_emission,
                                            distance_tables, point_choice)
from montecarlo.sky import masks
from montecarlo.sky.analysis import get_region, pixel_vectors, region_weights

ESTIMATORS = ("analog", "expected")
UNITS = "cm^-2 s^-1 sr^-1 eV^-1"
#: Largest nside (memory of the tallies and densities: ~ 2 n_E + 130 doubles per pixel).
MAX_NSIDE = 1024


class MajorantWarning(UserWarning):
    """A tracking step found a local rate above the majorant (montecarlo.propagation.medium)."""


@dataclass
class MCResult:
    """Monte Carlo sky products at energies E_eV; every quantity with its 1-sigma statistical
    error (``*_err``). Intensities in cm^-2 s^-1 sr^-1 eV^-1; maps (n_E, n_pix) RING, Galactic.

    dipole_amplitude = |d| / I0 = sqrt(3) |a_1| / a_00 of the monopole + dipole projection
    (pixel centres, as :func:`montecarlo.sky.analysis.dipole`), direction (dipole_l_deg,
    dipole_b_deg); contrast = (I_max - I_min) / (I_max + I_min) over pixels (biased upwards by
    the pixel noise: compare it with the dipole only where contrast >> contrast_err).
    unattenuated_all_sky: the same histories without absorption; pair_fraction = 1 -
    all_sky / unattenuated_all_sky, the fraction of the photon energy emitted towards the Sun
    that goes into pairs.
    """
    E_eV: np.ndarray
    nside: int
    maps: np.ndarray
    maps_err: np.ndarray
    all_sky: np.ndarray
    all_sky_err: np.ndarray
    regions: dict
    regions_err: dict
    dipole_amplitude: np.ndarray
    dipole_amplitude_err: np.ndarray
    dipole_l_deg: np.ndarray
    dipole_b_deg: np.ndarray
    contrast: np.ndarray
    contrast_err: np.ndarray
    unattenuated_all_sky: np.ndarray
    unattenuated_all_sky_err: np.ndarray
    pair_fraction: np.ndarray
    n_photons: int
    seed: int
    estimator: str
    fields: tuple
    n_ranks: int
    n_batches: int
    resumed_from_batch: int
    tracking_steps: float
    majorant_violations: float
    units: str = UNITS
    attrs: dict = field(default_factory=dict)


def _check_int(value, name, lo, hi=None):
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" + (f" and <= {hi}" if hi is not None else "")
        raise ArgumentError(f"{name} = {value!r} is not allowed: expected an integer {rng}")
    return int(value)


def check_nside(nside, name="nside") -> int:
    nside = _check_int(nside, name, 1, MAX_NSIDE)
    if nside & (nside - 1):
        raise ArgumentError(f"{name} = {nside} is not allowed: expected a power of 2 "
                            f"(1, 2, 4, ..., {MAX_NSIDE})")
    return nside


def check_energies_in(emission, E_eV) -> np.ndarray:
    """Tally energies as a 1-D array inside the emission's energy range."""
    E = np.atleast_1d(np.asarray(E_eV, dtype=float)).ravel()
    lo, hi = emission.E_eV[0], emission.E_eV[-1]
    bad = ~np.isfinite(E) | (E < lo * (1 - 1e-12)) | (E > hi * (1 + 1e-12))
    if E.size == 0 or np.any(bad):
        shown = f"{E[bad][0]:.4g}" if np.any(bad) else "[]"
        raise ArgumentError(f"E_eV = {shown} is outside the emission table: expected "
                            f"{lo:.4g} <= E_eV <= {hi:.4g}")
    return E


@dataclass
class Problem:
    """Everything one batch needs (built once per process; see :func:`prepare`)."""
    E: np.ndarray
    nside: int
    kind: int
    origin: np.ndarray
    sph: tuple
    axi: tuple
    points: tuple
    edges: np.ndarray
    cdf: np.ndarray
    estimator: int
    medium: object
    pix_vec: np.ndarray
    region_names: tuple
    region_of: np.ndarray
    region_npix: np.ndarray
    n_photons: int
    batch_photons: int
    seed: int
    fingerprint: str

    @property
    def n_pix(self) -> int:
        return self.pix_vec.shape[0]

    @property
    def n_batches(self) -> int:
        return -(-self.n_photons // self.batch_photons)

    @property
    def n_cols(self) -> int:
        return 2 * self.n_pix + pk.N_FUNCTIONALS + pk.N_CROSS + 2 * self.region_npix.size + 2

    def simulate(self, b: int) -> np.ndarray:
        """Tallies (n_E + 1, n_cols) of batch b (its own random stream)."""
        n = min(self.batch_photons, self.n_photons - b * self.batch_photons)
        tally = np.zeros((self.E.size + 1, self.n_cols))
        m = self.medium
        pk.simulate_batch(parallel.batch_kernel_seed32(self.seed, b), n, self.kind, self.nside,
                          self.origin, self.sph, self.axi, self.points, self.edges, self.cdf,
                          self.estimator, m.sigma_uniform, m.dust_mode, m.sigma_dust_max,
                          m.dust_ln, m.dust_grids, self.pix_vec, self.region_of,
                          self.region_npix, tally)
        return tally



def _dummy_tables():
    """Kernel tables of both geometries with the right types (the kernel takes both)."""
    sph = SphericalEmission([1.0, 2.0], [1.0, 2.0], np.ones((2, 2)))
    axi = AxisymmetricEmission([1.0, 2.0], [0.0, 1.0], [1.0, 2.0], np.ones((2, 2, 2)))
    pts = (np.zeros((1, 3)), np.zeros((1, 1)), np.array([0.0, 1.0]))
    return sph.kernel_tables, axi.kernel_tables, pts


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def prepare(emission, E_eV, nside=16, fields=("cmb", "dust"), n_photons=1_000_000, seed=1,
            estimator="expected", config=None, regions=("tibet_A", "tibet_B", "lhaaso_inner",
                                                         "lhaaso_outer"),
            batch_photons=1 << 15, absorber_per_kpc=None) -> Problem:
    """Check every argument (one clear ArgumentError each) and build the sampling densities,
    the medium and the tally layout. See :func:`monte_carlo` for the arguments."""
    n_photons = _check_int(n_photons, "n_photons", 1)
    batch_photons = _check_int(batch_photons, "batch_photons", 1)
    seed = _check_int(seed, "seed", 0)
    nside = check_nside(nside)
    if estimator not in ESTIMATORS:
        raise ArgumentError(f"estimator = {estimator!r} is not allowed: expected one of "
                            + ", ".join(f'"{e}"' for e in ESTIMATORS))
    emission = check_emission(emission)
    E = check_energies_in(emission, E_eV)
    cfg = config if isinstance(config, Config) else load_config(config)
    particle = str(emission.attrs.get("particle", "gamma"))
    medium = medium_for(E, () if particle.startswith("nu") else fields, cfg, absorber_per_kpc)
    origin = sun_position_kpc(cfg.observer.r_sun_kpc)
    sph, axi, pts = _dummy_tables()
    edges, cdf = np.zeros(2), np.zeros((1, 2))
    if isinstance(emission, PointEmission):
        kind = pk.POINTS
        lum = emission.at_energies(E)
        pts = (emission.x_kpc, np.ascontiguousarray(lum / KPC_CM ** 3), point_choice(emission, lum, origin))
        source_digest = _digest(emission.x_kpc, lum)
    else:
        table = at_energies(emission, E)
        if table.geometry == "spherical":
            kind, sph = pk.SPHERICAL, table.kernel_tables
        else:
            kind, axi = pk.AXISYMMETRIC, table.kernel_tables
        edges, cdf = distance_tables(table, origin, nside)
        source_digest = _digest(table.q, *(getattr(table, a) for a in ("r_kpc",) if hasattr(table, a)),
                                *(getattr(table, a) for a in ("R_kpc", "z_kpc") if hasattr(table, a)))
    names = tuple(dict.fromkeys(regions))
    region_of = np.zeros((12 * nside * nside, len(names)))
    for g, name in enumerate(names):
        region_of[:, g] = region_weights(nside, get_region(name))   # the source mask applied
    npix_reg = region_of.sum(axis=0)
    if np.any(npix_reg == 0):
        empty = names[int(np.argmin(npix_reg))]
        raise ArgumentError(f"region {empty!r} holds no unmasked pixel at nside = {nside}: use a "
                            "larger nside or drop the region")
    fingerprint = hashlib.sha256(json.dumps({
        "source": source_digest, "kind": kind, "E": E.tolist(), "nside": nside,
        "fields": list(medium.fields), "estimator": estimator, "seed": seed,
        "n_photons": n_photons, "batch_photons": batch_photons, "regions": list(names),
        "region_masks": [masks.mask_key(get_region(n).mask) if get_region(n).mask else "" for n in names],
        "absorber": _digest(medium.sigma_uniform), "opacity": cfg.digest(
            sections=("observer", "fields", "dust", "opacity")),
        # a resume never mixes batches of two code states (the sources' digest, not the git tag)
        "code": code_key(("transport/**/*.py", "montecarlo/**/*.py")),
    }, sort_keys=True).encode()).hexdigest()
    return Problem(E, nside, kind, origin, sph, axi, pts, edges, np.ascontiguousarray(cdf),
                   ESTIMATORS.index(estimator), medium, np.ascontiguousarray(pixel_vectors(nside)),
                   names, region_of, npix_reg, n_photons, batch_photons, seed, fingerprint)


def _mean_err(s1, s2, n):
    """Mean of n scores and its standard error from the sums of scores and squares."""
    mean = s1 / n
    var = np.maximum(s2 / n - mean * mean, 0.0) / max(n - 1, 1)
    return mean, np.sqrt(var)


def finish(problem: Problem, total: np.ndarray, n_ranks=1, resumed_from=0) -> MCResult:
    """Sky products and errors from the summed tallies of all batches."""
    P, R = problem.n_pix, problem.region_npix.size
    t = total[:-1] * KPC_CM                       # scores in q kpc -> intensity units
    counters = total[-1]
    n = float(problem.n_photons)
    c_fun = 2 * P
    c_cross = c_fun + pk.N_FUNCTIONALS
    c_reg = c_cross + pk.N_CROSS
    sq = KPC_CM                                    # squares carry one more factor KPC_CM
    maps, maps_err = _mean_err(t[:, :P], t[:, P:2 * P] * sq, n)
    f_mean = t[:, c_fun:c_cross] / n
    cov = np.empty((t.shape[0], 4, 4))
    c = 0
    for a in range(4):
        for b in range(a, 4):
            cov[:, a, b] = cov[:, b, a] = (t[:, c_cross + c] * sq / n - f_mean[:, a] * f_mean[:, b]) / max(n - 1, 1)
            c += 1
    all_sky, all_sky_err = f_mean[:, 0], np.sqrt(np.maximum(cov[:, 0, 0], 0.0))
    regions, regions_err = {}, {}
    for g, name in enumerate(problem.region_names):
        regions[name], regions_err[name] = _mean_err(t[:, c_reg + g], t[:, c_reg + R + g] * sq, n)
    a0, a0_err = _mean_err(t[:, c_reg + 2 * R], t[:, c_reg + 2 * R + 1] * sq, n)
    I0, d = f_mean[:, 0], f_mean[:, 1:]
    norm = np.linalg.norm(d, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        amp = np.where(I0 > 0, norm / I0, np.where(norm == 0, 0.0, np.nan))   # no emission: 0
        grad = np.concatenate([(-norm / I0 ** 2)[:, None], d / (norm * I0)[:, None]], axis=1)
        amp_err = np.sqrt(np.maximum(np.einsum("ei,eij,ej->e", grad, cov, grad), 0.0))
        l_deg, b_deg = lb_from_direction(d / np.where(norm > 0, norm, 1.0)[:, None])
        hi_k, lo_k = maps.argmax(axis=1), maps.argmin(axis=1)
        rows = np.arange(maps.shape[0])
        hi, lo = maps[rows, hi_k], maps[rows, lo_k]
        con = np.where(hi == lo, 0.0, (hi - lo) / (hi + lo))
        con_err = 2.0 * np.hypot(lo * maps_err[rows, hi_k], hi * maps_err[rows, lo_k]) / (hi + lo) ** 2
        pair = np.where(a0 > 0, 1.0 - all_sky / a0, 0.0)
    if counters[2] > 0:
        warnings.warn(f"{counters[2]:.0f} of {counters[1]:.0f} tracking steps found a dust rate above "
                      "the majorant (the analog estimator is biased by about that fraction): "
                      "report it, with the config", MajorantWarning, stacklevel=2)
    return MCResult(problem.E, problem.nside, maps, maps_err, all_sky, all_sky_err, regions,
                    regions_err, amp, amp_err, l_deg, b_deg, con, con_err, a0, a0_err, pair,
                    problem.n_photons, problem.seed, ESTIMATORS[problem.estimator],
                    problem.medium.fields, n_ranks, problem.n_batches, resumed_from,
                    float(counters[1]), float(counters[2]))


def monte_carlo(emission, E_eV, nside=16, fields=("cmb", "dust"), n_photons=1_000_000, seed=1,
                estimator="expected", config=None,
                regions=("tibet_A", "tibet_B", "lhaaso_inner", "lhaaso_outer"),
                batch_photons=1 << 15, chunk_batches=16, checkpoint_path=None, progress=False,
                absorber_per_kpc=None, comm="auto") -> MCResult:
    """Monte Carlo sky maps of ``emission`` seen from the Sun at energies ``E_eV`` [eV].

    emission: SphericalEmission, AxisymmetricEmission (any model of the project or a user's
    table) or :class:`~montecarlo.propagation.sources.PointEmission`; E_eV: tally energies
    inside its table (each photon history is transported at every one: exact energies, no
    bins); nside: HEALPix resolution of the maps (a power of 2); fields: pair-production
    targets ("cmb", "dust", "ebl", "tabulated"; () = none; neutrinos are never attenuated);
    n_photons: photon histories; seed: the run seed (batch b uses the stream (seed, b));
    estimator: "analog" (survive or pair-produce) or "expected" (transmission weight);
    config: the configuration (observer, fields, dust, opacity sections); regions: sky regions
    (names of :data:`montecarlo.sky.analysis.REGIONS` or [l_min, l_max, b_min, b_max]);
    batch_photons: histories per batch; chunk_batches: batches between MPI reductions and
    checkpoints; checkpoint_path: resume file (deleted when the run completes);
    absorber_per_kpc: an extra constant absorption rate (scalar or per energy) [kpc^-1].
    Under mpirun the batches are spread over the ranks (comm="auto"); every rank returns the
    same result. Returns :class:`MCResult`.
    """
    problem = prepare(emission, E_eV, nside, fields, n_photons, seed, estimator, config,
                      regions, batch_photons, absorber_per_kpc)
    result = run(problem, checkpoint_path, chunk_batches, progress, comm)
    return finish(problem, result.total, result.n_ranks, result.resumed_from)


def run(problem: Problem, checkpoint_path=None, chunk_batches=16, progress=False, comm="auto",
        keep_checkpoint=False):
    """All batches of ``problem`` over the MPI ranks (:func:`montecarlo.parallel.run_batches`)."""
    return parallel.run_batches(problem.simulate, problem.n_batches,
                                (problem.E.size + 1, problem.n_cols),
                                checkpoint_path=checkpoint_path, chunk_batches=chunk_batches,
                                fingerprint=problem.fingerprint, progress=progress,
                                desc="Monte Carlo", comm=comm, keep_checkpoint=keep_checkpoint)
