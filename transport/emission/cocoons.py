"""Gamma rays and neutrinos from the source grammage of cosmic rays ("cocoons") [K].

Cosmic rays spend a time tau_c = chi_c / (m_p n_gas c) in cocoons around their sources before
entering the Galaxy [K, eq. 1], so the production rate per unit volume is [K, eq. 2]

    Q_i(E, R, z) = rho(R, z) / m_p sum_s Integral dE_s Q_CR,s(E_s) chi_c(R_s) dsigma_s/dE
                 = rho(R, z) S_i(E),

independent of the cocoon gas density. Here:
- rho: the SNR distribution ([distributions], default "snr_tibet", i.e. [T] eq. 9 with Green
  2015's radial parameters, as [K] uses Green 2015) normalised to unit volume integral;
- chi_c(R) = chi_0 exp(-R / R0) [K, eq. 4], chi_0 = 0.4 g/cm^2, R0 = 20 TV (rigidity);
- Q_CR,s(E) = A a_s f_s(R(E)) dR/dE: the Galactic injection of protons and helium with the
  shapes of [L] eq. 3 / Table II (:mod:`transport.cosmicrays.galactic_injection`), their relative amplitudes a_s
  matched to the local H3a p and He fluxes at 1 TV (as for the [disk] "injection" spectrum)
  and A set by the total power L_CR = sum_s Integral_{T >= 1 GeV} T Q_CR,s dE (kinetic energy
  T per particle; default 1e41 erg/s), docs/physics.md, section 7; or, for cocoons.injection
  = "sea", the injection of the [sea] model, Q_CR,s = Q_s(E) Integral f dV
  (:func:`transport.emission.sea.injection_density`): shape and power set by the transport
  that turns it into the local CR spectrum (cocoons.L_CR_erg_s is then not used);
- dsigma_s/dE: pp yields (:mod:`transport.hadronic.secondaries`, the configured yields and the shared
  sigma_inel) with helium by superposition (a nucleus of energy E as 4 nucleons of E/4, at
  the grammage of its own rigidity).
"""
from __future__ import annotations

import numpy as np

from transport.emission import distributions, sea
from transport.cosmicrays import galactic_injection as injection
from transport.core.constants import C_CM_S, ERG_EV, KPC_CM, M_P_G
from transport.emission.disk import nucleon_grid, plane_table
from transport.hadronic.secondaries import pp_emissivity

#: Kinetic energy above which the cosmic-ray power is counted [eV].
POWER_T_MIN_EV = 1e9


def grammage_g_cm2(R_V, chi0_g_cm2, R0_V):
    """Source grammage chi_c(R) = chi_0 exp(-R / R0) [g cm^-2] [K, eq. 4]."""
    return chi0_g_cm2 * np.exp(-np.asarray(R_V, dtype=float) / R0_V)


def power_per_unit_amplitude_eV_s(model: str, D_delta: float) -> float:
    """sum_s Integral_{T >= 1 GeV} T a_s f_s(R(E)) dR/dE dE for A = 1 [eV/s per unit A]."""
    a = injection.species_weights(model, D_delta)
    total = 0.0
    for s in injection.SPECIES:
        T = np.geomspace(POWER_T_MIN_EV, 1e21, 1201)
        E = T + s.mass_eV
        integrand = T * a[s.name] * injection.injection_per_energy(E, s, model)
        total += np.trapezoid(integrand * T, np.log(T))
    return float(total)


def injection_rate(E_eV, species, cfg) -> np.ndarray:
    """Q_CR,s(E): the Galactic injection rate of ``species`` [s^-1 eV^-1] for [cocoons]."""
    c = cfg.cocoons
    if c.injection == "sea":
        return sea.injection_density(E_eV, species, cfg) * sea.source_volume_cm3(cfg)
    A = c.L_CR_erg_s * ERG_EV / power_per_unit_amplitude_eV_s(c.injection, cfg.galaxy.D_delta)
    a = injection.species_weights(c.injection, cfg.galaxy.D_delta)[species.name]
    return A * a * injection.injection_per_energy(E_eV, species, c.injection)


def cocoon_spectrum(E_eV, particle, cfg) -> np.ndarray:
    """S_i(E) = (1/m_p) sum_s Integral Q_CR,s chi_c dsigma/dE [s^-1 eV^-1 per unit rho]:
    the pp emissivity integral with j -> Q_CR chi_c (per nucleon) and n_gas -> 1/(m_p c)."""
    c = cfg.cocoons
    E_n = nucleon_grid(cfg)
    per_species = {s: (lambda E, s=s: injection_rate(E, s, cfg)
                       * grammage_g_cm2(injection.rigidity_V(E, s), c.chi0_g_cm2, c.R0_V))
                   for s in injection.SPECIES}
    column = injection.nucleon_spectrum(E_n, per_species)       # g cm^-2 s^-1 eV^-1
    return pp_emissivity(E_n, column, 1.0 / (M_P_G * C_CM_S), E_eV, particle,
                         cfg.hadronic.yields, hadronic=cfg.hadronic, neutrino=cfg.neutrino)


def cocoon_emission(cfg, particle: str, E_eV):
    """The [cocoons] model: q = rho(R, z) S(E) with rho normalised to unit volume [cm^-3]."""
    c = cfg.cocoons
    volume_cm3 = distributions.volume_kpc3(c.distribution, cfg.distributions) * KPC_CM ** 3
    R_ref, z_ref = distributions.reference_point_kpc(c.distribution, cfg.distributions)
    rho_ref = float(distributions.shape(c.distribution, cfg.distributions, R_ref, z_ref)) / volume_cm3
    spectrum = rho_ref * cocoon_spectrum(E_eV, particle, cfg)
    return plane_table(cfg, c.distribution, spectrum, E_eV,
                       {"model": "cocoons", "particle": particle, "chi0_g_cm2": c.chi0_g_cm2,
                        "R0_V": c.R0_V, "injection": c.injection,
                        "L_CR_erg_s": sea.cr_power_erg_s(cfg) if c.injection == "sea" else c.L_CR_erg_s,
                        "yields": cfg.hadronic.yields,
                        "description": "source-grammage (cocoon) emission [K, eq. 1-4]"})
