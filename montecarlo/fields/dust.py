"""Galactic dust infrared photons ([T] App. A; Vernetto & Lipari 2016, PRD 94, 063009).

Two dust components j = cold, warm, exponential in Galactocentric R and |z| [T, eq. A5]:

    rho_j(R, z) = rho_j0 exp(-R / r_j - |z| / z_j)                       [g cm^-3]
    T_j(R)      = T_j,sun exp(-(R - R_sun) / r_T)                         [K]

emissivity eta_lambda = rho kappa_lambda B_lambda(T) [eq. A3-A4] with Draine's (2003) R_V = 3.1
absorption cross-section per dust mass kappa (inputs/dust/), intensity by integrating eta along
the line of sight [eq. A2] and photon density dn/(d eps dOmega) = I_eps / (c eps) [eq. A6].

Parameters (defaults in inputs/default.toml, section [dust]; docs/opacity.md, "Dust model"):
- rho_j0, r_j, z_j: Misiriotis et al. 2006 (A&A 459, 113), Table 2, the model Vernetto &
  Lipari build on: cold 1.51e-25 g cm^-3, 5.0 kpc, 0.1 kpc; warm 1.22e-27 g cm^-3, 3.3 kpc,
  0.09 kpc.
- Temperatures: Vernetto & Lipari's eqs. 16-17 could not be obtained; the profile keeps the
  form "falling exponentially with R" and its three numbers are fixed as documented in
  docs/opacity.md ("Dust model: parameters and calibration"): the cold dust at the Sun T = 17.5 K
  (COBE-FIRAS local dust, Boulanger et al. 1996, A&A 312, 256, emissivity index 2 like
  Draine's kappa); the warm dust at the Sun T = 35 K, calibrated on the local colour
  I_nu(60 um) / I_nu(100 um) = 0.21 (IRAS cirrus, Boulanger & Perault 1988), see
  :func:`local_colour_ratio`; the scale r_T = 60 kpc, calibrated on Vernetto & Lipari's
  maximum infrared absorption P_abs = 0.45 near 150 TeV behind the Galactic centre
  (benchmarks/validate_opacity.py reports all three, tests/test_dust.py guards them).

Direction convention (docs/physics.md, section 4): k is the direction the target photon travels;
the intensity that arrives travelling along k is the one seen looking along n = -k.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from transport.core.constants import C_CM_S, EV_ERG, H_ERG_S, HC_EV_CM, K_B_ERG_K, KPC_CM
from transport.core.data import input_path
from transport.core.errors import DataFileError
from transport.core.safety import read_text

from montecarlo.fields.dust_kernels import direct_intensity

#: Draine (2003) R_V = 3.1 Milky Way dust: "kext_albedo_WD_MW_3.1A_60_D03" (inputs/dust/).
KAPPA_FILE = "dust/kext_albedo_WD_MW_3.1A_60_D03.dat"


@lru_cache(maxsize=4)
def load_kappa(relative: str = KAPPA_FILE):
    """Draine's table: (lambda [micron], kappa_abs [cm^2 per gram of dust]), ascending lambda.

    Reads the rows after the dashed header line (columns: lambda, albedo, <cos>, C_ext/H,
    K_abs, <cos^2>, comment); duplicates (absorption-edge rows) are dropped.
    """
    path = input_path(relative)
    lines = read_text(path, "dust.kappa_file").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("-----------")) + 1
    except StopIteration:
        raise DataFileError(f"data file '{relative}' lacks Draine's dashed header line") from None
    rows = [line.split()[:5] for line in lines[start:] if line.strip()]
    try:
        table = np.array([[float(r[0]), float(r[4])] for r in rows])
    except (ValueError, IndexError) as exc:
        raise DataFileError(f"data file '{relative}' is not Draine's kext table: {exc}") from None
    if table.shape[0] < 2 or not np.all(np.isfinite(table)) or np.any(table <= 0):
        raise DataFileError(f"data file '{relative}': expected at least two rows of positive, "
                            "finite wavelengths and K_abs")
    lam, idx = np.unique(table[:, 0], return_index=True)
    return lam, table[idx, 1]


def kappa_cm2_g(lambda_um, relative: str = KAPPA_FILE):
    """kappa_abs(lambda) [cm^2/g of dust], log-log interpolation of Draine's table."""
    lam, kap = load_kappa(relative)
    x = np.log(np.asarray(lambda_um, dtype=float))
    if np.any(x < np.log(lam[0])) or np.any(x > np.log(lam[-1])):
        raise ValueError(f"lambda outside Draine's table ({lam[0]:g}-{lam[-1]:g} micron)")
    return np.exp(np.interp(x, np.log(lam), np.log(kap)))


