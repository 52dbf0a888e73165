"""Line-of-sight intensities against closed forms."""
import numpy as np
import pytest

import montecarlo
from montecarlo.geometry import direction_from_lb as sky_directions, sun_position_kpc as observer_position
from montecarlo.sky.analysis import all_sky_average, contrast, dipole, pixel_directions
from transport import AxisymmetricEmission, SphericalEmission
from transport.core.constants import KPC_CM

R_SUN = 8.5
E = np.array([1e12, 1e15])


def uniform_sphere(radius_kpc, q0=1.0):
    """q0 [cm^-3 s^-1 eV^-1] for r < radius (the table's first-node value holds inside r_0)."""
    return SphericalEmission([1e-3, radius_kpc], E, np.full((E.size, 2), q0))


def chord(dirs, radius_kpc, r_sun=R_SUN):
    o = observer_position(r_sun)
    b = dirs @ o
    return -b + np.sqrt(b * b - (o @ o - radius_kpc ** 2))


@pytest.mark.parametrize("radius", [20.0, 250.0])
def test_uniform_sphere_is_q_times_chord_over_4pi(radius):
    """Exact: I(n) = q L(n) / (4 pi). The integrand is constant, so the quadrature is exact to
    round-off (1e-12)."""
    l_deg, b_deg = pixel_directions(16)
    I = montecarlo.intensity(uniform_sphere(radius), E, l_deg, b_deg, fields=())
    want = chord(sky_directions(l_deg, b_deg), radius) * KPC_CM / (4 * np.pi)
    assert np.allclose(I, want[None, :], rtol=1e-12, atol=0)


def test_sphere_all_sky_average_and_dipole_in_closed_form():
    """Observer at d inside a uniform sphere of radius R:
    <L> = R/2 + (R^2 - d^2)/(4 d) ln((R + d)/(R - d)); contrast (I_max - I_min)/(I_max + I_min) = d/R
    (along and against the centre); dipole |d_vec| = d q / 4pi towards the centre, so A = d / <L>.
    Tolerances: pixel quadrature at nside 64 (5e-4) and pixel centres missing the exact extremes
    of the contrast (1e-3)."""
    R, d = 20.0, R_SUN
    I = montecarlo.intensity(uniform_sphere(R), 1e12, *pixel_directions(64), fields=())
    mean_L = R / 2 + (R ** 2 - d ** 2) / (4 * d) * np.log((R + d) / (R - d))
    assert all_sky_average(I) == pytest.approx(mean_L * KPC_CM / (4 * np.pi), rel=5e-4, abs=0)
    assert contrast(I) == pytest.approx(d / R, rel=1e-3, abs=0)
    amplitude, l_deg, b_deg = dipole(I)
    assert amplitude == pytest.approx(d / mean_L, rel=5e-4, abs=0)
    assert (l_deg, b_deg) == pytest.approx((0.0, 0.0), abs=0.1, rel=0)        # towards the centre


def test_thin_uniform_disk():
    """Uniform slab |z| < h inside R < R_d, Sun in the mid-plane: L = min(plane exit, cylinder
    exit); exact to round-off away from the grazing b = 0 rays (constant integrand)."""
    R_d, h = 15.0, 0.2
    disk = AxisymmetricEmission([0.0, R_d], [0.0, h], E, np.ones((E.size, 2, 2)))
    l_deg, b_deg = pixel_directions(16)
    dirs = sky_directions(l_deg, b_deg)
    o = observer_position(R_SUN)
    a2 = dirs[:, 0] ** 2 + dirs[:, 1] ** 2
    bc = dirs[:, :2] @ o[:2]
    cyl = (-bc + np.sqrt(bc ** 2 - a2 * (o[:2] @ o[:2] - R_d ** 2))) / a2
    with np.errstate(divide="ignore"):
        plane = np.where(dirs[:, 2] != 0, h / np.abs(dirs[:, 2]), np.inf)
    want = np.minimum(cyl, plane) * KPC_CM / (4 * np.pi)
    I = montecarlo.intensity(disk, 1e12, l_deg, b_deg, fields=())
    assert np.allclose(I, want, rtol=1e-10, atol=0)


def test_uniform_absorber_in_the_cmb():
    """Uniform absorber (the CMB is uniform in the Galaxy): I = q lambda (1 - exp(-L/lambda)) / 4pi
    with lambda the CMB mean free path. Tolerance 1e-6: constant integrand and rate; the
    spectral tau integration is exact for them."""
    energies = np.array([3e14, 2e15, 1e16])
    em = SphericalEmission([1e-3, 40.0], energies, np.ones((3, 2)))
    l_deg, b_deg = pixel_directions(8)
    lam = montecarlo.mean_free_path_kpc(energies, fields=("cmb",))
    L = chord(sky_directions(l_deg, b_deg), 40.0)
    want = lam[:, None] * (1 - np.exp(-L[None, :] / lam[:, None])) * KPC_CM / (4 * np.pi)
    I = montecarlo.intensity(em, energies, l_deg, b_deg, fields=("cmb",))
    assert np.allclose(I, want, rtol=1e-6, atol=0)
    assert lam.min() < 40.0 < lam.max()          # both absorbing and thin regimes


