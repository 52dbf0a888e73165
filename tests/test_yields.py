"""pp secondary yields and the emissivity integral against analytic expectations and the papers.

[T, eq. 1]: E_nu^2 Q_nu(E_nu) ~ (3/2) E_g^2 Q_g(E_g) at E_nu = E_g / 2 for power-law protons;
secondary spectra follow the proton index, slightly harder. Energy budget per collision.
"""
import numpy as np
import pytest
from scipy.integrate import quad

import transport
from transport.hadronic import kelner2006, yields
from transport.core.constants import GEV_EV, M_P_EV
from transport.core.errors import ArgumentError
from transport.hadronic.cross_section import sigma_inel_kafexhiu2014_mb
from transport.hadronic.secondaries import pp_emissivity

MODELS = list(yields.MODELS)
NU_MODELS = [m for m in MODELS if "nu_e" in yields.MODELS[m].channels]

#: Secondary energies where each model's index and nu/gamma ratio are measured: from 0.1 TeV
#: to two decades below the highest primary energy of the model (0.1 TeV - 1 PeV for AAfrag),
#: so that truncation of the primaries there does not bend the spectra.
FIT_RANGE_EV = {"aafrag": (1e11, 1e15), "kafexhiu2014": (1e11, 1e13),
                "kamae2006": (1e11, 3e12), "kelner2006": (1e11, 1e14)}

#: (centre, tolerance) of E_nu^2 Q_nu / (E_g^2 Q_g) met by each model for p = 2.0-2.7 over
#: FIT_RANGE_EV (measured: aafrag 1.35-1.50, kamae2006 1.26-1.51, kelner2006 1.03-1.23; the
#: KAB formulas integrated independently in test_kelner_emissivity_and_nu_gamma_ratio_by_quadrature
#: give 1.05-1.23).
#: [T] eq. 1 assumes pi+- : pi0 = 2 : 1 and E_nu = E_pi / 4, i.e. 3/2; the SIBYLL fit of
#: Kelner et al. gives the charged-pion products only ~1.45 times the photon energy, hence its
#: lower ratio, pinned here to its own measured range.
RATIO_EXPECTED = {"aafrag": (1.5, 0.16), "kamae2006": (1.5, 0.25), "kelner2006": (1.13, 0.12)}


def power_law_protons(model, p):
    """E^-p protons from 1 GeV to the model's highest primary energy (at most 1e20 eV)."""
    top = min(yields.MODELS[model].primary_max_eV, 1e20)
    E_p = np.geomspace(1e9, top, int(20 * np.log10(top / 1e9)) + 1)
    return E_p, E_p ** -p


def fit_energies(model):
    lo, hi = FIT_RANGE_EV[model]
    return np.geomspace(lo, hi, int(4 * np.log10(hi / lo)) + 1)


@pytest.mark.parametrize("p", [2.0, 2.4, 2.7])
@pytest.mark.parametrize("model", MODELS)
def test_secondary_index_follows_the_protons(model, p):
    # Tolerance: secondaries 0.02-0.15 harder than the protons. The rising sigma_inel
    # (~E^0.05-0.08 over TeV-PeV) and the scaling violation of the yields harden them; measured
    # 0.03-0.13 (Kamae 2006 quotes "about 0.05"). A softer or a much harder spectrum is a bug.
    E_p, j = power_law_protons(model, p)
    E = fit_energies(model)
    particles = ["gamma", "nu"] if model in NU_MODELS else ["gamma"]
    for particle in particles:
        q = pp_emissivity(E_p, j, 1.0, E, particle, model)
        index = -np.polyfit(np.log(E), np.log(q), 1)[0]
        assert 0.02 <= p - index <= 0.15, (particle, index)


