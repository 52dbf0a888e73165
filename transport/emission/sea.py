"""The Galactic cosmic-ray sea on the interstellar gas: the diffuse plane emission of the
plane papers [L, D, K] (config section [sea]; docs/papers.md, "The cosmic-ray sea").

    q_i(E, R, z) = n_H(R, z) c Integral dE_n n_N(E_n, R, z) sigma_inel dN_i/dE (E_n, E)

with n_H the hydrogen of :mod:`transport.emission.ism_gas` (sea.gas; helium in the gas through
``hadronic.nuclear_enhancement``) and n_N the nucleon density of protons and helium (helium by
superposition, a nucleus of energy E as 4 nucleons of E/4). Each species s has the density

    n_s(E, R, z) = n_s,sun(E) G(rho_s(E), R, z) / G(rho_s(E), R_sun, 0),

where G is the steady-state diffusion response of the halo to the source distribution
sea.source (:mod:`transport.cosmicrays.galactic_diffusion`) and n_s,sun the local spectrum:
the [L] Table II injection shape over D ~ R^galaxy.D_delta, matched to Gaisser's H3a at
1 TV (the same local spectra as the [disk] "injection" spectrum; DR-high follows IceTop, DR-low
KASCADE, i.e. [D]'s "Max" and "Min" source setups). The local spectrum is thus the measured
one whatever the transport model, and the transport sets how it changes across the Galaxy:
for sea.transport = "uniform" the shape G / G_sun is the same at all rigidities; for
"kra_gamma" the spectrum hardens towards the inner Galaxy. The injection itself follows:
Q_s(E) = n_s,sun(E) / G(rho, R_sun, 0) per unit source shape (the CR power of
:func:`cr_power_erg_s`), which the cocoons of [K] use (cocoons.injection = "sea").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transport.core.constants import ERG_EV, KPC_CM
from transport.core.grid import log_grid
from transport.cosmicrays import galactic_diffusion as gd
from transport.cosmicrays import galactic_injection as injection
from transport.emission import distributions, ism_gas
from transport.emission.disk import nucleon_grid
from transport.emission.tables import AxisymmetricEmission
from transport.hadronic.secondaries import check_particle, pp_emissivity

#: Config sections the sea depends on (for caches).
SECTIONS = ("sea", "galaxy", "distributions", "observer")
#: Rigidity range of the tabulated transport response [V] (clamped outside).
RHO_MIN_V, RHO_MAX_V = 1e9, 1e20
#: Kinetic energy above which the CR power is counted [eV] (as for the cocoons).
POWER_T_MIN_EV = 1e9


@dataclass(frozen=True)
class SeaTransport:
    """Diffusion responses G(rho, R, z) [s] (density per unit source amplitude, cm^-3 per
    cm^-3 s^-1) on the halo cells at rigidities rho_V, and G at the Sun."""
    grid: gd.HaloGrid
    rho_V: np.ndarray
    G: np.ndarray                  # (n_rho, n_R, n_z)
    G_sun: np.ndarray              # (n_rho,)
    R_sun_kpc: float

    def relative_at(self, R_kpc, z_kpc) -> np.ndarray:
        """G / G_sun at points (R, z) [kpc] (bilinear between cell centres, n = 0 on the halo
        surface, mirrored in z), shape (n_rho, n_points)."""
        return _bilinear(self.grid, self.G, R_kpc, z_kpc) / self.G_sun[:, None]

    def interpolate(self, rho_V, table) -> np.ndarray:
        """``table`` (n_rho, ...) at rigidities rho_V: linear in ln rho, clamped at the ends."""
        x = np.log(np.clip(np.asarray(rho_V, dtype=float), self.rho_V[0], self.rho_V[-1]))
        xs = np.log(self.rho_V)
        k = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, xs.size - 2)
        w = ((x - xs[k]) / (xs[k + 1] - xs[k])).reshape((-1,) + (1,) * (table.ndim - 1))
        return (1.0 - w) * table[k] + w * table[k + 1]


def _bilinear(grid: gd.HaloGrid, values, R_kpc, z_kpc) -> np.ndarray:
    """values (..., n_R, n_z) on the cell centres at points (R, |z|), with the boundary
    conditions as extra nodes: dn/dR = 0 at R = 0, dn/dz = 0 at z = 0, n = 0 at R_h and H."""
    Rc = np.concatenate([[0.0], grid.R_centres, [grid.R_faces[-1]]])
    zc = np.concatenate([[0.0], grid.z_centres, [grid.z_faces[-1]]])
    v = np.asarray(values, dtype=float)
    v = np.concatenate([v[..., :1, :], v, np.zeros_like(v[..., :1, :])], axis=-2)
    v = np.concatenate([v[..., :1], v, np.zeros_like(v[..., :1])], axis=-1)
    R = np.clip(np.ravel(R_kpc), 0.0, Rc[-1])
    z = np.clip(np.abs(np.ravel(z_kpc)), 0.0, zc[-1])
    i = np.clip(np.searchsorted(Rc, R, side="right") - 1, 0, Rc.size - 2)
    k = np.clip(np.searchsorted(zc, z, side="right") - 1, 0, zc.size - 2)
    a = (R - Rc[i]) / (Rc[i + 1] - Rc[i])
    b = (z - zc[k]) / (zc[k + 1] - zc[k])
    return ((1 - a) * (1 - b) * v[..., i, k] + a * (1 - b) * v[..., i + 1, k]
            + (1 - a) * b * v[..., i, k + 1] + a * b * v[..., i + 1, k + 1])


def diffusion_index_cells(cfg) -> np.ndarray:
    """delta(R) of sea.transport on the radial cells of the halo grid."""
    s = cfg.sea
    grid = halo_grid(cfg)
    return gd.diffusion_index(grid.R_centres, s.transport, cfg.galaxy.D_delta, s.kra_A_per_kpc,
                              s.kra_B, s.kra_R_kpc)


def halo_grid(cfg) -> gd.HaloGrid:
    s = cfg.sea
    return gd.halo_grid(s.R_halo_kpc, s.halo_kpc, s.R_step_kpc, s.z_step_kpc)


#: Responses already solved, by the digest of the config sections they depend on.
_RESPONSES: dict = {}
_RESPONSES_KEPT = 8


def transport_response(cfg) -> SeaTransport:
    """The diffusion responses of the [sea] configuration (cached per configuration)."""
    key = cfg.digest(SECTIONS)
    if key not in _RESPONSES:
        if len(_RESPONSES) >= _RESPONSES_KEPT:
            _RESPONSES.pop(next(iter(_RESPONSES)))
        _RESPONSES[key] = _solve_response(cfg)
    return _RESPONSES[key]


def _solve_response(cfg) -> SeaTransport:
    s = cfg.sea
    grid = halo_grid(cfg)
    source = distributions.shape(s.source, cfg.distributions, grid.R_centres[:, None],
                                 grid.z_centres[None, :])
    index = diffusion_index_cells(cfg)
    rho = log_grid(RHO_MIN_V, RHO_MAX_V, s.rho_per_decade)
    D = gd.diffusion_coefficient_cm2_s(rho, grid.R_centres, s.D0_cm2_s, s.rho0_V, index)
    if s.transport == "uniform":        # one shape, scaled by 1/D
        G1 = gd.solve_steady(grid, D[0], source)
        G = G1[None, :, :] * (D[0, 0] / D[:, 0])[:, None, None]
    else:
        G = np.stack([gd.solve_steady(grid, D_k, source) for D_k in D])
    r_sun = cfg.observer.r_sun_kpc
    G_sun = _bilinear(grid, G, r_sun, 0.0)[:, 0]
    return SeaTransport(grid, rho, G, G_sun, r_sun)


# --------------------------------------------------------------------------- spectra
def local_density(E_eV, species, cfg) -> np.ndarray:
    """n_s,sun(E): the local density of ``species`` [cm^-3 eV^-1] (Table II shape / D, matched
    to H3a at 1 TV)."""
    model, delta = cfg.sea.injection, cfg.galaxy.D_delta
    a = injection.species_weights(model, delta)[species.name]
    return a * injection.galactic_spectrum_shape(E_eV, species, model, delta)


def species_density(E_eV, species, R_kpc, z_kpc, cfg) -> np.ndarray:
    """n_s(E, R, z) [cm^-3 eV^-1], shape (n_E, n_points)."""
    t = transport_response(cfg)
    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    rel = t.interpolate(injection.rigidity_V(E, species), t.relative_at(R_kpc, z_kpc))
    return local_density(E, species, cfg)[:, None] * rel


def injection_density(E_eV, species, cfg) -> np.ndarray:
    """Q_s(E) [cm^-3 s^-1 eV^-1] where the source shape sea.source is 1: the injection that
    gives the local density n_s,sun through the transport, n_s,sun / G(rho, R_sun, 0)."""
    t = transport_response(cfg)
    E = np.asarray(E_eV, dtype=float)
    G_sun = np.exp(t.interpolate(injection.rigidity_V(E, species).ravel(), np.log(t.G_sun)))
    return local_density(E, species, cfg) / G_sun.reshape(E.shape)


def source_volume_cm3(cfg) -> float:
    """Integral of the source shape sea.source over all space [cm^3]."""
    return distributions.volume_kpc3(cfg.sea.source, cfg.distributions) * KPC_CM ** 3


def cr_power_erg_s(cfg) -> float:
    """Galactic CR power of the sea's injection [erg/s]: protons and helium of kinetic energy
    above 1 GeV, sum_s Integral T Q_s(E) dE Integral f dV."""
    total = 0.0
    for s in injection.SPECIES:
        T = np.geomspace(POWER_T_MIN_EV, 1e21, 1201)
        total += np.trapezoid(T * T * injection_density(T + s.mass_eV, s, cfg), np.log(T))
    return float(total * source_volume_cm3(cfg) / ERG_EV)


def nucleon_density(E_n_eV, R_kpc, z_kpc, cfg) -> np.ndarray:
    """Nucleon density per nucleon energy [cm^-3 eV^-1], shape (n_E, n_points): protons and
    helium by superposition, n(E_n) = sum_s A^2 n_s(A E_n)."""
    E_n = np.asarray(E_n_eV, dtype=float)
    total = np.zeros((E_n.size, np.size(R_kpc)))
    for s in injection.SPECIES:
        E = s.A * E_n
        ok = E > s.mass_eV
        total[ok] += s.A ** 2 * species_density(E[ok], s, R_kpc, z_kpc, cfg)
    return total


# --------------------------------------------------------------------------- table
def table_nodes(cfg) -> tuple[np.ndarray, np.ndarray]:
    """(R, z) nodes [kpc] of the emission table: R every sea.R_step_kpc to the halo radius;
    z graded from 10 pc steps in the molecular layer to 0.25 kpc near the halo top (the gas
    layers are Gaussians in z, reproduced by the bilinear-in-ln-q table to ~1 %)."""
    s = cfg.sea
    R = np.linspace(0.0, s.R_halo_kpc, max(2, int(np.ceil(s.R_halo_kpc / s.R_step_kpc - 1e-9))) + 1)
    z = np.concatenate([np.arange(0.0, 0.1, 0.01), np.arange(0.1, 0.4, 0.02),
                        np.arange(0.4, 1.0, 0.05), np.arange(1.0, 2.0, 0.1),
                        np.arange(2.0, s.halo_kpc, 0.25), [s.halo_kpc]])
    return R, np.unique(np.round(z[z <= s.halo_kpc], 9))


def sea_emissivity(E_eV, particle, R_kpc, z_kpc, cfg) -> np.ndarray:
    """q [cm^-3 s^-1 eV^-1] of ``particle`` at energies E_eV and points (R, z), shape
    (n_E, n_points)."""
    check_particle(particle)
    R, z = np.ravel(R_kpc), np.ravel(z_kpc)
    E_n = nucleon_grid(cfg)
    j = nucleon_density(E_n, R, z, cfg)
    n_H = ism_gas.hydrogen_density_cm3(R, z, cfg.sea.gas, cfg.sea.ionised_gas, cfg.sea.X_CO)
    q = pp_emissivity(E_n, j, n_H, np.atleast_1d(E_eV), particle, cfg.hadronic.yields,
                      hadronic=cfg.hadronic, neutrino=cfg.neutrino)
    return q.reshape(np.size(E_eV), R.size)


def sea_emission(cfg, particle: str, E_eV) -> AxisymmetricEmission:
    """The [sea] model for ``particle`` on energies E_eV (table on :func:`table_nodes`)."""
    s = cfg.sea
    R, z = table_nodes(cfg)
    RR, ZZ = np.meshgrid(R, z, indexing="ij")
    q = sea_emissivity(E_eV, particle, RR.ravel(), ZZ.ravel(), cfg).reshape(-1, R.size, z.size)
    return AxisymmetricEmission(R, z, E_eV, q, attrs={
        "model": "sea", "particle": particle, "gas": s.gas, "ionised_gas": s.ionised_gas,
        "X_CO": s.X_CO,
        "transport": s.transport, "injection": s.injection, "source": s.source,
        "halo_kpc": s.halo_kpc, "R_halo_kpc": s.R_halo_kpc, "yields": cfg.hadronic.yields,
        "nuclear_enhancement": cfg.hadronic.nuclear_enhancement,
        "description": "Galactic CR sea (2D diffusion) on the interstellar gas [L, D, K]"})
