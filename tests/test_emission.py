"""The emission abstraction: tables, interpolation against direct evaluation, numba kernels,
volume integrals, HDF5 round trip, bad input."""
import h5py
import numpy as np
import pytest
from numba import njit

import transport
from transport.emission import distributions, table_kernels as emission_kernels
from transport.emission.cocoons import cocoon_spectrum
from transport.core.constants import KPC_CM
from transport.emission.corona import corona_emissivity, corona_nodes_kpc
from transport.emission.disk import disk_spectrum, extra_spectrum
from transport.emission.tables import AxisymmetricEmission, SphericalEmission
from transport.core.errors import ArgumentError
from transport.core.output import write_emissions

#: Interpolated tables must match direct evaluation at off-grid points to this (the required
#: accuracy); measured worst cases are quoted in each test.
INTERPOLATION_TOLERANCE = 5e-3


def random_points(rng, n, r_lo, r_hi):
    """Points with log-uniform radius in [r_lo, r_hi] and isotropic directions [kpc]."""
    r = np.exp(rng.uniform(np.log(r_lo), np.log(r_hi), n))
    mu, phi = rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    s = np.sqrt(1 - mu ** 2)
    return r * s * np.cos(phi), r * s * np.sin(phi), r * mu, r


@pytest.fixture(scope="module")
def corona_tables(baseline):
    return {p: transport.corona_emission(baseline, p) for p in ("gamma", "nu_mu")}


# --------------------------------------------------------------------------- corona
@pytest.mark.parametrize("particle", ["gamma", "nu_mu"])
def test_corona_table_matches_direct_evaluation(baseline, corona_tables, particle):
    # Direct: j log-log interpolated between cell centres at the exact radius, pointwise gas
    # density, pp_emissivity. Measured worst case 0.05 % (power laws between nodes spaced
    # 0.025 dex; the gas-profile kink at 72 kpc and the 250 kpc edge are nodes).
    em = corona_tables[particle]
    x, y, z, r = random_points(np.random.default_rng(1), 400, baseline.r_kpc[0], 249.9)
    E = em.E_eV[em.E_eV <= 1e17]                     # above, q underflows (E_cut = 1e17 eV)
    table = em(E, x, y, z)
    direct = corona_emissivity(baseline, particle, r, E)
    assert table.shape == direct.shape == (E.size, r.size)
    assert np.max(np.abs(table / direct - 1)) < INTERPOLATION_TOLERANCE
    # between table energies: linear in (ln E, ln q), off-grid energies too
    E_mid = np.sqrt(em.E_eV[10:40] * em.E_eV[11:41])
    table = em(E_mid, x[:50], y[:50], z[:50])
    direct = corona_emissivity(baseline, particle, r[:50], E_mid)
    assert np.max(np.abs(table / direct - 1)) < INTERPOLATION_TOLERANCE


def test_corona_is_zero_beyond_the_gas_edge_and_exact_at_nodes(baseline, corona_tables):
    em = corona_tables["gamma"]
    assert np.all(em(1e12, [250.5, 300.0, 1e4], 0.0, 0.0) == 0.0)
    assert em(1e12, 0.0, 0.0, 249.99) > 0.0
    nodes = corona_nodes_kpc(baseline)
    assert nodes[-1] == 250.0 and np.any(np.isclose(nodes, 72.0, atol=0.5, rtol=1e-5))   # edge and kink
    iE = em.energy_index(em.E_eV[30])
    assert np.allclose(em.q_at_index(iE, nodes, 0.0, 0.0), em.q[iE], rtol=1e-12, atol=0)
    # direction does not matter
    v = em(1e12, [30.0, 0.0, 0.0, 30 / np.sqrt(3)], [0.0, 30.0, 0.0, 30 / np.sqrt(3)],
           [0.0, 0.0, -30.0, 30 / np.sqrt(3)])
    assert np.allclose(v, v[0], rtol=1e-12, atol=0)


def test_corona_with_limited_yields_warns_and_cuts_the_protons(baseline):
    # Kamae 2006 covers primaries below 512 TeV; the baseline protons reach 3e18 eV
    import dataclasses
    sol = dataclasses.replace(baseline, config=baseline.config.with_overrides({"hadronic.yields": "kamae2006"}))
    E = np.array([1e11, 1e13])
    with pytest.warns(transport.YieldRangeWarning, match="512 TeV|5.12e\\+14"):
        q = corona_emissivity(sol, "nu", [10.0], E)
    assert np.all(q > 0)
    assert transport.emission_energy_grid(sol.config)[-1] == pytest.approx(5.12e14, rel=1e-6, abs=0)


