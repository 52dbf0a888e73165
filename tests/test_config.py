"""Configuration loading, layering, and the one-clear-error rule for bad input."""
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import transport
from transport.core.config import all_keys, describe_schema, parse_assignment, read_toml
from transport.core.data import input_path
from transport.core.errors import ConfigError
from transport.core.schema import SCHEMA


def test_default_is_the_seed_baseline():
    cfg = transport.load_config()
    assert cfg.source.alpha == 2.4
    assert cfg.source.E_cut_eV == 1e17
    assert cfg.diffusion.D0_cm2_s == 1.2e29
    assert math.isclose(cfg.diffusion.delta, 1 / 3, rel_tol=1e-12, abs_tol=0)
    assert cfg.gas.profile == "max_beta"
    assert cfg.source.r_Q_kpc == 5.0
    assert cfg.source.history == "seed"
    assert cfg.time.t_end_gyr == 10.0
    assert cfg.grid.E_min_eV == 1e9
    assert cfg.grid.E_max_eV == pytest.approx(30 * 1e17, rel=1e-6, abs=0)   # "auto" = 30 E_cut
    assert cfg.normalization.mode == "observed_flux"


def test_default_file_and_schema_have_the_same_keys():
    defaults = read_toml(input_path("default.toml"))
    assert {f"{s}.{k}" for s, keys in defaults.items() for k in keys} == set(all_keys())


def test_readme_documents_every_key():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [k for k in all_keys() if f"`{k.split('.')[1]}`" not in text]
    assert not missing, f"README config reference lacks {missing}"
    assert describe_schema().count("|") > 4 * len(all_keys())


def test_override_layers_only_touch_named_keys(tmp_path):
    path = tmp_path / "user.toml"
    path.write_text("[source]\nalpha = 2.0\nE_cut_eV = 1e16\n")
    cfg = transport.load_config(path, overrides=["diffusion.D0_cm2_s=4e30", "gas.profile=none"])
    assert cfg.source.alpha == 2.0 and cfg.source.E_cut_eV == 1e16
    assert cfg.grid.E_max_eV == pytest.approx(3e17, rel=1e-6, abs=0)       # auto follows the user's E_cut
    assert cfg.diffusion.D0_cm2_s == 4e30 and cfg.gas.profile == "none"
    assert cfg.source.r_Q_kpc == 5.0                       # untouched default
    again = cfg.with_overrides({"source": {"alpha": 2.2}})
    assert again.source.alpha == 2.2 and again.source.E_cut_eV == 1e16


def test_dotted_and_nested_mappings_agree():
    a = transport.load_config({"source.alpha": 2.1, "grid.E_per_decade": 5})
    b = transport.load_config({"source": {"alpha": 2.1}, "grid": {"E_per_decade": 5}})
    assert a.to_dict() == b.to_dict()
    assert transport.load_config(a.to_dict()).digest() == a.digest()


def test_resolved_toml_round_trips(tmp_path):
    cfg = transport.load_config({"source.alpha": 2.2, "time.snapshots_gyr": [1, 5]})
    path = tmp_path / "resolved.toml"
    path.write_text(cfg.to_toml())
    assert transport.load_config(path).to_dict() == cfg.to_dict()


@pytest.mark.parametrize("text, key, value", [
    ("source.alpha=2.2", "source.alpha", 2.2),
    ("gas.profile=none", "gas.profile", "none"),
    ('gas.profile="beta"', "gas.profile", "beta"),
    ("time.snapshots_gyr=[1, 2.5]", "time.snapshots_gyr", [1, 2.5]),
])
def test_set_syntax(text, key, value):
    assert parse_assignment(text) == (key, value)


