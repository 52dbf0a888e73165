"""`corona fit`: fit-file checks, the samplers against a Gaussian toy with a closed-form
evidence, their checkpoints (a run stopped part-way resumes; a checkpoint of another fit is
refused), a CI-sized injection-recovery fit with the output layout, and a fit under
`mpirun -n 2` killed with SIGKILL and resumed (docs/fit.md)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import numpy as np
import pytest

from montecarlo.cli import main
from montecarlo.inference.forward import DERIVED
from montecarlo.inference.priors import FitError, Prior, UnitTransform
from montecarlo.inference.samplers import Settings, run_sampler
from montecarlo.parallel import SharedMap
from montecarlo.pipeline.fit import parse_fit

#: CI-size model (as the scan tests): 12 cells per decade, 4 proton energies per decade,
#: 0.5 Gyr steps, a 48-pixel sky at 9 energies with one region, kernels on the table's nodes.
TINY_SET = {"grid.cells_per_decade": 12, "grid.E_per_decade": 4, "time.dt_max_gyr": 0.5,
            "emission.E_per_decade": 3, "sky.nside": 2, "sky.E_per_decade": 1,
            "sky.fields": ["cmb"], "sky.regions": ["tibet_A"], "pipeline.kernel_subdivision": 1}


def _fit_file(tmp_path: Path, extra: str = "", sampler: str = "nautilus", name="fit.toml") -> Path:
    lines = ["[fit]", f'sampler = "{sampler}"', "n_live = 80", "n_eff = 300", "n_networks = 1",
             "seed = 3", "derived_samples = 20", "checkpoint_s = 2", extra, "[fit.set]"]
    lines += [f'"{k}" = {json.dumps(v)}' for k, v in TINY_SET.items()]
    lines += ["[fit.parameters]", '"source.alpha" = {min = 2.0, max = 2.8}',
              '"diffusion.D0_cm2_s" = {min = 1e28, max = 1e31, prior = "log-uniform"}',
              "[fit.mock]", 'truth = {"source.alpha" = 2.3, "diffusion.D0_cm2_s" = 3e29}',
              'quantities = ["gamma_all_sky", "nu_all_sky"]', "relative_error = 0.1", "seed = 2"]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- fit files
@pytest.mark.parametrize("text, message", [
    ('[fit]\nsampler = "mcmc"\n[fit.parameters]\n"source.alpha" = {min = 2, max = 3}', "fit.sampler = 'mcmc'"),
    ('[fit.parameters]\n"source.beta" = {min = 2, max = 3}', 'no config key "source.beta"'),
    ('[fit.parameters]\n"source.alpha" = {min = 3, max = 2}', "min = 3 must be below max = 2"),
    ('[fit.parameters]\n"diffusion.D0_cm2_s" = {min = 0, max = 1e30, prior = "log-uniform"}', "needs min > 0"),
    ('[fit.parameters]\n"source.alpha" = {mean = 2.3, prior = "normal"}', "sigma = None"),
    ('[fit.parameters]\n"source.alpha" = {min = 2, max = 3, prior = "flat"}', "prior = 'flat'"),
    ('[fit.parameters]\n"source.alpha" = {min = -20, max = 3}', "source.alpha = -20"),
    ('[fit.parameters]\n"sky.nside" = {min = 2, max = 8}', "cannot be fitted"),
    ('[fit]\ndata = ["planck"]\n[fit.parameters]\n"source.alpha" = {min = 2, max = 3}', "fit.data = ['planck']"),
    ('[fit]\ndata = ["tibet"]\n[fit.set]\n"sky.regions" = ["lhaaso_inner"]\n[fit.parameters]\n'
     '"disk.norm" = {min = 0.1, max = 3}', 'needs sky.regions to include "tibet_A"'),
    ('[fit.parameters]\n"source.alpha" = {min = 2, max = 3}\n[fit.mock]\ntruth = {"source.alpha" = 4}',
     "fit.mock.truth.source.alpha = 4"),
    ('[fit.parameters]\n"source.alpha" = {min = 2, max = 3}\n[fit.mock]\ntruth = {"source.alpha" = 2.5}\n'
     'quantities = ["x_rays"]', "fit.mock.quantities"),
    ('colour = 1\n[fit.parameters]\n"source.alpha" = {min = 2, max = 3}', "unknown key(s) colour"),
    ('[fit]', "[fit.parameters] is missing"),
    ('[fit]\nn_live = 3\n[fit.parameters]\n"source.alpha" = {min = 2, max = 3}', "fit.n_live = 3"),
    ('[fit]\nsampler = "emcee"\nsteps = 10\nburn = 10\n[fit.parameters]\n"source.alpha" = {min = 2, max = 3}',
     "fit.burn = 10 must be below"),
])
def test_bad_fit_files_give_one_clear_error(tmp_path, text, message):
    path = tmp_path / "fit.toml"
    path.write_text(text + "\n")
    with pytest.raises(FitError) as err:
        parse_fit(path)
    assert message in str(err.value)


def test_free_cut_off_pins_the_energy_grid(tmp_path):
    """With source.E_cut_eV fitted and grid.E_max_eV = "auto", every point shares the grid of
    the largest cut-off (30 x 1e17 eV), so one unit response serves every cut-off."""
    path = tmp_path / "fit.toml"
    path.write_text('[fit.parameters]\n"source.E_cut_eV" = {min = 1e15, max = 1e17, prior = "log-uniform"}\n')
    spec = parse_fit(path)
    assert spec.fixed["grid.E_max_eV"] == pytest.approx(3e18, rel=1e-12, abs=0)
    assert spec.base_config().grid.E_max_eV == pytest.approx(3e18, rel=1e-12, abs=0)


# --------------------------------------------------------------------------- samplers on a toy
MU, SIGMA = np.array([0.3, -1.0]), np.array([0.2, 0.5])
PRIORS = (Prior("x", "uniform", -5.0, 5.0), Prior("y", "uniform", -5.0, 5.0))
#: ln Z = ln( prod_i sqrt(2 pi) sigma_i / 10 ) for the unit-peak Gaussian in the 10 x 10 box
LOG_Z = float(np.sum(np.log(np.sqrt(2 * np.pi) * SIGMA / 10.0)))


class Killed(RuntimeError):
    """What ends a run part-way in these tests."""


class Toy:
    """Unit-peak Gaussian likelihood; ``fail_after`` calls raise (a run killed part-way)."""
    key = "toy"

    def __init__(self, fail_after=None, delay_s=0.0):
        self.calls, self.fail_after, self.delay_s = 0, fail_after, delay_s

    def __call__(self, theta):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise Killed("killed")
        if self.delay_s:
            time.sleep(self.delay_s)
        return float(-0.5 * np.sum(((np.asarray(theta) - MU) / SIGMA) ** 2))


def _run(tmp_path, sampler, toy, **settings):
    s = Settings(sampler=sampler, seed=7, **settings)
    return run_sampler(s, UnitTransform(PRIORS), toy, 2, None, tmp_path / "ckpt", "toy",
                       say=lambda text: None)


def test_nautilus_evidence_of_a_gaussian(tmp_path):
    """ln Z within 0.15 of the closed form (5x the importance-sampling error sqrt(1/n_eff);
    a factor 2 in Z is 0.69), the posterior mean and width to 10 % of sigma and 10 %."""
    r = _run(tmp_path, "nautilus", Toy(), n_live=200, n_eff=1000, n_networks=1, checkpoint_s=60)
    assert abs(r.log_evidence - LOG_Z) < 0.15
    assert r.log_evidence_error == pytest.approx(np.sqrt(1 / r.diagnostics["ess"]), rel=1e-12, abs=0)
    w = r.weights
    mean = w @ r.points
    sd = np.sqrt(w @ (r.points - mean) ** 2)
    np.testing.assert_allclose(mean, MU, rtol=0, atol=0.1 * SIGMA.min())
    np.testing.assert_allclose(sd, SIGMA, rtol=0.1, atol=0)


def test_dynesty_evidence_of_a_gaussian(tmp_path):
    """ln Z within 3 of its reported errors (~0.15 at 200 live points) plus 0.05."""
    r = _run(tmp_path, "dynesty", Toy(), n_live=200, dlogz=0.1, checkpoint_s=60)
    assert abs(r.log_evidence - LOG_Z) < 3 * r.log_evidence_error + 0.05
    assert r.diagnostics["ess"] > 300


def test_emcee_posterior_and_diagnostics(tmp_path):
    """16 walkers x 350 kept steps (tau ~ 22 steps: ESS ~ 250): means to 0.3 sigma (5 standard
    errors), widths to 15 % (3 standard errors), the autocorrelation time of both parameters,
    R-hat (walkers as chains, each ~16 autocorrelation times long) below 1.2."""
    r = _run(tmp_path, "emcee", Toy(), walkers=16, steps=500, burn=150, checkpoint_s=60)
    mean, sd = r.points.mean(axis=0), r.points.std(axis=0)
    assert np.all(np.abs(mean - MU) < 0.3 * SIGMA), mean
    np.testing.assert_allclose(sd, SIGMA, rtol=0.15, atol=0)
    assert r.diagnostics["autocorr_time"].shape == (2,)
    assert np.all((r.diagnostics["rhat"] > 0.99) & (r.diagnostics["rhat"] < 1.2))
    assert np.isnan(r.log_evidence)


@pytest.mark.parametrize("sampler, settings", [
    ("nautilus", dict(n_live=100, n_eff=300, n_networks=1)),
    ("dynesty", dict(n_live=100, dlogz=0.5)),
    ("emcee", dict(walkers=8, steps=400, burn=100)),
])
def test_a_stopped_sampler_resumes_from_its_checkpoint(tmp_path, sampler, settings):
    """The first run stops part-way (the likelihood raises, as a kill would end it) after at
    least one checkpoint (every 1.1 s, calls slowed to 1 ms); the rerun resumes from it and
    finishes with fewer calls than a run from scratch would need."""
    with pytest.raises(Killed):
        _run(tmp_path, sampler, Toy(fail_after=2500, delay_s=1e-3), checkpoint_s=1.1, **settings)
    assert any((tmp_path / "ckpt").iterdir())
    toy = Toy()
    r = _run(tmp_path, sampler, toy, checkpoint_s=1.1, **settings)
    assert r.resumed
    assert toy.calls < r.n_calls                  # the calls before the stop were not repeated


def test_a_checkpoint_of_another_fit_is_refused(tmp_path):
    _run(tmp_path, "nautilus", Toy(), n_live=100, n_eff=100, n_networks=1, checkpoint_s=60)
    with pytest.raises(FitError, match="belongs to a different fit"):
        run_sampler(Settings(n_live=100, n_eff=100, n_networks=1), UnitTransform(PRIORS), Toy(), 2,
                    None, tmp_path / "ckpt", "another key", say=lambda text: None)
    path = tmp_path / "ckpt" / "nautilus.h5"
    with h5py.File(path, "r+") as fh:                     # damage one value
        fh["sampler/log_l_0"][0] += 1.0
    with pytest.raises(FitError, match="fails its checksum"):
        _run(tmp_path, "nautilus", Toy(), n_live=100, n_eff=100, n_networks=1)


# --------------------------------------------------------------------------- the command
def test_mock_fit_recovers_alpha_and_D0_and_writes_the_layout(tmp_path, capsys):
    """Injection-recovery at CI size (docs/fit.md, "Validation"): both truths inside their
    95 % intervals, alpha's 68 % interval narrower than 0.1; posterior.h5 as documented."""
    path = _fit_file(tmp_path)
    out = tmp_path / "out"
    assert main(["fit", str(path), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "source.alpha" in text and "95 % upper limit" in text
    with h5py.File(out / "posterior.h5", "r") as fh:
        for name, truth in (("source.alpha", 2.3), ("diffusion.D0_cm2_s", 3e29)):
            q = fh[f"summary/{name}"][()]
            assert q[0] <= truth <= q[4], (name, q)
            assert fh[f"samples/{name}"].shape == fh[f"samples/source.alpha"].shape
        alpha = fh["summary/source.alpha"][()]
        assert alpha[3] - alpha[1] < 0.1
        n_raw = fh["weights"].shape[0]
        assert fh["log_likelihood"].shape == (n_raw,)
        assert fh["weights"][()].sum() == pytest.approx(1.0, rel=1e-9, abs=0)
        assert np.isfinite(fh["log_evidence"][()]) and fh["log_evidence_error"][()] > 0
        assert set(fh["derived"]) == set(DERIVED)
        assert fh["derived/nu_icecube_frac_100TeV"].shape == (20,)
        assert "upper_limit_95" in fh["derived/gamma_igrb_frac_10GeV"].attrs
        assert fh["diagnostics/ess"][()] > 100
        for attr in ("fit_key", "fit_toml", "config_json", "code_version", "seeds",
                     "sampler_settings_json"):
            assert attr in fh.attrs
    assert (out / "corner.png").stat().st_size > 0 and (out / "derived.png").stat().st_size > 0


def _mpirun():
    exe = Path(sys.executable).parent / "mpirun"
    return str(exe) if exe.exists() else None


@pytest.mark.skipif(_mpirun() is None, reason="no mpirun beside the interpreter (extra 'mpi')")
def test_fit_under_mpirun_resumes_after_kill_9(tmp_path):
    """`mpirun -n 2 corona fit` killed with SIGKILL after its first checkpoint; the same
    command resumes from it and writes the posterior; the fit file changed, the checkpoint is
    refused (exit status 2, one line)."""
    path = _fit_file(tmp_path)
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    cmd = [_mpirun(), "-n", "2", sys.executable, "-m", "montecarlo.cli", "fit", str(path), "-o", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    checkpoint = out / "checkpoint" / "nautilus.h5"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not checkpoint.exists():
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert checkpoint.exists(), proc.stdout.read().decode()
    assert not (out / "posterior.h5").exists()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nautilus: resuming from" in done.stdout
    with h5py.File(out / "posterior.h5", "r") as fh:
        assert fh.attrs["resumed"] and fh.attrs["n_ranks"] == 2
        q = fh["summary/source.alpha"][()]
        assert q[0] <= 2.3 <= q[4]
    changed = _fit_file(tmp_path).read_text().replace("n_eff = 300", "n_eff = 500")
    path.write_text(changed)
    refused = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 2
    assert "belongs to a different fit" in refused.stderr


def test_list_data_and_missing_arguments(tmp_path, capsys):
    assert main(["fit", "--list-data"]) == 0
    listed = capsys.readouterr().out
    for name in ("cr_protons", "fermi_igrb", "icecube", "tibet", "lhaaso"):
        assert name in listed
    assert main(["fit", str(_fit_file(tmp_path))]) == 2           # no -o
    assert "-o/--outdir is required" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "missing.toml"), "-o", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parent.parent / "runs" / "fit").glob("*.toml")),
                         ids=lambda p: p.name)
def test_shipped_fit_files_parse(path):
    spec = parse_fit(path)
    assert spec.priors and spec.base_config() is not None


def test_shared_map_keeps_the_order_and_shares_the_work():
    """SharedMap over a one-thread executor: results in the items' order; the caller computes
    the chunks the executor has not started (here: at least one), the executor the others."""
    main_thread = threading.get_ident()
    where = []

    def square(x):
        where.append(threading.get_ident() == main_thread)
        time.sleep(0.002)
        return x * x

    with ThreadPoolExecutor(max_workers=1) as executor:
        pool = SharedMap(executor, size=2)
        assert pool.map(square, range(64)) == [x * x for x in range(64)]
        assert any(where) and not all(where)
        assert pool.map(square, []) == [] and pool.map(square, [3]) == [9]
