"""Cosmic-ray inputs against their closed forms, so that a constant-factor error in the
functions of transport.cosmicrays that the physics tests pass over (the x1.1 mutants of
benchmarks/mutants.py) fails here.

- Gaisser (2012, Astropart. Phys. 35, 801) H3a, eq. 3 and Table 1: the intensity of mass group
  i is sum_j a_ij E^-(gamma_ij + 1) exp(-E / (Z_i R_c,j)) [GeV^-1 m^-2 s^-1 sr^-1], E the
  total energy per particle in GeV, R_c = 4 PV, 30 PV, 2 EV; the coefficients are typed in
  here from the paper's table.
- [L] eq. 3 and Table II: the broken power law f(R) (R in GV), the injection per energy
  f(R(E)) dR/dE with R = sqrt(E^2 - M^2) / Z and dR/dE = E / (Z p), and the Galactic spectrum
  shape f dR/dE R^-delta; the species amplitudes a_s make a_s Q_s/D equal to 4 pi / c times
  H3a's group intensity at 1 TV.
- D(rho, R) = D0 (rho / rho0)^delta(R).

Tolerance: rtol=1e-12, atol=0 for closed forms evaluated the same way (round-off of a few
operations; the exponentials and powers of numpy), far below a 10 % change.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from transport.core.constants import C_CM_S, M_HE_EV, M_P_EV
from transport.cosmicrays import galactic_injection as gi
from transport.cosmicrays import normalization as nm

RTOL = 1e-12
#: Gaisser (2012) Table 1, H3a: group -> (Z, [(a, gamma) for populations 1, 2, 3])
H3A = {14: (1, [(7860.0, 1.66), (20.0, 1.4), (1.7, 1.4)]),
       402: (2, [(3550.0, 1.58), (20.0, 1.4), (1.7, 1.4)]),
       1206: (6, [(2200.0, 1.63), (13.4, 1.4), (1.14, 1.4)]),
       2814: (14, [(1430.0, 1.67), (13.4, 1.4), (1.14, 1.4)]),
       5426: (26, [(2120.0, 1.63), (13.4, 1.4), (1.14, 1.4)])}
RC_GV = (4e6, 30e6, 2e9)


def _h3a_per_eV_cm2(group, E_eV):
    Z, pops = H3A[group]
    E = np.asarray(E_eV) / 1e9
    flux = sum(a * E ** (-g - 1.0) * np.exp(-E / (Z * rc)) for (a, g), rc in zip(pops, RC_GV))
    return flux * 1e-9 * 1e-4                      # per GeV m^2 -> per eV cm^2


@pytest.mark.parametrize("group", sorted(H3A))
def test_h3a_group_flux_is_gaisser_2012_eq3(group):
    E = np.geomspace(1e10, 1e19, 19)
    assert_allclose(nm.h3a_group_flux(E, group), _h3a_per_eV_cm2(group, E), rtol=RTOL, atol=0)


def _eq3(R_GV, law):
    """[L] eq. 3 written out: R^-nu_n exp(-R/Rc) times prod_(i<=n) R_i^(nu_i - nu_(i-1)) in
    the segment n that holds R."""
    out = []
    for R in np.atleast_1d(R_GV):
        n = sum(R >= b for b in law.breaks_GV)
        amp = np.prod([law.breaks_GV[i - 1] ** (law.nu[i] - law.nu[i - 1]) for i in range(1, n + 1)])
        out.append(amp * R ** -law.nu[n] * np.exp(-R / law.Rc_GV))
    return np.array(out)


@pytest.mark.parametrize("model", gi.INJECTION_MODELS)
def test_broken_power_law_injection_and_galactic_shape_closed_form(model):
    """f(R) in every segment of [L] eq. 3 (one rigidity in each); the same rigidities as total
    energies E = sqrt((Z R)^2 + M^2) for the injection f dR/dE and the Galactic shape
    f dR/dE R^-delta (delta = 0.362, [L] Table I). rtol=1e-9, atol=0 for the latter two: the
    round trip R -> E -> sqrt(E^2 - M^2) loses ~1e-12 near 1 GV."""
    for species, mass in ((gi.PROTON, M_P_EV), (gi.HELIUM, M_HE_EV)):
        law = gi.TABLE_II[(species.name, model)]
        br = law.breaks_GV
        R = np.array([0.5 * br[0], *(np.sqrt(br[i] * br[i + 1]) for i in range(3)), 3 * br[3]])
        f = _eq3(R, law)
        assert_allclose(gi.broken_power_law(R, law), f, rtol=RTOL, atol=0)
        Z = species.Z
        E = np.sqrt((Z * R * 1e9) ** 2 + mass ** 2)
        injection = f * E / (Z * Z * R * 1e9)                   # dR/dE = E / (Z p), p = Z R
        assert_allclose(gi.injection_per_energy(E, species, model), injection, rtol=1e-9, atol=0)
        assert_allclose(gi.galactic_spectrum_shape(E, species, model, 0.362),
                        injection * R ** -0.362, rtol=1e-9, atol=0)


@pytest.mark.parametrize("model", gi.INJECTION_MODELS)
def test_species_weights_match_h3a_at_one_teraVolt(model):
    """a_s Q_s/D at R = 1 TV is the local density 4 pi / c Phi_H3a(group of s) there.
    rtol=1e-9, atol=0 as above (the rigidity -> energy round trip)."""
    w = gi.species_weights(model, 0.362)
    assert set(w) == {"p", "He"}
    for species, mass, group in ((gi.PROTON, M_P_EV, 14), (gi.HELIUM, M_HE_EV, 402)):
        Z, R = species.Z, 1e3                                     # R in GV
        E = np.sqrt((Z * R * 1e9) ** 2 + mass ** 2)
        shape = _eq3(R, gi.TABLE_II[(species.name, model)])[0] * E / (Z * Z * R * 1e9) * R ** -0.362
        density = 4 * np.pi / C_CM_S * _h3a_per_eV_cm2(group, E)
        assert_allclose(w[species.name], density / shape, rtol=1e-9, atol=0)


def test_galactic_diffusion_coefficient_closed_form():
    """D0 (rho / rho0)^delta(R): two rigidities x three radii with their own delta."""
    from transport.cosmicrays.galactic_diffusion import diffusion_coefficient_cm2_s
    rho = np.array([1e9, 3e13])
    delta = np.array([0.3, 0.5, 0.7])
    D = diffusion_coefficient_cm2_s(rho, np.array([1.0, 5.0, 9.0]), 2e28, 4e9, delta)
    expected = 2e28 * (rho[:, None] / 4e9) ** delta[None, :]
    assert_allclose(D, expected, rtol=RTOL, atol=0)


def test_kascade_points_in_our_units():
    """The first KASCADE 2005 row, typed from inputs/cosmic_rays/: E = 1.778e6 GeV, flux
    6.334e-13 GeV^-1 m^-2 s^-1 sr^-1, systematic error 2.113e-14 (statistical 0), i.e.
    1.778e15 eV and 6.334e-26 eV^-1 cm^-2 s^-1 sr^-1."""
    E, flux, lo, hi = nm.kascade_points()["KASCADE 2005 (SIBYLL 2.1)"]
    assert_allclose([E[0], flux[0], lo[0], hi[0]], [1.778e15, 6.334e-26, 2.113e-27, 2.113e-27],
                    rtol=RTOL, atol=0)


def test_transport_solution_interpolates_a_power_law_exactly():
    """j = A E^-2.7 r^-1 on a grid: j_at_energy (linear in logs between grid energies) and
    j_at (between cell centres) give the power law exactly off the nodes."""
    from transport.cosmicrays.solver import TransportSolution
    E = np.geomspace(1e9, 1e15, 7)
    r = np.geomspace(1.0, 100.0, 5)
    j = 3e-20 * (E[:, None] / 1e9) ** -2.7 / r[None, :]
    sol = TransportSolution(None, r, None, E, j, 10.0, np.array([10.0]), j[None], np.ones(r.size),
                            1.0, None, None)
    E_mid = 3.3e11
    assert_allclose(sol.j_at_energy(E_mid), 3e-20 * (E_mid / 1e9) ** -2.7 / r, rtol=1e-10, atol=0)
    assert_allclose(sol.j_at(7.0), 3e-20 * (E / 1e9) ** -2.7 / 7.0, rtol=1e-10, atol=0)


def test_baseline_flux_at_the_sun_touches_the_reference_from_below(baseline):
    """[C, Sec. III]: the model proton intensity at the Sun, (beta c / 4 pi) j(E, r_sun), never
    exceeds the reference (H3a protons) at the grid energies >= normalization.E_min_eV and
    equals it at E_touch. The solution's j is A(E) G(E, r) and the interpolation to r_sun is
    linear in logs, which commutes with the factor A(E): the maximum ratio is 1 to round-off.
    rtol=1e-12, atol=0."""
    from transport.cosmicrays.normalization import reference_flux
    cfg = baseline.config
    E = baseline.E_eV
    use = E >= cfg.normalization.E_min_eV
    ratio = (baseline.flux_at(cfg.observer.r_sun_kpc)
             / reference_flux(E, cfg.normalization.reference))[use]
    assert_allclose(ratio.max(), 1.0, rtol=RTOL, atol=0)
    assert_allclose(E[use][np.argmax(ratio)], baseline.normalization.E_touch_eV, rtol=RTOL, atol=0)
