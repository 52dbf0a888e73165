"""``corona scan SCAN.toml -o DIR``: many models, one task per point, restartable.

A scan file (TOML) names a base config and the parameters to vary (any config key)::

    base = "baseline.toml"        # relative to the scan file; "" or absent: the bundled default
    method = "grid"               # "grid" (every combination), "lhs" (Latin hypercube), "sobol"
    n_points = 64                 # lhs / sobol: number of points
    seed = 1                      # lhs / sobol: sampler seed
    evaluation = "fast"           # "fast" (response kernels, montecarlo.pipeline.response) or "direct"

    [set]                         # fixed overrides of every point
    "sky.nside" = 32

    [parameters]                  # grid: a list of values, or {min, max, n, log}
    "diffusion.D0_cm2_s" = [1.2e29, 4e30]        # lhs / sobol: {min, max, log}
    "source.alpha" = {min = 2.0, max = 2.4, n = 3}

Points are farmed out with :func:`montecarlo.parallel.task_executor` (mpi4py.futures under
mpirun, else a local process pool). Each finished point is written atomically to
``DIR/points/point_NNNNN.h5`` by the worker that computed it (status "ok" with its scalars and
spectra, or "failed" with the error); ``DIR/scan_summary.h5`` is rebuilt from the point files
at the end. ``DIR/scan.json`` records the scan (its digest): rerunning the same command skips
the finished points; a changed scan file (or code) is refused.

Every value of the scan file is checked against its key's schema before any point runs (and
the whole config of every point, for scans of up to :data:`FULL_CHECK_POINTS` points); the
point count is an exact integer product. The scan's digest covers its points, base config and
the code key (package version + the sources that compute a point). The directory is claimed
with a lock file (``DIR/.corona.lock``); ``scan.json``, the point files and the summary are
sealed (:mod:`transport.core.sealed`): a point file is used only if it is the point it claims
to be (scan digest, index, parameters) and passes its checksums and sanity check, else it is
computed again; a damaged ``scan.json`` is rebuilt when the point files agree with this scan.
A scan in which every point failed exits with status 1.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import secrets
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from transport import load_config, solve
from transport.core.config import all_keys, read_toml
from transport.core.errors import ArgumentError, ConfigError, CoronaError
from transport.core.keys import check_value
from transport.core.output import atomic_hdf5, code_version, provenance
from transport.core.schema import SCHEMA
from transport.core.sealed import (SealError, canonical, claims_key, code_key, describe_difference,
                                   finite_problem, read_json_record, read_sealed, seal, seal_json,
                                   shape_problem, stored_claims)
from transport.emission.registry import build_emission

from montecarlo import plots
from montecarlo.parallel import claimed, on_root, task_executor, world
from montecarlo.pipeline.response import response_kernels
from montecarlo.pipeline.run import anticentre_intensity, summarise
from montecarlo.sky.maps import make_component, sky_energies, sky_regions
from transport.core.safety import check_output_dir, temp_path

METHODS = ("grid", "lhs", "sobol")
EVALUATIONS = ("fast", "direct")
TOP_KEYS = {"base", "method", "n_points", "seed", "evaluation", "set", "parameters"}
SCAN_FORMAT = 2
MAX_POINTS = 100000
#: Scans up to this size have the full config of every point checked before the first runs
#: (~3 ms each); larger ones have every value checked against its key and each point's
#: cross-key checks when it runs.
FULL_CHECK_POINTS = 1000
#: The code that computes a point (its edits change the scan's digest).
SCAN_SOURCES = ("transport/**/*.py", "montecarlo/sky/*.py", "montecarlo/lineofsight/*.py",
                "montecarlo/opacity/*.py", "montecarlo/fields/*.py", "montecarlo/geometry.py",
                "montecarlo/observations.py", "montecarlo/pipeline/scan.py",
                "montecarlo/pipeline/response.py", "montecarlo/pipeline/run.py", "inputs/**/*")
RECORD_KIND, POINT_KIND, SUMMARY_KIND = "scan record", "scan point", "scan summary"
LOCK_FILE = ".corona.lock"


class ScanError(ConfigError):
    """A scan file or scan directory that cannot be used; the message says why."""


@dataclass(frozen=True)
class Scan:
    """A parsed scan file: the base config, fixed overrides and the points' parameters."""
    path: Path
    base: str                   # absolute path of the base config, or "" (bundled default)
    method: str
    evaluation: str
    fixed: dict
    names: tuple[str, ...]
    points: np.ndarray          # (n_points, n_parameters)
    log: tuple[bool, ...]
    digest: str
    claims: dict                # what the digest is made of: {"scan", "code", "format"}

    def overrides(self, index: int) -> dict:
        values = {n: _plain(v) for n, v in zip(self.names, self.points[index])}
        return {**self.fixed, **values}