def test_corona_neutrino_flavours_sum(baseline):
    E = np.geomspace(1e10, 1e16, 7)
    r = np.array([10.0, 100.0])
    parts = [corona_emissivity(baseline, p, r, E) for p in ("nu_e", "nu_mu", "nu_tau")]
    assert np.allclose(sum(parts), corona_emissivity(baseline, "nu", r, E), rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- plane models
PLANE_CASES = ([("disk", {"disk.distribution": d, "disk.spectrum": s})
                for d in distributions.DISTRIBUTIONS for s in ("A", "B", "injection")]
               + [("extra1", {}), ("extra2", {}), ("extra2", {"extra2.hadronic": False}),
                  ("cocoons", {}), ("cocoons", {"cocoons.distribution": "uniform"})])


def direct_plane(cfg, model, particle, E, R, z):
    """The analytic s(E) f(R, z) of a Galactic-plane model (rho S for cocoons)."""
    if model == "cocoons":
        name = cfg.cocoons.distribution
        rho = distributions.shape(name, cfg.distributions, R, z) / (
            distributions.volume_kpc3(name, cfg.distributions) * KPC_CM ** 3)
        return cocoon_spectrum(E, particle, cfg)[:, None] * rho[None, :]
    name = cfg[model].distribution
    s = disk_spectrum(E, particle, cfg) if model == "disk" else extra_spectrum(E, particle, cfg, model)
    return s[:, None] * distributions.shape(name, cfg.distributions, R, z)[None, :]


@pytest.mark.parametrize("model, overrides", PLANE_CASES,
                         ids=[f"{m}-{'-'.join(map(str, o.values())) or 'default'}" for m, o in PLANE_CASES])
def test_plane_tables_match_direct_evaluation(model, overrides):
    # Measured worst case 0.14 % (the R^a factor between radial nodes 30 per decade; the
    # exponentials in R and |z| and the uniform disk are exact). Points with R < 0.01 kpc
    # (the first, linear table interval, 1e-7 of the disk area) are excluded.
    cfg = transport.load_config(overrides)
    E = np.geomspace(1e9, 1e16, 8)
    rng = np.random.default_rng(2)
    R = rng.uniform(0.01, cfg.galaxy.R_max_kpc, 300)
    phi = rng.uniform(0, 2 * np.pi, 300)
    z = rng.uniform(-cfg.galaxy.z_max_kpc, cfg.galaxy.z_max_kpc, 300)
    for particle in ("gamma", "nu_e"):
        em = transport.build_emission(cfg, model, particle, E_eV=E)
        assert isinstance(em, AxisymmetricEmission) and em.mirror
        table = em(E, R * np.cos(phi), R * np.sin(phi), z)
        direct = direct_plane(cfg, model, particle, E, R, z)
        positive = direct > 1e-200                      # cocoons fall to 1e-260 at 10 PeV
        assert np.all(table[~positive] < 1e-190) and np.all(table[positive] > 0)
        leptonic = model.startswith("extra") and not cfg[model].hadronic and particle != "gamma"
        assert positive.any() != leptonic               # leptonic sources: no neutrinos at all
        if positive.any():
            assert np.max(np.abs(table[positive] / direct[positive] - 1)) < INTERPOLATION_TOLERANCE


def test_plane_tables_are_zero_outside_and_sharp_at_the_uniform_disk_edge():
    cfg = transport.load_config({"disk.distribution": "uniform"})
    em = transport.build_emission(cfg, "disk", "gamma", E_eV=[1e12, 1e13])
    inside = em(1e12, [14.999, 0.0, 10.0], 0.0, [0.0, 0.199, -0.199])
    outside = em(1e12, [15.001, 0.0, 10.0, 40.0], 0.0, [0.0, 0.201, -0.201, 0.0])
    assert np.allclose(inside, inside[0], rtol=1e-12, atol=0) and inside[0] > 0
    assert np.all(outside == 0.0)
    snr = transport.build_emission(transport.load_config(), "disk", "gamma", E_eV=[1e12, 1e13])
    assert snr(1e12, 8.5, 0.0, cfg.galaxy.z_max_kpc + 0.1) == 0.0
    assert snr(1e12, cfg.galaxy.R_max_kpc + 0.1, 0.0, 0.0) == 0.0


def test_total_rates_against_volume_integrals():
    cfg = transport.load_config({"disk.distribution": "uniform"})
    E = np.array([1e11, 1e13])
    em = transport.build_emission(cfg, "disk", "gamma", E_eV=E)
    volume = np.pi * 15.0 ** 2 * 0.4 * KPC_CM ** 3
    assert np.allclose(em.total_rate(), disk_spectrum(E, "gamma", cfg) * volume, rtol=1e-10, atol=0)
    # cocoons: rho has unit volume integral, so the Galaxy-wide rate is S(E). The table misses
    # the tail beyond R = 30 kpc, |z| = 4 kpc (< 1e-5) and interpolates R^zeta linearly in ln q
    # between nodes, low by zeta h^2 / 12 = 6e-4 on average (h = 10^(1/30) - 1): 1e-3.
    cfg = transport.load_config()
    em = transport.build_emission(cfg, "cocoons", "gamma", E_eV=E)
    assert np.allclose(em.total_rate(), cocoon_spectrum(E, "gamma", cfg), rtol=1e-3, atol=0)


def test_spherical_total_rate_and_centre():
    # q = q0 (r / 1 kpc)^-2 from 0.1 to 100 kpc, constant inside 0.1: 4 pi (100 - 0.1 + 0.1/3)
    r = np.geomspace(0.1, 100.0, 31)
    E = np.array([1e9, 1e10])
    em = SphericalEmission(r, E, np.outer([1.0, 2.0], r ** -2.0))
    expected = 4 * np.pi * (100.0 - 0.1 + 0.1 / 3) * KPC_CM ** 3
    assert np.allclose(em.total_rate(), [expected, 2 * expected], rtol=1e-10, atol=0)
    assert em(1e9, 0.0, 0.0, 0.0) == em(1e9, 0.05, 0.0, 0.0) == pytest.approx(100.0, rel=1e-6, abs=0)
    # a table starting at r = 0: linear in r on the first interval (to 0.1 %, resampled)
    em0 = SphericalEmission([0.0, 1.0, 2.0], E, [[1.0, 3.0, 3.0], [1.0, 1.0, 1.0]])
    r = np.linspace(0.0, 1.0, 101)
    assert np.allclose(em0(1e9, r, 0.0, 0.0), 1.0 + 2.0 * r, rtol=1e-3, atol=0)
    assert em0(1e9, 1.5, 0.0, 0.0) == pytest.approx(3.0, rel=1e-6, abs=0)


# --------------------------------------------------------------------------- numba kernels
@njit(cache=True)
def _sum_spherical(ln_r, r_hint, r_lookup, q, ln_q, iE, xyz):
    total = 0.0
    for k in range(xyz.shape[0]):
        total += emission_kernels.spherical_q(ln_r, r_hint, r_lookup, q, ln_q, iE,
                                              xyz[k, 0], xyz[k, 1], xyz[k, 2])
    return total


@njit(cache=True)
def _sum_axisymmetric(R, R_hint, R_lookup, z, z_hint, z_lookup, q, ln_q, mirror, iE, xyz):
    total = 0.0
    for k in range(xyz.shape[0]):
        total += emission_kernels.axisymmetric_q(R, R_hint, R_lookup, z, z_hint, z_lookup, q, ln_q,
                                                 mirror, iE, xyz[k, 0], xyz[k, 1], xyz[k, 2])
    return total


def test_kernels_callable_from_other_numba_code(corona_tables):
    # The documented calling convention: another @njit function gets the table arrays and
    # an energy index and calls the point kernel.
    rng = np.random.default_rng(3)
    xyz = rng.uniform(-300, 300, (2000, 3))
    em = corona_tables["gamma"]
    iE = em.energy_index(em.E_eV[25])
    assert _sum_spherical(*em.kernel_tables, iE, xyz) == pytest.approx(
        em.q_at_index(iE, xyz[:, 0], xyz[:, 1], xyz[:, 2]).sum(), rel=1e-12, abs=0)
    disk = transport.build_emission(transport.load_config(), "disk", "gamma", E_eV=[1e12, 1e13])
    xyz[:, 2] /= 100.0
    assert _sum_axisymmetric(*disk.kernel_tables, 1, xyz) == pytest.approx(
        disk.q_at_index(1, xyz[:, 0], xyz[:, 1], xyz[:, 2]).sum(), rel=1e-12, abs=0)


def test_spectrum_kernels_give_every_energy_at_a_point(corona_tables):
    # one location lookup, all table energies: the same numbers as the single-energy kernels
    disk = transport.build_emission(transport.load_config(), "disk", "gamma", E_eV=[1e10, 1e12, 1e14])
    for em, kernel in ((corona_tables["gamma"], emission_kernels.spherical_q_spectrum),
                       (disk, emission_kernels.axisymmetric_q_spectrum)):
        out = np.empty(em.E_eV.size)
        for x, y, z in ((8.5, 0.0, 0.0), (3.0, -4.0, 0.3), (0.0, 0.0, 0.0), (400.0, 0.0, 0.0)):
            kernel(*em.kernel_tables, x, y, z, out)
            assert np.array_equal(out, em.q_at_index(np.arange(em.E_eV.size), x, y, z))


def test_discontinuity_nodes_and_unmirrored_tables():
    R = np.array([0.0, 5.0, 5.0, 10.0])
    z = np.array([-1.0, 0.0, 1.0])                  # z_kpc[0] < 0: not mirrored
    q = np.zeros((2, 4, 3))
    q[:, :2, :] = 2.0                                # 2 for R < 5, 0 beyond
    em = AxisymmetricEmission(R, z, [1e9, 1e10], q)
    assert not em.mirror
    assert np.allclose(em(1e9, [4.99, 5.01, 1.0], 0.0, [0.5, 0.5, -0.5]), [2.0, 0.0, 2.0], rtol=1e-5, atol=0)
    assert em(1e9, 1.0, 0.0, -1.5) == 0.0 and em(1e9, 1.0, 0.0, 1.5) == 0.0


# --------------------------------------------------------------------------- HDF5, errors
def test_hdf5_round_trip(tmp_path, corona_tables):
    disk = transport.build_emission(transport.load_config(), "disk", "nu", E_eV=[1e12, 1e13])
    path = tmp_path / "em.h5"
    with h5py.File(path, "w") as fh:
        write_emissions(fh, {"corona": {"gamma": corona_tables["gamma"]}, "disk": {"nu": disk}})
    with h5py.File(path) as fh:
        ds = fh["emission/corona/gamma"]
        assert ds.attrs["units"] == "cm^-3 s^-1 eV^-1" and ds.attrs["geometry"] == "spherical"
        back = SphericalEmission.from_hdf5(ds)
        back_disk = SphericalEmission.from_hdf5(fh["emission/disk/nu"])
    assert np.array_equal(back.q, corona_tables["gamma"].q)
    assert np.array_equal(back.r_kpc, corona_tables["gamma"].r_kpc)
    assert isinstance(back_disk, AxisymmetricEmission)
    assert back_disk(1e12, 8.0, 1.0, 0.1) == disk(1e12, 8.0, 1.0, 0.1)
    assert back_disk.attrs["model"] == "disk"


@pytest.mark.parametrize("args, fragment", [
    (([1.0, 0.5, 2.0], [1e9, 1e10], np.ones((2, 3))), "r_kpc"),
    (([0.5, 1.0, 2.0], [1e10, 1e9], np.ones((2, 3))), "E_eV"),
    (([0.5, 1.0, 2.0], [1e9, 1e10], np.ones((3, 2))), "q has shape (3, 2): expected (2, 3)"),
    (([0.5, 1.0, 2.0], [1e9, 1e10], -np.ones((2, 3))), "q contains negative"),
    (([-0.5, 1.0, 2.0], [1e9, 1e10], np.ones((2, 3))), "r_kpc"),
])
def test_bad_tables_are_one_clear_error(args, fragment):
    with pytest.raises(ArgumentError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        SphericalEmission(*args)


def test_bad_evaluation_requests(corona_tables):
    em = corona_tables["gamma"]
    with pytest.raises(ArgumentError, match="outside the table"):
        em(1e8, 1.0, 0.0, 0.0)
    with pytest.raises(ArgumentError, match="not a table energy"):
        em.energy_index(1.234e12)
    with pytest.raises(ArgumentError, match="iE"):
        em.q_at_index(em.E_eV.size, 1.0, 0.0, 0.0)
    with pytest.raises(ArgumentError, match="needs the transport solution"):
        transport.build_emission(transport.load_config(), "corona", "gamma")
