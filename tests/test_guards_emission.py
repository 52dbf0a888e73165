"""Emission models of transport.emission against closed forms and conservation laws, so that a
constant-factor error in the functions the physics tests pass over (the x1.1 mutants of
benchmarks/mutants.py) fails here.

- [T] App. B, eq. B7 and B8: the neutrino spectral shapes; [L] Sec. 3.3: the exponential
  cut-off power law; typed in here.
- [K] eq. 1-4 (cocoons): the Galactic injection carries the configured power L_CR above a
  kinetic energy of 1 GeV (docs/physics.md, section 7), and the source spectrum S(E) is the
  pp emissivity of the column Q_CR chi_c with n c -> 1/m_p; the cocoon table integrates over
  all space to S(E) (the SNR distribution is normalised to unit volume).
- The Galactic nucleon density of the [disk] "injection" spectrum: [L] eq. 3 per species
  with the H3a amplitudes at 1 TV, helium as 4 nucleons of E/4 (superposition).

Tolerances (atol=0 throughout): rtol=1e-12 for the same closed form evaluated alike
(round-off); rtol=1e-9 where a rigidity -> energy round trip enters; rtol=1e-4 for the power
integral (the code's trapezoid on 1201 log nodes against ours on 20001: measured 3.5e-6);
rtol=2e-3 for a table's volume integral against its spectrum (measured 6.8e-4: the table ends
at galaxy.R_max_kpc = 30 and z_max_kpc = 4, and its log-bilinear quadrature). All far below a
10 % change.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import transport
from transport.core.constants import C_CM_S, ERG_EV, KPC_CM, M_P_G
from transport.cosmicrays import galactic_injection as gi
from transport.emission import cocoons, disk, distributions

CFG = transport.load_config(None)


def test_neutrino_shapes_of_tibet_appendix_b_and_ecpl():
    E = np.geomspace(1e12, 1e17, 11)
    x = E / (0.04 * 0.9e15)
    assert_allclose(disk.model_A_neutrinos(E), x ** -2.54 * (1 + x ** 3.0) ** (-0.67 / 3.0),
                    rtol=1e-12, atol=0)
    y = E / (0.04 * 3e15)
    assert_allclose(disk.model_B_neutrinos(E), np.where(y < 1, y ** -2.45, y ** -2.85),
                    rtol=1e-12, atol=0)
    assert_allclose(disk.ecpl(E, 2.3, 2e15), (E / 2e15) ** -2.3 * np.exp(-E / 2e15),
                    rtol=1e-12, atol=0)


def _eq3(R_GV, law):
    n = sum(R_GV >= b for b in law.breaks_GV)
    amp = np.prod([law.breaks_GV[i - 1] ** (law.nu[i] - law.nu[i - 1]) for i in range(1, n + 1)])
    return amp * R_GV ** -law.nu[n] * np.exp(-R_GV / law.Rc_GV)


def _h3a_density(group, E_eV):
    """4 pi / c times Gaisser (2012) eq. 3 (H3a, Table 1) [cm^-3 eV^-1]."""
    Z, pops = {14: (1, [(7860.0, 1.66), (20.0, 1.4), (1.7, 1.4)]),
               402: (2, [(3550.0, 1.58), (20.0, 1.4), (1.7, 1.4)])}[group]
    E = E_eV / 1e9
    flux = sum(a * E ** (-g - 1.0) * np.exp(-E / (Z * rc))
               for (a, g), rc in zip(pops, (4e6, 30e6, 2e9)))
    return 4 * np.pi / C_CM_S * flux * 1e-13


@pytest.mark.parametrize("model", gi.INJECTION_MODELS)
def test_galactic_nucleon_density_by_superposition(model):
    """n(E_n) = sum_s A_s^2 a_s Q_s/D(A_s E_n), Q_s/D = f(R) dR/dE R^-delta ([L] eq. 3), a_s from
    H3a's group density at R = 1 TV (delta = 0.362). rtol=1e-9 (rigidity round trips)."""
    delta = 0.362
    E_n = np.geomspace(1e10, 1e16, 7)
    expected = np.zeros(E_n.size)
    for s, group in ((gi.PROTON, 14), (gi.HELIUM, 402)):
        law = gi.TABLE_II[(s.name, model)]

        def shape(E):                              # f(R) dR/dE R^-delta, R in GV
            p = np.sqrt(E ** 2 - s.mass_eV ** 2)
            R = p / s.Z / 1e9
            return np.array([_eq3(r, law) for r in np.atleast_1d(R)]) * E / (s.Z * p) * R ** -delta

        E_match = np.sqrt((1e12 * s.Z) ** 2 + s.mass_eV ** 2)
        a = _h3a_density(group, E_match) / shape(E_match)[0]
        expected += s.A ** 2 * a * shape(s.A * E_n)
    assert_allclose(disk.galactic_nucleon_density(E_n, model, delta), expected, rtol=1e-9, atol=0)


