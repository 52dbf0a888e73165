"""`corona mc`: Monte Carlo sky maps of the configured emission models (docs/montecarlo.md).

    mpirun -n N corona mc [CONFIG] -o OUT.h5 [--emission TRANSPORT.h5] [--set mc.n_photons=...]

Every rank builds the same problem; batches are spread over the ranks by
:func:`montecarlo.parallel.run_batches`; rank 0 shows the progress bar and writes OUT.h5
atomically. Next to OUT.h5: ``OUT.h5.ckpt-<model>-<particle>.h5`` (the running checkpoint of
the component being simulated) and ``OUT.h5.part-<model>-<particle>.h5`` (finished components);
a killed run restarted with the same command resumes from them; both are removed once OUT.h5
is written.
"""
from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np

from transport import load_config, solve
from transport.core.errors import ConfigError, DataFileError
from transport.core.estimates import mc_bytes, mc_seconds
from transport.core.output import atomic_hdf5, provenance, write_array
from transport.core.safety import format_bytes
from transport.core.sealed import (RebuildWarning, SealError, finite_problem, read_sealed, seal,
                                   shape_problem)
from transport.emission.registry import build_emission

from montecarlo import parallel
from montecarlo.pipeline.commands import read_saved_emissions
from montecarlo.pipeline.preflight import check_batch_count, preflight
from montecarlo.propagation.api import UNITS, finish, prepare, run


def _load(args):
    return load_config(args.config, overrides=args.overrides)


def check_mc_section(cfg) -> None:
    """Cross-checks of [mc] that single-key ranges cannot express (the batch count included:
    at most 2^32 batches of mc.batch_photons histories per run)."""
    nside = cfg.mc.nside
    if nside & (nside - 1):
        raise ConfigError(f"mc.nside = {nside} is not allowed: expected a power of 2 (1 ... 1024)")
    if not cfg.mc.E_eV:
        raise ConfigError("mc.E_eV = [] is not allowed: expected at least one energy [eV]")
    check_batch_count(cfg)


def size_line(cfg) -> str:
    """The Monte Carlo's size, memory and time estimates, printed before it starts."""
    m = cfg.mc
    return (f"Monte Carlo: {m.n_photons:.3g} histories x {len(m.E_eV)} energies per component in "
            f"{-(-m.n_photons // m.batch_photons)} batches; ~{format_bytes(mc_bytes(cfg))} per rank, "
            f"~{mc_seconds(cfg) / 3600:.3g} core-hours in all")


def read_emissions(path, models, particles) -> dict:
    """{(model, particle): emission} from the /emission group of a `corona transport` file
    (verified: commands.read_saved_emissions); a table that is zero everywhere has nothing to
    propagate (its dipole would be 0/0) and is refused."""
    saved = read_saved_emissions(path, what="emission file")
    out = {}
    for model in models:
        for particle in particles:
            if particle not in saved.get(model, {}):
                raise DataFileError(f"emission file '{path}' has no emission/{model}/{particle} "
                                    f"(it holds {sorted(saved)}): rerun `corona transport` with "
                                    "these emission.models/particles")
            if not np.any(saved[model][particle].q > 0):
                raise DataFileError(f"emission file '{path}': emission/{model}/{particle} is zero "
                                    "everywhere (nothing to propagate): drop it from mc.models/"
                                    "mc.particles")
            out[model, particle] = saved[model][particle]
    return out


def build(cfg, emission_file):
    """The emissions to propagate: read from ``emission_file`` or computed from the config."""
    m = cfg.mc
    if emission_file:
        return read_emissions(emission_file, m.models, m.particles)
    sol = solve(cfg) if "corona" in m.models else None
    return {(model, p): build_emission(cfg, model, p, sol) for model in m.models for p in m.particles}


def _part_path(out: Path, tag: str, what: str) -> Path:
    return out.with_name(f"{out.name}.{what}-{tag}.h5")


PART_KIND = "mc part"


def _part_claims(problem, tag: str) -> dict:
    return {"fingerprint": problem.fingerprint, "component": tag,
            "tally_shape": [int(problem.E.size + 1), int(problem.n_cols)]}


