"""The agreement table: every number a paper states (or that its figures show at a stated
energy) beside ours, written as DIR/agreement.json (docs/papers.md).

An entry is a dict with exactly the keys of :data:`FIELDS`:

    paper        "C", "T", "L", "D" or "K"
    figure       where the paper shows or states it ("Fig. 4", "Sec. 5", ...)
    quantity     what is compared (units in the text)
    E_eV         the energy it refers to [eV], or null
    paper_value  the paper's number (the centre of a quoted range, the bound of a quoted
                 limit), or null where the paper states no number
    our_value    ours, or null where it cannot be computed (the note says why)
    ratio        our_value / paper_value, or null
    note         the range or limit as quoted, digitisation uncertainties, caveats; a note
                 starting "upper bound:" / "lower bound:" marks a paper value that is a bound
"""
from __future__ import annotations

import json
import math
import os
from numbers import Real

from transport.core.errors import ArgumentError
from transport.core.safety import temp_path

PAPERS = ("C", "T", "L", "D", "K")
FIELDS = ("paper", "figure", "quantity", "E_eV", "paper_value", "our_value", "ratio", "note")
#: Entries each paper needs at least (the full `corona paper` run).
MIN_ENTRIES = 3
#: Ratios outside [1/(1 + TOLERANCE), 1 + TOLERANCE] are disagreements docs/papers.md explains.
TOLERANCE = 0.3


def _number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def entry(paper: str, figure: str, quantity: str, E_eV, paper_value, our_value, note: str = "") -> dict:
    """One row; ratio = our_value / paper_value where both are numbers (and paper_value != 0)."""
    p, o = _number(paper_value), _number(our_value)
    ratio = o / p if (p is not None and o is not None and p != 0.0) else None
    row = {"paper": paper, "figure": figure, "quantity": quantity, "E_eV": _number(E_eV),
           "paper_value": p, "our_value": o, "ratio": ratio, "note": note}
    validate([row], complete=False)
    return row


def validate(entries, complete: bool = True) -> None:
    """ArgumentError unless ``entries`` follow the schema (module docstring); with
    ``complete``, every paper must have at least MIN_ENTRIES entries."""
    if not isinstance(entries, list):
        raise ArgumentError(f"agreement table is a {type(entries).__name__}: expected a list of entries")
    for k, row in enumerate(entries):
        if not isinstance(row, dict) or tuple(sorted(row)) != tuple(sorted(FIELDS)):
            raise ArgumentError(f"agreement entry {k} has keys {sorted(row) if isinstance(row, dict) else row!r}: "
                                f"expected exactly {list(FIELDS)}")
        if row["paper"] not in PAPERS:
            raise ArgumentError(f"agreement entry {k}: paper = {row['paper']!r}, expected one of {PAPERS}")
        for key in ("figure", "quantity", "note"):
            if not isinstance(row[key], str) or (key != "note" and not row[key]):
                raise ArgumentError(f"agreement entry {k}: {key} = {row[key]!r}, expected a non-empty text")
        for key in ("E_eV", "paper_value", "our_value", "ratio"):
            value = row[key]
            if value is not None and (not isinstance(value, Real) or isinstance(value, bool)
                                      or not math.isfinite(value)):
                raise ArgumentError(f"agreement entry {k}: {key} = {value!r}, expected a finite number or null")
        p, o, r = row["paper_value"], row["our_value"], row["ratio"]
        if (r is None) != (p is None or o is None or p == 0.0):
            raise ArgumentError(f"agreement entry {k}: ratio = {r!r} but paper_value = {p!r}, our_value = {o!r}")
        if r is not None and not math.isclose(r, o / p, rel_tol=1e-9, abs_tol=0.0):
            raise ArgumentError(f"agreement entry {k}: ratio = {r!r} is not our_value / paper_value = {o / p!r}")
        if row["E_eV"] is not None and row["E_eV"] <= 0:
            raise ArgumentError(f"agreement entry {k}: E_eV = {row['E_eV']!r}, expected > 0 or null")
    if complete:
        counts = {p: sum(1 for row in entries if row["paper"] == p) for p in PAPERS}
        short = {p: n for p, n in counts.items() if n < MIN_ENTRIES}
        if short:
            raise ArgumentError(f"agreement table has too few entries for {short}: expected at least "
                                f"{MIN_ENTRIES} per paper")


def write(path, entries, complete: bool = True) -> None:
    """Validate and write ``entries`` as JSON, atomically (a temporary file renamed into place)."""
    validate(entries, complete)
    tmp = temp_path(path)
    try:
        with open(tmp, "w") as fh:
            json.dump(entries, fh, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read(path) -> list:
    """The entries of an agreement.json, validated (not for completeness)."""
    with open(path) as fh:
        entries = json.load(fh)
    validate(entries, complete=False)
    return entries


#: Note prefixes of a paper value that is a bound: only the wrong side disagrees.
UPPER, LOWER = "upper bound:", "lower bound:"


def disagrees(row) -> bool:
    """True when the ratio is outside [1/(1 + TOLERANCE), 1 + TOLERANCE]; for a paper value
    that is an upper (lower) bound (note starting with UPPER / LOWER), only above (below) it."""
    r = row["ratio"]
    if r is None:
        return False
    high, low = r > 1.0 + TOLERANCE, r < 1.0 / (1.0 + TOLERANCE)
    if row["note"].startswith(UPPER):
        return high
    if row["note"].startswith(LOWER):
        return low
    return high or low


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}"


def markdown(entries) -> str:
    """The table as Markdown (docs/papers.md), one row per entry; disagreements beyond
    TOLERANCE are marked with **bold** ratios."""
    lines = ["| paper | figure | quantity | E [eV] | paper | ours | ratio | note |",
             "|---|---|---|---|---|---|---|---|"]
    for row in entries:
        ratio = _fmt(row["ratio"])
        if disagrees(row):
            ratio = f"**{ratio}**"
        note = row["note"].replace("|", "/")
        lines.append(f"| {row['paper']} | {row['figure']} | {row['quantity']} | {_fmt(row['E_eV'])} | "
                     f"{_fmt(row['paper_value'])} | {_fmt(row['our_value'])} | {ratio} | {note} |")
    return "\n".join(lines)
