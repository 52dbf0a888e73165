"""HEALPix maps, regions, masks and the dipole (docs/physics.md, section 5)."""
import healpy as hp
import numpy as np
import pytest

from montecarlo.sky.analysis import (REGIONS, all_sky_average, contrast, dipole, get_region,
                                     load_mask, pixel_vectors, region_average, region_pixels,
                                     write_healpix_fits)
from transport.core.errors import ConfigError, DataFileError

NSIDE = 32


@pytest.mark.parametrize("d_vec", [(0.3, 0.0, 0.0), (0.0, -0.2, 0.1), (0.05, 0.05, -0.4)])
def test_dipole_of_monopole_plus_dipole(d_vec):
    """I = I0 + d.n: A = |d|/I0 and the direction of d. Pixel sums of n_i n_j equal 4pi/3 delta_ij
    up to the pixelisation (<1e-3 at nside 32), hence the 1e-3 tolerance."""
    n = pixel_vectors(NSIDE)
    d = np.array(d_vec)
    amp, l_deg, b_deg = dipole(2.0 + n @ d)
    assert amp == pytest.approx(np.linalg.norm(d) / 2.0, rel=1e-3, abs=0)
    want_l, want_b = hp.vec2ang(d / np.linalg.norm(d), lonlat=True)
    assert b_deg == pytest.approx(want_b[0], abs=0.05, rel=0)
    if abs(want_b[0]) < 89:
        assert (l_deg - want_l[0] + 180) % 360 - 180 == pytest.approx(0.0, abs=0.05, rel=0)


def test_dipole_ignores_higher_multipoles_and_matches_alm():
    """A = sqrt(3)|a_1|/a_00 from healpy's map2alm equals |d|/I0 from the projection."""
    n = pixel_vectors(NSIDE)
    sky = 1.0 + 0.1 * n[:, 0] + 0.3 * (3 * n[:, 2] ** 2 - 1) / 2      # monopole + dipole + quadrupole
    amp, l_deg, b_deg = dipole(sky)
    alm = hp.map2alm(sky, lmax=1, iter=3)
    a00 = alm[hp.Alm.getidx(1, 0, 0)].real
    a10, a11 = alm[hp.Alm.getidx(1, 1, 0)], alm[hp.Alm.getidx(1, 1, 1)]
    a1 = np.sqrt(abs(a10) ** 2 + 2 * abs(a11) ** 2)          # m = -1 mirrors m = +1 for real maps
    assert amp == pytest.approx(np.sqrt(3) * a1 / a00, rel=2e-3, abs=0)
    assert amp == pytest.approx(0.1, rel=2e-3, abs=0) and l_deg == pytest.approx(0.0, abs=0.1, rel=0)


def test_dipole_with_energy_axis_and_contrast():
    n = pixel_vectors(NSIDE)
    maps = np.array([1.0 + 0.1 * n[:, 0], 1.0 + 0.5 * n[:, 1]])
    amp, l_deg, _ = dipole(maps)
    assert np.allclose(amp, [0.1, 0.5], rtol=1e-3, atol=0) and np.allclose(l_deg, [0.0, 90.0], atol=0.1, rtol=1e-5)
    # contrast of 1 + A cos(angle): (I_max - I_min)/(I_max + I_min) = A at the pixel extremes
    assert np.allclose(contrast(maps), [0.1, 0.5], rtol=2e-3, atol=0)


def test_map_integral_equals_direct_angular_integral():
    """sum_p I_p dOmega = integral of exp(a.n) dOmega = 4 pi sinh|a| / |a| (equal-area pixels:
    the pixel quadrature is accurate to ~1e-4 for this smooth map at nside 32)."""
    a = np.array([0.4, -0.7, 1.1])
    sky = np.exp(pixel_vectors(NSIDE) @ a)
    total = sky.sum() * hp.nside2pixarea(NSIDE)
    k = np.linalg.norm(a)
    assert total == pytest.approx(4 * np.pi * np.sinh(k) / k, rel=1e-4, abs=0)
    assert all_sky_average(sky) == pytest.approx(np.sinh(k) / k, rel=1e-4, abs=0)


@pytest.mark.parametrize("name", [n for n, r in REGIONS.items() if not r.mask])
def test_region_pixel_area_matches_solid_angle(name):
    """Pixel count x pixel area -> exact solid angle; at nside 256 the boundary pixels make a
    relative error ~ (perimeter x pixel size) / area < 3 % for the thin |b| < 5 deg strips.
    (Regions with a source mask: tests/test_lhaaso_mask.py.)"""
    region = REGIONS[name]
    area = region_pixels(256, region).sum() * hp.nside2pixarea(256)
    assert area == pytest.approx(region.solid_angle_sr, rel=0.03, abs=0)


