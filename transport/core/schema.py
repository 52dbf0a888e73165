"""The configuration schema: every key, its type, allowed range and meaning.

Default values live in ``inputs/default.toml``; this module says what is allowed and checks
the combinations of keys that single-key ranges cannot (grid resolution of r_Q, history end
time, ...). Equation references: [C] = Kalashev & Troitsky 2016 (corona), docs/physics.md, sections 1-2.
"""
from __future__ import annotations

import math

from transport.core.keys import AUTO, Choice, Choices, Flag, Int, Real, Reals, Text
from transport.core.constants import M_P_EV
from transport.core.errors import ConfigError
from transport.hadronic.yields import MODELS

#: End of the seed's injection history [C, eq. 5]: h(t) reaches 0 at t = 12 Gyr.
SEED_HISTORY_END_GYR = 12.0
#: Grid cells near r_Q may be at most this fraction of r_Q wide.
MAX_RELATIVE_CELL_WIDTH = 0.25
#: Default top of the sky maps [eV] (sky.E_max_eV = "auto").
SKY_E_MAX_EV = 1e17
#: Minimum number of cells inside the source sphere r < r_Q.
MIN_CELLS_INSIDE_RQ = 8
#: Hottest dust the pair-production rate tables resolve [K] (their temperature bins).
MAX_DUST_T_K = 200.0

def _extra_section(label: str) -> dict:
    """Keys of an unresolved-source component of [L] (EXTRA1, EXTRA2): ECPL photons."""
    return {
        "Gamma": Real(f"photon index of {label}, q ~ E^-Gamma exp(-E/E_cut) [L]", lo=0, hi=10),
        "E_cut_eV": Real(f"photon cut-off energy of {label} [eV] [L]", lo=1e9, hi=1e21),
        "distribution": Choice(f"spatial distribution of {label} (see [distributions])",
                               "uniform", "snr_tibet", "snr_lhaaso", "pulsar"),
        "hadronic": Flag("true: neutrinos through [T] eq. 1; false (leptonic): no neutrinos"),
        "E_norm_eV": Real(f"photon energy where {label} is normalised [eV]", lo=1e9, hi=1e21),
        "norm": Real(f"{label} photon emissivity at its reference point and E_norm_eV, in units "
                     "of the local reference emissivity (free normalisation)", lo=0, hi=1e12),
    }


