"""Numba kernels of the Monte Carlo photon propagation (no I/O, no config).

One *photon history* (docs/montecarlo.md): a sky direction n uniform on the sphere, its HEALPix
pixel (RING), an emission point x_e = x_sun + s n at the distance s drawn from the pixel's
piecewise-constant density (or, for a point set, a point drawn with probability p_i), and, at
every tally energy, the transport of the gamma ray from x_e to the Sun along u = -n:

- analog: delta (Woodcock) tracking against the majorant sigma_maj = sigma_u + sigma_d,max;
  at each tentative collision the photon pair-produces (is absorbed) with probability
  sigma(x, u) / sigma_maj; it scores 1 if it reaches the Sun, 0 otherwise;
- expected: the weight exp(-sigma_u L) for the spatially uniform fields (CMB, EBL at z = 0, a
  user table, a constant absorber: tau known in closed form) times the ratio-tracking
  estimate prod (1 - sigma_d(x_k, u) / sigma_d,max) of exp(-tau_dust) over the tentative
  collisions of the dust majorant (an unbiased estimate of the transmission).

Scores a = (1/4pi) q(E, x_e) T / pdf(s) [kpc-units of q x ds; the caller converts] are added to
the batch tallies (see :func:`simulate_batch`). Rates are in kpc^-1, distances in kpc.
"""
import math

import numpy as np
from numba import njit

from transport.emission.table_kernels import axisymmetric_q_spectrum, spherical_q_spectrum

#: Geometry of the source: spherical table, axisymmetric table, weighted point set.
SPHERICAL, AXISYMMETRIC, POINTS = 0, 1, 2
#: Estimators.
ANALOG, EXPECTED = 0, 1
#: Dust field: none, direction-dependent table, angle-averaged table.
DUST_NONE, DUST_ANISO, DUST_ISO = 0, 1, 2
#: Global counters at the end of the tally vector.
N_COUNTERS = 3            # photon histories, tracking steps, majorant violations
#: Monopole + dipole functionals per photon and their 10 distinct cross products.
N_FUNCTIONALS = 4
N_CROSS = 10


@njit(cache=True)
def ang2pix_ring(nside, z, phi):
    """HEALPix RING pixel of the direction with cos(theta) = z and azimuth phi in [0, 2pi)
    (Gorski et al. 2005, ApJ 622, 759, sec. 4; the algorithm of healpy's ang2pix_ring_z_phi)."""
    za = abs(z)
    tt = (phi % (2.0 * math.pi)) * (2.0 / math.pi)          # in [0, 4)
    if za <= 2.0 / 3.0:
        temp1 = nside * (0.5 + tt)
        temp2 = nside * z * 0.75
        jp = int(temp1 - temp2)
        jm = int(temp1 + temp2)
        ir = nside + 1 + jp - jm
        kshift = 1 - (ir & 1)
        ip = (jp + jm - nside + kshift + 1) // 2
        ip = ip % (4 * nside)
        return 2 * nside * (nside - 1) + (ir - 1) * 4 * nside + ip
    tp = tt - int(tt)
    tmp = nside * math.sqrt(3.0 * (1.0 - za))
    jp = int(tp * tmp)
    jm = int((1.0 - tp) * tmp)
    ir = jp + jm + 1
    ip = int(tt * ir) % (4 * ir)
    if z > 0.0:
        return 2 * ir * (ir - 1) + ip
    return 12 * nside * nside - 2 * ir * (ir + 1) + ip


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def locate(grid, lut, inv_h, x):
    """The cell of x on an ascending grid and the weight in it, (i, (x - grid[i]) / (grid[i + 1]
    - grid[i])), clamped to the ends exactly as :func:`montecarlo.opacity.kernels._locate`
    (the same index and weight), in O(1) and without data-dependent branches: x falls into
    look-up cell k = int((x - grid[0]) inv_h), which holds at most one node, and lut[k] is the
    last node in the cells before k (:func:`grid_lookup`)."""
    i = lut[min(int(max(x - grid[0], 0.0) * inv_h), lut.size - 1)]
    i = min(i + (grid[i + 1] <= x), grid.size - 2)
    w = (x - grid[i]) / (grid[i + 1] - grid[i])
    return i, min(max(w, 0.0), 1.0)


