"""Enumerated scale mutants and the function -> tests map used by ``mutants.py --all``.

Every public function and method (name without a leading underscore, at module level or
directly in a module-level class) of the physics sub-packages gets one mutant that multiplies
its return value by 1.1. The wrapper keeps the function's signature and decorators
(``njit``, ``property``, ``classmethod``, ``staticmethod``, ``cached_property``) so that
compiled callers and attribute access see the mutated value; ``lru_cache`` is left on the
original only. What "the return value" means (:func:`mutant_scale`):

- a float, complex, float array: multiplied;
- a tuple/list: its first float element or float array multiplied;
- a dict: its first float value or float array multiplied;
- an object (dataclass or plain): a shallow copy with its first float / float-array attribute
  multiplied (``dataclasses.replace`` for dataclasses);
- a Python function (a closure, a bound method, a partial): a function that returns its result
  scaled by these rules;
- an emission table (``transport.emission.tables``: q with the arrays its evaluation uses
  derived from q at construction): rebuilt through its constructor with q multiplied;
- in dicts and objects, the abscissae (energies ``E_eV``, radii ``r_kpc``, redshifts, bin
  edges, angles: names ending in _eV, _kpc, ...) come last, so "the main array" is the
  tabulated quantity, not its grid, and an object's configuration, metadata and the problem
  it was solved for (attributes ``config``, ``cfg``, ``attrs``, ``meta``, ``problem``) are
  passed over; the search goes into nested
  containers (depth <= 3); a
  tabulated logarithm (an attribute or key ``ln_<quantity>``, e.g. ``ln_rate``) gets
  ln(factor) added, i.e. the quantity multiplied;

A value of any other kind (None, bool, str, int, an object without float content) cannot be
scaled: the wrapper then leaves it unchanged and records the fact in the file named by
``CORONA_MUTANT_MARK``, and the mutant is reported as ``unscalable`` (it belongs in
``EXCLUDED``, see ``mutants.py``). Functions with no ``return <value>`` at all are excluded
structurally ("returns nothing").

The map function -> tests comes from one coverage run of the test suite with per-test
contexts (pytest-cov, ``--cov-context=test``): a mutant runs the tests that executed a line of
its function's body. Compiled (``@njit``) functions are invisible to coverage; their tests are
those whose own code names them (directly, or through the test file's helpers and fixtures, e.g.
a test's own ``@njit`` driver; run first) and those of their Python callers (functions that
name them, followed through other compiled functions). The map is cached in a JSON file keyed
by the digest of the sources; test files changed since are re-run on their own and merged.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

FACTOR = 1.1

# sub-package name -> files (relative to the repository root); order = report order
PACKAGES = {
    "galactic_plane": ["montecarlo/galactic_plane"],
    "cascade": ["montecarlo/cascade"],
    "cosmicrays": ["transport/cosmicrays"],
    "hadronic": ["transport/hadronic"],
    "emission": ["transport/emission"],
    "fields": ["montecarlo/fields"],
    "opacity": ["montecarlo/opacity"],
    "lineofsight": ["montecarlo/lineofsight"],
    "propagation": ["montecarlo/propagation"],
    "sky": ["montecarlo/sky"],
    "response": ["montecarlo/pipeline/response.py"],
}
# test files that check no physics (command line, docs, packaging, MPI launch): not in the map
NOT_PHYSICS = {"test_cli.py", "test_docs_links.py", "test_install_sequence.py", "test_layout.py",
               "test_mpi_paths.py", "test_parallel.py", "test_user_text.py",
               "test_data_files.py", "test_gallery.py", "test_mutation_scaler.py"}
KEEP_DECORATORS = {"njit", "jit", "property", "classmethod", "staticmethod", "cached_property"}


@dataclass
class ScaleMutant:
    package: str
    path: str            # relative file
    qualname: str        # "f" or "Class.method"
    lines: tuple         # (first, last) line of the function, 1-based inclusive
    compiled: bool       # @njit
    returns_value: bool  # has a `return <expr>`
    tuple_return: bool   # some return statement returns a tuple literal
    names: list = field(default_factory=list)   # names it references (for the caller graph)

    @property
    def key(self) -> str:
        return f"{self.path[:-3].replace('/', '.')}.{self.qualname}"


def _decorator_name(d) -> str:
    if isinstance(d, ast.Call):
        d = d.func
    if isinstance(d, ast.Attribute):
        return d.attr
    return d.id if isinstance(d, ast.Name) else ""


def _files(root: Path, spec):
    for item in spec:
        p = root / item
        yield from ([p] if p.is_file() else sorted(p.glob("*.py")))


def enumerate_mutants(root: Path, packages=None) -> list:
    """All scale mutants of the chosen sub-packages (default: all)."""
    out = []
    for pkg, spec in PACKAGES.items():
        if packages and pkg not in packages:
            continue
        for f in _files(root, spec):
            rel = str(f.relative_to(root))
            tree = ast.parse(f.read_text())
            for node, cls in _public_functions(tree):
                decos = {_decorator_name(d) for d in node.decorator_list}
                rets = [n for n in ast.walk(node) if isinstance(n, ast.Return)
                        and n.value is not None and _owner(node, n)]
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                out.append(ScaleMutant(
                    pkg, rel, f"{cls}.{node.name}" if cls else node.name,
                    (min([node.lineno] + [d.lineno for d in node.decorator_list]),
                     node.end_lineno),
                    bool(decos & {"njit", "jit"}), bool(rets),
                    any(isinstance(r.value, ast.Tuple) for r in rets), sorted(names)))
    return out


def _owner(func, ret) -> bool:
    """True when ``ret`` belongs to ``func`` itself, not to a nested function/lambda."""
    for n in ast.walk(func):
        if n is not func and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if any(m is ret for m in ast.walk(n)):
                return False
    return True


def _public_functions(tree):
    for n in tree.body:
        if isinstance(n, ast.FunctionDef) and not n.name.startswith("_"):
            yield n, None
        elif isinstance(n, ast.ClassDef) and not n.name.startswith("_"):
            for m in n.body:
                if isinstance(m, ast.FunctionDef) and not m.name.startswith("_"):
                    yield m, n.name


# --------------------------------------------------------------------------- applying
HELPER = '''

def _mutant_scale(value, factor, key):
    """Multiply the main numeric content of ``value`` by ``factor`` (see benchmarks/_mutate.py)."""
    import copy as _copy
    import dataclasses as _dc
    import functools as _functools
    import os as _os
    import types as _types
    import numpy as _np

    def floaty(v):
        if isinstance(v, (bool, _np.bool_)):
            return False
        if isinstance(v, (float, complex, _np.floating, _np.complexfloating)):
            return True
        return isinstance(v, _np.ndarray) and v.dtype.kind in "fc" and v.size > 0

    def abscissa(name):
        """True for a grid the quantity is tabulated on (energies, radii, redshifts): those
        come after the quantities, so "the main array" of an object is a quantity."""
        n = str(name)
        return n in ("E", "z", "x", "r", "R", "ln_r", "ln_x") \
            or n.startswith(("E_", "ln_E", "lnE", "r_", "R_", "z_", "edges", "mu", "psi",
                             "ln_rho", "ln_ds")) \
            or (n.endswith(("_eV", "_kpc", "_nodes", "_grid", "edges")) and "_per_" not in n)

    def shifted(name, v):
        """A tabulated logarithm (ln_rate, ln_aniso, ...): ln(factor x quantity)."""
        return str(name).startswith("ln_") and not abscissa(name) and floaty(v) \
            and _np.ndim(v) > 0

    def scaled(value, depth):
        """(new value, True) with the first float content scaled, or (value, False)."""
        if floaty(value):
            return value * factor, True
        if isinstance(value, (_types.FunctionType, _types.MethodType, _functools.partial)):
            def called(*args, **kwargs):             # a returned function: scale its result
                return scaled(value(*args, **kwargs), 0)[0]
            return called, True
        if depth > 3 or value is None or isinstance(value, (str, bytes, int, _np.integer)):
            return value, False
        if isinstance(value, (tuple, list)):
            for i, v in enumerate(value):
                new, ok = scaled(v, depth + 1)
                if ok:
                    items = list(value)
                    items[i] = new
                    if isinstance(value, list) or type(value) is tuple:
                        return type(value)(items), True
                    return type(value)(*items), True
            return value, False
        if isinstance(value, dict):
            for k, v in sorted(value.items(), key=lambda kv: abscissa(kv[0])):
                new, ok = (v + _np.log(factor), True) if shifted(k, v) else scaled(v, depth + 1)
                if ok:
                    out = dict(value)
                    out[k] = new
                    return out, True
            return value, False
        grids = getattr(value, "_grid_attrs", None)
        if callable(grids) and floaty(getattr(value, "q", None)):
            # an emission table: evaluation goes through arrays derived from q at
            # construction, so it is rebuilt with q scaled (grids first, as its constructor)
            axes = [v for k, v in grids().items() if k != "axes"]
            return type(value)(*axes, value.E_eV, value.q * factor, attrs=value.attrs), True
        attrs = ([f.name for f in _dc.fields(value)] if _dc.is_dataclass(value)
                 else list(getattr(value, "__dict__", {})))
        for a in sorted(attrs, key=abscissa):
            if a in ("config", "cfg", "attrs", "meta", "problem"):  # what it was made from
                continue
            old = getattr(value, a, None)
            new, ok = ((old + _np.log(factor), True) if shifted(a, old)
                       else scaled(old, depth + 1))
            if ok:
                if _dc.is_dataclass(value):
                    try:
                        return _dc.replace(value, **{a: new}), True
                    except (TypeError, ValueError):
                        pass
                out = _copy.copy(value)
                object.__setattr__(out, a, new)
                return out, True
        return value, False

    new, ok = scaled(value, 0)
    if ok:
        return new
    mark = _os.environ.get("CORONA_MUTANT_MARK")
    if mark:
        with open(mark, "a") as fh:
            fh.write(f"{key}: {type(value).__name__}\\n")
    return value
'''


def _call_args(args: ast.arguments, skip_first: bool) -> str:
    pos = [a.arg for a in args.posonlyargs + args.args][1 if skip_first else 0:]
    parts = pos[:]
    if args.vararg:
        parts.append(f"*{args.vararg.arg}")
    parts += [f"{a.arg}={a.arg}" for a in args.kwonlyargs]
    if args.kwarg:
        parts.append(f"**{args.kwarg.arg}")
    return ", ".join(parts)


def apply_scale(source: str, m: ScaleMutant, factor: float = FACTOR) -> str:
    """Source with ``m``'s function renamed ``_mutant_<name>`` and a wrapper ``<name>`` inserted
    after it that returns the scaled value."""
    tree = ast.parse(source)
    body, indent, cls = tree.body, "", None
    name = m.qualname
    if "." in name:
        cls, name = name.split(".", 1)
        c = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls][0]
        body, indent = c.body, " " * c.body[0].col_offset
    node = [n for n in body if isinstance(n, ast.FunctionDef) and n.name == name][-1]
    decos = [d for d in node.decorator_list if _decorator_name(d) in KEEP_DECORATORS]
    kinds = {_decorator_name(d) for d in decos}
    lines = source.splitlines(keepends=True)
    line = lines[node.lineno - 1]
    lines[node.lineno - 1] = line.replace(f"def {name}(", f"def _mutant_{name}(", 1)
    if cls is None:
        callee, skip = f"_mutant_{name}", False
    elif "staticmethod" in kinds:
        callee, skip = f"{cls}._mutant_{name}", False
    else:
        first = (node.args.posonlyargs + node.args.args)[0].arg
        callee, skip = f"{first}._mutant_{name}", True
    call = f"{callee}({_call_args(node.args, skip)})"
    if kinds & {"property", "cached_property"}:
        call = callee
    deco_text = "".join(f"{indent}@{ast.unparse(d)}\n" for d in decos)
    head = f"{indent}def {name}({ast.unparse(node.args)}):\n"
    if m.compiled:
        if m.tuple_return:
            inner = (f"{indent}    _r = {call}\n"
                     f"{indent}    return (_r[0] * {factor!r},) + _r[1:]\n")
        else:
            inner = f"{indent}    return {call} * {factor!r}\n"
    else:
        inner = f"{indent}    return _mutant_scale({call}, {factor!r}, {m.key!r})\n"
    lines.insert(node.end_lineno, "\n" + deco_text + head + inner)
    if not m.compiled:                       # the helper goes before the first definition
        first = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))][0]
        at = min([first.lineno] + [d.lineno for d in first.decorator_list]) - 1
        lines.insert(at, HELPER.lstrip("\n") + "\n\n")
    return "".join(lines)


# --------------------------------------------------------------------------- test map
def source_digest(root: Path) -> str:
    """Digest of the code under test (transport/, montecarlo/, the inputs): keys the map."""
    h = hashlib.sha256()
    for top in ("transport", "montecarlo", "inputs"):
        for f in sorted(p for p in (root / top).rglob("*") if p.is_file()
                        and "__pycache__" not in p.parts):
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def map_tests(root: Path) -> list:
    """The test files of the map run: every tests/test_*.py except NOT_PHYSICS."""
    return [str(p.relative_to(root)) for p in sorted((root / "tests").glob("test_*.py"))
            if p.name not in NOT_PHYSICS]


def _coverage_run(copy_root: Path, tests, timeout: float, env_extra=None) -> dict:
    """One pytest run with per-test coverage contexts of ``tests`` in ``copy_root``."""
    covfile = copy_root / ".coverage-map"
    junit = copy_root / "junit-map.xml"
    for f in (covfile, junit):
        f.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(copy_root), COVERAGE_FILE=str(covfile),
               PYTHONDONTWRITEBYTECODE="1", **(env_extra or {}))
    env.pop("NUMBA_CACHE_DIR", None)        # numba's cache in the copy's __pycache__
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header",
           "--cov=transport", "--cov=montecarlo", "--cov-context=test", "--cov-report=",
           f"--junitxml={junit}", *tests]
    print(f"test map: coverage run of {len(tests)} file(s)", flush=True)
    proc = subprocess.run(cmd, cwd=copy_root, env=env, capture_output=True, text=True,
                          timeout=timeout)
    summary = (proc.stdout.strip().splitlines() or ["?"])[-1]
    print("test map:", summary, flush=True)
    import coverage
    data = coverage.CoverageData(basename=str(covfile))
    data.read()
    lines = {}
    for f in data.measured_files():
        rel = str(Path(f).resolve().relative_to(copy_root.resolve()))
        per = {}
        for ln, ctxs in data.contexts_by_lineno(f).items():
            ids = sorted({c.split("|")[0] for c in ctxs if c})
            if ids:
                per[str(ln)] = ids
        lines[rel] = per
    durations, failed = {}, []
    import xml.etree.ElementTree as ET
    for tc in ET.parse(junit).getroot().iter("testcase"):
        key = junit_key(tc.get("classname", ""), tc.get("name"))
        durations[key] = float(tc.get("time", 0))
        if tc.find("failure") is not None or tc.find("error") is not None:
            failed.append(key)
    return {"lines": lines, "durations": durations, "failed": failed,
            "returncode": proc.returncode, "summary": summary}


def build_map(copy_root: Path, cache_dir: Path, timeout: float, tests=("tests",),
              env_extra=None) -> dict:
    """{"lines": {file: {line: [test ids]}}, "durations": {test: s}, "failed": [tests],
    "files": {test file: digest}} from coverage runs in ``copy_root``, cached under
    ``cache_dir`` by the digest of the code; test files added or changed since are run
    (and merged) on their own, so a new test does not cost a run of the whole suite."""
    digest = source_digest(copy_root)
    cache = cache_dir / f"testmap-{digest}.json"
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmap = json.loads(cache.read_text()) if cache.exists() else \
        {"digest": digest, "lines": {}, "durations": {}, "failed": [], "files": {}}
    want = {t: file_digest(copy_root / t) for t in tests}
    todo = [t for t, d in want.items() if tmap["files"].get(t) != d]
    if not todo:
        print(f"test map: cached {cache}", flush=True)
        return tmap
    run = _coverage_run(copy_root, todo, timeout, env_extra)
    stale = {t for t in todo}
    mods = {t[:-3].replace("/", ".") for t in stale}

    def keep(test_id):                           # entries of files not re-run
        return test_id.split("::")[0] not in stale

    for f, per in tmap["lines"].items():
        for ln in list(per):
            per[ln] = [t for t in per[ln] if keep(t)]
    for f, per in run["lines"].items():
        dst = tmap["lines"].setdefault(f, {})
        for ln, ids in per.items():
            dst[ln] = sorted(set(dst.get(ln, [])) | set(ids))
    def fresh(key):                              # junit keys of files not re-run
        head = key.split("::")[0]
        return not any(head == m or head.startswith(m + ".") for m in mods)

    tmap["durations"] = {k: v for k, v in tmap["durations"].items() if fresh(k)} \
        | run["durations"]
    tmap["failed"] = [k for k in tmap["failed"] if fresh(k)] + run["failed"]
    tmap["files"].update({t: want[t] for t in todo})
    tmap["summary"] = run["summary"]
    cache.write_text(json.dumps(tmap))
    return tmap


def junit_key(classname: str, name: str) -> str:
    """junit's (classname, name) -> "tests.test_x.TestC::name" """
    return f"{classname}::{name}"


