"""Numba kernels for the photon fields and optical depths (no I/O, no config).

Units inside: lengths in kpc (converted by the caller), energies in eV, densities in the
units the caller passes. Conventions of :mod:`montecarlo.opacity.breit_wheeler` (k = direction the
target photon travels, s = 2 E eps (1 - u.k)) and of :mod:`montecarlo.geometry`.
"""
import math

import numpy as np
from numba import njit, prange


# --------------------------------------------------------------------------- dust rays
@njit(cache=True)
def _z_integral(za, zb, ds, nz, hz):
    """Integral of exp(-|z|/hz) ds over a straight step on which z runs from za to zb."""
    if nz == 0.0:
        return ds * math.exp(-abs(za) / hz)
    anz = abs(nz)
    if za * zb >= 0.0:
        a = min(abs(za), abs(zb))
        b = max(abs(za), abs(zb))
        return hz / anz * math.exp(-a / hz) * (-math.expm1(-(b - a) / hz))
    return hz / anz * (-math.expm1(-abs(za) / hz) - math.expm1(-abs(zb) / hz))


@njit(cache=True)
def ray_columns(R0, z0, nx, ny, nz, comp, T_scale, R_sun, lnT0, dlnT, s_inner, ds_inner,
                ds_outer, R_box, z_box, out):
    """Dust mass column [g cm^-3 kpc] along a ray, binned in dust temperature (added to out).

    The ray starts at (R0, 0, z0) (Galactocentric x, y, z in kpc) and runs along the looking
    direction (nx, ny, nz). comp[j] = (rho0, r_scale, z_scale, T_sun) of each component:
    rho = rho0 exp(-R/r_scale - |z|/z_scale), T = T_sun exp(-(R - R_sun)/T_scale). Each step
    integrates the vertical exponential exactly and takes the radial factor and temperature
    at the step's midpoint; the mass goes into the two neighbouring bins of the uniform
    ln T grid (linear weights). The ray stops where it leaves R < R_box or |z| < z_box
    moving outwards; beyond R_box/2 or z_box/2 (where the dust is negligible) the step grows
    to half the distance to that boundary.
    """
    n_T = out.size
    s = 0.0
    while s < 1000.0:
        xa = R0 + s * nx
        ya = s * ny
        za = z0 + s * nz
        if za * nz > 0.0 and abs(za) > z_box:
            break
        if xa * nx + ya * ny > 0.0 and xa * xa + ya * ya > R_box * R_box:
            break
        ds = ds_inner if s < s_inner else ds_outer
        far = max(math.hypot(xa, ya) - 0.5 * R_box, abs(za) - 0.5 * z_box)
        if far > 0.0:                       # far from the dust: steps grow with the distance
            ds = max(ds, 0.5 * far)
        sm = s + 0.5 * ds
        R = math.hypot(R0 + sm * nx, sm * ny)
        zb = z0 + (s + ds) * nz
        for j in range(comp.shape[0]):
            dm = comp[j, 0] * math.exp(-R / comp[j, 1]) * _z_integral(za, zb, ds, nz, comp[j, 2])
            t = (math.log(comp[j, 3]) - (R - R_sun) / T_scale - lnT0) / dlnT
            if t < 0.0:
                t = 0.0
            elif t > n_T - 1.000001:
                t = n_T - 1.000001
            i = int(t)
            w = t - i
            out[i] += (1.0 - w) * dm
            out[i + 1] += w * dm
        s += ds


@njit(cache=True)
def point_columns(R0, z0, look, comp, T_scale, R_sun, lnT0, dlnT, s_inner, ds_inner,
                  ds_outer, R_box, z_box, out):
    """ray_columns for every looking direction look[d] (local frame e_R, e_phi, e_z);
    out (n_dir, n_T) is overwritten."""
    for d in range(look.shape[0]):
        for b in range(out.shape[1]):
            out[d, b] = 0.0
        ray_columns(R0, z0, look[d, 0], look[d, 1], look[d, 2], comp, T_scale, R_sun, lnT0,
                    dlnT, s_inner, ds_inner, ds_outer, R_box, z_box, out[d])