def _finished(path: Path, problem, tag: str):
    """(summed tallies, ranks) of a finished component, None if absent, from another run
    (fingerprint) or failing its check (truncated, altered, insane: reported with a
    RebuildWarning, then the component is computed again)."""
    if not (path.exists() or path.is_symlink()):
        return None
    claims = _part_claims(problem, tag)

    def sanity(done):
        total, n_ranks = done
        return (shape_problem("total", total, claims["tally_shape"])
                or finite_problem({"total": total}, nonnegative=False)
                or (None if n_ranks >= 1 else f"n_ranks = {n_ranks} is below 1"))

    try:
        return read_sealed(path, "/", PART_KIND, claims,
                           lambda g: (g["total"][()], int(g.attrs["n_ranks"])), sanity,
                           what="part file")
    except SealError as exc:
        if exc.problem is not None and exc.problem.reason in ("fingerprint", "component"):
            return None
        if path.is_dir():
            raise SealError(f"part file '{path}' is a directory: remove it", path) from None
        warnings.warn(f"{exc}; computing {tag} again", RebuildWarning, stacklevel=2)
        return None


def write_component(group, result) -> None:
    """/mc/<model>/<particle> datasets of one result (module docstring of docs/montecarlo.md)."""
    for name, value in (("n_photons", result.n_photons), ("seed", result.seed),
                        ("estimator", result.estimator), ("ranks", result.n_ranks),
                        ("fields", ",".join(result.fields) or "none"),
                        ("tracking_steps", result.tracking_steps),
                        ("majorant_violations", result.majorant_violations),
                        ("ordering", "RING"), ("coordsys", "GALACTIC"), ("nside", result.nside)):
        group.attrs[name] = value
    write_array(group, "map", result.maps, UNITS, "pixel-average intensity, shape (E, pixel)")
    write_array(group, "map_err", result.maps_err, UNITS, "1-sigma statistical error of map")
    write_array(group, "all_sky", result.all_sky, UNITS, "all-sky average intensity")
    write_array(group, "all_sky_err", result.all_sky_err, UNITS, "1-sigma error of all_sky")
    write_array(group, "unattenuated_all_sky", result.unattenuated_all_sky, UNITS,
                "all-sky average without pair production (same histories)")
    write_array(group, "pair_fraction", result.pair_fraction, "",
                "fraction of the photon energy emitted towards the Sun that goes into pairs")
    reg = group.create_group("regions")
    for name, value in result.regions.items():
        write_array(reg, name, value, UNITS, f"average over the pixels of region {name}")
        write_array(reg, f"{name}_err", result.regions_err[name], UNITS, "1-sigma error")
    dip = group.create_group("dipole")
    write_array(dip, "amplitude", result.dipole_amplitude, "",
                "A = |d| / I0 = sqrt(3) |a_1| / a_00 of the monopole + dipole projection")
    write_array(dip, "amplitude_err", result.dipole_amplitude_err, "", "1-sigma error")
    write_array(dip, "l_deg", result.dipole_l_deg, "deg", "direction of the dipole")
    write_array(dip, "b_deg", result.dipole_b_deg, "deg", "direction of the dipole")
    write_array(dip, "contrast", result.contrast, "", "(I_max - I_min) / (I_max + I_min) over pixels")
    write_array(dip, "contrast_err", result.contrast_err, "", "1-sigma error (noise-biased upwards)")


def cmd_mc(args) -> int:
    cfg = _load(args)
    check_mc_section(cfg)
    m = cfg.mc
    out = Path(args.output)
    preflight(cfg, outputs=[(out, "-o/--output")], overwrite=args.overwrite, fields=tuple(m.fields),
              opacity=bool(m.fields), stages=("emission", "mc") if (args.emission or m.emission_file)
              else ("transport", "emission", "mc"))
    comm = parallel.world()
    rank = parallel.rank_and_size(comm)[0]
    say = (lambda text: print(text)) if (rank == 0 and not args.quiet) else (lambda text: None)
    say(size_line(cfg))
    with parallel.claimed(out.with_name(out.name + ".lock"), f"-o/--output '{out}'", comm):
        return _run_mc(cfg, args, out, comm, say)


