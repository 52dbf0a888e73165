"""Galactic-plane emission: cosmic rays x gas in the disk [T, L] and unresolved sources [L].

Every model here is separable, q_i(E, R, z) = s_i(E) f(R, z), with f a shape of
:mod:`transport.emission.distributions` (1 at its reference point) and s_i the emissivity at that
point. All are normalised alike ("normalised like the other disk models", docs/physics.md
section 7): the photon emissivity at the reference point and energy E_norm equals ``norm``
times the local reference emissivity,

    q_ref(E) = n_H c Integral dE_n j_H3a(E_n) sigma_inel(E_n) dN_gamma/dE(E_n, E),

the pp emissivity of the local cosmic rays (Gaisser's H3a, all nucleons by superposition,
j = 4 pi I / c) on hydrogen of density galaxy.n_H_cm3, with the configured yields.

Spectra s_i(E):
- [disk] spectrum "A" / "B": the all-flavour neutrino spectra of [T, App. B] (eq. B7: smoothly
  broken, alpha = 2.54, delta = 0.67, E* = 0.04 x 0.9 PeV, w = 3; eq. B8: 2.45 / 2.85 broken at
  0.04 x 3 PeV), photons through [T, eq. 1]: E_g^2 q_g(E_g) = (2/3) E_nu^2 q_nu(E_g / 2).
- [disk] spectrum "injection": pp secondaries of the Galactic protons and helium Q(R)/D(R)
  with the [L] eq. 3 / Table II injection (:mod:`transport.cosmicrays.galactic_injection`), helium by
  superposition, each species matched to H3a at 1 TV.
- [extra1], [extra2]: photon spectra E^-Gamma exp(-E/E_cut) [L, Sec. 3.3]; if hadronic, all-flavour
  neutrinos through [T, eq. 1], E_nu^2 q_nu(E_nu) = (3/2) E_g^2 q_g(2 E_nu); if leptonic, none.
Neutrino flavours of the analytic spectra: pion-decay source ratio nu_e : nu_mu : nu_tau =
1 : 2 : 0, oscillated to Earth (:mod:`transport.hadronic.neutrino_mixing`).
"""
from __future__ import annotations

import numpy as np

from transport.emission import distributions
from transport.cosmicrays import galactic_injection as injection
from transport.core.constants import C_CM_S
from transport.emission.tables import AxisymmetricEmission
from transport.core.errors import ArgumentError
from transport.core.grid import log_grid
from transport.hadronic.neutrino_mixing import FLAVOURS, flavour_weights_at_earth
from transport.cosmicrays.normalization import h3a_nucleon_flux
from transport.hadronic.secondaries import check_particle, pp_emissivity
from transport.hadronic.yields import MODELS as YIELD_MODELS

#: [T] App. B neutrino spectral models (all flavours, per unit energy, arbitrary norm).
MODEL_A = {"alpha": 2.54, "delta": 0.67, "E_star_eV": 0.04 * 0.9e15, "w": 3.0}
MODEL_B = {"alpha1": 2.45, "alpha2": 2.85, "E_break_eV": 0.04 * 3e15}

#: Source flavour ratio of pion decay, nu_e : nu_mu : nu_tau (neutrinos + antineutrinos).
PION_DECAY_FLAVOURS = (1.0 / 3.0, 2.0 / 3.0, 0.0)

#: Nucleon energies of the internal spectra [eV]: from 1 GeV, 20 per decade.
NUCLEON_E_MIN_EV = 1e9
NUCLEON_PER_DECADE = 20


def model_A_neutrinos(E_eV, alpha=MODEL_A["alpha"], delta=MODEL_A["delta"],
                      E_star_eV=MODEL_A["E_star_eV"], w=MODEL_A["w"]):
    """[T, eq. B7]: dN/dE ~ E^-alpha (1 + (E/E*)^w)^(-delta/w), returned as
    (E/E*)^-alpha (1 + (E/E*)^w)^(-delta/w) (arbitrary normalisation)."""
    x = np.asarray(E_eV, dtype=float) / E_star_eV
    return x ** -alpha * (1.0 + x ** w) ** (-delta / w)


