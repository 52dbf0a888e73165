"""A cascade response table's spectra against closed forms, so that a constant-factor error in
the methods of :class:`montecarlo.cascade.response.ResponseTable` (single_source, E_obs_eV,
tau_photon, cascade_intensity, gamma_intensity: the x1.1 mutants of benchmarks/mutants.py)
fails here.

A synthetic table: nodes z = 0.5, 1 (z = 0 is the table's implicit zero row), G(z_j, E', b) =
c_j (b + 1) and a constant error s_j; a source L(E') = (a + ln E') / E'. The spectrum is
Integral d ln E' E' L(E') G(z, E', b) with G linear in z between nodes, i.e.

    dN/dE(b) = (b + 1) c(z) [a x + x^2 / 2]_{ln E'_min}^{ln E'_max},  c(z) linear in z,

which the trapezoid rule in ln E' integrates exactly (the integrand is linear in ln E').
The error: sqrt(sum_i w_i^2 (E'_i L(E'_i))^2 ((1 - g)^2 s_j^2 + g^2 s_(j+1)^2)) with the
trapezoid weights w_i written out here.

The cascade intensity, eq. (2) of :mod:`montecarlo.cascade.extragalactic`: trapezoid weights
in z over (0, 0.5, 1) (the implicit zero row at z = 0), i.e. (0.5, 0.25) at the nodes, times
n_gal(z) / ((1 + z) H(z)) with H of [C]'s flat cosmology (H0 = 70 km/s/Mpc, Omega_m = 0.3)
typed in here. tau_photon: the table holds a function bilinear in (ln E, z), which bilinear
interpolation reproduces exactly anywhere inside.

Tolerance: rtol=1e-12, atol=0 where the comparison is exact arithmetic up to round-off of a few
dozen operations on numbers of order 1-100; rtol=1e-9, atol=0 where H(z) enters (astropy's
value against the closed form: round-off and the Mpc constant); atol=1e-12 for tau, which is
zero at one corner. All far below a 10 % change.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from montecarlo.cascade import extragalactic as eg
from montecarlo.cascade.response import ResponseTable
from transport.core.constants import C_CM_S, MPC_CM

A = 3.0


def _table():
    z = np.array([0.5, 1.0])
    E = np.geomspace(1e12, 1e15, 13)
    edges = np.geomspace(1e9, 1e14, 6)
    c = np.array([2.0, 5.0])
    s = np.array([0.3, 0.7])
    nb = edges.size - 1
    G = c[:, None, None] * (np.arange(nb) + 1.0)[None, None, :] * np.ones((1, E.size, 1))
    G_err = s[:, None, None] * np.ones((2, E.size, nb))
    lnE_tau = np.log(np.geomspace(1e9, 1e15, 4))
    z_tau = np.array([0.0, 0.5, 1.0])
    tau = _tau(lnE_tau[:, None], z_tau[None, :])
    return ResponseTable(z, E, edges, G, G_err, lnE_tau, z_tau, tau, "test", {}), c, s


def _tau(lnE, z):
    """Bilinear in (ln E, z), zero at (ln 1e9, 0)."""
    x = lnE - np.log(1e9)
    return 0.3 * x + 2.0 * z + 0.1 * x * z


def _L(E):
    return (A + np.log(E)) / E


@pytest.mark.parametrize("z_source, c_of_z", [(0.75, lambda c: 0.5 * (c[0] + c[1])),
                                              (0.25, lambda c: 0.5 * c[0]),
                                              (1.0, lambda c: c[1])])
def test_single_source_closed_form(z_source, c_of_z):
    table, c, s = _table()
    x1, x2 = np.log(table.E_inj_eV[0]), np.log(table.E_inj_eV[-1])
    integral = A * (x2 - x1) + 0.5 * (x2 ** 2 - x1 ** 2)
    nb = table.edges_eV.size - 1
    expected = (np.arange(nb) + 1.0) * c_of_z(c) * integral
    assert_allclose(table.single_source(z_source, _L), expected, rtol=1e-12, atol=0)


def test_single_source_error_between_nodes():
    table, c, s = _table()
    lnE = np.log(table.E_inj_eV)
    d = np.diff(lnE)
    w = np.concatenate([[0.5 * d[0]], 0.5 * (d[:-1] + d[1:]), [0.5 * d[-1]]])
    f = w * table.E_inj_eV * _L(table.E_inj_eV)
    g = 0.5                                          # z = 0.75, halfway between the nodes
    value, err = table.single_source(0.75, _L, with_error=True)
    expected_err = np.sqrt(np.sum(f ** 2) * ((1 - g) ** 2 * s[0] ** 2 + g ** 2 * s[1] ** 2))
    assert_allclose(err, np.full(value.shape, expected_err), rtol=1e-12, atol=0)
    assert_allclose(value, table.single_source(0.75, _L), rtol=1e-12, atol=0)


def test_bin_centres_and_tau_bilinear():
    table, c, s = _table()
    e = table.edges_eV
    assert_allclose(table.E_obs_eV, np.sqrt(e[:-1] * e[1:]), rtol=1e-12, atol=0)
    E0 = np.array([2e9, 3.3e11, 7e14])
    z = np.array([0.1, 0.55, 0.93])
    assert_allclose(table.tau_photon(E0, z), _tau(np.log(E0), z), rtol=1e-12, atol=1e-12)


def _cascade_expected(table, c):
    uni = eg.Universe(cosmology="seed", z_max=1.0)
    x1, x2 = np.log(table.E_inj_eV[0]), np.log(table.E_inj_eV[-1])
    integral = A * (x2 - x1) + 0.5 * (x2 ** 2 - x1 ** 2)
    z = table.z
    H = 70.0e5 / MPC_CM * np.sqrt(0.3 * (1.0 + z) ** 3 + 0.7)
    wz = np.array([0.5, 0.25])
    per_z = wz * c * uni.n_gal_cm3(z) / ((1.0 + z) * H)
    nb = table.edges_eV.size - 1
    return uni, C_CM_S / (4 * np.pi) * (np.arange(nb) + 1.0) * integral * per_z.sum()


def test_cascade_intensity_eq2_closed_form():
    table, c, s = _table()
    uni, expected = _cascade_expected(table, c)
    assert_allclose(table.cascade_intensity(_L, uni), expected, rtol=1e-9, atol=0)


def test_gamma_intensity_is_direct_with_tau_plus_cascade():
    """gamma_intensity = (eq. (1) with the table's tau, the cascade at E0): at the bin centres
    the cascade part is eq. (2) itself; the direct part equals direct_intensity with
    tau = the bilinear function above."""
    table, c, s = _table()
    uni, expected = _cascade_expected(table, c)
    E0 = table.E_obs_eV
    direct, casc = table.gamma_intensity(E0, _L, uni)
    assert_allclose(casc, expected, rtol=1e-9, atol=0)
    ref = eg.direct_intensity(E0, _L, uni, tau=lambda E, z: _tau(np.log(E), z))
    assert np.all(ref > 0)
    assert_allclose(direct, ref, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- Monte Carlo pieces
def test_tally_dn_de_mean_and_standard_error():
    """Two primaries per cell with bin weights (1, 3) and (2, 2): mean per primary / bin width,
    standard error sqrt((<w^2> - <w>^2) / (N - 1)) / width, written out per bin.
    rtol=1e-12, atol=0 (round-off)."""
    from montecarlo.cascade.montecarlo import Tally
    edges = np.array([1e9, 1e10, 1e11])
    w1, w2 = np.array([1.0, 2.0]), np.array([3.0, 2.0])       # the two primaries, two bins
    spec = (w1 + w2)[None, :]
    spec_sq = (w1 ** 2 + w2 ** 2)[None, :]
    t = Tally(spec, spec_sq, np.zeros((1, 8)), np.zeros((1, 8)), np.array([2.0]), edges)
    mean, err = t.dN_dE()
    width = np.diff(edges)
    assert_allclose(mean[0], np.array([2.0, 2.0]) / width, rtol=1e-12, atol=0)
    assert_allclose(err[0], np.array([1.0, 0.0]) / width, rtol=1e-12, atol=1e-30)


@pytest.mark.parametrize("index", [1.0, 2.0, 2.7])
def test_sample_power_law_inverse_cdf(index):
    """The same uniform numbers through the inverse CDF of E^-index on [E_lo, E_hi], typed in
    here (ln-uniform for index 1); and the sample mean of E against the closed form
    Integral E^(1-index) / Integral E^-index (1e5 samples: standard error < 0.5 %, so rtol=0.03,
    atol=0 is > 6 sigma and below a 10 % change). rtol=1e-12, atol=0 for the inverse CDF."""
    from montecarlo.cascade.montecarlo import sample_power_law
    lo, hi, n = 1e12, 1e14, 100_000
    E = sample_power_law(np.random.default_rng(5), n, lo, hi, index)
    u = np.random.default_rng(5).random(n)
    if index == 1.0:
        expected = lo * (hi / lo) ** u
    else:
        g = 1.0 - index
        expected = (lo ** g + u * (hi ** g - lo ** g)) ** (1.0 / g)

    def power_integral(p):                  # Integral_lo^hi E^p dE
        return np.log(hi / lo) if p == -1.0 else (hi ** (p + 1) - lo ** (p + 1)) / (p + 1)

    mean = power_integral(1.0 - index) / power_integral(-index)
    assert_allclose(E, expected, rtol=1e-12, atol=0)
    assert E.min() >= lo and E.max() <= hi
    assert_allclose(E.mean(), mean, rtol=0.03, atol=0)


def test_emission_rate_from_a_uniform_sphere():
    """L_MW = Integral q dV of a uniform sphere q0, radius R: (4/3) pi R^3 q0, both the stored
    table (EmissionRate.L) and its interpolation at the table energies. rtol=1e-3, atol=0: the
    emission's volume quadrature (tests/test_guards_extragalactic.py uses the same bound) -
    far below a 10 % change."""
    from transport import SphericalEmission
    from transport.core.constants import KPC_CM
    q0, R = 1e-25, 20.0
    E = np.geomspace(1e12, 1e15, 4)
    em = SphericalEmission(np.array([0.5, R]), E, np.full((E.size, 2), q0))
    rate = eg.EmissionRate.from_emission(em)
    L_ref = q0 * 4.0 / 3.0 * np.pi * (R * KPC_CM) ** 3
    assert_allclose(rate.E_eV, E, rtol=1e-12, atol=0)
    assert_allclose(rate.L, np.full(E.size, L_ref), rtol=1e-3, atol=0)
    assert_allclose(rate(E), np.full(E.size, L_ref), rtol=1e-3, atol=0)


# --------------------------------------------------------------------------- secondary energies
def _draws(kind, s, n):
    from numba import njit

    from montecarlo.cascade import interactions, kernels

    @njit
    def draw(sampler, s, ln_ds, q, n):
        np.random.seed(11)
        out = np.empty(n)
        for i in range(n):
            out[i] = sampler(s, ln_ds, q)
        return out

    ln_ds_pp, q_pp, ln_ds_ic, q_ic = interactions.secondary_tables()
    if kind == "pair":
        return draw(kernels.pair_fraction, s, ln_ds_pp, q_pp, n)
    return draw(kernels.ic_photon_fraction, s, ln_ds_ic, q_ic, n)


@pytest.mark.parametrize("d", [0.3, 10.0, 1e4])
def test_pair_lepton_fraction_against_lee_1998_by_quadrature(d):
    """Pair production at s = 4 m^2 (1 + d): the lepton's energy fraction is symmetric about
    1/2 (mean exactly 1/2), and its lower half y in [y0, 1/2] has the mean of Lee (1998) eq. (2)
    (interactions.pair_dsigma_dy, normalised here) by scipy's quad. 2e5 draws (fixed seed):
    the mean of f is within 0.2 % of 1/2 (rtol=0.01, atol=0); the lower half's mean within
    0.7 % (measured at d = 1e4: statistical ~0.2 % plus the stochastic choice between the
    table's rows and its 256 quantiles), so rtol=0.02, atol=0 - far below a 10 % change."""
    from scipy import integrate

    from montecarlo.cascade import interactions
    m2 = 0.51099895e6 ** 2
    f = _draws("pair", 4.0 * m2 * (1.0 + d), 200_000)
    assert np.all((f > 0) & (f < 1))
    assert_allclose(f.mean(), 0.5, rtol=0.01, atol=0)
    b = np.sqrt(d / (1.0 + d))
    y0 = 0.5 * (1.0 - b)
    norm, _ = integrate.quad(lambda y: interactions.pair_dsigma_dy(y, b), y0, 0.5, epsrel=1e-10)
    first, _ = integrate.quad(lambda y: y * interactions.pair_dsigma_dy(y, b), y0, 0.5,
                              epsrel=1e-10)
    assert_allclose(np.minimum(f, 1.0 - f).mean(), first / norm, rtol=0.02, atol=0)


@pytest.mark.parametrize("d", [0.1, 100.0])
def test_ic_photon_fraction_against_lee_1998_by_quadrature(d):
    """Inverse Compton at s = m^2 (1 + d): the photon takes 1 - y, y in [1 / (1 + d), 1]
    distributed as Lee (1998) eq. (3) (interactions.ic_dsigma_dy, b = d / (2 + d), normalised
    here); its mean by scipy's quad in ln y. 2e5 draws (fixed seed): measured within 0.05 %;
    rtol=0.01, atol=0 (statistics and the quantile table), far below a 10 % change."""
    from scipy import integrate

    from montecarlo.cascade import interactions
    m2 = 0.51099895e6 ** 2
    f = _draws("ic", m2 * (1.0 + d), 200_000)
    y0 = 1.0 / (1.0 + d)
    assert np.all((f >= 0) & (f <= 1.0 - y0 + 1e-12))
    b = d / (2.0 + d)

    def moment(k):
        val, _ = integrate.quad(lambda t: (1.0 - np.exp(t)) ** k * np.exp(t)
                                * interactions.ic_dsigma_dy(np.exp(t), b),
                                np.log(y0), 0.0, epsrel=1e-10, limit=200)
        return val

    assert_allclose(f.mean(), moment(1) / moment(0), rtol=0.01, atol=0)


def test_tally_closure_by_hand():
    """Closure = (photons + leptons + below E_min + adiabatic) / injected - 1 per cell:
    (50 + 20 + 10 + 15) / 100 - 1 = -0.05 and (30 + 0 + 0 + 0) / 30 - 1 = 0.
    rtol=1e-12, atol=1e-15 (the second is exactly 0 up to round-off)."""
    from montecarlo.cascade import kernels as ck
    from montecarlo.cascade.montecarlo import Tally
    acc = np.zeros((2, 6))
    acc[0, [ck.ACC_INJECTED, ck.ACC_PHOTONS, ck.ACC_LEPTONS, ck.ACC_BELOW, ck.ACC_ADIABATIC]] = \
        [100.0, 50.0, 20.0, 10.0, 15.0]
    acc[0, ck.ACC_PRIMARY] = 40.0                            # not part of the closure
    acc[1, [ck.ACC_INJECTED, ck.ACC_PHOTONS]] = [30.0, 30.0]
    t = Tally(np.zeros((2, 1)), np.zeros((2, 1)), acc, np.zeros((2, 8)), np.array([1.0, 1.0]),
              np.array([1e9, 1e10]))
    assert_allclose(t.closure(), [-0.05, 0.0], rtol=1e-12, atol=1e-15)


def test_secondary_table_grids_and_z_max():
    """The quantile tables' grids: s / 4m^2 - 1 from 1e-8 to 1e16 (pairs) and s / m^2 - 1 from
    1e-8 to 1e18 (inverse Compton), 8 per decade; every row a quantile function of t in [0, 1]
    from 0 to 1. z_max_of returns the checked value. rtol=1e-12, atol=0 (round-off)."""
    from montecarlo.cascade import interactions
    # built afresh here (the tables are cached per process), so that this test runs the code
    getattr(interactions.secondary_tables, "cache_clear", lambda: None)()
    ln_ds_pp, q_pp, ln_ds_ic, q_ic = interactions.secondary_tables()
    assert_allclose(np.exp(ln_ds_pp[[0, -1]]), [1e-8, 1e16], rtol=1e-12, atol=0)
    assert_allclose(np.exp(ln_ds_ic[[0, -1]]), [1e-8, 1e18], rtol=1e-12, atol=0)
    assert ln_ds_pp.size == 24 * 8 + 1 and ln_ds_ic.size == 26 * 8 + 1
    for q in (q_pp, q_ic):
        assert_allclose(q[:, 0], 0.0, rtol=0, atol=1e-12)
        assert_allclose(q[:, -1], 1.0, rtol=1e-12, atol=0)
        assert np.all(np.diff(q, axis=1) >= 0)
    assert_allclose(interactions.z_max_of("none", 2.5), 2.5, rtol=1e-12, atol=0)
    assert_allclose(interactions.z_max_of("dominguez", 1.0), 1.0, rtol=1e-12, atol=0)


def test_response_table_write_read_round_trip(tmp_path):
    """A table written (sealed, with its claims) reads back with the same arrays: rtol=1e-12,
    atol=0 (HDF5 stores float64 exactly; the tolerance only avoids comparing last bits)."""
    table, c, s = _table()
    path = tmp_path / "response.h5"
    claims = {"model": "test", "per_cell": 1}
    table.write(path, claims=claims)
    back = ResponseTable.read(path, claims)
    for name, _ in ResponseTable.ARRAYS:
        assert_allclose(getattr(back, name), getattr(table, name), rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- interaction sampling
def _sample_u_draws(cdf, lnE, n, lnE0, dlnE, lnx0, dlnx):
    from numba import njit

    from montecarlo.cascade import kernels

    @njit
    def draw(cdf, z, lnE0, dlnE, lnE, lnx0, dlnx, n):
        np.random.seed(3)
        out = np.empty(n)
        for i in range(n):
            out[i] = kernels.sample_u(cdf, 0.05, z, lnE0, dlnE, lnE, lnx0, dlnx)
        return out

    return draw(cdf, 0.03, lnE0, dlnE, lnE, lnx0, dlnx, n)


def test_sample_u_log_uniform_target_and_stochastic_energy_node():
    """u = 4 E x with a synthetic table: two redshift rows and two energy nodes (ln E0, ln E0 +
    dlnE), each a cumulative linear on 5 nodes of ln x (x0 e^(k dlnx), k = 0..4), so ln x is
    uniform on [ln x0, ln x0 + 4 dlnx]; the energy node is node 1 with probability f (the
    position of ln E between the nodes). Hence E[ln u] = ln 4 + ln E0 + f dlnE + ln x0 +
    2 dlnx exactly, and every u lies in [4 E0 x0, 4 E0 e^dlnE x0 e^(4 dlnx)]. A node whose
    field has no target (a row of zeros) passes to the next node; no target at all gives 0.
    2e5 draws: the geometric mean's statistical error is ~3e-4, so rtol=0.005, atol=0
    (> 15 sigma, and 20 times below a 10 % change); the bounds with rtol=1e-12 (round-off)."""
    lnE0, dlnE, lnx0, dlnx = np.log(1e12), np.log(10.0) / 10, np.log(1e-3), 0.1
    row = np.linspace(0.0, 1.0, 5)
    cdf = np.broadcast_to(row, (2, 2, 5)).copy()
    f = 0.3
    lnE = lnE0 + f * dlnE
    u = _sample_u_draws(cdf, lnE, 200_000, lnE0, dlnE, lnx0, dlnx)
    lo, hi = 4.0 * np.exp(lnE0 + lnx0), 4.0 * np.exp(lnE0 + dlnE + lnx0 + 4 * dlnx)
    assert u.min() >= lo * (1 - 1e-12) and u.max() <= hi * (1 + 1e-12)
    expected = 4.0 * np.exp(lnE0 + f * dlnE + lnx0 + 2 * dlnx)
    assert_allclose(np.exp(np.mean(np.log(u))), expected, rtol=0.005, atol=0)
    # node 0 has no target: every draw uses node 1 (ln x uniform again)
    cdf[:, 0, :] = 0.0
    u1 = _sample_u_draws(cdf, lnE, 200_000, lnE0, dlnE, lnx0, dlnx)
    assert u1.min() >= 4.0 * np.exp(lnE0 + dlnE + lnx0) * (1 - 1e-12)
    assert_allclose(np.exp(np.mean(np.log(u1))), 4.0 * np.exp(lnE0 + dlnE + lnx0 + 2 * dlnx),
                    rtol=0.005, atol=0)
    cdf[:] = 0.0
    assert np.all(_sample_u_draws(cdf, lnE, 10, lnE0, dlnE, lnx0, dlnx) == 0.0)


# --------------------------------------------------------------------------- response tables
def test_build_returns_the_monte_carlo_spectra_per_cell():
    """build() runs the Monte Carlo over the (z, E_inj) nodes and stores dN/dE per cell: G[j, i]
    and G_err[j, i] are the spectrum and error of cell (z_j, E_i) from montecarlo.run_cells
    over the same cells in the same order (z-major, written out here), same seed and settings
    (the random streams belong to the batches, so the runs are identical). The tau table is
    that of cascade_tables. rtol=1e-12, atol=0: the same arithmetic, compared without the
    last bits."""
    from montecarlo.cascade import interactions, montecarlo as mc, response
    from transport.core.config import load_config
    cfg = load_config(None)
    spec = response.ResponseSpec(z_nodes=(0.1, 0.15), E_inj_eV=(1e13, 1e14), per_cell=20, seed=7)
    table = response.build(cfg, spec)
    tables = interactions.cascade_tables(cfg, "dominguez", "planck18", 0.15)
    cells_z = np.array([0.1, 0.1, 0.15, 0.15])
    cells_E = np.array([1e13, 1e14, 1e13, 1e14])
    dn, err = mc.run_cells(tables, spec.settings, cells_E, cells_z, 20, 7).dN_dE()
    assert np.any(dn > 0)
    assert_allclose(table.G.reshape(4, -1), dn, rtol=1e-12, atol=0)
    assert_allclose(table.G_err.reshape(4, -1), err, rtol=1e-12, atol=0)
    assert_allclose(table.tau, tables.tau_gamma, rtol=1e-12, atol=0)
    assert_allclose(table.z, [0.1, 0.15], rtol=1e-12, atol=0)


def test_response_table_conserves_energy_at_low_redshift():
    """Energy conservation of the table response_table() serves (the bundled dominguez one):
    a photon of local energy E_inj injected at z arrives with at most E_inj / (1 + z); what
    the cascade photons (sum_b G_b dE_b E_b, E_b the bin centre) plus the unscattered primary
    (exp(-tau) E_inj / (1 + z)) carry is that minus the energy that fell below the table's
    E_min (1e8 eV), stayed in leptons or was redshifted. At z <= 0.02 and E_inj >= 1e14 eV
    (tau >> 1: the cascade carries it all) the mean ratio over the 50 cells is 0.978, its
    scatter over cells (200 primaries each, thinning) 0.008 as a standard error of the mean.
    Bound: 0.95 <= mean <= 1 + 3 standard errors (measured from the cells here). The bin
    centre misplaces the energy of an E^-2 spectrum in a bin of 1/8 decade by 0.3 %, inside
    the bound; a 10 % change of G moves the mean to ~1.08."""
    from montecarlo.cascade import response
    from transport.core.config import load_config
    table = response.response_table(load_config(None), build_missing=False)
    w = np.diff(table.edges_eV)
    centre = np.sqrt(table.edges_eV[1:] * table.edges_eV[:-1])
    sel_z = table.z <= 0.02
    sel_E = table.E_inj_eV >= 1e14
    G = table.G[sel_z][:, sel_E]
    z = table.z[sel_z][:, None]
    E_arrive = table.E_inj_eV[sel_E][None, :] / (1.0 + z)
    tau = table.tau_photon(E_arrive, np.broadcast_to(z, E_arrive.shape))
    ratio = ((G * w * centre).sum(axis=-1) + np.exp(-tau) * E_arrive) / E_arrive
    assert ratio.size == 50
    sem = ratio.std(ddof=1) / np.sqrt(ratio.size)
    assert 0.95 <= ratio.mean() <= 1.0 + 3.0 * sem, (ratio.mean(), sem)


# --------------------------------------------------------------------------- the Python API
def test_cascade_bins_span_E_min_to_E_bins_max():
    """Settings.edges_eV: bins_per_decade log bins from E_min_eV up to (at least) E_bins_max_eV:
    edges E_min 10^(k / bins_per_decade). rtol=1e-12, atol=0."""
    from montecarlo.cascade.montecarlo import Settings
    edges = Settings(E_min_eV=1e8, bins_per_decade=8, E_bins_max_eV=1e17).edges_eV
    assert_allclose(edges, 1e8 * 10.0 ** (np.arange(73) / 8), rtol=1e-12, atol=0)
    edges = Settings(E_min_eV=3e9, bins_per_decade=4, E_bins_max_eV=2e12).edges_eV
    assert_allclose(edges[[0, -1]], [3e9, 3e9 * 10.0 ** (12 / 4)], rtol=1e-12, atol=0)


def test_cascade_spectrum_carries_the_photon_energy_account():
    """Monochromatic primaries (E_inj = 1e14 eV at z = 0.1): the injected energy per primary is
    E_inj exactly (source frame; rtol=1e-12, atol=0); the spectrum's energy, sum_b E2dNdE_b
    dE_b / E_b with E_b the log centres of 1/16-decade bins, is the photon energy account of
    the same run (the bin centre misplaces the mean energy of an E^-2 bin by 0.1 %; measured
    0.15 % for a cascade; rtol=0.01, atol=0); energy_fraction is that account over the
    injected energy (rtol=1e-12, atol=0)."""
    from montecarlo import cascade_spectrum
    from montecarlo.cascade import kernels as ck
    r = cascade_spectrum(0.1, 1e14, 1e14, 2.0, E_min_eV=1e9, n_primaries=200, seed=3,
                         bins_per_decade=16)
    acc = r.accounts
    assert_allclose(acc[ck.ACC_INJECTED], 1e14, rtol=1e-12, atol=0)
    photons = acc[ck.ACC_PHOTONS]
    assert 0.3 < photons / 1e14 < 1.0
    spectrum_energy = np.sum(r.E2dNdE / r.E_eV * np.diff(r.edges_eV))
    assert_allclose(spectrum_energy, photons, rtol=0.01, atol=0)
    assert_allclose(r.energy_fraction, photons / 1e14, rtol=1e-12, atol=0)


def test_run_cells_spectrum_carries_the_photon_energy_account():
    """montecarlo.run_cells, one cell of 1e14 eV photons at z = 0.1: the injected energy per
    primary is 1e14 eV exactly (rtol=1e-12, atol=0) and the tallied spectrum's energy,
    sum_b dN/dE_b E_b dE_b over 1/16-decade bins, is the photon energy account (rtol=0.01,
    atol=0, as above)."""
    from montecarlo.cascade import interactions, kernels as ck, montecarlo as mc
    from transport.core.config import load_config
    tables = interactions.cascade_tables(load_config(None), "dominguez", "planck18", 0.15)
    settings = mc.Settings(E_min_eV=1e9, bins_per_decade=16, E_bins_max_eV=1e14)
    tally = mc.run_cells(tables, settings, [1e14], [0.1], 100, 5)
    dn, _ = tally.dN_dE()
    e = tally.edges_eV
    energy = np.sum(dn[0] * np.sqrt(e[1:] * e[:-1]) * np.diff(e))
    acc = tally.accounts[0] / tally.n_primaries[0]
    assert_allclose(acc[ck.ACC_INJECTED], 1e14, rtol=1e-12, atol=0)
    assert 0.3 < acc[ck.ACC_PHOTONS] / 1e14 < 1.0
    assert_allclose(energy, acc[ck.ACC_PHOTONS], rtol=0.01, atol=0)