SCHEMA = {
    "observer": {
        "r_sun_kpc": Real("Galactocentric distance of the Sun [kpc]; where the CR flux is "
                          "normalised and where sky maps are seen from", lo=0, hi=1e3, lo_open=True),
    },
    "gas": {
        "profile": Choice('corona gas density: "max_beta" = pointwise maximum of the inner and '
                          'outer beta profiles [C, eq. 1-3]; "beta" = the single profile named '
                          'by gas.single; "uniform" = gas.uniform_n_cm3 everywhere inside '
                          'gas.R_max_kpc; "none" = no gas, no pp losses',
                          "max_beta", "beta", "uniform", "none"),
        "single": Choice('which beta profile gas.profile = "beta" uses', "outer", "inner"),
        "inner_n0_cm3": Real("central density of the inner (simulation-fit) beta profile "
                             "[cm^-3], [C, eq. 2]", lo=0, hi=1e4),
        "inner_beta": Real("beta of the inner profile [C, eq. 2]", lo=0, hi=10, lo_open=True),
        "outer_n0_cm3": Real("central density of the outer (observational best-fit) beta "
                             "profile [cm^-3], [C, eq. 3]", lo=0, hi=1e4),
        "outer_beta": Real("beta of the outer profile [C, eq. 3]", lo=0, hi=10, lo_open=True),
        "rc_kpc": Real("core radius of both beta profiles [kpc], [C, eq. 1]",
                       lo=0, hi=1e3, lo_open=True),
        "R_max_kpc": Real("gas density is zero beyond this radius [kpc]", lo=0, hi=1e5, lo_open=True),
        "uniform_n_cm3": Real('density of gas.profile = "uniform" [cm^-3]', lo=0, hi=1e4),
    },
    "hadronic": {
        "sigma_inel": Choice('inelastic pp cross-section: "kafexhiu2014" = Kafexhiu et al. 2014, '
                             'PRD 90, 123014, eq. 1; "constant" = hadronic.sigma_const_mb',
                             "kafexhiu2014", "constant"),
        "sigma_const_mb": Real('cross-section used when hadronic.sigma_inel = "constant" [mb]',
                               lo=0, hi=1e3),
        "yields": Choice('secondaries per pp collision: "aafrag" = AAfrag tables (QGSJET-II-04m, '
                         'via aafragpy) from 4 GeV with Kafexhiu 2014 (photons) / Kamae 2006 '
                         '(neutrinos) below; "kafexhiu2014" = Kafexhiu et al. 2014 (photons '
                         'only, T_p <= 1 PeV); "kamae2006" = Kamae et al. 2006 (T_p < 512 TeV); '
                         '"kelner2006" = Kelner, Aharonian & Bugayov 2006 (E_p = 0.1 TeV - '
                         '1e5 TeV, secondaries above 0.1 TeV)',
                         "aafrag", "kafexhiu2014", "kamae2006", "kelner2006"),
        "nuclear_enhancement": Real("factor multiplying every pp emissivity for the nuclei not "
                                    "modelled explicitly: helium and heavier in the cosmic rays "
                                    "and the gas for the corona (1 = protons on hydrogen only); "
                                    "for models with explicit helium projectiles (cocoons, disk "
                                    'spectrum "injection") set it for the gas composition only',
                                    lo=1, hi=10),
    },
    "neutrino": {
        "sin2_theta12": Real("sin^2 theta_12 of the PMNS matrix (default NuFIT 5.2, normal "
                             "ordering, with SK atmospheric data)", lo=0, hi=1),
        "sin2_theta23": Real("sin^2 theta_23 of the PMNS matrix", lo=0, hi=1),
        "sin2_theta13": Real("sin^2 theta_13 of the PMNS matrix", lo=0, hi=1),
        "delta_cp_deg": Real("Dirac CP phase of the PMNS matrix [deg]", lo=0, hi=360),
    },
    "diffusion": {
        "D0_cm2_s": Real("diffusion coefficient at 1 GeV [cm^2/s], D = D0 (E/1 GeV)^delta "
                         "[C, eq. 4]", lo=0, hi=1e36, lo_open=True),
        "delta": Real("energy index of D (1/3 = Kolmogorov)", lo=0, hi=1.5),
        "radial_profile": Choice('radial dependence of D: "constant", or "power_law" = '
                                 '(1 + r/diffusion.r_D_kpc)^diffusion.radial_index',
                                 "constant", "power_law"),
        "r_D_kpc": Real('scale radius of the "power_law" radial profile [kpc]',
                        lo=0, hi=1e5, lo_open=True),
        "radial_index": Real('index of the "power_law" radial profile', lo=-3, hi=3),
    },
    "source": {
        "alpha": Real("injection spectral index, Q ~ (E/1 GeV)^-alpha exp(-E/E_cut) "
                      "[C, eq. 5]", lo=0, hi=5, lo_open=True),
        "E_cut_eV": Real("exponential cut-off energy of the injection (total energy) [eV] "
                         "([C]'s E_max)", lo=1e9, hi=1e21, lo_open=True),
        "r_Q_kpc": Real("radius of the uniform source sphere [kpc]", lo=0, hi=1e4, lo_open=True),
        "history": Choice('injection history h(t): "seed" = [C, eq. 5] (valid to 12 Gyr); '
                          '"constant" = 1', "seed", "constant"),
    },
    "grid": {
        "E_min_eV": Real("lowest proton total energy of the grid [eV]", lo=M_P_EV, hi=1e21, lo_open=True),
        "E_max_eV": Real('highest proton total energy [eV]; "auto" = 30 source.E_cut_eV',
                         lo=M_P_EV, hi=1e21, lo_open=True, auto=True),
        "E_per_decade": Int("energy grid points per decade (log-spaced)", lo=1, hi=200),
        "r_min_kpc": Real("radius of the innermost cell [0, r_min] [kpc] (>= 1e-6 kpc = 0.2 AU: "
                          "smaller cells underflow the cell volumes in cm^3)", lo=1e-6, hi=100),
        "r_out_kpc": Real("outer boundary, j = 0 there [kpc]; far beyond 250 kpc so results "
                          "do not depend on it", lo=1, hi=1e6),
        "cells_per_decade": Int("radial cells per decade of the log-graded grid", lo=2, hi=1000),
    },
    "time": {
        "t_end_gyr": Real("present day, time since the Galaxy's start [Gyr]", lo=0, hi=100, lo_open=True),
        "dt_max_gyr": Real("largest time step [Gyr]; steps also land on history kinks and "
                           "snapshots", lo=0, hi=1, lo_open=True),
        "startup_steps": Int("backward-Euler sub-steps replacing the first Crank-Nicolson step "
                             "(Rannacher start-up)", lo=0, hi=100),
        "snapshots_gyr": Reals("extra output times [Gyr] (each in (0, t_end])", lo=0, lo_open=True),
    },
    "normalization": {
        "mode": Choice('"observed_flux" = scale the source so the proton intensity (beta c/4pi) j '
                       'at observer.r_sun_kpc touches the reference flux from below; "rate" = no '
                       'rescaling, Q = normalization.Q0_cm3_s_eV (E/1 GeV)^-alpha exp(-E/E_cut) h(t) '
                       'Theta(r_Q - r)', "observed_flux", "rate"),
        "reference": Choice('observed flux for "observed_flux" (docs/normalization.md): '
                            '"H3a_protons" = proton component of Gaisser 2012 H3a (default: the '
                            'model transports protons), "GSF_protons" = protons of the Global '
                            'Spline Fit (Dembinski et al. 2017; needs the globalsplinefit package), '
                            '"H3a_all" = H3a all-particle (conservative upper bound, ~5x more '
                            'emission)', "H3a_protons", "GSF_protons", "H3a_all"),
        "E_min_eV": Real('lowest grid energy where the model may touch the reference [eV] '
                         '(default 1e10: below 10 GeV solar modulation shapes the measured flux); '
                         '"auto" = every grid energy', lo=M_P_EV, hi=1e21, lo_open=True, auto=True),
        "Q0_cm3_s_eV": Real('source amplitude at 1 GeV in mode "rate" [cm^-3 s^-1 eV^-1] (the '
                            'observed flux needs ~3e-34; above 1e100 densities and intensities '
                            'would overflow double precision)', lo=0, hi=1e100, lo_open=True),
    },
    "emission": {
        "models": Choices("emission models tabulated by `corona transport` (written to "
                          "/emission/<model>/<particle>): corona [C, eq. 6], disk [T, L], "
                          "cocoons [K], extra1 and extra2 [L]",
                          "corona", "disk", "cocoons", "extra1", "extra2", "sea"),
        "particles": Choices('particles tabulated: "gamma"; "nu" = all flavours, neutrinos + '
                             'antineutrinos; "nu_e", "nu_mu", "nu_tau" = one flavour at Earth '
                             'after oscillations', "gamma", "nu", "nu_e", "nu_mu", "nu_tau"),
        "E_min_eV": Real("lowest secondary (photon, neutrino) energy of the tables [eV]",
                         lo=1e9, hi=1e21),
        "E_max_eV": Real('highest secondary energy [eV]; "auto" = grid.E_max_eV, at most the '
                         "highest primary energy of hadronic.yields", lo=1e9, hi=1e21, auto=True),
        "E_per_decade": Int("secondary energies per decade (log-spaced)", lo=1, hi=200),
    },
    "galaxy": {
        "n_H_cm3": Real("hydrogen density of the local reference emissivity that normalises "
                        "the Galactic-plane models (H3a nucleons on this gas) [cm^-3]",
                        lo=0, hi=1e4, lo_open=True),
        "D_delta": Real("rigidity index of the Galactic diffusion coefficient, D ~ R^delta, "
                        "turning injection into the Galactic spectrum Q/D ([L] Table I)",
                        lo=0, hi=1.5),
        "R_max_kpc": Real("Galactic-plane tables extend to this cylindrical radius [kpc]",
                          lo=0.1, hi=1e3),
        "z_max_kpc": Real("Galactic-plane tables extend to this height |z| [kpc]", lo=0, hi=1e3, lo_open=True),
        "R_per_decade": Int("radial nodes per decade of the plane tables (log-spaced from "
                            "0.01 kpc, plus R = 0)", lo=5, hi=1000),
        "z_step_kpc": Real("height step of the plane tables [kpc]", lo=0, hi=1e3, lo_open=True),
    },
    "distributions": {
        "uniform_R_kpc": Real('radius of the "uniform" disk [kpc] [T, eq. 8]', lo=0, hi=1e3, lo_open=True),
        "uniform_z_kpc": Real('half-thickness of the "uniform" disk [kpc] [T, eq. 8]', lo=0, hi=1e3, lo_open=True),
        "snr_tibet_zeta": Real('radial index zeta of "snr_tibet" [T, eq. 9] (Green 2015)', lo=0, hi=20),
        "snr_tibet_eta": Real('radial exponent eta of "snr_tibet" [T, eq. 9]', lo=0, hi=100, lo_open=True),
        "snr_tibet_z_kpc": Real('scale height z_g of "snr_tibet" [kpc]', lo=0, hi=1e3, lo_open=True),
        "snr_tibet_R_ref_kpc": Real('reference radius R_sun of "snr_tibet" [kpc]', lo=0, hi=1e3, lo_open=True),
        "snr_lhaaso_zeta": Real('radial index of "snr_lhaaso" [L, eq. 2]', lo=0, hi=20),
        "snr_lhaaso_eta": Real('radial exponent of "snr_lhaaso" [L, eq. 2]', lo=0, hi=100, lo_open=True),
        "snr_lhaaso_z_kpc": Real('scale height z_s of "snr_lhaaso" [kpc]', lo=0, hi=1e3, lo_open=True),
        "snr_lhaaso_R_ref_kpc": Real('reference radius r_sun of "snr_lhaaso" [kpc]', lo=0, hi=1e3, lo_open=True),
        "pulsar_B": Real('radial index B of "pulsar" (Lorimer et al. 2006, MNRAS 372, 777, eq. 10)', lo=0, hi=20),
        "pulsar_C": Real('radial exponent C of "pulsar" (Lorimer et al. 2006, eq. 10)', lo=0, hi=100, lo_open=True),
        "pulsar_z_kpc": Real('exponential scale height of "pulsar" [kpc] (Lorimer et al. 2006)', lo=0, hi=1e3, lo_open=True),
        "pulsar_R_ref_kpc": Real('reference radius R_sun of "pulsar" [kpc]', lo=0, hi=1e3, lo_open=True),
    },
    "disk": {
        "distribution": Choice("CR x gas distribution of the Galactic-plane emission (see "
                               "[distributions])", "uniform", "snr_tibet", "snr_lhaaso", "pulsar"),
        "spectrum": Choice('"A" / "B" = all-flavour neutrino models of [T] App. B (eq. B7, B8), '
                           'photons through [T] eq. 1; "injection" = pp secondaries of the [L] '
                           'Galactic protons and helium Q(R)/D(R) (disk.injection)',
                           "A", "B", "injection"),
        "injection": Choice('[L] Table II column set used by spectrum = "injection": '
                            '"DR-high" (IceTop) or "DR-low" (KASCADE)', "DR-high", "DR-low"),
        "E_norm_eV": Real("photon energy where the model is normalised [eV]", lo=1e9, hi=1e21),
        "norm": Real("photon emissivity at the distribution's reference point and "
                     "disk.E_norm_eV, in units of the local reference emissivity (galaxy.n_H_cm3)",
                     lo=0, hi=1e12),
    },
    "extra1": _extra_section("EXTRA1"),
    "extra2": _extra_section("EXTRA2"),
    "cocoons": {
        "chi0_g_cm2": Real("source grammage chi_0 of chi_c(R) = chi_0 exp(-R/R0) [g cm^-2] [K, eq. 4]",
                           lo=0, hi=1e3),
        "R0_V": Real("rigidity scale R0 of the source grammage [V] (20 TV) [K, eq. 4]",
                     lo=0, hi=1e21, lo_open=True),
        "L_CR_erg_s": Real("total cosmic-ray power of the Galaxy, protons and helium with kinetic "
                           "energy above 1 GeV [erg/s]", lo=0, hi=1e50),
        "injection": Choice('[L] Table II column set of the injection spectra, or "sea" = the '
                            "injection of the [sea] model (its shape and power)",
                            "DR-high", "DR-low", "sea"),
        "distribution": Choice("source (cocoon) distribution, normalised to unit volume "
                               "(see [distributions])", "uniform", "snr_tibet", "snr_lhaaso", "pulsar"),
    },
    "sea": {
        "gas": Choice('interstellar gas of the CR sea: "nakanishi_sofue" = H I (2003) + H2 (2006) '
                      'in the analytic form of DRAGON; "galprop" = GALPROP\'s analytic gas (Gordon & '
                      "Burton 1976, Dickey & Lockman 1990, Cox et al. 1986 H I; Bronfman et al. "
                      "1988 CO x sea.X_CO) (docs/papers.md)", "nakanishi_sofue", "galprop"),
        "X_CO": Real('CO-to-H2 factor of sea.gas = "galprop" [cm^-2 (K km/s)^-1] (Strong & '
                     "Mattox 1996: 1.9e20)", lo=1e19, hi=1e22),
        "ionised_gas": Flag("add the warm ionised hydrogen of Cordes et al. 1991 to the target"),
        "transport": Choice('diffusion in the halo: "uniform" = D0 (rho/rho0)^galaxy.D_delta '
                            'everywhere; "kra_gamma" = delta(R) = A min(R, R_A) + B (Gaggero et '
                            'al. 2015)', "uniform", "kra_gamma"),
        "injection": Choice("[L] Table II set of the local spectra: DR-high (IceTop, [D] Max) or "
                            "DR-low (KASCADE, [D] Min)", "DR-high", "DR-low"),
        "source": Choice("CR source distribution (see [distributions])",
                         "uniform", "snr_tibet", "snr_lhaaso", "pulsar"),
        "halo_kpc": Real("half-height H of the diffusion halo [kpc] ([L] Table I: 6.3)", lo=0.1, hi=100),
        "R_halo_kpc": Real("radius of the diffusion halo [kpc]", lo=1, hi=100),
        "D0_cm2_s": Real("diffusion coefficient at sea.rho0_V [cm^2/s] (sets the CR power only: "
                         "the sea is normalised to the local spectrum)", lo=1e25, hi=1e32),
        "rho0_V": Real("reference rigidity of D [V]", lo=1e8, hi=1e13),
        "kra_A_per_kpc": Real('slope A of delta(R) for "kra_gamma" [1/kpc]', lo=-1, hi=1),
        "kra_B": Real('delta at R = 0 for "kra_gamma"', lo=0, hi=1.5),
        "kra_R_kpc": Real('delta(R) is constant beyond this radius for "kra_gamma" [kpc]', lo=0, hi=100),
        "R_step_kpc": Real("radial cell size of the diffusion solver and the table [kpc]",
                           lo=0.01, hi=5),
        "z_step_kpc": Real("vertical cell size of the diffusion solver [kpc]", lo=0.005, hi=1),
        "rho_per_decade": Int("rigidities per decade of the tabulated transport response", lo=1, hi=50),
    },
    "fields": {
        "cmb_T0_K": Real("present-day CMB temperature [K]; T(z) = T0 (1 + z) (Fixsen 2009)",
                         lo=0, hi=100, lo_open=True),
        "ebl_model": Choice('EBL photon-density model from ebltable (docs/physics.md, section 4); '
                            '"dominguez" = Dominguez et al. 2011',
                            "dominguez", "dominguez-upper", "dominguez-lower", "franceschini",
                            "kneiske", "saldana-lopez", "gilmore", "gilmore-fixed", "finke",
                            "finke2022", "cuba"),
        "tabulated_file": Text('isotropic photon field of the field name "tabulated": a table in '
                               'inputs/ (or an absolute path) of dn/d eps [cm^-3 eV^-1] vs eps '
                               '[eV] and redshift (format in inputs/fields/README.md); "" = none'),
    },
    "dust": {
        "cold_rho0_g_cm3": Real("central dust mass density of the cold component [g cm^-3] "
                                "(Misiriotis et al. 2006, Table 2)", lo=0, hi=1e-15),
        "cold_r_kpc": Real("radial scale length of the cold dust [kpc]", lo=0, hi=100, lo_open=True),
        "cold_z_kpc": Real("vertical scale height of the cold dust [kpc]", lo=0, hi=10, lo_open=True),
        "cold_T_sun_K": Real("cold-dust temperature at the Sun's radius [K]", lo=0, hi=500,
                             lo_open=True),
        "warm_rho0_g_cm3": Real("central dust mass density of the warm component [g cm^-3] "
                                "(Misiriotis et al. 2006, Table 2)", lo=0, hi=1e-15),
        "warm_r_kpc": Real("radial scale length of the warm dust [kpc]", lo=0, hi=100, lo_open=True),
        "warm_z_kpc": Real("vertical scale height of the warm dust [kpc]", lo=0, hi=10, lo_open=True),
        "warm_T_sun_K": Real("warm-dust temperature at the Sun's radius [K]", lo=0, hi=500,
                             lo_open=True),
        "T_scale_kpc": Real("dust temperatures fall as exp(-(R - observer.r_sun_kpc) / T_scale) [kpc]",
                            lo=0, hi=1e4, lo_open=True),
        "kappa_file": Text("dust absorption cross-section per gram (Draine 2003 format) in inputs/"),
    },
    "opacity": {
        "dust_mode": Choice('dust pair-production rate: "anisotropic" = full angular integral '
                            '(docs/physics.md, section 4, eq. 1); "angle_averaged" = isotropic '
                            'approximation of the local photon density (faster; docs/opacity.md '
                            'gives its error)', "anisotropic", "angle_averaged"),
        "grid": Choice('resolution of the dust rate table: "fine" (default, < 1 % from the '
                       'direct calculation) or "coarse" (CI-size, a few %)', "fine", "coarse"),
        "cache_dir": Text('directory for the cached rate tables; "auto" = $CORONA_CACHE_DIR, '
                          'else $XDG_CACHE_HOME/corona, else ~/.cache/corona'),
        "path_segment_kpc": Real("Galactic path integrals: Gauss-Legendre segments at most "
                                 "this long [kpc]", lo=0.001, hi=10),
    },
    "cosmology": {
        "H0_km_s_Mpc": Real("Hubble constant [km/s/Mpc] (flat LambdaCDM via astropy; "
                            "h = 0.7, Omega_m = 0.3 as ebltable's tau tables)", lo=1, hi=1000),
        "Omega_m": Real("matter density today (flat: Omega_Lambda = 1 - Omega_m)", lo=0, hi=1,
                        lo_open=True),
    },
    "sky": {
        "models": Choices("emission models mapped by `corona sky` (see [emission])",
                          "corona", "disk", "cocoons", "extra1", "extra2", "sea"),
        "particles": Choices('particles mapped: "gamma" (attenuated by sky.fields) and '
                             'neutrinos ("nu" all flavours, or one flavour; never attenuated)',
                             "gamma", "nu", "nu_e", "nu_mu", "nu_tau"),
        "nside": Int("HEALPix resolution of the maps (a power of 2)", lo=1, hi=2048),
        "E_min_eV": Real('lowest map energy [eV]; "auto" = emission.E_min_eV', lo=1e9, hi=1e21,
                         auto=True),
        "E_max_eV": Real('highest map energy [eV] (within the emission tables); "auto" = 1e17 '
                         "eV or the top of the emission tables if lower", lo=1e9, hi=1e21, auto=True),
        "E_per_decade": Int("map energies per decade (log-spaced)", lo=1, hi=100),
        "map_E_eV": Real("energy of the Mollweide map drawn with --plots [eV] (the nearest map "
                         "energy is drawn)", lo=1e9, hi=1e21),
        "attenuate": Flag("attenuate gamma rays by pair production on sky.fields"),
        "fields": Choices("photon fields attenuating the gamma rays (docs/physics.md, section 4)",
                          "cmb", "dust", "ebl", "tabulated"),
        "regions": Choices("sky regions whose averages are written (Galactic l, b boxes of "
                           "docs/physics.md, section 5; galactic_plane = all l, |b| < 5 deg; "
                           "lhaaso_* without its LHAASO source mask: _unmasked, docs/sky.md)",
                           "tibet_A", "tibet_B", "lhaaso_inner", "lhaaso_outer",
                           "lhaaso_inner_wcda", "lhaaso_outer_wcda", "lhaaso_inner_unmasked",
                           "lhaaso_outer_unmasked", "galactic_plane", "all_sky"),
        "custom_region": Reals("an extra region [l_min, l_max, b_min, b_max] in degrees "
                               "(l wraps through 360 when l_min > l_max); [] = none"),
        "mask_file": Text('exclusion mask for the region averages: a HEALPix FITS map '
                          '(non-zero = excluded) or a table of discs l_deg b_deg radius_deg; '
                          '"" = none'),
    },
    "galactic_plane": {
        "fit": Flag("fit the four [T] cases (uniform / snr_tibet x spectrum A / B) to Tibet "
                    "ASgamma in `corona sky` and `corona run`"),
        "last_bin_fraction": Real("fraction of the last Tibet bin's value and errors used in the "
                                  "fit ([T] eq. 12: 0.6, removing the Cygnus Cocoon events)",
                                  lo=0, hi=1, lo_open=True),
        "E_min_eV": Real("lowest energy of the fitted model spectra [eV]", lo=1e9, hi=1e21),
        "E_max_eV": Real("highest energy of the fitted model spectra [eV]", lo=1e9, hi=1e21),
        "E_per_decade": Int("energies per decade of the fitted model spectra", lo=1, hi=100),
    },
    "mc": {
        "models": Choices("emission models propagated by `corona mc` (see [emission])",
                          "corona", "disk", "cocoons", "extra1", "extra2", "sea"),
        "particles": Choices('particles propagated: "gamma" (attenuated by mc.fields) and '
                             'neutrinos (never attenuated)', "gamma", "nu", "nu_e", "nu_mu", "nu_tau"),
        "E_eV": Reals("tally energies [eV] (within the emission tables; every photon history is "
                      "transported at each)", lo=1e9, hi=1e21),
        "n_photons": Int("photon histories per model x particle", lo=1, hi=10 ** 15),
        "seed": Int("run seed: batch b draws from the stream (seed, b), whatever the ranks",
                    lo=0, hi=2 ** 63 - 1),
        "nside": Int("HEALPix resolution of the Monte Carlo maps (a power of 2)", lo=1, hi=1024),
        "estimator": Choice('"analog" (photons survive or pair-produce) or "expected" '
                            '(transmission weights; lower variance)', "analog", "expected"),
        "fields": Choices("photon fields attenuating the gamma rays (docs/physics.md, section 4)",
                          "cmb", "dust", "ebl", "tabulated"),
        "regions": Choices("sky regions whose averages are tallied",
                           "tibet_A", "tibet_B", "lhaaso_inner", "lhaaso_outer",
                           "lhaaso_inner_wcda", "lhaaso_outer_wcda", "lhaaso_inner_unmasked",
                           "lhaaso_outer_unmasked", "galactic_plane", "all_sky"),
        "batch_photons": Int("photon histories per batch (the unit of random streams and work)",
                             lo=1, hi=10 ** 9),
        "checkpoint_batches": Int("batches between MPI reductions and checkpoints (the "
                                  "checkpoint interval)", lo=1, hi=10 ** 9),
        "emission_file": Text('HDF5 file written by `corona transport` (or `corona sky`) whose '
                              '/emission tables are propagated instead of recomputing them; '
                              '"" = compute the emission from the config'),
    },
    "extragalactic": {
        "ebl_model": Choice("EBL photon density of the cascade and absorption (ebltable; "
                            "docs/physics.md, section 4)", "dominguez", "dominguez-upper",
                            "dominguez-lower", "franceschini", "kneiske", "saldana-lopez",
                            "gilmore", "gilmore-fixed", "finke", "finke2022"),
        "cosmology": Choice('"planck18" (Planck 2018) or "seed" (flat H0 = 70, Omega_m = 0.3, '
                            "as in [C])", "planck18", "seed"),
        "imf": Choice("IMF of the stellar-mass density rho*(z) (Madau & Dickinson 2014 eq. 15 "
                      "and 2; chabrier = 0.61 x salpeter, consistent with M*_MW)",
                      "chabrier", "salpeter"),
        "m_star_mw_msun": Real("Milky Way stellar mass [M_sun] (McMillan 2011)", lo=1e9, hi=1e12),
        "z_max": Real("upper redshift of the cosmological sum (at most the EBL model's range, "
                      "3.9 for dominguez, and the response table's last node)", lo=0.01, hi=10),
        "E_min_eV": Real("lowest observed photon energy followed by the cascade [eV]", lo=1e7, hi=1e10),
        "E_max_eV": Real("highest energy of the output spectra [eV]", lo=1e10, hi=1e19),
        "E_per_decade": Int("energies per decade of the output spectra", lo=1, hi=100),
        "thinning": Real("thinning exponent a of the cascade Monte Carlo, children kept with "
                         "probability (E_i / E)^a (0 = all)", lo=0, hi=1),
        "ic_group": Real("largest energy fraction of one grouped inverse-Compton step",
                         lo=1e-4, hi=0.2),
        "table_primaries_per_cell": Int("Monte Carlo primaries per (E_inj, z_inj) node of the "
                                        "response table", lo=1, hi=10**7),
        "seed": Int("random seed of the cascade Monte Carlo", lo=0, hi=2**62),
        "directions": Int("Gauss-Legendre directions (in the angle from the Galactic centre) "
                          "of the Milky Way corona's all-sky average and dipole", lo=4, hi=256),
        "xi": Real('override of [C]\'s xi = I_MW(anticentre) / I_EG of the neutrinos at 100 TeV: '
                   'the whole extragalactic part (direct, cascade, neutrinos) is multiplied by one '
                   'factor so that xi takes this value, as if rho*/M*_MW were rescaled; '
                   '"self-consistent" = no override, the xi that follows from rho*(z) and M*_MW '
                   '(docs/extragalactic.md, section 1)', lo=0, lo_open=True, auto=True,
                   auto_word="self-consistent"),
    },
    "pipeline": {
        "mc": Choice('`corona run`: Monte Carlo stage (montecarlo.propagation): "auto" = when '
                     'installed, "on" = required, "off"', "auto", "on", "off"),
        "extragalactic": Choice('`corona run`: extragalactic sum + cascade stage '
                                '(montecarlo.cascade): "auto", "on" or "off"', "auto", "on", "off"),
        "kernel_subdivision": Int("fast evaluation: radial sub-nodes per emission-table interval "
                                  "(linear hat functions between them)", lo=1, hi=64),
    },
}


