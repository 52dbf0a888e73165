"""Guards every command runs before and around its computation (docs/robustness.md):

- output paths that can be created, checked before any computation (:func:`check_output_path`,
  :func:`check_output_dir`); existing outputs are only replaced with ``overwrite``;
- input files read with one clear error for missing, unreadable, undecodable or garbage content
  (:func:`read_text`, :func:`read_numeric_table`);
- memory estimates refused when they exceed the machine (:func:`available_memory_bytes`,
  :func:`refuse_if_too_big`);
- temporary files of the atomic writers (``.NAME.tmp-PID``) removed when their process is gone
  (:func:`clean_stale_temp_files`);
- SIGTERM (what batch schedulers send) handled like SIGINT (:func:`sigterm_as_interrupt`):
  the computation unwinds, ``finally`` blocks remove temporary files, the CLI exits 143.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import stat
import tempfile
from pathlib import Path

import numpy as np

from transport.core.errors import ArgumentError, ConfigError, CoronaError, DataFileError

#: Name of the temporary file the atomic writers use for ``NAME``: ``.NAME.tmp-PID``.
TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)$")


def temp_path(path) -> Path:
    """The temporary sibling ``.NAME.tmp-PID`` an atomic write of ``path`` goes through."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


# --------------------------------------------------------------------------- outputs
def _nearest_existing(path: Path) -> Path:
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _check_creatable_dir(directory: Path, what: str) -> None:
    """``directory`` exists as a directory we can write, or can be created."""
    base = _nearest_existing(directory)
    if not base.is_dir():
        raise ArgumentError(f"{what}: '{base}' is a file, not a directory")
    try:                          # a real probe: os.access is wrong for root and some mounts
        fd, probe = tempfile.mkstemp(prefix=".corona-probe-", dir=base)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        verb = "write in" if base == directory else f"create '{directory}' in"
        raise ArgumentError(f"{what}: cannot {verb} '{base}': {exc.strerror or exc}") from None


def check_output_path(path, overwrite: bool = True, what: str = "-o/--output") -> Path:
    """Check, before any computation, that a result file can be written at ``path``.

    Raises ArgumentError (one line naming ``what`` and the path) if the path is empty, is a
    directory, has a parent that is a file or unwritable, or exists and ``overwrite`` is false.
    Removes stale temporary files of dead processes next to it. Returns the path.
    """
    if path is None or str(path).strip() == "":
        raise ArgumentError(f"{what} = {str(path)!r} is not allowed: expected a file name")
    path = Path(path).expanduser()
    if path.name in ("", ".", ".."):
        raise ArgumentError(f"{what} = '{path}' is not allowed: expected a file name")
    try:
        is_dir = path.is_dir()
        exists = path.exists() or path.is_symlink()
    except OSError as exc:
        raise ArgumentError(f"{what} = '{path}': {exc.strerror or exc}") from None
    if is_dir:
        raise ArgumentError(f"{what} = '{path}' is a directory, expected a file name")
    if exists and not overwrite:
        raise ArgumentError(f"{what} = '{path}' exists; pass --overwrite to replace it")
    _check_creatable_dir(path.parent, f"{what} = '{path}'")
    if path.parent.is_dir():
        clean_stale_temp_files(path.parent)
    return path


def check_output_dir(directory, what: str = "--outdir") -> Path:
    """Check, before any computation, that ``directory`` is (or can become) a writable directory."""
    if directory is None or str(directory).strip() == "":
        raise ArgumentError(f"{what} = {str(directory)!r} is not allowed: expected a directory")
    directory = Path(directory).expanduser()
    if directory.exists() and not directory.is_dir():
        raise ArgumentError(f"{what} = '{directory}' is a file, expected a directory")
    _check_creatable_dir(directory, f"{what} = '{directory}'")
    return directory