def _run_mc(cfg, args, out: Path, comm, say) -> int:
    m = cfg.mc
    rank, size = parallel.rank_and_size(comm)
    t0 = time.perf_counter()
    # every rank reads (or computes) the emissions; all agree before the batches start
    emissions = parallel.all_ranks(comm, lambda: build(cfg, args.emission or m.emission_file))
    problems = {key: prepare(em, m.E_eV, m.nside, tuple(m.fields), m.n_photons, m.seed,
                             m.estimator, cfg, tuple(m.regions), m.batch_photons)
                for key, em in emissions.items()}
    results = {}
    for (model, particle), problem in problems.items():
        tag = f"{model}-{particle}"
        part = _part_path(out, tag, "part")
        done = parallel.on_root(comm, lambda: _finished(part, problem, tag))
        if done is not None:
            total, n_ranks = done
            resumed = problem.n_batches
            say(f"{tag}: finished earlier ({part})")
        else:
            ckpt = _part_path(out, tag, "ckpt")
            batches = run(problem, ckpt, m.checkpoint_batches,
                          progress=not args.quiet and rank == 0, keep_checkpoint=True)
            total, n_ranks, resumed = batches.total, batches.n_ranks, batches.resumed_from
            if rank == 0:
                with atomic_hdf5(part) as fh:
                    fh.attrs["n_ranks"] = n_ranks
                    fh["total"] = total
                    seal(fh, PART_KIND, _part_claims(problem, tag))
                ckpt.unlink(missing_ok=True)       # only now: the part file holds the result
        results[model, particle] = finish(problem, total, n_ranks, resumed)
    if rank == 0:
        with atomic_hdf5(out) as fh:
            fh.attrs.update(provenance(cfg, seeds={"mc.seed": m.seed, "streams":
                                                   "numba MT19937 per batch, seeded with "
                                                   "montecarlo.parallel.batch_kernel_seed32(seed, batch)"}))
            group = fh.create_group("mc")
            group.attrs.update({"n_photons": m.n_photons, "seed": m.seed, "estimator": m.estimator,
                                "ranks": size, "nside": m.nside, "ordering": "RING",
                                "coordsys": "GALACTIC", "units": UNITS,
                                "fields": json.dumps(list(m.fields)),
                                "emission_file": str(args.emission or m.emission_file)})
            write_array(group, "E_eV", np.asarray(m.E_eV, dtype=float), "eV", "tally energies")
            for (model, particle), result in results.items():
                write_component(group.require_group(model).create_group(particle), result)
        for key in problems:
            _part_path(out, f"{key[0]}-{key[1]}", "part").unlink(missing_ok=True)
        say(f"wrote {out} ({time.perf_counter() - t0:.1f} s, {size} rank(s))")
        for (model, particle), r in results.items():
            for k, E in enumerate(r.E_eV):
                say(f"  {model} {particle} at {E:.3g} eV: all-sky I = {r.all_sky[k]:.4e} +- "
                    f"{r.all_sky_err[k]:.1e} {UNITS}, pairs {100 * r.pair_fraction[k]:.1f} %, "
                    f"dipole A = {r.dipole_amplitude[k]:.3f} +- {r.dipole_amplitude_err[k]:.3f}")
    return 0


def pipeline_result(cfg, inputs, comm=None, progress=False, checkpoint_dir=None) -> dict:
    """The Monte Carlo stage of `corona run` (montecarlo.pipeline.optional), run on every MPI
    rank: the corona's gamma rays propagated with the [mc] settings; returns ``E_eV``,
    ``all_sky`` and ``all_sky_err`` [cm^-2 s^-1 sr^-1 eV^-1] and the dipole amplitude."""
    check_mc_section(cfg)
    m = cfg.mc
    emission = inputs["emission"].get("corona", {}).get("gamma")
    if emission is None:
        raise ConfigError('pipeline.mc needs emission.models to include "corona" and '
                          'emission.particles to include "gamma"')
    problem = prepare(emission, m.E_eV, m.nside, tuple(m.fields), m.n_photons, m.seed,
                      m.estimator, cfg, tuple(m.regions), m.batch_photons)
    # the checkpoint is named by the problem's fingerprint: a changed config starts afresh,
    # a killed run of the same config resumes
    ckpt = (None if checkpoint_dir is None
            else Path(checkpoint_dir) / f"mc-{problem.fingerprint[:20]}.ckpt.h5")
    if ckpt is not None and parallel.rank_and_size(comm)[0] == 0:
        ckpt.parent.mkdir(parents=True, exist_ok=True)
    batches = run(problem, ckpt, m.checkpoint_batches, progress=progress, comm=comm)
    r = finish(problem, batches.total, batches.n_ranks, batches.resumed_from)
    return {"E_eV": np.asarray(r.E_eV, dtype=float), "all_sky": r.all_sky,
            "all_sky_err": r.all_sky_err, "dipole_amplitude": r.dipole_amplitude,
            "dipole_amplitude_err": r.dipole_amplitude_err}
