"""Sky products of emission models: HEALPix maps, all-sky and region averages, dipole.

For every model x particle of the [sky] section: maps I(E, pixel) [cm^-2 s^-1 sr^-1 eV^-1]
from the line-of-sight integrator (gamma rays attenuated by sky.fields when sky.attenuate,
neutrinos never), their all-sky averages, averages over the configured regions (outside each
region's source mask, e.g. LHAASO's, and optionally sky.mask_file) and the dipole anisotropy versus energy with both definitions of docs/physics.md, section 5
(A = sqrt(3) |a_1| / a_00 with its direction, and the contrast (I_max - I_min)/(I_max + I_min)).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from transport.core.grid import log_grid

from montecarlo.lineofsight.integrator import intensity
from montecarlo.sky import masks
from montecarlo.sky.analysis import (REGIONS, all_sky_average, contrast, dipole, get_region, load_mask,
                                     pixel_directions, region_average, region_intensity,
                                     to_equatorial, write_healpix_fits)
from transport.core.output import write_array

UNITS = "cm^-2 s^-1 sr^-1 eV^-1"


def sky_energies(cfg) -> np.ndarray:
    """Map energies [eV]: log-spaced from sky.E_min_eV to sky.E_max_eV."""
    s = cfg.sky
    return log_grid(s.E_min_eV, s.E_max_eV, s.E_per_decade)


def sky_regions(cfg) -> dict:
    """{name: SkyRegion} of sky.regions plus sky.custom_region ("custom")."""
    regions = {name: get_region(name) for name in cfg.sky.regions}
    if cfg.sky.custom_region:
        regions["custom"] = get_region(cfg.sky.custom_region)
    return regions


@dataclass
class SkyComponent:
    """Maps and derived quantities of one model x particle."""
    model: str
    particle: str
    maps: np.ndarray                      # (n_E, n_pix)
    all_sky: np.ndarray                   # (n_E,)
    regions: dict                         # name -> (n_E,)
    dipole_amplitude: np.ndarray          # (n_E,)
    dipole_l_deg: np.ndarray
    dipole_b_deg: np.ndarray
    contrast: np.ndarray
    attenuated_by: tuple = ()

    @property
    def isotropic_part(self) -> np.ndarray:
        """The faintest pixel, I_min(E): the part of the emission seen from every direction."""
        return self.maps.min(axis=1)


@dataclass
class SkyProducts:
    E_eV: np.ndarray
    nside: int
    components: dict = field(default_factory=dict)   # (model, particle) -> SkyComponent


def make_component(emission, model, particle, E_eV, nside, regions, mask=None, fields=(),
                   config=None, progress=False) -> SkyComponent:
    """All products of one emission table (RING-ordered maps)."""
    l_deg, b_deg = pixel_directions(nside)
    attenuating = () if particle.startswith("nu") else tuple(fields)
    maps = intensity(emission, E_eV, l_deg, b_deg, fields=attenuating, config=config,
                     progress=progress)
    amplitude, l_dip, b_dip = dipole(maps)
    if mask is None:     # exact region averages by direct quadrature (pixel centres bias thin strips)
        averages = {name: region_intensity(emission, E_eV, reg, attenuating, config)
                    for name, reg in regions.items()}
    else:
        averages = {name: region_average(maps, reg, mask) for name, reg in regions.items()}
    return SkyComponent(model, particle, maps, all_sky_average(maps), averages,
                        amplitude, l_dip, b_dip, contrast(maps), attenuating)


def make_sky(cfg, emissions: dict, progress=False) -> SkyProducts:
    """Sky products of {model: {particle: emission}} for sky.models x sky.particles."""
    E = sky_energies(cfg)
    nside = cfg.sky.nside
    mask = load_mask(cfg.sky.mask_file, nside) if cfg.sky.mask_file else None
    fields = tuple(cfg.sky.fields) if cfg.sky.attenuate else ()
    regions = sky_regions(cfg)
    products = SkyProducts(E, nside)
    for model in cfg.sky.models:
        for particle in cfg.sky.particles:
            products.components[(model, particle)] = make_component(
                emissions[model][particle], model, particle, E, nside, regions, mask, fields,
                cfg, progress)
    return products


def write_sky(fh, products: SkyProducts) -> None:
    """/sky/E_eV and /sky/<model>/<particle>/{map, all_sky, regions/<name>, dipole/...}."""

    group = fh.require_group("sky")
    group.attrs.update({"nside": products.nside, "ordering": "RING", "coordsys": "GALACTIC",
                        "description": "intensities seen from the Sun; maps (E, pixel)"})
    write_array(group, "E_eV", products.E_eV, "eV")
    for (model, particle), c in products.components.items():
        sub = group.require_group(f"{model}/{particle}")
        sub.attrs["attenuated_by"] = ",".join(c.attenuated_by) or "none"
        write_array(sub, "map", c.maps, UNITS, "HEALPix maps, shape (E, pixel)")
        write_array(sub, "all_sky", c.all_sky, UNITS, "(1/4pi) integral over the sky")
        write_array(sub, "isotropic_part", c.isotropic_part, UNITS, "faintest pixel")
        regions = sub.require_group("regions")
        for name, values in c.regions.items():
            ds = write_array(regions, name, values, UNITS, "average over the region outside its "
                             "source mask (line-of-sight quadrature; with sky.mask_file: weighted "
                             "map pixels outside that file's mask too)")
            mask = REGIONS[name].mask if name in REGIONS else ""
            ds.attrs["source_mask"] = mask or "none"
            if mask:
                ds.attrs["source_mask_key"] = masks.mask_key(mask)
        dip = sub.require_group("dipole")
        write_array(dip, "amplitude", c.dipole_amplitude, "1", "sqrt(3) |a_1| / a_00")
        write_array(dip, "l_deg", c.dipole_l_deg, "deg", "direction of the dipole")
        write_array(dip, "b_deg", c.dipole_b_deg, "deg", "direction of the dipole")
        write_array(dip, "contrast", c.contrast, "1", "(I_max - I_min) / (I_max + I_min)")


def write_fits_maps(products: SkyProducts, stem, equatorial: bool = False) -> list:
    """One HEALPix FITS file per model x particle: ``<stem>_<model>_<particle>.fits``
    (Fermi-template layout, intensities in cm^-2 s^-1 sr^-1 MeV^-1, Galactic); with
    ``equatorial`` also ``..._equatorial.fits`` resampled to ICRS (RA, Dec)."""
    paths = []
    for (model, particle), c in products.components.items():
        extra = {"MODEL": model, "PARTICLE": particle}
        path = f"{stem}_{model}_{particle}.fits"
        write_healpix_fits(path, c.maps * 1e6, products.E_eV, header_extra=extra)
        paths.append(path)
        if equatorial:
            path = f"{stem}_{model}_{particle}_equatorial.fits"
            write_healpix_fits(path, to_equatorial(c.maps) * 1e6, products.E_eV,
                               header_extra=extra, coordsys="CEL")
            paths.append(path)
    return paths
