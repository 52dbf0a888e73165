"""Gas density of the Milky Way corona [C, Sec. II; docs/physics.md, section 1]."""
from __future__ import annotations

import numpy as np


def beta_profile(r_kpc, n0_cm3, beta, rc_kpc=3.0):
    """Electron density of a beta model, n0 (1 + (r/rc)^2)^(-3 beta/2) [cm^-3] [C, eq. 1]."""
    r_kpc = np.asarray(r_kpc, dtype=float)
    return n0_cm3 * (1.0 + (r_kpc / rc_kpc) ** 2) ** (-1.5 * beta)


def max_beta_profile(r_kpc, inner_n0_cm3, inner_beta, outer_n0_cm3, outer_beta, rc_kpc=3.0):
    """Pointwise maximum of the inner [C, eq. 2] and outer [C, eq. 3] beta profiles [cm^-3]."""
    return np.maximum(beta_profile(r_kpc, inner_n0_cm3, inner_beta, rc_kpc),
                      beta_profile(r_kpc, outer_n0_cm3, outer_beta, rc_kpc))


def corona_density(r_kpc, gas) -> np.ndarray:
    """Target gas density n_gas(r) [cm^-3] for the ``[gas]`` config section.

    Zero beyond ``gas.R_max_kpc`` (the corona edge, 250 kpc by default) and everywhere for
    ``profile = "none"``.
    """
    r_kpc = np.asarray(r_kpc, dtype=float)
    if gas["profile"] == "none":
        return np.zeros_like(r_kpc)
    if gas["profile"] == "max_beta":
        n = max_beta_profile(r_kpc, gas["inner_n0_cm3"], gas["inner_beta"],
                             gas["outer_n0_cm3"], gas["outer_beta"], gas["rc_kpc"])
    elif gas["profile"] == "beta":
        which = gas["single"]
        n = beta_profile(r_kpc, gas[f"{which}_n0_cm3"], gas[f"{which}_beta"], gas["rc_kpc"])
    else:  # uniform
        n = np.full_like(r_kpc, gas["uniform_n_cm3"])
    return np.where(r_kpc <= gas["R_max_kpc"], n, 0.0)


def profile_crossing_kpc(inner_n0_cm3, inner_beta, outer_n0_cm3, outer_beta, rc_kpc=3.0):
    """Radius where the inner and outer beta profiles are equal [kpc] (~72 kpc for the defaults).

    From n1 (1+x^2)^(-3 b1/2) = n2 (1+x^2)^(-3 b2/2): 1 + x^2 = (n1/n2)^(2 / (3 (b1 - b2))).
    NaN when the profiles do not cross at r > 0 (equal betas, a zero density, or the outer
    profile above the inner one everywhere).
    """
    if inner_n0_cm3 <= 0.0 or outer_n0_cm3 <= 0.0 or inner_beta == outer_beta:
        return float("nan")
    ln_one_plus_x2 = 2.0 * np.log(inner_n0_cm3 / outer_n0_cm3) / (3.0 * (inner_beta - outer_beta))
    if ln_one_plus_x2 <= 0.0:
        return float("nan")
    if ln_one_plus_x2 > 700.0:                       # beyond any grid (and float range)
        return float("inf")
    return rc_kpc * float(np.sqrt(np.expm1(ln_one_plus_x2)))


def shell_average_density(r_lo_kpc, r_hi_kpc, gas, order: int = 8) -> np.ndarray:
    """Volume average of n_gas over spherical shells [r_lo, r_hi] [cm^-3].

    Gauss-Legendre quadrature of n(r) r^2 dr in each shell (each part of a shell on either
    side of gas.R_max_kpc integrated separately, so the cut is exact).
    """
    r_lo = np.asarray(r_lo_kpc, dtype=float)
    r_hi = np.asarray(r_hi_kpc, dtype=float)
    x, w = np.polynomial.legendre.leggauss(order)
    cut = np.clip(gas["R_max_kpc"], r_lo, r_hi)
    total = np.zeros_like(r_lo)
    for a, b in ((r_lo, cut), (cut, r_hi)):
        half, mid = 0.5 * (b - a), 0.5 * (b + a)
        r = mid[..., None] + half[..., None] * x
        total += half * np.sum(w * corona_density(r, gas) * r ** 2, axis=-1)
    volume = (r_hi ** 3 - r_lo ** 3) / 3.0
    return total / volume
