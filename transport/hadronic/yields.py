"""Secondary gamma rays and neutrinos per inelastic pp collision, for every yield model.

Each model gives dN_i/dE(E_p, E), the number of secondaries i per inelastic collision per
unit secondary energy [eV^-1] for a proton of total energy E_p [docs/physics.md, section 3]. The
emissivity multiplies it by the ONE inelastic cross-section of :mod:`transport.hadronic.cross_section`,
so that transport losses and secondary production use the same sigma_inel:
dsigma_i/dE = sigma_inel(E_p) dN_i/dE. Models that tabulate dsigma_i/dE with their own
cross-section (AAfrag, Kamae 2006) are divided by that cross-section here.

Channels at the source: "gamma", "nu_e" (nu_e + anti-nu_e) and "nu_mu" (nu_mu + anti-nu_mu);
pp collisions make no tau neutrinos. All energies are total energies per particle; the
parameterisations that use kinetic energy (Kafexhiu 2014, Kamae 2006) get T_p = E_p - m_p c^2.

Models ("hadronic.yields"):
- "aafrag": AAfrag 2 tables (QGSJET-II-04m; Kachelriess, Moskalenko & Ostapchenko 2019,
  Comput. Phys. Commun. 245, 106846; Koldobskiy et al. 2021, PRD 104, 123027) read with
  the ``aafragpy`` package, for primaries from 4 GeV (the first table row) to 4e20 eV. Below
  4 GeV: Kafexhiu et al. 2014 for photons and Kamae et al. 2006 for neutrinos (Kafexhiu 2014
  has no neutrinos), switched at exactly 4 GeV (see docs/emission.md, "pp secondaries").
- "kafexhiu2014": Kafexhiu, Aharonian, Taylor & Vila 2014, PRD 90, 123014, eq. 8-12 with the
  Geant4 parameters (aafragpy's implementation); photons only; T_p <= 1 PeV.
- "kamae2006": Kamae et al. 2006, ApJ 647, 692, with diffraction and both resonances
  (aafragpy's implementation); T_p < 512 TeV.
- "kelner2006": Kelner, Aharonian & Bugayov 2006, PRD 74, 034018 (:mod:`transport.hadronic.kelner2006`);
  0.1 TeV <= E_p <= 1e5 TeV, so only secondaries above 0.1 TeV are complete.
"""
from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from transport.hadronic import kelner2006
from transport.core.constants import GEV_EV, M_P_EV
from transport.hadronic.cross_section import sigma_inel_kafexhiu2014_mb

#: Channels at the source (nu_e and nu_mu include the antineutrinos).
SOURCE_CHANNELS = ("gamma", "nu_e", "nu_mu")

#: aafragpy works in GeV and mb/GeV.
_MB_PER_GEV_TO_PER_EV = 1e-9          # (mb/GeV) / mb -> eV^-1 after dividing by sigma [mb]

#: Lowest secondary energy of every model [eV]. Below ~0.3 GeV the neutrinos from protons
#: near threshold (Kamae 2006) would need a far finer E_p quadrature than 0.02 dex.
SECONDARY_MIN_EV = 1e9

#: Proton rest energy as used by aafragpy's parameterisations [GeV].
_M_P_GEV = M_P_EV / GEV_EV


@dataclass(frozen=True)
class YieldModel:
    """Range of a yield model: primary and secondary total energies [eV], channels."""
    name: str
    primary_max_eV: float
    secondary_min_eV: float
    channels: tuple[str, ...]
    reference: str

    @property
    def secondary_max_eV(self) -> float:
        return self.primary_max_eV


def _aafragpy(module: str):
    """Import an aafragpy module without keeping the process-wide warning filters that
    aafragpy installs at import (it silences numpy's divide, invalid and overflow warnings
    everywhere); the numerical warnings of its functions are handled where they are called."""
    with warnings.catch_warnings():
        return importlib.import_module(f"aafragpy.{module}")


def aafrag_table_range():
    """Primary total-energy range [eV] of the AAfrag p-p tables shipped with aafragpy."""
    E_p = _aafragpy("aafrag").open_data_files("gam", "p-p")[0]
    return float(E_p[0]), float(E_p[-1])


#: AAfrag p-p primary range [eV] (aafragpy 2.x tables; checked against the files in the tests,
#: not read at import so that loading a config stays fast).
AAFRAG_MIN_EV, AAFRAG_MAX_EV = 4.0e9, 3.96868e20
KAFEXHIU_MAX_EV = 1e6 * GEV_EV + M_P_EV          # T_p <= 1 PeV [Kafexhiu 2014, Sec. I]
KAMAE_MAX_EV = 512e3 * GEV_EV                    # aafragpy: E_p < 512 TeV