@njit(cache=True)
def accumulate_rate(F, half_of, i0, frac, coef, n_E, ratio, rate):
    """Direction-dependent rate from the per-direction kernels F (one grid point).

    rate[iu, j] = sum_k coef[iu, k] F_h(k)(E_j (1 - u.k)) with coef = dOmega_k (1 - u.k) and
    F_h(y) = Integral d eps dn/(d eps dOmega) sigma(2 y eps) tabulated on a ln y grid whose
    step is 1/ratio of the ln E step; the interpolation point of E_j (1 - u.k) is
    i0[iu, k] + ratio j + frac[iu, k] (linear weights). Rates below the y grid are zero.
    """
    n_u, n_k = coef.shape
    n_y = F.shape[1]
    for iu in range(n_u):
        for k in range(n_k):
            c = coef[iu, k]
            if c == 0.0:
                continue
            h = half_of[k]
            f = frac[iu, k]
            base = i0[iu, k]
            j0 = 0 if base >= 0 else (-base + ratio - 1) // ratio     # first idx >= 0
            j1 = min(n_E, (n_y - 2 - base) // ratio + 1)              # last idx + 1 < n_y
            for j in range(j0, j1):
                idx = base + ratio * j
                rate[iu, j] += c * ((1.0 - f) * F[h, idx] + f * F[h, idx + 1])


@njit(cache=True, parallel=True)
def build_points(R_pts, z_pts, look, w_half, group_of, group_w, n_groups, comp, T_scale, R_sun,
                 lnT0, dlnT, s_inner, ds_inner, ds_outer, R_box, z_box, Q, P, U, half_of, i0,
                 frac, coef, n_E, ratio, kpc_cm, rate_out, iso_out, u_out):
    """Dust rate-table entries at the points (R_pts[p], 0, z_pts[p]), in parallel.

    Columns per looking direction and temperature bin (ray_columns, converted to g cm^-2),
    merged into direction groups (C_g = sum group_w C over each group), per-group kernels
    F = C_g Q, the direction-dependent rate (accumulate_rate) into rate_out[p] (n_u, n_E),
    the angle-averaged rate C_tot P into iso_out[p] (n_E) and the photon energy density
    C_tot U into u_out[p], with C_tot = w_half C.
    """
    n_dir = look.shape[0]
    n_T = Q.shape[0]
    for p in prange(R_pts.size):
        C = np.zeros((n_dir, n_T))
        point_columns(R_pts[p], z_pts[p], look, comp, T_scale, R_sun, lnT0, dlnT, s_inner,
                      ds_inner, ds_outer, R_box, z_box, C)
        C *= kpc_cm
        Cg = np.zeros((n_groups, n_T))
        for h in range(n_dir):
            g = group_of[h]
            for b in range(n_T):
                Cg[g, b] += group_w[h] * C[h, b]
        F = Cg @ Q
        rate = np.zeros((coef.shape[0], n_E))
        accumulate_rate(F, half_of, i0, frac, coef, n_E, ratio, rate)
        rate_out[p] = rate
        c_tot = w_half @ C
        iso_out[p] = c_tot @ P
        u_out[p] = c_tot @ U


# --------------------------------------------------------------------------- interpolation
@njit(cache=True)
def _locate(grid, x):
    """Index i and weight w of x on an ascending grid (clamped to the ends)."""
    n = grid.size
    if x <= grid[0]:
        return 0, 0.0
    if x >= grid[n - 1]:
        return n - 2, 1.0
    lo = 0
    hi = n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if grid[mid] <= x:
            lo = mid
        else:
            hi = mid
    return lo, (x - grid[lo]) / (grid[lo + 1] - grid[lo])


@njit(cache=True)
def _far_field(R_g, z_g, R, z):
    """ln of the dilution beyond the table: the edge value falls as 1/r^2 with the distance
    r from the Galactic centre (a distant observer sees the Galaxy as a point); 0 inside."""
    Rc = min(R, R_g[R_g.size - 1])
    zc = min(abs(z), z_g[z_g.size - 1])
    if Rc == R and zc == abs(z):
        return 0.0
    return 2.0 * math.log(math.hypot(Rc, zc) / math.hypot(R, z))


@njit(cache=True)
def _local_aniso(R_g, z_g, mu_g, psi_g, x, y, z, ux, uy, uz):
    """Grid indices and weights of (R, |z|, mu, psi) for position (x, y, z), direction u."""
    R = math.hypot(x, y)
    if R > 0.0:
        uR = (ux * x + uy * y) / R
        uphi = (-ux * y + uy * x) / R
        psi = math.atan2(abs(uphi), uR)
    else:
        psi = 0.0
    mu = -uz if z < 0.0 else uz
    iR, wR = _locate(R_g, R)
    iz, wz = _locate(z_g, abs(z))
    im, wm = _locate(mu_g, mu)
    ip, wp = _locate(psi_g, psi)
    return iR, wR, iz, wz, im, wm, ip, wp


@njit(cache=True, inline="always")
def _add_stencil(acc, row, iE, wE, f):
    """acc[e] += f * (ln rate of ``row`` at energy e: the 4-node stencil iE[e], weights wE[e])."""
    for e in range(iE.size):
        i = iE[e]
        acc[e] += f * (wE[e, 0] * row[i] + wE[e, 1] * row[i + 1]
                       + wE[e, 2] * row[i + 2] + wE[e, 3] * row[i + 3])


@njit(cache=True, inline="always")
def _add_exp(acc, weight, out):
    """out[e] += weight * exp(acc[e]): from interpolated ln(rate) to rate."""
    for e in range(acc.size):
        out[e] += weight * math.exp(acc[e])


@njit(cache=True)
def _add_aniso(table, R_g, z_g, mu_g, psi_g, iE, wE, x, y, z, ux, uy, uz, weight, out):
    """out[e] += weight * rate(E_e) with ln(rate) interpolated multilinearly in
    (R, |z|, mu, psi) and, in ln E, with the 4-node stencil iE[e] .. iE[e] + 3 and weights
    wE[e, :] (cubic Lagrange inside the table, linear extrapolation above it). The
    far-field dilution _far_field applies beyond the (R, z) grid."""
    iR, wR, iz, wz, im, wm, ip, wp = _local_aniso(R_g, z_g, mu_g, psi_g, x, y, z, ux, uy, uz)
    n_e = iE.size
    acc = np.full(n_e, _far_field(R_g, z_g, math.hypot(x, y), z))
    for a in range(2):
        fa = wR if a else 1.0 - wR
        for b in range(2):
            fb = fa * (wz if b else 1.0 - wz)
            for c in range(2):
                fc = fb * (wm if c else 1.0 - wm)
                for d in range(2):
                    fd = fc * (wp if d else 1.0 - wp)
                    if fd == 0.0:
                        continue
                    _add_stencil(acc, table[iR + a, iz + b, im + c, ip + d], iE, wE, fd)
    _add_exp(acc, weight, out)


@njit(cache=True)
def _add_iso(table, R_g, z_g, iE, wE, x, y, z, weight, out):
    """As _add_aniso for a table of ln(rate) on (R, |z|, E) (angle-averaged field)."""
    R = math.hypot(x, y)
    iR, wR = _locate(R_g, R)
    iz, wz = _locate(z_g, abs(z))
    n_e = iE.size
    acc = np.full(n_e, _far_field(R_g, z_g, R, z))
    for a in range(2):
        fa = wR if a else 1.0 - wR
        for b in range(2):
            fb = fa * (wz if b else 1.0 - wz)
            _add_stencil(acc, table[iR + a, iz + b], iE, wE, fb)
    _add_exp(acc, weight, out)


# --------------------------------------------------------------------------- path integrals
@njit(cache=True, inline="always")
def _path_setup(starts, ends, p, seg_kpc):
    dx = ends[p, 0] - starts[p, 0]
    dy = ends[p, 1] - starts[p, 1]
    dz = ends[p, 2] - starts[p, 2]
    L = math.sqrt(dx * dx + dy * dy + dz * dz)
    if L == 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0, 0.0
    n_seg = max(1, int(math.ceil(L / seg_kpc)))
    return L, dx / L, dy / L, dz / L, n_seg, L / n_seg


@njit(cache=True, parallel=True)
def tau_paths_aniso(table, R_g, z_g, mu_g, psi_g, iE, wE, starts, ends, seg_kpc, gl_x, gl_w,
                    out):
    """Optical depth along straight paths starts[p] -> ends[p] (out (n_p, n_E), overwritten).

    out[p, e] = Integral ds rate(E_e; x(s), u), u = (end - start)/|end - start|, by
    composite Gauss-Legendre (nodes gl_x on [-1, 1], weights gl_w) on equal segments no
    longer than seg_kpc; table = ln rate [kpc^-1] on (R, |z|, mu, psi, E).
    """
    for p in prange(starts.shape[0]):
        out[p, :] = 0.0
        L, ux, uy, uz, n_seg, h = _path_setup(starts, ends, p, seg_kpc)
        for sgm in range(n_seg):
            for q in range(gl_x.size):
                s = (sgm + 0.5 + 0.5 * gl_x[q]) * h
                _add_aniso(table, R_g, z_g, mu_g, psi_g, iE, wE, starts[p, 0] + s * ux,
                           starts[p, 1] + s * uy, starts[p, 2] + s * uz, ux, uy, uz,
                           0.5 * h * gl_w[q], out[p])


@njit(cache=True, parallel=True)
def tau_paths_iso(table, R_g, z_g, iE, wE, starts, ends, seg_kpc, gl_x, gl_w, out):
    """As tau_paths_aniso for the angle-averaged table ln rate on (R, |z|, E)."""
    for p in prange(starts.shape[0]):
        out[p, :] = 0.0
        L, ux, uy, uz, n_seg, h = _path_setup(starts, ends, p, seg_kpc)
        for sgm in range(n_seg):
            for q in range(gl_x.size):
                s = (sgm + 0.5 + 0.5 * gl_x[q]) * h
                _add_iso(table, R_g, z_g, iE, wE, starts[p, 0] + s * ux,
                         starts[p, 1] + s * uy, starts[p, 2] + s * uz,
                         0.5 * h * gl_w[q], out[p])


@njit(cache=True, parallel=True)
def rate_at_aniso(table, R_g, z_g, mu_g, psi_g, iE, wE, x, u, out):
    """Interpolated rate at points x[i] for directions u[i] (out (n, n_E), overwritten)."""
    for i in prange(x.shape[0]):
        out[i, :] = 0.0
        _add_aniso(table, R_g, z_g, mu_g, psi_g, iE, wE, x[i, 0], x[i, 1], x[i, 2],
                   u[i, 0], u[i, 1], u[i, 2], 1.0, out[i])


@njit(cache=True, parallel=True)
def rate_at_iso(table, R_g, z_g, iE, wE, x, out):
    """Interpolated angle-averaged rate at points x[i] (out (n, n_E), overwritten)."""
    for i in prange(x.shape[0]):
        out[i, :] = 0.0
        _add_iso(table, R_g, z_g, iE, wE, x[i, 0], x[i, 1], x[i, 2], 1.0, out[i])