@pytest.mark.parametrize("bad, fragment", [
    ({"source.alphx": 2.0}, "did you mean 'source.alpha'"),
    ({"sorce": {"alpha": 2.0}}, "did you mean 'source'"),
    ({"diffusion.alpha": 2.0}, "source.alpha"),
    ({"gas.profile": "max-beta"}, 'did you mean "max_beta"'),
    ({"gas.inner_n0_cm3": -0.1}, "gas.inner_n0_cm3 = -0.1 is out of range"),
    ({"source.alpha": "2.4"}, "source.alpha = '2.4' is not allowed"),
    ({"source.alpha": True}, "source.alpha"),
    ({"grid.E_per_decade": 2.5}, "grid.E_per_decade"),
    ({"grid.E_min_eV": 1e12, "grid.E_max_eV": 1e11}, "grid.E_min_eV = 1e+12 must be below grid.E_max_eV"),
    ({"grid.cells_per_decade": 4}, "too coarse to resolve source.r_Q_kpc"),
    ({"source.r_Q_kpc": 0.06}, "resolved by only"),
    ({"source.r_Q_kpc": 0.01}, "must lie between grid.r_min_kpc"),
    ({"time.t_end_gyr": 12.5}, "beyond the seed injection history"),
    ({"time.snapshots_gyr": [3.0, 11.0]}, "time.snapshots_gyr"),
    ({"diffusion.D0_cm2_s": float("nan")}, "diffusion.D0_cm2_s"),
    ({"normalization.reference": "GSF"}, "normalization.reference"),
    ({"emission.models": ["corona", "dsk"]}, 'did you mean "disk"'),
    ({"emission.models": []}, "emission.models = [] is not allowed"),
    ({"emission.particles": ["gamma", "gamma"]}, "emission.particles"),
    ({"hadronic.yields": "kafexhiu2014"}, "gives photons only"),
    ({"hadronic.yields": "kafexhiu2014", "emission.particles": ["gamma"]}, "sky.particles"),
    ({"hadronic.yields": "kelner2006"}, "emission.E_min_eV = 1e+09 is outside the range"),
    ({"hadronic.yields": "kamae2006", "emission.E_max_eV": 1e16}, "emission.E_max_eV = 1e+16"),
    ({"emission.E_min_eV": 1e19}, "must be below the highest emission energy"),
    ({"disk.distribution": "snr"}, "disk.distribution"),
    ({"extra1.hadronic": "yes"}, "extra1.hadronic"),
    ({"hadronic.nuclear_enhancement": 0.5}, "hadronic.nuclear_enhancement = 0.5 is out of range"),
    ({"dust.warm_T_sun_K": 190.0}, "dust.warm_T_sun_K = 190"),
    ({"dust.T_scale_kpc": 0.0078125}, "dust.T_scale_kpc = 0.0078125"),
    ({"fields.ebl_model": "inoue"}, "fields.ebl_model"),
    ({"opacity.grid": "medium"}, "opacity.grid"),
])
def test_bad_input_is_one_clear_config_error(bad, fragment):
    with pytest.raises(ConfigError) as err:
        transport.load_config(bad)
    assert fragment in str(err.value)


def test_photon_only_yields_with_photon_tables():
    cfg = transport.load_config({"hadronic.yields": "kafexhiu2014", "emission.particles": ["gamma"],
                                 "sky.particles": ["gamma"]})
    assert cfg.hadronic.yields == "kafexhiu2014"
    cfg = transport.load_config({"hadronic.yields": "kelner2006", "emission.E_min_eV": 1e11})
    assert transport.emission_energy_grid(cfg)[[0, -1]].tolist() == [1e11, 1e17]


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parent.parent / "runs").glob("*.toml")),
                         ids=lambda p: p.name)
def test_shipped_run_configs_load(path):
    assert transport.load_config(path)


def test_constant_history_may_run_past_12_gyr():
    assert transport.load_config({"source.history": "constant", "time.t_end_gyr": 13.0})


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        transport.load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[source\nalpha = 2")
    with pytest.raises(ConfigError, match="not valid TOML"):
        transport.load_config(broken)


# Property-based: arbitrary junk in any key (or unknown keys) gives ConfigError, never another
# exception. Values are drawn from every JSON/TOML-like type including extreme numbers.
junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.lists(st.one_of(st.floats(), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
known = st.sampled_from(all_keys())
names = st.one_of(known, st.text(min_size=1, max_size=12), known.map(lambda k: k + "x"))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(names, junk, min_size=1, max_size=4))
def test_random_configs_raise_only_config_error(mapping):
    try:
        transport.load_config(mapping)
    except ConfigError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(all_keys()), st.floats(allow_nan=False, width=64))
def test_any_number_in_any_key_is_accepted_or_config_error(key, value):
    try:
        cfg = transport.load_config({key: value})
    except ConfigError:
        return
    section, name = key.split(".")
    spec = SCHEMA[section][name]
    assert spec.kind in ("real", "int")      # a float is never a valid choice, flag or list
    stored = cfg[section][name]
    assert stored == value
    assert spec.lo is None or stored >= spec.lo
    assert spec.hi is None or stored <= spec.hi


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({
    "gas.inner_n0_cm3": st.floats(0, 10), "gas.outer_n0_cm3": st.floats(0, 10),
    "gas.inner_beta": st.floats(0.01, 3), "gas.outer_beta": st.floats(0.01, 3),
    "gas.rc_kpc": st.floats(0.1, 50)}))
def test_any_valid_gas_profile_goes_through_the_corona_geometry(gas):
    """Valid gas parameters never crash the profile helpers the emission uses (the crossing of
    the two beta profiles may not exist: NaN, not ZeroDivisionError)."""
    from transport.cosmicrays.gas import corona_density, profile_crossing_kpc
    cfg = transport.load_config(gas)
    g = cfg.gas
    cross = profile_crossing_kpc(g.inner_n0_cm3, g.inner_beta, g.outer_n0_cm3, g.outer_beta, g.rc_kpc)
    assert np.isnan(cross) or cross > 0        # inf when the profiles cross beyond float range
    assert np.all(corona_density(np.geomspace(0.01, 300, 50), g) >= 0)