def grid_lookup(grid, max_cells=1 << 20):
    """(lut, inv_h) of :func:`locate` for a strictly ascending grid: look-up cells no wider than
    the narrowest grid interval, refined until no cell holds two nodes (in the float
    arithmetic of the kernel); at most ``max_cells`` cells."""
    grid = np.asarray(grid, dtype=float)
    if grid.size < 2 or not np.all(np.diff(grid) > 0):
        raise ValueError("grid_lookup needs a strictly ascending grid of >= 2 nodes")
    span = grid[-1] - grid[0]
    n_cells = int(np.ceil(span / np.min(np.diff(grid))))
    while n_cells <= max_cells:
        inv_h = n_cells / span
        cell = ((grid - grid[0]) * inv_h).astype(np.int64)        # as int() in the kernel
        if np.all(np.diff(cell) > 0):
            before = np.searchsorted(cell, np.arange(cell[-1] + 1), side="left")  # nodes in cells < k
            return np.maximum(before - 1, 0).astype(np.int64), float(inv_h)
        n_cells *= 2
    raise ValueError(f"grid_lookup: the grid's narrowest interval is {np.min(np.diff(grid)):.3g} "
                     f"of a span {span:.3g}: more than {max_cells} look-up cells")


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def dust_rate(mode, table, grids, x, y, z, ux, uy, uz):
    """Dust 1/lambda [kpc^-1] at one point and direction u, at the energy of ``table``.

    table: ln rate on (R, |z|, mu, psi) at one energy, the 4-node ln E stencil of the opacity
    table already applied (:func:`montecarlo.propagation.medium.dust_at_energies`; for
    DUST_ISO the angle-averaged table, shape (n_R, n_z, 1, 1)); grids: (R, lut, inv_h, z, lut,
    inv_h, mu, lut, inv_h, psi, lut, inv_h), each grid with its look-up (:func:`grid_lookup`;
    medium.Medium.dust_grids). The
    interpolation of :func:`montecarlo.opacity.kernels.rate_at_aniso` / ``rate_at_iso``
    (multilinear in ln rate, far-field dilution beyond the grid), the same operations in the
    same order except that R, psi and the dilution are computed without hypot and without
    dividing by R: the rates agree to ~1e-14 relative.

    The tracking kernels (this, :func:`locate`, :func:`transmission`) allocate nothing and are
    compiled without numba's reference counting (``_nrt=False``, as numba's own string
    helpers are): with it, every call that passes arrays makes an atomic reference-count update
    per array, which cost more than the interpolation itself. This and :func:`locate` are
    inlined into their callers (``inline="always"``): a call would copy the grids (eight array
    structures) at every step."""
    R_g, R_lut, R_inv, z_g, z_lut, z_inv, mu_g, mu_lut, mu_inv, psi_g, psi_lut, psi_inv = grids
    R = math.sqrt(x * x + y * y)
    iR, wR = locate(R_g, R_lut, R_inv, R)
    za = abs(z)
    iz, wz = locate(z_g, z_lut, z_inv, za)
    R_top = R_g[R_g.size - 1]
    z_top = z_g[z_g.size - 1]
    acc = 0.0
    if R > R_top or za > z_top:           # beyond the grid: the edge value diluted as 1/r^2
        acc = math.log((min(R, R_top) ** 2 + min(za, z_top) ** 2) / (R * R + z * z))
    if mode == DUST_ISO:
        for a in range(2):
            fa = wR if a else 1.0 - wR
            for b in range(2):
                acc += fa * (wz if b else 1.0 - wz) * table[iR + a, iz + b, 0, 0]
    else:
        psi = math.atan2(abs(uy * x - ux * y), ux * x + uy * y) if R > 0.0 else 0.0
        im, wm = locate(mu_g, mu_lut, mu_inv, -uz if z < 0.0 else uz)
        ip, wp = locate(psi_g, psi_lut, psi_inv, psi)
        for a in range(2):
            fa = wR if a else 1.0 - wR
            for b in range(2):
                fb = fa * (wz if b else 1.0 - wz)
                for c in range(2):
                    fc = fb * (wm if c else 1.0 - wm)
                    acc += fc * (1.0 - wp) * table[iR + a, iz + b, im + c, ip]
                    acc += fc * wp * table[iR + a, iz + b, im + c, ip + 1]
    return math.exp(acc)


