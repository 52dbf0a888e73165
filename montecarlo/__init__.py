"""Photons from emission to Earth: pair-production opacity (CMB, Galactic dust, EBL),
line-of-sight integrals, Monte Carlo, sky maps.

Public API (pair-production opacity, docs/physics.md, section 4):
    mean_free_path_kpc(E_eV, fields=("cmb",), z=0.0)
    optical_depth_ebl(E_eV, z_source, model=None)
    optical_depth_cosmological(E_eV, z_source, fields=("ebl", "cmb"))
    optical_depth_galactic(E_eV, l_deg, b_deg, distance_kpc, fields=("cmb", "dust"))
    survival_probability(E_eV, l_deg, b_deg, distance_kpc, fields=("cmb", "dust"))
Each also takes config= (None = the bundled default, a Config, a TOML path or a mapping).

Sky (line-of-sight integrals and maps, docs/physics.md, section 5):
    intensity(emission, E_eV, l_deg, b_deg, fields=("cmb", "dust"))  -> I [cm^-2 s^-1 sr^-1 eV^-1]
    dipole(healpix_map, nest=False)                                    -> (amplitude, l_deg, b_deg)

Monte Carlo (docs/montecarlo.md):
    monte_carlo(emission, E_eV, nside=16, fields=("cmb", "dust"), n_photons=..., seed=...,
                estimator="expected")                                 -> MCResult (maps, errors)

Citations [C], [T], [L], [K], [D] are the papers the model follows, referenced in full in docs/physics.md.
Extragalactic (electromagnetic cascades, docs/extragalactic.md):
    cascade_spectrum(z_source, E_inj_min_eV, E_inj_max_eV, index, ebl_model="dominguez",
                     E_min_eV=1e8, n_primaries=2000, seed=1)  -> E_eV, E2dNdE, E2dNdE_err, energy_fraction
"""
from transport.core.cachedir import configure_numba_cache

configure_numba_cache()          # before any kernel module is imported (transport.core.cachedir)

from montecarlo.cascade.api import cascade_spectrum
from montecarlo.lineofsight.integrator import intensity
from montecarlo.opacity.api import (Opacity, mean_free_path_kpc, optical_depth_cosmological,
                                    optical_depth_ebl, optical_depth_galactic,
                                    survival_probability)
from montecarlo.propagation import MCResult, PointEmission, monte_carlo
from montecarlo.sky.analysis import dipole

__all__ = ["MCResult", "Opacity", "PointEmission", "cascade_spectrum", "dipole", "intensity",
           "mean_free_path_kpc", "monte_carlo", "optical_depth_cosmological", "optical_depth_ebl",
           "optical_depth_galactic", "survival_probability"]