@pytest.mark.parametrize("p", [2.0, 2.4, 2.7])
@pytest.mark.parametrize("model", NU_MODELS)
def test_neutrino_to_gamma_ratio_is_near_three_halves(model, p):
    E_p, j = power_law_protons(model, p)
    E_nu = fit_energies(model)
    q_nu = pp_emissivity(E_p, j, 1.0, E_nu, "nu", model)
    q_g = pp_emissivity(E_p, j, 1.0, 2 * E_nu, "gamma", model)
    ratio = E_nu ** 2 * q_nu / ((2 * E_nu) ** 2 * q_g)
    centre, tolerance = RATIO_EXPECTED[model]
    assert np.all(np.abs(ratio - centre) <= tolerance), ratio


def energy_fraction(model, channel, E_p):
    """Energy carried by ``channel`` per collision, in units of E_p (trapezoid in ln E)."""
    E = np.geomspace(1e-6 * E_p, E_p, 601)
    dN = yields.dN_dE(model, channel, [E_p], E)[0]
    return np.trapezoid(dN * E * E, np.log(E)) / E_p


@pytest.mark.parametrize("E_p", [1e11, 1e13, 1e15, 1e17])
def test_energy_budget_aafrag(E_p):
    # AAfrag tabulates every stable secondary, so the budget closes: all of them together
    # carry at most E_p + m_p (85-100 %: the missing few per cent are in the long-lived strange
    # particles AAfrag does not decay); photons, neutrinos and e+- (the pion products) carry
    # less than the inelastic loss E_p + m_p - E(p + n), and photons ~1/3 of it (pi0 : pi+- =
    # 1 : 2; measured 0.29-0.31) and ~1/3 of the pion products (measured 0.35).
    sigma = yields.sigma_inel_aafrag_mb(E_p)
    E = np.geomspace(1e5, E_p, 6000)
    frac = {}
    for sec in ("gam", "nu_e", "anu_e", "nu_mu", "anu_mu", "el", "posi", "p", "ap", "n", "an"):
        dN = yields.aafrag_dsigma_dE_mb_gev(sec, [E_p], E)[0] * 1e-9 / sigma
        frac[sec] = np.trapezoid(dN * E, E) / E_p
    everything = sum(frac.values()) * E_p / (E_p + M_P_EV)
    assert 0.85 <= everything <= 1.0
    loss = (E_p + M_P_EV) / E_p - frac["p"] - frac["n"]
    pions = sum(frac[s] for s in ("gam", "nu_e", "anu_e", "nu_mu", "anu_mu", "el", "posi"))
    assert pions < loss
    assert frac["gam"] / loss == pytest.approx(1 / 3, abs=0.06, rel=0)
    assert frac["gam"] / pions == pytest.approx(1 / 3, abs=0.05, rel=0)
    # and the channels of yields.dN_dE are the same tables
    assert energy_fraction("aafrag", "gamma", E_p) == pytest.approx(frac["gam"], rel=0.01, abs=0)


@pytest.mark.parametrize("model, E_p", [("kamae2006", 1e11), ("kamae2006", 1e13),
                                         ("kelner2006", 1e11), ("kelner2006", 1e13),
                                         ("kelner2006", 1e15)])
def test_energy_budget_parameterisations(model, E_p):
    # Photons ~1/3 of the pion-decay products (photons, neutrinos, e+-), which carry less than
    # the inelasticity K ~ 0.5 of E_p. Tolerance 0.30-0.45: Kamae gives 0.34, the SIBYLL fit of
    # Kelner et al. 0.41-0.43 (see RATIO_EXPECTED).
    f_g = energy_fraction(model, "gamma", E_p)
    f_nu = energy_fraction(model, "nu_e", E_p) + energy_fraction(model, "nu_mu", E_p)
    if model == "kelner2006":
        x = np.geomspace(1e-3, 1, 20001)
        f_e = np.trapezoid(x * kelner2006.F_lepton_muon_decay(x, E_p), x)
    else:
        E = np.geomspace(1e-6 * E_p, E_p, 601)
        dN = (yields.kamae2006_dsigma_dE_mb_gev("electrons", [E_p], E)[0] * 1e-9
              / yields.sigma_inel_kamae2006_mb(E_p))
        f_e = np.trapezoid(dN * E * E, np.log(E)) / E_p
    products = f_g + f_nu + f_e
    assert 0.3 < products < 0.6
    assert 0.30 <= f_g / products <= 0.45


