"""The public opacity API: shapes, fields, bad input, cached tables with provenance."""
import json

import h5py
import numpy as np
import pytest

import montecarlo as mc
import transport
from montecarlo.opacity import ratetables as rt
from montecarlo.opacity.api import Opacity, opacity_for
from transport.core.errors import ArgumentError, CoronaError, DataFileError

from conftest import COARSE

EXAMPLE = {"fields.tabulated_file": "fields/local_dust_isotropic.txt"}


def test_no_fields_means_no_attenuation():
    E = np.geomspace(1e12, 1e17, 6)
    assert np.all(mc.survival_probability(E, 0, 0, 8.5, fields=()) == 1.0)
    assert np.all(np.isinf(mc.mean_free_path_kpc(E, fields=())))
    assert np.all(mc.optical_depth_cosmological(E[:3], 0.5, fields=()) == 0.0)


def test_vectorised_over_energy_and_shapes():
    E = np.geomspace(1e13, 1e16, 12).reshape(3, 4)
    P = mc.survival_probability(E, 30, 1, 5.0, fields=("cmb", "dust"), config=COARSE)
    assert P.shape == (3, 4) and np.all((P > 0) & (P <= 1))
    assert mc.mean_free_path_kpc(2.2e15).shape == ()
    assert mc.optical_depth_galactic(E[0], 0, 0, [1.0, 2.0, 3.0], ("cmb",)).shape == (3, 4)


def test_fields_are_additive_and_uniform_fields_scale_with_distance():
    """tau(cmb + dust) = tau(cmb) + tau(dust); the CMB is uniform: tau = d / lambda."""
    E = np.array([1.5e14, 1e15, 3e15])
    op = opacity_for(COARSE)
    both = op.optical_depth_galactic(E, 10, 0, 7.0, ("cmb", "dust"))
    assert np.allclose(both, op.optical_depth_galactic(E, 10, 0, 7.0, ("cmb",))
                       + op.optical_depth_galactic(E, 10, 0, 7.0, ("dust",)), rtol=1e-12, atol=0)
    assert np.allclose(op.optical_depth_galactic(E, 123, -45, 7.0, ("cmb",)),
                       7.0 / mc.mean_free_path_kpc(E), rtol=1e-12, atol=0)
    assert np.allclose(mc.survival_probability(E, 0, 0, 8.5, "cmb,dust", config=COARSE),
                       np.exp(-op.optical_depth_galactic(E, 0, 0, 8.5)), rtol=1e-12, atol=0)


def test_ebl_in_the_galaxy_is_subdominant():
    """[T] App. A ignores the EBL inside the Galaxy as sub-dominant to the dust: over
    8.5 kpc towards the centre tau_EBL < 0.01 at all energies (max ~5e-3 near 300 TeV) and
    < 5 % of tau_dust wherever the dust matters (tau_dust > 0.01)."""
    E = np.geomspace(1e12, 1e17, 21)
    ebl = mc.optical_depth_galactic(E, 0, 0, 8.5, ("ebl",))
    dust = mc.optical_depth_galactic(E, 0, 0, 8.5, ("dust",), config=COARSE)
    assert np.all(ebl < 0.01)
    assert np.all(ebl[dust > 0.01] < 0.05 * dust[dust > 0.01])


@pytest.mark.parametrize("call, fragment", [
    (lambda: mc.survival_probability(1e14, 0, 0, 8.5, fields=("cmb", "dustt")), "did you mean 'dust'"),
    (lambda: mc.mean_free_path_kpc(1e14, fields=("dust",)), "anisotropic"),
    (lambda: mc.mean_free_path_kpc(1e14, fields=42), "expected a tuple of field names"),
    (lambda: mc.survival_probability(1e8, 0, 0, 8.5), "E_eV = 1e+08 is outside"),
    (lambda: mc.survival_probability([1e14, 1e21], 0, 0, 8.5), "1e+20"),
    (lambda: mc.survival_probability(1e14, 0, 0, -1.0), "distance_kpc = -1 is not allowed"),
    (lambda: mc.survival_probability(1e14, 0, 95, 1.0), "b_deg = 95"),
    (lambda: mc.survival_probability(1e14, float("nan"), 0, 1.0), "l_deg"),
    (lambda: mc.mean_free_path_kpc(1e14, z=-0.5), "z = -0.5 is not allowed"),
    (lambda: mc.optical_depth_ebl(1e12, 0.1, model="nonexistent"), "allowed: dominguez"),
    (lambda: mc.optical_depth_ebl(8e19, 1.0), "allowed E_eV <="),
])
def test_bad_input_is_a_clear_error(call, fragment):
    with pytest.raises(ArgumentError) as err:
        call()
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, CoronaError)


