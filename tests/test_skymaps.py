"""Sky products: maps, averages, dipole, output files."""
import h5py
import healpy as hp
import numpy as np
import pytest

import transport
from montecarlo.cli import main
from montecarlo.sky.maps import make_component, sky_energies, sky_regions
from montecarlo.sky.analysis import REGIONS
from transport import SphericalEmission
from transport.core.constants import KPC_CM
from transport.core.schema import SCHEMA

SMALL = ["--set", "opacity.grid=coarse", "--set", "sky.nside=8", "--set", "sky.E_per_decade=1",
         "--set", "grid.E_per_decade=4", "--set", "emission.models=[\"corona\"]",
         "--set", "galactic_plane.fit=false", "-q"]


def test_schema_regions_are_the_known_regions():
    assert set(SCHEMA["sky"]["regions"].choices) == set(REGIONS)


def test_component_of_a_uniform_sphere():
    """All products of one component against the closed forms of a uniform sphere (R = 20 kpc,
    observer at d = 8.5 kpc, q = 1): I(n) = q s(n) / 4pi with the chord s = d mu +
    sqrt(R^2 - d^2 (1 - mu^2)), mu the cosine to the centre. So: contrast d/R; all-sky mean
    q <s> / 4pi, <s> = (R + (a^2/d) ln((R + d)/a)) / 2, a^2 = R^2 - d^2; dipole towards the
    centre with amplitude d / <s> (the d mu term: (3/4pi) Int I mu dOmega = q d / 4pi);
    isotropic part q (R - d) / 4pi. Measured on nside 32: < 2e-6 (mean), 1e-4 (minimum pixel
    next to the anticentre), 2e-3 (contrast, dipole)."""
    E = np.array([1e12, 1e13])
    em = SphericalEmission([1e-3, 20.0], E, np.ones((2, 2)))
    c = make_component(em, "test", "gamma", E, 32, {"tibet_A": REGIONS["tibet_A"]})
    R, d = 20.0, 8.5
    a2 = R * R - d * d
    mean_chord = 0.5 * (R + a2 / d * np.log((R + d) / np.sqrt(a2)))
    assert np.allclose(c.contrast, d / R, rtol=2e-3, atol=0)
    assert np.allclose(c.dipole_l_deg, 0.0, atol=0.1, rtol=0) and np.allclose(c.dipole_b_deg, 0.0, atol=0.1, rtol=0)
    assert np.allclose(c.dipole_amplitude, d / mean_chord, rtol=2e-3, atol=0)
    assert np.allclose(c.all_sky, mean_chord * KPC_CM / (4 * np.pi), rtol=1e-5, atol=0)
    assert np.allclose(c.isotropic_part, (R - d) * KPC_CM / (4 * np.pi), rtol=5e-4, atol=0)


def test_sky_energies_and_custom_region():
    cfg = transport.load_config({"sky.custom_region": [350, 10, -2, 2]})
    assert sky_energies(cfg)[0] == cfg.sky.E_min_eV and sky_energies(cfg)[-1] == pytest.approx(cfg.sky.E_max_eV, rel=1e-6, abs=0)
    assert "custom" in sky_regions(cfg)


@pytest.mark.parametrize("bad, fragment", [
    ({"sky.nside": 48}, "power of 2"),
    ({"sky.E_max_eV": 1e21}, "within the emission tables"),
    ({"sky.E_min_eV": 1e16, "sky.E_max_eV": 1e15}, "must be below sky.E_max_eV"),
    ({"sky.custom_region": [0, 10, 5]}, "sky.custom_region"),
    ({"sky.fields": ["cmb", "cmbb"]}, "did you mean"),
    ({"galactic_plane.last_bin_fraction": 0.0}, "galactic_plane.last_bin_fraction"),
])
def test_bad_sky_config(bad, fragment):
    with pytest.raises(transport.ConfigError, match=fragment):
        transport.load_config(bad)


def test_sky_command_writes_maps_products_and_fits(tmp_path):
    out = tmp_path / "sky.h5"
    assert main(["sky", "-o", str(out), "--fits", *SMALL]) == 0
    with h5py.File(out) as fh:
        E = fh["sky/E_eV"][()]
        for particle in ("gamma", "nu"):
            g = fh[f"sky/corona/{particle}"]
            assert g["map"].shape == (E.size, hp.nside2npix(8))
            assert g["map"].attrs["units"] == "cm^-2 s^-1 sr^-1 eV^-1"
            assert set(g["regions"]) == {"tibet_A", "tibet_B", "lhaaso_inner", "lhaaso_outer"}
            assert g["regions/lhaaso_inner"].attrs["source_mask"] == "lhaaso_km2a"
            assert len(g["regions/lhaaso_inner"].attrs["source_mask_key"]) == 64
            assert g["regions/tibet_A"].attrs["source_mask"] == "none"
            assert np.all(g["dipole/contrast"][()] > 0)
        assert fh["sky/corona/gamma"].attrs["attenuated_by"] == "cmb,dust"
        assert fh["sky/corona/nu"].attrs["attenuated_by"] == "none"
        assert "cr/j" in fh and "emission/corona/gamma" in fh and "config_toml" in fh.attrs
    fits_map = hp.read_map(str(tmp_path / "sky_corona_gamma.fits"), field=0)
    assert fits_map.size == hp.nside2npix(8)
