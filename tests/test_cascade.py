"""Electromagnetic cascade Monte Carlo (montecarlo.cascade): rates against the opacity module
and the Thomson limit, energy conservation, the absorption-only limit against exp(-tau) of the
opacity module, the cascade shape against Berezinsky & Kalashev (2016), rank invariance, and
the bundled response table.

Small sizes: tables to z = 0.15 (or 0.5), a few hundred primaries.
"""
import os
from dataclasses import replace
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from montecarlo import cascade_spectrum
from montecarlo.cascade import interactions, kernels as ck, montecarlo as mc
from montecarlo.cascade.response import ResponseSpec, ResponseTable, bundled_path
from montecarlo.fields import cmb as cmb_field
from montecarlo.opacity.api import opacity_for, optical_depth_cosmological
from transport.core.config import load_config
from transport.core.constants import M_E_EV, SIGMA_T_CM2
from transport.core.errors import ArgumentError

HERE = Path(__file__).parent
CFG = load_config(None)


@pytest.fixture(scope="module")
def tables():
    return interactions.cascade_tables(CFG, "dominguez", "planck18", 0.15)


def test_pair_rates_match_the_opacity_module():
    """Eq. (1) of interactions (s-integral) against the opacity module's Gould-Schreder rates,
    CMB + EBL: 1.5 % (the EBL's long-wavelength edge on the 64-per-decade target grid; a
    factor-2 error in either form fails)."""
    E = np.array([3e11, 1e12, 1e13, 1e14, 1e15, 1e17])
    opacity = opacity_for(None)
    for z in (0.0, 1.0):
        ours = interactions.rates_per_cm(E, z, "dominguez", lepton=False)
        ref = opacity.rate_isotropic_per_cm(E, ("cmb", "ebl"), z)
        np.testing.assert_allclose(ours, ref, rtol=0.015, atol=0)


def test_inverse_compton_rate_thomson_limit_and_klein_nishina():
    """Low energies: sigma_T n_CMB (CMB alone, 0.5 % for the target grid); in the
    Klein-Nishina regime the rate falls: below half of it at 1e15 eV (0.31), below 3 % at 1e17 eV (0.015)."""
    n = float(cmb_field.number_density_cm3(cmb_field.T0_K))
    low = interactions.rates_per_cm([1e8, 1e9], 0.0, "none", lepton=True)
    np.testing.assert_allclose(low, SIGMA_T_CM2 * n, rtol=0.005, atol=0)
    high = interactions.rates_per_cm([1e15, 1e17], 0.0, "none", lepton=True) / (SIGMA_T_CM2 * n)
    assert high[0] < 0.5 and high[1] < 0.03
    # sigma_KN for a photon of m_e c^2 in the electron rest frame: 2.866e-25 cm^2 = 0.4308 sigma_T
    s = M_E_EV ** 2 * 3.0
    assert interactions.sigma_kn_cm2([s])[0] / SIGMA_T_CM2 == pytest.approx(0.4308, rel=1e-3, abs=0)


def test_secondary_energy_tables_have_the_right_means():
    """Thomson limit: the mean up-scattered photon fraction 1 - y is d/2... for s = m^2 (1 + d),
    d << 1: <1 - y> = d / 2 (isotropic in the rest frame); pair production is symmetric."""
    ln_ds_pp, q_pp, ln_ds_ic, q_ic = interactions.secondary_tables()
    d = np.exp(ln_ds_ic[0])                                # 1e-8
    t = q_ic[0]
    frac = -np.expm1(t * -np.log1p(d))
    np.testing.assert_allclose(np.mean(0.5 * (frac[1:] + frac[:-1])), d / 2, rtol=0.01, atol=0)
    assert np.all(np.diff(q_pp, axis=1) >= 0) and np.all(q_pp[:, -1] == pytest.approx(1.0, abs=1e-12, rel=0))


