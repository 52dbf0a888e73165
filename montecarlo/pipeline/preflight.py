"""Checks every ``corona`` command runs before its computation (docs/robustness.md): the
outputs can be written, the data files the config names can be read and parsed, the cache
directory is usable, and the run fits in memory. Each problem is one clear error (exit 2)
in seconds instead of a traceback after minutes. New commands call :func:`preflight`."""
from __future__ import annotations

from transport.core.errors import CoronaError
from transport.core.estimates import check_memory, warn_if_slow
from transport.core.safety import check_output_dir, check_output_path

from montecarlo.fields import tabulated
from montecarlo.fields.dust import load_kappa
from montecarlo.opacity.ratetables import cache_directory, warn_cache_unwritable
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
    check_memory(cfg, stages)
    if "transport" in stages:
        warn_if_slow(cfg)
