"""Numba kernels of the electromagnetic cascade Monte Carlo (no I/O; tables from
:mod:`montecarlo.cascade.interactions`, orchestration in :mod:`montecarlo.cascade.montecarlo`).

Particles carry their *comoving* energy e = E_local / (1 + z), which adiabatic losses leave
unchanged, so a free flight changes only z. A flight from z to the next interaction solves
tau(e, z) - tau(e, z_int) = -ln U on the tabulated optical depth to z = 0 (the exact path
integral of the redshift-dependent rate, bilinear in ln e and z); tau(e, z) < -ln U means the
particle reaches z = 0. Interactions: pair production (photons) and inverse Compton (leptons),
the target threshold energy x sampled from the integrand of the rate, then the secondary energy
from the Lee (1998) distributions (quantile tables). Tables are read with stochastic
interpolation between nodes (unbiased mixtures).

Weights: at an interaction with children carrying energy fractions f1 + f2 = 1, child i is
kept with probability q_i = f_i^a (thinning exponent a in [0, 1]) and weight w / q_i, with one
shared uniform number (child 1 if U < q1, child 2 if U >= 1 - q2): for a = 1 exactly one child
survives and the weighted energy is conserved in every event; for a < 1 at least one does and
the energy is conserved on average. Inverse-Compton scatterings are grouped: a sampled photon of
energy E_g << E_e stands for k = max(1, floor(f_group E_e / E_g)) scatterings (weight k, the
lepton loses k E_g), and such a group is taken with probability 1/k only (otherwise the
scattering is a null event: the lepton flies on unchanged). The rate of groups of photons of
fraction f is then R p(f) / k(f), so the emitted photon spectrum and the lepton's mean energy
loss per unit length, R Integral f p(f) df, are those of single scatterings for any f_group;
what grouping changes is only that the lepton loses energy in steps of up to f_group instead
of f (the continuous-loss limit of soft scatterings, error O(f_group) in the lepton energy at
which a photon is emitted). Without the 1/k acceptance, soft photons would be made k times
too often and the lepton would cool k times too fast through them, a spectrum that depends
on f_group.

Energy accounts (weighted, eV): injected (local), photons reaching z = 0, leptons reaching
z = 0, energy dropped below threshold (photons with e < E_min, leptons whose inverse-Compton
photons can no longer reach E_min, absorbed energy when the cascade is switched off), and the
adiabatic loss e (z_start - z_end) of every flight.
"""
from __future__ import annotations

import numpy as np
from numba import njit

#: Particle types.
PHOTON = 0
LEPTON = 1
#: Energy accounts (columns of ``accounts``).
ACC_INJECTED, ACC_PHOTONS, ACC_LEPTONS, ACC_BELOW, ACC_ADIABATIC, ACC_PRIMARY = range(6)
N_ACCOUNTS = 6
#: Counters (``counters``, additive over batches): primaries, pair productions, inverse-Compton
#: events, photons tallied, sum of the per-cascade relative energy-closure errors, stack overflows.
CNT_PRIMARIES, CNT_PAIRS, CNT_IC, CNT_TALLIED, CNT_CLOSURE, CNT_OVERFLOW = range(6)
N_COUNTERS = 6
_STACK = 1 << 16
_M_E = 510998.95069
_M_E2 = _M_E * _M_E


@njit(cache=True)
def _bracket(ln0, dln, n, v):
    """Left node and weight of v on a uniform grid (clamped)."""
    t = (v - ln0) / dln
    if t <= 0.0:
        return 0, 0.0
    if t >= n - 1:
        return n - 2, 1.0
    i = int(t)
    return i, t - i


@njit(cache=True)
def _pick(ln0, dln, n, v):
    """Stochastic interpolation: node i or i + 1 with the linear weights."""
    i, f = _bracket(ln0, dln, n, v)
    return i + 1 if np.random.random() < f else i


@njit(cache=True)
def _tau_at(T, i, f, k):
    return (1.0 - f) * T[i, k] + f * T[i + 1, k]


@njit(cache=True)
def flight(T, lnE0, dlnE, lnE, dz, z, tau_step):
    """Redshift of the next interaction of a particle of comoving ln-energy lnE at z after an
    optical depth tau_step, or -1.0 if it reaches z = 0 first."""
    nE, nz = T.shape
    i, f = _bracket(lnE0, dlnE, nE, lnE)
    u = z / dz
    k = min(int(u), nz - 2)
    g = u - k
    tau_now = (1.0 - g) * _tau_at(T, i, f, k) + g * _tau_at(T, i, f, k + 1)
    target = tau_now - tau_step
    if target <= 0.0:
        return -1.0
    lo, hi = 0, k + 1                    # tau(lo) <= target <= tau(hi)
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if _tau_at(T, i, f, mid) <= target:
            lo = mid
        else:
            hi = mid
    a = _tau_at(T, i, f, lo)
    b = _tau_at(T, i, f, hi)
    frac = (target - a) / (b - a) if b > a else 0.0
    return min((lo + frac) * dz, z)