MODELS = {
    "aafrag": YieldModel("aafrag", AAFRAG_MAX_EV, SECONDARY_MIN_EV, SOURCE_CHANNELS,
                         "AAfrag (QGSJET-II-04m) via aafragpy; Kafexhiu 2014 / Kamae 2006 "
                         "below 4 GeV"),
    "kafexhiu2014": YieldModel("kafexhiu2014", KAFEXHIU_MAX_EV, SECONDARY_MIN_EV, ("gamma",),
                               "Kafexhiu et al. 2014, PRD 90, 123014 (Geant4 parameters)"),
    "kamae2006": YieldModel("kamae2006", KAMAE_MAX_EV, SECONDARY_MIN_EV, SOURCE_CHANNELS,
                            "Kamae et al. 2006, ApJ 647, 692"),
    "kelner2006": YieldModel("kelner2006", kelner2006.E_P_MAX_EV, kelner2006.E_P_MIN_EV,
                             SOURCE_CHANNELS, "Kelner, Aharonian & Bugayov 2006, PRD 74, 034018"),
}


# --------------------------------------------------------------------------- AAfrag
def _aafrag():
    return _aafragpy("aafrag")


def aafrag_dsigma_dE_mb_gev(secondary: str, E_p_eV, E_eV) -> np.ndarray:
    """AAfrag dsigma/dE [mb/GeV] for pp -> ``secondary`` (aafragpy names: "gam", "nu_e",
    "anu_e", "nu_mu", "anu_mu", "el", "posi", "p", "ap", "n", "an"), shape (n_p, n_E).

    Uses aafragpy's curve-morphing interpolation between table rows; E_p must lie within the
    tables (4 GeV - 4e20 eV)."""
    E_p = np.atleast_1d(np.asarray(E_p_eV, dtype=float)) / GEV_EV
    E = np.atleast_1d(np.asarray(E_eV, dtype=float)) / GEV_EV
    cs = _aafrag().get_cross_section(secondary, "p-p", E_p, E)[0]
    return np.asarray(cs, dtype=float).reshape(E_p.size, E.size)


@lru_cache(maxsize=None)
def _aafrag_sigma_table():
    """AAfrag's own inelastic cross-section at its table rows, from baryon-number
    conservation: each inelastic pp collision ends with net baryon number 2, so
    sigma_inel = (1/2) Integral dE [dsigma_p - dsigma_pbar + dsigma_n - dsigma_nbar]/dE."""
    net = None
    for secondary, sign in (("p", 1.0), ("ap", -1.0), ("n", 1.0), ("an", -1.0)):
        E_p, E_s, cs = _aafrag().open_data_files(secondary, "p-p")   # cs = E dsigma/dE [mb]
        term = sign * np.trapezoid(cs, np.log(E_s), axis=1)
        net = term if net is None else net + term
    return np.log(E_p), np.log(0.5 * net)


def sigma_inel_aafrag_mb(E_eV) -> np.ndarray:
    """AAfrag's (QGSJET-II-04m) inelastic pp cross-section [mb] from baryon-number
    conservation of its nucleon tables, log-log interpolated between table rows."""
    lnE, ln_sigma = _aafrag_sigma_table()
    return np.exp(np.interp(np.log(np.asarray(E_eV, dtype=float)), lnE, ln_sigma))


_AAFRAG_NAMES = {"gamma": ("gam",), "nu_e": ("nu_e", "anu_e"), "nu_mu": ("nu_mu", "anu_mu")}


def _dN_dE_aafrag_tables(channel, E_p_eV, E_eV):
    dsigma = sum(aafrag_dsigma_dE_mb_gev(name, E_p_eV, E_eV) for name in _AAFRAG_NAMES[channel])
    return dsigma * _MB_PER_GEV_TO_PER_EV / sigma_inel_aafrag_mb(E_p_eV)[:, None]


# --------------------------------------------------------------------------- Kafexhiu 2014
def _kafexhiu():
    return _aafragpy("Kafexhiu2014")


