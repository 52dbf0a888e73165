"""Result files: atomic HDF5 writes carrying full provenance (config, code version, time, seeds),
and the lock files that claim an output for one process at a time (:func:`claim_output`)."""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from transport.core.errors import CoronaError
from transport.core.safety import _pid_alive, check_output_path, temp_path
from transport.core.sealed import seal

DISTRIBUTION = "corona-cr"


@lru_cache(maxsize=None)
def code_version() -> str:
    """Package version, plus the git commit (and '-dirty') when run from a git checkout."""
    from importlib import metadata
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    src = Path(__file__).resolve().parents[2]      # the checkout (transport/core/..)
    if (src / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(src), "rev-parse", "--short=12", "HEAD"],
                                    capture_output=True, text=True, timeout=5).stdout.strip()
            dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=5).stdout.strip()
            if commit:
                version += f"+g{commit}" + ("-dirty" if dirty else "")
        except (OSError, subprocess.SubprocessError):
            pass
    return version


def provenance(config=None, seeds=None) -> dict:
    """Attributes every result file carries: resolved config (TOML and JSON), code version,
    creation time (UTC), command line, and the random seeds (or "none" for deterministic runs)."""
    attrs = {
        "code_version": code_version(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "seeds": json.dumps(seeds) if seeds is not None else "none (deterministic)",
    }
    if config is not None:
        attrs["config_toml"] = config.to_toml()
        attrs["config_json"] = json.dumps(config.to_dict(), sort_keys=True)
    return attrs


@contextlib.contextmanager
def atomic_hdf5(path):
    """Open ``path`` for writing via a temporary file ``.NAME.tmp-PID`` in the same directory,
    renamed into place only when the block finishes without error; a crash, Ctrl-C or SIGTERM
    leaves no partial file (and a kill -9 leaves a temporary file that the next run removes,
    transport.core.safety.clean_stale_temp_files). Errors name the path; the cleanup never
    hides the original error."""
    import h5py

    path = check_output_path(path, overwrite=True, what="output file")
    if not path.parent.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CoronaError(f"cannot create output directory '{path.parent}': {exc}") from None
    tmp = temp_path(path)
    try:
        with h5py.File(tmp, "w") as fh:
            yield fh
        os.replace(tmp, path)
    except CoronaError:
        raise
    except OSError as exc:
        raise CoronaError(f"cannot write '{path}': {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_array(group, name, data, units, description=""):
    """Dataset with ``units`` (and ``description``) attributes."""
    ds = group.create_dataset(name, data=data)
    ds.attrs["units"] = units
    if description:
        ds.attrs["description"] = description
    return ds


EMISSION_KIND = "emission tables"


def write_emissions(fh, emissions) -> None:
    """/emission/<model>/<particle> datasets (q in cm^-3 s^-1 eV^-1, grids as attributes) for
    {model: {particle: SphericalEmission or AxisymmetricEmission}}, sealed
    (transport.core.sealed: the tables' shapes, the code version and the SHA-256 of the file's
    config_json provenance, if written before, are its claims; every dataset is checksummed)."""
    group = fh.require_group("emission")
    group.attrs["description"] = ("emissivity q(E, x) of each model and particle; energies are "
                                  "total energies [eV], radii and heights in kpc, Galactocentric")
    for model, per_particle in emissions.items():
        sub = group.require_group(model)
        for particle, emission in per_particle.items():
            emission.to_hdf5(sub, particle)
    config = fh.file.attrs.get("config_json", "")
    seal(group, EMISSION_KIND, {
        "tables": {f"{m}/{p}": list(e.q.shape) for m, per in emissions.items() for p, e in per.items()},
        "code_version": code_version(),
        "config_sha256": hashlib.sha256(str(config).encode()).hexdigest() if config else ""})


# --------------------------------------------------------------------------- output locks
class OutputBusy(CoronaError):
    """Another process holds the output (its lock file names it)."""


def _lock_owner(lock: Path) -> dict | None:
    """The owner recorded in a lock file ({} if unreadable), None if there is no lock."""
    try:
        text = lock.read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        owner = json.loads(text)
    except ValueError:
        return {}
    return owner if isinstance(owner, dict) else {}


def _stale(owner: dict) -> bool:
    """A lock of a process on this host that no longer runs."""
    pid = owner.get("pid")
    return (owner.get("host") == socket.gethostname() and isinstance(pid, int)
            and pid != os.getpid() and not _pid_alive(pid))


def _busy(what, lock: Path, owner: dict) -> OutputBusy:
    who = (f"process {owner.get('pid')} on {owner.get('host')} since {owner.get('since_utc')} "
           f"(`{owner.get('command')}`)" if owner else "another process (unreadable lock)")
    return OutputBusy(f"{what} is in use by {who}: wait for it to finish or use another output; "
                      f"if that process is gone (e.g. on another host), delete '{lock}'")


@contextlib.contextmanager
def claim_output(lock, what: str = "the output"):
    """Hold the lock file ``lock`` for the duration of the block: created atomically (a complete
    file hard-linked into place, which fails if one exists) with the owner's PID, host, command
    and start time, and removed at the end. A lock of a process on this host that no longer
    runs (kill -9, power cut) is taken over; any other lock refuses the output with
    :class:`OutputBusy` naming its owner (``what``: the output, e.g. "-o/--outdir 'DIR'"). On a file system shared between hosts a dead owner
    on another host cannot be detected: delete its lock file by hand (docs/robustness.md)."""
    lock = Path(lock)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CoronaError(f"{what}: cannot create '{lock.parent}': {exc}") from None
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv),
          "since_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
          "token": secrets.token_hex(8)}           # tells this claim from another of this process
    tmp = temp_path(lock.with_name(f"{lock.name}.{me['token']}"))
    try:
        tmp.write_text(json.dumps(me))
        for _ in range(5):
            try:
                os.link(tmp, lock)
                break
            except FileExistsError:
                owner = _lock_owner(lock)
                if owner is None:                  # released meanwhile: try again
                    continue
                if not _stale(owner):
                    raise _busy(what, lock, owner)
                # take over a dead owner's lock; if another process took it over meanwhile
                # (the lock moved aside is not the dead owner's), give it back
                grave = lock.with_name(f"{lock.name}.stale-{os.getpid()}")
                with contextlib.suppress(FileNotFoundError):
                    os.replace(lock, grave)
                    moved = _lock_owner(grave)
                    if moved != owner:
                        with contextlib.suppress(OSError):
                            os.link(grave, lock)
                        grave.unlink()
                        raise _busy(what, lock, moved or {})
                    grave.unlink()
        else:
            raise OutputBusy(f"{what}: could not take the lock '{lock}'")
    except OSError as exc:
        raise CoronaError(f"{what}: cannot write the lock file '{lock}': {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    try:
        yield lock
    finally:
        if _lock_owner(lock) == me:
            with contextlib.suppress(OSError):
                lock.unlink()
