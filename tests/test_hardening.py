"""Hostile input, outputs, caches and signals (issue: hardening; docs/robustness.md).

One test (or more) per class: 1 cache tamper, 2 memory estimates, 3 unreadable inputs,
4 output paths, 5 signals and stale temporary files, 6 messages, 7 small things."""
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import transport
from transport.core import safety
from transport.core.errors import ArgumentError, ConfigError, DataFileError
from transport.core.estimates import check_memory, transport_bytes, warn_if_slow
from transport.core.output import atomic_hdf5
from transport.cosmicrays import solver

from montecarlo import cli
from montecarlo.opacity import ratetables
from montecarlo.opacity.api import Opacity
from montecarlo.pipeline import commands
from montecarlo.pipeline.preflight import check_config_inputs


def run_cli(argv, capsys):
    """(exit status, stderr lines) of the corona command run in this process."""
    status = cli.main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return status, err


@pytest.fixture
def no_compute(monkeypatch):
    """Any solve means a check came too late."""
    def forbidden(*a, **k):
        raise AssertionError("computation started before the input/output checks")
    monkeypatch.setattr(commands, "solve", forbidden)
    monkeypatch.setattr(commands, "opacity_for", forbidden)


# --------------------------------------------------------------------------- 1 cache tamper
def _flip_exponent_bit(path, name, index):
    with h5py.File(path, "r+") as fh:
        data = fh[name][()]
        bits = data.view(np.uint64)
        bits[index] ^= np.uint64(1 << 60)          # an exponent bit: the value changes by 2^512
        fh[name][...] = data


def test_tampered_cache_is_detected_and_rebuilt(tmp_path):
    """One flipped exponent bit in the cached CMB rate_per_cm (the issue's case: the survival
    probability at 2.4 PeV dropped 0.30 -> 0.09 silently) must be caught by the stored SHA-256
    and the table rebuilt: same probability to rtol 1e-12 (a rebuild is deterministic)."""
    cfg = transport.load_config({"opacity.cache_dir": str(tmp_path)})
    E = np.array([2.4e15])
    expected = Opacity(cfg).survival_probability(E, 0.0, 0.0, 8.5, ("cmb",))
    assert 0.05 < expected[0] < 0.95                # the CMB matters here, so tampering would show
    (path,) = tmp_path.glob("cmb-*.h5")
    with h5py.File(path, "r") as fh:
        k = int(np.argmin(np.abs(fh["E_eV"][()] - 2.4e15)))
    _flip_exponent_bit(path, "rate_per_cm", k)
    with pytest.warns(ratetables.CacheWarning, match="checksum mismatch in rate_per_cm"):
        got = Opacity(cfg).survival_probability(E, 0.0, 0.0, 8.5, ("cmb",))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    with warnings.catch_warnings():                 # the rebuilt file is clean again
        warnings.simplefilter("error", ratetables.CacheWarning)
        Opacity(cfg).survival_probability(E, 0.0, 0.0, 8.5, ("cmb",))


def test_insane_cache_with_matching_checksum_is_rebuilt(tmp_path):
    """A table whose checksum was recomputed after the damage still fails the sanity checks
    (negative rate) and is rebuilt."""
    cfg = transport.load_config({"opacity.cache_dir": str(tmp_path)})
    expected = Opacity(cfg).cmb.ln_rate.copy()
    (path,) = tmp_path.glob("cmb-*.h5")
    with h5py.File(path, "r+") as fh:
        data = fh["rate_per_cm"][()]
        data[-1] = -data[-1]                        # a non-zero rate made negative
        fh["rate_per_cm"][...] = data
        fh["rate_per_cm"].attrs["sha256"] = ratetables.array_digest(data)
    with pytest.warns(ratetables.CacheWarning, match="negative"):
        got = Opacity(cfg).cmb.ln_rate
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_table_sanity_checks():
    good = {"E_eV": np.array([1.0, 2.0, 3.0]), "rate_per_cm": np.array([0.0, 1.0, 2.0])}
    assert ratetables.table_problem(good) is None
    assert "monotonic" in ratetables.table_problem({**good, "E_eV": np.array([1.0, 3.0, 2.0])})
    assert "NaN" in ratetables.table_problem({**good, "rate_per_cm": np.array([0.0, np.nan, 1.0])})
    assert "negative" in ratetables.table_problem({**good, "rate_per_cm": np.array([0.0, -1.0, 1.0])})