def resolve_and_check(cfg: dict) -> None:
    """Resolve "auto" values in place and check combinations of keys."""
    grid, source, time = cfg["grid"], cfg["source"], cfg["time"]
    if grid["E_max_eV"] == AUTO:
        grid["E_max_eV"] = min(30.0 * source["E_cut_eV"], 1e21)
    if grid["E_min_eV"] >= grid["E_max_eV"]:
        raise ConfigError(
            f"grid.E_min_eV = {grid['E_min_eV']:g} must be below grid.E_max_eV = "
            f"{grid['E_max_eV']:g}")

    r_min, r_out, r_Q = grid["r_min_kpc"], grid["r_out_kpc"], source["r_Q_kpc"]
    if r_out <= 10 * r_min:
        raise ConfigError(f"grid.r_out_kpc = {r_out:g} must exceed 10 grid.r_min_kpc = {10 * r_min:g}")
    if not r_min < r_Q < r_out:
        raise ConfigError(
            f"source.r_Q_kpc = {r_Q:g} must lie between grid.r_min_kpc = {r_min:g} and "
            f"grid.r_out_kpc = {r_out:g}")
    r_sun = cfg["observer"]["r_sun_kpc"]
    if not r_min < r_sun < r_out:
        raise ConfigError(
            f"observer.r_sun_kpc = {r_sun:g} must lie between grid.r_min_kpc = {r_min:g} and "
            f"grid.r_out_kpc = {r_out:g}")
    cpd = grid["cells_per_decade"]
    width = 10 ** (1.0 / cpd) - 1.0
    if width > MAX_RELATIVE_CELL_WIDTH:
        need = math.ceil(1.0 / math.log10(1.0 + MAX_RELATIVE_CELL_WIDTH))
        raise ConfigError(
            f"grid.cells_per_decade = {cpd} is too coarse to resolve source.r_Q_kpc = {r_Q:g}: "
            f"cells are {100 * width:.0f}% of r wide, at most {100 * MAX_RELATIVE_CELL_WIDTH:.0f}% "
            f"allowed (cells_per_decade >= {need})")
    inside = 1 + math.ceil(cpd * (math.log10(r_Q) - math.log10(r_min)) - 1e-9)   # no overflow
    if inside < MIN_CELLS_INSIDE_RQ:
        raise ConfigError(
            f"source.r_Q_kpc = {r_Q:g} is resolved by only {inside} cells with grid.r_min_kpc = "
            f"{r_min:g} and grid.cells_per_decade = {cpd}; at least {MIN_CELLS_INSIDE_RQ} needed "
            "(lower grid.r_min_kpc or raise grid.cells_per_decade)")

    E_norm = cfg["normalization"]["E_min_eV"]
    if (cfg["normalization"]["mode"] == "observed_flux" and E_norm != AUTO
            and E_norm > grid["E_max_eV"]):
        raise ConfigError(f"normalization.E_min_eV = {E_norm:g} must not exceed grid.E_max_eV = "
                          f"{grid['E_max_eV']:g} (in normalization.mode = \"observed_flux\" the "
                          "model touches the reference at a grid energy >= E_min_eV)")

    t_end = time["t_end_gyr"]
    if source["history"] == "seed" and t_end > SEED_HISTORY_END_GYR:
        raise ConfigError(
            f"time.t_end_gyr = {t_end:g} is beyond the seed injection history, which ends at "
            f"{SEED_HISTORY_END_GYR:g} Gyr (h = 0): use t_end_gyr <= {SEED_HISTORY_END_GYR:g} or "
            'source.history = "constant"')
    _check_emission(cfg)
    _check_sky(cfg)
    dust = cfg["dust"]
    for comp in ("cold", "warm"):
        ln_T_centre = math.log(dust[f"{comp}_T_sun_K"]) + r_sun / dust["T_scale_kpc"]
        if ln_T_centre > math.log(MAX_DUST_T_K):
            r_sun_max = dust["T_scale_kpc"] * math.log(MAX_DUST_T_K / dust[f"{comp}_T_sun_K"])
            raise ConfigError(
                f"observer.r_sun_kpc = {r_sun:g} with dust.{comp}_T_sun_K = "
                f"{dust[f'{comp}_T_sun_K']:g} and dust.T_scale_kpc = {dust['T_scale_kpc']:g} "
                f"makes the {comp} dust {math.exp(min(ln_T_centre, 700.0)):.3g} K at the Galactic "
                f"centre (T = T_sun exp(r_sun / T_scale)); the rate tables resolve dust up to "
                f"{MAX_DUST_T_K:g} K, so with these dust settings observer.r_sun_kpc must be <= "
                f"{max(r_sun_max, 0.0):.4g} (or lower dust.{comp}_T_sun_K, or raise dust.T_scale_kpc)")

    late = [t for t in time["snapshots_gyr"] if t > t_end]
    if late:
        raise ConfigError(
            f"time.snapshots_gyr = {time['snapshots_gyr']} has times after time.t_end_gyr = "
            f"{t_end:g}: each snapshot must be in (0, t_end]")