def planck_lambda(lambda_cm, T_K):
    """Black-body spectral radiance B_lambda [erg s^-1 cm^-2 sr^-1 cm^-1] [T, eq. A4]."""
    lam = np.asarray(lambda_cm, dtype=float)
    x = H_ERG_S * C_CM_S / (lam * K_B_ERG_K * np.asarray(T_K, dtype=float))
    with np.errstate(over="ignore"):
        return 2.0 * H_ERG_S * C_CM_S ** 2 / lam ** 5 / np.expm1(x)


def photon_density_per_column(eps_eV, T_K, kappa_file: str = KAPPA_FILE):
    """dn/(d eps dOmega) per unit dust column [cm^-3 eV^-1 sr^-1 per (g cm^-2)] at temperature T.

    kappa B_lambda lambda / (c eps^2) [T, eq. A3, A6 with I_eps = I_lambda lambda / eps];
    outer product over eps_eV (n_eps,) and T_K (n_T,) -> (n_T, n_eps).
    """
    eps = np.asarray(eps_eV, dtype=float)
    lam_cm = HC_EV_CM / eps
    kap = kappa_cm2_g(lam_cm * 1e4, kappa_file)
    T = np.atleast_1d(np.asarray(T_K, dtype=float))
    B = planck_lambda(lam_cm[None, :], T[:, None])
    return kap * B * lam_cm / (C_CM_S * eps ** 2 * EV_ERG)


@dataclass(frozen=True)
class DustComponent:
    """One dust component: density rho0 exp(-R/r - |z|/z), temperature T_sun at R_sun."""
    name: str
    rho0_g_cm3: float
    r_kpc: float
    z_kpc: float
    T_sun_K: float


@dataclass(frozen=True)
class DustModel:
    """The two-component dust model with its temperature profile and kappa table."""
    components: tuple
    T_scale_kpc: float
    r_sun_kpc: float
    kappa_file: str = KAPPA_FILE

    @classmethod
    def from_config(cls, cfg) -> "DustModel":
        d = cfg.dust
        comps = (DustComponent("cold", d.cold_rho0_g_cm3, d.cold_r_kpc, d.cold_z_kpc,
                               d.cold_T_sun_K),
                 DustComponent("warm", d.warm_rho0_g_cm3, d.warm_r_kpc, d.warm_z_kpc,
                               d.warm_T_sun_K))
        return cls(comps, d.T_scale_kpc, cfg.observer.r_sun_kpc, d.kappa_file)

    def component_array(self) -> np.ndarray:
        """(n_components, 4): rho0 [g cm^-3], r [kpc], z [kpc], T_sun [K] (kernel input)."""
        return np.array([[c.rho0_g_cm3, c.r_kpc, c.z_kpc, c.T_sun_K] for c in self.components])

    def density_g_cm3(self, component: DustComponent, R_kpc, z_kpc):
        """Dust mass density of one component [T, eq. A5]."""
        return component.rho0_g_cm3 * np.exp(-np.asarray(R_kpc) / component.r_kpc
                                             - np.abs(np.asarray(z_kpc)) / component.z_kpc)

    def temperature_K(self, component: DustComponent, R_kpc):
        """Dust temperature of one component, falling exponentially with R."""
        return component.T_sun_K * np.exp(-(np.asarray(R_kpc) - self.r_sun_kpc) / self.T_scale_kpc)

    def emissivity(self, eps_eV, x_kpc):
        """Photon emissivity dn/(d eps dOmega) per unit path length [cm^-3 eV^-1 sr^-1 cm^-1]
        at Galactocentric points x (..., 3), summed over components: (..., n_eps)."""
        x = np.asarray(x_kpc, dtype=float)
        R = np.hypot(x[..., 0], x[..., 1])
        out = 0.0
        for c in self.components:
            T = self.temperature_K(c, R).ravel()
            J = photon_density_per_column(eps_eV, np.clip(T, 1e-3, None), self.kappa_file)
            out = out + (self.density_g_cm3(c, R, x[..., 2]).ravel()[:, None] * J).reshape(
                R.shape + (np.size(eps_eV),))
        return out


