"""Monte Carlo propagation (montecarlo.propagation): closed forms, the line-of-sight reference,
rank invariance, checkpoints, error scaling, bad input.

Statistical checks: a result within 3 sigma means |MC - exact| < 3 sigma per bin (a bin is
one energy x one pixel); chi^2/dof over all bins must lie in [0.7, 1.35] (for the 300-600
bins used, chi^2/dof has a spread of ~0.06-0.08, so the window is > 4 sigma wide, while a
bias of one sigma per bin doubles chi^2/dof). A factor-2 error in any weight fails them all.
"""
import os
import subprocess
import sys
from pathlib import Path

import healpy as hp
import numpy as np
import pytest

import montecarlo
import transport
from montecarlo.opacity.kernels import _locate
from montecarlo.opacity.ratetables import DUST_GRIDS
from montecarlo.propagation import kernels as pk
from montecarlo.propagation.api import prepare
from montecarlo.propagation.medium import medium_for
from montecarlo.sky.analysis import pixel_directions
from transport.core.constants import KPC_CM
from transport.core.errors import ArgumentError
from transport.emission.tables import AxisymmetricEmission, SphericalEmission

HERE = Path(__file__).parent
R_SPHERE = 20.0
R_SUN = 8.5
CFG = transport.load_config({"opacity.grid": "coarse"})     # CI-size dust table


def uniform_sphere(radius=R_SPHERE, q0=1e-30):
    """q = q0 for r < radius (sharp edge: repeated node), zero beyond; two table energies."""
    r = np.concatenate([np.linspace(0.0, radius, 41), [radius, 2 * radius]])
    q = np.full((2, r.size), q0)
    q[:, -2:] = 0.0
    return SphericalEmission(r, [1e12, 1e15], q)


def sphere_exact(nside, kappa, q0=1e-30, up=32):
    """Pixel averages of (q0 / 4 pi) (1 - exp(-kappa L)) / kappa, L the chord from the Sun to
    the sphere's edge, by averaging 32^2 sub-pixel centres per pixel (smooth in n: < 1e-4)."""
    v = np.array(hp.pix2vec(nside * up, np.arange(hp.nside2npix(nside * up)))).T
    o = np.array([-R_SUN, 0.0, 0.0])
    b = v @ o
    L = -b + np.sqrt(b * b - (o @ o - R_SPHERE ** 2))
    kap = np.asarray(kappa)[:, None]
    I = q0 * KPC_CM / (4 * np.pi) * np.where(kap > 0, -np.expm1(-kap * L) / np.where(kap > 0, kap, 1), L)
    return np.array([hp.ud_grade(m, nside) for m in I])


def small_run(**kw):
    """The run shared by the checkpoint and error-scaling tests."""
    args = dict(nside=2, fields=(), n_photons=40_000, seed=3, estimator="analog",
                absorber_per_kpc=[0.05, 0.1], batch_photons=4000, chunk_batches=3, config=CFG)
    args.update(kw)
    return montecarlo.monte_carlo(uniform_sphere(), [1e12, 1e15], **args)


def chi2_per_dof(result, reference):
    z = (result.maps - reference) / result.maps_err
    return float(np.mean(z ** 2)), float(np.abs(z).max())


# --------------------------------------------------------------------------- kernels
def test_ring_pixel_index_matches_healpy():
    rng = np.random.default_rng(0)
    z, phi = rng.uniform(-1, 1, 5000), rng.uniform(0, 2 * np.pi, 5000)
    for nside in (1, 2, 16, 128):
        mine = np.array([pk.ang2pix_ring(nside, a, b) for a, b in zip(z, phi)])
        np.testing.assert_array_equal(mine, hp.ang2pix(nside, np.arccos(z), phi))