def _plain(value):
    """A numpy scalar as the plain Python value a config override expects."""
    return value.item() if hasattr(value, "item") else value


# --------------------------------------------------------------------------- parsing
def _number(name, spec, key):
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ScanError(f"parameters.{name}.{key} = {value!r} is not allowed: expected a finite number")
    return float(value)


def _range(name, spec, need_n: bool):
    allowed = {"min", "max", "n", "log"} if need_n else {"min", "max", "log"}
    extra = set(spec) - allowed
    if extra:
        raise ScanError(f"parameters.{name}: unknown field(s) {', '.join(sorted(extra))}; allowed: "
                        + ", ".join(sorted(allowed)))
    lo, hi = _number(name, spec, "min"), _number(name, spec, "max")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ScanError(f"parameters.{name}.log = {log!r} is not allowed: expected true or false")
    if not lo < hi:
        raise ScanError(f"parameters.{name}: min = {lo:g} must be below max = {hi:g}")
    if log and lo <= 0:
        raise ScanError(f"parameters.{name}: log = true needs min > 0 (min = {lo:g})")
    n = None
    if need_n:
        n = spec.get("n")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 10000:
            raise ScanError(f"parameters.{name}.n = {n!r} is not allowed: expected an integer 1 ... 10000")
    return lo, hi, log, n


def _key_spec(name):
    section, _, key = name.partition(".")
    return SCHEMA[section][key]


def _check_values(name, values, where: str) -> None:
    """Every value a parameter takes, checked against its key's schema (type, range, choices)."""
    spec = _key_spec(name)
    seen = set()
    for v in values:
        tag = (type(v).__name__, repr(v))
        if tag in seen:
            continue
        seen.add(tag)
        try:
            check_value(name, spec, v)
        except ConfigError as exc:
            raise ScanError(f"{where}: {exc}") from None


def _grid_axis(name, spec):
    if isinstance(spec, list):
        if not spec or len(spec) > 10000:
            raise ScanError(f"parameters.{name} = {spec!r} is not allowed: expected 1 ... 10000 values")
        for v in spec:
            if isinstance(v, (dict, list)):
                raise ScanError(f"parameters.{name}: value {v!r} is not allowed: expected numbers, "
                                "strings or booleans")
        _check_values(name, spec, f"parameters.{name}")
        numbers = [v for v in spec if isinstance(v, (int, float)) and not isinstance(v, bool)]
        log = len(numbers) == len(spec) and min(numbers) > 0 and max(numbers) > 30 * min(numbers)
        return list(spec), log          # positive lists spanning > 30x are drawn on log axes
    if isinstance(spec, dict):
        lo, hi, log, n = _range(name, spec, need_n=True)
        values = np.geomspace(lo, hi, n) if log else np.linspace(lo, hi, n)
        values = [float(v) for v in values]
        _check_values(name, values, f"parameters.{name} = {{min = {lo:g}, max = {hi:g}, n = {n}}}")
        return values, log
    raise ScanError(f"parameters.{name} = {spec!r} is not allowed: expected a list of values or "
                    "{min, max, n[, log]}")


def _sample(method, specs, n_points, seed):
    from scipy.stats import qmc  # only the samplers of scipy.stats, slow to import
    d = len(specs)
    if method == "lhs":
        unit = qmc.LatinHypercube(d=d, seed=seed).random(n_points)
    else:
        unit = qmc.Sobol(d=d, scramble=True, seed=seed).random(n_points)
    cols, logs = [], []
    for k, (lo, hi, log) in enumerate(specs):
        u = unit[:, k]
        cols.append(np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))) if log else lo + u * (hi - lo))
        logs.append(log)
    return np.column_stack(cols), tuple(logs)


def parse_scan(path) -> Scan:
    """Read and check a scan file (ScanError with the key and what is allowed on any problem).
    The base config and every fixed override are checked here, before any computation."""
    path = Path(path)
    if not path.is_file():
        raise ScanError(f"scan file '{path}' does not exist")
    raw = read_toml(path)
    return scan_from_mapping(raw, path)


