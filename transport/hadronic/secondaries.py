"""Emissivity of gamma rays and neutrinos from pp collisions [C, eq. 6; T, eq. 1].

    q_i(E) = A n_gas c Integral dE_p j(E_p) sigma_inel(E_p) dN_i/dE(E_p, E)

with j the proton density spectrum [cm^-3 eV^-1], sigma_inel the one cross-section of
:mod:`transport.hadronic.cross_section` (shared with the transport losses), dN_i/dE the secondaries per
collision of :mod:`transport.hadronic.yields` and A the optional nuclear enhancement factor
(``hadronic.nuclear_enhancement``, default 1). Particles (docs/physics.md, section 3): "gamma";
"nu" = all flavours, neutrinos plus antineutrinos; "nu_e", "nu_mu", "nu_tau" = neutrino plus
antineutrino of one flavour at Earth after oscillations averaged over astrophysical distances
(:mod:`transport.hadronic.neutrino_mixing`).

Quadrature: the proton spectrum is interpolated linearly in (ln E, ln j) onto nodes at most
0.02 in log10 E apart (every input energy is a node) and integrated with the trapezoidal rule
in ln E_p; for the "aafrag" model the integral is split at 4 GeV, where the yields switch from
Kafexhiu 2014 / Kamae 2006 to the AAfrag tables. The per-node yield matrices are cached per
(model, channel, nodes, energies), so repeated calls on one grid cost a matrix product.
"""
from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from transport.hadronic import yields
from transport.core.constants import C_CM_S
from transport.core.errors import ArgumentError
from transport.core.grid import loglog_resample
from transport.hadronic.cross_section import sigma_inel_cm2
from transport.hadronic.neutrino_mixing import FLAVOURS, averaged_transition_matrix
from transport.core.config import load_config

#: Particles an emissivity can be asked for.
PARTICLES = ("gamma", "nu", "nu_e", "nu_mu", "nu_tau")

#: Largest node spacing of the E_p quadrature [decades].
MAX_NODE_SPACING_DEX = 0.02

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 64


@lru_cache(maxsize=None)
def _default_sections():
    cfg = load_config()
    return cfg.hadronic, cfg.neutrino


def check_particle(particle: str) -> str:
    """``particle`` if it is one of PARTICLES, else ArgumentError listing them."""
    if particle not in PARTICLES:
        raise ArgumentError(f"particle = {particle!r} is not allowed: expected one of "
                            + ", ".join(f'"{p}"' for p in PARTICLES))
    return particle


def channel_weights(particle: str, neutrino: Mapping | None = None) -> dict[str, float]:
    """Weights of the source channels ("gamma", "nu_e", "nu_mu") making up ``particle``.

    "nu" sums all flavours (oscillations conserve it); "nu_beta" at Earth is
    P(e -> beta) nu_e + P(mu -> beta) nu_mu with the averaged transition matrix P.
    """
    if particle == "gamma":
        return {"gamma": 1.0}
    if particle == "nu":
        return {"nu_e": 1.0, "nu_mu": 1.0}
    check_particle(particle)
    P = averaged_transition_matrix(neutrino if neutrino is not None else _default_sections()[1])
    beta = FLAVOURS.index(particle.split("_", 1)[1])
    return {"nu_e": float(P[0, beta]), "nu_mu": float(P[1, beta])}


def check_model_particle(model: str, particle: str) -> yields.YieldModel:
    """The yield model, after checking that it exists and provides ``particle``."""
    if model not in yields.MODELS:
        raise ArgumentError(f"model = {model!r} is not allowed: expected one of "
                            + ", ".join(f'"{m}"' for m in yields.MODELS))
    check_particle(particle)
    spec = yields.MODELS[model]
    if particle != "gamma" and "nu_e" not in spec.channels:
        raise ArgumentError(f"particle = {particle!r} is not available from model = {model!r}, "
                            'which gives photons only: use particle = "gamma" or another model')
    return spec


