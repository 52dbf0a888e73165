"""The MPI decomposition of the project, in one place.

Monte Carlo runs (:func:`run_batches`)
    The work is a fixed number of *batches*; batch ``b`` draws its random numbers from its own
    stream, :func:`batch_generator` (Philox keyed by ``SeedSequence(seed, spawn_key=(b,))``), so
    the photons simulated do not depend on how many ranks run them. Batches are processed in
    *chunks* (the checkpoint interval): inside a chunk rank ``r`` of ``N`` takes batches
    ``start + r, start + r + N, ...``; at the end of the chunk the ranks' tallies are reduced
    once (an MPI tree reduction, message = 2 x the tally size) onto rank 0, which adds them to
    the running total and writes the checkpoint atomically. Sums are kept in double-double
    arithmetic (error-free TwoSum, Knuth 1969), so the result is independent of the order of
    additions to ~1e-32 relative: the same for 1, 2 or 4096 ranks. Memory per rank is three
    copies of the tally; nothing grows with N except the reduction's log2(N) steps.

    A restarted run with the same fingerprint (config, seed, sizes) resumes from the
    checkpoint; SIGTERM (what batch schedulers send at the time limit) and SIGINT stop the run
    at the end of the current chunk, after its checkpoint, with :class:`RunInterrupted`.

Agreement before collectives (:func:`on_root`, :func:`all_ranks`)
    Whatever one rank reads or decides alone (a checkpoint, a cache file, a lock) is followed by
    one broadcast of its outcome, success or the error, so every rank continues or every rank
    raises the same error (marked ``all_ranks``: the CLI prints it once and exits 2 on every
    rank) before the next collective call: never mismatched broadcasts, never a hang.

Task farms (:func:`task_executor`)
    Independent tasks (scan points) go to ``mpi4py.futures.MPICommExecutor`` under MPI
    (dynamic load balancing, rank 0 is the master), else to a local process pool.

MPI is used only when the process was started by an MPI launcher (mpirun, mpiexec, srun):
without a launcher, mpi4py is not imported and everything runs in one process; under a
launcher without mpi4py the run stops with one clear line.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from transport.core.errors import CoronaError
from transport.core.output import atomic_hdf5, claim_output
from transport.core.sealed import (RebuildWarning, SealError, finite_problem, read_sealed, seal,
                                   shape_problem)
from transport.core.progress import Bar, describe

#: Environment variables set by common MPI launchers (MPICH/Hydra, Intel MPI, Open MPI, PMIx,
#: Slurm with PMI2).
_LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK",
                       "MPI_LOCALNRANKS", "HYDRA_CONTROL_FD")
#: Batches per run: numba's generator takes a 32-bit seed per batch (batch_kernel_seed32).
MAX_BATCHES = 2 ** 32
CHECKPOINT_VERSION = 2
CHECKPOINT_KIND = "batch checkpoint"


class RunInterrupted(CoronaError):
    """A signal stopped a run after its last checkpoint; rerunning the same command resumes."""


def launched_by_mpi() -> bool:
    """True when an MPI launcher started this process."""
    return any(v in os.environ for v in _LAUNCHER_VARIABLES)


def world():
    """MPI.COMM_WORLD under an MPI launcher, else None (one process, mpi4py not imported)."""
    if not launched_by_mpi():
        return None
    try:
        from mpi4py import MPI  # optional dependency (extra "mpi"); imported only under mpirun
    except ImportError as exc:
        raise CoronaError("this process was started by mpirun/mpiexec but mpi4py is not "
                          "installed: pip install 'corona-cr[mpi]' (or run without mpirun)") from exc
    return MPI.COMM_WORLD


def abort_other_ranks(code: int, traceback: bool = False) -> None:
    """Under mpirun with several ranks, end the whole job with exit status ``code`` (an error
    seen by one rank would otherwise leave the others waiting in a collective forever); the
    caller has printed the message (``traceback``: print the current exception's first)."""
    comm = world()
    if comm is None or comm.Get_size() == 1:
        return
    if traceback:
        import traceback as tb  # only on this error path
        tb.print_exc()
    sys.stderr.flush()
    comm.Abort(code)


def rank_and_size(comm=None) -> tuple[int, int]:
    """(rank, number of ranks) of ``comm`` (None: one process)."""
    return (0, 1) if comm is None else (comm.Get_rank(), comm.Get_size())


def is_root(comm="auto") -> bool:
    """True on rank 0 (and without MPI)."""
    return rank_and_size(world() if comm == "auto" else comm)[0] == 0


# --------------------------------------------------------------------------- agreement
def _shared_error(failure) -> CoronaError:
    """The error another rank raised, rebuilt here (same class where possible), all_ranks set."""
    cls, message = failure
    try:
        error = cls(message)
    except Exception:               # a class with another signature: keep the message
        error = CoronaError(message)
    error.all_ranks = True
    return error


def _agreed(error, failure):
    if error is not None:
        error.all_ranks = True
        return error
    return _shared_error(failure)


def on_root(comm, func: Callable, broadcast: bool = True):
    """``func()`` on rank 0 only; every rank then returns its value (``broadcast``; else None
    off rank 0) or raises the CoronaError it raised (see the module docstring)."""
    rank, size = rank_and_size(comm)
    value, error = None, None
    if rank == 0:
        try:
            value = func()
        except CoronaError as exc:
            error = exc
    if size == 1:
        if error is not None:
            raise error
        return value
    failure = None if error is None else (type(error), str(error))
    failure, shared = comm.bcast((failure, value if broadcast and error is None else None), root=0)
    if failure is not None:
        raise _agreed(error, failure)
    return value if rank == 0 else shared


def all_ranks(comm, func: Callable):
    """``func()`` on every rank; if it raises a CoronaError on any rank, every rank raises the
    lowest failing rank's error."""
    rank, size = rank_and_size(comm)
    value, error = None, None
    try:
        value = func()
    except CoronaError as exc:
        error = exc
    if size == 1:
        if error is not None:
            raise error
        return value
    failures = comm.allgather(None if error is None else (type(error), str(error)))
    first = next((f for f in failures if f is not None), None)
    if first is not None:
        raise _agreed(error if error is not None and first == (type(error), str(error)) else None, first)
    return value


@contextlib.contextmanager
def claimed(lock, what: str = "the output", comm="auto"):
    """:func:`transport.core.output.claim_output` taken by rank 0 for the block; every rank
    raises if it cannot be taken."""
    comm = world() if comm == "auto" else comm
    with contextlib.ExitStack() as stack:
        on_root(comm, lambda: stack.enter_context(claim_output(lock, what)), broadcast=False)
        yield Path(lock)


# --------------------------------------------------------------------------- random streams
def batch_seed(seed: int, batch: int) -> np.random.SeedSequence:
    """The seed sequence of batch ``batch`` of a run seeded with ``seed``."""
    return np.random.SeedSequence(entropy=int(seed), spawn_key=(int(batch),))


def batch_generator(seed: int, batch: int) -> np.random.Generator:
    """The random stream of one batch (Philox counter-based generator)."""
    return np.random.Generator(np.random.Philox(batch_seed(seed, batch)))


def batch_kernel_seed(seed: int, batch: int) -> int:
    """A 63-bit integer derived from the batch's seed sequence (numba's np.random.seed keeps
    only 32 bits of it: kernels that need distinct streams use :func:`batch_kernel_seed32`)."""
    return int(batch_seed(seed, batch).generate_state(1, np.uint64)[0] >> np.uint64(1))


def batch_kernel_seed32(seed: int, batch: int) -> int:
    """The 32-bit seed of numba's generator (MT19937, np.random.seed inside njit) for one batch:
    (base + batch) mod 2^32 with base drawn from SeedSequence(seed), so the batches of one run
    never share a stream (numba's seed is 32 bits; hashing each batch to 32 bits would repeat
    streams in long runs). At most 2^32 batches per run."""
    if not 0 <= batch < MAX_BATCHES:
        raise CoronaError(f"batch {batch} is not allowed: a run has at most 2^32 batches "
                          "(raise the photons per batch)")
    base = int(np.random.SeedSequence(int(seed)).generate_state(1, np.uint32)[0])
    return (base + int(batch)) % 2 ** 32


# --------------------------------------------------------------------------- exact sums
def _two_sum(a, b):
    """s, e with s = fl(a + b) and a + b = s + e exactly (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def dd_add(hi, lo, x_hi, x_lo=0.0):
    """Double-double sum (hi, lo) + (x_hi, x_lo), renormalised."""
    s, e = _two_sum(hi, x_hi)
    e = e + lo + x_lo
    return _two_sum(s, e)


def _dd_reduce_op(inbuf, inoutbuf, datatype):
    """MPI user op: inout = in + inout for buffers [hi..., lo...] of float64."""
    a = np.frombuffer(inbuf, dtype=np.float64)
    b = np.frombuffer(inoutbuf, dtype=np.float64)
    n = a.size // 2
    hi, lo = dd_add(a[:n], a[n:], b[:n], b[n:])
    b[:n] = hi
    b[n:] = lo


# --------------------------------------------------------------------------- checkpoints
@dataclass
class BatchResult:
    """Summed tallies of ``n_batches`` batches (float64, the shape ``simulate`` returns)."""
    total: np.ndarray
    n_batches: int
    n_ranks: int
    resumed_from: int


def _checkpoint_claims(fingerprint: str, n_batches: int, tally_shape) -> dict:
    return {"fingerprint": fingerprint, "n_batches": int(n_batches),
            "tally_shape": [int(n) for n in np.atleast_1d(tally_shape)],
            "format": CHECKPOINT_VERSION}


def read_checkpoint(path: Path, fingerprint: str, n_batches: int, tally_shape):
    """(batches_done, hi, lo) of a checkpoint, None if there is none. The file must be sealed
    (transport.core.sealed) with this run's claims (fingerprint, batch count, tally shape) and
    pass the sanity check (1 <= batches_done <= n_batches, tally shapes, finite sums). A
    checkpoint of another run (fingerprint) is refused, protecting that run's work (SealError);
    one that fails its check (truncated, altered, insane) holds nothing usable: RebuildWarning
    naming the file and why, and None (the run starts over)."""
    if not (path.exists() or path.is_symlink()):
        return None
    shape = tuple(int(n) for n in np.atleast_1d(tally_shape))

    def load(group):
        return int(group.attrs["batches_done"]), group["hi"][()], group["lo"][()]

    def sanity(state):
        done, hi, lo = state
        if not 1 <= done <= n_batches:
            return f"batches_done = {done} is outside 1 ... {n_batches}"
        return (shape_problem("hi", hi, shape) or shape_problem("lo", lo, shape)
                or finite_problem({"hi": hi, "lo": lo}, nonnegative=False))

    try:
        return read_sealed(path, "/", CHECKPOINT_KIND, _checkpoint_claims(fingerprint, n_batches, shape),
                           load, sanity, what="checkpoint")
    except SealError as exc:
        if exc.problem is not None and exc.problem.reason == "fingerprint":
            raise SealError(f"checkpoint '{path}' belongs to a different run (config, seed or "
                            "sizes changed): delete it, or write to another output", path,
                            exc.problem) from None
        if path.is_dir():
            raise SealError(f"checkpoint '{path}' is a directory: remove it", path) from None
        warnings.warn(f"{exc}; starting the run over (the file is replaced at the first "
                      "checkpoint)", RebuildWarning, stacklevel=3)
        return None


def _write_checkpoint(path: Path, fingerprint: str, n_batches: int, done: int, hi, lo,
                      extra: dict) -> None:
    with atomic_hdf5(path) as fh:
        fh.attrs["batches_done"] = done
        fh.attrs["checkpoint_version"] = CHECKPOINT_VERSION
        fh.attrs["extra_json"] = json.dumps(extra, sort_keys=True, default=str)
        fh["hi"] = hi
        fh["lo"] = lo
        seal(fh, CHECKPOINT_KIND, _checkpoint_claims(fingerprint, n_batches, hi.shape))


@contextlib.contextmanager
def _stop_on_signals():
    """Yields a one-element list that becomes [True] on SIGTERM or SIGINT (main thread only)."""
    flag = [False]
    handlers = {}

    def handler(signum, frame):
        flag[0] = True

    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            handlers[sig] = signal.signal(sig, handler)
    except ValueError:               # not the main thread: signals stay as they were
        handlers = {}
    try:
        yield flag
    finally:
        for sig, old in handlers.items():
            signal.signal(sig, old)


def run_batches(simulate: Callable[[int], np.ndarray], n_batches: int, tally_shape, *,
                checkpoint_path=None, chunk_batches: int = 64, fingerprint: str = "",
                progress: bool = True, desc: str = "batches", comm="auto",
                extra: dict | None = None, keep_checkpoint: bool = False) -> BatchResult:
    """Sum ``simulate(b)`` over batches b = 0 .. n_batches - 1 across MPI ranks.

    ``simulate(b)`` returns a float64 array of shape ``tally_shape`` (the batch's tallies; it draws
    its random numbers from :func:`batch_generator` (seed, b)). ``chunk_batches`` batches are
    done between reductions/checkpoints. With ``checkpoint_path`` a run resumes from its last
    checkpoint when the fingerprint matches; the checkpoint is removed when the run completes
    (``keep_checkpoint``: also then written, for a caller that removes it only once its own
    result file is safely written, so that a kill in between loses nothing).
    ``comm="auto"``: MPI.COMM_WORLD under an MPI launcher, else one process.
    """
    if not 1 <= n_batches <= MAX_BATCHES:
        raise CoronaError(f"n_batches = {n_batches} is not allowed: expected 1 ... 2^32 (the "
                          "batch-count limit; raise the work per batch)")
    if chunk_batches < 1:
        raise CoronaError(f"chunk_batches = {chunk_batches} is not allowed: expected >= 1")
    comm = world() if comm == "auto" else comm
    rank, size = rank_and_size(comm)
    path = Path(checkpoint_path) if checkpoint_path is not None else None

    # rank 0 reads the checkpoint; every rank learns whether it could (before any collective)
    state = on_root(comm, lambda: None if path is None else read_checkpoint(
        path, fingerprint, n_batches, tally_shape), broadcast=False)
    done, hi, lo = state if state is not None else (0, None, None)
    if comm is not None:
        done = comm.bcast(done, root=0)
    resumed_from = done
    op = None
    if comm is not None and size > 1:
        from mpi4py import MPI  # present: world() imported it
        op = MPI.Op.Create(_dd_reduce_op, commute=True)
    bar = Bar(n_batches, describe(progress, desc), "batch", initial=done)
    try:
        with _stop_on_signals() as stop:
            while done < n_batches:
                end = min(done + chunk_batches, n_batches)
                loc_hi, loc_lo = np.zeros(tally_shape), np.zeros(tally_shape)
                for b in range(done + rank, end, size):
                    tally = np.asarray(simulate(b), dtype=np.float64)
                    if tally.shape != loc_hi.shape:
                        raise CoronaError(f"batch {b} returned tallies of shape {tally.shape}, "
                                          f"expected {loc_hi.shape}")
                    loc_hi, loc_lo = dd_add(loc_hi, loc_lo, tally)
                chunk_hi, chunk_lo = _reduce(comm, op, loc_hi, loc_lo)
                if rank == 0:
                    hi, lo = ((chunk_hi, chunk_lo) if hi is None
                              else dd_add(hi, lo, chunk_hi, chunk_lo))
                done = end
                if rank == 0 and path is not None and (done < n_batches or keep_checkpoint):
                    _write_checkpoint(path, fingerprint, n_batches, done, hi, lo, extra or {})
                bar.update(end - bar.n)
                halt = stop[0] if comm is None else comm.allreduce(stop[0], op=_lor(comm))
                if halt and done < n_batches:
                    raise RunInterrupted(f"stopped by a signal after {done} of {n_batches} batches"
                                         + (f"; checkpoint {path}: rerun the same command to resume"
                                            if path is not None else ""))
    finally:
        bar.close()
        if op is not None:
            op.Free()
    if rank == 0 and path is not None and path.exists() and not keep_checkpoint:
        path.unlink()
    total = (hi + lo) if rank == 0 else None
    if comm is not None:
        total = comm.bcast(total, root=0)
    return BatchResult(total=total, n_batches=n_batches, n_ranks=size, resumed_from=resumed_from)


def _lor(comm):
    from mpi4py import MPI  # present whenever comm is not None
    return MPI.LOR


def _reduce(comm, op, loc_hi, loc_lo):
    """Sum of the ranks' (hi, lo) tallies on rank 0 (None elsewhere)."""
    if comm is None or comm.Get_size() == 1:
        return loc_hi, loc_lo
    send = np.concatenate((loc_hi.ravel(), loc_lo.ravel()))
    recv = np.empty_like(send) if comm.Get_rank() == 0 else None
    comm.Reduce(send, recv, op=op, root=0)
    if comm.Get_rank() != 0:
        return None, None
    n = loc_hi.size
    return recv[:n].reshape(loc_hi.shape), recv[n:].reshape(loc_hi.shape)


# --------------------------------------------------------------------------- task farms
@contextlib.contextmanager
def task_executor(max_workers: int | None = None):
    """An executor for independent tasks: mpi4py.futures.MPICommExecutor under an MPI
    launcher (yields None on the worker ranks, which serve tasks until the master is done),
    else a local ProcessPoolExecutor with ``max_workers`` processes (default: the cores)."""
    comm = world()
    if comm is None:
        # "spawn": forking a process whose numba threading layer already runs crashes the child
        with ProcessPoolExecutor(max_workers=max_workers,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool
        return
    from mpi4py.futures import MPICommExecutor  # present: world() imported mpi4py
    with MPICommExecutor(comm, root=0) as pool:
        yield pool


class SharedMap:
    """``map`` for a sampler (nautilus, dynesty, emcee) whose likelihood calls are farmed out
    through a :func:`task_executor`, with the master computing too (the scan's task farm leaves
    it idle): each call's items are cut into ``chunks_per_process`` x ``size`` contiguous chunks,
    all submitted to the executor; its workers take chunks from the front while the master takes
    them from the back (a chunk no worker has started is cancelled and computed here), so the
    processes share the work whatever their speed. Results come back in the items' order.
    ``size``: the number of processes (under mpirun, the ranks)."""

    def __init__(self, executor, size: int, chunks_per_process: int = 16):
        if size < 1:
            raise CoronaError(f"size = {size} is not allowed: expected >= 1")
        self.executor, self.size = executor, int(size)
        self.chunks_per_process = int(chunks_per_process)

    def map(self, fn, items) -> list:
        items = list(items)
        if self.size == 1 or len(items) < 2:
            return _apply_all(fn, items)
        chunks = [[items[i] for i in c] for c in
                  np.array_split(np.arange(len(items)), min(len(items), self.chunks_per_process * self.size))]
        futures = [self.executor.submit(_apply_all, fn, chunk) for chunk in chunks]
        results = [None] * len(chunks)
        for k in range(len(chunks) - 1, -1, -1):
            if futures[k].cancel():                     # no worker has it: compute it here
                results[k] = _apply_all(fn, chunks[k])
        return [r for k, f in enumerate(futures)
                for r in (results[k] if results[k] is not None else f.result())]


def _apply_all(fn, items) -> list:
    return [fn(x) for x in items]
