"""The plane papers of ``corona paper`` ([L], [D], [K]) and the agreement table of all five."""
from __future__ import annotations

import json
import os
from pathlib import Path

from montecarlo.pipeline.papers import agreement, common, paper_d, paper_k, paper_l
from transport.core.output import provenance
from transport.core.safety import temp_path
from transport.plots import stamped

#: Paper letter -> figure module (each has ``run(outdir, overrides, progress)``).
PLANE_PAPERS = {"L": paper_l, "D": paper_d, "K": paper_k}


def plane_papers(outdir, which: str = "all", overrides=None, progress: bool = False):
    """Figures and agreement entries of the plane papers (``which`` = a letter or "all");
    ``overrides`` (dotted keys) go on top of each paper's runs/paper config (CI-size runs)."""
    paths, entries = [], []
    for letter, module in PLANE_PAPERS.items():
        if which in (letter, "all"):
            cfg = common.paper_config(module.CONFIG, overrides)
            with stamped(cfg, f"runs/paper/{module.CONFIG}", overrides or {}):  # figure provenance
                p, e = module.run(outdir, overrides, progress)
            paths += p
            entries += e
    return paths, entries


def write_agreement(outdir, entries, complete: bool = True) -> Path:
    """DIR/agreement.json (validated; every paper with at least agreement.MIN_ENTRIES entries
    when ``complete``) and DIR/agreement.provenance.json (code version, time, command, the
    plane papers' configs)."""
    outdir = Path(outdir)
    path = outdir / "agreement.json"
    agreement.write(path, entries, complete)
    info = provenance()
    info["configs"] = {m.CONFIG: (Path(__file__).resolve().parents[3] / "runs" / "paper" / m.CONFIG).read_text()
                       for m in PLANE_PAPERS.values()}
    info["entries"] = len(entries)
    side = outdir / "agreement.provenance.json"
    tmp = temp_path(side)
    with open(tmp, "w") as fh:
        json.dump(info, fh, indent=1)
    os.replace(tmp, side)
    return path