def test_grid_lookup_finds_the_cells_of_the_binary_search():
    """kernels.locate (O(1) look-up) returns the index and weight of the opacity kernels'
    binary search (montecarlo.opacity.kernels._locate) on the dust grids and on irregular
    grids, at the nodes themselves, next to them, between them and beyond both ends: the same
    index, the same weight (computed by the same expression: rtol 1e-15)."""
    rng = np.random.default_rng(4)
    grids = [np.asarray(DUST_GRIDS["fine"]["R"], float), np.asarray(DUST_GRIDS["fine"]["z"], float),
             np.linspace(-1.0, 1.0, 25), np.linspace(0.0, np.pi, 13),
             np.cumsum(rng.uniform(0.01, 3.0, 40)) - 3.0, np.array([0.0, 1e-3, 1.0, 1e2])]
    for grid in grids:
        lut, inv_h = pk.grid_lookup(grid)
        x = np.concatenate([grid, np.nextafter(grid, -np.inf), np.nextafter(grid, np.inf),
                            rng.uniform(grid[0] - 1, grid[-1] + 1, 3000)])
        got = np.array([pk.locate(grid, lut, inv_h, v) for v in x])
        ref = np.array([_locate(grid, v) for v in x])
        np.testing.assert_array_equal(got[:, 0], ref[:, 0])
        np.testing.assert_allclose(got[:, 1], ref[:, 1], rtol=1e-15, atol=1e-15)
    with pytest.raises(ValueError, match="strictly ascending"):
        pk.grid_lookup([0.0, 1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="look-up cells"):
        pk.grid_lookup([0.0, 1e-9, 1.0])


@pytest.mark.parametrize("mode", ["anisotropic", "angle_averaged"])
def test_tracking_dust_rate_equals_the_opacity_table(coarse_opacity, mode):
    """The tracking kernel's dust rate (the table at each tally energy, built once by
    medium.dust_at_energies) equals the opacity module's interpolation
    (DustRateTable.rate_per_kpc) at points inside and beyond the (R, z) grid, in random
    directions, at five energies: rtol 1e-12 (the same interpolation; only the rounding of R,
    psi and the far-field dilution differs, measured <= 5e-14)."""
    cfg = transport.load_config({"opacity.grid": "coarse", "opacity.dust_mode": mode})
    E = np.array([3e13, 8e13, 3e14, 2e15, 5e18])
    m = medium_for(E, ("cmb", "dust"), cfg)
    assert np.all(m.sigma_dust_max > 0)
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-30, 30, (300, 3)) * [1, 1, 0.1], rng.uniform(-300, 300, (100, 3)),
                        [[0.0, 0.0, 0.0], [-8.5, 0.0, 0.0], [100.0, 0.0, 100.0]]])
    u = rng.normal(size=x.shape)
    u /= np.linalg.norm(u, axis=1)[:, None]
    ref = coarse_opacity.dust.rate_per_kpc(x, u, E, mode=mode)
    for e in range(E.size):
        got = [pk.dust_rate(m.dust_mode, m.dust_ln[e], m.dust_grids, *xi, *ui) for xi, ui in zip(x, u)]
        np.testing.assert_allclose(got, ref[:, e], rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- closed forms
def test_sphere_with_absorber_expected_per_pixel():
    """Observer 8.5 kpc off-centre in a uniform sphere of 20 kpc, uniform absorber with
    tau = kappa L from 0.09 to 5.1: every pixel within 3.5 sigma (48 x 3 bins: a 3.5-sigma
    excursion has probability 7 %; chi^2/dof bounds the rest), sigma < 1 %."""
    kappa = [0.008, 0.05, 0.18]
    E = [1e12, 1e13, 1e14]
    res = montecarlo.monte_carlo(uniform_sphere(), E, nside=2, fields=(), n_photons=1_600_000,
                                 seed=5, estimator="expected", absorber_per_kpc=kappa, config=CFG)
    exact = sphere_exact(2, kappa)
    assert np.max(res.maps_err / res.maps) < 0.01
    chi2, worst = chi2_per_dof(res, exact)
    assert worst < 3.5 and 0.7 < chi2 < 1.35, (chi2, worst)
    np.testing.assert_allclose(res.all_sky, exact.mean(axis=1), rtol=3 * np.max(res.all_sky_err / res.all_sky), atol=0)
    # without absorber the transmission is 1 and the unattenuated tally equals the map tally
    np.testing.assert_allclose(res.unattenuated_all_sky, sphere_exact(2, [0, 0, 0]).mean(axis=1),
                               rtol=3 * np.max(res.unattenuated_all_sky_err / res.unattenuated_all_sky), atol=0)


def test_sphere_with_absorber_analog_agrees():
    kappa = [0.008, 0.05, 0.18]
    res = montecarlo.monte_carlo(uniform_sphere(), [1e12, 1e13, 1e14], nside=1, fields=(),
                                 n_photons=400_000, seed=6, estimator="analog",
                                 absorber_per_kpc=kappa, config=CFG)
    exact = sphere_exact(1, kappa)
    chi2, worst = chi2_per_dof(res, exact)
    assert worst < 3.5 and chi2 < 2.0, (chi2, worst)
    # pair fraction = 1 - transmitted / emitted towards the Sun
    np.testing.assert_allclose(res.pair_fraction, 1 - exact.mean(1) / sphere_exact(1, [0, 0, 0]).mean(1),
                               rtol=0, atol=4 * np.max(res.all_sky_err / res.unattenuated_all_sky))


def test_point_set_sums_fluxes_exactly():
    """Points chosen with probability proportional to their flux: with one energy and no
    absorption every history scores the same, so the all-sky average is exact (rtol 1e-12);
    with a constant absorber and the expected estimator each point carries exp(-kappa d)."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-5, 5, (30, 3))
    lum = np.vstack([np.full(30, 1e30), np.full(30, 1e30)]) * rng.uniform(0.5, 2, 30)
    pts = montecarlo.PointEmission(x, [1e12, 1e13], lum)
    d = np.linalg.norm(x - np.array([-R_SUN, 0, 0]), axis=1)
    flux = lum[0] / (4 * np.pi * (d * KPC_CM) ** 2)
    res = montecarlo.monte_carlo(pts, [1e12], nside=4, fields=(), n_photons=2000, config=CFG)
    one = montecarlo.monte_carlo(uniform_sphere(), [1e12], nside=1, fields=(), n_photons=2000, config=CFG)
    assert one.maps.shape == (1, 12)                  # a single tally energy
    np.testing.assert_allclose(res.all_sky, flux.sum() / (4 * np.pi), rtol=1e-12, atol=0)
    res = montecarlo.monte_carlo(pts, [1e12], nside=4, fields=(), n_photons=20_000, config=CFG,
                                 absorber_per_kpc=0.1)
    exact = np.sum(flux * np.exp(-0.1 * d)) / (4 * np.pi)
    np.testing.assert_allclose(res.all_sky, exact, rtol=4 * res.all_sky_err[0] / exact, atol=0)
    pix = hp.vec2pix(4, *((x - np.array([-R_SUN, 0, 0])) / d[:, None]).T)
    assert set(np.nonzero(res.maps[0])[0]) <= set(pix)


# --------------------------------------------------------------------------- line of sight
def _los_pixels(emission, E, nside, fields, up):
    l, b = pixel_directions(nside * up)
    I = montecarlo.intensity(emission, E, l, b, fields=fields, config=CFG)
    return np.array([hp.ud_grade(m, nside) for m in I])


def corona_like():
    """A corona-shaped table: beta profile (r_c = 5 kpc, beta = 0.5, [C] eq. 1) out to
    250 kpc, E^-2.7 spectrum."""
    r = np.concatenate([[0.0], np.geomspace(0.1, 250.0, 120)])
    E = np.array([1e14, 1e15, 3e15])
    q = (1 + (r / 5.0) ** 2) ** -1.5 * (E[:, None] / 1e12) ** -2.7 * 1e-40
    return SphericalEmission(r, E, q, attrs={"particle": "gamma"})


def plane_like():
    """A Galactic-plane table: exp(-R / 3.5 kpc) exp(-(z / 0.8 kpc)^2) out to R = 20, |z| = 3
    (thick enough for an 8^2 sub-pixel line-of-sight reference at nside 4)."""
    R = np.arange(0.0, 20.01, 0.5)
    z = np.arange(0.0, 3.01, 0.1)
    E = np.array([3e13, 1e14, 3e14])
    q = (np.exp(-R / 3.5)[:, None] * np.exp(-(z / 0.8) ** 2)[None, :])[None] * (E / 1e12)[:, None, None] ** -2.7 * 1e-38
    return AxisymmetricEmission(R, z, E, q, attrs={"particle": "gamma"})


@pytest.mark.parametrize("estimator", ["expected", "analog"])
def test_corona_cmb_against_line_of_sight(estimator):
    """100 TeV - 3 PeV (CMB optical depths up to ~1 across the corona): chi^2/dof over
    3 x 192 bins."""
    em = corona_like()
    res = montecarlo.monte_carlo(em, em.E_eV, nside=4, fields=("cmb",), n_photons=300_000,
                                 seed=7, estimator=estimator, config=CFG)
    chi2, worst = chi2_per_dof(res, _los_pixels(em, em.E_eV, 4, ("cmb",), 4))
    assert 0.7 < chi2 < 1.35 and worst < 4.5, (chi2, worst)
    assert res.pair_fraction[-1] > 0.3


@pytest.mark.parametrize("estimator", ["expected", "analog"])
def test_plane_cmb_dust_against_line_of_sight(estimator):
    """Anisotropic dust + CMB at 30-300 TeV: chi^2/dof over 3 x 192 bins."""
    em = plane_like()
    res = montecarlo.monte_carlo(em, em.E_eV, nside=4, fields=("cmb", "dust"), n_photons=300_000,
                                 seed=8, estimator=estimator, config=CFG)
    chi2, worst = chi2_per_dof(res, _los_pixels(em, em.E_eV, 4, ("cmb", "dust"), 8))
    assert 0.7 < chi2 < 1.35 and worst < 4.5, (chi2, worst)
    assert res.tracking_steps > 0 and res.majorant_violations == 0


# --------------------------------------------------------------------------- parallel
def test_batches_chunks_and_resume_give_identical_results(tmp_path, monkeypatch):
    ref = small_run()
    np.testing.assert_array_equal(small_run(chunk_batches=10).maps, ref.maps)
    ck = tmp_path / "run.ckpt.h5"
    from montecarlo.propagation.api import Problem
    original = Problem.simulate

    def crash(self, b):
        if b == 7:
            raise RuntimeError("simulated kill")
        return original(self, b)

    monkeypatch.setattr(Problem, "simulate", crash)
    with pytest.raises(RuntimeError):
        small_run(checkpoint_path=ck)
    assert ck.is_file()
    monkeypatch.setattr(Problem, "simulate", original)
    resumed = small_run(checkpoint_path=ck)
    assert resumed.resumed_from_batch == 6 and not ck.exists()
    np.testing.assert_allclose(resumed.maps, ref.maps, rtol=1e-12, atol=0)
    np.testing.assert_allclose(resumed.maps_err, ref.maps_err, rtol=1e-12, atol=0)


def test_errors_scale_as_one_over_sqrt_n():
    small = small_run(n_photons=20_000, seed=11)
    large = small_run(n_photons=320_000, seed=12)
    ratio = small.all_sky_err / large.all_sky_err
    np.testing.assert_allclose(ratio, 4.0, rtol=0.1, atol=0)   # error of an error ~ few %
    np.testing.assert_allclose(small.all_sky, large.all_sky, rtol=4 * np.max(small.all_sky_err / small.all_sky), atol=0)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(n_photons=0), "n_photons = 0"),
    (dict(nside=3), "nside = 3 is not allowed: expected a power of 2"),
    (dict(E_eV=[1e16]), "E_eV = 1e\\+16 is outside the emission table"),
    (dict(estimator="exact"), "estimator = 'exact'"),
])
def test_bad_arguments_raise_one_clear_error(kwargs, match):
    args = dict(E_eV=[1e12], nside=2, n_photons=10, fields=())
    args.update(kwargs)
    with pytest.raises(ArgumentError, match=match):
        prepare(uniform_sphere(), **args)


def test_energy_outside_the_rate_tables_and_negative_emission():
    r = np.array([0.0, 1.0, 2.0])
    low = SphericalEmission(r, [1e7, 1e8], np.ones((2, 3)))
    with pytest.raises(ArgumentError, match="outside the tabulated range"):
        prepare(low, [1e7], fields=("cmb",), n_photons=10)
    em = uniform_sphere()
    em.q[0, 3] = -1.0
    with pytest.raises(ArgumentError, match="negative"):
        prepare(em, [1e12], n_photons=10)
    with pytest.raises(ArgumentError, match="negative"):
        montecarlo.PointEmission([[0, 0, 0]], [1e12], [[-1.0]])


# --------------------------------------------------------------------------- command line
def _mpirun():
    exe = Path(sys.executable).parent / "mpirun"
    return str(exe) if exe.exists() else None


def _cli(args, tmp_path, mpi=0, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    cmd = ([_mpirun(), "-n", str(mpi)] if mpi else []) + [sys.executable, "-m", "montecarlo.cli", "mc"]
    return cmd + args, env


def _read(path):
    import h5py
    with h5py.File(path, "r") as fh:
        g = fh["mc/disk/gamma"]
        return (np.concatenate([g["map"][()].ravel(), g["map_err"][()].ravel(), g["all_sky"][()],
                                g["regions/tibet_A"][()], g["dipole/amplitude"][()]]),
                dict(fh["mc"].attrs), fh["mc/E_eV"].attrs["units"])


@pytest.mark.skipif(_mpirun() is None, reason="no mpirun beside the interpreter (extra 'mpi')")
def test_cli_two_ranks_killed_and_resumed_equals_one_rank(tmp_path, wait_released):
    """`corona mc --emission FILE` on 1 rank, and on 2 ranks killed with SIGKILL after a
    checkpoint and restarted with the same command: identical files (rtol 1e-12)."""
    import signal
    import time
    from transport.core.output import atomic_hdf5, write_emissions
    src = tmp_path / "transport.h5"
    with atomic_hdf5(src) as fh:
        write_emissions(fh, {"disk": {"gamma": plane_like()}})
    common = ["--emission", str(src), "-q", "--set", 'mc.models=["disk"]',
              "--set", "mc.n_photons=60000", "--set", "mc.batch_photons=1000",
              "--set", "mc.checkpoint_batches=2", "--set", "mc.nside=4",
              "--set", "mc.E_eV=[1e14, 3e14]", "--set", "opacity.grid=coarse"]
    cmd, env = _cli(common + ["-o", str(tmp_path / "one.h5")], tmp_path)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = tmp_path / "two.h5"
    ckpt = tmp_path / "two.h5.ckpt-disk-gamma.h5"
    cmd, env = _cli(common + ["-o", str(out)], tmp_path, mpi=2)
    job = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    deadline = time.monotonic() + 240
    while not ckpt.exists() and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    assert ckpt.exists() and not out.exists()
    wait_released(tmp_path / "two.h5.lock")       # the ranks die a moment after mpirun
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    one, attrs_one, units = _read(tmp_path / "one.h5")
    two, attrs_two, _ = _read(out)
    np.testing.assert_allclose(two, one, rtol=1e-12, atol=0)
    assert attrs_one["ranks"] == 1 and attrs_two["ranks"] == 2 and units == "eV"
    assert not ckpt.exists()
