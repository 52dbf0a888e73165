"""The secondary-energy grid shared by every emission table ([emission] section)."""
from __future__ import annotations

import numpy as np

from transport.core.grid import log_grid
from transport.hadronic.yields import MODELS as YIELD_MODELS


def emission_energy_grid(cfg) -> np.ndarray:
    """Log-spaced secondary energies [eV] from emission.E_min_eV to emission.E_max_eV
    ("auto": the proton grid's top, at most the highest energy of hadronic.yields)."""
    e = cfg.emission
    top = e.E_max_eV
    if top == "auto":
        top = min(cfg.grid.E_max_eV, YIELD_MODELS[cfg.hadronic.yields].secondary_max_eV)
    return log_grid(e.E_min_eV, top, e.E_per_decade)