def pp_emissivity(E_p_eV, j_p, n_gas_cm3, E_eV, particle="gamma", model="aafrag", *,
                  hadronic: Mapping | None = None, neutrino: Mapping | None = None):
    """Emissivity q [cm^-3 s^-1 eV^-1] of ``particle`` at energies E_eV from protons with
    density spectrum j_p [cm^-3 eV^-1] sampled at total energies E_p_eV, in gas of density
    n_gas_cm3 [C, eq. 6].

    E_p_eV: (n_p,) ascending. j_p: (n_p,) or (n_p, N) (N spectra, e.g. one per radius), zero
    outside [E_p_eV[0], E_p_eV[-1]]. n_gas_cm3: scalar or (N,). E_eV: scalar or (n_E,), inside
    the model's secondary range (1e9 eV up to its highest primary energy; kelner2006 from
    1e11 eV). particle: "gamma", "nu" (all flavours, nu + anti-nu) or "nu_e", "nu_mu",
    "nu_tau" (per flavour at Earth). model: "aafrag", "kafexhiu2014" (photons only),
    "kamae2006", "kelner2006". hadronic / neutrino: the ``[hadronic]`` (sigma_inel,
    sigma_const_mb, nuclear_enhancement) and ``[neutrino]`` (mixing) config sections, the
    bundled defaults if None.

    Returns q of shape E_eV.shape + j_p.shape[1:]. Raises ArgumentError for unknown names,
    negative or non-finite inputs, energies outside the yield tables, or a proton spectrum
    that is non-zero above the model's highest primary energy.
    """
    spec = check_model_particle(model, particle)
    hadronic = hadronic if hadronic is not None else _default_sections()[0]
    E_p, j, n = _check_spectrum(E_p_eV, j_p, n_gas_cm3)
    E = _check_secondary(E_eV, spec)
    top = spec.primary_max_eV * (1 + 1e-9)
    beyond = E_p > top
    if np.any(beyond) and np.any(j[beyond] != 0.0):
        raise ArgumentError(
            f"j_p is non-zero up to E_p_eV = {E_p[beyond][-1]:.4g}, beyond the highest primary "
            f"energy of model = {model!r} ({spec.primary_max_eV:.4g} eV): cut the spectrum there "
            "(j_p = 0 above it) or use a model that covers it")
    shape = np.shape(E_eV) + j.shape[1:]
    E_p, j = E_p[~beyond], j[~beyond]
    if E_p.size < 2:                                  # the whole (zero) spectrum is beyond
        return np.zeros(shape)
    nodes, matrix = emissivity_matrix(E_p, E, particle, model, hadronic=hadronic, neutrino=neutrino)
    q = (matrix @ loglog_resample(E_p, j, nodes, axis=0)) * n
    return q.reshape(shape)


def emissivity_matrix(E_p_eV, E_eV, particle="gamma", model="aafrag", *,
                      hadronic: Mapping | None = None, neutrino: Mapping | None = None):
    """The linear operator behind :func:`pp_emissivity`: (nodes [eV], M [cm^3 s^-1]) with

        q(E_i) = n_gas sum_k M[i, k] j(nodes_k),   M[i, k] = A c w_k sigma_inel(E_k) dN/dE(E_k, E_i),

    j interpolated onto the quadrature nodes linearly in (ln E, ln j) (transport.core.grid.
    loglog_resample), w_k the trapezoid weights in ln E_p (module docstring). E_p_eV: ascending
    proton energies up to the model's highest primary energy; E_eV: secondary energies inside
    the yield tables (as for pp_emissivity). Cached: repeated calls cost a matrix sum."""
    spec = check_model_particle(model, particle)
    E_p = np.ascontiguousarray(E_p_eV, dtype=float)
    if (E_p.ndim != 1 or E_p.size < 2 or not np.all(np.diff(E_p) > 0) or E_p[0] <= 0
            or E_p[-1] > spec.primary_max_eV * (1 + 1e-9)):
        raise ArgumentError(f"E_p_eV must be at least 2 ascending energies up to {spec.primary_max_eV:.4g} "
                            f"eV (the top of model = {model!r})")
    E = _check_secondary(E_eV, spec)
    hadronic = hadronic if hadronic is not None else _default_sections()[0]
    weights = channel_weights(particle, neutrino)
    matrix = sum(w * _weighted_matrix(model, ch, E_p, E, hadronic)
                 for ch, w in weights.items() if w != 0.0)
    nodes = np.concatenate([n for _, n, _ in quadrature_nodes(E_p, model)])
    return nodes, C_CM_S * hadronic.get("nuclear_enhancement", 1.0) * matrix


# --------------------------------------------------------------------------- checks
def _as_floats(name, value):
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} = {value!r} is not allowed: expected numbers") from None


