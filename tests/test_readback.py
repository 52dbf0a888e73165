"""Files read back (docs/robustness.md, section 8): every stage file, --from file, checkpoint,
part file, scan point, scan record and emission file carries the key of what it claims to be
and checksums; a mismatch is refused (explicit inputs, exit 2) or reported and rebuilt (caches),
never used. Output directories are claimed with a lock file; scan files are validated before any
point runs; the MPI readers agree before any collective call.

Each test names the case of the hardening review it covers. The stage tests use the CI-size
model of tests/test_pipeline.py with only the transport and emission stages (seconds)."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from transport import load_config
from transport.core import sealed
from transport.core.errors import CoronaError
from transport.core.output import OutputBusy, atomic_hdf5, claim_output, write_emissions
from transport.core.sealed import RebuildWarning, seal, stored_claims
from transport.emission.tables import SphericalEmission

from montecarlo import cli, parallel
from montecarlo.pipeline import mc as mc_cmd
from montecarlo.pipeline import scan as scan_mod
from montecarlo.pipeline.preflight import warn_if_mc_slow
from montecarlo.pipeline.run import EMISSION, RUN_FILE, TRANSPORT, _write_run
from montecarlo.pipeline.stages import Context, StageError, run_stages
from montecarlo.sky.analysis import contrast, dipole

#: CI-size model (tests/test_pipeline.py): coarse grids, nside-2 maps, CMB only.
TINY = {"grid.cells_per_decade": 12, "grid.E_per_decade": 4, "time.dt_max_gyr": 0.5,
        "emission.E_per_decade": 3, "sky.nside": 2, "sky.E_per_decade": 1, "sky.fields": ["cmb"],
        "sky.regions": ["tibet_A"], "pipeline.extragalactic": "off", "pipeline.mc": "off",
        "galactic_plane.fit": False}
STAGES = [TRANSPORT, EMISSION]
MPIRUN = Path(sys.executable).parent / "mpirun"
needs_mpirun = pytest.mark.skipif(not MPIRUN.exists(), reason="no mpirun beside the interpreter")


def _sets(overrides: dict) -> list:
    return [a for k, v in overrides.items() for a in ("--set", f"{k}={json.dumps(v)}")]


def _cli(argv, capsys):
    """(exit status, stdout, stderr lines) of the corona command run in this process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, [line for line in err.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Config A's transport and emission stage files (DIR/cache) and its records."""
    out = tmp_path_factory.mktemp("a")
    cfg = load_config(None, overrides=TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records = run_stages(cfg, STAGES, out / "cache", Context())
    return cfg, out / "cache", records


def _copy_cache(saved, tmp_path) -> Path:
    cache = tmp_path / "cache"
    shutil.copytree(saved[1], cache)
    return cache


def _run(cfg, cache, **kw):
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records = run_stages(cfg, STAGES, cache, Context(say=lines.append), **kw)
    return records, "\n".join(lines)


# --------------------------------------------------------------------------- 3: stage cache
def test_stage_cache_times_ten_is_caught_and_rebuilt(saved, tmp_path):
    """Case 3: a cached stage multiplied by 10 (the sky x 10 gave 8.84 instead of 0.884) is not
    used: the checksum fails, the stage line says so, and the rebuilt result is the original
    (a deterministic recomputation: identical to rounding, rtol 1e-12)."""
    cfg, _, first = saved
    cache = _copy_cache(saved, tmp_path)
    with h5py.File(cache / "emission.h5", "r+") as fh:
        ds = fh["emission/corona/gamma"]
        ds[...] = 10 * ds[()]
    records, said = _run(cfg, cache)
    assert records["transport"].status == "cached"
    assert records["emission"].status == "computed"
    assert "checksum mismatch in corona/gamma" in records["emission"].reason
    assert str(cache / "emission.h5") in said and "failed its check" in said
    np.testing.assert_allclose(records["emission"].result["corona"]["gamma"].q,
                               first["emission"].result["corona"]["gamma"].q, rtol=1e-12, atol=0)
    again, _ = _run(cfg, cache)                      # the rebuilt file is clean
    assert [r.status for r in again.values()] == ["cached", "cached"]


def test_nan_in_a_resealed_stage_names_the_file(saved, tmp_path):
    """Case 3 / NaN in a cached stage ("j_p contains nan" without naming the file): a NaN cell
    whose checksums were recomputed still fails the sanity check, named with the file."""
    cfg, _, _ = saved
    cache = _copy_cache(saved, tmp_path)
    with h5py.File(cache / "transport.h5", "r+") as fh:
        j = fh["transport/cr/j"][()]
        j[3, 4] = np.nan
        fh["transport/cr/j"][...] = j
        seal(fh["transport"], "stage transport", stored_claims(fh["transport"]))
    records, said = _run(cfg, cache)
    assert records["transport"].status == "computed"
    assert "cr/j has 1 non-finite value(s)" in records["transport"].reason
    assert str(cache / "transport.h5") in said
    assert np.all(np.isfinite(records["transport"].result.j))


def test_recompute_says_why(saved, tmp_path):
    """Each stage line says why a stage is computed: no cache, config changed (the key and
    values), code changed (version), input stage changed."""
    cfg, _, _ = saved
    cache = _copy_cache(saved, tmp_path)
    records, _ = _run(cfg, tmp_path / "empty")
    assert records["transport"].reason == "no cache"
    changed = load_config(None, overrides={**TINY, "source.alpha": 2.3})
    records, said = _run(changed, cache)
    assert "config differs: config.source.alpha = 2.4 in the file, 2.3 needed" in records["transport"].reason
    assert "input stages differ" in records["emission"].reason
    assert "config differs" in said


def test_code_change_recomputes_and_install_mode_does_not(saved, tmp_path, monkeypatch):
    """The code key is the package version plus a digest of the sources: the same sources at
    another place (a regular install: site-packages with corona_inputs/ and numba's cache
    files) give the same key, an edited source or another version a different one."""
    root = Path(sealed.__file__).resolve().parents[2]
    site = tmp_path / "site-packages"
    for pkg in ("transport", "montecarlo"):
        shutil.copytree(root / pkg, site / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(sealed.inputs_dir(), site / "corona_inputs",
                    ignore=shutil.ignore_patterns("__pycache__", "*.md"))
    junk = site / "transport" / "cosmicrays" / "__pycache__"
    junk.mkdir()
    (junk / "solver.evolve-1.py311.nbi").write_bytes(b"numba index")
    (site / "transport" / "cosmicrays" / "solver.cpython-311.pyc").write_bytes(b"bytecode")
    patterns = TRANSPORT.sources + EMISSION.sources
    here = sealed.sources_digest(patterns)
    assert sealed.sources_digest(patterns, site, site / "corona_inputs") == here
    with open(site / "transport" / "cosmicrays" / "solver.py", "a") as fh:
        fh.write("\n# an edit\n")
    sealed.sources_digest.cache_clear()
    assert sealed.sources_digest(patterns, site, site / "corona_inputs") != here
    # another version: the cache is not used, and the line says why
    cfg, _, _ = saved
    monkeypatch.setattr(sealed, "package_version", lambda: "9.9")
    records, _ = _run(cfg, _copy_cache(saved, tmp_path))
    assert records["transport"].status == "computed"
    assert records["transport"].reason.startswith("code differs: version 0.1.0 in the file, 9.9 here")


# --------------------------------------------------------------------------- 1: --from
def test_from_another_config_is_refused_or_recorded_never_cached(saved, tmp_path):
    """Case 1: `--from transport=<a run of A>` under config B is refused (naming the file and
    the key that differs); with accept_mismatch it is used, recorded in the run file's
    provenance, and never written into B's cache, so a plain rerun of B computes its own
    transport instead of printing A's numbers as "cached"."""
    cfg_a, cache_a, first = saved
    cfg_b = load_config(None, overrides={**TINY, "source.alpha": 2.3})
    cache_b = tmp_path / "b" / "cache"
    source = cache_a / "transport.h5"
    with pytest.raises(StageError, match=r"--from transport '.*' config differs: "
                                         r"config\.source\.alpha = 2\.4 in the file, 2\.3 needed"
                                         r".*--accept-mismatch"):
        _run(cfg_b, cache_b, start_from={"transport": str(source)})
    assert not (cache_b / "transport.h5").exists()
    records, _ = _run(cfg_b, cache_b, start_from={"transport": str(source)}, accept_mismatch=True)
    rec = records["transport"]
    assert "source.alpha" in rec.mismatch and rec.key == first["transport"].key
    assert not (cache_b / "transport.h5").exists()           # never under B's key
    np.testing.assert_array_equal(rec.result.j, first["transport"].result.j)
    _write_run(cfg_b, records, tmp_path / "b", False, Context())
    with h5py.File(tmp_path / "b" / RUN_FILE, "r") as fh:
        recorded = json.loads(fh.attrs["accepted_mismatch"])
        assert "source.alpha" in recorded["transport"]["difference"]
        assert recorded["transport"]["file"] == str(source)
    plain, _ = _run(cfg_b, cache_b)
    assert plain["transport"].status == "computed" and plain["transport"].reason == "no cache"
    assert plain["emission"].status == "computed"            # keyed on A's transport before


def _drop(fh, name):
    del fh[name]


def _stringify(fh, name):
    del fh[name]
    fh[name] = "abc"


def _fewer_radii(fh, name):
    g = fh["transport/cr"]
    r, j = g["r_kpc"][()], g["j"][()]
    del g["r_kpc"], g["j"]
    g["r_kpc"], g["j"] = r[:-3], j[:, :-3]


def _reseal_emission(fh, name):
    del fh[name]
    seal(fh["emission"], "stage emission", stored_claims(fh["emission"]))


@pytest.mark.parametrize("stage, damage, name, message", [
    ("transport", _drop, "transport/cr/j", "missing cr/j"),
    ("transport", _stringify, "transport/cr/j", "checksum mismatch in cr/j"),
    ("transport", _fewer_radii, "", "checksum mismatch in cr/j, cr/r_kpc"),
    ("emission", _drop, "emission/corona/nu", "missing corona/nu"),
    ("emission", _reseal_emission, "emission/corona/nu", "emission/corona/nu is missing"),
])
def test_damaged_from_file_is_one_line_and_never_cached(saved, tmp_path, capsys, stage, damage,
                                                        name, message):
    """Case 1: a --from file with a missing dataset, a string dataset, fewer radii or a missing
    particle (also when its checksums were recomputed) is refused with one line naming the
    file and what differs (exit 2), and the run's cache is not poisoned."""
    _, cache_a, _ = saved
    bad = tmp_path / f"{stage}.h5"
    shutil.copy(cache_a / f"{stage}.h5", bad)
    with h5py.File(bad, "r+") as fh:
        damage(fh, name)
    out = tmp_path / "run"
    froms = ["--from", f"{stage}={bad}"]
    if stage == "emission":
        froms += ["--from", f"transport={cache_a / 'transport.h5'}"]
    status, _, err = _cli(["run", "-o", str(out), "--no-figures", "-q", *_sets(TINY), *froms], capsys)
    assert status == 2 and len(err) == 1, err
    assert str(bad) in err[0] and message in err[0] and "Traceback" not in err[0]
    assert not (out / "cache" / f"{stage}.h5").exists()


# --------------------------------------------------------------------------- 2: locks
@pytest.fixture
def live_owner():
    """A lock owner that is alive for the test's duration (a sleeping process on this host)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield {"pid": proc.pid, "host": socket.gethostname(), "command": "corona run other.toml",
           "since_utc": "2025-01-01T00:00:00+00:00"}
    proc.kill()
    proc.wait()


def test_second_writer_of_an_output_is_refused(tmp_path, capsys, live_owner):
    """Case 2: while a process holds the output, `corona run`, `corona scan` and `corona mc`
    into the same -o are refused with one line naming the owner, before computing."""
    scan_file = tmp_path / "s.toml"
    scan_file.write_text('evaluation = "direct"\n[parameters]\n"source.alpha" = [2.1, 2.2]\n')
    cases = [(["run", "-o", str(tmp_path / "r"), "--no-figures", "-q", *_sets(TINY)],
              tmp_path / "r" / ".corona.lock"),
             (["scan", str(scan_file), "-o", str(tmp_path / "s"), "-q"], tmp_path / "s" / ".corona.lock"),
             (["mc", "-o", str(tmp_path / "m.h5"), "-q"], tmp_path / "m.h5.lock")]
    for argv, lock in cases:
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.write_text(json.dumps(live_owner))
        status, _, err = _cli(argv, capsys)
        assert status == 2 and len(err) == 1, (argv[0], err)
        assert f"in use by process {live_owner['pid']} on {live_owner['host']}" in err[0]
        assert lock.read_text() == json.dumps(live_owner)        # the owner's lock is left alone
    assert not (tmp_path / "r" / "cache").exists() and not (tmp_path / "s" / "points").exists()


def test_stale_lock_is_taken_over_and_one_claimant_wins(tmp_path):
    """A lock of a dead local process is taken over (and removed at the end); of eight threads
    claiming one output at the same moment exactly one gets it."""
    lock = tmp_path / "out" / ".corona.lock"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.parent.mkdir()
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    with claim_output(lock):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()
    barrier, won, lost = threading.Barrier(8), [], []

    def claim():
        barrier.wait()
        try:
            with claim_output(lock):
                won.append(1)
                barrier_done.wait()
        except OutputBusy:
            lost.append(1)
            barrier_done.wait()

    barrier_done = threading.Barrier(8)
    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert (len(won), len(lost)) == (1, 7)
    assert not lock.exists()


# --------------------------------------------------------------------------- 4: scans
def _scan(tmp_path, text='[parameters]\n"source.alpha" = [2.1, 2.2]\n', name="s.toml"):
    path = tmp_path / name
    path.write_text('evaluation = "direct"\n' + text)
    return scan_mod.parse_scan(path)


def _failed_points(scan, outdir, monkeypatch):
    """Finished (failed: the memory check refuses them in milliseconds) point files."""
    monkeypatch.setenv("CORONA_MEMORY_LIMIT_BYTES", "1000")
    (outdir / "points").mkdir(parents=True, exist_ok=True)
    for i in range(len(scan.points)):
        scan_mod.run_point((str(outdir), i, scan.overrides(i), scan.base, scan.evaluation, scan.digest))


def test_scan_point_copied_over_another_is_recomputed(tmp_path, monkeypatch):
    """Case 4: a point file copied over another is not accepted (it claims another index and
    other parameters); a damaged one neither; the others are kept."""
    scan = _scan(tmp_path)
    out = tmp_path / "out"
    _failed_points(scan, out, monkeypatch)
    shutil.copy(scan_mod.point_path(out, 0), scan_mod.point_path(out, 1))
    lines = []
    assert scan_mod.pending_points(scan, out, say=lines.append) == [1]
    assert "index = 0 in the file, 1 needed" in "\n".join(lines)
    with open(scan_mod.point_path(out, 0), "r+b") as fh:
        fh.truncate(200)
    assert scan_mod.pending_points(scan, out) == [0, 1]


def test_scan_directory_record_races_and_damage(tmp_path, monkeypatch):
    """Case 4: two scans started together into one -o: exactly one records the directory, the
    other is refused; another code version is refused (the digest includes it); a corrupt
    scan.json is rebuilt without abandoning the finished points; scan.json as a directory or
    points/ as a file give one clear error and leave no temporary file."""
    scan_a = _scan(tmp_path, name="a.toml")
    scan_b = _scan(tmp_path, '[parameters]\n"source.alpha" = [2.3]\n', name="b.toml")
    out = tmp_path / "out"
    barrier, refused = threading.Barrier(2), []

    def start(scan):
        barrier.wait()
        try:
            scan_mod._check_directory(scan, out, say=lambda t: None)
        except scan_mod.ScanError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=start, args=(s,)) for s in (scan_a, scan_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(refused) == 1 and "started by a different scan" in refused[0]
    winner = scan_a if "a.toml" in refused[0] else scan_b          # the record names its scan
    scan_mod._check_directory(winner, out)                             # and accepts it again
    # another code version: refused, saying so
    monkeypatch.setattr(sealed, "package_version", lambda: "9.9")
    newer = scan_mod.parse_scan(winner.path)
    assert newer.digest != winner.digest
    with pytest.raises(scan_mod.ScanError, match="code differs: version 0.1.0 in the file, 9.9 here"):
        scan_mod._check_directory(newer, out)
    monkeypatch.undo()
    # a corrupt record is rebuilt; the finished points are kept
    _failed_points(winner, out, monkeypatch)
    (out / "scan.json").write_text('{"digest": "abc"')
    said = []
    scan_mod._check_directory(winner, out, say=said.append)
    assert "rebuilt" in said[0] and scan_mod.pending_points(winner, out) == []
    # scan.json a directory, points a file
    for bad, make in ((out / "scan.json", lambda p: (p.unlink(), p.mkdir())),
                      (tmp_path / "o2" / "points", lambda p: (p.parent.mkdir(), p.write_text("x")))):
        make(bad)
        with pytest.raises(scan_mod.ScanError, match="is a (directory|file)"):
            scan_mod._check_directory(winner, bad.parent)
        assert not list(bad.parent.glob(".scan.json*tmp-*"))


@pytest.mark.parametrize("text, message", [
    ('"source.alpha" = [2.2, nan]', "source.alpha = nan is not allowed"),
    ('"source.alpha" = [inf]', "source.alpha = inf is not allowed"),
    ('"source.r_Q_kpc" = [1e6]', "source.r_Q_kpc = 1000000.0 is out of range"),
    ('"source.alpha" = ["abc"]', "source.alpha = 'abc' is not allowed"),
    ('"source.alpha" = [true]', "source.alpha = True is not allowed"),
    ('"sky.nside" = [3.5]', "sky.nside = 3.5 is not allowed: expected an integer"),
    ('"gas.profile" = ["betta"]', 'did you mean "beta"'),
    ('"source.alpha" = {min = 2.0, max = 9.0, n = 3}', "source.alpha = 5.5 is out of range"),
])
def test_every_grid_value_is_checked_before_any_point(tmp_path, text, message):
    """Scan values are checked against the key's schema at parse time (they used to fail point
    by point while the scan exited 0)."""
    with pytest.raises(scan_mod.ScanError, match=message.replace("(", r"\(").replace(".", r"\.")):
        _scan(tmp_path, "[parameters]\n" + text + "\n")


@pytest.mark.parametrize("spec, message", [
    ('{min = -1.0, max = 5.0}', "source.r_Q_kpc = -1.0 is out of range"),
    ('{min = 1.0, max = 2e4}', "source.r_Q_kpc = 20000.0 is out of range"),
])
def test_sampler_ranges_are_checked(tmp_path, spec, message):
    """An LHS minimum below the key's range (or a maximum above) is refused; so is an integer
    key for a sampler that draws real numbers."""
    with pytest.raises(scan_mod.ScanError, match=message.replace(".", r"\.")):
        _scan(tmp_path, f'method = "lhs"\nn_points = 4\n[parameters]\n"source.r_Q_kpc" = {spec}\n')
    with pytest.raises(scan_mod.ScanError, match="draws real numbers"):
        _scan(tmp_path, 'method = "sobol"\nn_points = 4\n[parameters]\n"sky.nside" = {min = 1, max = 8}\n')


def test_point_count_does_not_overflow(tmp_path):
    """8192^4 x 4096 = 2^64 points: np.prod wrapped to 0 and passed the cap; the exact count
    is refused before any point is enumerated."""
    axes = {"source.alpha": (2.0, 2.5, 8192), "source.r_Q_kpc": (1.0, 9.0, 8192),
            "source.E_cut_eV": (1e15, 1e18, 8192), "diffusion.delta": (0.3, 0.6, 8192),
            "observer.r_sun_kpc": (8.0, 8.5, 4096)}
    text = "[parameters]\n" + "".join(f'"{k}" = {{min = {lo}, max = {hi}, n = {n}}}\n'
                                      for k, (lo, hi, n) in axes.items())
    with pytest.raises(scan_mod.ScanError, match=f"the grid has {2 ** 64} points: at most 100000"):
        _scan(tmp_path, text)


def test_scan_where_every_point_failed_exits_nonzero(tmp_path, capsys, monkeypatch):
    """Every point failed: exit status 1, the failures listed (index, parameters, error), no
    (empty) corner plot. Points run in this process (a synchronous executor): what is tested
    is the command's verdict, not the pool."""
    scan_file = tmp_path / "s.toml"
    scan_file.write_text('evaluation = "direct"\n[parameters]\n"source.alpha" = [2.1, 2.2]\n')
    monkeypatch.setenv("CORONA_MEMORY_LIMIT_BYTES", "1000")

    class Inline:
        map = staticmethod(map)

    monkeypatch.setattr(scan_mod, "task_executor",
                        lambda max_workers=None: __import__("contextlib").nullcontext(Inline()))
    status, out, err = _cli(["scan", str(scan_file), "-o", str(tmp_path / "o"), "--plot"], capsys)
    assert status == 1
    assert "failed points (2 of 2" in out and "point 1 (source.alpha = 2.2)" in out and "memory" in out
    assert "no corner plot" in out and not (tmp_path / "o" / "scan_corner.png").exists()
    assert "every point failed" in err[-1]
    with h5py.File(tmp_path / "o" / "scan_summary.h5", "r") as fh:
        assert list(fh["status"][()]) == [b"failed", b"failed"]


# --------------------------------------------------------------------------- 5: checkpoints
def _toy(seed):
    def simulate(b):
        return parallel.batch_generator(seed, b).random(5)
    return simulate


def _forge_checkpoint(path, done, hi, n_batches=40, fingerprint="x"):
    """A checkpoint with valid fingerprint and checksums (resealed after the damage), in both
    the old layout (attributes the former reader trusted) and the sealed one."""
    with atomic_hdf5(path) as fh:
        fh.attrs["fingerprint"] = fingerprint
        fh.attrs["batches_done"] = done
        fh["hi"], fh["lo"] = hi, np.zeros_like(hi)
        seal(fh, parallel.CHECKPOINT_KIND, parallel._checkpoint_claims(fingerprint, n_batches, (5,)))


@pytest.mark.parametrize("done, hi, why", [
    (50, np.ones(5), "batches_done = 50 is outside 1 ... 40"),
    (20, np.full(5, np.nan), "hi has 5 non-finite value(s)"),
    (20, np.ones(6), "hi has shape (6,), expected (5,)"),
    (None, None, "not a readable HDF5 file"),
])
def test_insane_checkpoint_is_reported_and_the_run_starts_over(tmp_path, done, hi, why):
    """Case 5: a checkpoint with a valid fingerprint but batches_done beyond the total (gave
    40 % of the truth), NaN sums (a NaN map), a wrong shape (a traceback) or truncated is
    reported and the run starts over: the sum equals an uninterrupted run's exactly."""
    ck = tmp_path / "run.ckpt.h5"
    if done is None:
        ck.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 40)
    else:
        _forge_checkpoint(ck, done, hi)
    with pytest.warns(RebuildWarning, match=why.replace("(", r"\(").replace(")", r"\)")):
        got = parallel.run_batches(_toy(9), 40, (5,), checkpoint_path=ck, chunk_batches=10,
                                   fingerprint="x", progress=False)
    full = parallel.run_batches(_toy(9), 40, (5,), chunk_batches=10, progress=False)
    assert got.resumed_from == 0
    np.testing.assert_array_equal(got.total, full.total)


def test_part_file_truncated_or_altered_is_recomputed(tmp_path):
    """A truncated or altered OUT.h5.part-*.h5 (a traceback before) is reported and the
    component computed again; a sound one is used; one of another run is ignored."""
    problem = SimpleNamespace(fingerprint="f", E=np.zeros(2), n_cols=4)
    part = tmp_path / "o.h5.part-corona-gamma.h5"
    with atomic_hdf5(part) as fh:
        fh.attrs["n_ranks"] = 2
        fh["total"] = np.ones((3, 4))
        seal(fh, mc_cmd.PART_KIND, mc_cmd._part_claims(problem, "corona-gamma"))
    total, n_ranks = mc_cmd._finished(part, problem, "corona-gamma")
    assert n_ranks == 2 and total.shape == (3, 4)
    assert mc_cmd._finished(part, SimpleNamespace(fingerprint="g", E=np.zeros(2), n_cols=4),
                            "corona-gamma") is None
    with h5py.File(part, "r+") as fh:
        fh["total"][0, 0] = 7.0
    with pytest.warns(RebuildWarning, match="checksum mismatch in total"):
        assert mc_cmd._finished(part, problem, "corona-gamma") is None
    part.write_bytes(part.read_bytes()[:300])
    with pytest.warns(RebuildWarning, match="not a readable HDF5 file"):
        assert mc_cmd._finished(part, problem, "corona-gamma") is None


# --------------------------------------------------------------------------- sizes, emission
def test_photon_count_beyond_the_batch_limit_is_refused_with_time_estimate():
    """mc.n_photons = 1e15 (allowed) needs 3e10 batches of the default size, above 2^32: refused
    before anything runs, naming the keys and the fix; a long run is announced with its time."""
    cfg = load_config(None, overrides={"mc.n_photons": 10 ** 15})
    with pytest.raises(CoronaError, match=r"mc\.n_photons = 1000000000000000 with mc\.batch_photons "
                                          r"= 32768 needs 30517578125 batches.*at least 232831"):
        mc_cmd.check_mc_section(cfg)
    big = load_config(None, overrides={"mc.n_photons": 10 ** 12, "mc.batch_photons": 10 ** 6})
    with pytest.warns(RuntimeWarning, match="core-hours"):
        assert warn_if_mc_slow(big) > 3600
    assert "1e+12 histories" in mc_cmd.size_line(big) and "core-hours" in mc_cmd.size_line(big)
    with pytest.raises(CoronaError, match="2\\^32"):
        parallel.run_batches(_toy(1), 2 ** 32 + 1, (5,), progress=False)


def _emission_file(path, q):
    table = SphericalEmission([1.0, 10.0, 100.0], [1e12, 1e14, 1e16], q)
    with atomic_hdf5(path) as fh:
        write_emissions(fh, {"corona": {"gamma": table}})


def test_emission_file_string_dataset_or_zero_table_is_one_line(tmp_path, capsys):
    """`corona mc --emission` with a string dataset (a traceback before) or a table that is
    zero everywhere (a NaN dipole before) is refused with one line naming the file (exit 2);
    a zero map's dipole and contrast are 0 by definition, not 0/0."""
    bad = tmp_path / "string.h5"
    _emission_file(bad, np.ones((3, 3)))
    with h5py.File(bad, "r+") as fh:
        attrs = dict(fh["emission/corona/gamma"].attrs)
        del fh["emission/corona/gamma"]
        fh["emission/corona/gamma"] = "abc"
        fh["emission/corona/gamma"].attrs.update(attrs)
    zero = tmp_path / "zero.h5"
    _emission_file(zero, np.zeros((3, 3)))
    for path, message in ((bad, "checksum mismatch in corona/gamma"), (zero, "zero everywhere")):
        status, _, err = _cli(["mc", "--emission", str(path), "-o", str(tmp_path / "o.h5"), "-q",
                               "--set", "mc.E_eV=[1e14]"], capsys)
        assert status == 2 and len(err) == 1 and str(path) in err[0] and message in err[0], err
    assert dipole(np.zeros(48)) == (0.0, 0.0, 0.0) and contrast(np.zeros((2, 48))).tolist() == [0, 0]


# --------------------------------------------------------------------------- MPI
def _mpirun(args, cwd, timeout=240):
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    cmd = [str(MPIRUN), "-n", "2", sys.executable, "-m", "montecarlo.cli"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


@needs_mpirun
def test_mpi_truncated_checkpoint_in_corona_run_with_mc(saved, tmp_path):
    """`mpirun -n 2 corona run --set pipeline.mc=on` with a truncated MC checkpoint in DIR/cache
    (ranks ended in mismatched broadcasts: "too many values to unpack", exit 1): rank 0 reports
    it once, every rank starts the Monte Carlo over, and the run finishes (exit 0) with the
    same MC summary as a clean run in one process (rank-independent batches: rtol 1e-12)."""
    from montecarlo.pipeline.run import run_model
    from montecarlo.propagation.api import prepare
    small = {**TINY, "pipeline.mc": "on", "mc.n_photons": 2000, "mc.batch_photons": 500,
             "mc.checkpoint_batches": 1, "mc.nside": 4, "mc.E_eV": [1e14], "mc.fields": ["cmb"],
             "mc.regions": ["all_sky"]}
    cfg = load_config(None, overrides=small)
    out = tmp_path / "run"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = run_model(cfg, out, figures=False, say=lambda t: None)
    m = cfg.mc
    problem = prepare(clean["emission"].result["corona"]["gamma"], m.E_eV, m.nside, tuple(m.fields),
                      m.n_photons, m.seed, m.estimator, cfg, tuple(m.regions), m.batch_photons)
    ckpt = out / "cache" / f"mc-{problem.fingerprint[:20]}.ckpt.h5"
    ckpt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)          # truncated
    for name in ("mc", "summary"):
        (out / "cache" / f"{name}.h5").unlink()
    proc = _mpirun(["run", "-o", str(out), "--no-figures", "-q", *_sets(small)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("not a readable HDF5 file") == 1, proc.stderr[-3000:]
    with h5py.File(out / RUN_FILE, "r") as fh:
        summary = dict(fh["stages/summary"].attrs)
    for key, value in clean["summary"].result.items():
        if key.startswith("mc_"):
            assert summary[key] == pytest.approx(value, rel=1e-12, abs=0), key


@needs_mpirun
def test_mpi_corrupt_emission_file_is_one_line_on_every_rank(tmp_path):
    """`mpirun -n 2 corona mc --emission CORRUPT`: every rank agrees, the error is printed once,
    exit 2, no traceback, no hang."""
    bad = tmp_path / "bad.h5"
    _emission_file(bad, np.ones((3, 3)))
    with h5py.File(bad, "r+") as fh:
        fh["emission/corona/gamma"][0, 0] = 2.0
    proc = _mpirun(["mc", "--emission", str(bad), "-o", str(tmp_path / "o.h5"), "-q",
                    "--set", "mc.E_eV=[1e14]"], tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.count("checksum mismatch in corona/gamma") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
