"""Neutrino flavours at Earth: vacuum oscillations averaged over astrophysical distances.

Over kpc-Mpc baselines the oscillation phases average out and a flavour alpha arrives as
flavour beta with probability P(alpha -> beta) = sum_i |U_alpha i|^2 |U_beta i|^2, the same
for neutrinos and antineutrinos (|U*|^2 = |U|^2). U is the PMNS matrix in the standard
parametrisation (PDG, Review of Particle Physics, "Neutrino mixing", eq. 14.33). The default
mixing parameters (inputs/default.toml, section [neutrino]) are the NuFIT 5.2 (2022) global
best fit for normal ordering including Super-Kamiokande atmospheric data (Esteban et al.,
JHEP 09 (2020) 178, www.nu-fit.org): sin^2 theta12 = 0.303, sin^2 theta23 = 0.451,
sin^2 theta13 = 0.02225, delta_CP = 232 deg.
"""
from __future__ import annotations

import numpy as np

#: Flavour order of the probability matrix rows and columns.
FLAVOURS = ("e", "mu", "tau")


def pmns_matrix(sin2_theta12, sin2_theta23, sin2_theta13, delta_cp_deg) -> np.ndarray:
    """PMNS mixing matrix U (rows e, mu, tau; columns mass states 1, 2, 3), standard
    parametrisation with the Dirac phase delta_CP [PDG eq. 14.33]; Majorana phases drop out
    of oscillation probabilities."""
    s12, s23, s13 = (np.sqrt(v) for v in (sin2_theta12, sin2_theta23, sin2_theta13))
    c12, c23, c13 = (np.sqrt(1.0 - v) for v in (sin2_theta12, sin2_theta23, sin2_theta13))
    e = np.exp(1j * np.radians(delta_cp_deg))
    return np.array([
        [c12 * c13, s12 * c13, s13 / e],
        [-s12 * c23 - c12 * s23 * s13 * e, c12 * c23 - s12 * s23 * s13 * e, s23 * c13],
        [s12 * s23 - c12 * c23 * s13 * e, -c12 * s23 - s12 * c23 * s13 * e, c23 * c13],
    ])


def averaged_transition_matrix(neutrino) -> np.ndarray:
    """P[alpha, beta] = P(nu_alpha -> nu_beta) averaged over long baselines for the
    ``[neutrino]`` config section (keys sin2_theta12, sin2_theta23, sin2_theta13,
    delta_cp_deg). Symmetric, rows and columns sum to 1."""
    U2 = np.abs(pmns_matrix(neutrino["sin2_theta12"], neutrino["sin2_theta23"],
                            neutrino["sin2_theta13"], neutrino["delta_cp_deg"])) ** 2
    return U2 @ U2.T


def flavour_weights_at_earth(source_fractions, neutrino) -> np.ndarray:
    """Fractions (e, mu, tau) at Earth of a source flavour mix (e, mu, tau), e.g. (1, 2, 0)/3
    for pion decay."""
    src = np.asarray(source_fractions, dtype=float)
    return src @ averaged_transition_matrix(neutrino)
