"""Interaction physics of the electromagnetic cascade: rates, optical-depth tables and the
sampling tables the Monte Carlo kernels read (docs/extragalactic.md, "Cascade method").

Processes, on the CMB (black body, T0 (1 + z)) plus the EBL (ebltable density of the same model
the opacity module uses, :mod:`montecarlo.fields.ebl`), all isotropic:

- pair production gamma + eps -> e+ e-, Breit-Wheeler sigma (:mod:`montecarlo.opacity.breit_wheeler`);
- inverse Compton e + eps -> e + gamma, full Klein-Nishina.

Rate of a particle of energy E (>> m_e) in an isotropic field n(eps) (e.g. Protheroe 1986;
the form CRPropa's EM modules tabulate): with u = s - m_i^2 (m_i = 0 for photons, m_e for
leptons) and the smallest target energy that reaches u, x = u / (4 E),

    1/lambda(E) = (1 / 8 E^2) Integral du sigma(s) u F(u / 4E) = 2 Integral dx x sigma(4 E x + m_i^2) F(x),
    F(x) = Integral_x^inf n(eps) / eps^2 d eps.                                              (1)

(Thomson limit: 1/lambda = sigma_T n.) The Monte Carlo samples x from the integrand of (1)
(hence s), then the secondary energies from the differential cross-sections in the lab frame
(Lee 1998, PRD 58, 043004):

- pair production, positron fraction y in [(1 - b)/2, (1 + b)/2], b^2 = 1 - 4 m^2 / s:
  dsigma/dy ~ y/(1-y) + (1-y)/y + (1-b^2) (1/y + 1/(1-y)) - (1-b^2)^2/4 (1/y + 1/(1-y))^2;  (2)
- inverse Compton, lepton fraction y in [(1 - b)/(1 + b), 1], b = (s - m^2)/(s + m^2):
  dsigma/dy ~ y + 1/y + 2 q + q^2, q = ((1 - b)/b)(1 - 1/y)   (Lee 1998 eq. 23).            (3)

Everything is tabulated once per (EBL model, cosmology, z_max, E_min) and cached with
:func:`montecarlo.opacity.ratetables.cached_table` (provenance, code digest, atomic writes).
Energies in eV, lengths in cm.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from transport.core.constants import M_E_EV, SIGMA_T_CM2
from transport.core.errors import ArgumentError

from montecarlo.cascade import cosmology as cosmo
from montecarlo.fields import cmb as cmb_field
from montecarlo.fields import ebl as ebl_field
from montecarlo.opacity.breit_wheeler import sigma_gg_cm2
from montecarlo.opacity.ratetables import cached_table

#: Bump when the tables are computed differently.
TABLE_VERSION = 1
#: Local particle energies of the rate and sampling tables [eV] and their density per decade.
E_TABLE_RANGE_EV = (1.0e7, 1.0e20)
E_PER_DECADE = 10
#: Target-energy (x) grid [eV]: 1e-9 eV (CMB Rayleigh-Jeans tail for 1e20 eV photons) to 20 eV;
#: 64 per decade for the rates (within 0.5 % of the opacity module's Gould-Schreder rates,
#: the residual from the EBL's long-wavelength edge), 24 per decade for the sampling tables.
X_RANGE_EV = (1.0e-9, 20.0)
X_PER_DECADE_RATES = 64
X_PER_DECADE = 24
#: Quantiles of the secondary-energy tables and their s grid (per decade of s / s_threshold - 1).
N_QUANTILES = 256
S_PER_DECADE = 8
#: Redshift nodes of the optical-depth tables: uniform steps of DZ_TAU.
DZ_TAU = 0.02
#: Redshift step of the sampling tables (stochastic interpolation between nodes).
DZ_SAMPLING = 0.05


def sigma_kn_cm2(s_eV2):
    """Klein-Nishina cross-section [cm^2] at invariant s [eV^2] (Blumenthal & Gould 1970,
    eq. 2.19-2.20 with k = (s - m^2) / (2 m^2) the photon energy in the electron rest frame):
    sigma = (3/4) sigma_T [(1+k)/k^3 (2k(1+k)/(1+2k) - ln(1+2k)) + ln(1+2k)/(2k) - (1+3k)/(1+2k)^2];
    Thomson series 1 - 2k + 26k^2/5 - 133k^3/10 below k = 1e-3."""
    k = (np.asarray(s_eV2, dtype=float) - M_E_EV ** 2) / (2.0 * M_E_EV ** 2)
    k = np.maximum(k, 0.0)
    out = np.empty_like(k)
    small = k < 1e-3
    ks = k[small]
    out[small] = 1.0 - 2.0 * ks + 5.2 * ks ** 2 - 13.3 * ks ** 3
    kb = k[~small]
    l2 = np.log1p(2.0 * kb)
    out[~small] = 0.75 * ((1 + kb) / kb ** 3 * (2 * kb * (1 + kb) / (1 + 2 * kb) - l2)
                          + l2 / (2 * kb) - (1 + 3 * kb) / (1 + 2 * kb) ** 2)
    return SIGMA_T_CM2 * out


def pair_dsigma_dy(y, b):
    """Shape of the pair-production lepton-energy distribution, eq. (2) (unnormalised)."""
    g = 1.0 - b * b
    B = 1.0 / y + 1.0 / (1.0 - y)
    return y / (1.0 - y) + (1.0 - y) / y + g * B - 0.25 * g * g * B * B


def ic_dsigma_dy(y, b):
    """Shape of the inverse-Compton lepton-energy distribution, eq. (3) (unnormalised)."""
    q = (1.0 - b) / b * (1.0 - 1.0 / y)
    return (1.0 + b) / b * (y + 1.0 / y + 2.0 * q + q * q)


def _log_grid(lo, hi, per_decade):
    n = int(round(np.log10(hi / lo) * per_decade)) + 1
    return np.geomspace(lo, hi, n)


def _trapz_weights(ln_x):
    d = np.diff(ln_x)
    w = np.zeros_like(ln_x)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


# --------------------------------------------------------------------------- secondary energies
def _quantiles_of(t, pdf):
    """Inverse CDF at N_QUANTILES + 1 equally spaced probabilities of a pdf on the grid t."""
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(t))])
    cdf /= cdf[-1]
    return np.interp(np.linspace(0.0, 1.0, N_QUANTILES + 1), cdf, t)


@lru_cache(maxsize=1)
def secondary_tables():
    """Quantile tables of the secondary energies.

    Returns (ln_ds_pp, q_pp, ln_ds_ic, q_ic): for pair production, s on the grid
    s / 4m^2 - 1 = exp(ln_ds_pp) and quantiles of t = ln(y / y0) / ln(1/2 / y0) on the lower
    half y in [y0, 1/2], y0 = (1 - b)/2 (the distribution is symmetric in y <-> 1 - y); for
    inverse Compton, s / m^2 - 1 = exp(ln_ds_ic) and quantiles of t = ln y / ln y0 in [0, 1],
    y0 = m^2 / s. Each row: N_QUANTILES + 1 values of t.
    """
    t = np.linspace(0.0, 1.0, 4001)
    ds_pp = _log_grid(1e-8, 1e16, S_PER_DECADE)
    q_pp = np.empty((ds_pp.size, N_QUANTILES + 1))
    for i, d in enumerate(ds_pp):
        b = np.sqrt(d / (1.0 + d))
        y0 = 0.5 * (1.0 - b) if b < 0.5 else 0.5 / (1.0 + d) / (1.0 + b)   # (1-b)/2 without cancellation
        L = np.log(0.5 / y0)
        y = y0 * np.exp(t * L)
        q_pp[i] = _quantiles_of(t, pair_dsigma_dy(y, b) * y * L)
    ds_ic = _log_grid(1e-8, 1e18, S_PER_DECADE)
    q_ic = np.empty((ds_ic.size, N_QUANTILES + 1))
    for i, d in enumerate(ds_ic):
        b = d / (2.0 + d)
        ln_y0 = -np.log1p(d)
        y = np.exp(t * ln_y0)
        q_ic[i] = _quantiles_of(t, ic_dsigma_dy(y, b) * y * (-ln_y0))
    return np.log(ds_pp), q_pp, np.log(ds_ic), q_ic


# --------------------------------------------------------------------------- photon fields
def target_density(x_eV, z, model: str, T0_K: float = cmb_field.T0_K):
    """CMB + EBL proper photon density dn/deps [cm^-3 eV^-1] on x_eV at redshift z."""
    n = cmb_field.dn_deps(x_eV, cmb_field.temperature_K(z, T0_K))
    if model != "none":
        n = n + ebl_field.density(model).dn_deps(x_eV, z)[:, 0]
    return n


def F_of_x(x_eV, n):
    """F(x) = Integral_x^inf n / eps^2 d eps on the grid (trapezoid in ln eps, zero at the top)."""
    g = n / x_eV
    d = np.diff(np.log(x_eV))
    seg = 0.5 * (g[1:] + g[:-1]) * d
    return np.concatenate([np.cumsum(seg[::-1])[::-1], [0.0]])


def rate_integrands(E_eV, x_eV, F, lepton: bool):
    """Integrand of eq. (1) in ln x, 2 x^2 sigma(4 E x + m_i^2) F(x): shape (n_E, n_x)."""
    s = 4.0 * E_eV[:, None] * x_eV[None, :]
    if lepton:
        sig = sigma_kn_cm2(s + M_E_EV ** 2)
    else:
        sig = sigma_gg_cm2(s)
    return 2.0 * x_eV[None, :] ** 2 * sig * F[None, :]


def rates_per_cm(E_eV, z, model: str, lepton: bool, x_eV=None):
    """Interaction rate [cm^-1] of photons (pair production) or leptons (inverse Compton)
    of local energies E_eV at redshift z, eq. (1)."""
    x = _log_grid(*X_RANGE_EV, X_PER_DECADE_RATES) if x_eV is None else x_eV
    F = F_of_x(x, target_density(x, z, model))
    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    return rate_integrands(E, x, F, lepton) @ _trapz_weights(np.log(x))


# --------------------------------------------------------------------------- the tables
@dataclass
class CascadeTables:
    """Everything the cascade kernels need (module docstring); arrays C-contiguous float64."""
    model: str
    cosmology: str
    z_max: float
    lnE: np.ndarray            # (n_E,) uniform ln of local energies / comoving energies [eV]
    z_tau: np.ndarray          # (n_zt,) uniform, step DZ_TAU
    tau_gamma: np.ndarray      # (n_E, n_zt): optical depth from z to 0 of a photon of comoving energy E
    tau_lepton: np.ndarray     # (n_E, n_zt): same for inverse Compton of leptons
    z_s: np.ndarray            # (n_zs,) uniform, step DZ_SAMPLING
    ln_x: np.ndarray           # (n_x,) uniform ln of target threshold energies
    cdf_gamma: np.ndarray      # (n_zs, n_E, n_x) normalised cumulative of the integrand of (1)
    cdf_lepton: np.ndarray     # (n_zs, n_E, n_x)
    ln_ds_pp: np.ndarray
    q_pp: np.ndarray
    ln_ds_ic: np.ndarray
    q_ic: np.ndarray
    path: str = ""

    def kernel_args(self):
        """The table arguments of :func:`montecarlo.cascade.kernels.run_cascades`, in order."""
        return (self.lnE, self.z_tau, self.tau_gamma, self.tau_lepton, self.z_s, self.ln_x,
                self.cdf_gamma, self.cdf_lepton, self.ln_ds_pp, self.q_pp, self.ln_ds_ic, self.q_ic)


SOURCES = ("cascade/interactions.py", "cascade/cosmology.py", "opacity/breit_wheeler.py",
            "fields/cmb.py", "fields/ebl.py")


@lru_cache(maxsize=None)
def code_digest() -> str:
    """SHA-256 of the modules the cascade tables are computed by."""
    here = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for name in SOURCES:
        h.update(name.encode())
        h.update((here / name).read_bytes())
    return h.hexdigest()


def z_max_of(model: str, z_max: float) -> float:
    """z_max checked against the EBL model's range."""
    if model != "none":
        top = ebl_field.density(ebl_field.check_model(model)).z_range[1]
        if z_max > top + 1e-9:
            raise ArgumentError(f"z_max = {z_max:g} is outside the EBL model {model!r}: allowed "
                                f"0 < z_max <= {top:g}")
    if not 0.0 < z_max <= 10.0:
        raise ArgumentError(f"z_max = {z_max:g} is not allowed: expected 0 < z_max <= 10")
    return float(z_max)