@njit(cache=True)
def sample_u(cdf, dzs, z, lnE0, dlnE, lnE, lnx0, dlnx):
    """u = s - m_i^2 = 4 E x [eV^2] of one interaction at (z, local ln-energy lnE): the node
    energy E and the target threshold energy x are sampled together (stochastic interpolation
    between energy nodes, x from the node's cumulative rate integrand), so u is always above
    threshold; 0.0 if the field has no target there."""
    nzs, nE, nx = cdf.shape
    kz = min(int(z / dzs + np.random.random()), nzs - 1)
    iE = _pick(lnE0, dlnE, nE, lnE)
    while iE < nE - 1 and cdf[kz, iE, nx - 1] <= 0.0:
        iE += 1                           # node below threshold: the nearest one above it
    row = cdf[kz, iE]
    if row[nx - 1] <= 0.0:
        return 0.0
    u = np.random.random()
    lo, hi = 0, nx - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if row[mid] <= u:
            lo = mid
        else:
            hi = mid
    span = row[hi] - row[lo]
    frac = (u - row[lo]) / span if span > 0.0 else 0.5
    return 4.0 * np.exp(lnE0 + iE * dlnE + lnx0 + (lo + frac) * dlnx)


@njit(cache=True)
def _quantile(ln_ds, q, ln_d):
    """t from the quantile table row nearest (stochastically) to ln_d."""
    n, m = q.shape
    j = _pick(ln_ds[0], ln_ds[1] - ln_ds[0], n, ln_d)
    v = np.random.random() * (m - 1)
    l = min(int(v), m - 2)
    h = v - l
    return (1.0 - h) * q[j, l] + h * q[j, l + 1]


@njit(cache=True)
def pair_fraction(s, ln_ds, q):
    """Energy fraction of one lepton of a pair made at invariant s (Lee 1998 distribution)."""
    d = s / (4.0 * _M_E2) - 1.0
    b = np.sqrt(d / (1.0 + d))
    y0 = 0.5 * (1.0 - b) if b < 0.5 else 0.5 / (1.0 + d) / (1.0 + b)
    t = _quantile(ln_ds, q, np.log(d))
    y = y0 * np.exp(t * np.log(0.5 / y0))
    return 1.0 - y if np.random.random() < 0.5 else y


@njit(cache=True)
def ic_photon_fraction(s, ln_ds, q):
    """Energy fraction 1 - y of the up-scattered photon at invariant s (Lee 1998 eq. 23)."""
    d = s / _M_E2 - 1.0
    ln_y0 = -np.log1p(d)
    t = _quantile(ln_ds, q, np.log(d))
    return -np.expm1(t * ln_y0)


@njit(cache=True)
def _keep(f1, a):
    """Thinning decision for two children with energy fractions f1, 1 - f1: (keep1, keep2,
    q1, q2)."""
    if a <= 0.0:
        return True, True, 1.0, 1.0
    q1 = min(1.0, max(f1, 0.0) ** a)
    q2 = min(1.0, max(1.0 - f1, 0.0) ** a)
    u = np.random.random()
    return u < q1, u >= 1.0 - q2, q1, q2


