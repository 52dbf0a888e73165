"""Analytic pp secondary spectra of Kelner, Aharonian & Bugayov 2006 (PRD 74, 034018) [KAB].

Energy distributions F(x, E_p) of secondaries per inelastic collision, x = E / E_p, fitted to
SIBYLL simulations; valid for 0.1 TeV <= E_p <= 1e5 TeV and x >= 1e-3 [KAB, Sec. IV].
The number of secondaries in [x, x + dx] per collision is F(x, E_p) dx, so the differential
cross-section is dsigma/dE = sigma_inel(E_p) F(E / E_p, E_p) / E_p [KAB, eq. 71]; sigma_inel
comes from :mod:`transport.hadronic.cross_section`, not from KAB eq. 79.
"""
from __future__ import annotations

import numpy as np

#: Range of validity [KAB, Sec. IV]: primaries 0.1 TeV - 1e5 TeV, x = E/E_p >= 1e-3.
E_P_MIN_EV = 1e11
E_P_MAX_EV = 1e17
X_MIN = 1e-3


def _lnL(E_p_eV):
    return np.log(np.asarray(E_p_eV, dtype=float) / 1e12)     # L = ln(E_p / 1 TeV)


def _peaked_form(x, B, beta, k):
    """B (ln x / x) [(1 - x^b) / (1 + k x^b (1 - x^b))]^4 [1/ln x - 4 b x^b/(1 - x^b)
    - 4 k b x^b (1 - 2 x^b) / (1 + k x^b (1 - x^b))], the shape of [KAB, eq. 58 and 62]."""
    xb = x ** beta
    denom = 1.0 + k * xb * (1.0 - xb)
    lnx = np.log(x)
    return (B * (lnx / x) * ((1.0 - xb) / denom) ** 4
            * (1.0 / lnx - 4.0 * beta * xb / (1.0 - xb)
               - 4.0 * k * beta * xb * (1.0 - 2.0 * xb) / denom))


def F_gamma(x, E_p_eV):
    """Photons per collision per unit x [KAB, eq. 58-61]:
    B = 1.30 + 0.14 L + 0.011 L^2, beta = 1/(1.79 + 0.11 L + 0.008 L^2),
    k = 1/(0.801 + 0.049 L + 0.014 L^2), L = ln(E_p / 1 TeV)."""
    x, L = np.broadcast_arrays(np.asarray(x, dtype=float), _lnL(E_p_eV))
    B = 1.30 + 0.14 * L + 0.011 * L ** 2
    beta = 1.0 / (1.79 + 0.11 * L + 0.008 * L ** 2)
    k = 1.0 / (0.801 + 0.049 * L + 0.014 * L ** 2)
    return _inside(x, 1.0, lambda xs, sel: _peaked_form(xs, B[sel], beta[sel], k[sel]))


def F_numu_pion(x, E_p_eV):
    """Muon neutrinos (nu_mu + anti-nu_mu) from the direct decay pi -> mu nu_mu per collision
    per unit x [KAB, eq. 62-65]: the form of eq. 58 written in y = x / 0.427 (zero for
    x > 0.427) as printed, without a Jacobian 1/0.427: so the direct nu_mu carries 0.77 times
    the energy of each muon-decay lepton, as pi -> mu nu kinematics requires (0.21 / (0.79 / 3)
    = 0.81); with the Jacobian it would carry 1.8 times. Parameters
    B' = 1.75 + 0.204 L + 0.010 L^2, beta' = 1/(1.67 + 0.111 L + 0.0038 L^2),
    k' = 1.07 - 0.086 L + 0.002 L^2."""
    x, L = np.broadcast_arrays(np.asarray(x, dtype=float), _lnL(E_p_eV))
    B = 1.75 + 0.204 * L + 0.010 * L ** 2
    beta = 1.0 / (1.67 + 0.111 * L + 0.0038 * L ** 2)
    k = 1.07 - 0.086 * L + 0.002 * L ** 2
    return _inside(x, 0.427, lambda xs, sel: _peaked_form(xs / 0.427, B[sel], beta[sel], k[sel]))


def F_lepton_muon_decay(x, E_p_eV):
    """Electrons (e+ + e-), which equal within 5 % the nu_e + anti-nu_e and the muon-decay
    nu_mu + anti-nu_mu, per collision per unit x [KAB, eq. 62 and 66-69]:
    F = B_e (1 + k_e ln^2 x)^3 / (x (1 + 0.3 / x^beta_e)) (-ln x)^5,
    B_e = 1/(69.5 + 2.65 L + 0.3 L^2), beta_e = (0.201 + 0.062 L + 0.00042 L^2)^(-1/4),
    k_e = (0.279 + 0.141 L + 0.0172 L^2) / (0.3 + (2.3 + L)^2)."""
    x, L = np.broadcast_arrays(np.asarray(x, dtype=float), _lnL(E_p_eV))
    B = 1.0 / (69.5 + 2.65 * L + 0.3 * L ** 2)
    beta = (0.201 + 0.062 * L + 0.00042 * L ** 2) ** -0.25
    k = (0.279 + 0.141 * L + 0.0172 * L ** 2) / (0.3 + (2.3 + L) ** 2)

    def form(xs, sel):
        lnx = np.log(xs)
        return (B[sel] * (1.0 + k[sel] * lnx ** 2) ** 3 / (xs * (1.0 + 0.3 / xs ** beta[sel]))
                * (-lnx) ** 5)
    return _inside(x, 1.0, form)


def _inside(x, x_max, form):
    """Evaluate ``form`` where X_MIN <= x < x_max, zero elsewhere."""
    out = np.zeros(x.shape)
    sel = (x >= X_MIN) & (x < x_max)
    if np.any(sel):
        out[sel] = np.maximum(form(x[sel], sel), 0.0)
    return out


def dN_dE(channel: str, E_p_eV, E_eV):
    """Secondaries per collision per unit energy [eV^-1], shape (n_p, n_E), for ``channel``
    "gamma", "nu_e" (nu_e + anti-nu_e, = F_e [KAB, eq. 66]) or "nu_mu" (nu_mu + anti-nu_mu,
    F_numu^(1) + F_numu^(2) [KAB, eq. 62-66]); zero for E_p outside 0.1 TeV - 1e5 TeV."""
    forms = {"gamma": (F_gamma,), "nu_e": (F_lepton_muon_decay,),
             "nu_mu": (F_numu_pion, F_lepton_muon_decay)}
    if channel not in forms:
        raise ValueError(f"unknown KAB channel {channel!r}")
    E_p = np.atleast_1d(np.asarray(E_p_eV, dtype=float))
    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    out = np.zeros((E_p.size, E.size))
    valid = (E_p >= E_P_MIN_EV * (1 - 1e-12)) & (E_p <= E_P_MAX_EV * (1 + 1e-12))
    if np.any(valid):
        Ev = E_p[valid][:, None]
        x = E[None, :] / Ev
        out[valid] = sum(F(x, Ev) for F in forms[channel]) / Ev
    return out
