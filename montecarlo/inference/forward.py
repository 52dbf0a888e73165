"""The fit's forward model: the corona's sky products and cosmic-ray flux at the Sun, and the
Galactic-plane models in the data regions, for a base configuration with parameter values
(docs/fit.md, "Forward model").

The corona chain is linear in the source amplitude A(E) = Q0 (E/1 GeV)^-alpha exp(-E/E_cut)
at every step, so with the unit response G(E_p, r) of the transport
(:class:`transport.cosmicrays.solver.UnitResponse`), the pp emissivity operator M
(:func:`transport.hadronic.secondaries.emissivity_matrix`) and the sky kernels K
(:mod:`montecarlo.pipeline.response`), every sky product is

    P(E) = sum_k K_P(E, rho_k) n_gas(rho_k) sum_i M(E, E_i) s(E_i) G(E_i, rho_k),      (1)

E_i the quadrature nodes of the proton energy, rho_k the kernels' radial nodes, s the source
amplitude interpolated onto the nodes in (ln E, ln A) exactly as the emissivity interpolates
j = A G (so (1) is the chain of `corona scan`'s fast path, evaluated at the sky energies
instead of interpolating an emission table between its energies). A parameter point that
changes only the source spectrum or its amplitude reuses G: after two such points the
contraction over rho_k is done once, R_P(E, E_i) = M(E, E_i) sum_k K_P n_gas G, and a point
costs one matrix-vector product per particle. Any other parameter solves the transport for
unit injection once per point (~23 ms).

The sky kernels are built once, for the base configuration's radial nodes: a point whose gas
profile moves the kink where the two beta profiles cross evaluates its emissivity at the
base's nodes (a kink between two nodes 1/160 decade apart), and parameters that change the sky
itself (observer, fields, sky settings) cannot be fitted (:func:`check_parameter`).
"""
from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from transport.core.config import Config
from transport.core.grid import loglog_resample
from transport.cosmicrays.gas import corona_density
from transport.cosmicrays.normalization import Normalization, proton_intensity
from transport.cosmicrays.solver import UnitResponse, unit_response, unit_response_key
from transport.emission.registry import build_emission
from transport.emission.tables import SphericalEmission
from transport.hadronic.secondaries import emissivity_matrix
from transport.hadronic.yields import MODELS as YIELD_MODELS

from montecarlo.cascade.extragalactic import Universe, xi
from montecarlo.inference.priors import FitError
from montecarlo.pipeline.response import products_from, response_kernels, shell_radii
from montecarlo.pipeline.run import loglog_at, summarise
from montecarlo.sky.analysis import region_intensity

#: Parameters that need no new transport solve (the source spectrum and its amplitude).
SOURCE_KEYS = ("source.alpha", "source.E_cut_eV", "normalization.Q0_cm3_s_eV")
#: Sections of the Galactic-plane models (they do not touch the corona).
PLANE_SECTIONS = ("disk", "extra1", "extra2", "cocoons", "galaxy", "distributions")
#: What may be a fit parameter: section -> keys (None: every numeric key of the section).
PARAMETER_KEYS = {"source": ("alpha", "E_cut_eV", "r_Q_kpc"),
                  "normalization": ("Q0_cm3_s_eV",), "gas": None, "diffusion": None,
                  "hadronic": ("sigma_const_mb", "nuclear_enhancement"), "neutrino": None,
                  **{s: None for s in PLANE_SECTIONS}}
#: Derived quantities stored for every posterior sample (names of :func:`summarise`).
DERIVED = ("nu_icecube_frac_100TeV", "gamma_igrb_frac_1GeV", "gamma_igrb_frac_10GeV",
           "gamma_igrb_frac_100GeV", "dipole_gamma_1TeV", "dipole_gamma_1PeV", "dipole_nu_1TeV",
           "dipole_nu_1PeV", "xi_1TeV", "xi_1PeV", "Q0_cm3_s_eV")
