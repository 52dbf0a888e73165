"""Shared output of the benchmark scripts."""
import json
from pathlib import Path


def write_json(result: dict, path) -> Path:
    """Write a benchmark's result dictionary as indented JSON (creating the directory)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return out