def model_B_neutrinos(E_eV, alpha1=MODEL_B["alpha1"], alpha2=MODEL_B["alpha2"],
                      E_break_eV=MODEL_B["E_break_eV"]):
    """[T, eq. B8]: dN/dE ~ E^-alpha1 below E_break, E^-alpha2 above (continuous there)."""
    x = np.asarray(E_eV, dtype=float) / E_break_eV
    return np.where(x < 1.0, x ** -alpha1, x ** -alpha2)


def ecpl(E_eV, Gamma, E_cut_eV):
    """Exponential-cut-off power law (E/E_cut)^-Gamma exp(-E/E_cut) [L, Sec. 3.3]."""
    x = np.asarray(E_eV, dtype=float) / E_cut_eV
    return x ** -Gamma * np.exp(-x)


def photons_from_neutrinos(nu_all, E_gamma_eV):
    """[T, eq. 1]: q_g(E_g) = (2/3) (E_g/2)^2 / E_g^2 q_nu(E_g/2) = q_nu(E_g/2) / 6."""
    return nu_all(np.asarray(E_gamma_eV, dtype=float) / 2.0) / 6.0


def neutrinos_from_photons(gamma, E_nu_eV):
    """[T, eq. 1] inverted: q_nu(E_nu) = (3/2) (2 E_nu)^2 / E_nu^2 q_g(2 E_nu) = 6 q_g(2 E_nu)."""
    return 6.0 * gamma(2.0 * np.asarray(E_nu_eV, dtype=float))


def flavour_factor(particle: str, neutrino) -> float:
    """Fraction of the all-flavour neutrinos in ``particle`` ("nu" -> 1) for a pion-decay
    source oscillated to Earth."""
    if particle == "nu":
        return 1.0
    w = flavour_weights_at_earth(PION_DECAY_FLAVOURS, neutrino)
    return float(w[FLAVOURS.index(particle.split("_", 1)[1])])


# --------------------------------------------------------------------------- local reference
def nucleon_grid(cfg) -> np.ndarray:
    """Nucleon total energies [eV] for internal spectra: 1 GeV up to the highest primary
    energy of the yields (at most 1e20 eV), 20 per decade."""
    top = min(YIELD_MODELS[cfg.hadronic.yields].primary_max_eV, 1e20)
    return log_grid(NUCLEON_E_MIN_EV, top, NUCLEON_PER_DECADE)


def local_reference_emissivity(E_eV, particle, cfg) -> np.ndarray:
    """q_ref: pp emissivity [cm^-3 s^-1 eV^-1] of the local cosmic rays (H3a all-nucleon flux)
    on hydrogen of density galaxy.n_H_cm3, with hadronic.yields."""
    E_n = nucleon_grid(cfg)
    j = 4.0 * np.pi / C_CM_S * h3a_nucleon_flux(E_n)
    return pp_emissivity(E_n, j, cfg.galaxy.n_H_cm3, E_eV, particle, cfg.hadronic.yields,
                         hadronic=cfg.hadronic, neutrino=cfg.neutrino)


def galactic_nucleon_density(E_n_eV, model: str, D_delta: float) -> np.ndarray:
    """Local nucleon density [cm^-3 eV^-1] of the [L] Galactic protons + helium, Q(R)/D(R)
    per species matched to H3a at 1 TV, helium as 4 nucleons of E/4."""
    a = injection.species_weights(model, D_delta)
    per_species = {s: (lambda E, s=s: a[s.name] * injection.galactic_spectrum_shape(E, s, model, D_delta))
                   for s in injection.SPECIES}
    return injection.nucleon_spectrum(E_n_eV, per_species)