def test_neutrinos_are_never_attenuated():
    em = SphericalEmission([1e-3, 40.0], [1e15, 2e15], np.ones((2, 2)), attrs={"particle": "nu"})
    a = montecarlo.intensity(em, 1e15, [0.0], [0.0], fields=("cmb", "dust"))
    b = montecarlo.intensity(em, 1e15, [0.0], [0.0], fields=())
    assert a == pytest.approx(b, rel=1e-6, abs=0)


def test_shapes_and_bad_input():
    em = uniform_sphere(20.0)
    assert montecarlo.intensity(em, 1e12, 10.0, 5.0, fields=()).shape == ()
    assert montecarlo.intensity(em, E, [10.0, 20.0, 30.0], [0, 1, 2], fields=()).shape == (2, 3)
    with pytest.raises(ValueError, match="b_deg"):
        montecarlo.intensity(em, 1e12, [0.0], [95.0], fields=())
    with pytest.raises(ValueError, match="shape"):
        montecarlo.intensity(em, 1e12, [0.0, 1.0], [0.0], fields=())


# --------------------------------------------------------------------------- high-order checks
def _breakpoints(em, o, n):
    """Ray parameters where the tabulated emission has a node (sphere/cylinder/plane crossings)."""
    pts = []
    if em.geometry == "spherical":
        b, c = n @ o, o @ o
        for r in np.unique(em.r_kpc):
            d = b * b - (c - r * r)
            if d > 0:
                pts += [-b - np.sqrt(d), -b + np.sqrt(d)]
        pts.append(-b)
    else:
        a2, bc, cc = n[0] ** 2 + n[1] ** 2, o[:2] @ n[:2], o[:2] @ o[:2]
        for R in np.unique(em.R_kpc):
            d = bc * bc - a2 * (cc - R * R)
            if d > 0:
                pts += [(-bc - np.sqrt(d)) / a2, (-bc + np.sqrt(d)) / a2]
        pts.append(-bc / a2)
        if abs(n[2]) > 1e-12:
            pts += [(z - o[2]) / n[2] for z in np.unique(np.concatenate([em.z_kpc, -em.z_kpc]))]
    return pts


def _reference_intensity(em, E_eV, n, kappa=None):
    """Independent high-order quadrature: scipy's adaptive quad between every table node along
    the ray (no attenuation), or the 8th-order Dormand-Prince ODE dtau/ds = kappa,
    dI/ds = q exp(-tau) with rtol 1e-7 restarted at every node (attenuated)."""
    from scipy.integrate import quad, solve_ivp
    from montecarlo.lineofsight.integrator import ray_geometry
    o = observer_position(R_SUN)
    s_max = ray_geometry(em).exit_distance(o, n[None])[0]
    edges = sorted({0.0, s_max, *[p for p in _breakpoints(em, o, n) if 0 < p < s_max]})
    q = lambda s: em(np.array([E_eV]), *(o + s * n))[0]
    if kappa is None:
        total = sum(quad(q, a, b, epsrel=1e-11, epsabs=0, limit=200)[0] for a, b in zip(edges[:-1], edges[1:]))
    else:
        rhs = lambda s, y: [kappa(o + s * n), q(s) * np.exp(-y[0])]
        y = [0.0, 0.0]
        for a, b in zip(edges[:-1], edges[1:]):
            scale = max(abs(q(a)), abs(q(b)), 1e-300) * (b - a)
            y = solve_ivp(rhs, (a, b), y, method="DOP853", rtol=1e-7,
                          atol=[1e-12, 1e-12 * scale]).y[:, -1]
        total = y[1]
    return total * KPC_CM / (4 * np.pi)


DIRECTIONS = [(0.0, 0.0), (0.5, 0.3), (180.0, 0.0), (90.0, 0.0), (30.0, 3.0), (300.0, -60.0), (45.0, 89.0)]


def test_corona_against_high_order_quadrature(corona_emissions, serial_numba):
    """Graded 4-point Gauss-Legendre panels against adaptive quadrature: < 0.5 % (the issue's
    requirement; measured ~3e-4, set by the kinks of the tabulated emissivity)."""
    em = corona_emissions["gamma"]
    E_eV = em.E_eV[[10, 40, 70]]
    l_deg, b_deg = np.array(DIRECTIONS).T
    I = montecarlo.intensity(em, E_eV, l_deg, b_deg, fields=())
    for k, n in enumerate(sky_directions(l_deg, b_deg)):
        for e, E in enumerate(E_eV):
            assert I[e, k] == pytest.approx(_reference_intensity(em, E, n), rel=5e-3, abs=0)