def _require_yields_for(key: str, particles, yields: str) -> None:
    """No neutrinos asked of a photons-only yield model."""
    nus = [p for p in particles if p != "gamma"]
    if nus and "nu_e" not in MODELS[yields].channels:
        raise ConfigError(f'{key} = {list(particles)} asks for {nus} but hadronic.yields = '
                          f'"{yields}" gives photons only: use {key} = ["gamma"] or other yields')


def _check_sky(cfg: dict) -> None:
    """Map and fit energies in order and inside the emission tables; a valid custom region."""
    sky, gp, em = cfg["sky"], cfg["galactic_plane"], cfg["emission"]
    top = em["E_max_eV"]
    if top == AUTO:
        top = min(cfg["grid"]["E_max_eV"], MODELS[cfg["hadronic"]["yields"]].secondary_max_eV)
    if sky["E_min_eV"] == AUTO:
        sky["E_min_eV"] = em["E_min_eV"]
    if sky["E_max_eV"] == AUTO:
        sky["E_max_eV"] = min(SKY_E_MAX_EV, top)
    for section, values in (("sky", sky), ("galactic_plane", gp)):
        lo, hi = values["E_min_eV"], values["E_max_eV"]
        if lo >= hi:
            raise ConfigError(f"{section}.E_min_eV = {lo:g} must be below {section}.E_max_eV = {hi:g}")
    if "corona" in sky["models"]:
        _require_yields_for("sky.particles", sky["particles"], cfg["hadronic"]["yields"])
    if sky["E_min_eV"] < em["E_min_eV"] or sky["E_max_eV"] > top:
        raise ConfigError(
            f"sky.E_min_eV = {sky['E_min_eV']:g} .. sky.E_max_eV = {sky['E_max_eV']:g} must lie "
            f"within the emission tables, emission.E_min_eV = {em['E_min_eV']:g} .. {top:g} eV")
    nside = sky["nside"]
    if nside & (nside - 1):
        raise ConfigError(f"sky.nside = {nside} is not allowed: expected a power of 2 (1 ... 2048)")
    region = sky["custom_region"]
    if region and (len(region) != 4 or not -90.0 <= region[2] < region[3] <= 90.0):
        raise ConfigError(f"sky.custom_region = {region} is not allowed: expected [] or [l_min, "
                          "l_max, b_min, b_max] in degrees with -90 <= b_min < b_max <= 90")