def scan_from_mapping(raw: dict, path: Path) -> Scan:
    """:func:`parse_scan` of an already-read mapping (``path`` locates relative base files)."""
    if not isinstance(raw, dict):
        raise ScanError("a scan file must be a TOML table")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise ScanError(f"scan file '{path}': unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                        f"allowed: {', '.join(sorted(TOP_KEYS))}")
    method = raw.get("method", "grid")
    if method not in METHODS:
        raise ScanError(f"method = {method!r} is not allowed: expected one of {', '.join(METHODS)}")
    evaluation = raw.get("evaluation", "fast")
    if evaluation not in EVALUATIONS:
        raise ScanError(f"evaluation = {evaluation!r} is not allowed: expected one of "
                        f"{', '.join(EVALUATIONS)}")
    base = raw.get("base", "")
    if not isinstance(base, str):
        raise ScanError(f"base = {base!r} is not allowed: expected a path to a config file or \"\"")
    if base:
        base_path = (path.parent / base).resolve()
        if not base_path.is_file():
            raise ScanError(f"base = {base!r}: config file '{base_path}' does not exist")
        base = str(base_path)
    fixed = raw.get("set", {})
    params = raw.get("parameters", {})
    for label, table in (("set", fixed), ("parameters", params)):
        if not isinstance(table, dict):
            raise ScanError(f"[{label}] must be a table of \"section.key\" = value")
    keys = set(all_keys())
    for label, table in (("set", fixed), ("parameters", params)):
        for name in table:
            if name not in keys:
                raise ScanError(f"{label}.{name}: no config key \"{name}\" (keys are "
                                "\"section.key\"; `corona config keys` lists them)")
    if not params:
        raise ScanError("[parameters] is empty: name at least one config key to vary")
    both = set(fixed) & set(params)
    if both:
        raise ScanError(f"{', '.join(sorted(both))} both fixed in [set] and varied in [parameters]")
    _check_values_fixed(fixed)
    names = tuple(params)
    if method == "grid":
        axes = [_grid_axis(n, params[n]) for n in names]
        n_total = math.prod(len(a) for a, _ in axes)          # exact: Python integers
        if n_total > MAX_POINTS:
            raise ScanError(f"the grid has {n_total} points: at most {MAX_POINTS} allowed")
        points = np.array(list(itertools.product(*[a for a, _ in axes])), dtype=object)
        log = tuple(lg for _, lg in axes)
    else:
        n_points, seed = raw.get("n_points"), raw.get("seed", 0)
        if isinstance(n_points, bool) or not isinstance(n_points, int) or not 1 <= n_points <= 100000:
            raise ScanError(f"n_points = {n_points!r} is not allowed for method = \"{method}\": "
                            "expected an integer 1 ... 100000")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ScanError(f"seed = {seed!r} is not allowed: expected an integer >= 0")
        specs = []
        for n in names:
            if not isinstance(params[n], dict):
                raise ScanError(f"parameters.{n} = {params[n]!r} is not allowed for method = "
                                f"\"{method}\": expected {{min, max[, log]}}")
            lo, hi, lg, _ = _range(n, params[n], need_n=False)
            if _key_spec(n).kind != "real":
                raise ScanError(f"parameters.{n}: method = \"{method}\" draws real numbers, but "
                                f"{n} takes {_key_spec(n).allowed()}: scan it with method = "
                                "\"grid\" and a list of values")
            _check_values(n, [lo, hi], f"parameters.{n} = {{min = {lo:g}, max = {hi:g}}}")
            specs.append((lo, hi, lg))
        points, log = _sample(method, specs, n_points, seed)
        for k, n in enumerate(names):       # the samples themselves (rounding at the ends)
            _check_values(n, points[:, k].tolist(), f"parameters.{n} ({method} sample)")
        points = points.astype(object)
    try:
        load_config(base or None, overrides=fixed)
    except CoronaError as exc:
        raise ScanError(f"scan file '{path}': the base config with [set] is not valid: {exc}") from None
    rows = [[_plain(v) for v in row] for row in points]
    if len(rows) <= FULL_CHECK_POINTS:
        for index, row in enumerate(rows):
            try:
                load_config(base or None, overrides={**fixed, **dict(zip(names, row))})
            except CoronaError as exc:
                raise ScanError(f"scan file '{path}': point {index} is not a valid config: "
                                f"{exc}") from None
    described = {"format": SCAN_FORMAT, "base_config": load_config(base or None).to_dict(),
                 "method": method, "evaluation": evaluation, "fixed": fixed, "names": names,
                 "points": rows}
    claims = {"scan": hashlib.sha256(canonical(described).encode()).hexdigest(),
              "code": code_key(SCAN_SOURCES), "format": SCAN_FORMAT}
    return Scan(path, base, method, evaluation, fixed, names, points, log, claims_key(claims),
                claims)


def _check_values_fixed(fixed: dict) -> None:
    for name, value in fixed.items():
        _check_values(name, [value], f"set.{name}")


# --------------------------------------------------------------------------- one point
def point_path(outdir, index: int) -> Path:
    return Path(outdir) / "points" / f"point_{index:05d}.h5"


def evaluate_model(cfg, evaluation: str = "fast", progress: bool = False) -> dict:
    """Transport + corona emission + sky products + summary scalars of one config.

    Returns {"E_eV", "gamma_all_sky", "nu_all_sky", "gamma_dipole", "nu_dipole",
    "regions": {name: gamma spectrum}, "summary": {scalar: value}}."""
    sol = solve(cfg, progress=progress)
    gamma = build_emission(cfg, "corona", "gamma", sol)
    nu = build_emission(cfg, "corona", "nu", sol)
    return sky_products(cfg, gamma, nu, evaluation)


def sky_products(cfg, gamma, nu, evaluation: str = "fast") -> dict:
    """The scan's per-point products of the corona's gamma / nu emission tables."""
    E = sky_energies(cfg)
    if evaluation == "fast":
        kernels = response_kernels(cfg, gamma)
        g, n = kernels.evaluate(gamma, neutrino=False), kernels.evaluate(nu, neutrino=True)
        anticentre = None
    else:
        fields = tuple(cfg.sky.fields) if cfg.sky.attenuate else ()
        regions = sky_regions(cfg)
        cg = make_component(gamma, "corona", "gamma", E, cfg.sky.nside, regions, None, fields, cfg)
        cn = make_component(nu, "corona", "nu", E, cfg.sky.nside, regions, None, (), cfg)
        g = {"all_sky": cg.all_sky, "dipole_amplitude": cg.dipole_amplitude, "regions": cg.regions}
        n = {"all_sky": cn.all_sky, "dipole_amplitude": cn.dipole_amplitude}
        anticentre = anticentre_intensity(cg)
    summary = summarise(E, g["all_sky"], n["all_sky"], g["dipole_amplitude"], n["dipole_amplitude"],
                        anticentre)
    return {"E_eV": E, "gamma_all_sky": g["all_sky"], "nu_all_sky": n["all_sky"],
            "gamma_dipole": g["dipole_amplitude"], "nu_dipole": n["dipole_amplitude"],
            "regions": g["regions"], "summary": summary}


def run_point(task) -> tuple[int, str, float]:
    """Worker: evaluate point ``index`` and write its file atomically. Returns (index, status,
    seconds); a failing point writes status "failed" with its error instead of raising."""
    outdir, index, overrides, base, evaluation, digest = task
    t0 = time.perf_counter()
    attrs = {"index": index, "scan_digest": digest, "pid": os.getpid(),
             "overrides_json": json.dumps(overrides, sort_keys=True, default=str)}
    caught = []
    try:
        cfg = load_config(base or None, overrides=overrides)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = evaluate_model(cfg, evaluation)
        bad = [k for k, v in result["summary"].items() if not np.isfinite(v)]
        bad += [k for k in ("gamma_all_sky", "nu_all_sky")
                if not np.all(np.isfinite(result[k]) & (result[k] >= 0))]
        if bad:
            raise CoronaError(f"non-finite or negative results ({', '.join(bad)}) for "
                              + ", ".join(f"{k} = {v}" for k, v in overrides.items()))
        status, error = "ok", ""
    except Exception as exc:              # recorded in the point file; the scan goes on
        cfg, result, status = None, None, "failed"
        error = (f"{type(exc).__name__}: {exc}" if isinstance(exc, CoronaError)
                 else "".join(traceback.format_exception_only(type(exc), exc)).strip())
    seconds = time.perf_counter() - t0
    with atomic_hdf5(point_path(outdir, index)) as fh:
        fh.attrs.update(provenance(cfg))
        fh.attrs.update(attrs)
        fh.attrs["status"] = status
        fh.attrs["error"] = error
        fh.attrs["seconds"] = seconds
        fh.attrs["warnings"] = "\n".join(sorted({str(w.message) for w in caught}))
        if result is not None:
            for key in ("E_eV", "gamma_all_sky", "nu_all_sky", "gamma_dipole", "nu_dipole"):
                fh.create_dataset(key, data=result[key])
            for name, values in result["regions"].items():
                fh.create_dataset(f"regions/{name}", data=values)
            summary = fh.create_group("scalars")
            for key, value in result["summary"].items():
                summary.attrs[key] = float(value)
        seal(fh, POINT_KIND, point_claims(digest, index, overrides))
    return index, status, seconds


def point_claims(digest: str, index: int, overrides: dict) -> dict:
    """What a point file claims to be: point ``index`` of the scan ``digest`` with ``overrides``."""
    return {"scan": digest, "index": int(index),
            "overrides": json.loads(canonical({k: _plain(v) for k, v in overrides.items()}))}


# --------------------------------------------------------------------------- the scan
POINT_SPECTRA = ("E_eV", "gamma_all_sky", "nu_all_sky", "gamma_dipole", "nu_dipole")


def _load_point(fh) -> dict:
    out = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in fh.attrs.items()
           if k in ("index", "status", "error", "scan_digest", "created_utc", "seconds",
                    "pid", "overrides_json")}
    if out.get("status") == "ok":
        out["scalars"] = dict(fh["scalars"].attrs)
        for key in POINT_SPECTRA:
            out[key] = fh[key][()]
        out["regions"] = {k: v[()] for k, v in fh.get("regions", {}).items()}
    return out