def test_tables_are_cached_with_provenance_and_rebuilt_when_inputs_change(tmp_path):
    """A table is written to the cache directory with the code version, the resolved config
    and the key of its inputs; a new process loads it instead of rebuilding; changing a dust
    parameter changes the key (new file); a corrupted file is rebuilt."""
    cfg = transport.load_config({**COARSE, "opacity.cache_dir": str(tmp_path)})
    Opacity(cfg, progress=False).dust
    files = sorted(tmp_path.glob("dust-*.h5"))
    assert len(files) == 1
    with h5py.File(files[0]) as fh:
        for key in ("code_version", "created_utc", "config_toml", "table_key", "table_version"):
            assert key in fh.attrs
        assert json.loads(fh.attrs["config_json"])["dust"]["cold_r_kpc"] == 5.0
        assert fh["ln_rate_aniso_per_kpc"].attrs["units"] == "ln(kpc^-1)"
    _, path, built = rt.cached_table("dust", cfg, rt.dust_spec(cfg), None, rt._DUST_UNITS)
    assert path == files[0] and not built                # loaded, build() never called
    changed = cfg.with_overrides({"dust.cold_T_sun_K": 18.0})
    Opacity(changed, progress=False).dust
    assert len(list(tmp_path.glob("dust-*.h5"))) == 2
    files[0].write_bytes(b"not an hdf5 file")
    Opacity(cfg, progress=False).dust
    with h5py.File(files[0]) as fh:
        assert "table_key" in fh.attrs


def test_cache_directory_resolution(tmp_path, monkeypatch):
    cfg = transport.load_config({"opacity.cache_dir": str(tmp_path / "here")})
    assert rt.cache_directory(cfg) == tmp_path / "here"
    auto = transport.load_config()
    monkeypatch.setenv("CORONA_CACHE_DIR", str(tmp_path / "env"))
    assert rt.cache_directory(auto) == tmp_path / "env"
    monkeypatch.delenv("CORONA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert rt.cache_directory(auto) == tmp_path / "xdg" / "corona"


def test_tabulated_user_field_matches_the_dust_table_at_the_sun():
    """The shipped example table (dust photons at the Sun, all directions, from direct
    line-of-sight integration) through the isotropic kernel equals the dust table's
    angle-averaged rate at the Sun (temperature bins, coarse grid): 3 %."""
    E = np.array([5e13, 1.5e14, 5e14, 2e15])
    lam = mc.mean_free_path_kpc(E, fields=("tabulated",), config={**COARSE, **EXAMPLE})
    table = opacity_for(COARSE).dust
    iso = table.rate_per_kpc([-8.5, 0, 0], [1, 0, 0], E, "angle_averaged")[0]
    assert np.allclose(1.0 / lam, iso, rtol=0.03, atol=0)
    with pytest.raises(ArgumentError, match="only at z = 0"):
        mc.mean_free_path_kpc(E, fields=("tabulated",), z=0.1, config=EXAMPLE)
    P = mc.survival_probability(E, 0, 0, 8.5, fields=("cmb", "tabulated"), config=EXAMPLE)
    assert np.all(P < 1.0)


def test_tabulated_field_errors(tmp_path):
    with pytest.raises(ArgumentError, match="tabulated_file"):
        mc.mean_free_path_kpc(1e14, fields=("tabulated",))
    with pytest.raises(DataFileError, match="nope.txt"):
        mc.mean_free_path_kpc(1e14, fields=("tabulated",),
                              config={"fields.tabulated_file": str(tmp_path / "nope.txt")})
    bad = tmp_path / "bad.txt"
    bad.write_text("0 0\n1e-3 1\n1e-4 2\n")
    with pytest.raises(DataFileError, match="ascending"):
        mc.mean_free_path_kpc(1e14, fields=("tabulated",), config={"fields.tabulated_file": str(bad)})


def test_user_table_with_redshifts(tmp_path):
    """A two-redshift user table of a black body scaled like the CMB equals the CMB."""
    from montecarlo.fields import cmb, tabulated
    eps = np.geomspace(1e-6, 1e-1, 400)
    z = np.array([0.0, 1.0])
    dn = np.stack([cmb.dn_deps(eps, cmb.temperature_K(zz)) for zz in z], axis=1)
    path = tmp_path / "bb.txt"
    tabulated.write(path, eps, z, dn, "black body at T0 (1 + z), test table")
    E = np.array([1e15, 3e15])
    cfg = {"fields.tabulated_file": str(path)}
    for zz in z:
        assert np.allclose(mc.mean_free_path_kpc(E, ("tabulated",), z=zz, config=cfg),
                           mc.mean_free_path_kpc(E, ("cmb",), z=zz), rtol=2e-3, atol=0)