@pytest.mark.parametrize("thinning", [0.0, 1.0])
def test_energy_is_conserved_in_every_cascade(tables, thinning):
    """Without thinning and with a = 1 (one child kept, weight E/E_i) each cascade closes
    exactly: injected = photons + leptons + below threshold + adiabatic, < 1e-9 (the target
    is 1 %)."""
    res = mc.run_power_law(tables, mc.Settings(thinning=thinning), 0.1, 1e13, 1e13, 2.0,
                           4 if thinning == 0.0 else 100, 3, batch_size=100)
    per_cascade = res.counters[ck.CNT_CLOSURE] / res.counters[ck.CNT_PRIMARIES]
    assert per_cascade < 1e-9
    assert abs(res.closure()[0]) < 1e-9
    acc = res.accounts[0]
    assert acc[ck.ACC_BELOW] > 0 and acc[ck.ACC_ADIABATIC] > 0 and acc[ck.ACC_PHOTONS] > 0


def test_energy_is_conserved_on_average_with_partial_thinning(tables):
    """a = 0.5: conserved in expectation; 600 cascades close to < 1 % + 4 standard errors."""
    n = 600
    edges = mc.Settings().edges_eV
    vec = mc.simulate(tables, mc.Settings(thinning=0.5), np.full(n, 1e13), np.full(n, 0.1),
                      np.arange(n), n, 7)
    t = mc.unpack(vec, n, edges, np.ones(n))
    c = t.closure()
    assert abs(c.mean()) < 0.01 + 4 * c.std() / np.sqrt(n)


def test_absorption_only_limit_is_exp_minus_tau():
    """Cascade off: the fraction of primaries arriving equals exp(-tau) of the opacity module
    (seed cosmology, as the opacity module's [cosmology]); 20000 primaries: 4 binomial sigma
    plus 1.5 % for the rate tables."""
    tb = interactions.cascade_tables(CFG, "dominguez", "seed", 0.5)
    st = mc.Settings(cascade=False)
    for k, (z, E0) in enumerate(((0.1, 1e12), (0.3, 4e11), (0.5, 3e11))):
        n = 20000
        t = mc.run_power_law(tb, st, z, E0 * (1 + z), E0 * (1 + z), 2.0, n, 20 + k, batch_size=n)
        P = t.accounts[0, ck.ACC_PHOTONS] / t.accounts[0, ck.ACC_INJECTED] * (1 + z)
        ref = float(np.exp(-optical_depth_cosmological(E0, z)))
        assert abs(P - ref) < 4 * np.sqrt(ref * (1 - ref) / n) + 0.015 * ref, (z, E0, P, ref)
        assert abs(t.closure()[0]) < 1e-12


def berezinsky_kalashev(E, eps_X, eps_a, E_casc):
    """Berezinsky & Kalashev (2016, arXiv:1603.03989) universal cascade spectrum,
    J ~ (E/eps_X)^-1.5 below eps_X, (E/eps_X)^-2 up to eps_a, 0 above, normalised to E_casc."""
    J = np.where(E < eps_X, (E / eps_X) ** -1.5, (E / eps_X) ** -2.0) * (E <= eps_a)
    norm = E_casc / (eps_X ** 2 * (2.0 + np.log(eps_a / eps_X)))      # Integral E J dE, E >> 0
    return norm * J


def test_cascade_shape_berezinsky_kalashev(tables):
    """Monochromatic 100 TeV photons at z = 0.1: below eps_X the spectrum rises like E^0.5 in
    E^2 dN/dE (E^-1.5), flattens (E^-2) up to eps_a and is cut above. eps_a = 1 TeV
    (tau_EBL = 1 at z = 0.1), eps_X = (1/3) (eps_CMB / m^2) eps_a^2 = 1.1 GeV (B&K).
    Measured (300 primaries): E^2 dN/dE slope 0.25-0.6 at 10-100 MeV (index 1.4-1.75), MC / B&K
    between 0.72 and 1.86 from 30 MeV to 300 GeV (B&K's breaks are sharp, the MC's smooth;
    the largest excess is at the lowest energies); the bounds are 0.55 and 2."""
    res = cascade_spectrum(0.1, 1e14, 1e14, 2.0, E_min_eV=1e7, n_primaries=300, seed=4,
                           bins_per_decade=4)
    E, y = res.E_eV, res.E2dNdE
    slope = np.polyfit(np.log(E[:4]), np.log(y[:4]), 1)[0]           # 1e7 - 1e8 eV
    assert 0.25 < slope < 0.6, slope
    eps_a = 1e12
    eps_X = (2.7 * 8.617e-5 * cmb_field.T0_K * 1.1) / (3 * M_E_EV ** 2) * eps_a ** 2
    E_casc = res.energy_fraction * 1e14
    bk = E ** 2 * berezinsky_kalashev(E, eps_X, eps_a, E_casc)
    mid = (E > 3e7) & (E < 3e11)
    ratio = y[mid] / bk[mid]
    assert np.all((ratio > 0.55) & (ratio < 2.0)), ratio
    assert y[E > 3e13].sum() == 0.0 or np.all(y[E > 3e13] < 0.01 * y.max())


