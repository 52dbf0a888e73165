"""Photon-photon pair production: the Breit-Wheeler cross-section and interaction rates.

Convention (docs/physics.md, section 4). A gamma ray of energy E moves along the unit vector u; a
target photon of energy eps moves along the unit vector k (the direction it *travels*).
The invariant is

    s = 2 E eps (1 - u.k),        head-on collision (k = -u): s = 4 E eps,

and the interaction rate per unit path length (inverse mean free path) is

    1/lambda = Integral d eps Integral dOmega_k (1 - u.k) dn/(d eps dOmega)(k) sigma(s).   (1)

[T] eq. 2 writes sigma(E eps (1 - u.k)) (its argument is s/2) and its eq. A2 gives the
intensity seen *looking* along k (photons travelling along -k); this code keeps the one
convention above everywhere and tests it (a head-on beam gives s = 4 E eps).

For an isotropic field eq. (1) reduces to Gould & Schreder (1967, Phys. Rev. 155, 1404,
eq. 5-7) single integral over the target energy,

    1/lambda = sigma_T Integral d eps n(eps) g(w),   w = E eps / (m_e c^2)^2,
    g(w) = (2 / w^2) Integral_1^w x sigma(4 m^2 x) / sigma_T dx,                  (2)

whose kernel g is tabulated once (:func:`gs_kernel`). Energies in eV, lengths in cm.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.integrate import quad

from transport.core.constants import M_E_EV, SIGMA_T_CM2

#: Pair-production threshold of the invariant s = (2 m_e c^2)^2 [eV^2].
S_THRESHOLD_EV2 = 4.0 * M_E_EV ** 2

# Kernel table: uniform in v = ln(w - 1), 100 nodes per decade of (w - 1).
_KERNEL_V_MIN = np.log(1e-8)
_KERNEL_V_MAX = np.log(1e20)
_KERNEL_PER_DECADE = 100


def sigma_hat(x):
    """Breit-Wheeler cross-section in units of sigma_T as a function of x = s / (4 m^2 c^4).

    sigma = (3/16) sigma_T (1 - b^2) [(3 - b^4) ln((1 + b)/(1 - b)) - 2 b (2 - b^2)],
    b = sqrt(1 - 1/x) (Breit & Wheeler 1934; Gould & Schreder 1967, eq. 1; docs/physics.md
    section 4). Zero below threshold (x <= 1). ln((1+b)/(1-b)) is evaluated as
    ln((1+b)^2 x) and 1 - b^2 as 1/x, free of cancellation at high energy.
    """
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    above = x > 1.0
    xa = x[above]
    one_minus_b2 = 1.0 / xa                 # exact; 1 - b*b would cancel at high energy
    b2 = 1.0 - one_minus_b2
    b = np.sqrt(b2)
    log_term = np.log((1.0 + b) ** 2 * xa)
    out[above] = 0.1875 * one_minus_b2 * ((3.0 - b2 * b2) * log_term - 2.0 * b * (2.0 - b2))
    return out


def sigma_gg_cm2(s_eV2):
    """Breit-Wheeler pair-production cross-section [cm^2] at invariant s [eV^2]."""
    return SIGMA_T_CM2 * sigma_hat(np.asarray(s_eV2, dtype=float) / S_THRESHOLD_EV2)


def sigma_hat_high_energy(x):
    """High-energy limit of sigma / sigma_T, (3/8) (ln(4x) - 1) / x for x >> 1."""
    x = np.asarray(x, dtype=float)
    return 0.375 * (np.log(4.0 * x) - 1.0) / x


def _x_sigma_in_v(v):
    """Integrand of G in v = ln(x - 1): x sigma_hat(x) dx/dv."""
    ev = np.exp(v)
    x = 1.0 + ev
    return x * sigma_hat(x) * ev


@lru_cache(maxsize=1)
def gs_kernel_table():
    """The Gould & Schreder kernel of eq. (2) tabulated once.

    Returns (v0, dv, ln_g): ln g on the uniform grid v = ln(w - 1) = v0 + i dv, w - 1 from
    1e-8 to 1e20. G(w) = Integral_1^w x sigma_hat dx is accumulated with 16-point
    Gauss-Legendre on every grid cell in v (the integrand is smooth in v); below the first
    node the threshold expansion sigma_hat = (3/8) sqrt(x - 1) gives G = (w - 1)^(3/2) / 4.
    """
    n = int(round((_KERNEL_V_MAX - _KERNEL_V_MIN) / np.log(10.0) * _KERNEL_PER_DECADE)) + 1
    v = np.linspace(_KERNEL_V_MIN, _KERNEL_V_MAX, n)
    dv = v[1] - v[0]
    nodes, weights = np.polynomial.legendre.leggauss(16)
    mid = 0.5 * (v[:-1] + v[1:])
    pts = mid[:, None] + 0.5 * dv * nodes[None, :]
    cell = 0.5 * dv * (_x_sigma_in_v(pts.ravel()).reshape(pts.shape) @ weights)
    G = np.concatenate([[0.25 * np.exp(1.5 * v[0])], 0.25 * np.exp(1.5 * v[0]) + np.cumsum(cell)])
    w = 1.0 + np.exp(v)
    return float(v[0]), float(dv), np.log(2.0 * G / w ** 2)


def gs_kernel(w):
    """g(w) of eq. (2): the isotropic-field kernel, sigma_T-normalised, for w = E eps / m^2.

    Zero for w <= 1; linear interpolation of ln g in ln(w - 1) on the 100-per-decade table
    (relative interpolation error < 3e-5). Raises ValueError above the table (w > 1e20).
    """
    w = np.asarray(w, dtype=float)
    v0, dv, ln_g = gs_kernel_table()
    out = np.zeros_like(w)
    above = w > 1.0
    if np.any(w[above] > 1.0 + 1e20):
        raise ValueError("gs_kernel: w = E eps / m_e^2 above 1e20 is outside the table")
    v = np.log(w[above] - 1.0)
    t = np.clip((v - v0) / dv, 0.0, ln_g.size - 1.000001)
    i = t.astype(np.int64)
    f = t - i
    val = np.exp((1.0 - f) * ln_g[i] + f * ln_g[i + 1])
    low = v < v0                                    # threshold expansion below the table
    val[low] = 0.5 * np.exp(1.5 * v[low]) / (1.0 + np.exp(v[low])) ** 2
    out[above] = val
    return out


def gs_kernel_direct(w):
    """g(w) by adaptive quadrature of eq. (2), without the table (reference for tests).

    Below w - 1 = 1e-9 (where x - 1 loses precision in double) the threshold expansion
    G = (w - 1)^(3/2) / 4 is used.
    """
    v_lo = np.log(1e-9)

    def one(wi):
        if wi <= 1.0:
            return 0.0
        v_hi = np.log(wi - 1.0)
        if v_hi <= v_lo:
            return 0.5 * np.exp(1.5 * v_hi) / wi ** 2
        edges = np.append(np.arange(v_lo, v_hi, 2.0), v_hi)
        val = 0.25 * np.exp(1.5 * v_lo) + sum(
            quad(lambda v: _x_sigma_in_v(np.array([v]))[0], a, b, epsabs=0.0, epsrel=1e-8,
                 limit=200)[0] for a, b in zip(edges[:-1], edges[1:]))
        return 2.0 * val / wi ** 2
    return np.array([one(wi) for wi in np.atleast_1d(np.asarray(w, dtype=float))])


def isotropic_rate_per_cm(E_eV, eps_eV, dn_deps):
    """Inverse mean free path [cm^-1] in an isotropic field, eq. (2).

    E_eV: gamma-ray energies (any shape). eps_eV: log-spaced target energies, ascending,
    fine enough to resolve the spectrum (trapezoid rule in ln eps). dn_deps: total photon
    number density per unit energy on eps_eV [cm^-3 eV^-1] (all directions together).
    """
    E = np.asarray(E_eV, dtype=float)
    eps = np.asarray(eps_eV, dtype=float)
    weights = np.empty_like(eps)                   # trapezoid weights in ln eps
    dl = np.diff(np.log(eps))
    weights[0], weights[-1] = 0.5 * dl[0], 0.5 * dl[-1]
    weights[1:-1] = 0.5 * (dl[:-1] + dl[1:])
    spectrum = weights * eps * np.asarray(dn_deps, dtype=float)
    w = E.reshape(-1, 1) * eps.reshape(1, -1) / M_E_EV ** 2
    return (SIGMA_T_CM2 * gs_kernel(w) @ spectrum).reshape(E.shape)


def beam_rate_per_cm(E_eV, u, eps_eV, n_cm3, k):
    """Interaction rate [cm^-1] with a mono-energetic, mono-directional beam of n_cm3 photons
    of energy eps_eV travelling along the unit vector k: n (1 - u.k) sigma(2 E eps (1 - u.k)),
    the integrand of eq. (1)."""
    one_minus = 1.0 - float(np.dot(u, k))
    return n_cm3 * one_minus * sigma_gg_cm2(2.0 * np.asarray(E_eV, dtype=float) * eps_eV * one_minus)


def anisotropic_rate_per_cm(E_eV, u, k, dOmega, eps_eV, dn_deps_dOmega):
    """Eq. (1) by direct quadrature over tabulated directions and energies [cm^-1].

    E_eV (n_E,); u: unit vector of the gamma ray; k (n_k, 3): unit vectors the target
    photons travel along, with solid-angle weights dOmega (n_k,); eps_eV (n_eps,) log-spaced;
    dn_deps_dOmega (n_k, n_eps) [cm^-3 eV^-1 sr^-1]. Trapezoid rule in ln eps.
    """
    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    eps = np.asarray(eps_eV, dtype=float)
    dl = np.diff(np.log(eps))
    weights = np.empty_like(eps)
    weights[0], weights[-1] = 0.5 * dl[0], 0.5 * dl[-1]
    weights[1:-1] = 0.5 * (dl[:-1] + dl[1:])
    one_minus = 1.0 - np.asarray(k, dtype=float) @ np.asarray(u, dtype=float)      # (n_k,)
    s = 2.0 * E[:, None, None] * eps[None, None, :] * one_minus[None, :, None]
    integrand = sigma_gg_cm2(s) * (np.asarray(dn_deps_dOmega) * weights * eps)[None]
    return np.einsum("ekx,k->e", integrand, np.asarray(dOmega) * one_minus)