def test_plane_model_against_high_order_quadrature(serial_numba):
    """The thin SNR-like disk ([T] eq. 9, z_g = 0.2 kpc) through grazing and steep rays: < 0.5 %."""
    import transport
    from transport.emission.registry import build_emission
    cfg = transport.load_config({"emission.models": ["disk"], "emission.E_max_eV": 1e16})
    em = build_emission(cfg, "disk", "gamma", None)
    l_deg, b_deg = np.array(DIRECTIONS).T
    I = montecarlo.intensity(em, em.E_eV[30], l_deg, b_deg, fields=())
    for k, n in enumerate(sky_directions(l_deg, b_deg)):
        assert I[k] == pytest.approx(_reference_intensity(em, em.E_eV[30], n), rel=5e-3, abs=0)


def test_attenuated_corona_against_ode(corona_emissions, serial_numba):
    """CMB + (anisotropic) dust attenuation at 150 TeV (dust dominates) and 2 PeV (the CMB
    absorbs most) against the ODE reference using the same rate tables: < 0.5 %. CI-size dust
    table."""
    from montecarlo.opacity.api import opacity_for
    import transport
    cfg = transport.load_config({"opacity.grid": "coarse"})
    opacity = opacity_for(cfg)
    em = corona_emissions["gamma"]
    for E, (l_deg, b_deg) in ((1.5e14, DIRECTIONS[0]), (2e15, DIRECTIONS[0]), (2e15, DIRECTIONS[3])):
        I = montecarlo.intensity(em, E, l_deg, b_deg, fields=("cmb", "dust"), config=cfg)
        n = sky_directions(l_deg, b_deg)
        kappa = lambda x: opacity.rate_per_kpc(E, x[None], -n[None], ("cmb", "dust"))[0, 0]
        assert I == pytest.approx(_reference_intensity(em, E, n, kappa), rel=5e-3, abs=0)


def test_sharp_tables_integrate_to_1e3_in_every_direction():
    """A uniform sphere of radius 100 kpc (and a uniform slab R < 15, |z| < 1 kpc) tabulated
    on a plain 0.1-kpc grid, q dropping to 0 between two nodes: I = q L / 4 pi with L the
    chord to the edge, to rtol 1e-3, in 400 random directions. The table ramps linearly to 0
    over the last 0.1-kpc cell, so the edge of the exact chord is the middle of that cell. Panels straddling the step gave 1-4 % before panel breaks were put at
    the table's sharp cells."""
    import montecarlo
    from montecarlo.geometry import direction_from_lb
    from transport.core.constants import KPC_CM
    from transport.emission.tables import AxisymmetricEmission, SphericalEmission

    rng = np.random.default_rng(0)
    l = rng.uniform(0, 360, 400)
    b = np.degrees(np.arcsin(rng.uniform(-1, 1, 400)))
    n = direction_from_lb(l, b)
    o = np.array([-8.5, 0.0, 0.0])
    r = np.round(np.arange(0, 4001) * 0.1, 10)
    sphere = SphericalEmission(r, [1e12, 1e13], np.where(r <= 100 + 1e-9, 1e-30, 0.0)[None].repeat(2, 0))
    bb = n @ o
    L = -bb + np.sqrt(bb * bb - (o @ o - 100.05 ** 2))
    I = montecarlo.intensity(sphere, 1e12, l, b, fields=())
    np.testing.assert_allclose(I, 1e-30 * L * KPC_CM / (4 * np.pi), rtol=1e-3, atol=0)

    R = np.round(np.arange(0, 301) * 0.1, 10)
    z = np.round(np.arange(0, 31) * 0.1, 10)
    inside = (R[:, None] <= 15 + 1e-9) & (z[None, :] <= 1 + 1e-9)
    slab = AxisymmetricEmission(R, z, [1e12, 1e13], np.where(inside, 1e-30, 0.0)[None].repeat(2, 0))
    a2 = n[:, 0] ** 2 + n[:, 1] ** 2
    bc = n[:, :2] @ o[:2]
    s_cyl = (-bc + np.sqrt(bc * bc - a2 * (o[:2] @ o[:2] - 15.05 ** 2))) / a2
    s_z = 1.05 / np.maximum(np.abs(n[:, 2]), 1e-300)
    L = np.minimum(s_cyl, s_z)
    corner = np.abs(np.abs(o[2] + s_cyl * n[:, 2]) - 1.05) < 0.2   # both ramps: no simple chord
    I = montecarlo.intensity(slab, 1e12, l[~corner], b[~corner], fields=())
    assert corner.sum() < 10
    np.testing.assert_allclose(I, 1e-30 * L[~corner] * KPC_CM / (4 * np.pi), rtol=1e-3, atol=0)
