"""Pair-production opacity: mean free paths and optical depths along Galactic and
cosmological paths (docs/physics.md, section 4; [T] eq. 2-4; [C] Sec. III-IV).

- Galactic straight paths from a source at (l, b, d) to the Sun: tau = Integral ds 1/lambda
  [T, eq. 3], with the gamma ray moving along u = (x_sun - x_source)/d; the uniform
  fields (CMB, EBL and tabulated at z = 0) contribute d / lambda, the dust its tabulated
  direction-dependent (or angle-averaged) rate integrated by composite Gauss-Legendre in a
  numba kernel. Survival probability P = exp(-tau) [T, eq. 4].
- Cosmological paths: tau(E0, z_s) = Integral_0^z_s dz c / ((1 + z) H(z)) 1/lambda(E0 (1 + z), z),
  flat LambdaCDM from [cosmology] (astropy; no radiation term, as ebltable's tables).

Public functions take ``config=None`` (the bundled default), a Config, a TOML path or a
mapping; the tables they need are built on first use and cached (:mod:`montecarlo.opacity.ratetables`).
"""
from __future__ import annotations

import difflib
import math
import sys
import threading
from collections import OrderedDict
from functools import cached_property

import numpy as np

from transport.core.config import Config, load_config
from transport.core.constants import KPC_CM
from transport.core.errors import ArgumentError
from transport.core.progress import notes_enabled

from montecarlo.opacity import ratetables
from montecarlo.fields import FIELD_NAMES, ISOTROPIC_FIELDS
from montecarlo.geometry import galactocentric_from_lbd, sun_position_kpc
from montecarlo.fields import ebl as ebl_field

#: Config sections the opacity depends on (the in-process cache key).
SECTIONS = ("observer", "fields", "dust", "opacity", "cosmology")


