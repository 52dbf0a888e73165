"""The mutation tool's scaler (benchmarks/_mutate.py) multiplies what a function computes, not
what it was made from: checked on a synthetic module, without running any physics."""
import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SOURCE = '''
import dataclasses
import numpy as np


@dataclasses.dataclass(frozen=True)
class Problem:
    E_eV: np.ndarray
    D0: float


@dataclasses.dataclass(frozen=True)
class Response:
    config: dict
    key: str
    problem: Problem
    G: np.ndarray
    E_eV: np.ndarray


def response():
    return Response({"a": 1.0}, "k", Problem(np.array([1.0, 2.0]), 3.0),
                    np.array([4.0, 5.0]), np.array([1.0, 2.0]))


def pair():
    return 2.0, np.array([1.0])
'''


def _mutate_module():
    spec = importlib.util.spec_from_file_location("_mutate_under_test",
                                                  ROOT / "benchmarks" / "_mutate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _mutant(tmp_path, qualname):
    M = _mutate_module()
    src = tmp_path / "synthetic.py"
    src.write_text(SOURCE)
    mutant = M.ScaleMutant("synthetic", "synthetic.py", qualname, (0, 0), False, True,
                           qualname == "pair")
    ns = {}
    exec(compile(M.apply_scale(SOURCE, mutant, 1.1), str(src), "exec"), ns)
    return ns


def test_an_object_is_scaled_in_its_quantity_not_in_its_problem_or_grid(tmp_path):
    r = _mutant(tmp_path, "response")["response"]()
    np.testing.assert_allclose(r.G, [4.4, 5.5], rtol=1e-12, atol=0)       # the result x 1.1
    np.testing.assert_allclose(r.problem.E_eV, [1.0, 2.0], rtol=0, atol=0)  # made from: kept
    assert r.problem.D0 == 3.0 and r.config == {"a": 1.0}
    np.testing.assert_allclose(r.E_eV, [1.0, 2.0], rtol=0, atol=0)          # its grid: kept


def test_a_tuple_is_scaled_in_its_first_float(tmp_path):
    a, b = _mutant(tmp_path, "pair")["pair"]()
    assert abs(a - 2.2) < 1e-12 and b[0] == 1.0