def _point_problem(info: dict) -> str | None:
    """Sanity check of a point read back: status, and for "ok" finite spectra on one grid."""
    if info.get("status") not in ("ok", "failed"):
        return f"status = {info.get('status')!r}"
    if info["status"] == "failed":
        return None
    n = np.size(info["E_eV"])
    for key in POINT_SPECTRA[1:]:
        bad = shape_problem(key, info[key], (n,))
        if bad:
            return bad
    return (finite_problem({k: info[k] for k in ("E_eV", "gamma_all_sky", "nu_all_sky")})
            or finite_problem({k: v for k, v in info["scalars"].items()}, nonnegative=False))


def read_point(path, scan: Scan | None = None, index: int | None = None) -> dict | None:
    """{"index", "status", "error", "scan_digest", "created_utc", ...} of a point file (with
    ``scan``: verified to be point ``index`` of it), or None when it is not usable (then the
    point is computed again; :func:`check_point` says why)."""
    info, _ = check_point(path, scan, index)
    return info


def check_point(path, scan: Scan | None = None, index: int | None = None):
    """(info, None) of a usable point file, or (None, why it is not usable)."""
    claims = None if scan is None else point_claims(scan.digest, index, scan.overrides(index))
    try:
        return read_sealed(path, "/", POINT_KIND, claims, _load_point, _point_problem,
                           what="point file"), None
    except SealError as exc:
        return None, exc.problem.text if exc.problem else str(exc)


