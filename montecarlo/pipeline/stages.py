"""Pipeline stages: what each step of ``corona run`` computes, what it depends on, and how its
result is cached.

A :class:`Stage` has a name, the config slices it depends on (whole sections "sky" or single
keys "galactic_plane.fit"), the stages whose results it takes as inputs, the source files that
compute it (glob patterns, :func:`transport.core.sealed.code_key`), ``compute(cfg, inputs,
ctx) -> result``, and ``save(group, result)`` / ``load(group, cfg) -> result`` to and from an
HDF5 group. Its key is the SHA-256 of its claims (:func:`stage_claims`): its config slice (the
decimal text of the values), the code key (package version + digest of its sources, the same
for a regular and an editable install) and the keys of its inputs, so changing a sky option
reruns the sky and what follows it, never the transport.

Every stage file is sealed (:mod:`transport.core.sealed`: claims, key, checksums of every
dataset and attribute). :func:`run_stages` runs an ordered list of stages and reuses a cache
file ``<cache_dir>/<name>.h5`` only when its key matches and it passes its checksums and the
sanity check (finite, >= 0 where the guard says so, the stage's ``validate``); otherwise the
stage is recomputed and the reason printed ("no cache", "config differs: ...", "code differs:
...", "inputs differ: ...", "cache file failed its check: ..."). A stage started from a saved
file (``start_from``, ``--from``) must match the same way, else it is refused (exit 2);
with ``accept_mismatch`` it is used, the difference is recorded in the run's provenance, and
it is never written into the cache (it keeps its own key, so the stages after it are keyed on
what they really used).

Under MPI (``ctx.comm`` not None) rank 0 decides, computes and writes the serial stages, and
broadcasts the outcome (success or its error) before anything else happens
(:func:`montecarlo.parallel.on_root`); stages marked ``parallel`` run on every rank after
every rank has loaded their inputs (from the verified cache files) without error.

Every computed result passes :func:`check_finite` (numerical guard): a NaN, inf or negative
density or intensity stops the run with a message naming the stage and the parameters of its
config slice.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np

from transport.core.config import Config
from transport.core.errors import CoronaError
from transport.core.output import atomic_hdf5, provenance
from transport.core.sealed import (SEAL_ATTRS, SealError, claims_key, code_key, finite_problem,
                                   read_sealed, seal, sealed_key)

from montecarlo.parallel import all_ranks, on_root

#: Sources of a stage that does not name its own: all the code and shipped data (any edit
#: recomputes it).
ALL_SOURCES = ("transport/**/*.py", "montecarlo/**/*.py", "inputs/**/*")


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
    sources: tuple[str, ...] = ALL_SOURCES     # glob patterns of the code that computes it
    validate: Callable[[Any, Config], str | None] = field(default=lambda result, cfg: None)

    @property
    def kind(self) -> str:
        return f"stage {self.name}"


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
    path: Path | None                    # the sealed file holding the result
    where: str = ""                      # its group in that file
    reason: str = ""                     # why it was computed, or the accepted mismatch
    mismatch: str = ""                   # --from file accepted despite this difference
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


def stage_claims(stage: Stage, cfg: Config, input_keys: dict) -> dict:
    """What a stage's result is: its name, config slice, code key and its inputs' keys."""
    return {"stage": stage.name, "config": config_slice(cfg, stage.depends_on),
            "code": code_key(stage.sources), "inputs": dict(input_keys)}


def stage_key(stage: Stage, cfg: Config, input_keys: dict) -> str:
    """SHA-256 of :func:`stage_claims`."""
    return claims_key(stage_claims(stage, cfg, input_keys))


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
    problem = finite_problem(arrays)
    if problem:
        raise StageError(f"stage '{stage.name}' produced a bad result ({problem}); parameters: "
                         f"{describe_parameters(cfg, stage)}")


def result_problem(stage: Stage, cfg: Config, result) -> str | None:
    """The sanity check of a stage result read back: the guard's arrays finite and >= 0, and
    the stage's own ``validate`` (shapes, required members)."""
    try:
        arrays = stage.guard(result)
    except (KeyError, AttributeError, TypeError) as exc:
        return f"incomplete result ({type(exc).__name__}: {exc})"
    return finite_problem(arrays) or stage.validate(result, cfg)


# --------------------------------------------------------------------------- files
def write_stage_file(path: Path, stage: Stage, claims: dict, cfg: Config, result) -> None:
    """``path`` (atomic): provenance and the result in group ``/<name>``, sealed with ``claims``."""
    with atomic_hdf5(path) as fh:
        fh.attrs.update(provenance(cfg))
        group = fh.create_group(stage.name)
        group.attrs["stage_key"] = claims_key(claims)
        stage.save(group, result)
        seal(group, stage.kind, claims)


def read_stage(path, stage: Stage, cfg: Config, claims: dict | None, what: str = "stage file"):
    """(key, group name, result) of ``stage`` in ``path`` (group /<name> of a stage file or
    /stages/<name> of a run file), verified against ``claims`` (None: any claims) and sane.
    Raises SealError naming the file and what differs."""
    def load(group):
        return sealed_key(group), group.name.lstrip("/"), stage.load(group, cfg)

    return read_sealed(path, (f"stages/{stage.name}", stage.name), stage.kind, claims, load,
                       lambda loaded: result_problem(stage, cfg, loaded[2]), what=what)


def load_stage(path, stage: Stage, cfg: Config, claims: dict | None = None):
    """The result of ``stage`` stored in ``path`` (a stage file or a ``corona run`` file)."""
    return read_stage(path, stage, cfg, claims)[2]


# --------------------------------------------------------------------------- runner
def _why(problem, path) -> str:
    """The reason a cache file is not used, for the stage line."""
    if problem.reason in ("config", "code", "inputs", "stage"):
        return problem.text
    return f"cache file '{path}' failed its check: {problem.text}"