#: Energies of xi [eV] (the summary's, docs/physics.md section 6).
XI_E_EV = (1e12, 1e15)
#: Parameter points (configs) and transport states kept per process; plane-model spectra.
MEMO_SIZE = 4
PLANE_MEMO_SIZE = 64


def check_parameter(name: str) -> None:
    """FitError unless config key ``name`` can be a fit parameter."""
    section, _, key = name.partition(".")
    if section in PARAMETER_KEYS and (PARAMETER_KEYS[section] is None or key in PARAMETER_KEYS[section]):
        return
    raise FitError(f"fit.parameters.{name}: this key cannot be fitted (it changes the grids or "
                   "the sky kernels of the fast evaluation); fittable: "
                   + ", ".join(f"{s}.{k}" if k else f"{s}.*" for s, ks in PARAMETER_KEYS.items()
                               for k in (ks or ("",))))


@dataclass
class Prediction:
    """What the data sets compare with: the corona's sky products at the sky energies (rows of
    the response kernels, ``names``: all-sky average, dipole vector, regions; gamma rays
    attenuated, all-flavour neutrinos), the proton intensity at the Sun on the transport grid,
    the source amplitude and normalisation, and (``full``) the neutrino emissivity for xi."""
    E_eV: np.ndarray
    names: tuple
    rows: dict                                    # particle -> (n_products, n_E)
    cr_E_eV: np.ndarray
    cr_flux: np.ndarray
    Q0_cm3_s_eV: float
    normalization: Normalization | None
    config: Config
    nu_emission: SphericalEmission | None = None
    plane: dict = field(default_factory=dict)     # region -> (E_eV, plane-model photon intensity)

    def row(self, particle: str, name: str) -> np.ndarray:
        return self.rows[particle][self.names.index(name)]

    @property
    def gamma(self) -> dict:
        """Products of the gamma rays (:func:`montecarlo.pipeline.response.products_from`)."""
        return products_from(self.names, self.rows["gamma"])

    @property
    def nu(self) -> dict:
        return products_from(self.names, self.rows["nu"])

    def quantity(self, name: str) -> np.ndarray:
        """A spectrum at the sky energies by name: gamma_all_sky, nu_all_sky, gamma_dipole,
        nu_dipole (amplitudes) or regions/<region> (corona gamma rays averaged over a region)."""
        particle, _, what = name.partition("_")
        if name in ("gamma_all_sky", "nu_all_sky"):
            return self.row(particle, "all_sky")
        if name in ("gamma_dipole", "nu_dipole"):
            return products_from(self.names, self.rows[particle])["dipole_amplitude"]
        if name.startswith("regions/") and f"region:{name[8:]}" in self.names:
            return self.row("gamma", f"region:{name[8:]}")
        raise FitError(f"mock quantity {name!r} is not known: expected one of "
                       f"{', '.join(quantity_names(self.names))}")

    def region_gamma(self, region: str, E_eV) -> np.ndarray:
        """Photon intensity in a region at energies E_eV: the corona (interpolated in
        (ln E, ln I) between sky energies) plus the Galactic-plane models."""
        values = self.row("gamma", f"region:{region}")
        corona = np.array([loglog_at(self.E_eV, values, e) for e in E_eV])
        plane = self.plane.get(region)
        return corona if plane is None else corona + plane[1]

    def summary(self) -> dict:
        """The derived quantities (:data:`DERIVED`): the summary scalars of `corona run`, xi of
        the neutrinos when the emissivity was kept, the source amplitude."""
        gamma, nu = self.gamma, self.nu
        out = summarise(self.E_eV, gamma["all_sky"], nu["all_sky"], gamma["dipole_amplitude"],
                        nu["dipole_amplitude"])
        if self.nu_emission is not None:
            x = self.config.extragalactic
            universe = Universe(x.cosmology, x.imf, x.z_max, x.m_star_mw_msun)
            values = xi(self.nu_emission, np.array(XI_E_EV), universe, self.config.observer.r_sun_kpc)
            out["xi_1TeV"], out["xi_1PeV"] = (float(v) for v in values)
        out["Q0_cm3_s_eV"] = self.Q0_cm3_s_eV
        return out