def _check_spectrum(E_p_eV, j_p, n_gas_cm3):
    E_p = _as_floats("E_p_eV", E_p_eV)
    if E_p.ndim != 1 or E_p.size < 2:
        raise ArgumentError(f"E_p_eV has shape {E_p.shape}: expected a 1-D array of at least "
                            "2 proton energies")
    if not (np.all(np.isfinite(E_p)) and np.all(E_p > 0) and np.all(np.diff(E_p) > 0)):
        raise ArgumentError(f"E_p_eV = [{E_p[0]:.4g} ... {E_p[-1]:.4g}] is not allowed: "
                            "expected finite, positive, strictly increasing energies [eV]")
    j = _as_floats("j_p", j_p)
    if j.ndim not in (1, 2) or j.shape[0] != E_p.size:
        raise ArgumentError(f"j_p has shape {j.shape}: expected ({E_p.size},) or ({E_p.size}, N) "
                            "to match E_p_eV")
    if not np.all(np.isfinite(j)) or np.any(j < 0):
        bad = float(j[~np.isfinite(j) | (j < 0)].ravel()[0])
        raise ArgumentError(f"j_p contains {bad:g}: expected finite values >= 0 [cm^-3 eV^-1]")
    n = _as_floats("n_gas_cm3", n_gas_cm3)
    if not np.all(np.isfinite(n)) or np.any(n < 0):
        bad = float(n[~np.isfinite(n) | (n < 0)].ravel()[0])
        raise ArgumentError(f"n_gas_cm3 contains {bad:g}: expected finite values >= 0 [cm^-3]")
    columns = j.shape[1:]
    if n.ndim > 1 or (n.ndim == 1 and (not columns or n.size != columns[0])):
        raise ArgumentError(f"n_gas_cm3 has shape {n.shape}: expected a scalar or shape "
                            f"{columns or '(N,)'} matching the columns of j_p")
    return E_p, j, n


def _check_secondary(E_eV, spec):
    E = np.atleast_1d(_as_floats("E_eV", E_eV))
    if E.ndim != 1:
        raise ArgumentError(f"E_eV has shape {np.shape(E_eV)}: expected a scalar or a 1-D array")
    lo, hi = spec.secondary_min_eV, spec.secondary_max_eV
    bad = ~np.isfinite(E) | (E < lo * (1 - 1e-9)) | (E > hi * (1 + 1e-9))
    if np.any(bad):
        raise ArgumentError(
            f"E_eV = {E[bad][0]:.4g} is outside the yield tables of model = {spec.name!r}: "
            f"expected {lo:.4g} <= E_eV <= {hi:.4g}")
    return E


# --------------------------------------------------------------------------- quadrature
def quadrature_nodes(E_p_eV, model: str):
    """Nodes and trapezoid weights in ln E_p, per piece of the primary range with one yield
    provider: a list of (provider, nodes [eV], weights E_p dlnE_p [eV])."""
    E_p = np.ascontiguousarray(E_p_eV, dtype=float)
    key = ("nodes", model, MAX_NODE_SPACING_DEX, hashlib.sha1(E_p.tobytes()).hexdigest())
    if key not in _CACHE:
        _remember(key, _quadrature_nodes(E_p, model))
    return _CACHE[key]


def _quadrature_nodes(E_p, model):
    pieces = []
    for a, b, provider in yields.segments(model, E_p[0], E_p[-1]):
        knots = np.unique(np.concatenate([[a, b], E_p[(E_p > a) & (E_p < b)]]))
        nodes = [knots[:1]]
        for lo, hi in zip(knots[:-1], knots[1:]):
            n = max(1, math.ceil(math.log10(hi / lo) / MAX_NODE_SPACING_DEX - 1e-9))
            nodes.append(np.geomspace(lo, hi, n + 1)[1:])
        nodes = np.concatenate(nodes)
        u = np.log(nodes)
        w = np.zeros_like(u)
        if u.size > 1:
            w[:-1] += 0.5 * np.diff(u)
            w[1:] += 0.5 * np.diff(u)
        pieces.append((provider, nodes, w * nodes))
    return pieces


def _weighted_matrix(model, channel, E_p, E, hadronic):
    """M[i, k] = weight_k sigma_inel(E_k) dN/dE(E_k, E_i) [cm^2], columns over all nodes."""
    blocks = []
    for provider, nodes, w in quadrature_nodes(E_p, model):
        dN = _cached_dN_dE(provider, channel, nodes, E)          # (n_nodes, n_E)
        blocks.append((dN * (w * sigma_inel_cm2(nodes, hadronic))[:, None]).T)
    return np.concatenate(blocks, axis=1)


def _cached_dN_dE(provider, channel, nodes, E):
    key = (provider, channel, hashlib.sha1(nodes.tobytes()).hexdigest(),
           hashlib.sha1(E.tobytes()).hexdigest())
    if key not in _CACHE:
        _remember(key, yields.PROVIDERS[provider](channel, nodes, E))
    return _CACHE[key]


def _remember(key, value):
    """Store in the bounded least-recently-used cache of node sets and yield matrices."""
    _CACHE[key] = value
    _CACHE.move_to_end(key)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