def test_read_only_cache_warns_once(tmp_path):
    """A cache directory that cannot be created says so once, then the tables live in memory."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cfg = transport.load_config({"opacity.cache_dir": str(blocker / "cache")})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Opacity(cfg).cmb
        Opacity(cfg).cmb
    said = [w for w in caught if issubclass(w.category, ratetables.CacheWarning)]
    assert len(said) == 1 and "cannot cache" in str(said[0].message)


# --------------------------------------------------------------------------- 2 memory
@pytest.mark.parametrize("overrides, key", [
    ({"time.dt_max_gyr": 1e-12}, "time.dt_max_gyr = 1e-12"),
    ({"galaxy.z_step_kpc": 1e-9}, "galaxy.z_step_kpc = 1e-09"),
    ({"sky.nside": 2048}, "sky.nside = 2048"),
])
def test_memory_estimate_refuses_what_cannot_fit(overrides, key, monkeypatch):
    """The issue's sizes (745 GiB, 30 GiB) against a 16 GiB machine: one ConfigError naming
    the key and both numbers, before anything is allocated."""
    monkeypatch.setenv("CORONA_MEMORY_LIMIT_BYTES", str(16 * 2 ** 30))
    cfg = transport.load_config(overrides)
    with pytest.raises(ConfigError, match=r"needs ~[\d.]+ [GTP]iB of memory but 16 GiB") as exc:
        check_memory(cfg, ("transport", "emission", "sky"))
    assert key in str(exc.value)
    if "time" in key:                               # the library entry point checks too
        with pytest.raises(ConfigError, match="time.dt_max_gyr"):
            transport.solve(cfg)


def test_memory_estimate_is_the_size_of_the_arrays(monkeypatch):
    """The default model fits in 100 MiB; refining the grid scales the estimate with the
    solver's number of cells n_E x n_r (within 5 %: the estimate's radial count is an upper
    bound of a few cells); a tiny dt is dominated by the history chunk, 2 x 8 bytes per 1 %
    of the steps."""
    monkeypatch.setenv("CORONA_MEMORY_LIMIT_BYTES", str(100 * 2 ** 20))
    base = transport.load_config()
    check_memory(base)                                 # accepted
    fine = transport.load_config({"grid.E_per_decade": 40, "grid.cells_per_decade": 160})
    cells = [solver.energy_grid(c).size * solver.build_problem(c).grid.size for c in (base, fine)]
    ratio = transport_bytes(fine) / transport_bytes(base)
    assert ratio == pytest.approx(cells[1] / cells[0], rel=0.05, abs=0)
    huge = transport.load_config({"time.dt_max_gyr": 1e-9})
    assert transport_bytes(huge) == pytest.approx(2 * 8 * 10 / 1e-9 / 100, rel=0.05, abs=0)


def test_slow_runs_are_announced():
    """A run the time estimate puts beyond an hour says so (and which keys drive it)."""
    with pytest.warns(RuntimeWarning, match=r"~\d+(\.\d+)? h .*time.dt_max_gyr = 1e-06"):
        warn_if_slow(transport.load_config({"time.dt_max_gyr": 1e-6}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_slow(transport.load_config()) < 60.0


def test_survival_per_decade_refused(capsys, monkeypatch, no_compute):
    monkeypatch.setenv("CORONA_MEMORY_LIMIT_BYTES", str(16 * 2 ** 30))
    status, err = run_cli(["survival", "--l", "0", "--b", "0", "--distance-kpc", "8",
                           "--per-decade", "100000000"], capsys)
    assert status == 2 and len(err) == 1 and "--per-decade" in err[0] and "GiB" in err[0]


# --------------------------------------------------------------------------- 3 unreadable inputs
def _make_input(kind, tmp_path):
    path = tmp_path / "cfg.toml"
    if kind == "binary":
        path.write_bytes(b"\x00\x01\x02\xff[source]\n")
    elif kind == "latin1":
        path.write_bytes('[source]\nalpha = 2.2 # "café"\n'.encode("latin-1"))
    elif kind == "loop":
        os.symlink(tmp_path / "b", tmp_path / "a")
        os.symlink(tmp_path / "a", tmp_path / "b")
        path = tmp_path / "a"
    elif kind == "directory":
        path = tmp_path
    elif kind == "unreadable":
        path.write_text("[source]\nalpha = 2.2\n")
        path.chmod(0)
    return path


@pytest.mark.parametrize("kind, fragment", [
    ("binary", "binary file"), ("latin1", "not UTF-8"), ("loop", "symbolic link loop"),
    ("directory", "is a directory"), ("unreadable", "no read permission")])
def test_unreadable_config_is_one_line(kind, fragment, tmp_path, capsys):
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads files without read permission")
    path = _make_input(kind, tmp_path)
    status, err = run_cli(["config", "show", str(path)], capsys)
    assert status == 2 and len(err) == 1 and fragment in err[0] and str(path) in err[0]


@pytest.mark.parametrize("content", [b"\x89HDF\r\n\x1a\n\x00\x00garbage", b"1 2 3\n4 5\n",
                                     b"-----------\n1 2 3 4 nan\n", "λ κ\n".encode("utf-16")])
def test_garbage_data_files_named_by_config_keys(content, tmp_path, capsys, no_compute):
    """dust.kappa_file, fields.tabulated_file and sky.mask_file holding garbage: one line,
    exit 2, before any computation."""
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    for key, argv in [("dust.kappa_file", ["survival", "--l", "0", "--b", "0",
                                           "--distance-kpc", "8", "--fields", "dust"]),
                      ("fields.tabulated_file", ["survival", "--l", "0", "--b", "0",
                                                 "--distance-kpc", "8", "--fields", "tabulated"]),
                      ("sky.mask_file", ["sky", "-o", str(tmp_path / "s.h5")])]:
        status, err = run_cli(argv + ["--set", f'{key}="{bad}"'], capsys)
        assert status == 2 and len(err) == 1, (key, err)
        assert str(bad) in err[0] or "bad.txt" in err[0], (key, err)


def test_garbage_fits_mask_is_a_data_file_error(tmp_path):
    bad = tmp_path / "mask.fits"
    bad.write_bytes(b"SIMPLE  = garbage" * 40)
    cfg = transport.load_config({"sky.mask_file": str(bad)})
    with pytest.raises(DataFileError, match="not a HEALPix FITS map"):
        check_config_inputs(cfg, fields=())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_random_config_file_contents_raise_only_config_error(tmp_path, content):
    path = tmp_path / "fuzz.toml"
    path.write_bytes(content)
    try:
        transport.load_config(path)
    except ConfigError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_random_data_file_contents_raise_only_data_file_error(tmp_path, content):
    path = tmp_path / "fuzz.txt"
    path.write_bytes(content)
    try:
        table = safety.read_numeric_table(path)
    except DataFileError:
        return
    assert table.ndim == 2 and np.all(np.isfinite(table))


# --------------------------------------------------------------------------- 4 output paths
def _touch(path):
    path.write_text("x")
    return path


@pytest.mark.parametrize("make, fragment", [
    (lambda d: "", "not allowed"),
    (lambda d: _touch(d / "f") / "x.h5", "is a file, not a directory"),
    (lambda d: str(d), "is a directory"),
    (lambda d: _touch(d / "old.h5"), "pass --overwrite"),
    (lambda d: "/proc/corona-test/x.h5", "/proc"),
])
@pytest.mark.parametrize("command", ["transport", "sky"])
def test_bad_output_is_refused_before_computing(make, fragment, command, tmp_path, capsys,
                                                no_compute):
    status, err = run_cli([command, "-q", "-o", str(make(tmp_path))], capsys)
    assert status == 2 and len(err) == 1 and fragment in err[0], err


def test_figures_outdir_and_survival_plot_checked_first(tmp_path, capsys, no_compute):
    (tmp_path / "f").write_text("x")
    status, err = run_cli(["figures", "transport", "--outdir", str(tmp_path / "f")], capsys)
    assert status == 2 and "is a file" in err[0]
    status, err = run_cli(["survival", "--l", "0", "--b", "0", "--distance-kpc", "8",
                           "--plot", str(tmp_path / "f" / "p.png")], capsys)
    assert status == 2 and "is a file, not a directory" in err[0]


def test_atomic_writer_reports_the_real_error(tmp_path):
    """The writer's cleanup used to mask the error (NotADirectoryError from unlink)."""
    (tmp_path / "f").write_text("x")
    with pytest.raises(ArgumentError, match="is a file, not a directory"):
        with atomic_hdf5(tmp_path / "f" / "x.h5"):
            pass
    with pytest.raises(RuntimeError, match="inner"):      # an error in the block stays itself
        with atomic_hdf5(tmp_path / "y.h5"):
            raise RuntimeError("inner")
    assert not list(tmp_path.glob(".y.h5.tmp-*")) and not (tmp_path / "y.h5").exists()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from("ab./ \\~-_\x00é"), max_size=12))
