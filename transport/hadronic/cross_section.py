"""Proton-proton interactions: the inelastic cross-section.

One function gives sigma_inel for both the transport losses and the secondary production
(docs/physics.md, section 3): the yields per collision are in :mod:`transport.hadronic.yields`, the
emissivity integral that multiplies them by sigma_inel in :mod:`transport.hadronic.secondaries`.
"""
from __future__ import annotations

import numpy as np

from transport.core.constants import M_P_EV, MB_CM2

#: pi0 production threshold kinetic energy T_th = 2 m_pi + m_pi^2 / (2 m_p) [GeV]
#: (Kafexhiu et al. 2014, PRD 90, 123014, text below eq. 1).
T_TH_GEV = 0.2797


def sigma_inel_kafexhiu2014_mb(E_eV):
    """Inelastic pp cross-section [mb] of Kafexhiu et al. 2014 (PRD 90, 123014), eq. 1:

    sigma = [30.7 - 0.96 L + 0.18 L^2] [1 - (T_th / T_p)^1.9]^3 mb,  L = ln(T_p / T_th),

    with T_p = E - m_p c^2 the proton kinetic energy (E is total energy). Zero below T_th.
    Gives ~48 mb at 100 TeV and ~68 mb at 10 PeV.
    """
    T_gev = (np.asarray(E_eV, dtype=float) - M_P_EV) / 1e9
    above = T_gev > T_TH_GEV
    T = np.where(above, T_gev, 2.0 * T_TH_GEV)       # placeholder below threshold
    L = np.log(T / T_TH_GEV)
    sigma = (30.7 - 0.96 * L + 0.18 * L ** 2) * (1.0 - (T_TH_GEV / T) ** 1.9) ** 3
    return np.where(above, sigma, 0.0)


def sigma_inel_cm2(E_eV, hadronic) -> np.ndarray:
    """Inelastic pp cross-section [cm^2] chosen by the ``[hadronic]`` config section."""
    E_eV = np.asarray(E_eV, dtype=float)
    if hadronic["sigma_inel"] == "kafexhiu2014":
        return sigma_inel_kafexhiu2014_mb(E_eV) * MB_CM2
    return np.full_like(E_eV, hadronic["sigma_const_mb"] * MB_CM2)