def test_region_average_and_wrapping():
    l_deg, b_deg = hp.pix2ang(NSIDE, np.arange(hp.nside2npix(NSIDE)), lonlat=True)
    sky = np.cos(np.radians(l_deg))
    wrap = get_region([340.0, 20.0, -10.0, 10.0])                   # wraps through l = 0
    assert wrap.contains(355.0, 0.0) and wrap.contains(5.0, 0.0) and not wrap.contains(180.0, 0.0)
    assert region_average(sky, wrap) > 0.95
    assert region_average(np.ones((3, sky.size)), "tibet_A") == pytest.approx([1.0, 1.0, 1.0], rel=1e-6, abs=0)


def test_masks_from_discs_and_fits(tmp_path):
    discs = tmp_path / "mask.txt"
    discs.write_text("# l b r\n60 0 3\n80 1 2\n")
    mask = load_mask(discs, NSIDE)
    assert mask.sum() > 0
    assert region_pixels(NSIDE, "tibet_A", mask=mask).sum() == region_pixels(NSIDE, "tibet_A").sum() - (
        mask & region_pixels(NSIDE, "tibet_A")).sum()
    path = tmp_path / "mask.fits"
    hp.write_map(str(path), mask.astype(float), overwrite=True)
    assert np.array_equal(load_mask(path, NSIDE), mask)
    with pytest.raises(DataFileError, match="not found"):
        load_mask(tmp_path / "missing.txt", NSIDE)


def test_fits_export_reads_back(tmp_path):
    from astropy.io import fits
    n = pixel_vectors(8)
    maps = np.array([1 + n[:, 0], 2 + n[:, 1]])
    path = tmp_path / "maps.fits"
    write_healpix_fits(path, maps, [1e12, 1e15])
    assert np.allclose(hp.read_map(str(path), field=1), maps[1], rtol=1e-5, atol=0)
    with fits.open(path) as hdul:
        assert hdul["SKYMAP"].header["COORDSYS"] == "GAL"
        assert np.allclose(hdul["ENERGIES"].data["Energy"], [1e6, 1e9], rtol=1e-5, atol=0)


def test_bad_regions():
    with pytest.raises(ConfigError, match="tibet_A"):
        get_region("tibet_C")
    with pytest.raises(ConfigError, match="b_min < b_max"):
        get_region([0, 10, 5, -5])


def test_dipole_nested_ordering_and_masked_maps():
    """NESTED maps give the same dipole as RING; unseen pixels (a polar cap set to hp.UNSEEN, or
    NaN) are left out of a least-squares monopole + dipole fit, which recovers the dipole of
    1 + 0.3 n_x exactly (it is a monopole + dipole)."""
    n = pixel_vectors(NSIDE)
    ring = 1.0 + 0.3 * n[:, 0]
    nested = ring[hp.nest2ring(NSIDE, np.arange(ring.size))]
    assert dipole(nested, nest=True) == pytest.approx(dipole(ring), abs=1e-9, rel=0)
    cut = ring.copy()
    cut[n[:, 2] > 0.7] = hp.UNSEEN
    cut[:5] = np.nan
    amplitude, l_deg, b_deg = dipole(cut)
    assert isinstance(amplitude, float)
    assert (amplitude, l_deg, b_deg) == pytest.approx((0.3, 0.0, 0.0), abs=1e-9, rel=0)


def test_bad_maps_are_argument_errors():
    from transport.core.errors import ArgumentError
    with pytest.raises(ArgumentError, match="12 nside"):
        dipole(np.ones(100))


def test_equatorial_resampling_puts_the_galactic_centre_at_its_ra_dec():
    """A spot at (l, b) = (0, 0) lands at (RA, Dec) = (266.40, -28.94) deg (astropy's ICRS of
    the Galactic centre) within the pixel size (0.9 deg at nside 64)."""
    from montecarlo.sky.analysis import to_equatorial
    n = pixel_vectors(64)
    spot = np.exp(20.0 * (n[:, 0] - 1.0))                  # peaked towards the Galactic centre
    eq = to_equatorial(np.array([spot, 2 * spot]))
    ra, dec = hp.pix2ang(64, int(np.argmax(eq[0])), lonlat=True)
    assert (ra, dec) == pytest.approx((266.40, -28.94), abs=1.0, rel=0)
    assert np.allclose(eq[1], 2 * eq[0], rtol=1e-5, atol=0)
    assert eq[0].mean() == pytest.approx(spot.mean(), rel=0.01, abs=0)   # resampling keeps the flux


def test_fits_maps_read_by_gammapy(tmp_path):
    gammapy_maps = pytest.importorskip("gammapy.maps")
    n = pixel_vectors(8)
    maps = np.array([1 + n[:, 0], 2 + n[:, 1]])
    write_healpix_fits(tmp_path / "m.fits", maps, [1e12, 1e15])
    m = gammapy_maps.Map.read(tmp_path / "m.fits")
    assert m.geom.frame == "galactic" and np.allclose(m.data, maps, rtol=1e-5, atol=0)
