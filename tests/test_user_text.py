"""What a user reads cites papers ([C], [T], [L], [D], [K] or author-year), never the team's
internal labels ("seed 004", "seed000_...", "the seed's", "issue 10"): README, docs/, runs/
(file names and text), the bundled config and data notes, every `--help`, and the strings
of the plotting modules (titles, labels, legends)."""
import argparse
import ast
import re
import subprocess
from pathlib import Path

import pytest

from montecarlo.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
INTERNAL = re.compile(r"\bseed[ _-]?0\d\d|\bseed(?:'s|\s+(?:paper|papers|text|figures?|number))\b"
                      r"|\bissues?\s*#?\d+", re.IGNORECASE)
PLOT_MODULES = ("montecarlo/plots.py", "transport/plots.py", "montecarlo/pipeline/figures.py",
                "montecarlo/pipeline/summary.py", "montecarlo/pipeline/gallery.py")


def _tracked(*parts) -> list[Path]:
    """Files git tracks under ``parts`` (all files there without a git checkout)."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", *parts], capture_output=True,
                             text=True, timeout=30, check=True).stdout.split()
        return [ROOT / p for p in out if (ROOT / p).is_file()]
    except (OSError, subprocess.SubprocessError):
        return [p for part in parts for p in (ROOT / part).rglob("*") if p.is_file()]


def _hits(text: str) -> list[str]:
    return [m.group(0) for m in INTERNAL.finditer(text)]


def test_the_pattern_finds_internal_labels():
    for bad in ("see seed 004 Fig. 5", "seed004_baseline.toml", "The seed's xi", "issue 10",
                "(issues 10/11)", "seed_000"):
        assert _hits(bad), bad
    for fine in ("random seeds", "mc.seed = 1", 'history = "seed"', "[C] Fig. 5", "seeds per batch"):
        assert not _hits(fine), fine


def test_docs_runs_and_inputs_cite_papers():
    files = [ROOT / "README.md", *_tracked("docs", "runs", "inputs")]
    bad = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        bad += [f"{rel} (file name): {h}" for h in _hits(path.name)]
        if path.suffix in (".md", ".toml", ".txt", ".csv") or path.name == "README.md":
            if rel.startswith("inputs/") and path.suffix not in (".md", ".toml"):
                continue         # data files: their headers are hashed into cached tables
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                bad += [f"{rel}:{n}: {h}" for h in _hits(line)]
    assert not bad, "internal labels in user-facing text:\n" + "\n".join(bad)


def _parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_help_cites_papers():
    bad = [f"{p.prog}: {h}" for p in _parsers(build_parser()) for h in _hits(p.format_help())]
    assert not bad, bad
    assert any("Kalashev & Troitsky 2016" in p.format_help() for p in _parsers(build_parser()))


@pytest.mark.parametrize("module", PLOT_MODULES)
def test_plot_strings_cite_papers(module):
    """Every string literal that is not a docstring: titles, axis labels, legends, rows."""
    tree = ast.parse((ROOT / module).read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    bad = [f"{module}:{node.lineno}: {h}" for node in ast.walk(tree)
           if isinstance(node, ast.Constant) and isinstance(node.value, str)
           and id(node) not in docstrings for h in _hits(node.value)]
    assert not bad, bad
