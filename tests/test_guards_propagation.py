"""Emission preparation of montecarlo.propagation.sources against closed forms, so that a
constant-factor error in :func:`at_energies` or :func:`support_distance` (the x1.1 mutants of
benchmarks/mutants.py; neither shows in the Monte Carlo results, the first because the kernels
read the table's own arrays, the second because a longer support only widens the distance
sampling) fails here.

- at_energies at the table's own energies returns the table's rows (interpolation at a node is
  the node's value), and the prepared table evaluates like the original;
- support_distance: the table can be non-zero up to the node after its last non-zero one (the
  interpolation towards the first zero node): a sphere non-zero at r = 20 kpc and zero at 30
  kpc, seen from 8.5 kpc off centre, reaches 30 + 8.5 kpc; a disk non-zero up to R = 15,
  |z| = 2 with the next nodes at R = 20, z = 3, seen from (8.5, 0, 0.1), reaches
  hypot(20 + 8.5, 3 + 0.1).

Tolerance: rtol=1e-12, atol=0 (round-off of a log-linear interpolation at its nodes and of a
few additions).
"""
import numpy as np
from numpy.testing import assert_allclose

from montecarlo.propagation import sources
from transport import AxisymmetricEmission, SphericalEmission


def _sphere():
    r = np.array([0.5, 5.0, 20.0, 30.0])
    E = np.geomspace(1e12, 1e15, 4)
    q = np.outer(E ** -2.0, [4.0, 2.0, 1.0, 0.0])
    return SphericalEmission(r, E, q)


def test_at_energies_keeps_the_table_rows():
    em = _sphere()
    prepared = sources.at_energies(em, em.E_eV[1:3])
    assert_allclose(prepared.E_eV, em.E_eV[1:3], rtol=1e-12, atol=0)
    assert_allclose(prepared.q, em.q[1:3], rtol=1e-12, atol=0)
    x = np.array([1.0, 3.0, 10.0])
    for k, E in enumerate(em.E_eV[1:3]):
        assert_allclose(prepared(E, x, 0.0, 0.0), em(E, x, 0.0, 0.0), rtol=1e-12, atol=0)


def test_support_distance_sphere_and_disk():
    assert_allclose(sources.support_distance(_sphere(), [8.5, 0.0, 0.0]), 38.5,
                    rtol=1e-12, atol=0)
    R = np.array([0.0, 10.0, 15.0, 20.0])
    z = np.array([0.0, 1.0, 2.0, 3.0])
    E = np.array([1e12, 1e13])
    q = np.zeros((2, 4, 4))
    q[:, :3, :3] = 1.0                                  # non-zero nodes R <= 15, |z| <= 2
    disk = AxisymmetricEmission(R, z, E, q)
    assert_allclose(sources.support_distance(disk, [8.5, 0.0, 0.1]), np.hypot(28.5, 3.1),
                    rtol=1e-12, atol=0)
