"""The optional stages of ``corona run``: the Monte Carlo ("mc", package
``montecarlo.propagation``) and the extragalactic sum with its cascade ("extragalactic",
package ``montecarlo.cascade``).

Each is used when its package is importable (checked with ``importlib.util.find_spec``,
nothing imported before) and pipeline.<name> is "auto" or "on" ("on" without the package is a
ConfigError; "off" never runs it). The stage calls one entry point of the package, named in
:data:`OPTIONAL`, as ``entry(cfg, inputs, comm=..., progress=...)``, where ``inputs`` holds the
results of the stages named in ``needs`` (and ``checkpoint_dir``: where a long
stage may checkpoint) (``inputs["emission"]`` = {model: {particle:
emission table}}, ``inputs["sky"]`` = :class:`montecarlo.sky.maps.SkyProducts`), and expects a
mapping of numpy arrays / scalars / nested mappings back (saved as HDF5 datasets / attributes
/ groups). Keys the summary reads:

- mc: ``E_eV`` and ``all_sky`` (gamma all-sky intensity of the corona from the Monte Carlo,
  cm^-2 s^-1 sr^-1 eV^-1): the summary reports MC / line of sight at 1 TeV and 1 PeV.
- extragalactic: ``E_eV``, ``gamma`` and ``nu`` (isotropic intensities of all galaxies'
  coronae at Earth after the cascade, cm^-2 s^-1 sr^-1 eV^-1): the summary adds them to the
  corona's, and reports xi = j_MW(anticentre) / j_EG (docs/physics.md, section 6).

Both stages are ``parallel``: every MPI rank calls the entry point (the Monte Carlo, and the
cascade response table when it has to be built, run :func:`montecarlo.parallel.run_batches`
on all ranks); rank 0's return value is saved.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

import numpy as np

from transport.core.errors import ConfigError

from montecarlo.pipeline.stages import Stage, load_mapping, save_mapping


@dataclass(frozen=True)
class Optional:
    """Where an optional stage's code lives and what it depends on."""
    package: str                   # checked with find_spec
    entry: str                     # "module:function" called by the stage
    needs: tuple[str, ...]
    sections: tuple[str, ...]      # config sections it depends on (those present in the schema)
    parallel: bool
    description: str


OPTIONAL = {
    "mc": Optional("montecarlo.propagation", "montecarlo.pipeline.mc:pipeline_result",
                   ("emission", "sky"), ("observer", "fields", "dust", "opacity", "mc"),
                   True, "Monte Carlo photon propagation (docs/montecarlo.md)"),
    "extragalactic": Optional("montecarlo.cascade", "montecarlo.pipeline.extragalactic:pipeline_result",
                              ("emission", "sky"),
                              ("observer", "source", "fields", "extragalactic"),
                              True, "coronae of other galaxies + EM cascade (docs/extragalactic.md)"),
}


def available(name: str) -> bool:
    """True when the package of optional stage ``name`` can be imported."""
    try:
        return importlib.util.find_spec(OPTIONAL[name].package) is not None
    except ModuleNotFoundError:
        return False


def wanted(cfg, name: str) -> bool:
    """pipeline.<name> = "on" (required), "auto" (when available) or "off"."""
    mode = cfg.pipeline[name]
    if mode == "off":
        return False
    if mode == "on" and not available(name):
        raise ConfigError(f'pipeline.{name} = "on" is not allowed here: package '
                          f"{OPTIONAL[name].package} ({OPTIONAL[name].description}) is not "
                          'installed; use "auto" or "off"')
    return available(name)


def _entry(name: str):
    module, _, function = OPTIONAL[name].entry.partition(":")
    return getattr(importlib.import_module(module), function)


def _stage(cfg, name: str) -> Stage:
    spec = OPTIONAL[name]
    data = cfg.to_dict()

    def compute(config, inputs, ctx):
        return dict(_entry(name)(config, inputs, comm=ctx.comm, progress=ctx.progress,
                                 checkpoint_dir=ctx.workdir))

    return Stage(name, tuple(s for s in spec.sections if s in data), spec.needs, compute,
                 save_mapping, load_mapping,
                 guard=lambda result: {k: v for k, v in result.items()
                                       if k in ("all_sky", "gamma", "nu")},
                 parallel=spec.parallel, description=spec.description)


def stages(cfg) -> list[Stage]:
    """The optional stages wanted for ``cfg``, in pipeline order."""
    return [_stage(cfg, name) for name in OPTIONAL if wanted(cfg, name)]


def isotropic_spectra(eg: dict) -> dict:
    """{"E_eV", "gamma", "nu"} of an extragalactic stage result."""
    missing = [k for k in ("E_eV", "gamma", "nu") if k not in eg]
    if missing:
        raise ConfigError(f"the extragalactic stage result lacks {', '.join(missing)} (see "
                          "montecarlo.pipeline.optional)")
    return {k: np.asarray(eg[k], dtype=float) for k in ("E_eV", "gamma", "nu")}


def mc_summary(mc: dict, sky) -> dict:
    """MC / line-of-sight all-sky gamma intensity at 1 TeV and 1 PeV (1 = agreement)."""
    E, I = np.asarray(mc["E_eV"], dtype=float), np.asarray(mc["all_sky"], dtype=float)
    direct = sky.components[("corona", "gamma")].all_sky
    out = {}
    for E0, tag in ((1e12, "1TeV"), (1e15, "1PeV")):
        if E[0] <= E0 <= E[-1]:
            out[f"mc_over_los_{tag}"] = (np.interp(np.log(E0), np.log(E), I)
                                         / np.interp(np.log(E0), np.log(sky.E_eV), direct))
    return out