def test_kafexhiu_photon_energy_fraction():
    # Kafexhiu 2014 has photons only: they carry ~K/3 of E_p, K ~ 0.5 (measured 0.12-0.15).
    for E_p in (1e11, 1e12, 1e13):
        assert 0.10 <= energy_fraction("kafexhiu2014", "gamma", E_p) <= 0.22


def test_kelner_direct_muon_neutrinos_carry_pion_decay_share():
    # pi -> mu nu_mu: the nu_mu takes (1 - m_mu^2/m_pi^2)/2 = 0.21 of the pion energy, the muon
    # 0.79, of which the electron gets 7/20 (Michel spectrum): direct nu_mu / electrons = 0.76,
    # within 10 % (measured 0.70). With a Jacobian 1/0.427 in F_numu^(1) it would be 1.8: this
    # checks that the formula is used as printed.
    x = np.geomspace(1e-3, 1, 40001)
    for E_p in (1e12, 1e14, 1e16):
        direct = np.trapezoid(x * kelner2006.F_numu_pion(x, E_p), x)
        electrons = np.trapezoid(x * kelner2006.F_lepton_muon_decay(x, E_p), x)
        assert direct / electrons == pytest.approx(0.21 / (0.79 * 7 / 20), rel=0.1, abs=0)


# --------------------------------------------------------------------------- cross-sections
@pytest.mark.parametrize("E_p_eV", [1.5e9, 2.0e9, 3.0e9])
def test_kinetic_energy_conversion_at_low_energy(E_p_eV):
    # Kafexhiu 2014 and Kamae 2006 take kinetic energy T_p = E_p - m_p c^2: at a few GeV a
    # mix-up changes the yields by tens of per cent, so compare with aafragpy called at T_p.
    import aafragpy.Kafexhiu2014 as k14
    import aafragpy.Kamae2006 as kamae
    E = np.array([1e8, 3e8])
    T_gev = (E_p_eV - M_P_EV) / GEV_EV
    ours = yields.kafexhiu2014_dsigma_dE_mb_gev([E_p_eV], E)[0]
    with np.errstate(all="ignore"):
        ref = k14.F_gamma_Kafexhiu2014(T_gev, E / GEV_EV, "GEANT")
    assert np.all(ours > 0) and np.allclose(ours, ref, rtol=1e-12, atol=0)
    ours = yields.kamae2006_dsigma_dE_mb_gev("gamma", [E_p_eV], E)[0]
    with np.errstate(all="ignore"):
        ref = [kamae.dXSdE_gamma_Kamae2006(T_gev, e / GEV_EV, True) for e in E]
    assert np.all(ours > 0) and np.allclose(ours, ref, rtol=1e-12, atol=0)
    # total energy passed by mistake would be a different (larger) proton
    with np.errstate(all="ignore"):
        wrong = k14.F_gamma_Kafexhiu2014(E_p_eV / GEV_EV, E / GEV_EV, "GEANT")
    assert not np.allclose(yields.kafexhiu2014_dsigma_dE_mb_gev([E_p_eV], E)[0], wrong, rtol=0.05, atol=0)


def test_aafrag_reads_total_energy_tables_in_mb_per_gev():
    from aafragpy import aafrag
    E_p, E_s, cs = aafrag.open_data_files("gam", "p-p")      # rows in eV, cs = E dsigma/dE [mb]
    row, cols = 20, slice(600, 610)
    ours = yields.aafrag_dsigma_dE_mb_gev("gam", [E_p[row]], E_s[cols])[0]
    assert np.allclose(ours * E_s[cols] / GEV_EV, cs[row, cols], rtol=2e-3, atol=0)