def test_random_output_paths_raise_only_argument_error(tmp_path, name):
    try:
        safety.check_output_path(name if name.startswith("/") else tmp_path / name if name else "",
                                 overwrite=False)
    except (ArgumentError, ValueError) as exc:          # ValueError: NUL byte in a path
        assert isinstance(exc, ArgumentError) or "null" in str(exc).lower()


# --------------------------------------------------------------------------- 5 signals
def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    stale = tmp_path / f".run.h5.tmp-{_dead_pid()}"
    live = tmp_path / f".run.h5.tmp-{os.getpid()}"
    other = tmp_path / ".notes.tmp"
    for p in (stale, live, other):
        p.write_text("x")
    safety.check_output_path(tmp_path / "run.h5", overwrite=False)
    assert not stale.exists() and live.exists() and other.exists()


SIGTERM_SCRIPT = textwrap.dedent("""
    import sys, time
    from transport.cosmicrays import solver
    from montecarlo import cli
    original = solver.TransportSolution.write_groups
    def slow(self, fh, *a, **k):
        original(self, fh, *a, **k)
        print("writing", flush=True)
        time.sleep(60)
    solver.TransportSolution.write_groups = slow
    sys.exit(cli.main(["transport", "-q", "-o", sys.argv[1], "--set", "grid.E_per_decade=2",
                       "--set", "grid.cells_per_decade=12", "--set", 'emission.models=["corona"]',
                       "--set", 'emission.particles=["gamma"]']))
""")