# --------------------------------------------------------------------------- stale temp files
def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie, killed but not yet reaped by its
    parent, does not: it holds nothing)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:       # exists, owned by someone else
        return True
    try:                          # Linux: state after the command name in /proc/PID/stat
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def clean_stale_temp_files(directory) -> list[Path]:
    """Remove ``.NAME.tmp-PID`` files in ``directory`` whose process no longer runs (left by a
    kill -9 or a power cut); returns what was removed. Unreadable directories are skipped."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = TEMP_PATTERN.match(entry.name)
        if m and not _pid_alive(int(m["pid"])):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


# --------------------------------------------------------------------------- inputs
def _open_error(path, what: str, exc: OSError, error=DataFileError) -> CoronaError:
    reason = {errno.ELOOP: "symbolic link loop", errno.EACCES: "no read permission",
              errno.EISDIR: "is a directory", errno.ENOENT: "does not exist"}.get(
        exc.errno, exc.strerror or str(exc))
    return error(f"{what} '{path}' cannot be read: {reason}")


def read_bytes(path, what: str = "file", error=DataFileError) -> bytes:
    """The bytes of ``path``; missing, unreadable, directory or symlink loop -> ``error``."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise error(f"{what} '{path}' is a directory, expected a file")
        if not stat.S_ISREG(mode):            # a FIFO or device would block or never end
            raise error(f"{what} '{path}' is not a regular file (a pipe, socket or device)")
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise _open_error(path, what, exc, error) from None


def read_text(path, what: str = "file", error=DataFileError) -> str:
    """``path`` decoded as UTF-8 text; binary or Latin-1 content -> ``error`` naming the byte."""
    data = read_bytes(path, what, error)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise error(f"{what} '{path}' is a binary file (NUL byte at offset {nul}), expected text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} '{path}' is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                    f"{exc.start}); save it as UTF-8") from None


def read_numeric_table(path, what: str = "data file", ncols: int | None = None) -> np.ndarray:
    """Whitespace-separated numeric table (``#`` comments) as a 2-D float array, all finite.

    Any problem (unreadable, not text, not numbers, ragged, empty, NaN/inf, too few columns)
    raises DataFileError naming the file."""
    text = read_text(path, what)
    rows = [line.split("#", 1)[0].split() for line in text.splitlines()]
    rows = [r for r in rows if r]
    if not rows:
        raise DataFileError(f"{what} '{path}' holds no numbers")
    width = len(rows[0])
    for k, r in enumerate(rows):
        if len(r) != width:
            raise DataFileError(f"{what} '{path}': row {k + 1} has {len(r)} columns, the first "
                                f"has {width}")
    try:
        table = np.array(rows, dtype=float)
    except ValueError as exc:
        raise DataFileError(f"{what} '{path}' is not a numeric table: {exc}") from None
    if not np.all(np.isfinite(table)):
        raise DataFileError(f"{what} '{path}' contains NaN or infinite values")
    if ncols is not None and width < ncols:
        raise DataFileError(f"{what} '{path}' has {width} columns, expected at least {ncols}")
    return table


# --------------------------------------------------------------------------- memory
def available_memory_bytes() -> int:
    """Memory a new allocation can get: MemAvailable of /proc/meminfo, else the free physical
    pages (os.sysconf); $CORONA_MEMORY_LIMIT_BYTES caps it (batch jobs with a memory limit)."""
    avail = None
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 1 << 62
    limit = os.environ.get("CORONA_MEMORY_LIMIT_BYTES")
    if limit:
        with contextlib.suppress(ValueError):
            avail = min(avail, int(float(limit)))
    return int(avail)


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024.0
    return f"{n:.3g} PiB"


def refuse_if_too_big(estimate_bytes: float, keys, what: str = "this run",
                      available: int | None = None) -> None:
    """Raise ConfigError naming ``keys`` (the config keys or arguments that drive the size)
    when ``estimate_bytes`` exceeds the memory available to this process."""
    available = available_memory_bytes() if available is None else available
    if estimate_bytes > available:
        names = ", ".join(keys) if not isinstance(keys, str) else keys
        raise ConfigError(f"{what} needs ~{format_bytes(estimate_bytes)} of memory but "
                          f"{format_bytes(available)} is available; reduce {names}")


# --------------------------------------------------------------------------- signals
class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM so the computation unwinds like on Ctrl-C
    (``finally`` blocks remove temporary files); the CLI exits with 128 + signum."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def _raise_terminated(signum, frame):
    raise Terminated(signum)


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block SIGTERM raises :class:`Terminated` (like SIGINT -> KeyboardInterrupt);
    the previous handler is restored after. Main thread only (elsewhere a no-op); MPI runs
    install their own checkpointing handler for their duration (montecarlo.parallel)."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:                               # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
