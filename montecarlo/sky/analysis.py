"""HEALPix sky maps, sky regions and masks, and the dipole anisotropy.

Maps are in Galactic coordinates (healpy's theta = 90 deg - b, phi = l), RING ordering unless
``nest=True``; a map may carry a leading energy axis, shape (n_E, n_pix). Equations:
docs/physics.md, section 5, and docs/sky.md; [C] Fig. 5 (dipole of the corona emission).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from transport.core.errors import ArgumentError, ConfigError, DataFileError
from transport.core.safety import read_bytes, read_numeric_table

from montecarlo.geometry import lb_from_direction
from montecarlo.sky import masks
from montecarlo.lineofsight.integrator import intensity


# --------------------------------------------------------------------------- regions
@dataclass(frozen=True)
class SkyRegion:
    """A box in Galactic coordinates: l_min < l < l_max (degrees, wrapping through 360 when
    l_min > l_max) and b_min < b < b_max, minus the discs of the source mask ``mask`` (a name
    in :data:`montecarlo.sky.masks.MASKS`; "" = no mask)."""
    name: str
    l_min_deg: float
    l_max_deg: float
    b_min_deg: float
    b_max_deg: float
    mask: str = ""

    def contains(self, l_deg, b_deg) -> np.ndarray:
        """Inside the box (the source mask is not applied: see :func:`region_weights`)."""
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
        """Exact solid angle of the box, Delta l (sin b_max - sin b_min) [sr] (the source mask
        not subtracted: see :func:`region_solid_angle`)."""
        return np.radians(self.l_width_deg) * (np.sin(np.radians(self.b_max_deg))
                                               - np.sin(np.radians(self.b_min_deg)))


#: Regions of the data sets the code compares with (docs/physics.md, section 5; docs/sky.md).
#: The LHAASO regions carry LHAASO's source mask by default, because the data are defined on
#: the unmasked sky: KM2A's mask for lhaaso_inner/outer, WCDA's for the *_wcda versions;
#: *_unmasked are the full boxes.
REGIONS = {
    "tibet_A": SkyRegion("tibet_A", 25.0, 100.0, -5.0, 5.0),
    "tibet_B": SkyRegion("tibet_B", 50.0, 200.0, -5.0, 5.0),
    "lhaaso_inner": SkyRegion("lhaaso_inner", 15.0, 125.0, -5.0, 5.0, "lhaaso_km2a"),
    "lhaaso_outer": SkyRegion("lhaaso_outer", 125.0, 235.0, -5.0, 5.0, "lhaaso_km2a"),
    "lhaaso_inner_wcda": SkyRegion("lhaaso_inner_wcda", 15.0, 125.0, -5.0, 5.0, "lhaaso_wcda"),
    "lhaaso_outer_wcda": SkyRegion("lhaaso_outer_wcda", 125.0, 235.0, -5.0, 5.0, "lhaaso_wcda"),
    "lhaaso_inner_unmasked": SkyRegion("lhaaso_inner_unmasked", 15.0, 125.0, -5.0, 5.0),
    "lhaaso_outer_unmasked": SkyRegion("lhaaso_outer_unmasked", 125.0, 235.0, -5.0, 5.0),
    "galactic_plane": SkyRegion("galactic_plane", 0.0, 360.0, -5.0, 5.0),
    "all_sky": SkyRegion("all_sky", 0.0, 360.0, -90.0, 90.0),
}


def get_region(spec) -> SkyRegion:
    """A SkyRegion from a name in REGIONS or a sequence (l_min, l_max, b_min, b_max) in degrees
    (unmasked)."""
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


def box_fraction(nside: int, region, nest: bool = False, level=None) -> np.ndarray:
    """Fraction of every pixel's area inside the region's box: 1 or 0 from the pixel centre,
    and on the pixels within a pixel radius of an edge the share of their 4**level sub-pixel
    centres inside (anti-aliasing; level as :func:`montecarlo.sky.masks.subsample_level`)."""
    import healpy as hp
    reg = get_region(region)
    l_deg, b_deg = pixel_directions(nside, nest)
    out = reg.contains(l_deg, b_deg).astype(float)
    reach = np.degrees(hp.max_pixrad(nside))
    edge = np.zeros(out.size, dtype=bool)
    for b_edge in (reg.b_min_deg, reg.b_max_deg):
        if abs(b_edge) < 90.0:
            edge |= np.abs(b_deg - b_edge) < reach
    if reg.l_width_deg < 360.0:
        for l_edge in (reg.l_min_deg, reg.l_max_deg):
            dl = np.abs((l_deg - l_edge + 180.0) % 360.0 - 180.0)
            edge |= dl * np.cos(np.radians(b_deg)) < reach
    level = masks.subsample_level(nside, level)
    parents = np.flatnonzero(edge)
    nest_parents = parents if nest else hp.ring2nest(nside, parents)
    children = (nest_parents[:, None] << (2 * level)) + np.arange(4 ** level)[None, :]
    l_c, b_c = hp.pix2ang(nside << level, children.ravel(), nest=True, lonlat=True)
    out[parents] = reg.contains(l_c, b_c).reshape(children.shape).mean(axis=1)
    return out


def region_weights(nside: int, region, nest: bool = False, mask=None) -> np.ndarray:
    """Weight of every pixel in the region average, in [0, 1]: the pixel's area fraction inside
    the box (:func:`box_fraction`) and outside the region's source mask
    (:func:`montecarlo.sky.masks.mask_map`), times (1 - ``mask``) for an extra exclusion map
    (boolean True = excluded, or a masked fraction). The box and mask fractions multiply (exact
    unless a pixel straddles both a box edge and a mask edge)."""
    reg = get_region(region)
    w = box_fraction(nside, reg, nest)
    if reg.mask:
        w = w * (1.0 - masks.mask_map(reg.mask, nside, nest))
    if mask is not None:
        w = w * (1.0 - np.asarray(mask, dtype=float))
    return w


def region_pixels(nside: int, region, nest: bool = False, mask=None) -> np.ndarray:
    """Boolean array: pixels whose centre lies in ``region`` (its box, outside its source mask)
    and is not excluded by ``mask`` (a boolean array, True = excluded). The hard selection;
    averages use the anti-aliased :func:`region_weights`."""
    reg = get_region(region)
    l_deg, b_deg = pixel_directions(nside, nest)
    inside = reg.contains(l_deg, b_deg)
    if reg.mask:
        inside[inside] &= ~masks.in_mask(reg.mask, l_deg[inside], b_deg[inside])
    if mask is not None:
        inside &= ~np.asarray(mask, dtype=bool)
    return inside


def _weighted_solid_angle(region, nside: int) -> float:
    import healpy as hp
    return float(region_weights(nside, region).sum() * hp.nside2pixarea(nside))


def region_solid_angle(region, nside: int = 128) -> float:
    """Solid angle of the region without its masked part [sr]: the box's exact value when the
    region has no source mask, else the sum of the pixel weights at ``nside`` times the pixel
    area (the flux from a region is its average intensity times this)."""
    reg = get_region(region)
    return _weighted_solid_angle(reg, nside) if reg.mask else reg.solid_angle_sr


def masked_fraction(region, nside: int = 128) -> float:
    """Fraction of the region's box that its source mask removes (both areas from the same
    pixel weights)."""
    reg = get_region(region)
    return 1.0 - _weighted_solid_angle(reg, nside) / _weighted_solid_angle(replace(reg, mask=""), nside)


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
        read_bytes(path, "sky.mask_file")      # unreadable -> one clear error
        try:
            mask = hp.read_map(str(path), nest=nest, dtype=float)
        except Exception as exc:               # astropy/healpy raise many types on garbage
            raise DataFileError(f"sky.mask_file '{path}' is not a HEALPix FITS map: "
                                f"{type(exc).__name__}: {exc}") from None
        mask = hp.ud_grade(mask, nside, order_in="NESTED" if nest else "RING",
                           order_out="NESTED" if nest else "RING")
        return mask > 0.0
    discs = read_numeric_table(path, "sky.mask_file (a table l_deg b_deg radius_deg)")
    if discs.shape[1] != 3:
        raise DataFileError(f"mask file '{path}' has {discs.shape[1]} columns, expected l_deg b_deg radius_deg")
    mask = np.zeros(hp.nside2npix(nside), dtype=bool)
    for l_deg, b_deg, radius in discs:
        vec = hp.ang2vec(l_deg, b_deg, lonlat=True)
        mask[hp.query_disc(nside, vec, np.radians(radius), inclusive=False, nest=nest)] = True
    return mask


# --------------------------------------------------------------------------- averages
def region_average(sky_map, region, mask=None, nest: bool = False) -> np.ndarray:
    """Solid-angle average of a map (..., n_pix) over ``region``: sum w_p I_p / sum w_p with
    the anti-aliased weights of :func:`region_weights` (the region's source mask and ``mask``
    applied). Raises ConfigError if the region holds no pixel."""
    import healpy as hp
    sky_map = np.asarray(sky_map, dtype=float)
    nside = hp.npix2nside(sky_map.shape[-1])
    w = region_weights(nside, region, nest, mask)
    if not np.any(w > 0):
        raise ConfigError(f"sky region {get_region(region)} contains no unmasked pixel at nside = {nside}")
    return (sky_map @ w) / w.sum()


#: Latitude panel edges [deg] of the region quadrature: graded towards the plane, where the
#: thin Galactic disk varies on scales of a degree.
_B_EDGES_DEG = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 45.0, 90.0)
#: Resolution of the quadrature of masked regions (0.46 deg pixels with anti-aliased weights:
#: 0.3 % from the Gauss-Legendre quadrature on the thin disk's unmasked box, 0.12 % from nside
#: 512 on the masked region; tests/test_lhaaso_mask.py).
MASKED_QUADRATURE_NSIDE = 128


def region_quadrature(region, n_b: int = 6, l_panel_deg: float = 5.0):
    """Directions (l_deg, b_deg) and weights w of the region average <I> = sum w I(l, b):

        <I> = (1 / Delta Omega) integral dl integral cos b db I(E, l, b)

    by Gauss-Legendre quadrature in sin b on latitude panels graded towards b = 0 (edges at
    0, 0.5, 1, 2, 5, 10, 20, 45 deg on either side; the thin disk makes a cusp at b = 0;
    ``n_b`` nodes per panel) and 4-point panels of at most ``l_panel_deg`` in l.

    A region with a source mask: the pixel centres of an nside-``MASKED_QUADRATURE_NSIDE`` map
    with the anti-aliased weights of :func:`region_weights` normalised to 1, so that maps,
    region averages and this quadrature remove the same sky.
    """
    reg = get_region(region)
    if reg.mask:
        w = region_weights(MASKED_QUADRATURE_NSIDE, reg)
        keep = np.flatnonzero(w > 0)
        l_deg, b_deg = pixel_directions(MASKED_QUADRATURE_NSIDE)
        return l_deg[keep], b_deg[keep], w[keep] / w[keep].sum()
    gx, gw = np.polynomial.legendre.leggauss(4)
    n_l = max(1, int(np.ceil(reg.l_width_deg / l_panel_deg)))
    dl = reg.l_width_deg / n_l
    l_nodes = (reg.l_min_deg + dl * (np.arange(n_l)[:, None] + 0.5 * (gx[None, :] + 1.0))).ravel()
    l_weights = np.tile(0.5 * np.radians(dl) * gw, n_l)
    edges = np.unique(np.clip(np.concatenate([-np.array(_B_EDGES_DEG), _B_EDGES_DEG]),
                              reg.b_min_deg, reg.b_max_deg))
    bx, bw = np.polynomial.legendre.leggauss(n_b)
    sin_edges = np.sin(np.radians(edges))
    lo, hi = sin_edges[:-1, None], sin_edges[1:, None]
    sin_b = (0.5 * (hi - lo) * (bx + 1.0) + lo).ravel()
    sin_w = (0.5 * (hi - lo) * bw).ravel()
    L, S = np.meshgrid(l_nodes, sin_b, indexing="ij")
    W = l_weights[:, None] * sin_w[None, :]
    return L.ravel(), np.degrees(np.arcsin(S.ravel())), W.ravel() / reg.solid_angle_sr


def region_intensity(emission, E_eV, region, fields=("cmb", "dust"), config=None,
                     n_b: int = 6, l_panel_deg: float = 5.0) -> np.ndarray:
    """Intensity averaged over a sky region [cm^-2 s^-1 sr^-1 eV^-1], shape (n_E,), by the
    quadrature of :func:`region_quadrature` (over the unmasked part of a masked region)."""

    E = np.atleast_1d(np.asarray(E_eV, dtype=float))
    l_deg, b_deg, weights = region_quadrature(region, n_b, l_panel_deg)
    I = intensity(emission, E, l_deg, b_deg, fields=fields, config=config)
    return I @ weights


def all_sky_average(sky_map) -> np.ndarray:
    """(1 / 4 pi) integral of the map over the sphere (..., n_pix) -> (...)."""
    return np.asarray(sky_map, dtype=float).mean(axis=-1)


# --------------------------------------------------------------------------- dipole
def _map_nside(sky_map) -> int:
    import healpy as hp
    n_pix = np.shape(sky_map)[-1] if np.ndim(sky_map) else 0
    if not hp.isnpixok(n_pix):
        raise ArgumentError(f"a HEALPix map needs 12 nside^2 pixels (nside a power of 2); got "
                            f"{n_pix} pixels")
    return hp.npix2nside(n_pix)


def dipole_vector(sky_map, nest: bool = False):
    """Monopole I0 and dipole vector d of I(n) ~ I0 + d . n.

    Full sky: projection on l = 0, 1, I0 = (1/4pi) sum I_p dOmega, d = (3/4pi) sum I_p n_p dOmega,
    i.e. a_00 = sqrt(4pi) I0 and sum_m |a_1m|^2 = (4pi/3) |d|^2 (docs/physics.md, section 5). Maps with
    unseen (hp.UNSEEN) or non-finite pixels: least-squares fit of I0 + d . n to the others.
    Works on (n_pix,) or (n_E, n_pix); returns I0 (...) and d (..., 3).
    """
    import healpy as hp
    sky_map = np.asarray(sky_map, dtype=float)
    n = pixel_vectors(_map_nside(sky_map), nest)
    valid = np.isfinite(sky_map) & (sky_map != hp.UNSEEN)
    if np.all(valid):
        return sky_map.mean(axis=-1), 3.0 * (sky_map @ n) / sky_map.shape[-1]
    rows = np.atleast_2d(sky_map)
    good = np.atleast_2d(valid)
    I0, d = np.empty(rows.shape[0]), np.empty((rows.shape[0], 3))
    for k, (row, ok) in enumerate(zip(rows, good)):
        if ok.sum() < 4:
            raise ArgumentError("a dipole needs at least 4 seen pixels in the map")
        design = np.column_stack([np.ones(ok.sum()), n[ok]])
        coef = np.linalg.lstsq(design, row[ok], rcond=None)[0]
        I0[k], d[k] = coef[0], coef[1:]
    return (I0[0], d[0]) if sky_map.ndim == 1 else (I0.reshape(sky_map.shape[:-1]),
                                                    d.reshape(sky_map.shape[:-1] + (3,)))


def dipole(healpix_map, nest: bool = False):
    """Dipole anisotropy of a map: (amplitude, l_deg, b_deg).

    amplitude A = sqrt(3) |a_1| / a_00 = |d| / I0, with |a_1|^2 = sum_m |a_1m|^2 (docs/physics.md
    section 5); (l, b) is the direction of d, where the map is brightest. Unseen pixels
    (hp.UNSEEN, NaN) are left out of a least-squares monopole + dipole fit. A single map gives
    floats, a map with a leading energy axis arrays.
    """
    I0, d = dipole_vector(healpix_map, nest)
    norm = np.linalg.norm(d, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        amplitude = np.where(I0 != 0, norm / np.abs(I0), np.nan)
    l_deg, b_deg = lb_from_direction(d / np.where(norm > 0, norm, 1.0)[..., None])
    l_deg = np.where(l_deg >= 360.0, 0.0, l_deg)          # -0.0 mod 360 gives 360
    if np.ndim(amplitude) == 0:
        return float(amplitude), float(l_deg), float(b_deg)
    return amplitude, l_deg, b_deg


def contrast(sky_map) -> np.ndarray:
    """Anisotropy contrast (I_max - I_min) / (I_max + I_min) over the map's pixels."""
    sky_map = np.asarray(sky_map, dtype=float)
    hi, lo = sky_map.max(axis=-1), sky_map.min(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (hi - lo) / (hi + lo)


# --------------------------------------------------------------------------- frames
def to_equatorial(sky_map, nest: bool = False) -> np.ndarray:
    """A Galactic HEALPix map (..., n_pix) resampled to equatorial (ICRS) coordinates at the
    same resolution: each output pixel centre (RA, Dec) is converted to (l, b) with astropy and
    the Galactic map is interpolated there (healpy's bilinear get_interp_val)."""
    import healpy as hp
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    sky_map = np.asarray(sky_map, dtype=float)
    nside = _map_nside(sky_map)
    ra, dec = pixel_directions(nside, nest)        # the output grid's (lon, lat), read as RA, Dec
    gal = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame="icrs").galactic
    rows = np.atleast_2d(sky_map)
    out = np.array([hp.get_interp_val(row, gal.l.deg, gal.b.deg, nest=nest, lonlat=True)
                    for row in rows])
    return out.reshape(sky_map.shape)


