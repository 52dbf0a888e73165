"""Cosmic-ray injection: spectrum and time history [C, eq. 5; docs/physics.md, section 2]."""
from __future__ import annotations

import numpy as np

from transport.core.constants import GEV_EV

#: Kinks of the seed history [Gyr]; the solver lands time steps on them.
SEED_HISTORY_KINKS_GYR = (2.0, 6.0)


def injection_spectrum(E_eV, alpha, E_cut_eV):
    """Spectral shape (E / 1 GeV)^-alpha exp(-E / E_cut) (dimensionless), E total energy [C, eq. 5]."""
    E_eV = np.asarray(E_eV, dtype=float)
    return (E_eV / GEV_EV) ** (-alpha) * np.exp(-E_eV / E_cut_eV)


def seed_history(t_gyr):
    """Injection history h(t) of [C, eq. 5]: 1 + t (t <= 2), 3 (2 < t <= 6), 3 - 0.5 (t - 6) after.

    t in Gyr since the Galaxy's start; h reaches 0 at 12 Gyr and is clipped at 0 after.
    """
    t = np.asarray(t_gyr, dtype=float)
    h = np.where(t <= 2.0, 1.0 + t, np.where(t <= 6.0, 3.0, 3.0 - 0.5 * (t - 6.0)))
    return np.maximum(h, 0.0)


def history(t_gyr, name: str):
    """h(t) for ``source.history``: "seed" [C, eq. 5] or "constant" (h = 1)."""
    if name == "seed":
        return seed_history(t_gyr)
    if name == "constant":
        return np.ones_like(np.asarray(t_gyr, dtype=float))
    raise ValueError(f"unknown injection history {name!r}")


def history_kinks_gyr(name: str) -> tuple[float, ...]:
    """Times where h(t) has a kink; h is linear between them (the solver steps onto them)."""
    return SEED_HISTORY_KINKS_GYR if name == "seed" else ()