def _check_emission(cfg: dict) -> None:
    """The emission energies and normalisation energies inside the range of hadronic.yields,
    and no neutrinos requested from a photons-only yield model."""
    name = cfg["hadronic"]["yields"]
    spec = MODELS[name]
    lo, hi = spec.secondary_min_eV, spec.secondary_max_eV
    em = cfg["emission"]
    _require_yields_for("emission.particles", em["particles"], name)
    checks = [("emission.E_min_eV", em["E_min_eV"])]
    if em["E_max_eV"] != AUTO:
        checks.append(("emission.E_max_eV", em["E_max_eV"]))
    checks += [(f"{s}.E_norm_eV", cfg[s]["E_norm_eV"]) for s in ("disk", "extra1", "extra2")]
    for key, value in checks:
        if not lo <= value <= hi:
            raise ConfigError(f'{key} = {value:g} is outside the range of hadronic.yields = '
                              f'"{name}": expected {lo:g} <= {key.split(".")[1]} <= {hi:g}')
    if em["E_max_eV"] != AUTO and em["E_max_eV"] > cfg["grid"]["E_max_eV"]:
        raise ConfigError(
            f"emission.E_max_eV = {em['E_max_eV']:g} is above the proton grid, grid.E_max_eV = "
            f"{cfg['grid']['E_max_eV']:g}: secondaries there would be missing their parents "
            '(lower it, raise grid.E_max_eV, or use "auto")')
    top = em["E_max_eV"] if em["E_max_eV"] != AUTO else min(cfg["grid"]["E_max_eV"], hi)
    if em["E_min_eV"] >= top:
        raise ConfigError(f"emission.E_min_eV = {em['E_min_eV']:g} must be below the highest "
                          f"emission energy {top:g} (emission.E_max_eV = {em['E_max_eV']!r})")
