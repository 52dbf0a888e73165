"""Numba kernels of the line-of-sight integrator (no I/O, no config).

A ray starts at the observer o and runs along the sky direction n: x(s) = o + s n, s in kpc.
It is cut into panels at geometric breakpoints (sphere, cylinder and plane crossings, closest
approaches) and graded so that no panel is longer than ``alpha`` times the local length scale
(distance to the Galactic centre and, for rays leaving the plane, the height over the plane
divided by |n_z|). Each panel carries ``p`` Gauss-Legendre nodes.
"""
import numpy as np
from numba import njit, prange

_TINY = 1e-300


@njit(cache=True)
def _crossings(o, n, s_max, spheres, cylinders, planes, out):
    """Write the sorted breakpoints in (0, s_max) into ``out``; return how many (incl. 0, s_max)."""
    m = 0
    out[m] = 0.0
    m += 1
    b = o[0] * n[0] + o[1] * n[1] + o[2] * n[2]
    c0 = o[0] * o[0] + o[1] * o[1] + o[2] * o[2]
    if -b > 0.0 and -b < s_max:                         # closest approach to the centre
        out[m] = -b
        m += 1
    for R in spheres:
        disc = b * b - (c0 - R * R)
        if disc > 0.0:
            root = np.sqrt(disc)
            for s in (-b - root, -b + root):
                if 0.0 < s < s_max:
                    out[m] = s
                    m += 1
    a2 = n[0] * n[0] + n[1] * n[1]
    if a2 > 1e-24:
        bc = o[0] * n[0] + o[1] * n[1]
        cc0 = o[0] * o[0] + o[1] * o[1]
        s_ca = -bc / a2
        if 0.0 < s_ca < s_max:                           # closest approach to the axis
            out[m] = s_ca
            m += 1
        for R in cylinders:
            disc = bc * bc - a2 * (cc0 - R * R)
            if disc > 0.0:
                root = np.sqrt(disc)
                for s in ((-bc - root) / a2, (-bc + root) / a2):
                    if 0.0 < s < s_max:
                        out[m] = s
                        m += 1
    if abs(n[2]) > 1e-12:
        for z0 in planes:
            s = (z0 - o[2]) / n[2]
            if 0.0 < s < s_max:
                out[m] = s
                m += 1
    out[m] = s_max
    m += 1
    out[:m].sort()
    return m


@njit(cache=True)
def _panel_length(o, n, s, alpha, r_floor, z_floor, h_max):
    x = o[0] + s * n[0]
    y = o[1] + s * n[1]
    z = o[2] + s * n[2]
    h = alpha * (np.sqrt(x * x + y * y + z * z) + r_floor)
    nz = abs(n[2])
    if nz > 1e-12:
        hz = alpha * (abs(z) + z_floor) / nz
        if hz < h:
            h = hz
    return min(h, h_max)


@njit(cache=True)
def _walk(o, n, s_max, spheres, cylinders, planes, alpha, r_floor, z_floor, h_max, breaks,
          starts, lengths, write):
    """Panels of one ray; when ``write`` fill starts/lengths. Returns the number of panels."""
    m = _crossings(o, n, s_max, spheres, cylinders, planes, breaks)
    k = 0
    for i in range(m - 1):
        a, b = breaks[i], breaks[i + 1]
        if b - a <= 1e-12 * (1.0 + b):
            continue
        s = a
        while s < b:
            h = _panel_length(o, n, s, alpha, r_floor, z_floor, h_max)
            if s + h >= b - 1e-9 * h:
                h = b - s
            # also limit by the scale at the panel end, so panels shrink when approaching
            h_end = _panel_length(o, n, s + h, alpha, r_floor, z_floor, h_max)
            if h > 2.0 * h_end and s + h < b:
                h = 2.0 * h_end
            if write:
                starts[k] = s
                lengths[k] = h
            k += 1
            s += h
    return k


@njit(cache=True, parallel=True)
def count_panels(o, dirs, s_max, spheres, cylinders, planes, alpha, r_floor, z_floor, h_max):
    n_rays = dirs.shape[0]
    counts = np.empty(n_rays, dtype=np.int64)
    for r in prange(n_rays):
        breaks = np.empty(4 + 2 * spheres.size + 2 * cylinders.size + planes.size)
        dummy = np.empty(0)
        counts[r] = _walk(o, dirs[r], s_max[r], spheres, cylinders, planes, alpha, r_floor,
                          z_floor, h_max, breaks, dummy, dummy, False)
    return counts


@njit(cache=True, parallel=True)
def fill_panels(o, dirs, s_max, spheres, cylinders, planes, alpha, r_floor, z_floor, h_max,
                offsets, starts, lengths):
    for r in prange(dirs.shape[0]):
        breaks = np.empty(4 + 2 * spheres.size + 2 * cylinders.size + planes.size)
        a, b = offsets[r], offsets[r + 1]
        _walk(o, dirs[r], s_max[r], spheres, cylinders, planes, alpha, r_floor, z_floor, h_max,
              breaks, starts[a:b], lengths[a:b], True)


@njit(cache=True, parallel=True)
def integrate(offsets, lengths, p, weights, smat, q, kappa, attenuate, out):
    """out[e, r] = sum over the ray's nodes of w q exp(-tau), tau(s) = integral_0^s kappa.

    q, kappa: (n_E, n_nodes) at the nodes, panel by panel (p nodes each), kappa in 1/kpc;
    attenuate[e]: whether energy e has any kappa > 0 (else kappa is not read);
    weights (p,) and smat (p, p) are the Gauss-Legendre weights and the integration matrix on
    [-1, 1] (tau at node i of a panel = tau_start + h/2 sum_j smat[i, j] kappa_j).
    Result in q-units x kpc.
    """
    n_e = q.shape[0]
    for r in prange(offsets.size - 1):
        for e in range(n_e):
            total = 0.0
            tau0 = 0.0
            for k in range(offsets[r], offsets[r + 1]):
                half = 0.5 * lengths[k]
                base = k * p
                if attenuate[e]:
                    panel_tau = 0.0
                    for i in range(p):
                        t = 0.0
                        for j in range(p):
                            t += smat[i, j] * kappa[e, base + j]
                        total += half * weights[i] * q[e, base + i] * np.exp(-(tau0 + half * t))
                        panel_tau += weights[i] * kappa[e, base + i]
                    tau0 += half * panel_tau
                else:
                    for i in range(p):
                        total += half * weights[i] * q[e, base + i]
            out[e, r] = total
