"""The seed's qualitative results [C, Sec. III, Fig. 2-3] and the normalisation to the data."""
import numpy as np
import pytest

import transport
from transport.cosmicrays.normalization import reference_flux

ENERGIES_EV = (1e10, 1e12, 1e14, 1e16)


def radial_index(sol, E_eV, r_lo=6.0, r_hi=250.0):
    """A of a power-law fit n ~ r^-A between r_lo and r_hi (outside r_Q = 5 kpc)."""
    sel = (sol.r_kpc > r_lo) & (sol.r_kpc < r_hi)
    return -np.polyfit(np.log(sol.r_kpc[sel]), np.log(sol.j_at_energy(E_eV)[sel]), 1)[0]


@pytest.mark.parametrize("D0", [1.2e29, 4e30])
def test_constant_history_profile_falls_between_1_over_r_and_1_over_r2(D0, solve_quiet):
    """[C]: A = 1 for constant D (steady diffusion), A = 2 for free escape; the diffusion front
    of low energies steepens it. Measured A = 1.01-1.56; steady solution 1/r - 1/R_out gives
    A slightly above 1, hence no tolerance below 1."""
    sol = solve_quiet({"source.history": "constant", "diffusion.D0_cm2_s": D0})
    A = [radial_index(sol, E) for E in ENERGIES_EV]
    assert all(1.0 <= a <= 2.0 for a in A), A


@pytest.mark.parametrize("D0", [1.2e29, 4e30])
def test_declining_seed_history_pushes_A_slightly_below_1(D0, solve_quiet):
    """docs/physics.md, section 2: the seed's declining history (h falls from 3 to 1 over the last 4 Gyr)
    depletes the inner corona, so A dips below 1 at PeV-ish energies (measured 0.91-0.97)."""
    sol = solve_quiet({"diffusion.D0_cm2_s": D0})
    A = radial_index(sol, 1e14)
    assert 0.8 < A < 1.0


@pytest.mark.parametrize("overrides", [
    {},
    {"diffusion.D0_cm2_s": 4e30},
    {"source.alpha": 2.0, "source.E_cut_eV": 1e16},
    {"source.history": "constant"},
])
def test_spectrum_at_the_sun_is_alpha_plus_delta(overrides, solve_quiet):
    """Escape-dominated spectrum E^-alpha / D(E) between 10 GeV and 1 PeV, within 0.07 (the
    issue's tolerance: pp losses and the finite age bend it slightly; measured |diff| <= 0.01)."""
    sol = solve_quiet(overrides)
    cfg = sol.config
    index = sol.spectral_index(1e10, 1e15, cfg.observer.r_sun_kpc)
    assert index == pytest.approx(cfg.source.alpha + cfg.diffusion.delta, abs=0.07, rel=0)


@pytest.mark.parametrize("reference", ["H3a_all", "H3a_protons", "GSF_protons"])
@pytest.mark.parametrize("overrides", [{}, {"source.alpha": 2.0, "source.E_cut_eV": 1e16}])
def test_flux_at_sun_touches_the_reference_from_below(reference, overrides, solve_quiet):
    sol = solve_quiet({**overrides, "normalization.reference": reference})
    model = sol.flux_at(sol.config.observer.r_sun_kpc)
    observed = reference_flux(sol.E_eV, reference)
    above = sol.E_eV >= sol.config.normalization.E_min_eV      # 10 GeV: solar modulation below
    assert np.all(model[above] <= observed[above] * (1 + 1e-9))
    k = int(np.argmin(np.abs(sol.E_eV - sol.normalization.E_touch_eV)))
    assert model[k] == pytest.approx(observed[k], rel=1e-9, abs=0)
    assert sol.Q0_cm3_s_eV == pytest.approx(sol.normalization.factor, rel=1e-6, abs=0)


def test_baseline_touch_energies(baseline, solve_quiet):
    """Where each reference is touched (docs/normalization.md): the baseline's E^-2.73 at the
    Sun is softer than the all-particle E^-2.6, so it touches H3a_all at the lowest grid energy
    >= 10 GeV; the proton-only H3a (the default) falls steeply above its 4 PV knee, so there it
    touches near E_cut."""
    assert 3e16 < baseline.normalization.E_touch_eV < 2e17
    every = solve_quiet({"normalization.reference": "H3a_all"})
    assert every.normalization.E_touch_eV == every.E_eV[every.E_eV >= 1e10][0]


def test_rate_mode_is_exactly_the_stated_source(rate_config):
    """normalization.mode = "rate": Q = (E/1 GeV)^-alpha exp(-E/E_cut) h Theta(r_Q - r) in
    cm^-3 s^-1 eV^-1, checked through the budget: injected = Q x source volume x time."""
    cfg = rate_config({"source.history": "constant", "time.t_end_gyr": 1.0})
    sol = transport.solve(cfg)
    from transport.core.constants import GYR_S, KPC_CM
    volume = 4 * np.pi / 3 * (cfg.source.r_Q_kpc * KPC_CM) ** 3
    q = (sol.E_eV / 1e9) ** -cfg.source.alpha * np.exp(-sol.E_eV / cfg.source.E_cut_eV)
    assert np.allclose(sol.budget.injected, q * volume * 1.0 * GYR_S, rtol=1e-12, atol=0)
    assert sol.normalization is None and sol.Q0_cm3_s_eV == 1.0


def test_diffusion_regime_warning():
    with pytest.warns(transport.DiffusionRegimeWarning, match="exceeds c/3"):
        sol = transport.solve({"diffusion.D0_cm2_s": 4e30, "grid.E_per_decade": 2})
    assert 1e13 < sol.diffusion_invalid_from_eV < 1e14    # D/r_Q = c/3 at 5.7e13 eV
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", transport.DiffusionRegimeWarning)
        transport.solve({"grid.E_per_decade": 2})          # the baseline stays diffusive