def test_yields_use_the_shared_sigma_inel():
    # q is proportional to hadronic.sigma_inel: a constant 40 mb instead of Kafexhiu 2014 eq. 1
    # scales the emissivity of nearly mono-energetic protons by 40 mb / sigma_K14(E_p) (to 0.2 %:
    # sigma_K14 varies by that much across the +-5 % wide spike).
    E_p = np.geomspace(0.9e14, 1.1e14, 5)
    j = np.array([0, 0, 1.0, 0, 0])
    E = np.array([1e11, 1e12, 1e13])
    cfg = transport.load_config()
    q_k = pp_emissivity(E_p, j, 1.0, E, hadronic=cfg.hadronic)
    const = cfg.with_overrides({"hadronic.sigma_inel": "constant", "hadronic.sigma_const_mb": 40.0})
    q_c = pp_emissivity(E_p, j, 1.0, E, hadronic=const.hadronic)
    assert np.allclose(q_c / q_k, 40.0 / sigma_inel_kafexhiu2014_mb(1e14), rtol=2e-3, atol=0)
    twice = cfg.with_overrides({"hadronic.nuclear_enhancement": 2.0})
    assert np.allclose(pp_emissivity(E_p, j, 1.0, E, hadronic=twice.hadronic), 2 * q_k, rtol=1e-12, atol=0)


# Independent transcriptions of the papers' formulas (not the production helpers).
_C_CM_S = 2.99792458e10                  # speed of light [cm/s] (CODATA, exact)
_MB_CM2 = 1e-27
_M_P_EV = 938.272088e6                   # proton mass [eV] (CODATA 2018)


def _sigma_inel_k14_mb(E_p):
    """Kafexhiu et al. 2014 (PRD 90, 123014) eq. 1, T_th = 0.2797 GeV, E_p total energy [eV]."""
    T = (E_p - _M_P_EV) / 1e9
    L = np.log(T / 0.2797)
    return (30.7 - 0.96 * L + 0.18 * L ** 2) * (1 - (0.2797 / T) ** 1.9) ** 3


def _kab_F(channel, x, E_p):
    """Kelner, Aharonian & Bugayov 2006 (PRD 74, 034018): photons eq. 58-61, direct nu_mu
    eq. 62-65 (y = x / 0.427), electrons / nu_e / muon-decay nu_mu eq. 66-69."""
    L = np.log(E_p / 1e12)
    if channel == "e":
        B = 1 / (69.5 + 2.65 * L + 0.3 * L ** 2)
        b = 1 / (0.201 + 0.062 * L + 0.00042 * L ** 2) ** 0.25
        k = (0.279 + 0.141 * L + 0.0172 * L ** 2) / (0.3 + (2.3 + L) ** 2)
        return B * (1 + k * np.log(x) ** 2) ** 3 / (x * (1 + 0.3 / x ** b)) * (-np.log(x)) ** 5
    if channel == "gamma":
        B, b = 1.30 + 0.14 * L + 0.011 * L ** 2, 1 / (1.79 + 0.11 * L + 0.008 * L ** 2)
        k = 1 / (0.801 + 0.049 * L + 0.014 * L ** 2)
    else:                                                    # direct nu_mu, y = x / 0.427
        B, b = 1.75 + 0.204 * L + 0.010 * L ** 2, 1 / (1.67 + 0.111 * L + 0.0038 * L ** 2)
        k = 1.07 - 0.086 * L + 0.002 * L ** 2
        x = x / 0.427
    inside = x < 1
    x = np.where(inside, x, 0.5)
    xb = x ** b
    d = 1 + k * xb * (1 - xb)
    return np.where(inside, B * np.log(x) / x * ((1 - xb) / d) ** 4 * (
        1 / np.log(x) - 4 * b * xb / (1 - xb) - 4 * k * b * xb * (1 - 2 * xb) / d), 0.0)


def test_kelner_functions_are_the_papers_formulas():
    """Production KAB functions against the in-test transcription: identical formulas, 1e-12."""
    x = np.geomspace(1.1e-3, 0.99, 40)
    for E_p in (1e11, 1e13, 1e15, 1e17):
        for ours, channel in ((kelner2006.F_gamma, "gamma"), (kelner2006.F_numu_pion, "numu1"),
                              (kelner2006.F_lepton_muon_decay, "e")):
            assert np.allclose(ours(x, E_p), _kab_F(channel, x, E_p), rtol=1e-12, atol=0), channel