def kafexhiu2014_dsigma_dE_mb_gev(E_p_eV, E_eV) -> np.ndarray:
    """Kafexhiu et al. 2014 photon dsigma/dE [mb/GeV] (eq. 8-12, Geant4 parameters), shape
    (n_p, n_E); T_p = E_p - m_p c^2. Zero outside the kinematic range E_min <= E <= E_max
    (aafragpy returns NaN below E_min = m_pi^2 / (4 E_max))."""
    k14 = _kafexhiu()
    E_p = np.atleast_1d(np.asarray(E_p_eV, dtype=float)) / GEV_EV
    E = np.atleast_1d(np.asarray(E_eV, dtype=float)) / GEV_EV
    out = np.zeros((E_p.size, E.size))
    with np.errstate(all="ignore"):
        for k, e_p in enumerate(E_p):
            T_p = e_p - _M_P_GEV
            if T_p > k14.T_p_th:
                out[k] = k14.F_gamma_Kafexhiu2014(T_p, E, "GEANT")
    return np.where(np.isfinite(out) & (out > 0.0), out, 0.0)


def _dN_dE_kafexhiu(channel, E_p_eV, E_eV):
    if channel != "gamma":
        raise ValueError(f"Kafexhiu 2014 has photons only, not {channel!r}")
    sigma = sigma_inel_kafexhiu2014_mb(E_p_eV)[:, None]
    dsigma = kafexhiu2014_dsigma_dE_mb_gev(E_p_eV, E_eV)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sigma > 0.0, dsigma * _MB_PER_GEV_TO_PER_EV / sigma, 0.0)


# --------------------------------------------------------------------------- Kamae 2006
def _kamae():
    return _aafragpy("Kamae2006")


def _kamae_functions(channel):
    k = _kamae()
    return {"gamma": (k.dXSdE_gamma_Kamae2006,),
            "nu_e": (k.dXSdE_elec_nu_Kamae2006, k.dXSdE_elec_anti_nu_Kamae2006),
            "nu_mu": (k.dXSdE_mu_nu_Kamae2006, k.dXSdE_mu_anti_nu_Kamae2006),
            "electrons": (k.dXSdE_elec_Kamae2006, k.dXSdE_posi_Kamae2006)}[channel]


def kamae2006_dsigma_dE_mb_gev(channel: str, E_p_eV, E_eV) -> np.ndarray:
    """Kamae et al. 2006 dsigma/dE [mb/GeV] for ``channel`` ("gamma", "nu_e", "nu_mu" as
    particle + antiparticle sums, or "electrons" = e- + e+), diffraction and both baryon
    resonances included; shape (n_p, n_E); T_p = E_p - m_p c^2; zero for E_p >= 512 TeV."""
    E_p = np.atleast_1d(np.asarray(E_p_eV, dtype=float)) / GEV_EV
    E = np.atleast_1d(np.asarray(E_eV, dtype=float)) / GEV_EV
    out = np.zeros((E_p.size, E.size))
    with np.errstate(over="ignore"):          # its kinematic cut-offs 1 / (1 + exp(75 dx))
        for fn in _kamae_functions(channel):
            vec = np.vectorize(fn, otypes=[float])
            for k, e_p in enumerate(E_p):
                T_p = e_p - _M_P_GEV
                below = E < T_p                   # Kamae: zero for E >= T_p
                if e_p * GEV_EV < KAMAE_MAX_EV and np.any(below):
                    out[k, below] += vec(T_p, E[below], True)
    return out


def sigma_inel_kamae2006_mb(E_eV) -> np.ndarray:
    """Kamae et al. 2006 inelastic pp cross-section [mb]: the sum of its non-diffractive,
    diffractive, Delta(1232) and res(1600) components (Kamae et al. 2006, eq. 1-4, with the
    coefficients of the authors' cparamlib), functions of the proton momentum P [GeV/c]."""
    E = np.asarray(E_eV, dtype=float) / GEV_EV
    P = np.sqrt(np.maximum(E ** 2 - _M_P_GEV ** 2, 1e-300))
    x = np.log10(P)
    a = (0.57, 0.1176, 0.3829, 23.10, 6.454, -5.764, -23.63, 94.75, 0.02667)

    def nd_mid(x):
        return a[3] + x * x * (a[4] + a[5] * x) + a[6] * np.exp(-a[7] * (x + a[8]) ** 2)
    with np.errstate(all="ignore"):
        nd = np.select(
            [(P >= 1.0) & (P < 1.3), (P >= 1.3) & (P < 2.4), (P >= 2.4) & (P <= 10.0), P > 10.0],
            [a[0] * (x / a[1]) ** 1.2 * nd_mid(x),
             (11.34 * np.abs(a[2] - x) + 23.72 * np.abs(a[1] - x)) / (a[2] - a[1]),
             nd_mid(x), 28.5 - 6.133 * x + 1.464 * x * x], 0.0)
        d = (0.3522, 0.1530, 1.498, 2.0, 30.0, 3.155, 1.042)
        diff_mid = d[2] + d[3] * np.log10(d[4] * (x - 0.25)) + x * x * (d[5] - d[6] * x)
        diff = np.select(
            [(P >= 2.25) & (P < 3.2), (P >= 3.2) & (P <= 100.0), P > 100.0],
            [np.sqrt((x - d[0]) / d[1]) * diff_mid, diff_mid, 5.922 + 1.632 * x], 0.0)
        delta = np.select(
            [(E >= 1.4) & (E < 1.6), (E >= 1.6) & (E < 1.8), (E >= 1.8) & (E <= 10.0)],
            [0.0834 * E ** 10, 9.5 * np.exp(5.5 * (E - 1.68) ** 2), 3134.0 * E ** -10.0], 0.0)
        res = np.select(
            [(E >= 1.6) & (E < 1.9), (E >= 1.9) & (E < 2.3), (E >= 2.3) & (E <= 20.0)],
            [0.0004257 * E ** 14, 4.5 * np.exp(7.0 * (E - 2.1) ** 2), 503.5 * E ** -6.0], 0.0)
    return nd + diff + delta + res