def test_sigterm_during_a_write_leaves_nothing(tmp_path):
    """SIGTERM (what schedulers send at the time limit) in the middle of the HDF5 write:
    exit 143 with one line, no output file and no hidden .NAME.tmp-PID file."""
    out = tmp_path / "t.h5"
    proc = subprocess.Popen([sys.executable, "-c", SIGTERM_SCRIPT, str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()               # blocks until the write is under way
        assert line.strip() == "writing", proc.stderr.read()
        assert list(tmp_path.glob(".t.h5.tmp-*"))   # the temporary file exists now
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=60)
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert status == 128 + signal.SIGTERM, err
    assert "terminated by signal" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- 6 messages
def test_tiny_r_min_is_a_clear_range_error_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ConfigError, match=r"grid.r_min_kpc = 1e-300 .*outside|grid.r_min_kpc"):
            transport.load_config({"grid.r_min_kpc": 1e-300})


def test_huge_Q0_is_a_clear_error():
    with pytest.raises(ConfigError, match="normalization.Q0_cm3_s_eV") as exc:
        transport.load_config({"normalization.mode": "rate", "normalization.Q0_cm3_s_eV": 1e300})
    assert "nan" not in str(exc.value).lower()


def test_r_sun_beyond_the_dust_tables_names_r_sun():
    with pytest.raises(ConfigError, match=r"^observer.r_sun_kpc = 150 .* must be <= 146"):
        transport.load_config({"observer.r_sun_kpc": 150})


def test_bare_key_suggests_its_section():
    with pytest.raises(ConfigError, match="did you mean 'source.alpha'"):
        transport.load_config({"alpha": 2.0})


# --------------------------------------------------------------------------- 7 small things
def test_version_and_help_show_what_users_expect(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("corona 0.")
    for command, default in [("transport", "runs/transport.h5"), ("sky", "runs/sky.h5"),
                             ("figures", "runs/figures")]:
        with pytest.raises(SystemExit):
            cli.main([command, "--help"] if command != "figures" else [command, "transport", "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert f"default: {default}" in text
        assert command == "figures" or "--overwrite" in text


def test_overwrite_flag_replaces_an_existing_output(tmp_path, capsys):
    out = tmp_path / "t.h5"
    out.write_text("old")
    small = ["--set", "grid.E_per_decade=2", "--set", "grid.cells_per_decade=12",
             "--set", 'emission.models=["corona"]', "--set", 'emission.particles=["gamma"]']
    status, err = run_cli(["transport", "-q", "-o", str(out)] + small, capsys)
    assert status == 2 and "--overwrite" in err[0] and out.read_text() == "old"
    status, err = run_cli(["transport", "-q", "--overwrite", "-o", str(out)] + small, capsys)
    assert status == 0 and h5py.is_hdf5(out)
