"""[L] (Shao et al. 2023): the SNR-distributed cosmic-ray sea with the DR-high / DR-low
injection of their Table II, plus unresolved sources EXTRA1 and EXTRA2 fitted to LHAASO and
Fermi-LAT with LHAASO's source mask; the Galactic neutrinos and their share of IceCube's
astrophysical flux (docs/papers.md, "[L]").

- The sea: :mod:`transport.emission.sea` with [L]'s transport (Table I: D0 = 7.69e28 cm^2/s at
  4 GV, delta = 0.362, z_h = 6.3 kpc), the SNR distribution of their eq. 2 and the local
  spectra of Table II (DR-high from IceTop, DR-low from KASCADE), on the Nakanishi & Sofue gas.
- EXTRA1, EXTRA2 [L, Sec. 3.3]: photon ECPL E^-Gamma e^(-E/E_cut) with Gamma = 2.40 and 2.30
  fixed, following the Lorimer et al. 2006 pulsars; their normalisations and cut-offs are
  fitted (Model 1 = DR-high + EXTRA1, Model 2 = DR-low + EXTRA1 + EXTRA2, [L] Sec. 5) to the
  LHAASO inner and outer spectra and the Fermi-LAT points with the same masks, by the
  asymmetric-error chi^2 of [T] eq. 12. [L] quote ~20 TeV (EXTRA1) and 2 PeV (EXTRA2).
- Neutrinos: the sea's pp neutrinos plus those of hadronic EXTRAs ([T] eq. 1); the all-sky
  fraction of IceCube's astrophysical power law ([L] eq. 1) at 20 TeV, ~9 % in [L].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize

from montecarlo import observations as obs
from montecarlo.galactic_plane import components as comp
from transport.emission.registry import build_emission

#: [L] Sec. 5: the two models.
MODELS = {"model1": ("DR-high", ("extra1",)), "model2": ("DR-low", ("extra1", "extra2"))}


@dataclass(frozen=True)
class ExtraPrior:
    """Fixed index, normalisation energy and the range allowed for the fitted cut-off [eV]."""
    Gamma: float
    E_norm_eV: float
    E_cut_start_eV: float
    E_cut_range_eV: tuple


#: [L] Sec. 3.3: EXTRA1 2.40 with a ~20 TeV cut-off, EXTRA2 2.30 with ~2 PeV; the fitted
#: cut-offs may move a decade either way.
EXTRAS = {"extra1": ExtraPrior(2.40, 1e12, 2e13, (2e12, 2e14)),
          "extra2": ExtraPrior(2.30, 1e14, 2e15, (2e14, 2e16))}
#: [L]'s EXTRA2 cut-off [eV] (the data only bound it from below).
L_EXTRA2_CUT_EV = 2e15
#: [L] Sec. 3.3: DR-high alone fits the data above 60 TeV, not below [eV].
SPLIT_E_EV = 6e13
#: IceCube comparison energy of [L] (their ~9 % at 20 TeV).
NU_FRACTION_E_EV = 2e13


def datasets() -> dict:
    """The measured spectra the EXTRAs are fitted to: {name: SpectralPoints} (each carries the
    masked region it is defined on)."""
    return {"km2a_inner": obs.lhaaso_km2a("inner"), "km2a_outer": obs.lhaaso_km2a("outer")}


def regions_needed(data: dict) -> tuple:
    """Every region a figure or fit needs: the data regions (masked), the unmasked boxes,
    [L]'s 25 < l < 100 window (tibet_A, unmasked, their Fig. 5, 7b, 8) and the whole sky."""
    names = {p.region for p in data.values()}
    names |= {"lhaaso_inner_unmasked", "lhaaso_outer_unmasked", "tibet_A"}
    return tuple(sorted(names))


def _extra_spectra(priors, params, q_ref, prof_g, prof_nu, E):
    """{name: (gamma {region: I}, nu {region: I})} of the EXTRAs for params {name: (norm,
    E_cut)} from their profiles {name: {region: A(E)}} (hadronic: neutrinos by [T] eq. 1)."""
    out = {}
    for name, (norm, E_cut) in params.items():
        p = priors[name]
        c = comp.ECPL(p.Gamma, E_cut, norm, p.E_norm_eV, q_ref[name])
        g = {r: c.photons(E) * A for r, A in prof_g.get(name, {}).items()}
        n = {r: c.neutrinos(E) * A for r, A in prof_nu.get(name, {}).items()}
        out[name] = (g, n)
    return out


