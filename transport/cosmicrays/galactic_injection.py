"""Cosmic-ray injection of [L]: multiply broken power laws in rigidity with an exponential
cut-off [L, eq. 3 and Table II], for protons and helium; the Galactic spectrum Q(R)/D(R)
(docs/physics.md, section 7); the local normalisation of the species to Gaisser's H3a.

Rigidity R = p c / (Z e) [V]; energies are total energies per particle [eV]. [L, eq. 3]:

    f(R) = R^-nu0 exp(-R/Rc)                                  for R < R1,
    f(R) = (prod_{i<=n} R_i^(nu_i - nu_(i-1))) R^-nu_n exp(-R/Rc)   for R_n <= R < R_(n+1),

n = 1..4 (R_5 = infinity), R in GV, continuous at every break. The per-energy injection is
f(R(E)) dR/dE. Table II also lists the solar modulation potential (0.7 GV), not used here:
the spectra are interstellar.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from transport.core.constants import C_CM_S, M_HE_EV, M_P_EV
from transport.cosmicrays.normalization import h3a_group_flux


@dataclass(frozen=True)
class Species:
    """A cosmic-ray species: charge Z, mass number A, rest energy [eV]."""
    name: str
    Z: int
    A: int
    mass_eV: float
    h3a_id: int          # crflux / CORSIKA id of the H3a mass group


PROTON = Species("p", 1, 1, M_P_EV, 14)
HELIUM = Species("He", 2, 4, M_HE_EV, 402)
SPECIES = (PROTON, HELIUM)


@dataclass(frozen=True)
class BrokenPowerLaw:
    """Parameters of [L, eq. 3]: indices nu0..nu4, breaks R1..R4 and cut-off Rc [GV]."""
    nu: tuple[float, float, float, float, float]
    breaks_GV: tuple[float, float, float, float]
    Rc_GV: float


#: [L] Table II: proton and helium injection, DR-high (IceTop) and DR-low (KASCADE).
TABLE_II = {
    ("p", "DR-high"): BrokenPowerLaw((2.06, 2.43, 2.22, 2.52, 2.18), (13.9, 500.0, 15e3, 100e3), 12e6),
    ("p", "DR-low"): BrokenPowerLaw((2.06, 2.43, 2.22, 2.52, 2.32), (13.9, 500.0, 15e3, 100e3), 4e6),
    ("He", "DR-high"): BrokenPowerLaw((1.46, 2.36, 2.12, 2.42, 2.08), (1.99, 650.0, 15e3, 100e3), 6e6),
    ("He", "DR-low"): BrokenPowerLaw((1.46, 2.36, 2.12, 2.42, 2.28), (1.99, 650.0, 15e3, 100e3), 4e6),
}
INJECTION_MODELS = ("DR-high", "DR-low")


def broken_power_law(R_GV, law: BrokenPowerLaw) -> np.ndarray:
    """f(R) of [L, eq. 3] (R in GV, f in GV^-nu: the products of R_i^(nu_i - nu_(i-1)) make
    it continuous)."""
    R = np.asarray(R_GV, dtype=float)
    nu, breaks = law.nu, law.breaks_GV
    f = R ** -nu[0]
    for i, Rb in enumerate(breaks, start=1):
        f = np.where(R >= Rb, f * (R / Rb) ** -(nu[i] - nu[i - 1]), f)
    return f * np.exp(-R / law.Rc_GV)


def rigidity_V(E_eV, species: Species) -> np.ndarray:
    """R = sqrt(E^2 - M^2) / Z [V] for total energy E [eV]."""
    E = np.asarray(E_eV, dtype=float)
    return np.sqrt(np.maximum(E ** 2 - species.mass_eV ** 2, 0.0)) / species.Z


def dR_dE(E_eV, species: Species) -> np.ndarray:
    """dR/dE = E / (Z p) [V/eV]."""
    E = np.asarray(E_eV, dtype=float)
    p = np.sqrt(np.maximum(E ** 2 - species.mass_eV ** 2, 1e-300))
    return E / (species.Z * p)


def injection_per_energy(E_eV, species: Species, model: str) -> np.ndarray:
    """Injection shape per unit total energy, f(R(E)) dR/dE [arbitrary units / eV]."""
    law = TABLE_II[(species.name, model)]
    return broken_power_law(rigidity_V(E_eV, species) / 1e9, law) * dR_dE(E_eV, species)


def galactic_spectrum_shape(E_eV, species: Species, model: str, D_delta: float) -> np.ndarray:
    """Galactic density spectrum shape Q(R)/D(R) per unit energy with D ~ R^D_delta
    (docs/physics.md, section 7; [L] Table I: delta = 0.362)."""
    R_GV = np.maximum(rigidity_V(E_eV, species), 1e-300) / 1e9
    return injection_per_energy(E_eV, species, model) * R_GV ** -D_delta


#: Rigidity where each species' Galactic spectrum is matched to H3a [V] (1 TV: direct
#: measurements constrain H3a there).
R_MATCH_V = 1e12


@lru_cache(maxsize=None)
def species_weights(model: str, D_delta: float) -> dict[str, float]:
    """Amplitudes a_s making a_s Q_s/D the local density of species s, matched to Gaisser's
    H3a flux of its mass group at rigidity 1 TV [cm^-3 per unit of the shape]."""
    weights = {}
    for s in SPECIES:
        E = np.sqrt((R_MATCH_V * s.Z) ** 2 + s.mass_eV ** 2)
        density = 4.0 * np.pi / C_CM_S * h3a_group_flux(E, s.h3a_id)
        weights[s.name] = float(density / galactic_spectrum_shape(E, s, model, D_delta))
    return weights


def nucleon_spectrum(E_n_eV, per_species) -> np.ndarray:
    """Spectrum per nucleon energy of a mix of species by superposition: a nucleus of total
    energy E = A E_n counts as A nucleons of energy E_n, so n(E_n) = sum_s A^2 N_s(A E_n).
    ``per_species`` maps each Species to a function N_s(E) of its total energy."""
    E_n = np.asarray(E_n_eV, dtype=float)
    total = np.zeros_like(E_n)
    for s, N in per_species.items():
        E = s.A * E_n
        ok = E > s.mass_eV
        total[ok] += s.A ** 2 * N(E[ok])
    return total