def test_cascade_spectrum_rejects_bad_input():
    with pytest.raises(ArgumentError, match="z_source"):
        cascade_spectrum(5.0, 1e12, 1e13, 2.0)
    with pytest.raises(ArgumentError, match="E_inj_min_eV"):
        cascade_spectrum(0.1, 1e13, 1e12, 2.0)
    with pytest.raises(ArgumentError, match="ebl_model"):
        cascade_spectrum(0.1, 1e12, 1e13, 2.0, ebl_model="inoue")


def _mpirun():
    exe = Path(sys.executable).parent / "mpirun"
    return str(exe) if exe.exists() else None


@pytest.mark.skipif(_mpirun() is None, reason="no mpirun beside the interpreter (extra 'mpi')")
def test_two_ranks_give_the_serial_cascade(tables, tmp_path):
    """The same 8 batches on 1 and 2 ranks give the same tallies (to the last bits)."""
    serial = mc.run_power_law(tables, mc.Settings(thinning=0.5), 0.1, 1e12, 1e14, 2.0, 120, 5,
                              batch_size=15)
    out = tmp_path / "mpi.npy"
    env = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK")}
    proc = subprocess.run([_mpirun(), "-n", "2", sys.executable,
                           str(HERE / "mpi_scripts" / "cascade_ranks.py"), str(out)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    ref = np.concatenate([serial.spec.ravel(), serial.accounts.ravel()])
    np.testing.assert_allclose(np.load(out), ref, rtol=1e-13, atol=0)


def test_bundled_response_table_is_current():
    """The shipped dominguez table matches the current code and default settings (else
    regenerate it: docs/extragalactic.md), passes its checksums, covers 1e8 eV and closes
    energy to < 1 %."""
    spec = ResponseSpec()
    table = ResponseTable.read(bundled_path("dominguez"), spec.claims())
    assert table.key == spec.key(), "inputs/cascade/response_dominguez.h5 is stale: regenerate it"
    assert table.edges_eV[0] <= 1e8
    assert abs(table.attrs["energy_closure_mean"]) < 0.01
    assert np.all(table.G >= 0) and np.all(table.G_err >= 0)


def test_response_key_is_portable():
    """The key hashes canonical text of the inputs: grids perturbed in their last bit (another
    machine's np.geomspace) give the same key; a real change (one more primary per cell, a
    z node moved by 1e-6) gives another."""
    spec = ResponseSpec()
    bumped = replace(spec, E_inj_eV=tuple(np.nextafter(spec.E_inj_eV, np.inf).tolist()),
                     z_nodes=tuple(np.nextafter(spec.z_nodes, 0.0).tolist()),
                     settings=replace(spec.settings, thinning=np.nextafter(spec.settings.thinning, 1.0)))
    assert bumped.E_inj_eV != spec.E_inj_eV
    assert bumped.key() == spec.key()
    assert replace(spec, per_cell=spec.per_cell + 1).key() != spec.key()
    moved = list(spec.z_nodes)
    moved[3] += 1e-6
    assert replace(spec, z_nodes=tuple(moved)).key() != spec.key()


@pytest.mark.parametrize("damage, why", [
    (lambda fh: fh["G"].__setitem__(np.unravel_index(np.argmax(fh["G"][()]), fh["G"].shape),
                                    np.max(fh["G"][()]) * 1000.0), "checksum mismatch in G"),
    (lambda fh: fh["G"].__setitem__((1, 1, 1), np.nan), "checksum mismatch in G"),
    (lambda fh: fh.attrs.__setitem__("seal_kind", "fit checkpoint"), "not a cascade response table"),
])
def test_damaged_response_table_is_never_used(tmp_path, monkeypatch, damage, why):
    """A table whose numbers were changed after sealing (G x 1000 in one cell, a NaN) or that
    holds something else is refused naming the file and the problem, and response_table()
    builds its own instead of using it (RebuildWarning)."""
    import shutil
    import h5py
    from transport.core.sealed import RebuildWarning, SealError
    from montecarlo.cascade import response
    spec = ResponseSpec()
    path = tmp_path / "response_dominguez.h5"
    shutil.copy(bundled_path("dominguez"), path)
    with h5py.File(path, "r+") as fh:
        damage(fh)
    with pytest.raises(SealError, match=f"response table '.*response_dominguez.h5'.*{why}"):
        ResponseTable.read(path, spec.claims())
    cfg = load_config(None)
    monkeypatch.setattr(response, "bundled_path", lambda model: path)
    monkeypatch.setattr(response, "cache_directory", lambda cfg: tmp_path / "cache")
    with pytest.warns(RebuildWarning, match="not used"):
        with pytest.raises(response.CoronaError, match="no response table"):
            response.response_table(cfg, spec, build_missing=False)


def _per_cascade(tables, settings, n, seed):
    """n cascades of an E^-2 photon spectrum (1e11-1e14 eV at z = 0.1), each its own tally
    cell: the mean E^2 dN/dE per primary [eV] per bin, its standard error, and the closures.
    Primaries are drawn uniformly in ln E and weighted by E^-2 / E^-1 (importance sampling:
    the TeV primaries that make the cascade are not rare)."""
    lo, hi = 1e11, 1e14
    E = lo * (hi / lo) ** np.random.default_rng(seed).random(n)
    w = np.log(hi / lo) / (E * (1.0 / lo - 1.0 / hi))      # mean 1
    vec = mc.simulate(tables, settings, E, np.full(n, 0.1), np.arange(n), n, seed)
    t = mc.unpack(vec, n, settings.edges_eV, np.ones(n))
    width = np.diff(t.edges_eV)
    centre = np.sqrt(t.edges_eV[1:] * t.edges_eV[:-1])
    y = w[:, None] * t.spec * centre ** 2 / width          # per cascade, per bin
    return centre, y.mean(axis=0), y.std(axis=0, ddof=1) / np.sqrt(n), t.closure()


def test_cascade_spectrum_does_not_depend_on_numerical_knobs(tables):
    """Default settings (thinning 0.5, ic_group 0.01) against 5x finer ones (thinning 0,
    ic_group 0.002), E^-2 photons 0.1-100 TeV at z = 0.1, half-decade bins centred on 0.32,
    1, 3.2, 10 and 32 GeV: equal within 3 combined standard errors + 4 % (rtol = 0.04 for the
    remaining O(ic_group) effect of grouped lepton energy steps, atol = 3 sigma for the
    statistics; before the 1/k acceptance of grouped inverse-Compton events the two differed
    by -25 % to +35 % here). Energy closes: thinning 0 in every cascade to < 1e-9; thinning
    0.5 on average to < 1 % + 3 standard errors (conserved in expectation only)."""
    base = mc.Settings(E_min_eV=10 ** 8.25, bins_per_decade=2, E_bins_max_eV=1e14)
    fine = mc.Settings(E_min_eV=10 ** 8.25, bins_per_decade=2, E_bins_max_eV=1e14,
                       thinning=0.0, ic_group=0.002)
    E, y0, s0, c0 = _per_cascade(tables, base, 3000, 11)
    _, y1, s1, c1 = _per_cascade(tables, fine, 400, 12)
    sel = E < 5e10
    assert sel.sum() == 5
    diff = np.abs(y0 - y1)[sel]
    bound = 3.0 * np.hypot(s0, s1)[sel] + 0.04 * y1[sel]
    assert np.all(diff < bound), (E[sel], y0[sel] / y1[sel], bound / y1[sel])
    assert np.max(np.abs(c1)) < 1e-9
    assert abs(c0.mean()) < 0.01 + 3.0 * c0.std(ddof=1) / np.sqrt(c0.size), c0.mean()
