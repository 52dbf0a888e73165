"""Extragalactic background light: proper photon densities n(eps, z) from `ebltable`.

Density models (ebltable's EBL files, `ebltable.ebl_from_model.EBL.readmodel`):

=================  ===================================================  ===========
model              reference                                           tau table
=================  ===================================================  ===========
dominguez          Dominguez et al. 2011, MNRAS 410, 2556 (default)     yes
dominguez-upper    its upper uncertainty                                yes
dominguez-lower    its lower uncertainty                                yes
franceschini       Franceschini et al. 2008, A&A 487, 837               yes
kneiske            Kneiske & Dole 2010, A&A 515, A19                    yes (+CMB)
saldana-lopez      Saldana-Lopez et al. 2021, MNRAS 507, 5144           yes
gilmore            Gilmore et al. 2012, MNRAS 422, 3189 (fiducial)      yes
gilmore-fixed      Gilmore et al. 2012 (fixed)                          yes
finke              Finke et al. 2010, ApJ 712, 238 (model C)            yes
finke2022          Finke et al. 2022, ApJ 941, 33 (model A)             yes
cuba               Haardt & Madau 2012, ApJ 746, 125 (UV/X-ray, <10 um) no
=================  ===================================================  ===========

ebltable's ``saldana-lopez-err`` is the model's 1-sigma error, not a density, and is not
offered. Models with only a tau table (``TAU_ONLY_MODELS``: inoue, the [C] "baseline"
of Inoue et al. 2013, with its pop-III variants; franceschini2017; saldana-lopez upper and
lower) can be used for absorption-only work through :func:`tau_from_table`; they have no
photon density, so no mean free path or cascade can be computed from them.

Conventions, as ebltable's own ``EBL.mean_free_path``: the files give nu I_nu versus the
wavelength at redshift z in comoving units for every model except gilmore, which is proper;
the proper density is the comoving one times (1 + z)^3. Below a model's lowest tabulated
redshift the lowest one is used (kneiske starts at z = 0.00104); outside its wavelength
range the density is zero (the CMB dominates beyond 1 mm; the UV beyond 0.1 um matters only
below ~10 GeV), where ebltable's own integrator extrapolates the spline. cuba (Haardt & Madau
2012) stops at 10 um: above ~5 TeV / (1 + z) it lacks the infrared targets.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from transport.core.constants import HC_EV_CM
from transport.core.errors import ArgumentError

#: Models for which ebltable ships a photon density (docs/physics.md, section 4).
DENSITY_MODELS = ("dominguez", "dominguez-upper", "dominguez-lower", "franceschini", "kneiske",
                  "saldana-lopez", "gilmore", "gilmore-fixed", "finke", "finke2022", "cuba")
#: Models that exist in ebltable only as optical-depth tables.
TAU_ONLY_MODELS = ("inoue", "inoue-low-pop3", "inoue-up-pop3", "franceschini2017",
                   "saldana-lopez-upper", "saldana-lopez-lower")
#: Density models whose tau table comes from the same authors (the cross-check).
TAU_TABLE_OF = {m: m for m in DENSITY_MODELS if m != "cuba"}
#: Default model (docs/physics.md, section 4).
DEFAULT_MODEL = "dominguez"
#: Models whose published tau table includes absorption on the CMB.
TAU_INCLUDES_CMB = ("kneiske",)


def check_model(model: str, allowed=DENSITY_MODELS, argument: str = "model") -> str:
    """Return ``model`` or raise ArgumentError naming the allowed models."""
    if model not in allowed:
        hint = ""
        if model in TAU_ONLY_MODELS and allowed is DENSITY_MODELS:
            hint = (f" ({model!r} ships only an optical-depth table in ebltable: use "
                    "montecarlo.fields.ebl.tau_from_table for absorption-only work)")
        raise ArgumentError(f"{argument} = {model!r} is not an EBL density model{hint}; "
                            f"allowed: {', '.join(allowed)}")
    return model


class EBLDensity:
    """Proper EBL photon density of one ebltable model.

    ``dn_deps(eps_eV, z)`` [cm^-3 eV^-1] (all directions), on the outer product of eps and z.
    """

    def __init__(self, model: str = DEFAULT_MODEL):
        from ebltable.ebl_from_model import EBL

        self.model = check_model(model)
        self._ebl = EBL.readmodel(self.model)
        lmu = 10.0 ** np.asarray(self._ebl.x)                 # wavelengths [micron]
        z = np.asarray(self._ebl.y)
        self.lambda_range_um = (float(lmu.min()), float(lmu.max()))
        self.eps_range_eV = (HC_EV_CM * 1e4 / self.lambda_range_um[1],
                             HC_EV_CM * 1e4 / self.lambda_range_um[0])
        self.z_range = (float(z.min()), float(z.max()))
        self.proper_in_file = self.model.startswith("gilmore")

    def dn_deps(self, eps_eV, z):
        """Proper photon density per unit energy [cm^-3 eV^-1], shape (n_eps, n_z).

        z must lie within the model's range (above it raises ArgumentError); eps outside the
        model's wavelength range gives 0.
        """
        eps = np.atleast_1d(np.asarray(eps_eV, dtype=float))
        zz = np.atleast_1d(np.asarray(z, dtype=float))
        if np.any(zz > self.z_range[1] + 1e-12) or np.any(zz < 0.0):
            raise ArgumentError(
                f"z = {zz.max() if np.any(zz > 0) else zz.min():g} is outside the EBL model "
                f"{self.model!r}: allowed 0 <= z <= {self.z_range[1]:g}")
        inside = (eps >= self.eps_range_eV[0]) & (eps <= self.eps_range_eV[1])
        out = np.zeros((eps.size, zz.size))
        if np.any(inside):
            zc = np.clip(zz, self.z_range[0], self.z_range[1])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                comoving = np.asarray(self._ebl.n_array(zc, eps[inside]), dtype=float)
            comoving = comoving.reshape(zz.size, eps[inside].size).T      # ebltable: (z, eps)
            out[inside] = comoving if self.proper_in_file else comoving * (1.0 + zz) ** 3
        return out


@lru_cache(maxsize=None)
def density(model: str = DEFAULT_MODEL) -> EBLDensity:
    """The (cached) density object of ``model``."""
    return EBLDensity(model)


@lru_cache(maxsize=None)
def _tau_table(model: str):
    from ebltable.tau_from_model import OptDepth
    return OptDepth.readmodel(model)


def tau_from_table(E_eV, z_source, model: str = "inoue"):
    """EBL optical depth from the authors' published tau table (ebltable ``OptDepth``).

    For absorption-only work with models that ship no density (``TAU_ONLY_MODELS``, e.g. the
    [C] baseline Inoue et al. 2013) and as the cross-check of our own integration.
    The tables assume h = 0.7, Omega_m = 0.3; kneiske's includes the CMB. Returns an array of
    E_eV's shape; raises ArgumentError outside the table's energy or redshift range.
    """
    allowed = tuple(TAU_TABLE_OF) + TAU_ONLY_MODELS
    check_model(model, allowed)
    table = _tau_table(model)
    E = np.asarray(E_eV, dtype=float)
    E_GeV = 10.0 ** np.asarray(table.x) if table._logx else np.asarray(table.x)
    z_tab = np.asarray(table.y)
    lo, hi = E_GeV.min() * 1e9, E_GeV.max() * 1e9
    if np.any(E < lo) or np.any(E > hi):
        raise ArgumentError(f"E_eV = {E.min():.3g}..{E.max():.3g} is outside the {model!r} "
                            f"tau table: allowed {lo:.3g} <= E_eV <= {hi:.3g}")
    if not 0.0 <= float(z_source) <= z_tab.max():
        raise ArgumentError(f"z_source = {z_source!r} is outside the {model!r} tau table: "
                            f"allowed 0 <= z_source <= {z_tab.max():g}")
    tau = np.asarray(table.opt_depth(float(z_source), E.ravel() / 1e12), dtype=float)
    return tau.reshape(E.shape)