def _kab_emissivity(channel_set, E, p):
    """q(E) / (n c) = Int dE_p sigma(E_p) j(E_p) sum F(E/E_p) / E_p for j = (E_p/1 TeV)^-p from
    0.1 TeV to 1e5 TeV, by scipy quad in ln E_p (x >= 1e-3 only, the KAB range)."""
    def integrand(lnEp):
        Ep = np.exp(lnEp)
        return (_sigma_inel_k14_mb(Ep) * _MB_CM2 * (Ep / 1e12) ** -p
                * sum(_kab_F(c, E / Ep, Ep) for c in channel_set))
    lo, hi = np.log(max(1e11, E / 0.999)), np.log(min(1e17, E / 1e-3))
    return quad(integrand, lo, hi, epsabs=0, epsrel=1e-8, limit=200)[0]


@pytest.mark.parametrize("p", [2.0, 2.7])
def test_kelner_emissivity_and_nu_gamma_ratio_by_quadrature(p):
    """pp_emissivity with model kelner2006 (1/cm^3 gas) against scipy quadrature of the KAB
    formulas written above, absolute: 2e-3 (the production integral is a trapezoid on nodes
    of <= 0.02 dex in E_p; measured < 1e-3). The E_nu^2 Q_nu / E_g^2 Q_g ratio of
    RATIO_EXPECTED then follows from the paper, not from our output: all flavours are
    F_e (nu_e) + F_numu^(1) + F_e (muon-decay nu_mu)."""
    E_p = np.geomspace(1e11, 1e17, 121)
    j = (E_p / 1e12) ** -p
    E = np.array([3e11, 1e13, 1e14])
    q_g = pp_emissivity(E_p, j, 1.0, 2 * E, "gamma", "kelner2006")
    q_nu = pp_emissivity(E_p, j, 1.0, E, "nu", "kelner2006")
    ref_g = np.array([_kab_emissivity(("gamma",), 2 * e, p) for e in E]) * _C_CM_S
    ref_nu = np.array([_kab_emissivity(("e", "numu1", "e"), e, p) for e in E]) * _C_CM_S
    assert np.allclose(q_g, ref_g, rtol=2e-3, atol=0)
    assert np.allclose(q_nu, ref_nu, rtol=2e-3, atol=0)
    ratio = E ** 2 * ref_nu / ((2 * E) ** 2 * ref_g)
    centre, tolerance = RATIO_EXPECTED["kelner2006"]
    assert np.all(np.abs(ratio - centre) <= tolerance), ratio


def test_emissivity_of_one_collision_channel_by_hand():
    """q = n c sigma(E_p) F(E/E_p)/E_p Delta E_p for a narrow spike, with sigma and F written
    in this file from the papers (not the production helpers): triangle of nodes vs
    trapezoid, 0.1 %, so 2e-3."""
    E_p = np.array([9.8e12, 1e13, 1.02e13])
    j = np.array([0.0, 1.0, 0.0])
    E = np.array([1e11, 1e12])
    q = pp_emissivity(E_p, j, 2.0, E, "gamma", "kelner2006")
    width = 0.5 * (np.log(1.02e13) - np.log(9.8e12)) * 1e13
    by_hand = (2.0 * _C_CM_S * _sigma_inel_k14_mb(1e13) * _MB_CM2
               * _kab_F("gamma", E / 1e13, 1e13) / 1e13 * width)
    assert np.allclose(q, by_hand, rtol=2e-3, atol=0)


