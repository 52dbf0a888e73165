"""`corona scan`: scan-file checks (and fuzzing: only clear errors), samplers, and the fault
injection of a scan under `mpirun -n 2` (killed part-way, restarted: same results as an
uninterrupted run, nothing lost, nothing computed twice)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transport.core.errors import ConfigError

from montecarlo.pipeline.scan import (ScanError, parse_scan, point_path, read_point, run_point,
                                      scan_from_mapping, write_summary)

TINY_SET = {"grid.cells_per_decade": 12, "grid.E_per_decade": 4, "time.dt_max_gyr": 0.5,
            "emission.E_per_decade": 3, "sky.nside": 2, "sky.E_per_decade": 1,
            "sky.fields": ["cmb"], "sky.regions": ["tibet_A"]}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ('method = "mcmc"\n[parameters]\n"source.alpha" = [2.0]', "method = 'mcmc' is not allowed"),
    ('[parameters]\n"source.beta" = [2.0]', 'no config key "source.beta"'),
    ('[parameters]\n"source.alpha" = {min = 2.4, max = 2.0, n = 2}', "min = 2.4 must be below max = 2"),
    ('method = "lhs"\n[parameters]\n"source.alpha" = {min = 2.0, max = 2.4}', "n_points = None"),
    ('method = "lhs"\nn_points = 4\n[parameters]\n"source.alpha" = [2.0, 2.4]', "expected {min, max"),
    ('[parameters]\n"diffusion.D0_cm2_s" = {min = 0.0, max = 1e30, n = 3, log = true}', "log = true needs min > 0"),
    ('colour = 1\n[parameters]\n"source.alpha" = [2.0]', "unknown key(s) colour"),
    ('[set]\n"sky.nside" = 3\n[parameters]\n"source.alpha" = [2.0]', "sky.nside = 3"),
    ('[parameters]', "[parameters] is empty"),
    ('base = "missing.toml"\n[parameters]\n"source.alpha" = [2.0]', "does not exist"),
])
def test_bad_scan_files_give_one_clear_error(tmp_path, text, message):
    with pytest.raises(ScanError) as err:
        parse_scan(_write(tmp_path / "scan.toml", text))
    assert message in str(err.value)


def test_samplers_fill_their_ranges(tmp_path):
    grid = parse_scan(_write(tmp_path / "g.toml", '[parameters]\n"diffusion.D0_cm2_s" = '
                             '{min = 1e28, max = 1e30, n = 3, log = true}\n"source.alpha" = [2.0, 2.2, 2.4]'))
    assert grid.points.shape == (9, 2)
    np.testing.assert_allclose(sorted(set(grid.points[:, 0])), [1e28, 1e29, 1e30], rtol=1e-12, atol=0)
    for method in ("lhs", "sobol"):
        s = parse_scan(_write(tmp_path / f"{method}.toml", f'method = "{method}"\nn_points = 16\n'
                              'seed = 3\n[parameters]\n"source.alpha" = {min = 2.0, max = 2.6}\n'
                              '"diffusion.D0_cm2_s" = {min = 1e28, max = 1e30, log = true}'))
        x = s.points.astype(float)
        assert x.shape == (16, 2)
        assert np.all((x[:, 0] >= 2.0) & (x[:, 0] <= 2.6)) and np.all((x[:, 1] >= 1e28) & (x[:, 1] <= 1e30))
        if method == "lhs":      # one point in each of the 16 strata of every parameter
            strata = np.floor((np.log10(x[:, 1]) - 28.0) / 2.0 * 16).astype(int)
            assert sorted(strata) == list(range(16))


_values = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=4), st.booleans(), st.lists(st.floats(-3, 3), max_size=3))
_param = st.one_of(st.lists(_values, max_size=3),
                   st.dictionaries(st.sampled_from(["min", "max", "n", "log", "step"]), _values, max_size=4),
                   _values)
_keys = st.sampled_from(["source.alpha", "diffusion.D0_cm2_s", "sky.nside", "gas.profile", "nope.key",
                         "source", "grid.E_per_decade"])
_scan = st.fixed_dictionaries({}, optional={
    "method": st.sampled_from(["grid", "lhs", "sobol", "x", 3]),
    "n_points": _values, "seed": _values, "evaluation": st.sampled_from(["fast", "direct", ""]),
    "base": st.sampled_from(["", "nothere.toml", 5]),
    "set": st.dictionaries(_keys, _values, max_size=2),
    "parameters": st.one_of(st.dictionaries(_keys, _param, max_size=3), _values),
    "extra": _values})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scan)
def test_fuzzed_scan_files_only_give_clear_errors(raw):
    """Any scan mapping either parses into finite points or raises ScanError / ConfigError."""
    try:
        scan = scan_from_mapping(raw, Path("fuzz.toml"))
    except ConfigError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert len(scan.points) >= 1 and scan.points.shape[1] == len(scan.names)


# --------------------------------------------------------------------------- fault injection
def _mpirun():
    exe = Path(sys.executable).parent / "mpirun"
    return str(exe) if exe.exists() else None


def _scan_file(tmp_path) -> Path:
    lines = ['method = "grid"', 'evaluation = "direct"', "[set]"]
    lines += [f'"{k}" = {json.dumps(v)}' for k, v in {**TINY_SET, "sky.nside": 4}.items()]
    lines += ["[parameters]", '"diffusion.D0_cm2_s" = [1.0e29, 1.0e30]', '"source.alpha" = [2.1, 2.4]']
    return _write(tmp_path / "scan.toml", "\n".join(lines) + "\n")


@pytest.mark.skipif(_mpirun() is None, reason="no mpirun beside the interpreter (extra 'mpi')")
def test_killed_scan_resumes_without_loss_or_repeats(tmp_path, wait_released):
    scan_path = _scan_file(tmp_path)
    scan = parse_scan(scan_path)
    n = len(scan.points)
    # uninterrupted reference, point by point in this process
    ref = tmp_path / "ref"
    (ref / "points").mkdir(parents=True)
    for i in range(n):
        run_point((str(ref), i, scan.overrides(i), scan.base, scan.evaluation, scan.digest))
    out = tmp_path / "killed"
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    cmd = [_mpirun(), "-n", "2", sys.executable, "-m", "montecarlo.cli", "scan", str(scan_path),
           "-o", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if len(list((out / "points").glob("point_*.h5"))) >= 1:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)            # the whole job, at once
    proc.wait(timeout=30)
    before = {p.name: read_point(p) for p in (out / "points").glob("point_*.h5")}
    assert 1 <= len(before) < n, f"kill came too late or too early: {len(before)} of {n} done"
    wait_released(out / ".corona.lock")            # the ranks die a moment after mpirun
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{n - len(before)} computed (0 failed), {len(before)} finished before" in done.stdout
    assert "1 worker (mpirun -n 2: rank 0 distributes the points" in done.stdout   # says so
    lines = done.stdout.splitlines()
    table = lines[next(k for k, line in enumerate(lines) if line.startswith("point ")):]
    assert "diffusion.D0_cm2_s" in table[0] and "nu/IceCube@100TeV" in table[0]
    assert len(table) == 2 + n and all(" ok " in row for row in table[2:])
    for i in range(n):
        got, want = read_point(point_path(out, i)), read_point(point_path(ref, i))
        assert got["status"] == want["status"] == "ok"
        name = point_path(out, i).name
        if name in before:                         # finished before the kill: not computed again
            assert (got["created_utc"], got["pid"]) == (before[name]["created_utc"], before[name]["pid"])
        np.testing.assert_allclose(got["gamma_all_sky"], want["gamma_all_sky"], rtol=1e-12, atol=0)
        np.testing.assert_allclose(got["nu_dipole"], want["nu_dipole"], rtol=1e-12, atol=0)
        for key, value in want["scalars"].items():
            assert got["scalars"][key] == pytest.approx(value, rel=1e-12, abs=0)
    write_summary(scan, ref)
    with h5py.File(out / "scan_summary.h5", "r") as a, h5py.File(ref / "scan_summary.h5", "r") as b:
        assert list(a["status"][()]) == [b"ok"] * n
        np.testing.assert_allclose(a["spectra/gamma_all_sky"][()], b["spectra/gamma_all_sky"][()],
                                   rtol=1e-12, atol=0)


def test_failing_point_is_recorded_and_scan_refuses_changes(tmp_path, monkeypatch):
    """A point that fails when it runs (here: the memory check refuses it) is written as
    "failed" with its error; a changed scan file is refused for the same directory."""
    scan = parse_scan(_write(tmp_path / "s.toml", '[parameters]\n"source.r_Q_kpc" = [5.0]'))
    monkeypatch.setenv("CORONA_MEMORY_LIMIT_BYTES", "1000")
    index, status, _ = run_point((str(tmp_path / "out"), 0, scan.overrides(0), scan.base,
                                  scan.evaluation, scan.digest))
    info = read_point(point_path(tmp_path / "out", 0))
    assert (index, status, info["status"]) == (0, "failed", "failed")
    assert "memory" in info["error"]
    from montecarlo.pipeline.scan import _check_directory
    _check_directory(scan, tmp_path / "out")
    changed = parse_scan(_write(tmp_path / "s.toml", '[parameters]\n"source.r_Q_kpc" = [6.0]'))
    with pytest.raises(ScanError, match="was started by a different scan"):
        _check_directory(changed, tmp_path / "out")
