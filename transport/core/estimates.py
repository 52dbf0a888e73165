"""Memory estimates of each stage from a config, checked before anything is allocated.

Each ``*_bytes`` function counts the large arrays its stage allocates (float64, 8 bytes) from
the config alone; :func:`check_memory` refuses (transport.core.safety.refuse_if_too_big) a run
whose estimate exceeds the available memory, naming the keys that drive it. The counts are
upper-bound style (a few work arrays each), not exact: their purpose is to turn a
MemoryError after minutes into one line before the start.
"""
from __future__ import annotations

import json
import math
import warnings

from transport.core.grid import log_grid_size
from transport.core.safety import refuse_if_too_big

F8 = 8

#: Keys whose values set each stage's size (named in the refusal).
TRANSPORT_KEYS = ("grid.E_per_decade", "grid.cells_per_decade", "grid.r_min_kpc",
                  "time.dt_max_gyr", "time.snapshots_gyr")
SKY_KEYS = ("sky.nside", "sky.E_per_decade", "sky.models", "sky.particles")
MC_KEYS = ("mc.nside", "mc.E_eV")
EMISSION_KEYS = ("emission.E_per_decade", "grid.cells_per_decade", "galaxy.z_step_kpc",
                 "galaxy.R_per_decade", "emission.particles")


def _n_energies(cfg) -> int:
    g = cfg.grid
    return log_grid_size(g.E_min_eV, g.E_max_eV, g.E_per_decade)


def _n_radii(cfg) -> int:
    g = cfg.grid
    # log-graded from r_min to r_out plus the anchors (r_Q, r_sun): at most one extra cell
    # per anchor segment (transport.core.grid.radial_grid)
    return math.ceil(g.cells_per_decade * math.log10(g.r_out_kpc / g.r_min_kpc)) + 4


def _n_steps(cfg) -> float:
    t = cfg.time
    return t.t_end_gyr / t.dt_max_gyr + len(t.snapshots_gyr) + 8 + t.startup_steps


def transport_bytes(cfg) -> float:
    """The solver (transport.cosmicrays.solver.evolve): j and its three work arrays, ~8
    coefficient arrays of the same size, one copy per snapshot, and the injection history
    evaluated for 1 % of the time steps at once (times and values)."""
    cells = _n_energies(cfg) * _n_radii(cfg)
    snapshots = len(cfg.time.snapshots_gyr) + 1
    history_chunk = _n_steps(cfg) / 100.0 + 1
    return F8 * (cells * (12 + 2 * snapshots) + 2 * history_chunk)


def emission_bytes(cfg) -> float:
    """The emission tables (transport.emission): per model and particle, q on (E, r) for the
    corona and on (E, R, z) for the Galactic-plane models, plus the proton spectrum on the
    secondary grid (E_sec x E_p x r) for the corona's pp integral in chunks of ~1/10."""
    e, g = cfg.emission, cfg.galaxy
    top = e.E_max_eV if e.E_max_eV != "auto" else cfg.grid.E_max_eV
    n_sec = log_grid_size(e.E_min_eV, top, e.E_per_decade)
    n_r = _n_radii(cfg)
    n_z = max(2, math.ceil(g.z_max_kpc / g.z_step_kpc - 1e-9) + 1)
    n_R = log_grid_size(1e-6, g.R_max_kpc, g.R_per_decade) + 1
    n_particles = len(e.particles)
    plane_models = sum(m != "corona" for m in e.models)
    corona = ("corona" in e.models) * n_particles * n_sec * n_r
    plane = plane_models * n_particles * n_sec * n_R * n_z
    return F8 * (2 * corona + 2 * plane + n_sec * _n_energies(cfg) * n_r / 10.0)


def sky_bytes(cfg) -> float:
    """The sky maps (montecarlo.sky.maps.make_component): per model and particle, a map of
    12 nside^2 pixels at every map energy, twice (the maps and the line-of-sight work)."""
    s = cfg.sky
    lo = s.E_min_eV if s.E_min_eV != "auto" else cfg.emission.E_min_eV
    hi = s.E_max_eV if s.E_max_eV != "auto" else 1e17
    n_E = log_grid_size(lo, max(hi, lo * 1.001), s.E_per_decade)
    return F8 * 2 * len(s.models) * len(s.particles) * 12 * s.nside ** 2 * n_E


def mc_bytes(cfg) -> float:
    """Monte Carlo tallies per rank (montecarlo.propagation.api.Problem.simulate and
    montecarlo.parallel.run_batches): (n_E + 1) x (2 x 12 nside^2 + small) float64 values, about
    six copies (the batch's tally, the rank's and the total's double-double sums, the reduction)."""
    m = cfg.mc
    return F8 * 6 * (len(m.E_eV) + 1) * 2 * 12 * m.nside ** 2


#: Solver cost per cell and time step [s] (tridiagonal solve and source update, one core;
#: the default model, 203 steps x 96 energies x 242 radii, solves in ~1-2 s with loading).
SECONDS_PER_CELL_STEP = 2e-7


#: Monte Carlo cost per photon history and tally energy [s] (montecarlo.propagation, one core:
#: 0.5-0.9 us measured for the corona with the expected estimator, CMB + dust, nside 16;
#: upper-bound style for the slower analog estimator and the disk's dust majorant).
MC_SECONDS_PER_HISTORY_ENERGY = 2e-6


def mc_seconds(cfg) -> float:
    """Rough single-core wall time of `corona mc` (every model x particle of [mc])."""
    m = cfg.mc
    return MC_SECONDS_PER_HISTORY_ENERGY * m.n_photons * len(m.E_eV) * len(m.models) * len(m.particles)


def transport_seconds(cfg) -> float:
    """Rough single-core wall time of the solver (transport.cosmicrays.solver.evolve)."""
    return SECONDS_PER_CELL_STEP * _n_energies(cfg) * _n_radii(cfg) * _n_steps(cfg)


def warn_if_slow(cfg, limit_s: float = 3600.0) -> float:
    """Warn (RuntimeWarning naming the keys) when the solver would run longer than limit_s;
    returns the estimate [s]."""
    seconds = transport_seconds(cfg)
    if seconds > limit_s:
        named = ", ".join(f"{k} = {_value(cfg, k)}" for k in TRANSPORT_KEYS[:4])
        warnings.warn(f"the transport stage will take ~{seconds / 3600:.3g} h on one core "
                      f"({named})", RuntimeWarning, stacklevel=2)
    return seconds


def energies_bytes(n_energies: float, arrays: int = 8) -> float:
    """An energy-vectorised calculation (e.g. `corona survival`): ``arrays`` float64 arrays per
    energy (energies, opacities per field, optical depths, probabilities)."""
    return F8 * arrays * float(n_energies)


def check_memory(cfg, stages=("transport", "emission")) -> dict:
    """Refuse (ConfigError naming the keys and the estimate against the available memory) a
    config whose stages would not fit; returns the estimates {stage: bytes}."""
    funcs = {"transport": (transport_bytes, TRANSPORT_KEYS),
             "emission": (emission_bytes, EMISSION_KEYS), "sky": (sky_bytes, SKY_KEYS),
             "mc": (mc_bytes, MC_KEYS)}
    estimates = {}
    for stage in stages:
        func, keys = funcs[stage]
        estimates[stage] = func(cfg)
        named = [f"{k} = {_value(cfg, k)}" for k in keys]
        refuse_if_too_big(estimates[stage], named, what=f"the {stage} stage")
    return estimates


def _value(cfg, dotted: str):
    section, key = dotted.split(".")
    value = cfg[section][key]
    return f"{value:g}" if isinstance(value, float) else json.dumps(value)