#: Points of the profile scan of each cut-off over its prior range.
PROFILE_POINTS = 17


def fit_extras(E, sea_gamma: dict, prof_g: dict, q_ref: dict, extras, data: dict,
               priors=EXTRAS):
    """Best fit of ``extras`` on top of the sea: ({name: (norm, E_cut)}, chi^2 per data set,
    {name: (E_cut_lo, E_cut_hi)} the 68 % range of each cut-off from its profile (Delta chi^2
    = 1, the other parameters re-fitted; walked out on PROFILE_POINTS grid points and solved
    to 1e-3 in log10 E_cut; an end of the prior range where the profile stays below 1 there,
    i.e. a limit)). Nelder-Mead in (log10 norm, log10 E_cut) from a grid of
    starting norms; the cut-offs are kept in their prior ranges."""
    def unpack(x):
        out = {}
        for k, name in enumerate(extras):
            lo, hi = priors[name].E_cut_range_eV
            out[name] = (10.0 ** x[2 * k], float(np.clip(10.0 ** x[2 * k + 1], lo, hi)))
        return out

    def chi2_of(params):
        spectra = _extra_spectra(priors, params, q_ref, prof_g, {}, E)
        total = 0.0
        per = {}
        for key, pts in data.items():
            model = sea_gamma[pts.region] + sum(s[0][pts.region] for s in spectra.values())
            per[key] = comp.chi2_points(E, model, pts)
            total += per[key][0]
        return total, per

    def objective(x):
        penalty = 0.0
        for k, name in enumerate(extras):       # a wall outside the cut-off range
            lo, hi = np.log10(priors[name].E_cut_range_eV)
            penalty += 1e3 * (max(0.0, x[2 * k + 1] - hi) + max(0.0, lo - x[2 * k + 1])) ** 2
        return chi2_of(unpack(x))[0] + penalty

    def minimise(fun, starts):
        best = None
        for x0 in starts:
            res = minimize(fun, x0, method="Nelder-Mead",
                           options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 4000, "maxfev": 8000})
            if best is None or res.fun < best.fun:
                best = res
        return best

    best = minimise(objective, [np.concatenate([[s, np.log10(priors[n].E_cut_start_eV)] for n in extras])
                                for s in (-2.0, -1.0, 0.0)])
    intervals = {}
    for k, name in enumerate(extras):
        if priors[name].E_cut_range_eV[0] == priors[name].E_cut_range_eV[1]:    # fixed cut-off
            intervals[name] = priors[name].E_cut_range_eV
            continue
        grid = np.linspace(*np.log10(priors[name].E_cut_range_eV), PROFILE_POINTS)
        free = [i for i in range(best.x.size) if i != 2 * k + 1]

        def fixed(y, value):
            x = np.empty(best.x.size)
            x[free], x[2 * k + 1] = y, value
            return objective(x)

        def excess(v):                            # profile Delta chi^2 - 1 at log10 E_cut = v
            return minimise(lambda y: fixed(y, v), [best.x[free]]).fun - best.fun - 1.0
        v_best = best.x[2 * k + 1]
        below, above = grid[grid < v_best], grid[grid > v_best]
        ends = []
        for side in (below[::-1], above):         # walk out from the best fit to Delta chi^2 = 1
            inner, end = v_best, side[-1] if side.size else v_best
            for v in side:
                if excess(v) > 0.0:
                    end = brentq(excess, inner, v, xtol=1e-3)
                    break
                inner = v
            ends.append(end)
        intervals[name] = (10.0 ** ends[0], 10.0 ** ends[1])
    params = unpack(best.x)
    return params, chi2_of(params)[1], intervals


