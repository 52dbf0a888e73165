"""The single-source spectrum of a cascade response table against its closed form, so that a
constant-factor error in :meth:`montecarlo.cascade.response.ResponseTable.single_source` (the
x1.1 mutant of benchmarks/mutants.py) fails here.

A synthetic table: nodes z = 0.5, 1 (z = 0 is the table's implicit zero row), G(z_j, E', b) =
c_j (b + 1) and a constant error s_j; a source L(E') = (a + ln E') / E'. The spectrum is
Integral d ln E' E' L(E') G(z, E', b) with G linear in z between nodes, i.e.

    dN/dE(b) = (b + 1) c(z) [a x + x^2 / 2]_{ln E'_min}^{ln E'_max},  c(z) linear in z,

which the trapezoid rule in ln E' integrates exactly (the integrand is linear in ln E').
The error: sqrt(sum_i w_i^2 (E'_i L(E'_i))^2 ((1 - g)^2 s_j^2 + g^2 s_(j+1)^2)) with the
trapezoid weights w_i written out here.

Tolerance: rtol=1e-12, atol=0: exact arithmetic up to round-off of a few dozen operations on
numbers of order 1-100, far below a 10 % change.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from montecarlo.cascade.response import ResponseTable

A = 3.0


def _table():
    z = np.array([0.5, 1.0])
    E = np.geomspace(1e12, 1e15, 13)
    edges = np.geomspace(1e9, 1e14, 6)
    c = np.array([2.0, 5.0])
    s = np.array([0.3, 0.7])
    nb = edges.size - 1
    G = c[:, None, None] * (np.arange(nb) + 1.0)[None, None, :] * np.ones((1, E.size, 1))
    G_err = s[:, None, None] * np.ones((2, E.size, nb))
    lnE_tau = np.log(np.geomspace(1e9, 1e15, 4))
    z_tau = np.array([0.0, 0.5, 1.0])
    tau = np.zeros((lnE_tau.size, z_tau.size))
    return ResponseTable(z, E, edges, G, G_err, lnE_tau, z_tau, tau, "test", {}), c, s


def _L(E):
    return (A + np.log(E)) / E


@pytest.mark.parametrize("z_source, c_of_z", [(0.75, lambda c: 0.5 * (c[0] + c[1])),
                                              (0.25, lambda c: 0.5 * c[0]),
                                              (1.0, lambda c: c[1])])
def test_single_source_closed_form(z_source, c_of_z):
    table, c, s = _table()
    x1, x2 = np.log(table.E_inj_eV[0]), np.log(table.E_inj_eV[-1])
    integral = A * (x2 - x1) + 0.5 * (x2 ** 2 - x1 ** 2)
    nb = table.edges_eV.size - 1
    expected = (np.arange(nb) + 1.0) * c_of_z(c) * integral
    assert_allclose(table.single_source(z_source, _L), expected, rtol=1e-12, atol=0)


def test_single_source_error_between_nodes():
    table, c, s = _table()
    lnE = np.log(table.E_inj_eV)
    d = np.diff(lnE)
    w = np.concatenate([[0.5 * d[0]], 0.5 * (d[:-1] + d[1:]), [0.5 * d[-1]]])
    f = w * table.E_inj_eV * _L(table.E_inj_eV)
    g = 0.5                                          # z = 0.75, halfway between the nodes
    value, err = table.single_source(0.75, _L, with_error=True)
    expected_err = np.sqrt(np.sum(f ** 2) * ((1 - g) ** 2 * s[0] ** 2 + g ** 2 * s[1] ** 2))
    assert_allclose(err, np.full(value.shape, expected_err), rtol=1e-12, atol=0)
    assert_allclose(value, table.single_source(0.75, _L), rtol=1e-12, atol=0)
