"""Files the program reads back: one rule, one implementation (docs/robustness.md, section 8).

Every HDF5 group the program writes and later reads again (pipeline stage files, `corona run`
files used with ``--from``, Monte Carlo checkpoints and part files, scan points, emission
tables of `corona transport`) is *sealed* when written, :func:`seal`:

- ``seal_kind``: what the group is ("stage transport", "mc checkpoint", ...);
- ``seal_claims``: the key of what it claims to be, as JSON: exact inputs only (the decimal
  text of config values, the code key, input keys, shapes), never a computed float;
- ``seal_key``: the SHA-256 of the claims (:func:`claims_key`);
- ``seal_manifest``: the SHA-256 of every dataset (its dtype, shape and exact stored bytes) and
  of every attribute beneath the group, the seal's own attributes included (a checksum of
  the file against itself).

A reader calls :func:`read_sealed` (or :func:`check`) with the kind and the claims it needs
and a sanity check of what it loaded (finite values, shapes, counters in range). Any
difference is a :class:`SealProblem` saying what differs, in one line: the reason is
"unreadable", "unsealed", "kind", "corrupt" (checksum or sanity check), or the first claim
that differs ("config", "code", "inputs", ...). Explicit inputs are refused with it;
caches report it and are rebuilt.

The code key (:func:`code_key`) is the package version plus a SHA-256 of the source files that
compute a result, so a regular and an editable install of the same code give the same key,
and an edit of any of those files changes it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from transport.core.data import inputs_dir
from transport.core.errors import DataFileError

SEAL_FORMAT = 1
#: Attributes written by :func:`seal`; the manifest covers all but itself.
SEAL_ATTRS = ("seal_format", "seal_kind", "seal_claims", "seal_key", "seal_manifest")
DISTRIBUTION = "corona-cr"
#: The directory holding the packages transport/ and montecarlo/ (a checkout or site-packages).
ROOT = Path(__file__).resolve().parents[2]
#: Files a source pattern may match (never numba's cache files, *.nbi / *.nbc, or bytecode).
SOURCE_SUFFIXES = (".py", ".txt", ".csv", ".dat", ".toml", ".h5")


class RebuildWarning(UserWarning):
    """A cache or work file read back failed its check: it is reported and rebuilt."""


class SealError(DataFileError):
    """A file read back did not match what its reader needs; ``problem`` says what differs."""

    def __init__(self, message: str, path=None, problem: "SealProblem | None" = None):
        super().__init__(message)
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class SealProblem:
    """Why a sealed group cannot be used: ``reason`` (a short tag) and ``text`` (one line)."""
    reason: str
    text: str

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------- digests
def array_digest(data) -> str:
    """SHA-256 of an array's dtype, shape and exact bytes (strings: their UTF-8 text; a
    structured array: column by column, so variable-length text hashes by content)."""
    data = np.asarray(data)
    if data.dtype.names:                  # a table: each column on its own (strings by text)
        digest = hashlib.sha256(f"table{data.shape}".encode())
        for name in data.dtype.names:
            digest.update(f"{name}:{array_digest(data[name])}".encode())
        return digest.hexdigest()
    if data.dtype.kind in "OSU":          # strings: bytes of their text, not object pointers
        items = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                 for v in data.ravel().tolist()]
        payload = json.dumps([f"{data.dtype.kind}{data.shape}", items]).encode()
        return hashlib.sha256(payload).hexdigest()
    data = np.ascontiguousarray(data)
    digest = hashlib.sha256(f"{data.dtype.str}{data.shape}".encode())
    digest.update(data.tobytes())
    return digest.hexdigest()


def _value_digest(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return hashlib.sha256(b"str:" + value.encode("utf-8")).hexdigest()
    return array_digest(value)


def claims_key(claims: dict) -> str:
    """SHA-256 of the canonical JSON of ``claims`` (exact inputs: text, ints, config values)."""
    return hashlib.sha256(canonical(claims).encode()).hexdigest()


def canonical(data) -> str:
    """The JSON text keys are made of (sorted keys; floats in their shortest exact decimal)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def manifest(group) -> dict:
    """{path: SHA-256} of every dataset ("name") and attribute ("name@attr", "@attr" for the
    group's own) beneath ``group``, except ``seal_manifest`` itself."""
    import h5py  # only where HDF5 files are sealed or read
    entries = {}
    for name, value in group.attrs.items():
        if name != "seal_manifest":
            entries[f"@{name}"] = _value_digest(value)

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            entries[name] = _value_digest(obj[()])
        for attr, value in obj.attrs.items():
            entries[f"{name}@{attr}"] = _value_digest(value)

    group.visititems(visit)
    return entries


