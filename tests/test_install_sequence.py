"""The README's quick start run in order in one clone and one environment: a regular install
that runs a cached numba kernel, then an editable install, must leave a working `corona`.

Before numba's cache was moved to the project's cache directory, the regular install's kernels
were cached in site-packages/transport/__pycache__; `pip install -e` uninstalled the package
but left those folders, which then shadowed the editable install as empty namespace packages
("cannot import name 'build_emissions' from 'transport' (unknown location)").

The test is offline and small: the scratch environment has no pip of its own and sees this
environment's dependencies through a path file (nothing is downloaded); only the project is
built, with --no-deps --no-build-isolation --no-index.
"""
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from transport.core import cachedir

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("transport", "montecarlo", "inputs", "setup.cfg", "pyproject.toml", "README.md")
KERNEL = ("import numpy as np; from transport.emission.table_kernels import axis_index, locate; "
          "nodes = np.linspace(0.0, 1.0, 11); hint, lookup = axis_index(nodes); "
          "print(locate(nodes, hint, lookup, 0.55))")


def _clone(dest: Path) -> Path:
    """The files a clone holds that the build reads (no caches, no build outputs)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.nbi", "*.nbc", "build")
    for name in PROJECT:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


def _scratch_env(path: Path) -> Path:
    """A venv without pip that sees this interpreter's site-packages (not its .pth files, so
    not this checkout's own editable install); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    ours = {str(Path(p).resolve()) for p in site.getsitepackages() + [sysconfig.get_paths()["purelib"]]}
    (Path(purelib) / "corona_test_deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    return python


def _run(cmd, env, cwd):
    done = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _pip_install(python, *args, env, cwd):
    return _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                 "--no-build-isolation", "--no-index", "--disable-pip-version-check", "-q", *args],
                env, cwd)


@pytest.mark.skipif(os.name == "nt", reason="POSIX venv layout")
def test_regular_then_editable_install_leaves_a_working_corona(tmp_path):
    clone = _clone(tmp_path / "clone")
    python = _scratch_env(tmp_path / "venv")
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    env["CORONA_CACHE_DIR"] = str(cache)
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        env, tmp_path).strip())

    # quick start 1: a regular install that runs (and caches) a kernel
    _pip_install(python, ".", env=env, cwd=clone)
    assert _run([python, "-c", KERNEL], env, tmp_path).strip() == "5"     # 0.55 lies in [0.5, 0.6)
    assert sorted(cache.glob("numba/**/*.nbi")), "the kernel was not cached in $CORONA_CACHE_DIR/numba"
    assert not sorted(purelib.glob("**/*.nbi")), "numba cached kernels inside site-packages"

    # quick start 2: the editable install replaces it in the same environment
    _pip_install(python, "-e", ".", env=env, cwd=clone)
    assert not (purelib / "transport").exists(), "the regular install left site-packages/transport"
    corona = python.parent / "corona"
    assert _run([corona, "--version"], env, tmp_path).startswith("corona 0.1")
    out = _run([python, "-c", "import transport; from transport import build_emissions; "
                "print(transport.__file__)"], env, tmp_path)
    assert Path(out.strip()).resolve() == (clone / "transport" / "__init__.py").resolve()


def test_numba_cache_directory(tmp_path, monkeypatch):
    """NUMBA_CACHE_DIR: under the project's cache root, unless the user set it."""
    numba_config = pytest.importorskip("numba.core.config")
    before = os.environ.get("NUMBA_CACHE_DIR")
    try:
        monkeypatch.setenv("CORONA_CACHE_DIR", str(tmp_path / "root"))
        monkeypatch.delenv("NUMBA_CACHE_DIR")
        assert cachedir.configure_numba_cache() == tmp_path / "root" / "numba"
        assert numba_config.CACHE_DIR == str(tmp_path / "root" / "numba")   # already-imported numba told
        monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
        assert cachedir.configure_numba_cache() == tmp_path / "mine"
        assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")
    finally:
        monkeypatch.undo()
        if before is None:
            os.environ.pop("NUMBA_CACHE_DIR", None)
        else:
            os.environ["NUMBA_CACHE_DIR"] = before
        numba_config.reload_config()