def nodeid_key(nodeid: str) -> str:
    """pytest node id "tests/test_x.py::TestC::name" -> the junit form of :func:`junit_key`"""
    parts = nodeid.split("::")
    mod = parts[0][:-3].replace("/", ".")
    return junit_key(".".join([mod] + parts[1:-1]), parts[-1])


def tests_naming(root: Path, tmap: dict) -> dict:
    """{name: {test ids}}: the tests of the map whose code names ``name`` (a Name or an
    attribute, through import aliases), directly or through the module-level helpers and
    fixtures of their own file (followed to any depth). Compiled functions called only from
    a test's own ``@njit`` helper, or from the test directly, are invisible to coverage: this
    is how their tests are found."""
    by_def = {}                                   # (file, test function) -> [node ids]
    for key in tmap["durations"]:
        nid = junit_to_nodeid(key)
        f, rest = nid.split("::", 1)
        by_def.setdefault((f, rest.split("::")[-1].split("[")[0]), []).append(nid)
    out = {}
    for t in sorted({f for f, _ in by_def}):
        path = root / t
        if not path.exists():
            continue
        tree = ast.parse(path.read_text())
        alias = {}
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom):
                alias.update({a.asname: a.name for a in n.names if a.asname})
        defs = {}                                 # module-level (and class-level) functions
        for n in tree.body:
            items = n.body if isinstance(n, ast.ClassDef) else [n]
            for d in items:
                if isinstance(d, ast.FunctionDef):
                    names = {x.id for x in ast.walk(d) if isinstance(x, ast.Name)}
                    names |= {x.attr for x in ast.walk(d) if isinstance(x, ast.Attribute)}
                    names |= {a.arg for a in d.args.args}             # fixtures
                    defs[d.name] = {alias.get(x, x) for x in names}
        for name, direct in defs.items():
            if not name.startswith("test") or (t, name) not in by_def:
                continue
            seen, todo = set(direct), [x for x in direct if x in defs and x != name]
            while todo:
                h = todo.pop()
                new = defs[h] - seen
                seen |= new
                todo += [x for x in new if x in defs]
            for x in seen:
                out.setdefault(x, set()).update(by_def[(t, name)])
    return out


