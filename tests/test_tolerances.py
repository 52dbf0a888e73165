"""Every numerical comparison in tests/ states both tolerances.

``np.allclose``/``np.isclose``/``np.testing.assert_allclose`` add ``atol=1e-8`` and
``pytest.approx`` adds ``abs=1e-12`` unless told otherwise.  Our quantities are CGS
(intensities 1e-17..1e-28, emissivities down to 1e-41), so a default absolute
tolerance larger than the numbers makes the stated relative tolerance vacuous and
lets a factor-2 error pass.  This AST check fails for any such call without an
explicit absolute AND relative tolerance keyword.
"""
import ast
import pathlib

import pytest

TESTS = pathlib.Path(__file__).parent

# function name -> (relative keyword, absolute keyword)
REQUIRED = {
    "allclose": ("rtol", "atol"),
    "isclose": ("rtol", "atol"),
    "assert_allclose": ("rtol", "atol"),
    "approx": ("rel", "abs"),
}


def _name(func):
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def violations(source, filename="<test>"):
    """(line, name, missing keywords) for every comparison call lacking a tolerance."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name not in REQUIRED:
            continue
        given = {kw.arg for kw in node.keywords}
        if None in given:        # **kwargs: cannot be checked statically
            found.append((node.lineno, name, "**kwargs"))
            continue
        required = REQUIRED[name]
        if (name == "isclose" and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "math"):
            required = ("rel_tol", "abs_tol")          # math.isclose spells them so
        missing = [k for k in required if k not in given]
        if missing:
            found.append((node.lineno, name, ",".join(missing)))
    return found


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda p: p.name)
def test_every_comparison_states_both_tolerances(path):
    bad = violations(path.read_text(), str(path))
    assert not bad, "\n".join(f"{path.name}:{ln}: {name}() without {miss}"
                              for ln, name, miss in bad)


def test_checker_flags_defaults():
    """The checker itself can fail: default tolerances are flagged, explicit ones pass."""
    src = ("import numpy as np, pytest\n"
           "np.allclose(a, b, rtol=1e-3)\n"
           "np.testing.assert_allclose(a, b, atol=0)\n"
           "assert x == pytest.approx(y, rel=1e-3)\n"
           "np.isclose(a, b, rtol=1e-3, atol=0)\n"
           "assert x == pytest.approx(y, rel=1e-3, abs=0)\n"
           "math.isclose(a, b, rtol=1e-3, atol=0)\n"
           "math.isclose(a, b, rel_tol=1e-3, abs_tol=0)\n")
    bad = violations(src)
    assert sorted(ln for ln, _, _ in bad) == [2, 3, 4, 7]
