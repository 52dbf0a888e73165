"""[D] (the DRAGON cosmic-ray-sea contribution, Grasso et al.): a conventional ("Base") and a
spatially dependent ("gamma-optimised", KRA-gamma-like) CR sea with the Min / Max source
spectra, against LHAASO-KM2A and -WCDA with LHAASO's mask, the masked / unmasked ratios that
show how the mask hides the difference between the two transport models, and the neutrinos
(docs/papers.md, "[D]").

- Base: sea.transport = "uniform" (the spatial shape of the CR density is the same at all
  rigidities); gamma-optimised: "kra_gamma", delta(R) = 0.035 R/kpc + 0.21 inside 11 kpc
  (Gaggero et al. 2015), so the spectrum hardens towards the inner Galaxy; both with the
  KRA-gamma halo H = 4 kpc and sources like SNRs (Green 2015, [T] eq. 9), and D0 at 4 GV
  such that D / H at 10 GV equals [L]'s B/C-fitted value (the grammage B/C measures):
  7.69e28 x 2.5^(0.362 - 0.5075) x 4 / 6.3 = 4.27e28 cm^2/s (it sets only the injected power,
  used by the cocoons of [K]: the sea is normalised to the local spectrum). These [sea] keys
  are in runs/paper/plane_D_grasso2025.toml.
- Min / Max: the local proton and helium spectra following KASCADE / IceTop above the knee;
  here [L]'s Table II DR-low / DR-high sets, which were fitted to the same two experiments and
  to the direct data below (CALET / DAMPE-like hardening at ~500 GV, softening at ~15 TV).
- No free parameter: every model is an absolute prediction normalised to the local CR
  spectrum; the chi^2 per point against each data set is reported ([D] quote 9.5 for Max in
  the inner region).
"""
from __future__ import annotations

import numpy as np

from montecarlo import observations as obs
from montecarlo.galactic_plane import components as comp
from transport.cosmicrays.galactic_injection import PROTON
from transport.emission import sea
from transport.emission.registry import build_emission

#: [D]'s four setups: name -> (sea.transport, sea.injection).
MODELS = {"base_min": ("uniform", "DR-low"), "base_max": ("uniform", "DR-high"),
          "gamma_min": ("kra_gamma", "DR-low"), "gamma_max": ("kra_gamma", "DR-high")}
#: Energies of the masked / unmasked comparison [eV] ([D] Fig. 2, 3).
MASK_E_EV = (1e12, 1e13, 1e14, 1e15)
#: Radii of the proton spectra shown for the hardening [kpc].
PROFILE_R_KPC = (3.0, 5.0, 8.5, 12.0)


def datasets() -> dict:
    """The LHAASO spectra: {name: SpectralPoints} (each on its masked region)."""
    return {"km2a_inner": obs.lhaaso_km2a("inner"), "km2a_outer": obs.lhaaso_km2a("outer")}


def regions_needed(data: dict) -> tuple:
    names = {p.region for p in data.values()} | {"lhaaso_inner", "lhaaso_outer",
                                                 "lhaaso_inner_unmasked", "lhaaso_outer_unmasked"}
    return tuple(sorted(names))


def model_config(cfg, name: str):
    transport, injection = MODELS[name]
    return cfg.with_overrides({"sea.transport": transport, "sea.injection": injection})


def compute(cfg, E_eV, fields=("cmb", "dust"), data=None, progress=False) -> dict:
    """{name: ModelSpectra} for the four setups: component "sea" photons per region (masked
    and unmasked), all-flavour neutrinos over the whole sky, the chi^2 per data set, and in
    params the masked / unmasked ratios, the proton spectra at PROFILE_R_KPC, the ratios of
    gamma-optimised to Base and (gamma_min) of the same sea on GALPROP's gas to ours."""
    from tqdm.auto import tqdm

    data = datasets() if data is None else data
    E = np.asarray(E_eV, dtype=float)
    regions = regions_needed(data)
    out = {}
    for name in tqdm(MODELS, desc="[D] models", disable=not progress, leave=False):
        c = model_config(cfg, name)
        m = comp.ModelSpectra(name, E, params={"transport": MODELS[name][0],
                                               "injection": MODELS[name][1], "n_free": 0})
        m.gamma["sea"] = comp.region_spectra(build_emission(c, "sea", "gamma", None, E), E,
                                             regions, fields, c)
        m.nu["sea"] = comp.region_spectra(build_emission(c, "sea", "nu", None, E), E,
                                          ("all_sky",), (), c)
        m.chi2 = {k: comp.chi2_points(E, m.gamma["sea"][p.region], p) for k, p in data.items()}
        m.params["model_over_data"] = {k: comp.mean_ratio(E, m.gamma["sea"][p.region], p)
                                       for k, p in data.items()}
        for side in ("inner", "outer"):
            ratio = m.gamma["sea"][f"lhaaso_{side}"] / m.gamma["sea"][f"lhaaso_{side}_unmasked"]
            m.params[f"masked_over_unmasked_{side}"] = comp.loglog(E, ratio, MASK_E_EV)
        E_p = np.geomspace(1e10, 1e16, 31)
        m.params["proton_E_eV"] = E_p
        m.params["proton_density"] = {R: sea.species_density(E_p, PROTON, [R], [0.0], c)[:, 0]
                                      for R in PROFILE_R_KPC}
        out[name] = m
    # the gas model's share of the uncertainty: the same sea on GALPROP's analytic gas
    c = model_config(cfg, "gamma_min").with_overrides({"sea.gas": "galprop"})
    other = comp.region_spectra(build_emission(c, "sea", "gamma", None, E), E,
                                ("lhaaso_inner", "lhaaso_outer"), fields, c)
    for side in ("inner", "outer"):
        ratio = other[f"lhaaso_{side}"] / out["gamma_min"].gamma["sea"][f"lhaaso_{side}"]
        out["gamma_min"].params[f"galprop_gas_over_ns_{side}"] = comp.loglog(E, ratio, MASK_E_EV)
    for setup in ("min", "max"):                   # the transport models' difference, [D] Sec. 2
        g, b = out[f"gamma_{setup}"], out[f"base_{setup}"]
        for side in ("inner", "outer"):
            for tag, region in (("masked", f"lhaaso_{side}"), ("unmasked", f"lhaaso_{side}_unmasked")):
                ratio = g.gamma["sea"][region] / b.gamma["sea"][region]
                g.params[f"gamma_over_base_{side}_{tag}"] = comp.loglog(E, ratio, MASK_E_EV)
    return out
