"""Where corona keeps what it computes once: the project's cache directory, and numba's.

The cache root is $CORONA_CACHE_DIR, else $XDG_CACHE_HOME/corona, else ~/.cache/corona (the
rate tables may be put elsewhere with the config key opacity.cache_dir). numba's compiled
kernels (``cache=True``) go to ``<cache root>/numba``: numba's default, a ``__pycache__`` next
to each module, would put them inside ``site-packages`` after a regular install, where
``pip uninstall`` leaves them behind as folders that then shadow a later editable install
(``import transport`` finds an empty namespace package). :func:`configure_numba_cache` sets
NUMBA_CACHE_DIR before any kernel module is compiled (it runs first in ``transport/__init__``
and ``montecarlo/__init__``); a NUMBA_CACHE_DIR set by the user is respected. numba keys each
cache file by the full path of its source file, so installs in different places never share
kernels. Nothing here imports numba.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_root() -> Path:
    """$CORONA_CACHE_DIR, else $XDG_CACHE_HOME/corona, else ~/.cache/corona."""
    if os.environ.get("CORONA_CACHE_DIR"):
        return Path(os.environ["CORONA_CACHE_DIR"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "corona"
    return Path.home() / ".cache" / "corona"


def numba_cache_dir() -> Path:
    """Where numba keeps the compiled kernels: $NUMBA_CACHE_DIR if the user set it, else
    ``<cache root>/numba``."""
    return Path(os.environ.get("NUMBA_CACHE_DIR") or cache_root() / "numba")


def configure_numba_cache() -> Path:
    """Set NUMBA_CACHE_DIR (unless the user did) and tell numba if it is already imported."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        os.environ["NUMBA_CACHE_DIR"] = str(cache_root() / "numba")
        numba_config = sys.modules.get("numba.core.config")
        if numba_config is not None:      # numba imported before us: re-read the environment
            numba_config.reload_config()
    return numba_cache_dir()