@njit(cache=True)
def sample_bin(cdf, xi):
    """Index k with cdf[k] <= xi < cdf[k + 1] (cdf ascending from 0 to 1; empty bins skipped)."""
    lo = 0
    hi = cdf.size - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if cdf[mid] <= xi:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True, error_model="numpy", _nrt=False)
def transmission(estimator, L, sig_u, dmode, sig_d_max, table, grids, ox, oy, oz, nx, ny, nz,
                 counters):
    """Transmission score of one gamma ray from x_e = o + L n to the observer o along u = -n
    (1 or 0 for the analog estimator, the expected-value weight otherwise). counters[1] +=
    tracking steps, counters[2] += tentative collisions where the dust rate exceeded its
    majorant (the estimate is then biased; the caller raises the majorant)."""
    steps = 0
    viol = 0
    dust = dmode != DUST_NONE and sig_d_max > 0.0
    if estimator == EXPECTED:
        score = math.exp(-sig_u * L)
        if dust:
            t = 0.0
            while True:
                t -= math.log(1.0 - np.random.random()) / sig_d_max
                if t >= L:
                    break
                steps += 1
                s = L - t
                rate = dust_rate(dmode, table, grids, ox + s * nx, oy + s * ny, oz + s * nz,
                                 -nx, -ny, -nz)
                if rate > sig_d_max:
                    viol += 1
                score *= 1.0 - rate / sig_d_max
    else:
        sig_maj = sig_u + (sig_d_max if dust else 0.0)
        score = 1.0
        if sig_maj > 0.0:
            t = 0.0
            while True:
                t -= math.log(1.0 - np.random.random()) / sig_maj
                if t >= L:
                    break
                steps += 1
                xi = np.random.random() * sig_maj
                if xi < sig_u:
                    score = 0.0
                    break
                s = L - t
                rate = dust_rate(dmode, table, grids, ox + s * nx, oy + s * ny, oz + s * nz,
                                 -nx, -ny, -nz)
                if rate > sig_d_max:
                    viol += 1
                if xi < sig_u + rate:
                    score = 0.0
                    break
    counters[1] += steps
    counters[2] += viol
    return score