# --------------------------------------------------------------------------- cocoons [K]
def test_cocoon_injection_carries_the_configured_power():
    """sum_s Integral_{T >= 1 GeV} T Q_CR,s dE = cocoons.L_CR_erg_s (trapezoid in ln T on
    20001 nodes to 1e21 eV, where the cut-offs have ended it); the same integral of
    a_s f_s dR/dE (amplitude A = 1) is power_per_unit_amplitude_eV_s."""
    T = np.geomspace(1e9, 1e21, 20001)
    total = sum(np.trapezoid(T * T * cocoons.injection_rate(T + s.mass_eV, s, CFG), np.log(T))
                for s in gi.SPECIES)
    assert_allclose(total, CFG.cocoons.L_CR_erg_s * ERG_EV, rtol=1e-4, atol=0)
    model, delta = CFG.cocoons.injection, CFG.galaxy.D_delta
    a = gi.species_weights(model, delta)
    per_unit = sum(np.trapezoid(T * T * a[s.name] * gi.injection_per_energy(T + s.mass_eV, s, model),
                                np.log(T)) for s in gi.SPECIES)
    assert_allclose(cocoons.power_per_unit_amplitude_eV_s(model, delta), per_unit, rtol=1e-4, atol=0)


@pytest.mark.parametrize("particle", ["gamma", "nu"])
def test_cocoon_spectrum_is_the_pp_emissivity_of_the_grammage_column(particle):
    """[K] eq. 2: S(E) = (1/m_p) sum_s Integral Q_CR,s chi_c(R_s) dsigma/dE, i.e. the pp
    emissivity (transport.hadronic.secondaries.pp_emissivity, checked in tests/test_yields.py)
    of the nucleon column sum_s A^2 Q_CR,s(A E_n) chi0 exp(-R_s / R0) [K, eq. 4] with n c ->
    1/m_p. rtol=1e-12 (the same quadrature)."""
    from transport.hadronic.secondaries import pp_emissivity
    c = CFG.cocoons
    E_n = disk.nucleon_grid(CFG)
    column = np.zeros(E_n.size)
    for s in gi.SPECIES:
        E = s.A * E_n
        ok = E > s.mass_eV
        R_V = np.sqrt(E[ok] ** 2 - s.mass_eV ** 2) / s.Z
        column[ok] += s.A ** 2 * cocoons.injection_rate(E[ok], s, CFG) * c.chi0_g_cm2 * np.exp(-R_V / c.R0_V)
    E = np.geomspace(1e11, 1e15, 5)
    expected = pp_emissivity(E_n, column, 1.0 / (M_P_G * C_CM_S), E, particle, CFG.hadronic.yields,
                             hadronic=CFG.hadronic, neutrino=CFG.neutrino)
    assert np.all(expected > 0)
    assert_allclose(cocoons.cocoon_spectrum(E, particle, CFG), expected, rtol=1e-12, atol=0)


def test_plane_tables_integrate_to_their_spectra():
    """Integral q dV of the cocoon table is S(E) (rho of unit volume integral), and of the
    [disk] table s(E) V_f (f = 1 at the reference point, V_f = distributions.volume_kpc3)."""
    E = np.array([1e11, 1e13, 1e15])
    em = cocoons.cocoon_emission(CFG, "gamma", E)
    assert_allclose(em.total_rate(), cocoons.cocoon_spectrum(E, "gamma", CFG), rtol=2e-3, atol=0)
    dk = disk.disk_emission(CFG, "gamma", E)
    V = distributions.volume_kpc3(CFG.disk.distribution, CFG.distributions) * KPC_CM ** 3
    assert_allclose(dk.total_rate(), disk.disk_spectrum(E, "gamma", CFG) * V, rtol=2e-3, atol=0)
    for name in ("extra1", "extra2"):
        x = CFG[name]
        ex = disk.extra_emission(CFG, name, "nu", E)
        V = distributions.volume_kpc3(x.distribution, CFG.distributions) * KPC_CM ** 3
        assert_allclose(ex.total_rate(), disk.extra_spectrum(E, "nu", CFG, name) * V, rtol=2e-3,
                        atol=0)