def _check_directory(scan: Scan, outdir: Path, say=print) -> None:
    """Record the scan in DIR/scan.json (sealed, created atomically only if absent), or refuse
    a directory started by another scan (or code); a damaged record is rebuilt when no point
    file in the directory belongs to another scan."""
    record = outdir / "scan.json"
    points = outdir / "points"
    for path, kind in ((outdir, "directory"), (points, "directory")):
        if path.exists() and not path.is_dir():
            raise ScanError(f"'{path}' is a file, expected a {kind}: remove it or use another -o")
    if record.is_dir():
        raise ScanError(f"'{record}' is a directory, expected the scan record file: remove it or "
                        "use another -o")
    if record.exists() or record.is_symlink():
        try:
            text = record.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            text = f"unreadable: {exc}"
        found = read_json_record(text, RECORD_KIND)
        if isinstance(found, tuple):
            old, data = found
            if claims_key(old) != scan.digest:
                why = describe_difference(old, scan.claims)
                raise ScanError(
                    f"scan directory '{outdir}' was started by a different scan ({why}; scan file "
                    f"'{data.get('scan_file')}'): restore the scan file (or the code), or pass "
                    "a new -o directory for the changed scan")
            return
        others = _foreign_points(scan, points)
        if others:
            raise ScanError(f"'{record}' {found.text}, and the directory holds points of another "
                            f"scan ({others[0]}): use another -o")
        say(f"scan.json {found.text}: rebuilt (the point files agree with this scan)")
        _write_record(scan, record, replace=True)
        return
    outdir.mkdir(parents=True, exist_ok=True)
    if not _write_record(scan, record, replace=False):
        _check_directory(scan, outdir, say)         # created meanwhile: compare with it


def _foreign_points(scan: Scan, points: Path) -> list:
    """Names of the sealed point files in ``points`` that belong to another scan."""
    out = []
    for path in sorted(points.glob("point_*.h5")) if points.is_dir() else ():
        with contextlib.suppress(OSError):
            with h5py.File(path, "r") as fh:
                claims = stored_claims(fh)
            if claims and claims.get("scan") != scan.digest:
                out.append(path.name)
    return out


