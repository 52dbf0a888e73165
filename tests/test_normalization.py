"""The normalisation default (docs/normalization.md): observed proton flux, E >= 10 GeV,
intensity (beta c/4pi) j."""
import numpy as np
import pytest

import transport
from transport.core.constants import C_CM_S, M_P_EV
from transport.core.errors import ConfigError
from transport.cosmicrays.normalization import proton_beta, proton_intensity, reference_flux


def test_default_reference_is_the_proton_flux_above_10_gev():
    cfg = transport.load_config()
    assert cfg.normalization.reference == "H3a_protons"
    assert cfg.normalization.E_min_eV == 1e10


def test_intensity_carries_the_proton_speed():
    """beta = sqrt(1 - (m/E)^2) for total energy E: 1/2 at E = 2/sqrt(3) m_p, sqrt(3)/2 at
    2 m_p (exact, so rtol 1e-12); -> 1 at 1 TeV to 4e-7."""
    E = np.array([2 / np.sqrt(3) * M_P_EV, 2 * M_P_EV, 1e12])
    np.testing.assert_allclose(proton_beta(E), [0.5, np.sqrt(3) / 2, 1.0], rtol=1e-6, atol=0)
    j = np.array([[1.0, 2.0]] * 3)
    np.testing.assert_allclose(proton_intensity(E, j)[:, 1],
                               2.0 * C_CM_S / (4 * np.pi) * proton_beta(E), rtol=1e-12, atol=0)


def test_gsf_protons_agree_with_h3a_protons_within_their_spread():
    """GSF 2017 and H3a protons are fits to the same direct data below the knee: at 1 TeV
    E^2.7 flux 9.5e3 vs 1.05e4 GeV^1.7 m^-2 s^-1 sr^-1 (10 %); 20 % tolerance catches a wrong
    unit or species (factors >= 2) while allowing the models' known difference."""
    E = np.geomspace(1e11, 1e14, 7)
    np.testing.assert_allclose(reference_flux(E, "GSF_protons"), reference_flux(E, "H3a_protons"),
                               rtol=0.2, atol=0)
    gsf_tev = 1e3 ** 2.7 * reference_flux(1e12, "GSF_protons") / 1e-13
    assert gsf_tev == pytest.approx(9.5e3, rel=0.02, abs=0)


def test_unknown_reference_is_a_config_error():
    with pytest.raises(ConfigError, match="normalization.reference"):
        reference_flux(1e12, "GSF")


def test_normalisation_threshold_applies_only_when_normalising():
    """A grid ending below 10 GeV cannot be normalised above 10 GeV (clear error naming the
    key), but is fine in mode "rate", where no normalisation happens."""
    low = {"grid.E_max_eV": 5e9, "emission.models": ["disk"], "emission.E_max_eV": 5e9}
    with pytest.raises(ConfigError, match="normalization.E_min_eV = 1e\\+10 must not exceed"):
        transport.load_config(low)
    assert transport.load_config({**low, "normalization.mode": "rate"}).grid.E_max_eV == 5e9
