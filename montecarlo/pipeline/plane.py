"""The Galactic-plane stage of ``corona run``: the four [T] cases (uniform / SNR-like disk x
neutrino spectrum A / B) fitted to Tibet ASgamma regions A and B and compared with
LHAASO-KM2A ([T] eq. 5-12, Fig. 1-2), by :func:`montecarlo.galactic_plane.fits.fit_all_cases`.

Runs when galactic_plane.fit is true (the default). Its HDF5 group is the layout of
:func:`montecarlo.galactic_plane.fits.write_fits` (``galactic_plane/<distribution>_<spectrum>``);
:func:`load_plane` reads it back. The summary reports each case's chi^2 against Tibet (with its
degrees of freedom: the points minus the one fitted normalisation) and against LHAASO (no
free parameter), and the all-sky neutrino intensity the fit implies at 100 TeV.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transport.core.grid import log_grid

from montecarlo.galactic_plane import fits as gp
from montecarlo.pipeline.stages import Stage

#: Config the fits depend on: the disk emission ([T] eq. 1, 8-9, B7-B8) and the attenuation
#: of the line-of-sight averages over the Tibet and LHAASO regions.
PLANE_DEPENDS = ("galactic_plane", "disk", "galaxy", "distributions", "hadronic", "neutrino",
                 "emission", "observer", "fields", "dust", "opacity.dust_mode", "opacity.grid",
                 "opacity.path_segment_kpc", "sky.fields", "sky.attenuate")
#: Energy of the neutrino intensity in the summary [eV].
PLANE_NU_E_EV = 1e14


def _fields(cfg) -> tuple:
    return tuple(cfg.sky.fields) if cfg.sky.attenuate else ()


@dataclass
class PlaneFits:
    """The stage's result: the fitted cases and the fraction of the last Tibet bin used."""
    fits: list
    last_bin_fraction: float


def compute_plane(cfg, inputs, ctx) -> PlaneFits:
    g = cfg.galactic_plane
    fits = gp.fit_all_cases(cfg, log_grid(g.E_min_eV, g.E_max_eV, g.E_per_decade), _fields(cfg),
                            g.last_bin_fraction, progress=ctx.progress)
    return PlaneFits(fits, g.last_bin_fraction)


def save_plane(group, result: PlaneFits) -> None:
    gp.write_fits(group, result.fits, result.last_bin_fraction)


def load_plane(group, cfg=None) -> PlaneFits:
    """The :class:`PlaneFits` stored by :func:`save_plane`."""
    fits = []
    for sub in group["galactic_plane"].values():
        a = sub.attrs
        fit = gp.CaseFit(str(a["distribution"]), str(a["spectrum"]), float(a["norm"]),
                         float(a["chi2"]), int(a["dof"]), sub["E_eV"][()])
        fit.gamma = {k: v[()] for k, v in sub["gamma"].items()}
        fit.neutrino = {k: v[()] for k, v in sub["nu"].items()}
        fit.lhaaso_chi2 = {name: (float(a[f"lhaaso_{name}_chi2"]), int(a[f"lhaaso_{name}_points"]))
                           for name in ("inner", "outer") if f"lhaaso_{name}_chi2" in a}
        fit.tibet_neutrinos = {name: tuple(g[k][()] for k in ("E_eV", "intensity", "err_lo", "err_hi"))
                               for name, g in sub["nu_from_tibet"].items()}
        fits.append(fit)
    order = {case: k for k, case in enumerate(gp.CASES)}
    fits.sort(key=lambda f: order.get((f.distribution, f.spectrum), len(order)))
    return PlaneFits(fits, float(group["galactic_plane"].attrs["last_bin_fraction"]))


def case_name(fit) -> str:
    return f"{fit.distribution}_{fit.spectrum}"


def plane_summary(result: PlaneFits) -> dict:
    """Summary scalars per case: plane_<case>_{norm, chi2_tibet, dof_tibet, chi2_lhaaso_<region>,
    n_lhaaso_<region>, nu_all_sky_E2_100TeV} (the last in GeV cm^-2 s^-1 sr^-1)."""
    out = {}
    for f in result.fits:
        tag = f"plane_{case_name(f)}"
        out[f"{tag}_norm"] = f.norm
        out[f"{tag}_chi2_tibet"], out[f"{tag}_dof_tibet"] = f.chi2, f.dof
        for region, (chi2, n) in f.lhaaso_chi2.items():
            out[f"{tag}_chi2_lhaaso_{region}"], out[f"{tag}_n_lhaaso_{region}"] = chi2, n
        E, nu = f.E_eV, f.neutrino["all_sky"]
        value = np.exp(np.interp(np.log(PLANE_NU_E_EV), np.log(E), np.log(np.maximum(nu, 1e-300))))
        out[f"{tag}_nu_all_sky_E2_100TeV"] = PLANE_NU_E_EV ** 2 * value / 1e9
    return out


def plane_stage(cfg) -> Stage:
    return Stage("galactic_plane", PLANE_DEPENDS, (), compute_plane, save_plane, load_plane,
                 guard=lambda result: {f"{case_name(f)}/gamma/{r}": v for f in result.fits
                                       for r, v in f.gamma.items()},
                 enabled=lambda c: bool(c.galactic_plane.fit),
                 description="[T] Galactic-plane models fitted to Tibet ASgamma, compared with LHAASO")
