"""Neutrino mixing: PMNS matrix and long-baseline averaged flavour transitions."""
import numpy as np
import pytest

import transport
from transport.hadronic.neutrino_mixing import (averaged_transition_matrix,
                                                flavour_weights_at_earth, pmns_matrix)


def test_pmns_is_unitary_for_the_default_parameters():
    nu = transport.load_config().neutrino
    U = pmns_matrix(nu.sin2_theta12, nu.sin2_theta23, nu.sin2_theta13, nu.delta_cp_deg)
    assert np.allclose(U @ U.conj().T, np.eye(3), atol=1e-14, rtol=1e-5)
    assert abs(U[0, 2]) ** 2 == pytest.approx(0.02225, rel=1e-6, abs=0)                 # |U_e3|^2 = sin^2 theta13


def test_averaged_probabilities_are_a_symmetric_doubly_stochastic_matrix():
    P = averaged_transition_matrix(transport.load_config().neutrino)
    assert np.allclose(P, P.T, atol=1e-15, rtol=1e-5)
    assert np.allclose(P.sum(axis=0), 1.0, atol=1e-14, rtol=1e-5) and np.allclose(P.sum(axis=1), 1.0, atol=1e-14, rtol=1e-5)
    assert np.all(P > 0)


def test_two_flavour_limit():
    # theta13 = 0, theta23 = 45 deg: P_ee = 1 - sin^2(2 theta12) / 2 and P_emu = P_etau
    nu = {"sin2_theta12": 0.3, "sin2_theta23": 0.5, "sin2_theta13": 0.0, "delta_cp_deg": 0.0}
    P = averaged_transition_matrix(nu)
    assert P[0, 0] == pytest.approx(1 - 0.5 * (4 * 0.3 * 0.7), rel=1e-12, abs=0)
    assert P[0, 1] == pytest.approx(P[0, 2], rel=1e-12, abs=0)


def test_pion_decay_flavours_arrive_near_equipartition():
    # nu_e : nu_mu : nu_tau = 1 : 2 : 0 at the source -> ~1 : 1 : 1 at Earth (the textbook
    # result; with the NuFIT 5.2 values each within 0.02 of 1/3)
    w = flavour_weights_at_earth((1 / 3, 2 / 3, 0.0), transport.load_config().neutrino)
    assert w.sum() == pytest.approx(1.0, abs=1e-14, rel=0)
    assert np.allclose(w, 1 / 3, atol=0.02, rtol=1e-5)
