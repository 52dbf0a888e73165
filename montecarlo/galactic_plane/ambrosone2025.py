"""[K] (Ambrosone et al. 2025): diffuse emission of the cosmic-ray sea plus the gamma rays and
neutrinos made in the sources' cocoons, chi_c(R) = chi_c,0 exp(-R / 20 TV) with
chi_c,0 = 0.3-0.6 g cm^-2 (best fit 0.4) [K, eq. 1-4], against LHAASO with its mask and
IceCube (docs/papers.md, "[K]").

- Diffuse part: [K] take it from De la Torre Luque et al. 2023, the gamma-optimised model of
  [D]; here the same sea as :mod:`montecarlo.galactic_plane.grasso2025` ("gamma_min").
- Cocoons: :mod:`transport.emission.cocoons` with cocoons.injection = "sea", i.e. the injection
  that the sea's transport turns into the local CR spectrum (its shape and power), sources
  distributed like SNRs (Green 2015), as [K] assume.
"""
from __future__ import annotations

import numpy as np

from montecarlo.galactic_plane import components as comp
from montecarlo.galactic_plane import grasso2025
from transport.emission.registry import build_emission

#: [K]'s range of the source grammage chi_c,0 [g cm^-2] and its best fit.
CHI0_G_CM2 = (0.3, 0.4, 0.6)
CHI0_BEST_G_CM2 = 0.4
#: The diffuse model [K] use ([D]'s gamma-optimised Min).
DIFFUSE = "gamma_min"
#: [K]'s all-sky neutrino level they cannot reach at ~100 TeV [GeV cm^-2 s^-1] (per flavour,
#: integrated over the sky: IceCube's pi0 best fit).
IC_LEVEL_GEV_CM2_S = 2e-8


def model_config(cfg, chi0_g_cm2: float):
    return grasso2025.model_config(cfg, DIFFUSE).with_overrides({
        "cocoons.injection": "sea", "cocoons.distribution": "snr_tibet",
        "cocoons.chi0_g_cm2": chi0_g_cm2, "cocoons.R0_V": 2e13})


def compute(cfg, E_eV, fields=("cmb", "dust"), data=None, progress=False) -> dict:
    """{"chi0=<x>": ModelSpectra} with components "sea" and "cocoons" (photons per region,
    all-flavour neutrinos over the whole sky), the chi^2 per data set of the sum, and in
    params the cocoons' share and the all-sky neutrino flux at 100 TeV."""
    from tqdm.auto import tqdm

    data = grasso2025.datasets() if data is None else data
    E = np.asarray(E_eV, dtype=float)
    regions = grasso2025.regions_needed(data)
    base = model_config(cfg, CHI0_BEST_G_CM2)
    sea_g = comp.region_spectra(build_emission(base, "sea", "gamma", None, E), E, regions, fields, base)
    sea_nu = comp.region_spectra(build_emission(base, "sea", "nu", None, E), E, ("all_sky",), (), base)
    out = {}
    for chi0 in tqdm(CHI0_G_CM2, desc="[K] cocoons", disable=not progress, leave=False):
        c = model_config(cfg, chi0)
        m = comp.ModelSpectra(f"chi0={chi0:g}", E, params={"chi0_g_cm2": chi0, "n_free": 0})
        m.gamma["sea"], m.nu["sea"] = sea_g, sea_nu
        m.gamma["cocoons"] = comp.region_spectra(build_emission(c, "cocoons", "gamma", None, E), E,
                                                 regions, fields, c)
        m.nu["cocoons"] = comp.region_spectra(build_emission(c, "cocoons", "nu", None, E), E,
                                              ("all_sky",), (), c)
        m.chi2 = {k: comp.chi2_points(E, m.total("gamma", p.region), p) for k, p in data.items()}
        m.params["model_over_data"] = {k: comp.mean_ratio(E, m.total("gamma", p.region), p)
                                       for k, p in data.items()}
        for side in ("inner", "outer"):
            share = m.gamma["cocoons"][f"lhaaso_{side}"] / m.total("gamma", f"lhaaso_{side}")
            m.params[f"cocoon_share_{side}_1TeV"] = float(comp.loglog(E, share, 1e12))
            m.params[f"cocoon_share_{side}_100TeV"] = float(comp.loglog(E, share, 1e14))
        nu_total = m.total("nu", "all_sky")
        m.params["cocoon_share_nu_100TeV"] = float(comp.loglog(E, m.nu["cocoons"]["all_sky"] / nu_total, 1e14))
        # E^2 x intensity x 4 pi / 3: the per-flavour flux integrated over the sky [GeV cm^-2 s^-1]
        m.params["nu_all_sky_flux_per_flavour_100TeV_GeV_cm2_s"] = float(
            comp.loglog(E, nu_total * E ** 2, 1e14) * 4.0 * np.pi / 3.0 / 1e9)
        out[m.name] = m
    return out