def run_stages(cfg: Config, stages: list[Stage], cache_dir, ctx: Context,
               start_from: dict | None = None, accept_mismatch: bool = False) -> dict:
    """Run ``stages`` in order (skipping disabled ones); returns {name: StageRecord}.

    A stage is taken from ``start_from[name]`` (a file) when given, from the cache file
    ``<cache_dir>/<name>.h5`` when it matches, and computed otherwise (then written to the
    cache). See the module docstring for the checks and ``accept_mismatch``.
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
        claims = stage_claims(stage, cfg, {n: records[n].key for n in stage.needs})
        t0 = time.perf_counter()
        held = {}                         # rank 0: the result it read or computed
        decision = on_root(comm, lambda: _decide(stage, cfg, claims, cache_dir, start_from,
                                                 accept_mismatch, held))
        record = StageRecord(stage.name, decision["key"], decision["status"], 0.0,
                             Path(decision["path"]), decision["where"], decision["reason"],
                             decision["mismatch"])
        if decision["status"] == "computed":
            ctx.say(f"  stage {stage.name:<14s} computing: {stage.description}"
                    + (f" ({decision['reason']})" if decision["reason"] else ""))
            if stage.parallel:
                all_ranks(comm, lambda: [records[n].result for n in stage.needs])
                result = stage.compute(cfg, {n: records[n].result for n in stage.needs}, ctx)
                on_root(comm, lambda: _store(stage, cfg, claims, record.path, result, held),
                        broadcast=False)
            else:
                on_root(comm, lambda: _store(stage, cfg, claims, record.path, stage.compute(
                    cfg, {n: records[n].result for n in stage.needs}, ctx), held), broadcast=False)
        if ctx.rank == 0:
            record._result = held["result"]
        else:
            record._loader = lambda r=record, s=stage: read_stage(r.path, s, cfg, None)[2]
        record.seconds = time.perf_counter() - t0
        records[stage.name] = record
        ctx.say(f"  stage {stage.name:<14s} {record.status:<10s} {record.seconds:7.2f} s"
                + (f"  ({record.reason})" if record.reason else ""))
    return records


def _decide(stage, cfg, claims, cache_dir, start_from, accept_mismatch, held) -> dict:
    """Rank 0: where the stage's result comes from (a --from file, the cache, or a computation)
    and why; a result read on the way is kept in ``held``."""
    path = cache_dir / f"{stage.name}.h5"
    decision = {"key": claims_key(claims), "status": "computed", "path": str(path),
                "where": stage.name, "reason": "", "mismatch": ""}
    source = start_from.get(stage.name)
    if source is not None:
        what = f"--from {stage.name}"
        try:
            key, where, result = read_stage(source, stage, cfg, claims, what=what)
        except SealError as exc:
            differs = exc.problem is not None and exc.problem.reason in ("config", "code", "inputs")
            if not (differs and accept_mismatch):
                hint = ("; pass --accept-mismatch to use it anyway (recorded in the output's "
                        "provenance)") if differs else ""
                raise StageError(f"{exc}{hint}") from None
            key, where, result = read_stage(source, stage, cfg, None, what=what)
            decision.update(key=key, path=str(source), where=where, mismatch=exc.problem.text,
                            reason=f"accepted with --accept-mismatch: {exc.problem.text}")
        else:
            write_stage_file(path, stage, claims, cfg, result)     # the same key: a true copy
        decision["status"] = f"loaded from {source}"
        held["result"] = result
        return decision
    if not (path.exists() or path.is_symlink()):
        decision["reason"] = "no cache"
        return decision
    try:
        held["result"] = read_stage(path, stage, cfg, claims, what="cache file")[2]
        decision["status"] = "cached"
    except SealError as exc:
        decision["reason"] = _why(exc.problem, path) if exc.problem else str(exc)
    return decision


def _store(stage, cfg, claims, path, result, held) -> None:
    """Rank 0: the guard, then the sealed cache file, of a computed result."""
    check_finite(stage, cfg, stage.guard(result))
    write_stage_file(path, stage, claims, cfg, result)
    held["result"] = result


def link_stages(fh, records: dict) -> None:
    """/stages/<name> in ``fh``: an HDF5 external link to the stage's sealed group in its cache
    file (stored once; the link is relative, so the run directory may be moved), with status,
    reason and time of each stage in the JSON attribute /stages@records (and the status alone in
    /stages@<name>_status, for h5ls)."""
    group = fh.require_group("stages")
    here = Path(fh.filename).resolve().parent
    info = {}
    for name, record in records.items():
        target = Path(record.path).resolve()
        try:
            target = target.relative_to(here)
        except ValueError:
            pass                 # a cache outside the run directory: absolute link
        with h5py.File(record.path, "r") as src:      # a run file holds it under /stages/
            where = record.where if record.where in src else f"stages/{name}"
        group[name] = h5py.ExternalLink(str(target), f"/{where}")
        group.attrs[f"{name}_status"] = record.status
        info[name] = {"status": record.status, "reason": record.reason, "key": record.key,
                      "seconds": record.seconds, "mismatch": record.mismatch}
    group.attrs["records"] = json.dumps(info, sort_keys=True)


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


#: Attributes of a stage group that belong to its seal, not to its result.
SEALED_ATTRS = ("stage_key", "status", "seconds") + SEAL_ATTRS


def load_mapping(group, cfg=None) -> dict:
    """Inverse of :func:`save_mapping`."""
    out = {k: (load_mapping(v) if isinstance(v, h5py.Group) else v[()]) for k, v in group.items()}
    out.update({k: v for k, v in group.attrs.items() if k not in SEALED_ATTRS})
    return out