def build_arrays(model: str, cosmology_name: str, z_max: float, T0_K: float = cmb_field.T0_K,
                 progress=False) -> dict:
    """Compute the arrays of :class:`CascadeTables` (a few seconds)."""
    from tqdm.auto import tqdm
    E = _log_grid(*E_TABLE_RANGE_EV, E_PER_DECADE)
    x = _log_grid(*X_RANGE_EV, X_PER_DECADE)
    xr = _log_grid(*X_RANGE_EV, X_PER_DECADE_RATES)
    wx = _trapz_weights(np.log(xr))
    n_zt = int(np.ceil(z_max / DZ_TAU - 1e-9)) + 1
    z_tau = np.arange(n_zt) * DZ_TAU
    n_zs = int(np.ceil(z_max / DZ_SAMPLING - 1e-9)) + 1
    z_s = np.arange(n_zs) * DZ_SAMPLING
    # rates of comoving energies E at every tau node: local energy E (1 + z)
    rate_g = np.empty((E.size, n_zt))
    rate_e = np.empty((E.size, n_zt))
    for k in tqdm(range(n_zt), desc="cascade rates", disable=not progress, leave=False):
        F = F_of_x(xr, target_density(xr, min(z_tau[k], z_max), model, T0_K))
        El = E * (1.0 + z_tau[k])
        rate_g[:, k] = rate_integrands(El, xr, F, False) @ wx
        rate_e[:, k] = rate_integrands(El, xr, F, True) @ wx
    dl = cosmo.dl_dz_cm(z_tau, cosmology_name)
    tau_g = np.zeros_like(rate_g)
    tau_e = np.zeros_like(rate_e)
    # Simpson-like accuracy: trapezoid on the fine step of the rate x dl/dz product
    for rate, tau in ((rate_g, tau_g), (rate_e, tau_e)):
        f = rate * dl[None, :]
        tau[:, 1:] = np.cumsum(0.5 * (f[:, 1:] + f[:, :-1]) * DZ_TAU, axis=1)
    cdf_g = np.empty((n_zs, E.size, x.size))
    cdf_e = np.empty((n_zs, E.size, x.size))
    for k in range(n_zs):
        F = F_of_x(x, target_density(x, min(z_s[k], z_max), model, T0_K))
        for integrand, cdf in ((rate_integrands(E, x, F, False), cdf_g),
                               (rate_integrands(E, x, F, True), cdf_e)):
            g = integrand * 1.0
            c = np.concatenate([np.zeros((E.size, 1)),
                                np.cumsum(0.5 * (g[:, 1:] + g[:, :-1]) * np.diff(np.log(x))[None, :], axis=1)],
                               axis=1)
            top = c[:, -1:]
            cdf[k] = np.where(top > 0, c / np.where(top > 0, top, 1.0), 0.0)
    ln_ds_pp, q_pp, ln_ds_ic, q_ic = secondary_tables()
    return {"E_eV": E, "z_tau": z_tau, "tau_gamma": tau_g, "tau_lepton": tau_e, "z_s": z_s,
            "x_eV": x, "cdf_gamma": cdf_g, "cdf_lepton": cdf_e, "ln_ds_pp": ln_ds_pp, "q_pp": q_pp,
            "ln_ds_ic": ln_ds_ic, "q_ic": q_ic}


