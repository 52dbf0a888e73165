"""Shipped data files are found from any install; a missing one is a clear error."""
import numpy as np
import pytest

from transport.core.data import input_path, load_table
from transport.core.errors import DataFileError
from transport.cosmicrays.normalization import KASCADE_FILES, kascade_points, reference_flux


def test_shipped_files_are_found():
    assert input_path("default.toml").is_file()
    for path in KASCADE_FILES.values():
        assert input_path(path).is_file()


def test_missing_file_names_the_file():
    with pytest.raises(DataFileError, match="no_such_table.txt"):
        load_table("cosmic_rays/no_such_table.txt")


def test_kascade_points_agree_with_h3a_within_their_spread():
    """Units check of the shipped tables (GeV^-1 m^-2 s^-1 sr^-1 -> eV^-1 cm^-2 s^-1 sr^-1):
    H3a was fitted to these data, so they agree within ~40 % below 100 PeV."""
    for E, flux, lo, hi in kascade_points().values():
        sel = E < 1e17
        ratio = flux[sel] / reference_flux(E[sel], "H3a_all")
        assert np.all((ratio > 0.6) & (ratio < 1.4)), ratio


def test_every_subpackage_is_listed_in_setup_cfg():
    """setup.cfg lists packages explicitly: a subpackage left out (e.g. montecarlo.fields)
    would be missing from a regular (non-editable) install."""
    import configparser
    from pathlib import Path

    from setuptools import find_packages
    root = Path(__file__).resolve().parent.parent
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    found = set(find_packages(root, include=["transport*", "montecarlo*"]))
    assert found <= listed, found - listed
