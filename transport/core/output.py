"""Result files: atomic HDF5 writes carrying full provenance (config, code version, time, seeds)."""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from transport.core.errors import CoronaError
from transport.core.safety import check_output_path, temp_path

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


def write_emissions(fh, emissions) -> None:
    """/emission/<model>/<particle> datasets (q in cm^-3 s^-1 eV^-1, grids as attributes) for
    {model: {particle: SphericalEmission or AxisymmetricEmission}}."""
    group = fh.require_group("emission")
    group.attrs["description"] = ("emissivity q(E, x) of each model and particle; energies are "
                                  "total energies [eV], radii and heights in kpc, Galactocentric")
    for model, per_particle in emissions.items():
        sub = group.require_group(model)
        for particle, emission in per_particle.items():
            emission.to_hdf5(sub, particle)