def test_corona_table_is_the_direct_emissivity_at_its_nodes(baseline):
    """The corona table at its radial nodes (on the x axis) is corona_emissivity there, [C]
    eq. 6 evaluated directly. rtol=1e-9, atol=0: the table's log interpolation is exact at a
    node up to round-off of exp(ln q)."""
    from transport.emission import corona
    E = np.array([1e11, 1e13, 1e15])
    em = corona.corona_emission(baseline, "gamma", E)
    r = em.r_kpc[[3, 20, 40]]
    direct = corona.corona_emissivity(baseline, "gamma", r, E)
    assert np.all(direct > 0)
    table = np.array([em(E, rk, 0.0, 0.0) for rk in r]).T
    assert_allclose(table, direct, rtol=1e-9, atol=0)


def test_build_emissions_gives_every_model_and_particle_its_table():
    """build_emissions over emission.models x emission.particles: each table integrates to its
    own spectrum times the volume of its distribution (as above, rtol=2e-3), on the [emission]
    energy grid."""
    from transport.emission.registry import build_emissions, emission_energy_grid
    cfg = transport.load_config({"emission.models": ["disk", "extra1"],
                                 "emission.particles": ["gamma", "nu"]})
    tables = build_emissions(cfg)
    E = emission_energy_grid(cfg)
    assert set(tables) == {"disk", "extra1"}
    for model, spectrum in (("disk", lambda p: disk.disk_spectrum(E, p, cfg)),
                            ("extra1", lambda p: disk.extra_spectrum(E, p, cfg, "extra1"))):
        V = distributions.volume_kpc3(cfg[model].distribution, cfg.distributions) * KPC_CM ** 3
        for p in ("gamma", "nu"):
            em = tables[model][p]
            assert_allclose(em.E_eV, E, rtol=1e-12, atol=0)
            s = spectrum(p)
            assert np.count_nonzero(s > 0) > 10
            assert_allclose(em.total_rate(), s * V, rtol=2e-3, atol=0)