def compute(cfg, E_eV, fields=("cmb", "dust"), data=None, progress=False) -> dict:
    """Model 1 and Model 2 of [L]: {name: ModelSpectra} with components "sea", "extra1"
    (and "extra2"), photons per region (masked where the region is), all-flavour neutrinos
    over the whole sky and in 25 < l < 100 deg, the fitted EXTRA parameters and the chi^2
    per data set (params: "extraN_norm", "extraN_E_cut_eV", "nu_fraction_icecube_20TeV", ...)."""
    from tqdm.auto import tqdm

    data = datasets() if data is None else data
    E = np.asarray(E_eV, dtype=float)
    regions = regions_needed(data)
    nu_regions = ("all_sky", "tibet_A")
    dist = {n: cfg[n].distribution for n in EXTRAS}
    prof_g = {n: comp.profile(cfg, dist[n], "gamma", E, regions, fields) for n in EXTRAS}
    prof_nu = {n: comp.profile(cfg, dist[n], "nu", E, nu_regions, ()) for n in EXTRAS}
    q_ref = {n: comp.reference_emissivity(cfg, EXTRAS[n].E_norm_eV) for n in EXTRAS}
    icecube = obs.icecube_power_law(E)                    # all flavours, [L] eq. 1 x 3
    out = {}
    for name, (injection, extras) in tqdm(MODELS.items(), desc="[L] models", disable=not progress,
                                          leave=False):
        c = cfg.with_overrides({"sea.injection": injection})
        sea_g = comp.region_spectra(build_emission(c, "sea", "gamma", None, E), E, regions, fields, c)
        sea_nu = comp.region_spectra(build_emission(c, "sea", "nu", None, E), E, nu_regions, (), c)
        params, chi2, intervals = fit_extras(E, sea_g, {n: prof_g[n] for n in extras}, q_ref,
                                             extras, data)
        m = comp.ModelSpectra(name, E, params={"injection": injection}, chi2=chi2)
        m.gamma["sea"], m.nu["sea"] = sea_g, sea_nu
        for n in extras:
            g, nu = _extra_spectra(EXTRAS, {n: params[n]}, q_ref, prof_g, prof_nu, E)[n]
            m.gamma[n], m.nu[n] = g, nu
            m.params[f"{n}_norm"], m.params[f"{n}_E_cut_eV"] = params[n]
            m.params[f"{n}_Gamma"] = EXTRAS[n].Gamma
            m.params[f"{n}_E_cut_68_eV"] = intervals[n]
        total_nu = m.total("nu", "all_sky")
        m.params["nu_fraction_icecube_20TeV"] = float(comp.loglog(E, total_nu / icecube, NU_FRACTION_E_EV))
        m.params["nu_fraction_icecube_20TeV_sea_only"] = float(
            comp.loglog(E, sea_nu["all_sky"] / icecube, NU_FRACTION_E_EV))
        m.params["nu_fraction_icecube_100TeV_sea_only"] = float(
            comp.loglog(E, sea_nu["all_sky"] / icecube, 1e14))
        m.params["nu_fraction_icecube_1PeV"] = float(comp.loglog(E, total_nu / icecube, 1e15))
        without_extra2 = total_nu - m.nu.get("extra2", {}).get("all_sky", 0.0)
        m.params["nu_fraction_icecube_1PeV_extra2_leptonic"] = float(
            comp.loglog(E, without_extra2 / icecube, 1e15))
        if "extra2" in extras:          # [L]'s own choice: EXTRA2 cut off at 2 PeV, norms re-fitted
            fixed = {**EXTRAS, "extra2": ExtraPrior(EXTRAS["extra2"].Gamma, EXTRAS["extra2"].E_norm_eV,
                                                    L_EXTRA2_CUT_EV, (L_EXTRA2_CUT_EV,) * 2)}
            p2, c2, _ = fit_extras(E, sea_g, {n: prof_g[n] for n in extras}, q_ref, extras, data, fixed)
            nu2 = sea_nu["all_sky"] + sum(_extra_spectra(fixed, {n: p2[n]}, q_ref, {}, prof_nu, E)[n][1]["all_sky"]
                                          for n in extras)
            m.params["nu_fraction_icecube_1PeV_Ecut2PeV"] = float(comp.loglog(E, nu2 / icecube, 1e15))
            m.params["delta_chi2_Ecut2PeV"] = sum(c[0] for c in c2.values()) - sum(c[0] for c in chi2.values())
        for key, pts in data.items():          # the sea alone: [L] Sec. 3.3 splits at 60 TeV
            for tag, keep in (("above", pts.E_eV >= SPLIT_E_EV), ("below", pts.E_eV < SPLIT_E_EV)):
                sub = obs.SpectralPoints(pts.label, pts.particle, pts.region, pts.E_eV[keep],
                                         pts.intensity[keep], pts.err_lo[keep], pts.err_hi[keep],
                                         pts.E_lo_eV[keep], pts.E_hi_eV[keep], pts.upper_limit[keep])
                if sub.E_eV.size:
                    m.params[f"sea_over_data_{tag}_60TeV_{key}"] = comp.mean_ratio(E, sea_g[pts.region], sub)
        m.params["n_free"] = 2 * len(extras)
        out[name] = m
    return out