@njit(cache=True)
def simulate_batch(seed, n_photons, kind, nside, origin, sph, axi, points, edges, cdf,
                   estimator, sig_u, dmode, sig_d_max, dust_ln, dust_grids, pix_vec, region_of,
                   region_npix, tally):
    """Simulate ``n_photons`` histories with the random stream ``seed`` and add their scores
    to ``tally`` (n_E, n_cols) + counters (see :func:`tally_columns`).

    kind: SPHERICAL (sph = kernel tables of a SphericalEmission at the tally energies),
    AXISYMMETRIC (axi likewise) or POINTS (points = (positions (N, 3) kpc, luminosity
    (n_E, N) [s^-1 eV^-1 / kpc^2 units, see the caller], cdf (N + 1,) of the point choice)).
    edges (K + 1,), cdf (n_pix, K + 1): the distance density of each pixel (tables).
    sig_u (n_E,): the uniform rate; dust_ln (n_E, ...): the dust table at each tally energy
    and dust_grids its grids (:func:`dust_rate`), sig_d_max (n_E,) its majorant (0: no dust
    at that energy).
    pix_vec (n_pix, 3): pixel centres (the dipole functionals); region_of (n_pix, n_reg)
    pixel weights in the region averages (0 outside, fractional where a source mask or the
    box edge cuts the pixel), region_npix (n_reg,) their sums.
    """
    np.random.seed(seed)
    n_E = tally.shape[0] - 1
    n_pix = pix_vec.shape[0]
    n_reg = region_npix.size
    q = np.empty(max(n_E, sph[3].shape[0], axi[6].shape[0]))   # the table writes all its energies
    f = np.empty(N_FUNCTIONALS)
    counters = tally[n_E]
    c_map2 = n_pix
    c_fun = 2 * n_pix
    c_cross = c_fun + N_FUNCTIONALS
    c_reg = c_cross + N_CROSS
    c_reg2 = c_reg + n_reg
    c_a0 = c_reg2 + n_reg
    ox, oy, oz = origin[0], origin[1], origin[2]
    pos, lum, pcdf = points
    for _ in range(n_photons):
        counters[0] += 1.0
        if kind == POINTS:
            k = sample_bin(pcdf, np.random.random())
            dx = pos[k, 0] - ox
            dy = pos[k, 1] - oy
            dz = pos[k, 2] - oz
            L = math.sqrt(dx * dx + dy * dy + dz * dz)
            nx, ny, nz = dx / L, dy / L, dz / L
            pix = ang2pix_ring(nside, nz, math.atan2(ny, nx) % (2.0 * math.pi))
            inv_p = 1.0 / ((pcdf[k + 1] - pcdf[k]) * L * L * 4.0 * math.pi)
            for e in range(n_E):
                q[e] = lum[e, k] * inv_p
        else:
            z = 2.0 * np.random.random() - 1.0
            phi = 2.0 * math.pi * np.random.random()
            st = math.sqrt(max(0.0, 1.0 - z * z))
            nx, ny, nz = st * math.cos(phi), st * math.sin(phi), z
            pix = ang2pix_ring(nside, z, phi)
            row = cdf[pix]
            k = sample_bin(row, np.random.random())
            p_bin = row[k + 1] - row[k]
            if p_bin <= 0.0:
                continue
            width = edges[k + 1] - edges[k]
            L = edges[k] + width * np.random.random()
            x, y, zz = ox + L * nx, oy + L * ny, oz + L * nz
            if kind == SPHERICAL:
                spherical_q_spectrum(sph[0], sph[1], sph[2], sph[3], sph[4], x, y, zz, q)
            else:
                axisymmetric_q_spectrum(axi[0], axi[1], axi[2], axi[3], axi[4], axi[5], axi[6],
                                        axi[7], axi[8], x, y, zz, q)
            scale = width / p_bin
            for e in range(n_E):
                q[e] *= scale
        for e in range(n_E):
            a0 = q[e] / (4.0 * math.pi)
            if a0 == 0.0:
                continue
            row_t = tally[e]
            row_t[c_a0] += a0
            row_t[c_a0 + 1] += a0 * a0
            if estimator == EXPECTED or sig_u[e] > 0.0 or sig_d_max[e] > 0.0:
                a = a0 * transmission(estimator, L, sig_u[e], dmode, sig_d_max[e], dust_ln[e],
                                      dust_grids, ox, oy, oz, nx, ny, nz, counters)
            else:
                a = a0
            if a == 0.0:
                continue
            m = n_pix * a
            row_t[pix] += m
            row_t[c_map2 + pix] += m * m
            f[0] = a
            f[1] = 3.0 * a * pix_vec[pix, 0]
            f[2] = 3.0 * a * pix_vec[pix, 1]
            f[3] = 3.0 * a * pix_vec[pix, 2]
            c = 0
            for r in range(N_FUNCTIONALS):
                row_t[c_fun + r] += f[r]
                for s in range(r, N_FUNCTIONALS):
                    row_t[c_cross + c] += f[r] * f[s]
                    c += 1
            for g in range(n_reg):
                if region_of[pix, g] > 0.0:
                    v = m * region_of[pix, g] / region_npix[g]
                    row_t[c_reg + g] += v
                    row_t[c_reg2 + g] += v * v
