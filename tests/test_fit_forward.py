"""The fit's forward model (docs/fit.md, "Forward model"): the unit response is the transport
solution for unit injection, the fast evaluation equals the chain evaluated directly at its
radial nodes, and agrees with `corona scan`'s fast path to that path's own interpolation error."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from transport import load_config, solve
from transport.cosmicrays.solver import (build_problem, evolve, history, schedule, unit_response)
from transport.emission.corona import corona_emissivity
from transport.emission.registry import build_emission

from montecarlo.inference.forward import CoronaForward, check_parameter
from montecarlo.inference.priors import FitError
from montecarlo.pipeline.scan import evaluate_model
from montecarlo.sky.analysis import region_intensity

#: CI-size model: default radial grid (40 cells per decade: the scan's table interpolation is
#: then within 1 %), coarse energies and time steps, a 48-pixel sky with one region.
SMALL = {"grid.E_per_decade": 4, "time.dt_max_gyr": 0.5, "emission.E_per_decade": 4,
         "sky.nside": 2, "sky.E_per_decade": 2, "sky.fields": ["cmb"], "sky.regions": ["tibet_A"],
         "grid.E_max_eV": 3e18}


@pytest.fixture(scope="module")
def forward():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoronaForward(load_config(SMALL))


def test_unit_response_is_the_solution_for_unit_injection():
    """solve() scales the unit response by the source spectrum; the old route, the spectrum
    inside the kernel, gives the same j to round-off (the scheme is linear in Q)."""
    cfg = load_config({**SMALL, "source.alpha": 2.1, "source.E_cut_eV": 1e16,
                       "normalization.mode": "rate", "normalization.Q0_cm3_s_eV": 3e-34})
    problem = build_problem(cfg, Q0=3e-34)
    direct = evolve(problem, schedule(cfg), lambda t: history(t, cfg.source.history)).j
    got = unit_response(cfg).solution(cfg).j
    ok = direct > 1e-300
    np.testing.assert_allclose(got[ok], direct[ok], rtol=1e-11, atol=0)
    assert np.all(got[~ok] < 1e-290)


def test_unit_response_serves_only_source_changes():
    u = unit_response(load_config(SMALL))
    assert u.serves(u.config.with_overrides({"source.alpha": 2.0, "normalization.mode": "rate"}))
    assert not u.serves(u.config.with_overrides({"diffusion.D0_cm2_s": 4e29}))
    assert not u.serves(u.config.with_overrides({"gas.outer_beta": 0.3}))


def _direct_rows(forward, values):
    """The chain evaluated directly: solve(), the pp emissivity at the kernels' radial nodes,
    the kernels."""
    cfg = forward.base.with_overrides(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = solve(cfg)
    rows = {}
    for particle, kernel in (("gamma", forward.kernels.attenuated), ("nu", forward.kernels.unattenuated)):
        q = corona_emissivity(sol, particle, forward.radii, forward.E_eV)
        rows[particle] = np.einsum("pek,ek->pe", kernel, q)
    return rows, sol


@pytest.mark.parametrize("values", [
    {},
    {"source.alpha": 2.1, "source.E_cut_eV": 3e16},
    {"diffusion.D0_cm2_s": 4e29, "diffusion.delta": 0.5, "source.alpha": 2.5},
    {"gas.outer_n0_cm3": 0.003, "gas.outer_beta": 0.3},        # moves the profiles' crossing
])
def test_fast_evaluation_is_the_direct_chain(forward, values):
    """Eq. (1) of montecarlo.inference.forward is the chain itself, rearranged: 1e-10 (the
    sums are reordered)."""
    want, sol = _direct_rows(forward, values)
    for _ in range(3):                         # the third call uses the contracted R tensor
        p = forward.predict(values)
        for particle in ("gamma", "nu"):
            np.testing.assert_allclose(p.rows[particle], want[particle], rtol=1e-10, atol=0)
    assert p.Q0_cm3_s_eV == pytest.approx(sol.Q0_cm3_s_eV, rel=1e-12, abs=0)
    np.testing.assert_allclose(p.cr_flux, sol.flux_at(sol.config.observer.r_sun_kpc), rtol=1e-12, atol=0)


def test_fast_evaluation_agrees_with_the_scan(forward):
    """`corona scan`'s fast path interpolates the emission table in (ln r, ln q) between its
    radial nodes (cell centres 1/40 decade apart) where the fit evaluates the emissivity at
    every kernel node: measured, they differ by < 3e-4 up to 100 TeV, growing to 2.5 % at
    1e17 eV where q(r) bends most between cell centres; so 5e-3 up to 1 PeV, 3 % above."""
    values = {"source.alpha": 2.2}
    ref = evaluate_model(forward.base.with_overrides(values), "fast")
    p = forward.predict(values)
    low = ref["E_eV"] <= 1e15
    for got, want in ((p.quantity("gamma_all_sky"), ref["gamma_all_sky"]),
                      (p.quantity("nu_all_sky"), ref["nu_all_sky"]),
                      (p.quantity("regions/tibet_A"), ref["regions"]["tibet_A"])):
        np.testing.assert_allclose(got[low], want[low], rtol=5e-3, atol=0)
        np.testing.assert_allclose(got, want, rtol=3e-2, atol=0)
    summary = p.summary()
    assert summary["nu_icecube_frac_100TeV"] == pytest.approx(
        ref["summary"]["nu_icecube_frac_100TeV"], rel=5e-3, abs=0)


def test_plane_models_are_linear_in_their_norm(forward):
    """The plane-model intensity is remembered per setting without its norm and scaled: the
    same as region_intensity of the model built with that norm (1e-12)."""
    E = np.array([1e14, 3e14])
    cfg = forward.base.with_overrides({"disk.norm": 2.5})
    got = forward.plane_intensity(cfg, ("disk",), "tibet_A", E)
    direct = region_intensity(build_emission(cfg, "disk", "gamma", None, E), E, "tibet_A",
                              ("cmb",), cfg)
    np.testing.assert_allclose(got, direct, rtol=1e-12, atol=0)
    half = forward.plane_intensity(forward.base.with_overrides({"disk.norm": 1.25}), ("disk",), "tibet_A", E)
    np.testing.assert_allclose(half, got / 2, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["observer.r_sun_kpc", "sky.nside", "grid.E_per_decade",
                                  "fields.cmb_T0_K"])
def test_sky_and_grid_keys_cannot_be_fitted(name):
    with pytest.raises(FitError, match="cannot be fitted"):
        check_parameter(name)