_UNITS = {"E_eV": "eV", "z_tau": "", "tau_gamma": "", "tau_lepton": "", "z_s": "", "x_eV": "eV",
          "cdf_gamma": "", "cdf_lepton": "", "ln_ds_pp": "", "q_pp": "", "ln_ds_ic": "", "q_ic": ""}


def cascade_tables(cfg, model: str = "dominguez", cosmology_name: str = "planck18",
                   z_max: float = 3.9, progress=False) -> CascadeTables:
    """The (disk-cached) cascade tables of an EBL model ("none": CMB only), a cosmology and z_max."""
    return _tables(cfg, model, cosmology_name, round(z_max_of(model, z_max), 6), bool(progress))


_MEMORY: dict = {}


def _tables(cfg, model, cosmology_name, z_max, progress):
    from importlib import metadata
    cosmo.cosmology(cosmology_name)                          # checks the name
    if model != "none":
        ebl_field.check_model(model)
    spec = {"model": model, "cosmology": cosmology_name, "z_max": z_max,
            "ebltable": metadata.version("ebltable"), "T0_K": cfg.fields.cmb_T0_K,
            "grids": [E_TABLE_RANGE_EV, E_PER_DECADE, X_RANGE_EV, X_PER_DECADE, X_PER_DECADE_RATES, DZ_TAU,
                      DZ_SAMPLING, N_QUANTILES, S_PER_DECADE],
            "version": TABLE_VERSION, "cascade_code": code_digest()}
    key = repr(sorted(spec.items()))
    if key not in _MEMORY:
        arrays, path, _ = cached_table(f"cascade-{model}", cfg, spec,
                                       lambda p: build_arrays(model, cosmology_name, z_max, cfg.fields.cmb_T0_K, p),
                                       _UNITS, progress)
        c = {k: np.ascontiguousarray(v, dtype=float) for k, v in arrays.items()}
        _MEMORY[key] = CascadeTables(model, cosmology_name, z_max, np.log(c["E_eV"]), c["z_tau"],
                                     c["tau_gamma"], c["tau_lepton"], c["z_s"], np.log(c["x_eV"]),
                                     c["cdf_gamma"], c["cdf_lepton"], c["ln_ds_pp"], c["q_pp"],
                                     c["ln_ds_ic"], c["q_ic"], str(path))
    return _MEMORY[key]
