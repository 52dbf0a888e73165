"""Numba kernels of the implicit radial diffusion solver (no I/O, no config).

The theta-scheme for every energy row e (theta = 1/2 Crank-Nicolson, 1 backward Euler),

    (I - theta dt L_e) j^{n+1} = (I + (1 - theta) dt L_e) j^n + dt S_e (theta h^{n+1} + (1 - theta) h^n),

with the conservative finite-volume operator of dj/dt = D r^-2 d/dr(r^2 f dj/dr) - lam n j
(D = D(E), f = f(r) the radial profile of the diffusion coefficient):

    (L_e j)_i = D_e [tr_i (j_{i+1} - j_i) - tl_i (j_i - j_{i-1})] - lam_e n_i j_i,

tl_i = T_i / V_i, tr_i = T_{i+1} / V_i, T_k = r_k^2 f_k / (distance between the centres
around face k), T_0 = 0 (regular centre) and j = 0 at the outer face (j_N = 0).
All quantities CGS. Rows are independent: the loops over energies run in parallel.
"""
from numba import njit, prange


@njit(cache=True, parallel=True, nogil=True)
def factorize(theta_dt, D_E, lam_E, tl, tr, n_r, cp, inv_den):
    """Thomas-algorithm factors of M_e = I - theta dt L_e for every row e (written in place).

    cp[e, i]: modified super-diagonal c_i / den_i; inv_den[e, i] = 1 / den_i.
    """
    n_e, n = cp.shape
    for e in prange(n_e):
        D = D_E[e]
        lam = lam_E[e]
        prev_cp = 0.0
        for i in range(n):
            a = -theta_dt * D * tl[i]
            b = 1.0 + theta_dt * (D * (tl[i] + tr[i]) + lam * n_r[i])
            c = -theta_dt * D * tr[i] if i < n - 1 else 0.0
            inv = 1.0 / (b - a * prev_cp)
            prev_cp = c * inv
            cp[e, i] = prev_cp
            inv_den[e, i] = inv


@njit(cache=True, parallel=True, nogil=True)
def advance(j, h, theta, dt, D_E, lam_E, src_E, tl, tr, n_r, src_r, vol,
            cp, inv_den, work, injected, escaped, lost):
    """Advance j (n_E, n_r) by len(h) - 1 steps of size dt, in place.

    h: injection history at the step boundaries; S = src_E[e] src_r[i] h(t).
    Accumulates, per energy and with the scheme's own theta-weighting (so the particle
    budget closes to round-off): injected = sum dt S V, escaped = outflow through the
    outer face, lost = sum dt lam n j V. vol: cell volumes [cm^3].
    """
    n_e, n = j.shape
    ex = 1.0 - theta
    src_vol = 0.0
    for i in range(n):
        src_vol += src_r[i] * vol[i]
    out_coef = tr[n - 1] * vol[n - 1]          # T_N, transmissibility of the outer face
    for e in prange(n_e):
        D = D_E[e]
        lam = lam_E[e]
        s = src_E[e]
        row = j[e]
        d = work[e]
        cpe = cp[e]
        inv = inv_den[e]
        for k in range(h.size - 1):
            sdt = dt * s * (theta * h[k + 1] + ex * h[k])
            loss_old = 0.0
            prev = 0.0
            left = 0.0
            for i in range(n):
                ji = row[i]
                right = row[i + 1] if i < n - 1 else 0.0
                lj = D * (tr[i] * (right - ji) - tl[i] * (ji - left)) - lam * n_r[i] * ji
                rhs = ji + ex * dt * lj + sdt * src_r[i]
                prev = (rhs + theta * dt * D * tl[i] * prev) * inv[i]
                d[i] = prev
                loss_old += vol[i] * n_r[i] * ji
                left = ji
            edge_old = row[n - 1]
            x = d[n - 1]
            row[n - 1] = x
            loss_new = vol[n - 1] * n_r[n - 1] * x
            for i in range(n - 2, -1, -1):
                x = d[i] - cpe[i] * x
                row[i] = x
                loss_new += vol[i] * n_r[i] * x
            injected[e] += sdt * src_vol
            escaped[e] += dt * D * out_coef * (theta * row[n - 1] + ex * edge_old)
            lost[e] += dt * lam * (theta * loss_new + ex * loss_old)