def check_fields(fields, allowed=FIELD_NAMES, argument: str = "fields") -> tuple:
    """Normalise a ``fields=`` argument to a tuple of known names (a string is read as a
    comma-separated list); unknown names raise ArgumentError with the allowed ones."""
    if isinstance(fields, str):
        fields = tuple(f.strip() for f in fields.split(",") if f.strip())
    try:
        names = tuple(dict.fromkeys(fields))
    except TypeError:
        raise ArgumentError(f"{argument} = {fields!r} is not allowed: expected a tuple of "
                            f"field names from {', '.join(allowed)}") from None
    for name in names:
        if name not in allowed:
            close = difflib.get_close_matches(str(name), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            extra = ""
            if name == "dust" and "dust" not in allowed:
                extra = ("; the dust field is anisotropic and position dependent: use "
                         "survival_probability or optical_depth_galactic")
            raise ArgumentError(f"{argument} = {fields!r}: unknown field {name!r}{hint}; "
                                f"allowed: {', '.join(allowed)}{extra}")
    return names


def _check_finite(value, argument, lo=None, hi=None):
    arr = np.asarray(value, dtype=float)
    bad = ~np.isfinite(arr)
    if lo is not None:
        bad |= arr < lo
    if hi is not None:
        bad |= arr > hi
    if np.any(bad):
        rng = []
        if lo is not None:
            rng.append(f">= {lo:g}")
        if hi is not None:
            rng.append(f"<= {hi:g}")
        shown = f"{float(arr[bad].ravel()[0]):g}"
        raise ArgumentError(f"{argument} = {shown} is not allowed: expected a finite number "
                            + " and ".join(rng))
    return arr


def _check_scalar(value, argument, lo=None, hi=None) -> float:
    """A single finite number (ArgumentError for arrays, NaN or out of range)."""
    if np.ndim(value) != 0:
        raise ArgumentError(f"{argument} = {value!r} is not allowed: expected a single number "
                            "(one direction or redshift per call; energies may be arrays)")
    return float(_check_finite(value, argument, lo, hi))


def _auto_progress(progress):
    """progress=None: bars on a terminal, and on the command line (under mpirun stderr is a pipe)."""
    return (sys.stderr.isatty() or notes_enabled()) if progress is None else bool(progress)


class Opacity:
    """Rate tables of one configuration and the optical depths computed from them."""

    def __init__(self, config=None, progress=None):
        self.config = config if isinstance(config, Config) else load_config(config)
        self.progress = _auto_progress(progress)
        self._tables = {}
        self._lock = threading.RLock()        # one build per table, whatever the threads

    def _table(self, name, build):
        with self._lock:
            if name not in self._tables:
                self._tables[name] = build()
            return self._tables[name]

    # ----------------------------------------------------------------- tables
    @property
    def cmb(self) -> ratetables.IsotropicRateTable:
        return self._table("cmb", lambda: ratetables.cmb_table(self.config, self.progress))

    def ebl(self, model=None) -> ratetables.IsotropicRateTable:
        model = ebl_field.check_model(model or self.config.fields.ebl_model)
        return self._table(f"ebl:{model}",
                           lambda: ratetables.ebl_table(self.config, model, self.progress))

    @property
    def tabulated(self) -> ratetables.IsotropicRateTable:
        return self._table("tabulated", lambda: ratetables.tabulated_table(self.config, self.progress))

    @property
    def dust(self) -> ratetables.DustRateTable:
        return self._table("dust", lambda: ratetables.dust_table(self.config, self.progress))

    @cached_property
    def cosmology(self):
        from astropy.cosmology import FlatLambdaCDM
        c = self.config.cosmology
        return FlatLambdaCDM(H0=c.H0_km_s_Mpc, Om0=c.Omega_m, Tcmb0=0.0)

    # ----------------------------------------------------------------- isotropic rates
    def rate_isotropic_per_cm(self, E_eV, fields=("cmb",), z=0.0, ebl_model=None):
        """Proper 1/lambda [cm^-1] of photons of local energy E at redshift z in isotropic
        fields (cmb, ebl, tabulated); fields=() gives 0."""
        names = check_fields(fields, ISOTROPIC_FIELDS)
        E = ratetables.check_energies(E_eV)
        z = _check_scalar(z, "z", lo=0.0)
        rate = np.zeros_like(E)
        for name in names:
            if name == "cmb":
                E1 = E * (1.0 + z)
                ratetables.check_energies(E1, "E_eV * (1 + z)")
                rate = rate + (1.0 + z) ** 3 * self.cmb.rate_per_cm(E1)
            elif name == "ebl":
                rate = rate + self.ebl(ebl_model).rate_per_cm(E, z)
            else:
                rate = rate + self.tabulated.rate_per_cm(E, z)
        return rate

    def mean_free_path_kpc(self, E_eV, fields=("cmb",), z=0.0, ebl_model=None):
        """Proper mean free path [kpc]; infinite where the rate is zero."""
        rate = self.rate_isotropic_per_cm(E_eV, fields, z, ebl_model) * KPC_CM
        with np.errstate(divide="ignore"):
            return np.where(rate > 0.0, 1.0 / np.where(rate > 0.0, rate, 1.0), np.inf)

    # ----------------------------------------------------------------- local rates
    def rate_per_kpc(self, E_eV, x_kpc, u, fields=("cmb", "dust")):
        """1/lambda [kpc^-1] at Galactocentric points x (N, 3) for photons moving along u
        (N, 3), at energies E: shape (n_E, N). Uniform fields at z = 0; the dust from its
        table in opacity.dust_mode."""
        names = check_fields(fields, FIELD_NAMES)
        E = ratetables.check_energies(np.atleast_1d(E_eV)).ravel()
        x = np.atleast_2d(np.asarray(x_kpc, dtype=float))
        rate = np.zeros((E.size, x.shape[0]))
        uniform = tuple(n for n in names if n != "dust")
        if uniform:
            rate += (self.rate_isotropic_per_cm(E, uniform, 0.0) * KPC_CM)[:, None]
        if "dust" in names:
            # energies where even the largest dust rate gives tau < 1e-9 over 1 Mpc are skipped
            live = self.dust.max_rate_per_kpc(E) * 1e3 > 1e-9
            if np.any(live):
                rate[live] += self.dust.rate_per_kpc(x, u, E[live], self.config.opacity.dust_mode).T
        return rate

    # ----------------------------------------------------------------- cosmological paths
    def dl_dz_kpc(self, z):
        """Proper distance per unit redshift c / ((1 + z) H(z)) [kpc]."""
        z = np.asarray(z, dtype=float)
        hubble_kpc = 299792.458 / self.config.cosmology.H0_km_s_Mpc * 1e3
        return hubble_kpc / ((1.0 + z) * self.cosmology.efunc(z))

    def optical_depth_cosmological(self, E_eV, z_source, fields=("ebl", "cmb"), ebl_model=None,
                                   dz_segment=0.05, order=8):
        """tau(E0, z_s) for photons observed at E0 from a source at z_s (module docstring),
        composite Gauss-Legendre in z (segments <= dz_segment, ``order`` nodes each)."""
        names = check_fields(fields, ISOTROPIC_FIELDS)
        E = ratetables.check_energies(E_eV)
        zs = _check_scalar(z_source, "z_source", lo=0.0)
        if "ebl" in names:
            zmax = self.ebl(ebl_model).z[-1]
            if zs > zmax:
                raise ArgumentError(f"z_source = {z_source!r} is outside the EBL model "
                                    f"{self.ebl(ebl_model).name!r}: allowed 0 <= z_source <= {zmax:g}")
        if np.any(E * (1.0 + zs) > ratetables.E_MAX_EV):
            raise ArgumentError(f"E_eV = {E.max():g} at z_source = {zs:g} needs rates above "
                                f"{ratetables.E_MAX_EV:g} eV: allowed E_eV <= "
                                f"{ratetables.E_MAX_EV / (1.0 + zs):.4g}")
        if zs == 0.0 or not names:
            return np.zeros_like(E)
        n_seg = max(1, math.ceil(zs / dz_segment))
        gx, gw = np.polynomial.legendre.leggauss(order)
        h = zs / n_seg
        z_nodes = ((np.arange(n_seg)[:, None] + 0.5 + 0.5 * gx[None, :]) * h).ravel()
        weights = np.tile(0.5 * h * gw, n_seg) * self.dl_dz_kpc(z_nodes) * KPC_CM
        tau = np.zeros(E.size)
        for zn, wn in zip(z_nodes, weights):
            tau += wn * self.rate_isotropic_per_cm(E.ravel() * (1.0 + zn), names, zn, ebl_model)
        return tau.reshape(E.shape)

    # ----------------------------------------------------------------- Galactic paths
    def optical_depth_paths(self, starts_kpc, end_kpc, E_eV, fields=("cmb", "dust")):
        """tau along straight Galactocentric paths starts (n, 3) -> end (3,) at energies E:
        (n, n_E). Uniform fields: length / lambda(E, z = 0); dust: the tabulated rate."""
        names = check_fields(fields, FIELD_NAMES)
        E = ratetables.check_energies(np.atleast_1d(E_eV)).ravel()
        starts = np.atleast_2d(np.asarray(starts_kpc, dtype=float))
        end = np.asarray(end_kpc, dtype=float)
        length_cm = np.linalg.norm(starts - end, axis=1) * KPC_CM
        tau = np.zeros((starts.shape[0], E.size))
        uniform = tuple(n for n in names if n != "dust")
        if uniform:
            tau += length_cm[:, None] * self.rate_isotropic_per_cm(E, uniform, 0.0)[None, :]
        if "dust" in names:
            ends = np.broadcast_to(end, starts.shape)
            tau += self.dust.tau(starts, ends, E, self.config.opacity.dust_mode,
                                 self.config.opacity.path_segment_kpc)
        return tau

    def optical_depth_galactic(self, E_eV, l_deg, b_deg, distance_kpc, fields=("cmb", "dust")):
        """tau for a source at Galactic (l, b) and distance d [kpc] seen from the Sun; the
        result has the shape of E_eV, with the shape of distance_kpc prepended if it is an
        array (several distances along one direction)."""
        E = ratetables.check_energies(E_eV)
        l = _check_scalar(l_deg, "l_deg")
        b = _check_scalar(b_deg, "b_deg", lo=-90.0, hi=90.0)
        d = _check_finite(distance_kpc, "distance_kpc", lo=0.0)
        r_sun = self.config.observer.r_sun_kpc
        starts = galactocentric_from_lbd(l, b, d.ravel(), r_sun)
        tau = self.optical_depth_paths(starts, sun_position_kpc(r_sun), E.ravel(), fields)
        return tau.reshape(d.shape + E.shape)

    def survival_probability(self, E_eV, l_deg, b_deg, distance_kpc, fields=("cmb", "dust")):
        """exp(-tau) for a source at (l, b, d) seen from the Sun [T, eq. 4]."""
        return np.exp(-self.optical_depth_galactic(E_eV, l_deg, b_deg, distance_kpc, fields))


#: Opacities kept in memory (least recently used first out): each holds its rate tables
#: (~60 MB for the fine dust table), so parameter scans do not accumulate them.
_CACHE_SIZE = 4
_CACHE: "OrderedDict[str, Opacity]" = OrderedDict()
_CACHE_LOCK = threading.Lock()


def opacity_for(config=None, progress=None) -> Opacity:
    """The (per-process cached, thread-safe) Opacity of a configuration."""
    cfg = config if isinstance(config, Config) else load_config(config)
    key = cfg.digest(sections=SECTIONS)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = Opacity(cfg, progress)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        elif progress is not None:
            _CACHE[key].progress = bool(progress)
        _CACHE.move_to_end(key)
        return _CACHE[key]


# --------------------------------------------------------------------------- public API
def mean_free_path_kpc(E_eV, fields=("cmb",), z=0.0, config=None, ebl_model=None):
    """Proper mean free path [kpc] of a photon of local energy E_eV at redshift z in the
    isotropic fields named (``"cmb"``, ``"ebl"``, ``"tabulated"``); ``fields=()`` gives inf.

    Vectorised over E_eV (1e9-1e20 eV). Bad input raises ArgumentError (a ValueError).
    """
    return opacity_for(config).mean_free_path_kpc(E_eV, fields, z, ebl_model)


def optical_depth_ebl(E_eV, z_source, model=None, config=None):
    """EBL optical depth for photons observed at E_eV from a source at z_source, from our
    integration of the ebltable photon density of ``model`` (default fields.ebl_model,
    Dominguez et al. 2011) over the line of sight (cosmology from [cosmology])."""
    return opacity_for(config).optical_depth_cosmological(E_eV, z_source, ("ebl",), model)


def optical_depth_cosmological(E_eV, z_source, fields=("ebl", "cmb"), model=None, config=None):
    """Optical depth from redshift z_source in the isotropic fields named (EBL + CMB)."""
    return opacity_for(config).optical_depth_cosmological(E_eV, z_source, fields, model)


def optical_depth_galactic(E_eV, l_deg, b_deg, distance_kpc, fields=("cmb", "dust"),
                           config=None):
    """Optical depth for a Galactic source at (l, b) [deg] and distance_kpc from the Sun."""
    return opacity_for(config).optical_depth_galactic(E_eV, l_deg, b_deg, distance_kpc, fields)


def survival_probability(E_eV, l_deg, b_deg, distance_kpc, fields=("cmb", "dust"), config=None):
    """Probability that a gamma ray of energy E_eV from a source at Galactic longitude l,
    latitude b [deg] and distance_kpc from the Sun reaches the Sun without pair-producing
    [T, eq. 3-4]. fields: any of "cmb", "dust", "ebl", "tabulated"; () = no attenuation.
    Vectorised over E_eV; bad input raises ArgumentError (a ValueError)."""
    return opacity_for(config).survival_probability(E_eV, l_deg, b_deg, distance_kpc, fields)