def _write_record(scan: Scan, record: Path, replace: bool) -> bool:
    """Write the sealed scan record; without ``replace`` only if none exists (hard link of a
    complete temporary file: atomic, fails if one exists). Returns whether it was written."""
    text = seal_json(RECORD_KIND, scan.claims, {
        "scan_file": str(scan.path), "names": list(scan.names), "n_points": len(scan.points),
        "scan_text": scan.path.read_text() if scan.path.is_file() else "",
        "code_version": code_version()})
    tmp = temp_path(record.with_name(f"scan.json.{secrets.token_hex(4)}"))
    try:
        tmp.write_text(text)
        if replace:
            os.replace(tmp, record)
            return True
        try:
            os.link(tmp, record)
        except FileExistsError:
            return False
        return True
    except OSError as exc:
        raise ScanError(f"cannot write '{record}': {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def pending_points(scan: Scan, outdir: Path, retry_failed: bool = False, say=None) -> list[int]:
    """Indices of the points without a usable file (absent, another point's or scan's, or
    failing its check: ``say`` reports those) and, with ``retry_failed``, the failed ones."""
    todo, redo = [], []
    for index in range(len(scan.points)):
        path = point_path(outdir, index)
        if not (path.exists() or path.is_symlink()):
            todo.append(index)
            continue
        info, why = check_point(path, scan, index)
        if info is None:
            todo.append(index)
            redo.append(f"point {index}: {path.name} {why}")
        elif retry_failed and info.get("status") == "failed":
            todo.append(index)
    if redo and say is not None:
        say(f"{len(redo)} point file(s) not used, computed again:")
        for line in redo[:5]:
            say(f"  {line}")
        if len(redo) > 5:
            say(f"  ... and {len(redo) - 5} more")
    return todo


def run_scan(scan: Scan, outdir, workers: int | None = None, retry_failed: bool = False,
             say=print) -> dict:
    """Farm out the pending points (rank 0 / the calling process is the master) and rebuild
    the summary. Returns {"computed", "skipped", "failed", "seconds", "ok", "failures"} on the
    master, None on MPI worker ranks. The directory is claimed (lock file) for the duration."""
    outdir = Path(outdir)
    comm = world()
    with claimed(outdir / LOCK_FILE, f"-o/--outdir '{outdir}'", comm):
        todo = on_root(comm, lambda: _prepare(scan, outdir, retry_failed, say))
        t0 = time.perf_counter()
        counts = {"computed": 0, "failed": 0}
        with task_executor(max_workers=workers) as pool:
            if pool is None:
                return None
            say(f"scan {scan.path.name}: {len(scan.points)} points, {len(scan.points) - len(todo)} "
                f"finished before, {len(todo)} to compute ({scan.method}, {scan.evaluation} "
                f"evaluation); {describe_workers(comm, workers)}")
            tasks = [(str(outdir), i, scan.overrides(i), scan.base, scan.evaluation, scan.digest)
                     for i in todo]
            for index, status, seconds in pool.map(run_point, tasks):
                counts["computed"] += 1
                counts["failed"] += status != "ok"
                say(f"  point {index:5d}: {status} ({seconds:.1f} s)")
        infos = write_summary(scan, outdir, infos=True)
    failures = [(i, p.get("error", "")) for i, p in enumerate(infos) if p and p.get("status") != "ok"]
    return {**counts, "skipped": len(scan.points) - len(todo), "seconds": time.perf_counter() - t0,
            "ok": sum(1 for p in infos if p and p.get("status") == "ok"), "failures": failures}


def _prepare(scan: Scan, outdir: Path, retry_failed: bool, say) -> list[int]:
    """Master: the directory checked and recorded, the pending points, the kernels built."""
    _check_directory(scan, outdir, say)
    (outdir / "points").mkdir(exist_ok=True)
    todo = pending_points(scan, outdir, retry_failed, say)
    if todo and scan.evaluation == "fast":
        say("  building the response kernels once for all points (first point's geometry)")
        _prebuild_kernels(scan, todo[0])
    return todo


def describe_workers(comm, workers: int | None) -> str:
    """How many processes compute points: under mpirun every rank but rank 0 (the master of
    mpi4py.futures), else the local process pool."""
    if comm is not None:
        size = comm.Get_size()
        text = f"{size - 1} worker{'s' if size != 2 else ''} (mpirun -n {size}: rank 0 distributes the points"
        return text + (", so -n 2 computes on one process; use -n 3 or more)" if size <= 2 else ")")
    n = workers or os.cpu_count() or 1
    return f"{n} local worker process{'es' if n != 1 else ''} (--workers)"


def _prebuild_kernels(scan: Scan, index: int) -> None:
    """Build (and cache) the response kernels once before the workers start, for the geometry
    of the first pending point (workers then read them; points with another radial grid build
    their own)."""
    try:
        cfg = load_config(scan.base or None, overrides=scan.overrides(index))
        sol = solve(cfg)
        response_kernels(cfg, build_emission(cfg, "corona", "gamma", sol))
    except CoronaError:
        pass                     # the point itself will fail and record why


def write_summary(scan: Scan, outdir, infos: bool = False):
    """DIR/scan_summary.h5 (sealed) from the verified point files: parameters, status, errors,
    scalars and spectra of every point (NaN where a point failed or is missing). Returns its
    path (``infos``: the points' contents instead)."""
    outdir = Path(outdir)
    infos_ = [read_point(point_path(outdir, i), scan, i) if point_path(outdir, i).is_file() else None
              for i in range(len(scan.points))]
    path = _write_summary(scan, outdir, infos_)
    return infos_ if infos else path


def _write_summary(scan: Scan, outdir: Path, infos: list) -> Path:
    ok = [p for p in infos if p is not None and p.get("status") == "ok"]
    scalar_names = sorted({k for p in ok for k in p["scalars"]})
    n = len(scan.points)
    path = outdir / "scan_summary.h5"
    with atomic_hdf5(path) as fh:
        fh.attrs.update(provenance())
        fh.attrs["scan_digest"] = scan.digest
        fh.attrs["scan_file"] = str(scan.path)
        fh.attrs["method"] = scan.method
        fh.attrs["evaluation"] = scan.evaluation
        params = fh.create_group("parameters")
        for k, name in enumerate(scan.names):
            column = [v for v in scan.points[:, k]]
            try:
                params.create_dataset(name, data=np.array(column, dtype=float))
            except (TypeError, ValueError):
                params.create_dataset(name, data=np.array([str(v) for v in column], dtype="S"))
            params[name].attrs["log"] = scan.log[k]
        status = [("missing" if p is None else p.get("status", "?")) for p in infos]
        fh.create_dataset("status", data=np.array(status, dtype="S"))
        fh.create_dataset("error", data=np.array([(p or {}).get("error", "") for p in infos], dtype="S"))
        fh.create_dataset("seconds", data=np.array([float((p or {}).get("seconds", np.nan)) for p in infos]))
        scalars = fh.create_group("scalars")
        for name in scalar_names:
            scalars.create_dataset(name, data=np.array(
                [p["scalars"].get(name, np.nan) if p and p.get("status") == "ok" else np.nan
                 for p in infos]))
        if ok:
            E = ok[0]["E_eV"]
            fh.create_dataset("E_eV", data=E)
            spectra = fh.create_group("spectra")
            keys = ["gamma_all_sky", "nu_all_sky", "gamma_dipole", "nu_dipole"]
            keys += [f"regions/{r}" for r in ok[0]["regions"]]
            for key in keys:
                table = np.full((n, E.size), np.nan)
                for i, p in enumerate(infos):
                    if p and p.get("status") == "ok" and p["E_eV"].size == E.size:
                        table[i] = p["regions"][key.split("/", 1)[1]] if key.startswith("regions/") else p[key]
                spectra.create_dataset(key, data=table)
        seal(fh, SUMMARY_KIND, {"scan": scan.digest, "n_points": n})
    return path


# --------------------------------------------------------------------------- plot
PLOT_SCALARS = ("nu_icecube_frac_100TeV", "gamma_igrb_frac_10GeV", "dipole_gamma_1TeV",
                "dipole_nu_1PeV", "chi2_icecube")
#: Columns of the printed result table: summary key -> header (docs/pipeline.md, "Summary").
TABLE_SCALARS = {"nu_icecube_frac_100TeV": "nu/IceCube@100TeV", "gamma_igrb_frac_1GeV": "gamma/IGRB@1GeV",
                 "gamma_igrb_frac_10GeV": "gamma/IGRB@10GeV", "dipole_gamma_1TeV": "A_gamma@1TeV",
                 "dipole_nu_1PeV": "A_nu@1PeV", "chi2_icecube": "chi2_IceCube"}


def scan_table(summary_path) -> str:
    """The scan's result table: per point its index, parameters, status and the main summary
    numbers (fractions of IceCube and the Fermi IGRB, dipole amplitudes A = sqrt(3)|a1|/a00,
    chi^2 against the IceCube points, whose number is in the header)."""
    with h5py.File(summary_path, "r") as fh:
        params = {k: v[()] for k, v in fh["parameters"].items()}
        scalars = {k: fh["scalars"][k][()] for k in TABLE_SCALARS if k in fh.get("scalars", {})}
        n_icecube = fh["scalars"]["chi2_icecube_n"][()] if "chi2_icecube_n" in fh.get("scalars", {}) else None
        status = fh["status"][()].astype(str)
    heads = ["point", *params, "status", *(TABLE_SCALARS[k] for k in scalars)]
    if n_icecube is not None and np.any(np.isfinite(n_icecube)):
        heads[-1] += f"/{int(np.nanmax(n_icecube))}"

    def fmt(v):
        if isinstance(v, (bytes, np.bytes_)):
            return v.decode()
        return f"{v:.4g}" if np.isfinite(v) else "-"

    rows = [[str(i), *(fmt(params[n][i]) for n in params), status[i],
             *(fmt(scalars[k][i]) for k in scalars)] for i in range(status.size)]
    widths = [max(len(h), *(len(r[c]) for r in rows)) for c, h in enumerate(heads)]
    line = lambda cells: "  ".join(f"{c:>{w}s}" for c, w in zip(cells, widths))
    return "\n".join([line(heads), "-" * len(line(heads))] + [line(r) for r in rows])


def plot_scan(summary_path, png) -> Path | None:
    """Corner-style figure: every plotted scalar (rows) against every parameter (columns),
    failed points marked on the axis; None (no figure) when no point succeeded."""
    def load(fh):
        return ({k: (v[()], bool(v.attrs["log"])) for k, v in fh["parameters"].items()},
                {k: fh["scalars"][k][()] for k in PLOT_SCALARS if k in fh.get("scalars", {})},
                fh["status"][()].astype(str))

    params, scalars, status = read_sealed(summary_path, "/", SUMMARY_KIND, None, load,
                                          what="scan summary")
    if not np.any(status == "ok") or not scalars:
        return None                           # nothing to draw: no empty figure
    plt = plots._pyplot()
    names = list(params)
    fig, axes = plt.subplots(max(len(scalars), 1), len(names), squeeze=False,
                             figsize=(2.8 * len(names) + 1, 2.3 * max(len(scalars), 1) + 0.5))
    for row, (sname, values) in enumerate(scalars.items()):
        for col, pname in enumerate(names):
            ax = axes[row, col]
            x, log = params[pname]
            if x.dtype.kind not in "fi":
                x = np.unique(x, return_inverse=True)[1].astype(float)
            good = status == "ok"
            ax.scatter(x[good], values[good], s=10, color="tab:blue")
            if np.any(~good):
                ax.plot(x[~good], np.full((~good).sum(), np.nanmin(values) if np.any(good) else 0),
                        "rx", ms=5, label="failed")
            if log:
                ax.set_xscale("log")
            if np.all(values[good] > 0):
                ax.set_yscale("log")
            if row == len(scalars) - 1:
                ax.set_xlabel(pname, fontsize=8)
            if col == 0:
                ax.set_ylabel(sname, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(f"scan: {int((status == 'ok').sum())} of {status.size} points", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return Path(png)


# --------------------------------------------------------------------------- command
def cmd_scan(args) -> int:
    if args.workers is not None and args.workers < 1:
        raise ArgumentError(f"--workers = {args.workers} is not allowed: expected >= 1")
    scan = parse_scan(args.scan)
    outdir = check_output_dir(args.outdir, what="-o/--outdir")
    say = (lambda text: None) if args.quiet else print
    result = run_scan(scan, outdir, workers=args.workers, retry_failed=args.retry_failed, say=say)
    if result is None:          # an MPI worker rank
        return 0
    print(f"corona scan: {outdir / 'scan_summary.h5'}: {result['computed']} computed "
          f"({result['failed']} failed), {result['skipped']} finished before, "
          f"{result['seconds']:.1f} s")
    if not args.quiet:
        print(scan_table(outdir / "scan_summary.h5"))
    failures = result["failures"]
    if failures:
        print(f"failed points ({len(failures)} of {len(scan.points)}; errors in scan_summary.h5 "
              "/error; --retry-failed computes them again):")
        for index, error in failures[:10]:
            values = ", ".join(f"{k} = {v}" for k, v in zip(scan.names, scan.points[index]))
            print(f"  point {index} ({values}): {error}")
        if len(failures) > 10:
            print(f"  ... and {len(failures) - 10} more")
    if args.plot:
        png = plot_scan(outdir / "scan_summary.h5", outdir / "scan_corner.png")
        print(f"wrote {png}" if png else "no corner plot: no point succeeded")
    if result["ok"] == 0:
        print(f"corona scan: every point failed ({len(scan.points)} of {len(scan.points)})",
              file=sys.stderr)
        return 1
    return 0
