"""Cosmology and the cosmic stellar-mass density for the coronae of other galaxies
(docs/extragalactic.md; [C] Sec. IV; docs/physics.md section 6).

Cosmologies (astropy.cosmology): "planck18" (Planck 2018, TT,TE,EE+lowE+lensing+BAO, the
default) and "seed" (flat, H0 = 70 km/s/Mpc, Omega_m = 0.3: [C]'s choice and the
cosmology the ebltable tau tables assume). Radiation is neglected in H(z) (< 0.03 % at z < 5),
as in ebltable's integrations.

Stellar-mass density rho*(z): Madau & Dickinson (2014, ARA&A 52, 415), their eq. (15) star
formation rate density

    psi(z) = 0.015 (1 + z)^2.7 / (1 + ((1 + z) / 2.9)^5.6)   M_sun yr^-1 Mpc^-3  (Salpeter IMF),

integrated with their eq. (2), rho*(z) = (1 - R) Integral_z^inf psi(z') dt/dz' dz' with the
return fraction R = 0.27. Madau & Dickinson's fit uses a Salpeter (0.1-100 M_sun) IMF; the
Milky Way's M*_MW = 6.43e10 M_sun (McMillan 2011, MNRAS 414, 2446) is a dynamical stellar
mass that matches Chabrier/Kroupa-IMF photometric masses, so rho* is converted to a Chabrier
IMF with the factor 0.61 Madau & Dickinson give (their Sec. 3; a Salpeter mass is 1.64x a
Chabrier one). The result at z = 0, 3.5e8 M_sun Mpc^-3 (h = 0.7), agrees with their Fig. 11
data (Chabrier-converted). Only the ratio rho*(z) / M*_MW enters: the choice of IMF is
consistent when both numbers use the same one (config key extragalactic.imf).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.integrate import quad

from transport.core.constants import C_CM_S, MPC_CM
from transport.core.errors import ArgumentError

#: Cosmologies offered (extragalactic.cosmology).
COSMOLOGIES = ("planck18", "seed")
#: Milky Way stellar mass [M_sun] (McMillan 2011), and its 1-sigma error.
M_STAR_MW_MSUN = 6.43e10
M_STAR_MW_ERR_MSUN = 0.63e10
#: Madau & Dickinson (2014) eq. 15 parameters and eq. 2 return fraction (Salpeter IMF).
MD14_PSI0, MD14_A, MD14_ZP, MD14_B = 0.015, 2.7, 2.9, 5.6
MD14_RETURN_FRACTION = 0.27
#: Stellar mass of a Chabrier IMF per unit Salpeter mass (Madau & Dickinson 2014, Sec. 3).
IMF_FACTOR = {"salpeter": 1.0, "chabrier": 0.61}
#: Seconds per year (Julian).
_YR_S = 3.15576e7


@lru_cache(maxsize=None)
def cosmology(name: str = "planck18"):
    """The astropy cosmology ``name`` (planck18 or seed), radiation-free (Tcmb0 = 0)."""
    from astropy.cosmology import FlatLambdaCDM, Planck18  # optional-speed: astropy is slow to import
    if name == "planck18":
        return FlatLambdaCDM(H0=Planck18.H0, Om0=Planck18.Om0, Tcmb0=0.0, name="Planck18 (no radiation)")
    if name == "seed":
        return FlatLambdaCDM(H0=70.0, Om0=0.3, Tcmb0=0.0, name="flat H0=70 Om=0.3 ([C])")
    raise ArgumentError(f"cosmology = {name!r} is not allowed: expected one of {', '.join(COSMOLOGIES)}")


def hubble_per_s(z, name: str = "planck18"):
    """H(z) [s^-1]."""
    cosmo = cosmology(name)
    return cosmo.H0.to_value("km/(s Mpc)") * 1e5 / MPC_CM * cosmo.efunc(np.asarray(z, dtype=float))


def hubble_length_cm(name: str = "planck18") -> float:
    """c / H0 [cm]."""
    return C_CM_S / float(hubble_per_s(0.0, name))


def dl_dz_cm(z, name: str = "planck18"):
    """Proper path length per unit redshift, c dt/dz = c / ((1 + z) H(z)) [cm]."""
    z = np.asarray(z, dtype=float)
    return C_CM_S / ((1.0 + z) * hubble_per_s(z, name))


def sfr_density(z):
    """psi(z) of Madau & Dickinson (2014) eq. 15 [M_sun yr^-1 Mpc^-3, comoving, Salpeter IMF]."""
    zp1 = 1.0 + np.asarray(z, dtype=float)
    return MD14_PSI0 * zp1 ** MD14_A / (1.0 + (zp1 / MD14_ZP) ** MD14_B)


@lru_cache(maxsize=None)
def _rho_star_table(name: str):
    """rho*(z) on a fine z grid (Salpeter) [M_sun Mpc^-3], Madau & Dickinson eq. 2."""
    z = np.concatenate([np.linspace(0.0, 10.0, 1001), np.geomspace(10.05, 1e3, 200)])
    H0_per_yr = float(hubble_per_s(0.0, name)) * _YR_S
    cosmo = cosmology(name)

    def dt_dz_yr(zz):                       # |dt/dz| = 1 / ((1 + z) H(z))
        return 1.0 / ((1.0 + zz) * H0_per_yr * cosmo.efunc(zz))

    pieces = [quad(lambda zz: sfr_density(zz) * dt_dz_yr(zz), a, b, epsrel=1e-10, limit=200)[0]
              for a, b in zip(z[:-1], z[1:])]
    tail = np.concatenate([np.cumsum(pieces[::-1])[::-1], [0.0]])
    return z, (1.0 - MD14_RETURN_FRACTION) * tail


def rho_star_msun_mpc3(z, name: str = "planck18", imf: str = "chabrier"):
    """Comoving stellar-mass density rho*(z) [M_sun Mpc^-3] (module docstring), IMF
    ``chabrier`` (default, consistent with M*_MW) or ``salpeter`` (Madau & Dickinson's own)."""
    if imf not in IMF_FACTOR:
        raise ArgumentError(f"imf = {imf!r} is not allowed: expected one of {', '.join(IMF_FACTOR)}")
    zz = np.asarray(z, dtype=float)
    if np.any(zz < 0) or np.any(zz > 10):
        raise ArgumentError(f"z = {zz.max():g} is outside the stellar-mass fit: allowed 0 <= z <= 10")
    zt, rho = _rho_star_table(name)
    return IMF_FACTOR[imf] * np.interp(zz, zt, rho)


def galaxy_density_per_cm3(z, name: str = "planck18", imf: str = "chabrier",
                           m_star_mw_msun: float = M_STAR_MW_MSUN):
    """Number of Milky-Way equivalents per comoving cm^3, rho*(z) / M*_MW."""
    return rho_star_msun_mpc3(z, name, imf) / m_star_mw_msun / MPC_CM ** 3
