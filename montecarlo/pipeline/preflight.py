"""Checks every ``corona`` command runs before its computation (docs/robustness.md): the
outputs can be written, the data files the config names can be read and parsed, the cache
directory is usable, the run fits in memory (and the Monte Carlo in 2^32 batches; a long one
is announced with its time estimate). Each problem is one clear error (exit 2)
in seconds instead of a traceback after minutes. New commands call :func:`preflight`."""
from __future__ import annotations

import warnings

from transport.core.errors import ConfigError, CoronaError
from transport.core.estimates import check_memory, mc_seconds, warn_if_slow
from transport.core.safety import check_output_dir, check_output_path

from montecarlo.fields import tabulated
from montecarlo.fields.dust import load_kappa
from montecarlo.opacity.ratetables import cache_directory, warn_cache_unwritable
from montecarlo.parallel import MAX_BATCHES
from montecarlo.sky.analysis import load_mask


def check_config_inputs(cfg, fields=None) -> None:
    """Read (and parse) every input file the config names and the stages will use:
    dust.kappa_file (if "dust" is among ``fields``, default sky.fields), fields.tabulated_file
    (if "tabulated" is), sky.mask_file (if set). Raises DataFileError/ArgumentError."""
    fields = tuple(cfg.sky.fields) if fields is None else tuple(fields)
    if "dust" in fields:
        load_kappa(cfg.dust.kappa_file)
    if "tabulated" in fields or cfg.fields.tabulated_file:
        tabulated.load(cfg.fields.tabulated_file)
    if cfg.sky.mask_file:
        load_mask(cfg.sky.mask_file, cfg.sky.nside)


def check_cache_dir(cfg) -> None:
    """Warn once (CacheWarning) when the rate-table cache directory cannot be written."""
    directory = cache_directory(cfg)
    try:
        check_output_dir(directory, what="opacity.cache_dir")
    except CoronaError as exc:
        warn_cache_unwritable(directory, exc)


def check_batch_count(cfg) -> None:
    """ConfigError when the Monte Carlo needs more than 2^32 batches (the kernels' 32-bit
    per-batch seeds, montecarlo.parallel.MAX_BATCHES), naming the keys and the fix."""
    n, per = cfg.mc.n_photons, cfg.mc.batch_photons
    if -(-n // per) > MAX_BATCHES:
        raise ConfigError(f"mc.n_photons = {n} with mc.batch_photons = {per} needs {-(-n // per)} "
                          f"batches, above the limit of 2^32: raise mc.batch_photons to at least "
                          f"{-(-n // MAX_BATCHES)}")


def warn_if_mc_slow(cfg, limit_s: float = 3600.0) -> float:
    """RuntimeWarning naming the keys when the Monte Carlo would need more than ``limit_s``
    of one core (transport.core.estimates.mc_seconds); returns the estimate [s]."""
    seconds = mc_seconds(cfg)
    if seconds > limit_s:
        warnings.warn(f"the Monte Carlo will take ~{seconds / 3600:.3g} core-hours (mc.n_photons = "
                      f"{cfg.mc.n_photons}, {len(cfg.mc.E_eV)} mc.E_eV energies, "
                      f"{len(cfg.mc.models)} x {len(cfg.mc.particles)} components): spread it over "
                      "MPI ranks or lower mc.n_photons", RuntimeWarning, stacklevel=2)
    return seconds


def preflight(cfg, outputs=(), outdirs=(), overwrite=False, stages=("transport", "emission"),
              fields=None, opacity=False) -> None:
    """All pre-computation checks of one command.

    outputs: (path, what) result files (refused if they exist, unless ``overwrite``);
    outdirs: (path, what) directories for figures; stages: memory-estimated stages
    (transport.core.estimates); fields: photon fields used (None: sky.fields);
    opacity: whether rate tables will be used (cache directory checked)."""
    for path, what in outputs:
        check_output_path(path, overwrite=overwrite, what=what)
    for path, what in outdirs:
        check_output_dir(path, what=what)
    check_config_inputs(cfg, fields)
    if opacity:
        check_cache_dir(cfg)
    if "mc" in stages:
        check_batch_count(cfg)
    check_memory(cfg, stages)
    if "transport" in stages:
        warn_if_slow(cfg)
    if "mc" in stages:
        warn_if_mc_slow(cfg)