def junit_to_nodeid(key: str) -> str:
    """The inverse of :func:`nodeid_key` for the flat tests/ folder:
    "tests.test_x.TestC::name" -> "tests/test_x.py::TestC::name" """
    cls, name = key.split("::", 1)
    parts = cls.split(".")
    return "::".join([f"{parts[0]}/{parts[1]}.py"] + parts[2:] + [name])


def tests_for(m: ScaleMutant, tmap: dict, by_name: dict, named=None) -> list:
    """Test ids that execute ``m``: directly (coverage); when it is compiled, those of its
    Python callers (through other compiled functions) and the tests whose own code names it
    (``named``, from :func:`tests_naming`), the latter first."""
    def direct(x):
        per = tmap["lines"].get(x.path, {})
        first = x.lines[0]
        out = set()
        for ln in range(first, x.lines[1] + 1):
            out.update(per.get(str(ln), ()))
        return out

    found = direct(m) if not m.compiled else set()
    if not found:                           # compiled, or only reached from compiled code
        seen, frontier = {m.key}, [m]
        for _ in range(4):
            nxt = []
            for x in frontier:
                short = x.qualname.split(".")[-1]
                for y in by_name.get(short, ()):
                    if y.key not in seen:
                        seen.add(y.key)
                        nxt.append(y)
            for y in nxt:
                if not y.compiled:
                    found |= direct(y)
            if found:
                break
            frontier = nxt
    # junit names test ids "tests.test_x.TestC::name"; coverage contexts "tests/test_x.py::..."
    first = sorted((named or {}).get(m.qualname.split(".")[-1], ())) if m.compiled else []
    return first + sorted(found - set(first))


def callers_index(all_mutants_and_private: list) -> dict:
    """{name: [functions that reference name]}"""
    idx = {}
    for x in all_mutants_and_private:
        for n in x.names:
            idx.setdefault(n, []).append(x)
    return idx


def all_functions(root: Path) -> list:
    """Every function (public or private, any depth in a class) of transport/ and montecarlo/,
    as ScaleMutant records, for the caller graph of compiled functions."""
    out = []
    for top in ("transport", "montecarlo"):
        for f in sorted((root / top).rglob("*.py")):
            rel = str(f.relative_to(root))
            tree = ast.parse(f.read_text())
            for n in ast.walk(tree):
                if isinstance(n, ast.FunctionDef):
                    decos = {_decorator_name(d) for d in n.decorator_list}
                    names = {x.id for x in ast.walk(n) if isinstance(x, ast.Name)}
                    names |= {x.attr for x in ast.walk(n) if isinstance(x, ast.Attribute)}
                    out.append(ScaleMutant("", rel, n.name, (n.lineno, n.end_lineno),
                                           bool(decos & {"njit", "jit"}), True, False,
                                           sorted(names)))
    return out
