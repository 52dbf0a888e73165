"""Physical constants and unit conversions (CGS) used throughout the package.

Values from astropy.constants (CODATA 2018) and the IAU parsec, frozen here as floats
so numba kernels can use them.
"""

C_CM_S = 2.99792458e10            # speed of light [cm/s]
KPC_CM = 3.0856775814913673e21    # kiloparsec [cm]
GYR_S = 3.15576e16                # gigayear (Julian) [s]
MB_CM2 = 1.0e-27                  # millibarn [cm^2]
M_P_EV = 938.27208816e6           # proton rest energy [eV]
GEV_EV = 1.0e9                    # GeV [eV]
M_HE_EV = 3727.3794066e6          # alpha-particle (helium-4 nucleus) rest energy [eV]
M_P_G = 1.67262192369e-24         # proton mass [g]
ERG_EV = 6.241509074e11           # erg [eV]

# Photon physics (pair production, photon fields): astropy.constants 8 (CODATA 2022).
M_E_EV = 510998.95069              # electron rest energy m_e c^2 [eV]
SIGMA_T_CM2 = 6.6524587051e-25     # Thomson cross-section [cm^2]
K_B_EV_K = 8.617333262e-05         # Boltzmann constant [eV/K]
H_EV_S = 4.135667696e-15           # Planck constant [eV s]
HC_EV_CM = 1.239841984e-04         # h c [eV cm]
EV_ERG = 1.602176634e-12           # electronvolt [erg]
MPC_CM = 3.0856775814913673e24     # megaparsec [cm]
H_ERG_S = 6.62607015e-27           # Planck constant [erg s]
K_B_ERG_K = 1.380649e-16           # Boltzmann constant [erg/K]