def _dN_dE_kamae(channel, E_p_eV, E_eV):
    sigma = sigma_inel_kamae2006_mb(E_p_eV)[:, None]
    dsigma = kamae2006_dsigma_dE_mb_gev(channel, E_p_eV, E_eV)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sigma > 0.0, dsigma * _MB_PER_GEV_TO_PER_EV / sigma, 0.0)


# --------------------------------------------------------------------------- dispatch
def _dN_dE_aafrag_low(channel, E_p_eV, E_eV):
    """Below the AAfrag tables: Kafexhiu 2014 photons, Kamae 2006 neutrinos."""
    if channel == "gamma":
        return _dN_dE_kafexhiu(channel, E_p_eV, E_eV)
    return _dN_dE_kamae(channel, E_p_eV, E_eV)


def _dN_dE_kelner(channel, E_p_eV, E_eV):
    return kelner2006.dN_dE(channel, E_p_eV, E_eV)


#: Providers of dN/dE: name -> function(channel, E_p_eV (n_p,), E_eV (n_E,)) -> (n_p, n_E).
PROVIDERS = {
    "aafrag_tables": _dN_dE_aafrag_tables,
    "aafrag_low": _dN_dE_aafrag_low,
    "kafexhiu2014": _dN_dE_kafexhiu,
    "kamae2006": _dN_dE_kamae,
    "kelner2006": _dN_dE_kelner,
}


def segments(model: str, E_lo_eV: float, E_hi_eV: float):
    """Split the primary range [E_lo, E_hi] into pieces with one provider each:
    a list of (E_a, E_b, provider). Only "aafrag" has two: below and above 4 GeV."""
    if model != "aafrag":
        return [(E_lo_eV, E_hi_eV, model)]
    if E_hi_eV <= AAFRAG_MIN_EV:
        return [(E_lo_eV, E_hi_eV, "aafrag_low")]
    if E_lo_eV >= AAFRAG_MIN_EV:
        return [(E_lo_eV, E_hi_eV, "aafrag_tables")]
    return [(E_lo_eV, AAFRAG_MIN_EV, "aafrag_low"), (AAFRAG_MIN_EV, E_hi_eV, "aafrag_tables")]


def dN_dE(model: str, channel: str, E_p_eV, E_eV) -> np.ndarray:
    """Secondaries of ``channel`` per inelastic collision per unit energy [eV^-1] for the
    yield ``model``, shape (n_p, n_E); primaries at or above 4 GeV use the AAfrag tables for
    model "aafrag". Primaries beyond the model's range give zero here; :func:`pp_emissivity`
    refuses spectra that extend there."""
    E_p = np.atleast_1d(np.asarray(E_p_eV, dtype=float))
    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    out = np.zeros((E_p.size, E.size))
    if model == "aafrag":
        high = E_p >= AAFRAG_MIN_EV
        if np.any(high):
            out[high] = PROVIDERS["aafrag_tables"](channel, E_p[high], E)
        if np.any(~high):
            out[~high] = PROVIDERS["aafrag_low"](channel, E_p[~high], E)
        return out
    inside = E_p <= MODELS[model].primary_max_eV * (1 + 1e-12)
    if np.any(inside):
        out[inside] = PROVIDERS[model](channel, E_p[inside], E)
    return out
