"""Progress of long computations, as a user sees it.

- Bars (tqdm) name what they do ("line of sight: corona gamma"), are drawn only on MPI rank 0,
  and count from the first finished step on: until then an indeterminate line shows the
  elapsed time ("line of sight: corona gamma: first step 00:12"), because a first step that
  includes numba compiling (minutes on a cold cache) would otherwise show 0/N for minutes and
  then an ETA extrapolated from it.
- :func:`note` prints one line for the user (on rank 0, while the command line runs inside
  :func:`user_notes`), e.g. before a rate table is built; :func:`user_notes` also
  installs a numba event listener that notes the first time the kernels of each module are
  compiled ("compiling kernels, first run only"), so a cold run never sits silent while numba
  works; a warm cache compiles nothing and prints nothing.

``progress`` arguments across the package are ``False`` (no bar), ``True`` (a bar with the
function's own description) or a string (a bar with that description).
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading

from tqdm.auto import tqdm

from transport.core.cachedir import numba_cache_dir

#: Environment variables that MPI launchers set to the process's rank (MPICH / Hydra, Open MPI,
#: PMIx, MVAPICH), read when mpi4py is not (yet) imported.
RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK")

#: What the kernels of each module compute, for the compilation notice.
KERNEL_MODULES = {
    "transport.cosmicrays.solver_kernels": "the transport solver",
    "transport.emission.table_kernels": "the emission tables",
    "montecarlo.opacity.kernels": "pair-production opacity",
    "montecarlo.fields.dust_kernels": "the dust photon field",
    "montecarlo.lineofsight.kernels": "the line-of-sight integrals",
    "montecarlo.propagation.kernels": "the Monte Carlo",
    "montecarlo.cascade.kernels": "the electromagnetic cascade",
}


def mpi_rank() -> int:
    """This process's rank under an MPI launcher (0 without one)."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None:
        return int(mpi.COMM_WORLD.Get_rank())
    for name in RANK_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


def describe(progress, default: str) -> str | None:
    """The bar's description for a ``progress`` argument, None for no bar."""
    if not progress:
        return None
    return progress if isinstance(progress, str) else default


class _FirstStep:
    """An indeterminate line "DESC: first step ELAPSED", refreshed every second by a thread."""

    def __init__(self, desc: str):
        self._stop = threading.Event()
        self._bar = tqdm(total=None, desc=desc, leave=False, dynamic_ncols=True,
                         bar_format="{desc}: first step {elapsed}")
        self._thread = threading.Thread(target=self._tick, daemon=True)
        self._thread.start()

    def _tick(self):
        while not self._stop.wait(1.0):
            self._bar.refresh()

    def close(self):
        self._stop.set()
        self._thread.join()
        self._bar.close()


class Bar:
    """A progress bar (see the module docstring): an elapsed-time line until the first
    :meth:`update`, then a tqdm bar whose rate and ETA count from there; nothing at all when
    disabled or off rank 0. ``update(n)`` adds n done units."""

    def __init__(self, total, desc: str | None, unit: str = "step", initial: int = 0):
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.enabled = desc is not None and mpi_rank() == 0
        self._bar = None
        self._waiting = _FirstStep(desc) if self.enabled else None

    def update(self, n: int = 1) -> None:
        self.n += n
        if not self.enabled:
            return
        if self._bar is None:
            self._close_waiting()
            self._bar = tqdm(total=self.total, initial=self.n, desc=self.desc, unit=self.unit,
                             leave=False, dynamic_ncols=True)
        else:
            self._bar.update(n)

    def _close_waiting(self):
        if self._waiting is not None:
            self._waiting.close()
            self._waiting = None

    def close(self) -> None:
        self._close_waiting()
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def track(iterable, progress, default: str, total=None, unit: str = "step"):
    """Iterate over ``iterable`` with a :class:`Bar` (``progress``: see :func:`describe`); a
    step counts as done when the loop asks for the next item."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    with Bar(total, describe(progress, default), unit) as bar:
        for item in iterable:
            yield item
            bar.update(1)


# --------------------------------------------------------------------------- notes
_SAY: list = []
_ANNOUNCED: set = set()
_LISTENING: list = []


def note(text: str) -> None:
    """One line for the user (rank 0, only inside :func:`user_notes`: the command line; library
    use stays silent)."""
    if _SAY and mpi_rank() == 0:
        _SAY[0](text)


def notes_enabled() -> bool:
    return bool(_SAY)


@contextlib.contextmanager
def user_notes(enabled: bool = True, say=None):
    """While active (and ``enabled``), :func:`note` prints (``say``, default: a "corona: ..."
    line on stderr), and so does numba's first compilation of each kernel module."""
    if not enabled:
        yield
        return
    if not _LISTENING:
        try:
            from numba.core import event
        except ImportError:      # numba without the event API: no compilation notice
            pass
        else:
            event.register("numba:compile", _compilation_listener(event))
        _LISTENING.append(True)
    # tqdm.write: clears the bars on stderr, prints the line, redraws them
    _SAY.append(say or (lambda text: tqdm.write(f"corona: {text}", file=sys.stderr)))
    try:
        yield
    finally:
        _SAY.pop()


def _compilation_listener(event):
    class CompileNotice(event.Listener):
        """Notes, once per kernel module, that numba compiles it (a cache miss: a cached kernel
        is loaded without a compile event)."""

        def on_start(self, ev):
            dispatcher = (ev.data or {}).get("dispatcher")
            module = getattr(getattr(dispatcher, "py_func", None), "__module__", "")
            if module in _ANNOUNCED or not module.startswith(("transport.", "montecarlo.")):
                return            # numba's own helpers compile inside our kernels' compilation
            first = not _ANNOUNCED
            _ANNOUNCED.add(module)
            what = KERNEL_MODULES.get(module, module or "numba")
            note(f"compiling kernels, first run only (~2 min in all on two cores; cached in "
                 f"{numba_cache_dir()}): {what}" if first else f"compiling kernels: {what}")

        def on_end(self, ev):
            pass

    return CompileNotice()
