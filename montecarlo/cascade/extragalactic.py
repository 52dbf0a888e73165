"""The coronae of all other galaxies: the cosmological sum of the Milky Way corona's emission
scaled by the stellar-mass density (docs/extragalactic.md; docs/physics.md section 6; [C]
Sec. IV).

With L_MW(E) = Integral q dV the Milky Way corona's emission rate [s^-1 eV^-1] and
n_gal(z) = rho*(z) / M*_MW Milky-Way equivalents per comoving volume, the intensity today at
observed energy E0 is

    I(E0) = (c / 4 pi) Integral_0^z_max dz / H(z) n_gal(z) L_MW((1 + z) E0) exp(-tau(E0, z))    (1)
          + (c / 4 pi) Integral dz / ((1 + z) H(z)) n_gal(z) Integral dE' L_MW(E') G(E0 | E', z)   (2)

[cm^-2 s^-1 sr^-1 eV^-1]: (1) the photons that arrive unscattered (neutrinos: tau = 0), (2) the
electromagnetic cascade, G(E0 | E', z) the observed spectrum per photon injected at local
energy E' and redshift z (:mod:`montecarlo.cascade.response`). For L ~ E^-alpha and tau = 0,
(1) is L(E0) n_gal(0)-weighted [C]'s I_z: (c / 4 pi) L(E0) / M*_MW x (1/H0) Integral
rho* (1 + z)^-alpha / E(z) dz.

xi ([C] Sec. IV) = I_MW(E, anticentre) / I_EG(E): the Milky Way corona's intensity
looking away from the Galactic centre over the extragalactic intensity (1) without absorption.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transport.core.constants import C_CM_S
from transport.core.errors import ArgumentError

from montecarlo.cascade import cosmology as cosmo
from montecarlo.lineofsight.integrator import intensity

#: Redshift quadrature of eq. (1): Gauss-Legendre, ORDER nodes on segments of at most DZ.
ORDER = 8
DZ = 0.1


@dataclass(frozen=True)
class Universe:
    """Cosmology name, IMF of rho*, z_max of the sum, M*_MW [M_sun]."""
    cosmology: str = "planck18"
    imf: str = "chabrier"
    z_max: float = 3.9
    m_star_mw_msun: float = cosmo.M_STAR_MW_MSUN

    def __post_init__(self):
        cosmo.cosmology(self.cosmology)
        if self.imf not in cosmo.IMF_FACTOR:
            raise ArgumentError(f"imf = {self.imf!r} is not allowed: expected one of "
                                f"{', '.join(cosmo.IMF_FACTOR)}")
        if not 0.0 < self.z_max <= 10.0:
            raise ArgumentError(f"z_max = {self.z_max!r} is not allowed: expected 0 < z_max <= 10")
        if not self.m_star_mw_msun > 0:
            raise ArgumentError(f"m_star_mw_msun = {self.m_star_mw_msun!r}: expected > 0")

    def n_gal_cm3(self, z):
        """Milky-Way equivalents per comoving cm^3 at z."""
        return cosmo.galaxy_density_per_cm3(z, self.cosmology, self.imf, self.m_star_mw_msun)

    def z_quadrature(self):
        """Nodes and weights of the composite Gauss-Legendre rule on [0, z_max]."""
        n_seg = max(1, int(np.ceil(self.z_max / DZ - 1e-9)))
        x, w = np.polynomial.legendre.leggauss(ORDER)
        h = self.z_max / n_seg
        z = ((np.arange(n_seg)[:, None] + 0.5 + 0.5 * x[None, :]) * h).ravel()
        return z, np.tile(0.5 * h * w, n_seg)


class EmissionRate:
    """L(E) [s^-1 eV^-1] tabulated at E_eV, interpolated linearly in (ln E, ln L); zero
    outside the table (document the range: results below E_eV[0] are incomplete)."""

    def __init__(self, E_eV, L):
        self.E_eV = np.asarray(E_eV, dtype=float)
        self.L = np.asarray(L, dtype=float)
        if self.E_eV.ndim != 1 or self.E_eV.shape != self.L.shape or np.any(np.diff(self.E_eV) <= 0):
            raise ArgumentError("EmissionRate needs ascending E_eV and L of the same 1-D shape")
        if np.any(self.L < 0) or not np.all(np.isfinite(self.L)):
            raise ArgumentError("EmissionRate: L must be finite and >= 0")
        with np.errstate(divide="ignore"):
            self._lnL = np.log(self.L)

    @classmethod
    def from_emission(cls, emission):
        """L_MW = Integral q dV of a tabulated emission (e.g. the corona's SphericalEmission)."""
        return cls(emission.E_eV, emission.total_rate())

    def __call__(self, E_eV):
        E = np.asarray(E_eV, dtype=float)
        lnE = np.log(np.clip(E, self.E_eV[0], self.E_eV[-1]))
        out = np.exp(np.interp(lnE, np.log(self.E_eV), self._lnL))
        return np.where((E >= self.E_eV[0]) & (E <= self.E_eV[-1]), out, 0.0)


def direct_intensity(E0_eV, L, universe: Universe = Universe(), tau=None):
    """Eq. (1) at observed energies E0_eV [cm^-2 s^-1 sr^-1 eV^-1]; ``tau(E0, z)`` the optical
    depth, vectorised over broadcast arrays (None: no absorption, e.g. neutrinos)."""
    E0 = np.atleast_1d(np.asarray(E0_eV, dtype=float)).ravel()
    z, w = universe.z_quadrature()
    weight = w * universe.n_gal_cm3(z) / cosmo.hubble_per_s(z, universe.cosmology)
    terms = L((1.0 + z[None, :]) * E0[:, None])
    if tau is not None:
        terms = terms * np.exp(-tau(E0[:, None], z[None, :]))
    return (C_CM_S / (4.0 * np.pi) * terms @ weight).reshape(np.shape(E0_eV))


def I_z_power_law(alpha: float, universe: Universe = Universe()) -> float:
    """[C]'s I_z = (1/H0) Integral_0^z_max rho*(z) (1 + z)^-alpha / E(z) dz
    [M_sun Mpc^-3 s], by the same quadrature as eq. (1)."""
    z, w = universe.z_quadrature()
    H = cosmo.hubble_per_s(z, universe.cosmology)
    rho = cosmo.rho_star_msun_mpc3(z, universe.cosmology, universe.imf)
    return float(np.sum(w * rho * (1.0 + z) ** (-alpha) / H))


def anticentre_intensity(emission, E_eV, r_sun_kpc: float = 8.5):
    """Milky Way corona intensity towards the Galactic anticentre, unattenuated
    [cm^-2 s^-1 sr^-1 eV^-1]: (1/4 pi) Integral_0^inf q(E, r_sun + s) ds."""
    return np.asarray(intensity(emission, np.asarray(E_eV, dtype=float), 180.0, 0.0, fields=(),
                                r_sun_kpc=r_sun_kpc), dtype=float)


def xi(emission, E_eV, universe: Universe = Universe(), r_sun_kpc: float = 8.5):
    """xi(E) = I_MW(anticentre) / I_EG (eq. 1 without absorption) of a corona emission."""
    L = EmissionRate.from_emission(emission)
    return anticentre_intensity(emission, E_eV, r_sun_kpc) / direct_intensity(E_eV, L, universe)
