"""The README gallery is generated (`corona paper --gallery -o docs/figures`): every committed
figure names the configuration it shows and the SHA-256 of that configuration's input values;
a figure whose configuration has changed since (e.g. a new default normalisation) fails here
until the gallery is regenerated."""
import json
import re
from pathlib import Path

import matplotlib
import pytest
from PIL import Image

from transport import load_config
from transport.plots import (META_CONFIG, META_OVERRIDES, META_SHA, META_VERSION,
                             config_inputs_sha256, config_inputs_text, save_figure, stamped)

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
FIGURES = sorted((ROOT / "docs" / "figures").glob("*.png"))
REGENERATE = "regenerate the gallery: corona paper --gallery -o docs/figures (docs/figures/README.md)"


def _config(name: str, overrides: dict):
    return load_config(None if name == "default" else ROOT / name, overrides=overrides)


def test_the_gallery_has_figures_and_the_readme_shows_them():
    assert len(FIGURES) >= 8
    shown = set(re.findall(r"\(docs/figures/([\w.-]+\.png)\)", (ROOT / "README.md").read_text()))
    assert shown and shown <= {p.name for p in FIGURES}


@pytest.mark.parametrize("path", FIGURES, ids=[p.name for p in FIGURES])
def test_committed_figure_shows_the_current_config(path):
    meta = Image.open(path).text
    missing = [k for k in (META_VERSION, META_CONFIG, META_OVERRIDES, META_SHA) if k not in meta]
    assert not missing, f"{path.name} has no provenance ({', '.join(missing)}): drawn by hand? {REGENERATE}"
    cfg = _config(meta[META_CONFIG], json.loads(meta[META_OVERRIDES]))
    assert meta[META_SHA] == config_inputs_sha256(cfg), (
        f"{path.name} shows configuration {meta[META_CONFIG]!r} as it was at code version "
        f"{meta[META_VERSION]}; that configuration has changed since: {REGENERATE}")


def test_stamp_round_trip_and_what_the_hash_sees(tmp_path):
    """The PNG keeps the stamp; the hash follows the values, not how they were given: the
    default value set explicitly hashes like the default, a changed value differently, and
    "auto" keys enter as "auto" (not as derived floats)."""
    import matplotlib.pyplot as plt
    base = load_config(None)
    with stamped(base, "default"):
        fig, ax = plt.subplots()
        ax.plot([1, 2], [1, 2])
        save_figure(fig, tmp_path / "f.png")
    meta = Image.open(tmp_path / "f.png").text
    assert (meta[META_CONFIG], json.loads(meta[META_OVERRIDES])) == ("default", {})
    assert meta[META_SHA] == config_inputs_sha256(base)
    same = load_config(None, overrides={"source.alpha": base.source.alpha})
    assert config_inputs_sha256(same) == config_inputs_sha256(base)
    changed = load_config(None, overrides={"source.alpha": base.source.alpha + 0.01})
    assert config_inputs_sha256(changed) != config_inputs_sha256(base)
    assert json.loads(config_inputs_text(base))["grid"]["E_max_eV"] == "auto"
    fig, ax = plt.subplots()                  # outside stamped(): the code version only
    save_figure(fig, tmp_path / "g.png")
    assert META_SHA not in Image.open(tmp_path / "g.png").text
