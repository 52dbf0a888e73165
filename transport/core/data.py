"""Locate the data files shipped in ``inputs/`` (installed as the package ``corona_inputs``).

Works from an editable install and from a wheel: files are resolved through
``importlib.resources``, never relative to the working directory.
"""
from __future__ import annotations

import errno
import os
from importlib import resources
from pathlib import Path

from transport.core.errors import DataFileError
from transport.core.safety import read_numeric_table, read_text


def inputs_dir() -> Path:
    """Directory holding the shipped input files."""
    return Path(str(resources.files("corona_inputs")))


def input_path(relative: str) -> Path:
    """Absolute path of a shipped input file, e.g. ``input_path("default.toml")``.

    Raises DataFileError naming the file if it is missing.
    """
    path = inputs_dir() / relative
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataFileError(f"data file '{relative}' ({path}) is a symbolic link loop") from None
    if not path.is_file():
        raise DataFileError(
            f"data file '{relative}' not found (looked for {path}); "
            "reinstall the package or restore the file in inputs/")
    return path


def load_table(relative: str, ncols: int | None = None):
    """Numeric whitespace-separated table (``#`` comments) from ``inputs/`` as a 2-D array."""
    return read_numeric_table(input_path(relative), f"data file '{relative}'", ncols)


def load_csv_rows(relative: str) -> list[dict]:
    """Rows of a comma-separated table from ``inputs/`` (``#`` comment lines, then a header
    line) as dicts of strings; an empty table raises DataFileError naming the file."""
    import csv
    import io
    path = input_path(relative)
    text = read_text(path, f"data file '{relative}'")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    if not rows:
        raise DataFileError(f"data file '{relative}' ({path}) holds no rows")
    return rows