@njit(cache=True)
def run_cascades(E_inj, z_inj, cell, seed, E_min, lnEb0, dlnEb, spec, spec_sq, accounts,
                 counters, a_thin, f_group, kT0, cascade, tally_primary,
                 lnE, z_tau, tau_g, tau_e, z_s, ln_x, cdf_g, cdf_e, ln_ds_pp, q_pp, ln_ds_ic, q_ic):
    """Follow primaries (photons of local energy E_inj[i] at z_inj[i]) to z = 0, adding
    the arriving photons' weights to spec[cell[i], bin] (and their per-primary squares to
    spec_sq), the energy accounts to accounts[cell[i]], and counts to counters.

    Bins: ln of the comoving (= observed) energy, uniform from lnEb0 with step dlnEb.
    cascade=False: pair production absorbs (absorption-only limit). tally_primary=False:
    an unscattered primary is not added to spec (its energy goes to ACC_PRIMARY only).
    Returns 0, or -1 if the particle stack overflowed.
    """
    np.random.seed(seed)
    nb = spec.shape[1]
    lnE0, dlnE = lnE[0], lnE[1] - lnE[0]
    dz, dzs = z_tau[1] - z_tau[0], z_s[1] - z_s[0]
    lnx0, dlnx = ln_x[0], ln_x[1] - ln_x[0]
    lepton_stop = _M_E * np.sqrt(E_min / (80.0 * kT0))
    typ = np.empty(_STACK, np.int8)
    eps = np.empty(_STACK)
    zz = np.empty(_STACK)
    ww = np.empty(_STACK)
    prim = np.empty(_STACK, np.bool_)
    own = np.zeros(nb)
    acc = np.zeros(N_ACCOUNTS)
    for p in range(E_inj.size):
        c = cell[p]
        own[:] = 0.0
        acc[:] = 0.0
        acc[ACC_INJECTED] = E_inj[p]
        n = 1
        typ[0], eps[0], zz[0], ww[0], prim[0] = PHOTON, E_inj[p] / (1.0 + z_inj[p]), z_inj[p], 1.0, True
        while n > 0:
            n -= 1
            t, e, z, w, pr = typ[n], eps[n], zz[n], ww[n], prim[n]
            if t == PHOTON and e < E_min:
                acc[ACC_BELOW] += w * e * (1.0 + z)
                continue
            if t == LEPTON and e * (1.0 + z) < lepton_stop:
                acc[ACC_BELOW] += w * e * (1.0 + z)
                continue
            T = tau_g if t == PHOTON else tau_e
            z1 = flight(T, lnE0, dlnE, np.log(e), dz, z, -np.log(1.0 - np.random.random()))
            if z1 < 0.0:                                  # reaches z = 0
                acc[ACC_ADIABATIC] += w * e * z
                if t == PHOTON:
                    acc[ACC_PHOTONS] += w * e
                    if pr:
                        acc[ACC_PRIMARY] += w * e
                    if tally_primary or not pr:
                        b = int((np.log(e) - lnEb0) / dlnEb)
                        if 0 <= b < nb:
                            own[b] += w
                            counters[CNT_TALLIED] += 1
                else:
                    acc[ACC_LEPTONS] += w * e
                continue
            acc[ACC_ADIABATIC] += w * e * (z - z1)
            El = e * (1.0 + z1)
            if t == PHOTON and not cascade:
                acc[ACC_BELOW] += w * El
                continue
            us = sample_u(cdf_g if t == PHOTON else cdf_e, dzs, z1, lnE0, dlnE, np.log(El), lnx0, dlnx)
            if us <= 0.0:                                  # no target at this node: not interacting
                acc[ACC_BELOW] += w * El
                continue
            if t == PHOTON:
                counters[CNT_PAIRS] += 1
                f1 = pair_fraction(max(us, 4.0 * _M_E2 * (1.0 + 1e-12)), ln_ds_pp, q_pp)
                k1, k2, q1, q2 = _keep(f1, a_thin)
                if n + 2 > _STACK:
                    counters[CNT_OVERFLOW] += 1
                    return -1
                if k1:
                    typ[n], eps[n], zz[n], ww[n], prim[n] = LEPTON, e * f1, z1, w / q1, False
                    n += 1
                if k2:
                    typ[n], eps[n], zz[n], ww[n], prim[n] = LEPTON, e * (1.0 - f1), z1, w / q2, False
                    n += 1
            else:
                counters[CNT_IC] += 1
                fg = ic_photon_fraction(us + _M_E2, ln_ds_ic, q_ic)
                k = max(1.0, np.floor(f_group / fg)) if fg > 0.0 else 1.0
                if k > 1.0 and np.random.random() * k >= 1.0:
                    # grouped soft scattering not taken (probability 1 - 1/k): a null event,
                    # the lepton flies on unchanged, so the rate of groups is 1/k of the rate
                    typ[n], eps[n], zz[n], ww[n], prim[n] = LEPTON, e, z1, w, False
                    n += 1
                    continue
                f1 = k * fg                               # <= max(f_group, fg) < 1
                k1, k2, q1, q2 = _keep(f1, a_thin)
                if n + 2 > _STACK:
                    counters[CNT_OVERFLOW] += 1
                    return -1
                if k2:
                    typ[n], eps[n], zz[n], ww[n], prim[n] = LEPTON, e * (1.0 - f1), z1, w / q2, False
                    n += 1
                if k1:
                    typ[n], eps[n], zz[n], ww[n], prim[n] = PHOTON, e * fg, z1, w * k / q1, False
                    n += 1
        for b in range(nb):
            spec[c, b] += own[b]
            spec_sq[c, b] += own[b] * own[b]
        for j in range(N_ACCOUNTS):
            accounts[c, j] += acc[j]
        out = acc[ACC_PHOTONS] + acc[ACC_LEPTONS] + acc[ACC_BELOW] + acc[ACC_ADIABATIC]
        counters[CNT_CLOSURE] += abs(out - acc[ACC_INJECTED]) / acc[ACC_INJECTED]
        counters[CNT_PRIMARIES] += 1
    return 0
