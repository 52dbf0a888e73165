"""LHAASO's diffuse-analysis source mask: discs around the known TeV sources, as HEALPix maps of
the masked fraction of every pixel (anti-aliased by sub-sampling), at any nside.

The recipe (docs/sky.md, section "The LHAASO source mask", with its sources):

- sources: every fitted component of the first LHAASO catalogue (1LHAASO, Cao et al. 2024,
  ApJS 271, 25, Table 2; ``inputs/sources/1lhaaso_catalog.csv``) and the TeVCAT sources near the
  plane (``inputs/sources/tevcat_gammacat.csv``, TeVCAT through gamma-cat): the KM2A diffuse
  analysis masks "sources of TeVCAT and of the KM2A catalogue" (Cao et al. 2023, PRL 131, 151001;
  as [L] describes it);
- radius: ``n_sigma`` times the Gaussian width of the source as the instrument sees it,
  r = n_sigma sqrt(sigma_src^2 + sigma_psf^2), with n_sigma = 2.5 ("each source region is
  masked with 2.5 times the Gaussian width of the source", Chen, Fang & Bi 2024, CPC 48,
  115105, describing the LHAASO analysis); sigma_src = r39 of 1LHAASO (the Gaussian sigma; 0
  for point-like components), the Gaussian sigma or shell radius of gamma-cat; sigma_psf the
  instrument's point-spread width (this project's choice, docs/sky.md).

A mask map holds, per pixel, the fraction of the pixel's area inside the union of the discs
(sub-pixel centres at ``nside * 2**level``): 0 = free, 1 = fully masked.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from transport.core.data import input_path, load_csv_rows
from transport.core.errors import ConfigError, DataFileError
from transport.core.safety import read_bytes

#: Files of the source lists (``inputs/sources/``).
CATALOG_FILES = {"1lhaaso": "sources/1lhaaso_catalog.csv", "tevcat": "sources/tevcat_gammacat.csv"}
#: Finest sub-sampling resolution of the anti-aliasing (sub-pixels of 0.029 deg).
MAX_SUBSAMPLE_NSIDE = 2048


@dataclass(frozen=True)
class SourceList:
    """Source components: name, Galactic position and Gaussian width sigma_src [deg]."""
    catalog: str
    name: tuple
    detector: tuple                 # "KM2A" / "WCDA" (1LHAASO) or "TeVCAT"
    l_deg: np.ndarray
    b_deg: np.ndarray
    sigma_deg: np.ndarray           # 0 for point-like components


@dataclass(frozen=True)
class MaskRecipe:
    """Discs of radius n_sigma sqrt(sigma_src^2 + psf_sigma_deg^2) around the sources of
    ``catalogs``."""
    name: str
    n_sigma: float
    psf_sigma_deg: float
    catalogs: tuple
    description: str


#: The masks of the LHAASO diffuse analyses (docs/sky.md).
MASKS = {
    "lhaaso_km2a": MaskRecipe(
        "lhaaso_km2a", 2.5, 0.3, ("1lhaaso", "tevcat"),
        "LHAASO-KM2A diffuse analysis (Cao et al. 2023, PRL 131, 151001): 1LHAASO + TeVCAT sources, "
        "2.5 x sqrt(sigma_src^2 + sigma_psf^2), sigma_psf = 0.3 deg (KM2A above 10 TeV)"),
    "lhaaso_wcda": MaskRecipe(
        "lhaaso_wcda", 2.5, 0.4, ("1lhaaso", "tevcat"),
        "LHAASO-WCDA diffuse analysis (Cao et al. 2025, PRL 134, 081002): 1LHAASO + TeVCAT sources, "
        "2.5 x sqrt(sigma_src^2 + sigma_psf^2), sigma_psf = 0.4 deg (WCDA 1-25 TeV)"),
}


def _number(row: dict, key: str, relative: str) -> float:
    """A cell as a float; an empty cell (not published) is NaN."""
    text = row.get(key, "")
    if text is None:
        raise DataFileError(f"source table '{relative}' has no column {key!r}")
    if not text.strip():
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise DataFileError(f"source table '{relative}': {key} = {text!r} of "
                            f"{next(iter(row.values()))} is not a number") from None


@lru_cache(maxsize=None)
def load_sources(catalog: str) -> SourceList:
    """The source components of ``catalog`` ("1lhaaso" or "tevcat") with Galactic positions
    (1LHAASO: J2000 RA/Dec converted with astropy) and Gaussian widths [deg]."""
    if catalog not in CATALOG_FILES:
        raise ConfigError(f"source catalogue {catalog!r} is not known: expected one of "
                          f"{', '.join(CATALOG_FILES)}")
    relative = CATALOG_FILES[catalog]
    rows = load_csv_rows(relative)
    num = lambda key: np.array([_number(r, key, relative) for r in rows])
    if catalog == "1lhaaso":
        from astropy import units as u
        from astropy.coordinates import SkyCoord
        gal = SkyCoord(ra=num("ra_deg") * u.deg, dec=num("dec_deg") * u.deg, frame="fk5",
                       equinox="J2000").galactic
        l_deg, b_deg = gal.l.deg, gal.b.deg
        sigma = np.nan_to_num(num("r39_deg"), nan=0.0)         # r39 = Gaussian sigma; UL -> point
        names = tuple(r["source_name"] for r in rows)
        detector = tuple(r["component"].rstrip("*") for r in rows)
    else:
        l_deg, b_deg = num("glon_deg"), num("glat_deg")
        sigma = np.nan_to_num(num("morph_sigma_deg"), nan=0.0)
        names = tuple(r["common_name"] for r in rows)
        detector = ("TeVCAT",) * len(rows)
    bad = ~(np.isfinite(l_deg) & np.isfinite(b_deg) & (sigma >= 0))
    if np.any(bad):
        raise DataFileError(f"source table '{relative}': row of {names[int(np.argmax(bad))]!r} has "
                            "no valid position or width")
    return SourceList(catalog, names, detector, np.mod(l_deg, 360.0), b_deg, sigma)


def get_mask_recipe(name) -> MaskRecipe:
    if isinstance(name, MaskRecipe):
        return name
    try:
        return MASKS[name]
    except KeyError:
        raise ConfigError(f"sky mask {name!r} is not known: expected one of {', '.join(MASKS)}") from None


def mask_discs(name):
    """(l_deg, b_deg, radius_deg, source names) of the discs of mask ``name``."""
    recipe = get_mask_recipe(name)
    lists = [load_sources(c) for c in recipe.catalogs]
    l_deg = np.concatenate([s.l_deg for s in lists])
    b_deg = np.concatenate([s.b_deg for s in lists])
    sigma = np.concatenate([s.sigma_deg for s in lists])
    radius = recipe.n_sigma * np.hypot(sigma, recipe.psf_sigma_deg)
    return l_deg, b_deg, radius, sum((s.name for s in lists), ())


def mask_key(name) -> str:
    """Key of everything mask ``name`` is made of (exact inputs): the recipe's numbers and the
    SHA-256 of its source tables. Results that depend on the mask record it."""
    recipe = get_mask_recipe(name)
    digest = hashlib.sha256(repr((recipe.name, recipe.n_sigma, recipe.psf_sigma_deg,
                                  recipe.catalogs)).encode())
    for catalog in recipe.catalogs:
        digest.update(read_bytes(input_path(CATALOG_FILES[catalog]), "source table"))
    return digest.hexdigest()


def subsample_level(nside: int, level=None) -> int:
    """Sub-pixels per pixel side = 2**level: the finest level with nside 2**level <=
    MAX_SUBSAMPLE_NSIDE, at least 1 (4 sub-pixels) and at most 4 (256)."""
    if level is not None:
        return int(level)
    return int(np.clip(np.floor(np.log2(MAX_SUBSAMPLE_NSIDE / nside)), 1, 4))


def disc_fraction(nside: int, l_deg, b_deg, radius_deg, nest: bool = False, level=None) -> np.ndarray:
    """Fraction of every pixel's area inside the union of discs (centres l, b, radii [deg]):
    the share of its 4**level sub-pixels (NESTED children at nside 2**level) whose centres lie in
    a disc. Exact to 1 / 4**level on boundary pixels, exact on pixels far from a boundary."""
    import healpy as hp
    level = subsample_level(nside, level)
    fine = nside << level
    vecs = hp.ang2vec(np.asarray(l_deg, float), np.asarray(b_deg, float), lonlat=True)
    inside = [hp.query_disc(fine, v, np.radians(r), inclusive=False, nest=True)
              for v, r in zip(np.atleast_2d(vecs), np.atleast_1d(radius_deg))]
    fine_ids = np.unique(np.concatenate(inside)) if inside else np.zeros(0, dtype=np.int64)
    counts = np.bincount(fine_ids >> (2 * level), minlength=hp.nside2npix(nside))
    fraction = counts / float(4 ** level)
    return fraction if nest else fraction[hp.ring2nest(nside, np.arange(hp.nside2npix(nside)))]


@lru_cache(maxsize=16)
def _mask_map(name: str, nside: int, nest: bool, level: int) -> np.ndarray:
    l_deg, b_deg, radius, _ = mask_discs(name)
    out = disc_fraction(nside, l_deg, b_deg, radius, nest, level)
    out.flags.writeable = False
    return out


def mask_map(name, nside: int, nest: bool = False, level=None) -> np.ndarray:
    """Masked fraction of every pixel (0 = free, 1 = fully masked) of mask ``name`` (a key of
    :data:`MASKS`) at resolution ``nside`` (read-only, cached)."""
    import healpy as hp
    if not hp.isnsideok(nside, nest=True):
        raise ConfigError(f"nside = {nside!r} is not allowed: expected a power of 2 (1 to 2**29)")
    return _mask_map(get_mask_recipe(name).name, int(nside), bool(nest), subsample_level(nside, level))


def in_mask(name, l_deg, b_deg) -> np.ndarray:
    """Exact point test: True where (l, b) [deg] lies inside a disc of mask ``name``."""
    import healpy as hp
    l_src, b_src, radius, _ = mask_discs(name)
    pts = hp.ang2vec(np.atleast_1d(np.asarray(l_deg, float)), np.atleast_1d(np.asarray(b_deg, float)),
                     lonlat=True)
    src = hp.ang2vec(l_src, b_src, lonlat=True)
    out = np.zeros(len(pts), dtype=bool)
    cos_r = np.cos(np.radians(radius))
    for start in range(0, len(pts), 4096):
        chunk = pts[start:start + 4096]
        out[start:start + 4096] = np.any(chunk @ src.T >= cos_r[None, :], axis=1)
    return out.reshape(np.shape(l_deg)) if np.ndim(l_deg) else bool(out[0])