# --------------------------------------------------------------------------- spectra
def disk_spectrum(E_eV, particle, cfg) -> np.ndarray:
    """s_i(E): the [disk] emissivity at the distribution's reference point
    [cm^-3 s^-1 eV^-1], normalised with disk.norm at disk.E_norm_eV."""
    d = cfg.disk
    if d.spectrum in ("A", "B"):
        nu_all = model_A_neutrinos if d.spectrum == "A" else model_B_neutrinos
        shape = lambda E, p: (photons_from_neutrinos(nu_all, E) if p == "gamma"  # noqa: E731
                              else flavour_factor(p, cfg.neutrino) * nu_all(E))
    else:
        E_n = nucleon_grid(cfg)
        j = galactic_nucleon_density(E_n, d.injection, cfg.galaxy.D_delta)
        shape = lambda E, p: pp_emissivity(E_n, j, cfg.galaxy.n_H_cm3, E, p,  # noqa: E731
                                           cfg.hadronic.yields, hadronic=cfg.hadronic,
                                           neutrino=cfg.neutrino)
    return _normalised(shape, E_eV, particle, d.norm, d.E_norm_eV, cfg, "disk")


def extra_spectrum(E_eV, particle, cfg, name: str) -> np.ndarray:
    """s_i(E) of the unresolved-source component ``name`` ("extra1", "extra2") at the
    reference point of its distribution [cm^-3 s^-1 eV^-1]."""
    x = cfg[name]
    gamma = lambda E: ecpl(E, x.Gamma, x.E_cut_eV)  # noqa: E731

    def shape(E, p):
        if p == "gamma":
            return gamma(E)
        if not x.hadronic:
            return np.zeros(np.shape(E))
        return flavour_factor(p, cfg.neutrino) * neutrinos_from_photons(gamma, E)
    return _normalised(shape, E_eV, particle, x.norm, x.E_norm_eV, cfg, name)


def _normalised(shape, E_eV, particle, norm, E_norm_eV, cfg, model):
    """shape(E, particle) scaled so that the photon emissivity at E_norm is norm q_ref."""
    check_particle(particle)
    at_norm = float(shape(E_norm_eV, "gamma"))
    if not (np.isfinite(at_norm) and at_norm > 0.0):
        raise ArgumentError(f"{model}.E_norm_eV = {E_norm_eV:g}: the {model} photon spectrum is "
                            f"{at_norm:g} there, so it cannot be normalised (move E_norm_eV below "
                            "the cut-off)")
    target = norm * local_reference_emissivity(E_norm_eV, "gamma", cfg)
    return shape(np.asarray(E_eV, dtype=float), particle) * (target / at_norm)


# --------------------------------------------------------------------------- tables
def plane_table(cfg, distribution: str, spectrum, E_eV, attrs) -> AxisymmetricEmission:
    """q(E, R, z) = spectrum(E) f(R, z) on the distribution's nodes (galaxy.* extents)."""
    g = cfg.galaxy
    R, z = distributions.table_nodes(distribution, cfg.distributions, g.R_max_kpc, g.z_max_kpc,
                                     g.R_per_decade, g.z_step_kpc)
    f = distributions.tabulate(distribution, cfg.distributions, R, z)
    q = np.asarray(spectrum, dtype=float)[:, None, None] * f[None, :, :]
    return AxisymmetricEmission(R, z, E_eV, q, attrs={"distribution": distribution, **attrs})


def disk_emission(cfg, particle: str, E_eV) -> AxisymmetricEmission:
    """The [disk] model for ``particle`` on energies E_eV."""
    d = cfg.disk
    return plane_table(cfg, d.distribution, disk_spectrum(E_eV, particle, cfg), E_eV,
                       {"model": "disk", "particle": particle, "spectrum": d.spectrum,
                        "injection": d.injection, "norm": d.norm, "E_norm_eV": d.E_norm_eV,
                        "yields": cfg.hadronic.yields,
                        "description": "Galactic-plane CR x gas emission [T, L]"})


def extra_emission(cfg, name: str, particle: str, E_eV) -> AxisymmetricEmission:
    """The unresolved-source component ``name`` ("extra1" or "extra2") for ``particle``."""
    x = cfg[name]
    return plane_table(cfg, x.distribution, extra_spectrum(E_eV, particle, cfg, name), E_eV,
                       {"model": name, "particle": particle, "Gamma": x.Gamma,
                        "E_cut_eV": x.E_cut_eV, "hadronic": x.hadronic, "norm": x.norm,
                        "E_norm_eV": x.E_norm_eV,
                        "description": "unresolved sources, ECPL photon spectrum [L]"})