def direct_photon_density(model: DustModel, eps_eV, x0_kpc, look_dirs, s_max_kpc=80.0,
                          n_steps=6000):
    """dn/(d eps dOmega) at x0 [cm^-3 eV^-1 sr^-1] for photons arriving from each looking
    direction (n_dir, 3) (they travel along -look), by brute-force line-of-sight integration:
    the exact emissivity [eq. A3] at every node of a fine grid in s (n_steps nodes, dense
    near x0, plus nodes clustered where the ray crosses the plane), trapezoid rule (numba
    kernel ``direct_intensity``). Independent of the tabulation in
    :mod:`montecarlo.opacity.ratetables` (no temperature bins, no analytic vertical integration);
    used as its reference."""
    eps = np.asarray(eps_eV, dtype=float)
    lam_cm = HC_EV_CM / eps
    t = np.linspace(0.0, 1.0, n_steps)
    s = s_max_kpc * (np.expm1(12.0 * t) / np.expm1(12.0))        # dense near the point
    out = np.zeros((len(look_dirs), eps.size))
    direct_intensity(np.asarray(x0_kpc, dtype=float), np.ascontiguousarray(look_dirs, dtype=float),
                     s, model.component_array(), model.T_scale_kpc, model.r_sun_kpc, lam_cm, out)
    kap = kappa_cm2_g(lam_cm * 1e4, model.kappa_file)
    return out * KPC_CM * kap * lam_cm / (C_CM_S * eps ** 2 * EV_ERG)


def angle_integrated_density(model: DustModel, eps_eV, R_kpc, z_kpc=0.0, n_mu=96, n_phi=72,
                             n_steps=1500):
    """dn/d eps [cm^-3 eV^-1] of dust photons from all directions at (R, 0, z), by direct
    line-of-sight integration over a (sinh-spaced mu) x (uniform azimuth) direction grid."""
    look, weights = direction_grid(n_mu, n_phi)
    return weights @ direct_photon_density(model, eps_eV, [R_kpc, 0.0, z_kpc], look,
                                           n_steps=n_steps)


def direction_grid(n_mu: int, n_phi: int):
    """Unit vectors (n_mu n_phi, 3) and solid-angle weights [sr] of a direction grid:
    sinh-spaced cosines mu (:func:`direction_grid_mu`) x uniform azimuths about e_z."""
    mu, mu_w = direction_grid_mu(n_mu)
    phi = np.linspace(0.0, 2.0 * np.pi, n_phi, endpoint=False)
    st = np.sqrt(np.clip(1.0 - mu * mu, 0.0, 1.0))
    k = np.stack([np.outer(st, np.cos(phi)), np.outer(st, np.sin(phi)),
                  np.repeat(mu[:, None], n_phi, axis=1)], axis=-1).reshape(-1, 3)
    return k, np.repeat(mu_w, n_phi) * (2.0 * np.pi / n_phi)


def local_energy_density_eV_cm3(model: DustModel, R_kpc=None, z_kpc=0.0, **grid):
    """Dust photon energy density [eV cm^-3] at (R, z) (default: the Sun), direct integration."""
    R = model.r_sun_kpc if R_kpc is None else R_kpc
    eps = np.geomspace(1.25e-4, 1.0, 160)             # Draine's table ends at 1 cm
    return float(np.trapezoid(angle_integrated_density(model, eps, R, z_kpc, **grid) * eps, eps))


def local_colour_ratio(model: DustModel, lambda1_um=60.0, lambda2_um=100.0):
    """I_nu(lambda1) / I_nu(lambda2) of the dust emissivity at the Sun's position (the colour
    of the local dust emission, e.g. the IRAS 60/100 micron ratio)."""
    def i_nu(lam_um):
        lam = lam_um * 1e-4
        tot = 0.0
        for c in model.components:
            tot += (model.density_g_cm3(c, model.r_sun_kpc, 0.0)
                    * planck_lambda(lam, model.temperature_K(c, model.r_sun_kpc)))
        return lam ** 2 * kappa_cm2_g(lam_um, model.kappa_file) * tot
    return float(i_nu(lambda1_um) / i_nu(lambda2_um))


def direction_grid_mu(n: int, stretch: float = 5.0):
    """Cosines mu in [-1, 1], sinh-spaced (dense near the plane, mu = 0), and trapezoid
    weights (summing to 2)."""
    t = np.linspace(-1.0, 1.0, n)
    mu = np.sinh(stretch * t) / np.sinh(stretch)
    w = np.zeros(n)
    dm = np.diff(mu)
    w[:-1] += 0.5 * dm
    w[1:] += 0.5 * dm
    return mu, w