# --------------------------------------------------------------------------- code key
def package_version() -> str:
    """The installed distribution's version (without the git suffix of code_version())."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _source_files(pattern: str, root: Path, inputs: Path):
    """(name, path) of the files a pattern matches. Patterns are relative to the package root
    ("transport/**/*.py") or to the shipped inputs ("inputs/observations/*"); names are
    install-independent (a checkout's inputs/ is installed as corona_inputs/)."""
    if pattern.startswith("inputs/"):
        base, rel = inputs, pattern[len("inputs/"):]
        prefix = "inputs/"
    else:
        base, rel, prefix = root, pattern, ""
    for path in sorted(base.glob(rel)):
        if path.is_file() and path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts:
            yield prefix + path.relative_to(base).as_posix(), path


@lru_cache(maxsize=None)
def sources_digest(patterns: tuple, root: Path | None = None, inputs: Path | None = None) -> str:
    """SHA-256 of the names and bytes of the files matched by ``patterns`` under ``root`` (the
    directory holding transport/ and montecarlo/; default: this installation) and ``inputs``
    (the shipped inputs; default: this installation's)."""
    root = ROOT if root is None else Path(root)
    inputs = inputs_dir() if inputs is None else Path(inputs)
    digest = hashlib.sha256()
    seen = {}
    for pattern in patterns:
        digest.update(f"pattern:{pattern}\n".encode())
        for name, path in _source_files(pattern, root, inputs):
            seen[name] = path
    for name in sorted(seen):
        digest.update(f"file:{name}\n".encode())
        digest.update(seen[name].read_bytes())
    return digest.hexdigest()


def code_key(patterns) -> dict:
    """{"version": package version, "sources": SHA-256 of the sources that compute a result}."""
    return {"version": package_version(), "sources": sources_digest(tuple(patterns))}


# --------------------------------------------------------------------------- write
def seal(group, kind: str, claims: dict) -> str:
    """Stamp ``group`` (after everything beneath it is written) with its kind, claims, key and
    manifest; returns the key. Anything written beneath it afterwards breaks the seal."""
    key = claims_key(claims)
    group.attrs["seal_format"] = SEAL_FORMAT
    group.attrs["seal_kind"] = kind
    group.attrs["seal_claims"] = canonical(claims)
    group.attrs["seal_key"] = key
    group.attrs["seal_manifest"] = canonical(manifest(group))
    return key


def sealed_key(group) -> str | None:
    """The key stored in a sealed group (None: not sealed)."""
    value = group.attrs.get("seal_key")
    return None if value is None else str(value)


def stored_claims(group) -> dict:
    """The claims stored in a sealed group ({} if absent or unreadable)."""
    try:
        return json.loads(group.attrs.get("seal_claims", "{}"))
    except (TypeError, ValueError):
        return {}


# --------------------------------------------------------------------------- compare
def _flat(data, prefix=""):
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


def _short(value, limit: int = 40) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit - 3] + "..."


def describe_difference(stored: dict, wanted: dict) -> SealProblem | None:
    """The first top-level claim that differs (reason = its name) and up to three of the
    values that differ inside it, e.g. 'config differs: config.source.alpha = 2.2 in the
    file, 2.4 needed'."""
    order = {"config": 0, "code": 1, "inputs": 2}
    for top in sorted(set(stored) | set(wanted), key=lambda k: (order.get(k, 3), k)):
        a, b = stored.get(top), wanted.get(top)
        if canonical(a) == canonical(b):
            continue
        if top == "code" and isinstance(a, dict) and isinstance(b, dict):
            if a.get("version") != b.get("version"):
                return SealProblem(top, f"code differs: version {a.get('version')} in the file, "
                                        f"{b.get('version')} here")
            return SealProblem(top, "code differs: the source files that compute it changed "
                                    f"(version {b.get('version')})")
        if top == "inputs" and isinstance(a, dict) and isinstance(b, dict):
            names = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            return SealProblem(top, f"input stages differ: {', '.join(names)} (recomputed or "
                                    "taken from another file)")
        fa, fb = _flat(a, top), _flat(b, top)
        diffs = [k for k in sorted(set(fa) | set(fb)) if canonical(fa.get(k)) != canonical(fb.get(k))]
        parts = [f"{k} = {_short(fa.get(k, '(absent)'))} in the file, {_short(fb.get(k, '(absent)'))} "
                 "needed" for k in diffs[:3]]
        more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
        return SealProblem(top, f"{top} differs: " + "; ".join(parts) + more)
    return None


def check(group, kind: str, claims: dict | None = None) -> SealProblem | None:
    """What is wrong with sealed ``group`` for a reader of ``kind`` that needs ``claims``
    (None: any claims), or None. Cheap checks first (seal, kind, key: attributes only), then
    the manifest (reads every dataset)."""
    if "seal_manifest" not in group.attrs or "seal_key" not in group.attrs:
        return SealProblem("unsealed", "carries no seal (no key or checksums: written by an older "
                                       "version or another program)")
    if str(group.attrs.get("seal_kind")) != kind:
        return SealProblem("kind", f"holds a {group.attrs.get('seal_kind')!s}, not a {kind}")
    if claims is not None and sealed_key(group) != claims_key(claims):
        found = describe_difference(stored_claims(group), json.loads(canonical(claims)))
        return found or SealProblem("corrupt", "its key does not match its claims")
    try:
        expected = json.loads(group.attrs["seal_manifest"])
    except (TypeError, ValueError):
        return SealProblem("corrupt", "its checksum list is unreadable")
    actual = manifest(group)
    changed = sorted(k for k in expected if k in actual and actual[k] != expected[k])
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    for label, names in (("checksum mismatch in", changed), ("missing", missing),
                         ("unexpected", extra)):
        if names:
            more = f" (and {len(names) - 3} more)" if len(names) > 3 else ""
            return SealProblem("corrupt", f"{label} {', '.join(n.lstrip('@') for n in names[:3])}{more}")
    return None