# --------------------------------------------------------------------------- FITS export
def write_healpix_fits(path, maps, E_eV, nest: bool = False, units="cm^-2 s^-1 sr^-1 MeV^-1",
                       overwrite: bool = True, header_extra=None, coordsys: str = "GAL") -> None:
    """Write maps (n_E, n_pix) as a HEALPix FITS file in the Fermi-LAT "template" layout that
    healpy (``read_map(path, field=k)``) and gammapy (``Map.read``, HPX format "fgst-template")
    read: a SKYMAP table with one column ENERGYk per energy and an ENERGIES table (MeV).

    ``maps`` must already be in ``units`` (the default matches Fermi templates).
    """
    from astropy.io import fits
    import healpy as hp

    maps = np.atleast_2d(np.asarray(maps, dtype=float))
    E_eV = np.atleast_1d(np.asarray(E_eV, dtype=float))
    if maps.shape[0] != E_eV.size:
        raise ValueError(f"maps has {maps.shape[0]} energy planes but E_eV has {E_eV.size}")
    nside = hp.npix2nside(maps.shape[1])
    cols = [fits.Column(name=f"ENERGY{k + 1}", format="D", unit=units, array=m)
            for k, m in enumerate(maps)]
    skymap = fits.BinTableHDU.from_columns(cols, name="SKYMAP")
    hdr = skymap.header
    hdr["PIXTYPE"] = ("HEALPIX", "HEALPIX pixelisation")
    hdr["ORDERING"] = ("NESTED" if nest else "RING", "pixel ordering scheme")
    hdr["NSIDE"] = (nside, "resolution parameter")
    hdr["FIRSTPIX"] = 0
    hdr["LASTPIX"] = maps.shape[1] - 1
    hdr["INDXSCHM"] = ("IMPLICIT", "indexing: implicit or explicit")
    hdr["COORDSYS"] = (coordsys, "GAL = Galactic, CEL = equatorial (ICRS)")
    hdr["HPX_CONV"] = "FGST-TEMPLATE"
    hdr["BUNIT"] = units
    for key, value in (header_extra or {}).items():
        hdr[key[:8].upper()] = value
    energies = fits.BinTableHDU.from_columns(
        [fits.Column(name="Energy", format="D", unit="MeV", array=E_eV / 1e6)], name="ENERGIES")
    fits.HDUList([fits.PrimaryHDU(), skymap, energies]).writeto(path, overwrite=overwrite)