def quantity_names(products) -> list[str]:
    """Names :meth:`Prediction.quantity` knows for the kernels' ``products``."""
    return ["gamma_all_sky", "nu_all_sky", "gamma_dipole", "nu_dipole",
            *(f"regions/{p[7:]}" for p in products if p.startswith("region:"))]


@dataclass
class _State:
    """Everything of (1) that does not depend on the source: one per transport problem and
    emissivity settings."""
    response: UnitResponse
    keep: np.ndarray              # grid energies inside the yield tables
    nodes: np.ndarray             # proton quadrature nodes E_i
    G_nodes: np.ndarray           # G(E_i, rho_k)
    n_gas: np.ndarray             # n_gas(rho_k)
    M: dict                       # particle -> M(E, E_i)
    R: dict = field(default_factory=dict)
    calls: int = 0


def _remember(memo: OrderedDict, key, value, size: int = MEMO_SIZE):
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > size:
        memo.popitem(last=False)
    return value


class CoronaForward:
    """Fast evaluation of the corona (eq. 1 of the module docstring) and of the Galactic-plane
    models for ``base`` with parameter values. Build it once per process (the sky kernels are
    read from the rate-table cache, or built: minutes at nside 64)."""

    def __init__(self, base: Config, progress: bool = False):
        self.base = base
        response = unit_response(base)
        gamma = build_emission(base, "corona", "gamma", response.solution(base))
        self.kernels = response_kernels(base, gamma, progress=progress)
        self.E_eV = self.kernels.E_eV
        self.radii = shell_radii(self.kernels.ln_rho)
        self._points: OrderedDict = OrderedDict()
        self._states: OrderedDict = OrderedDict()
        self._plane: OrderedDict = OrderedDict()
        self._state(base, self._state_key(base), response)

    # ------------------------------------------------------------------ configs and states
    def point(self, overrides: dict) -> tuple[Config, _State]:
        """The base config with ``overrides`` and its transport state (both remembered: the
        source keys of a point make no new config)."""
        key = json.dumps(overrides, sort_keys=True)
        if key in self._points:
            self._points.move_to_end(key)
            cfg, state_key = self._points[key]
        else:
            cfg = self.base.with_overrides(overrides) if overrides else self.base
            state_key = _remember(self._points, key, (cfg, self._state_key(cfg)))[1]
        if state_key not in self._states:
            self._state(cfg, state_key)
        self._states.move_to_end(state_key)
        return cfg, self._states[state_key]

    @staticmethod
    def _state_key(cfg: Config) -> tuple:
        data = cfg.to_dict()
        return unit_response_key(cfg), json.dumps([data["hadronic"], data["neutrino"]], sort_keys=True)

    def _state(self, cfg: Config, key: tuple, response: UnitResponse | None = None) -> _State:
        response = response if response is not None and response.serves(cfg) else unit_response(cfg)
        E_p = response.E_eV
        keep = E_p <= YIELD_MODELS[cfg.hadronic.yields].primary_max_eV * (1 + 1e-9)
        centres = response.problem.grid.centers
        G_r = loglog_resample(centres, response.G[keep], np.maximum(self.radii, centres[0]), axis=1)
        M, nodes = {}, None
        for particle in ("gamma", "nu"):
            nodes, M[particle] = emissivity_matrix(E_p[keep], self.E_eV, particle, cfg.hadronic.yields,
                                                   hadronic=cfg.hadronic, neutrino=cfg.neutrino)
        state = _State(response, keep, nodes, loglog_resample(E_p[keep], G_r, nodes, axis=0),
                       corona_density(self.radii, cfg.gas), M)
        return _remember(self._states, key, state)

    def _contract(self, state: _State) -> None:
        """R_P(E, E_i) of the module docstring, for a transport state used again."""
        for particle, kernel in (("gamma", self.kernels.attenuated), ("nu", self.kernels.unattenuated)):
            n_p, n_e, n_k = kernel.shape
            weighted = (kernel * state.n_gas).reshape(n_p * n_e, n_k)
            R = (weighted @ state.G_nodes.T).reshape(n_p, n_e, -1)
            state.R[particle] = R * state.M[particle][None]

    # ------------------------------------------------------------------ evaluation
    def predict(self, values: dict, full: bool = False, plane_models=(),
                plane_regions: dict | None = None) -> Prediction:
        """The prediction for parameter ``values`` ({config key: value}). ``full``: also the
        neutrino emissivity table (for xi). ``plane_regions``: {region: E_eV} where the sum of
        the Galactic-plane ``plane_models`` is wanted (:meth:`plane_intensity`)."""
        source = {k: float(values[k]) for k in SOURCE_KEYS if k in values}
        cfg, state = self.point({k: v for k, v in values.items() if k not in SOURCE_KEYS})
        A, Q0, normalization = state.response.amplitude(
            cfg, alpha=source.get("source.alpha"), E_cut_eV=source.get("source.E_cut_eV"),
            Q0_cm3_s_eV=source.get("normalization.Q0_cm3_s_eV"))
        E_p = state.response.E_eV
        s = loglog_resample(E_p[state.keep], A[state.keep], state.nodes)
        rows, q_nu = {}, None
        for particle, kernel in (("gamma", self.kernels.attenuated), ("nu", self.kernels.unattenuated)):
            if particle in state.R and not full:
                rows[particle] = state.R[particle] @ s
            else:
                q = (state.M[particle] * s) @ state.G_nodes * state.n_gas
                rows[particle] = np.einsum("pek,ek->pe", kernel, q)
                q_nu = q if particle == "nu" else q_nu
        state.calls += 1
        if state.calls == 2 and not state.R:
            self._contract(state)
        nu_emission = None
        if full:
            cfg = cfg.with_overrides(source) if source else cfg
            nu_emission = SphericalEmission(np.exp(self.kernels.ln_rho), self.E_eV, q_nu,
                                            attrs={"model": "corona", "particle": "nu"})
        prediction = Prediction(self.E_eV, self.kernels.products, rows, E_p,
                                proton_intensity(E_p, A * state.response.G_sun), Q0, normalization,
                                cfg, nu_emission)
        if plane_regions:
            prediction.plane = {region: (E, self.plane_intensity(cfg, plane_models, region, E))
                                for region, E in plane_regions.items()}
        return prediction

    def plane_intensity(self, cfg: Config, models, region: str, E_eV) -> np.ndarray:
        """Sum over the Galactic-plane ``models`` of their attenuated photon intensity averaged
        over ``region`` at E_eV; each model's is linear in its ``norm`` and remembered per
        model setting without it."""
        data = cfg.to_dict()
        fields = tuple(cfg.sky.fields) if cfg.sky.attenuate else ()
        common = {s: data[s] for s in ("galaxy", "distributions", "hadronic", "neutrino", "observer",
                                       "fields", "dust", "opacity", "cosmology")}
        total = np.zeros(len(E_eV))
        for model in models:
            own = {k: v for k, v in data[model].items() if k != "norm"}
            key = json.dumps([model, own, common, fields, region, list(map(float, E_eV))], sort_keys=True)
            if key in self._plane:
                unit = self._plane[key]
            else:
                unit_cfg = cfg.with_overrides({f"{model}.norm": 1.0})
                emission = build_emission(unit_cfg, model, "gamma", None, np.asarray(E_eV, dtype=float))
                unit = _remember(self._plane, key,
                                 region_intensity(emission, E_eV, region, fields, unit_cfg),
                                 PLANE_MEMO_SIZE)
            total += data[model]["norm"] * unit
        return total