# --------------------------------------------------------------------------- read
#: Errors a loader may raise on a malformed group (reported as "cannot be read as ...").
LOAD_ERRORS = (KeyError, ValueError, IndexError, TypeError, AttributeError, OSError)


def read_sealed(path, where, kind: str, claims: dict | None, load, sanity=None,
                what: str = "file"):
    """``load(group)`` of the sealed group ``where`` (a name or a sequence of names tried in
    order) of HDF5 file ``path``, after :func:`check` and before ``sanity(result)`` (returns a
    problem text or None). Raises :class:`SealError` "WHAT 'PATH' ...: WHY" on any problem."""
    import h5py  # only where HDF5 files are read
    path = Path(path)
    names = (where,) if isinstance(where, str) else tuple(where)

    def fail(problem: SealProblem):
        return SealError(f"{what} '{path}' {problem.text}", path, problem)

    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise fail(SealProblem("unreadable", f"is not a readable HDF5 file ({exc})")) from None
    with fh:
        name = next((n for n in names if n in fh), None)
        if name is None:
            raise fail(SealProblem("kind", f"holds no {kind} (expected the group "
                                           + " or ".join(f"/{n}" for n in names) + ")"))
        group = fh[name]
        try:
            problem = check(group, kind, claims)
        except LOAD_ERRORS as exc:
            problem = SealProblem("corrupt", f"cannot be checked ({type(exc).__name__}: {exc})")
        if problem is not None:
            raise fail(problem)
        try:
            result = load(group)
        except DataFileError:
            raise
        except LOAD_ERRORS as exc:
            raise fail(SealProblem("corrupt", f"cannot be read as a {kind} "
                                              f"({type(exc).__name__}: {exc})")) from None
    bad = sanity(result) if sanity is not None else None
    if bad:
        raise fail(SealProblem("corrupt", f"fails its sanity check: {bad}"))
    return result


# --------------------------------------------------------------------------- sanity helpers
def finite_problem(arrays: dict, nonnegative: bool = True) -> str | None:
    """'NAME has N NaN/inf values' / 'NAME has negative values' / 'NAME is not numeric', or None."""
    for name, values in arrays.items():
        a = np.asarray(values)
        if a.dtype.kind not in "biuf":
            return f"{name} is not numeric (dtype {a.dtype})"
        bad = ~np.isfinite(a)
        if np.any(bad):
            return f"{name} has {int(bad.sum())} non-finite value(s) (NaN/inf)"
        if nonnegative and np.any(a < 0):
            return f"{name} has negative values (min {np.min(a):.3g})"
    return None


def shape_problem(name: str, values, shape) -> str | None:
    """'NAME has shape (a, b), expected (c, d)', or None."""
    got = tuple(np.shape(values))
    return None if got == tuple(shape) else f"{name} has shape {got}, expected {tuple(shape)}"


# --------------------------------------------------------------------------- JSON records
def seal_json(kind: str, claims: dict, data: dict) -> str:
    """The text of a sealed JSON record: kind, claims, key, data and the SHA-256 of the rest."""
    body = {"seal_kind": kind, "seal_claims": claims, "seal_key": claims_key(claims), "data": data}
    return json.dumps({**body, "seal_sha256": hashlib.sha256(canonical(body).encode()).hexdigest()},
                      indent=1, sort_keys=True, default=str)


def read_json_record(text: str, kind: str) -> tuple[dict, dict] | SealProblem:
    """(claims, data) of a sealed JSON record, or the problem (unparseable, unsealed, kind,
    checksum mismatch)."""
    try:
        record = json.loads(text)
    except ValueError as exc:
        return SealProblem("corrupt", f"is not valid JSON ({exc})")
    if not isinstance(record, dict) or "seal_sha256" not in record:
        return SealProblem("unsealed", "carries no seal (written by an older version?)")
    body = {k: record.get(k) for k in ("seal_kind", "seal_claims", "seal_key", "data")}
    if hashlib.sha256(canonical(body).encode()).hexdigest() != record["seal_sha256"]:
        return SealProblem("corrupt", "checksum mismatch")
    if body["seal_kind"] != kind:
        return SealProblem("kind", f"holds a {body['seal_kind']}, not a {kind}")
    if not isinstance(body["seal_claims"], dict) or claims_key(body["seal_claims"]) != body["seal_key"]:
        return SealProblem("corrupt", "its key does not match its claims")
    return body["seal_claims"], body["data"] if isinstance(body["data"], dict) else {}
