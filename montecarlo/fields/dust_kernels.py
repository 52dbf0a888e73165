"""Numba kernel of the direct (untabulated) dust intensity, the reference that the dust
tables are validated against (no I/O, no config)."""
import math

import numpy as np
from numba import njit, prange

from transport.core.constants import C_CM_S, H_ERG_S, K_B_ERG_K


@njit(cache=True, parallel=True)
def direct_intensity(x0, look, s_base, comp, T_scale, R_sun, lam_cm, out):
    """Reference line-of-sight integrals without temperature bins (for validation).

    out[d, i] = Integral ds sum_j rho_j(x0 + s look[d]) B_lambda(lam_cm[i], T_j) [g cm^-3 kpc
    x erg s^-1 cm^-2 sr^-1 cm^-1], trapezoid rule on the nodes s_base plus, where the ray
    crosses the plane, 801 nodes clustered around the crossing. comp[j] = (rho0, r, z, T_sun).
    """
    h = H_ERG_S
    c = C_CM_S
    k = K_B_ERG_K
    s_max = s_base[-1]
    t_extra = np.sinh(np.linspace(-8.0, 8.0, 801)) / np.sinh(8.0) * 20.0
    for d in prange(look.shape[0]):
        nx, ny, nz = look[d, 0], look[d, 1], look[d, 2]
        nodes = s_base
        if nz != 0.0:
            sc = -x0[2] / nz
            if 0.0 < sc < s_max:
                width = 0.05 / max(abs(nz), 1e-3)
                extra = sc + width * t_extra
                extra = extra[(extra > 0.0) & (extra < s_max)]
                nodes = np.sort(np.concatenate((s_base, extra)))
        prev = np.zeros(lam_cm.size)
        cur = np.zeros(lam_cm.size)
        for m in range(nodes.size):
            s = nodes[m]
            x = x0[0] + s * nx
            y = x0[1] + s * ny
            z = x0[2] + s * nz
            R = math.hypot(x, y)
            for i in range(lam_cm.size):
                cur[i] = 0.0
            for j in range(comp.shape[0]):
                rho = comp[j, 0] * math.exp(-R / comp[j, 1] - abs(z) / comp[j, 2])
                if rho < 1e-300:
                    continue
                T = comp[j, 3] * math.exp(-(R - R_sun) / T_scale)
                for i in range(lam_cm.size):
                    xx = h * c / (lam_cm[i] * k * T)
                    if xx < 700.0:
                        cur[i] += rho * 2.0 * h * c * c / lam_cm[i] ** 5 / math.expm1(xx)
            if m > 0:
                ds = s - nodes[m - 1]
                for i in range(lam_cm.size):
                    out[d, i] += 0.5 * ds * (prev[i] + cur[i])
            for i in range(lam_cm.size):
                prev[i] = cur[i]
