"""HEALPix sky maps, sky regions and masks, and the dipole anisotropy.

Maps are in Galactic coordinates (healpy's theta = 90 deg - b, phi = l), RING ordering unless
``nest=True``; a map may carry a leading energy axis, shape (n_E, n_pix). Equations:
PHYSICS.md section 5; [C] = seed 004 (Fig. 5, dipole of the corona emission).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transport.errors import ConfigError, DataFileError


# --------------------------------------------------------------------------- regions
@dataclass(frozen=True)
class SkyRegion:
    """A box in Galactic coordinates: l_min < l < l_max (degrees, wrapping through 360 when
    l_min > l_max) and b_min < b < b_max."""
    name: str
    l_min_deg: float
    l_max_deg: float
    b_min_deg: float
    b_max_deg: float

    def contains(self, l_deg, b_deg) -> np.ndarray:
        l = np.mod(np.asarray(l_deg, dtype=float), 360.0)
        b = np.asarray(b_deg, dtype=float)
        lo, hi = self.l_min_deg % 360.0, self.l_max_deg % 360.0
        if self.l_max_deg - self.l_min_deg >= 360.0:
            in_l = np.ones_like(l, dtype=bool)
        elif lo < hi:
            in_l = (l > lo) & (l < hi)
        else:
            in_l = (l > lo) | (l < hi)
        return in_l & (b > self.b_min_deg) & (b < self.b_max_deg)

    @property
    def l_width_deg(self) -> float:
        width = self.l_max_deg - self.l_min_deg
        return width if width > 0 else width + 360.0

    @property
    def solid_angle_sr(self) -> float:
        """Exact solid angle, Delta l (sin b_max - sin b_min) [sr]."""
        return np.radians(self.l_width_deg) * (np.sin(np.radians(self.b_max_deg))
                                               - np.sin(np.radians(self.b_min_deg)))


#: Regions of the data sets the code compares with (PHYSICS.md section 5).
REGIONS = {
    "tibet_A": SkyRegion("tibet_A", 25.0, 100.0, -5.0, 5.0),
    "tibet_B": SkyRegion("tibet_B", 50.0, 200.0, -5.0, 5.0),
    "lhaaso_inner": SkyRegion("lhaaso_inner", 15.0, 125.0, -5.0, 5.0),
    "lhaaso_outer": SkyRegion("lhaaso_outer", 125.0, 235.0, -5.0, 5.0),
    "all_sky": SkyRegion("all_sky", 0.0, 360.0, -90.0, 90.0),
}


def get_region(spec) -> SkyRegion:
    """A SkyRegion from a name in REGIONS or a sequence (l_min, l_max, b_min, b_max) in degrees."""
    if isinstance(spec, SkyRegion):
        return spec
    if isinstance(spec, str):
        try:
            return REGIONS[spec]
        except KeyError:
            raise ConfigError(f"sky region {spec!r} is not known: expected one of "
                              f"{', '.join(REGIONS)} or [l_min, l_max, b_min, b_max] in degrees") from None
    values = [float(v) for v in spec]
    if len(values) != 4 or not (-90.0 <= values[2] < values[3] <= 90.0):
        raise ConfigError(f"sky region {list(spec)!r} is not allowed: expected [l_min, l_max, "
                          "b_min, b_max] in degrees with -90 <= b_min < b_max <= 90")
    return SkyRegion("custom", *values)


# --------------------------------------------------------------------------- pixels
def pixel_directions(nside: int, nest: bool = False):
    """Galactic (l_deg, b_deg) of every pixel centre."""
    import healpy as hp
    l_deg, b_deg = hp.pix2ang(nside, np.arange(hp.nside2npix(nside)), nest=nest, lonlat=True)
    return l_deg, b_deg


def pixel_vectors(nside: int, nest: bool = False) -> np.ndarray:
    """Unit vectors (n_pix, 3) of the pixel centres: x towards the Galactic centre (l = 0, b = 0),
    y towards l = 90 deg, z towards the north Galactic pole."""
    import healpy as hp
    return np.array(hp.pix2vec(nside, np.arange(hp.nside2npix(nside)), nest=nest)).T


def region_pixels(nside: int, region, nest: bool = False, mask=None) -> np.ndarray:
    """Boolean array: pixels whose centre lies in ``region`` and is not excluded by ``mask``
    (a boolean array, True = excluded)."""
    l_deg, b_deg = pixel_directions(nside, nest)
    inside = get_region(region).contains(l_deg, b_deg)
    if mask is not None:
        inside &= ~np.asarray(mask, dtype=bool)
    return inside


def load_mask(path, nside: int, nest: bool = False) -> np.ndarray:
    """Exclusion mask (True = excluded) for maps of resolution ``nside``.

    ``path`` is a HEALPix FITS map (non-zero = excluded, any resolution; regridded) or a text
    table of discs with columns l_deg, b_deg, radius_deg (``#`` comments).
    """
    import healpy as hp
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"mask file '{path}' not found")
    if path.suffix.lower() in (".fits", ".fit", ".fz", ".gz"):
        mask = hp.read_map(str(path), nest=nest, dtype=float)
        mask = hp.ud_grade(mask, nside, order_in="NESTED" if nest else "RING",
                           order_out="NESTED" if nest else "RING")
        return mask > 0.0
    try:
        discs = np.loadtxt(path, comments="#", ndmin=2)
    except ValueError as exc:
        raise DataFileError(f"mask file '{path}' is not a table l_deg b_deg radius_deg: {exc}") from None
    if discs.shape[1] != 3:
        raise DataFileError(f"mask file '{path}' has {discs.shape[1]} columns, expected l_deg b_deg radius_deg")
    mask = np.zeros(hp.nside2npix(nside), dtype=bool)
    for l_deg, b_deg, radius in discs:
        vec = hp.ang2vec(l_deg, b_deg, lonlat=True)
        mask[hp.query_disc(nside, vec, np.radians(radius), inclusive=False, nest=nest)] = True
    return mask


# --------------------------------------------------------------------------- averages
def region_average(sky_map, region, mask=None, nest: bool = False) -> np.ndarray:
    """Solid-angle average of a map (..., n_pix) over the pixels of ``region`` (equal-area
    pixels: the plain mean). Raises ConfigError if the region holds no pixel."""
    import healpy as hp
    sky_map = np.asarray(sky_map, dtype=float)
    nside = hp.npix2nside(sky_map.shape[-1])
    sel = region_pixels(nside, region, nest, mask)
    if not np.any(sel):
        raise ConfigError(f"sky region {get_region(region)} contains no pixel centre at nside = {nside}")
    return sky_map[..., sel].mean(axis=-1)


def all_sky_average(sky_map) -> np.ndarray:
    """(1 / 4 pi) integral of the map over the sphere (..., n_pix) -> (...)."""
    return np.asarray(sky_map, dtype=float).mean(axis=-1)


# --------------------------------------------------------------------------- dipole
def dipole_vector(sky_map, nest: bool = False):
    """Monopole I0 and dipole vector d of I(n) ~ I0 + d . n, by projection on l = 0, 1.

    I0 = (1/4pi) sum I_p dOmega, d = (3/4pi) sum I_p n_p dOmega: the l = 0, 1 spherical-harmonic
    coefficients, a_00 = sqrt(4pi) I0 and sum_m |a_1m|^2 = (4pi/3) |d|^2 (PHYSICS.md section 5).
    Works on (n_pix,) or (n_E, n_pix); returns I0 (...) and d (..., 3).
    """
    import healpy as hp
    sky_map = np.asarray(sky_map, dtype=float)
    nside = hp.npix2nside(sky_map.shape[-1])
    n = pixel_vectors(nside, nest)
    I0 = sky_map.mean(axis=-1)
    d = 3.0 * (sky_map @ n) / sky_map.shape[-1]
    return I0, d


def dipole(healpix_map, nest: bool = False):
    """Dipole anisotropy of a full-sky map: (amplitude, l_deg, b_deg).

    amplitude A = sqrt(3) |a_1| / a_00 = |d| / I0, with |a_1|^2 = sum_m |a_1m|^2 (PHYSICS.md
    section 5); (l, b) is the direction of d, where the map is brightest. A map with a leading
    energy axis gives arrays.
    """
    I0, d = dipole_vector(healpix_map, nest)
    norm = np.linalg.norm(d, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        amplitude = np.where(I0 != 0, norm / np.abs(I0), np.nan)
    l_deg = np.mod(np.degrees(np.arctan2(d[..., 1], d[..., 0])), 360.0)
    l_deg = np.where(l_deg >= 360.0, 0.0, l_deg)          # mod maps -0.0 to 360
    b_deg = np.degrees(np.arcsin(np.clip(d[..., 2] / np.where(norm > 0, norm, 1.0), -1.0, 1.0)))
    return amplitude, l_deg, b_deg


def contrast(sky_map) -> np.ndarray:
    """Anisotropy contrast (I_max - I_min) / (I_max + I_min) over the map's pixels."""
    sky_map = np.asarray(sky_map, dtype=float)
    hi, lo = sky_map.max(axis=-1), sky_map.min(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (hi - lo) / (hi + lo)


# --------------------------------------------------------------------------- FITS export
def write_healpix_fits(path, maps, E_eV, nest: bool = False, units="cm^-2 s^-1 sr^-1 MeV^-1",
                       overwrite: bool = True, header_extra=None) -> None:
    """Write maps (n_E, n_pix) as a HEALPix FITS file in the Fermi-LAT "template" layout that
    healpy (``read_map(path, field=k)``) and gammapy (``Map.read``, HPX format "fgst-template")
    read: a SKYMAP table with one column CHANNELk per energy and an ENERGIES table (MeV).

    ``maps`` must already be in ``units`` (the default matches Fermi templates).
    """
    from astropy.io import fits
    import healpy as hp

    maps = np.atleast_2d(np.asarray(maps, dtype=float))
    E_eV = np.atleast_1d(np.asarray(E_eV, dtype=float))
    if maps.shape[0] != E_eV.size:
        raise ValueError(f"maps has {maps.shape[0]} energy planes but E_eV has {E_eV.size}")
    nside = hp.npix2nside(maps.shape[1])
    cols = [fits.Column(name=f"CHANNEL{k + 1}", format="D", unit=units, array=m)
            for k, m in enumerate(maps)]
    skymap = fits.BinTableHDU.from_columns(cols, name="SKYMAP")
    hdr = skymap.header
    hdr["PIXTYPE"] = ("HEALPIX", "HEALPIX pixelisation")
    hdr["ORDERING"] = ("NESTED" if nest else "RING", "pixel ordering scheme")
    hdr["NSIDE"] = (nside, "resolution parameter")
    hdr["FIRSTPIX"] = 0
    hdr["LASTPIX"] = maps.shape[1] - 1
    hdr["INDXSCHM"] = ("IMPLICIT", "indexing: implicit or explicit")
    hdr["COORDSYS"] = ("GAL", "Galactic coordinates")
    hdr["HPX_CONV"] = "FGST-TEMPLATE"
    hdr["BUNIT"] = units
    for key, value in (header_extra or {}).items():
        hdr[key[:8].upper()] = value
    energies = fits.BinTableHDU.from_columns(
        [fits.Column(name="Energy", format="D", unit="MeV", array=E_eV / 1e6)], name="ENERGIES")
    fits.HDUList([fits.PrimaryHDU(), skymap, energies]).writeto(path, overwrite=overwrite)