def test_kafexhiu_photons_absolute_against_naima():
    """Absolute normalisation of the Kafexhiu 2014 photons (Geant4 parameterisation, no
    nuclear enhancement) against naima 0.10 PionDecay, an independent implementation of the
    same paper: q [cm^-3 s^-1 eV^-1] for 1 cm^-3 of gas and protons (E/1 TeV)^-2.5
    exp(-E/100 TeV) per cm^3 per eV equals naima's photon rate at distance 0 for the same
    numbers of protons per eV. Measured 0.01-0.06 % from 3 GeV to 10 TeV (0.3 % at 1 GeV,
    where naima's proton grid starts at 1.22 GeV): tolerance 2e-3."""
    naima = pytest.importorskip("naima")        # the `test` extra installs it
    import astropy.units as u               # with naima only (optional, slow import)
    top = yields.KAFEXHIU_MAX_EV
    dist = naima.models.ExponentialCutoffPowerLaw(1 / u.eV, 1 * u.TeV, 2.5, 1e14 * u.eV)
    pd = naima.models.PionDecay(dist, nh=1 * u.cm ** -3, nuclear_enhancement=False, useLUT=False,
                                hiEmodel="Geant4", Epmax=top * u.eV)
    E = np.geomspace(3e9, 1e13, 8)
    ref = pd.flux(E * u.eV, distance=0).to_value("1/(s eV)")
    E_p = np.geomspace(1.3e9, top, 1200)
    j = (E_p / 1e12) ** -2.5 * np.exp(-E_p / 1e14)
    q = pp_emissivity(E_p, j, 1.0, E, "gamma", "kafexhiu2014",
                      hadronic={"sigma_inel": "kafexhiu2014", "nuclear_enhancement": 1.0})
    assert np.allclose(q, ref, rtol=2e-3, atol=0)


# --------------------------------------------------------------------------- junction at 4 GeV
def test_junction_at_4_gev_is_smooth(monkeypatch):
    # Photons: Kafexhiu 2014 below 4 GeV, AAfrag above; neutrinos: Kamae 2006 below. Per
    # collision the yields step by 11-16 % at 4 GeV (photon multiplicity 1.00 vs 0.89), which
    # leaves q(E) continuous and without a kink: the curvature d^2 ln q / d(ln E)^2 over
    # 1-10 GeV converges (changes < 5 %, measured 1.3 %) as the energy spacing is halved twice (a
    # kink would double it each time); it stays below 1 (measured 0.97 photons, 0.32 neutrinos).
    # The E_p quadrature is refined to 0.005 dex so that its own error does not mask the test.
    import transport.hadronic.secondaries as sec
    monkeypatch.setattr(sec, "MAX_NODE_SPACING_DEX", 0.005)
    E_p = np.geomspace(1e9, 1e12, 61)
    for particle in ("gamma", "nu"):
        curvature = []
        for n in (21, 41, 81):
            E = np.geomspace(1e9, 1e10, n)
            lq, le = np.log(pp_emissivity(E_p, E_p ** -2.7, 1.0, E, particle)), np.log(E)
            slope = np.diff(lq) / np.diff(le)
            curvature.append(np.abs(np.diff(slope) / np.diff(le)[1:]).max())
        assert curvature[-1] < 1.0 and curvature[-1] == pytest.approx(curvature[1], rel=0.05, abs=0), \
            (particle, curvature)


def test_junction_step_per_collision():
    # The numbers quoted in docs/emission.md: per-collision multiplicities on both sides of 4 GeV.
    E = np.geomspace(1e7, 4e9, 2000)
    for channel, low, high in (("gamma", 1.00, 0.89), ("nu_e", 1.00, 0.86), ("nu_mu", 2.00, 1.74)):
        below = np.trapezoid(yields.PROVIDERS["aafrag_low"](channel, [4e9], E)[0], E)
        above = np.trapezoid(yields.PROVIDERS["aafrag_tables"](channel, [4e9], E)[0], E)
        assert below == pytest.approx(low, abs=0.02, rel=0) and above == pytest.approx(high, abs=0.02, rel=0)


