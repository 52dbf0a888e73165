"""Pipeline stages: what each step of ``corona run`` computes, what it depends on, and how its
result is cached.

A :class:`Stage` has a name, the config slices it depends on (whole sections "sky" or single
keys "galactic_plane.fit"), the stages whose results it takes as inputs, ``compute(cfg,
inputs, ctx) -> result``, and ``save(group, result)`` / ``load(group, cfg) -> result`` to and
from an HDF5 group. Its cache key is the SHA-256 of its config slice, the code version and the
keys of its inputs, so changing a sky option reruns the sky and what follows it, never the
transport. :func:`run_stages` runs an ordered list of stages, skipping every stage whose
saved result (``<cache_dir>/<name>.h5``) carries the same key, and can start any stage from a
saved file instead (``start_from``).

Under MPI (``ctx.comm`` not None) rank 0 computes and writes the serial stages; stages marked
``parallel`` run on every rank (their inputs are read from the cache files on the other
ranks) and rank 0 writes their result.

Every result passes :func:`check_finite` (numerical guard): a NaN, inf or negative density or
intensity stops the run with a message naming the stage and the parameters of its config slice.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np

from transport.core.config import Config
from transport.core.errors import CoronaError
from transport.core.output import atomic_hdf5, code_version, provenance


class StageError(CoronaError):
    """A stage failed its numerical guard or could not be loaded; the message names the stage."""


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline (see the module docstring)."""
    name: str
    depends_on: tuple[str, ...]          # config sections or "section.key"
    needs: tuple[str, ...]               # names of the stages whose results are inputs
    compute: Callable[[Config, dict, "Context"], Any]
    save: Callable[[h5py.Group, Any], None]
    load: Callable[[h5py.Group, Config], Any]
    guard: Callable[[Any], dict] = field(default=lambda result: {})  # name -> array to check
    enabled: Callable[[Config], bool] = field(default=lambda cfg: True)
    parallel: bool = False
    description: str = ""


@dataclass
class Context:
    """What stages may use besides the config: MPI communicator, progress flag, messages."""
    comm: Any = None
    progress: bool = False
    say: Callable[[str], None] = field(default=lambda text: None)
    workdir: Any = None            # where long stages keep their checkpoints (None: none)

    @property
    def rank(self) -> int:
        return 0 if self.comm is None else self.comm.Get_rank()


@dataclass
class StageRecord:
    """The outcome of one stage in a run."""
    name: str
    key: str
    status: str                          # "computed", "cached", "loaded from FILE"
    seconds: float
    path: Path | None
    _result: Any = None
    _loader: Callable[[], Any] | None = None

    @property
    def result(self):
        """The stage's result (read lazily from the cache file on ranks that did not compute it)."""
        if self._result is None and self._loader is not None:
            self._result = self._loader()
            self._loader = None
        return self._result


# --------------------------------------------------------------------------- keys
def config_slice(cfg: Config, depends_on) -> dict:
    """{"section" or "section.key": value} of the resolved config for ``depends_on``."""
    data = cfg.to_dict()
    out = {}
    for item in depends_on:
        section, _, key = item.partition(".")
        out[item] = data[section][key] if key else data[section]
    return out


def stage_key(stage: Stage, cfg: Config, input_keys: dict) -> str:
    """SHA-256 of the stage name, its config slice, the code version and its inputs' keys."""
    payload = {"stage": stage.name, "config": config_slice(cfg, stage.depends_on),
               "code_version": code_version(), "inputs": input_keys}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def describe_parameters(cfg: Config, stage: Stage, limit: int = 12) -> str:
    """A short "key = value, ..." text of the scalar parameters a stage depends on."""
    items = []
    for name, value in config_slice(cfg, stage.depends_on).items():
        flat = value.items() if isinstance(value, dict) else [("", value)]
        for key, v in flat:
            if isinstance(v, (int, float, str, bool)):
                items.append(f"{name}{'.' + key if key else ''} = {v}")
    return ", ".join(items[:limit]) + (" ..." if len(items) > limit else "")


# --------------------------------------------------------------------------- guards
def check_finite(stage: Stage, cfg: Config, arrays: dict) -> None:
    """Numerical guard: every array finite and >= 0, else StageError naming the stage,
    the array and the stage's parameters."""
    for name, values in arrays.items():
        a = np.asarray(values, dtype=float)
        bad = ~np.isfinite(a)
        if np.any(bad):
            raise StageError(f"stage '{stage.name}' produced {int(bad.sum())} non-finite value(s) "
                             f"(NaN/inf) in {name}; parameters: {describe_parameters(cfg, stage)}")
        if np.any(a < 0):
            raise StageError(f"stage '{stage.name}' produced negative values in {name} (min "
                             f"{a.min():.3g}); parameters: {describe_parameters(cfg, stage)}")


# --------------------------------------------------------------------------- files
def write_stage_file(path: Path, stage: Stage, key: str, cfg: Config, result) -> None:
    """``path`` (atomic): provenance, the stage key, and the result in group ``/<name>``."""
    with atomic_hdf5(path) as fh:
        fh.attrs.update(provenance(cfg))
        group = fh.create_group(stage.name)
        group.attrs["stage_key"] = key
        stage.save(group, result)


def saved_key(path: Path, name: str) -> str | None:
    """The stage key stored in ``path`` for stage ``name`` (None: no usable file)."""
    try:
        with h5py.File(path, "r") as fh:
            return str(fh[name].attrs["stage_key"]) if name in fh else None
    except (OSError, KeyError):
        return None


