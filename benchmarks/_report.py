"""Shared output of the benchmark scripts."""
import json
import os
import subprocess
from pathlib import Path


def uptime() -> str:
    """The `uptime` line (the load averages), printed beside speed figures measured on a
    shared machine."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "load average: %.2f, %.2f, %.2f" % os.getloadavg()


def write_json(result: dict, path) -> Path:
    """Write a benchmark's result dictionary as indented JSON (creating the directory)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return out