def test_quadrature_is_converged(monkeypatch):
    # 0.02 dex nodes against 0.005 dex: < 0.1 % from 1 GeV up (a coarse 10-per-decade proton grid)
    import transport.hadronic.secondaries as sec
    E_p = np.geomspace(1e9, 1e18, 91)
    j = E_p ** -2.7 * np.exp(-E_p / 1e17)
    E = np.geomspace(1e9, 1e17, 17)
    coarse = pp_emissivity(E_p, j, 1.0, E, "nu_mu")
    monkeypatch.setattr(sec, "MAX_NODE_SPACING_DEX", 0.005)
    fine = pp_emissivity(E_p, j, 1.0, E, "nu_mu")
    assert np.allclose(coarse, fine, rtol=1e-3, atol=0)
    assert not np.array_equal(coarse, fine)          # the refinement did take effect


# --------------------------------------------------------------------------- the function
def test_flavours_sum_to_all_and_are_near_equal_at_earth():
    E_p, j = power_law_protons("aafrag", 2.4)
    E = np.geomspace(1e10, 1e15, 6)
    flavours = {p: pp_emissivity(E_p, j, 1.0, E, p) for p in ("nu", "nu_e", "nu_mu", "nu_tau")}
    assert np.allclose(flavours["nu_e"] + flavours["nu_mu"] + flavours["nu_tau"], flavours["nu"],
                       rtol=1e-12, atol=0)
    # AAfrag makes nu_e : nu_mu ~ 1 : 2 at the source; oscillations bring each near 1/3 (2 %)
    for p in ("nu_e", "nu_mu", "nu_tau"):
        assert np.allclose(flavours[p] / flavours["nu"], 1 / 3, atol=0.02, rtol=1e-5)


def test_vectorised_over_spectra_and_densities():
    E_p = np.geomspace(1e9, 1e16, 71)
    j = np.stack([E_p ** -2.2, 3 * E_p ** -2.7], axis=1)
    E = np.geomspace(1e9, 1e15, 7)
    both = pp_emissivity(E_p, j, [0.5, 2.0], E, "gamma")
    assert both.shape == (7, 2)
    assert np.allclose(both[:, 0], pp_emissivity(E_p, j[:, 0], 0.5, E), rtol=1e-12, atol=0)
    assert np.allclose(both[:, 1], 6 * pp_emissivity(E_p, E_p ** -2.7, 1.0, E), rtol=1e-12, atol=0)
    assert np.shape(pp_emissivity(E_p, j[:, 0], 1.0, 1e12)) == ()


@pytest.mark.parametrize("kwargs, fragment", [
    ({"model": "qgsjet"}, "model = 'qgsjet' is not allowed"),
    ({"particle": "photon"}, "particle = 'photon' is not allowed"),
    ({"particle": "nu", "model": "kafexhiu2014"}, "gives photons only"),
    ({"E_eV": 1e8}, "E_eV = 1e+08 is outside the yield tables"),
    ({"E_eV": 1e10, "model": "kelner2006"}, "expected 1e+11 <= E_eV"),
    ({"n_gas_cm3": -1.0}, "n_gas_cm3 contains -1"),
    ({"j_p": -np.ones(11)}, "j_p contains -1"),
    ({"model": "kamae2006"}, "beyond the highest primary energy of model = 'kamae2006'"),
    ({"E_p_eV": np.geomspace(1e16, 1e9, 11)}, "strictly increasing"),
])
def test_bad_arguments_are_one_clear_error(kwargs, fragment):
    args = {"E_p_eV": np.geomspace(1e9, 1e16, 11), "j_p": np.ones(11), "n_gas_cm3": 1.0,
            "E_eV": 1e12, "particle": "gamma", "model": "aafrag"}
    args.update(kwargs)
    with pytest.raises(ArgumentError, match=fragment.replace("+", r"\+").replace("(", r"\(")):
        pp_emissivity(**args)


def test_aafrag_range_constants_match_the_tables():
    assert yields.aafrag_table_range() == pytest.approx((yields.AAFRAG_MIN_EV, yields.AAFRAG_MAX_EV), rel=1e-6, abs=0)