@pytest.mark.parametrize("transport_model", ["uniform", "kra_gamma"])
def test_sea_diffusion_index_on_the_halo_cells(transport_model):
    """delta(R) on the radial cells of the [sea] halo grid: galaxy.D_delta everywhere for
    "uniform"; A min(R, R_A) + B for "kra_gamma" (Gaggero et al. 2015), R at the cell centres
    (R_step_kpc / 2, 3 R_step_kpc / 2, ...). rtol=1e-12, atol=0."""
    from transport.emission import sea
    cfg = transport.load_config({"sea.transport": transport_model})
    s = cfg.sea
    R = (np.arange(int(round(s.R_halo_kpc / s.R_step_kpc))) + 0.5) * s.R_step_kpc
    expected = (np.full(R.size, cfg.galaxy.D_delta) if transport_model == "uniform"
                else s.kra_A_per_kpc * np.minimum(R, s.kra_R_kpc) + s.kra_B)
    assert_allclose(sea.diffusion_index_cells(cfg), expected, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- the sea [L, D, K]
#: CI-size sea (as tests/test_sea.py): coarse halo cells, two rigidities per decade.
SEA_SMALL = {"sea.R_step_kpc": 0.5, "sea.z_step_kpc": 0.1, "sea.rho_per_decade": 2}


def test_sea_local_density_is_h3a_at_one_teraVolt_with_the_galactic_shape():
    """n_s,sun(E) = a_s Q_s/D: at R = 1 TV the H3a density 4 pi / c Phi (Gaisser 2012, typed
    in above), elsewhere that times the ratio of the closed-form [L] eq. 3 shapes f dR/dE
    R^-delta. rtol=1e-9, atol=0 (rigidity round trips)."""
    from transport.emission import sea
    cfg = transport.load_config(SEA_SMALL)
    model, delta = cfg.sea.injection, cfg.galaxy.D_delta
    for s, group in ((gi.PROTON, 14), (gi.HELIUM, 402)):
        law = gi.TABLE_II[(s.name, model)]

        def shape(E):
            p = np.sqrt(E ** 2 - s.mass_eV ** 2)
            return _eq3(p / s.Z / 1e9, law) * E / (s.Z * p) * (p / s.Z / 1e9) ** -delta

        E_match = np.sqrt((1e12 * s.Z) ** 2 + s.mass_eV ** 2)
        E = np.array([3e10, E_match, 4e14])
        expected = _h3a_density(group, E_match) * np.array([shape(e) for e in E]) / shape(E_match)
        assert_allclose(sea.local_density(E, s, cfg), expected, rtol=1e-9, atol=0)


def test_sea_injection_gives_the_local_density_through_a_fresh_diffusion_solve():
    """Q_s(E) at a rigidity node rho_k of the response (2 per decade from 1 GV), put into the
    steady diffusion equation with D(rho_k, R) = D0 (rho_k / rho0)^delta and the source shape
    sea.source (transport.cosmicrays.galactic_diffusion.solve_steady, checked against the
    Bessel series in tests/test_sea.py), gives n_s,sun at the Sun (R_sun, z = 0; bilinear
    between cell centres as the sea's tables). rtol=1e-9, atol=0: the same linear solve,
    round-off of the sparse factorisation."""
    from transport.cosmicrays import galactic_diffusion as gd
    from transport.emission import sea
    cfg = transport.load_config(SEA_SMALL)
    s = cfg.sea
    grid = gd.halo_grid(s.R_halo_kpc, s.halo_kpc, s.R_step_kpc, s.z_step_kpc)
    source = distributions.shape(s.source, cfg.distributions, grid.R_centres[:, None],
                                 grid.z_centres[None, :])
    for species in gi.SPECIES:
        rho = 1e9 * 10.0 ** np.array([1.0, 2.5, 4.0])           # rigidity nodes [V]
        E = np.sqrt((species.Z * rho) ** 2 + species.mass_eV ** 2)
        Q = sea.injection_density(E, species, cfg)
        for k in range(rho.size):
            D = s.D0_cm2_s * (rho[k] / s.rho0_V) ** np.full(grid.R_centres.size, cfg.galaxy.D_delta)
            n = gd.solve_steady(grid, D, Q[k] * source)
            n_sun = sea._bilinear(grid, n, cfg.observer.r_sun_kpc, 0.0)[0]
            assert_allclose(n_sun, sea.local_density(E[k], species, cfg), rtol=1e-9, atol=0)


def test_sea_source_volume_and_power_by_quadrature():
    """Integral f dV of sea.source (a power-exponential [L, eq. 2]: scipy's quad in R, the z
    integral 2 z_s) in cm^3, rtol=1e-8; the CR power sum_s Integral_{T >= 1 GeV} T Q_s dE
    Integral f dV in erg/s on 20001 ln T nodes, rtol=1e-4 (the code's 1201: measured < 1e-5).
    atol=0."""
    from scipy.integrate import quad

    from transport.emission import sea
    cfg = transport.load_config(SEA_SMALL)
    p = distributions.parameters(cfg.sea.source, cfg.distributions)
    radial, _ = quad(lambda R: 2 * np.pi * R * distributions.power_exponential(
        R, 0.0, p["index"], p["eta"], p["z_scale_kpc"], p["R_ref_kpc"]), 0.0, np.inf,
        epsabs=0, epsrel=1e-11, limit=200)
    V = radial * 2.0 * p["z_scale_kpc"] * KPC_CM ** 3
    assert_allclose(sea.source_volume_cm3(cfg), V, rtol=1e-8, atol=0)
    T = np.geomspace(1e9, 1e21, 20001)
    power = sum(np.trapezoid(T * T * sea.injection_density(T + s.mass_eV, s, cfg), np.log(T))
                for s in gi.SPECIES) * V / ERG_EV
    assert_allclose(sea.cr_power_erg_s(cfg), power, rtol=1e-4, atol=0)


def test_sea_halo_cells_and_table_nodes_span_the_halo():
    """The [sea] halo: cells of sea.R_step_kpc x sea.z_step_kpc filling [0, R_halo] x
    [0, halo_kpc] (the boundary n = 0 sits at R_halo and H, [L] Table I: 20 kpc and 6.3 kpc by
    default); the emission table's nodes run from 0 to the same R_halo and H, R every
    R_step_kpc, z graded from 10 pc steps at the plane. rtol=1e-12, atol=0."""
    from transport.emission import sea
    cfg = transport.load_config(None)
    s = cfg.sea
    grid = sea.halo_grid(cfg)
    n_R, n_z = int(round(s.R_halo_kpc / s.R_step_kpc)), int(np.ceil(s.halo_kpc / s.z_step_kpc - 1e-9))
    assert_allclose(grid.R_faces, np.linspace(0.0, s.R_halo_kpc, n_R + 1), rtol=1e-12, atol=0)
    assert_allclose(grid.z_faces, np.linspace(0.0, s.halo_kpc, n_z + 1), rtol=1e-12, atol=0)
    R, z = sea.table_nodes(cfg)
    assert_allclose(R, np.linspace(0.0, s.R_halo_kpc, n_R + 1), rtol=1e-12, atol=0)
    assert_allclose(z[[0, 1, -1]], [0.0, 0.01, s.halo_kpc], rtol=1e-12, atol=0)