def load_stage(path, stage: Stage, cfg: Config):
    """The result of ``stage`` stored in ``path`` (a stage file or a ``corona run`` file)."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as fh:
            for where in (stage.name, f"stages/{stage.name}"):
                if where in fh:
                    return stage.load(fh[where], cfg)
    except OSError as exc:
        raise StageError(f"cannot read stage '{stage.name}' from '{path}': {exc}") from None
    raise StageError(f"'{path}' holds no result of stage '{stage.name}' (expected a group "
                     f"/{stage.name} or /stages/{stage.name})")


# --------------------------------------------------------------------------- runner
def run_stages(cfg: Config, stages: list[Stage], cache_dir, ctx: Context,
               start_from: dict | None = None) -> dict:
    """Run ``stages`` in order (skipping disabled ones); returns {name: StageRecord}.

    A stage is loaded from ``<cache_dir>/<name>.h5`` when its key matches, from
    ``start_from[name]`` (a file) when given, and computed otherwise (then written to the cache).
    """
    cache_dir = Path(cache_dir)
    start_from = dict(start_from or {})
    known = {s.name for s in stages}
    for name in start_from:
        if name not in known:
            raise StageError(f"--from {name}=...: no stage '{name}'; stages: {', '.join(sorted(known))}")
    records: dict[str, StageRecord] = {}
    comm = ctx.comm
    for stage in stages:
        if not stage.enabled(cfg):
            continue
        missing = [n for n in stage.needs if n not in records]
        if missing:
            raise StageError(f"stage '{stage.name}' needs {', '.join(missing)}, which did not run")
        key = stage_key(stage, cfg, {n: records[n].key for n in stage.needs})
        path = cache_dir / f"{stage.name}.h5"
        t0 = time.perf_counter()
        status = None
        if ctx.rank == 0:
            if stage.name in start_from:
                status = f"loaded from {start_from[stage.name]}"
            elif path.is_file() and saved_key(path, stage.name) == key:
                status = "cached"
        if comm is not None:
            status = comm.bcast(status, root=0)
        record = StageRecord(stage.name, key, status or "computed", 0.0, path)
        if status is None:
            ctx.say(f"  stage {stage.name:<14s} computing: {stage.description}")
        error = None
        try:
            record._result = _obtain(stage, cfg, key, path, status, start_from, records, ctx)
        except CoronaError as exc:
            if comm is None:
                raise
            error = exc
        if comm is not None:       # a failure on rank 0 stops every rank with its message
            message = comm.bcast(str(error) if error is not None else None, root=0)
            if error is not None:
                raise error
            if message is not None:
                raise StageError(message)
            comm.barrier()
        if ctx.rank != 0:
            record._loader = lambda p=path, s=stage: load_stage(p, s, cfg)
        record.seconds = time.perf_counter() - t0
        records[stage.name] = record
        ctx.say(f"  stage {stage.name:<14s} {record.status:<10s} {record.seconds:7.2f} s")
    return records


def _obtain(stage, cfg, key, path, status, start_from, records, ctx):
    """The stage's result on this rank (None on ranks that neither compute nor load it)."""
    if status is not None and status.startswith("loaded"):
        if ctx.rank != 0:
            return None
        result = load_stage(start_from[stage.name], stage, cfg)
        check_finite(stage, cfg, stage.guard(result))
        write_stage_file(path, stage, key, cfg, result)
        return result
    if status == "cached":
        return load_stage(path, stage, cfg) if ctx.rank == 0 else None
    if not (stage.parallel or ctx.rank == 0):
        return None
    result = stage.compute(cfg, {n: records[n].result for n in stage.needs}, ctx)
    if ctx.rank != 0:
        return None
    check_finite(stage, cfg, stage.guard(result))
    write_stage_file(path, stage, key, cfg, result)
    return result


def link_stages(fh, records: dict) -> None:
    """/stages/<name> in ``fh``: an HDF5 external link to the stage's cache file group (stored
    once; the link is relative, so the run directory may be moved); /stages attributes
    <name>_status, <name>_seconds."""
    group = fh.require_group("stages")
    here = Path(fh.filename).resolve().parent
    for name, record in records.items():
        target = Path(record.path).resolve()
        try:
            target = target.relative_to(here)
        except ValueError:
            pass                 # a cache outside the run directory: absolute link
        group[name] = h5py.ExternalLink(str(target), f"/{name}")
        group.attrs[f"{name}_status"] = record.status
        group.attrs[f"{name}_seconds"] = record.seconds


# --------------------------------------------------------------------------- generic I/O
def save_mapping(group, result: dict) -> None:
    """Save {name: array or scalar or str or nested dict} (the optional stages' results)."""
    for name, value in result.items():
        if isinstance(value, dict):
            save_mapping(group.create_group(name), value)
        elif isinstance(value, (str, bool, int, float)):
            group.attrs[name] = value
        else:
            group.create_dataset(name, data=np.asarray(value))


def load_mapping(group, cfg=None) -> dict:
    """Inverse of :func:`save_mapping`."""
    out = {k: (load_mapping(v) if isinstance(v, h5py.Group) else v[()]) for k, v in group.items()}
    out.update({k: v for k, v in group.attrs.items() if k not in ("stage_key", "status", "seconds")})
    return out
