"""The package layout: no import cycles between the project's modules, no project import
hidden inside a function, and no docstring citing a file outside the repository."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("transport", "montecarlo")


def _modules():
    mods = {}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            rel = p.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.parts[-1] == "__init__" else rel.parts
            mods[".".join(parts)] = p
    return mods


def _edges(mods):
    """Module-level imports: `from a.b import c` depends on a.b.c when that is a module
    (importing a submodule of a package), else on a.b."""
    graph = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in mods]
                deps.update(subs if len(subs) == len(node.names) else [node.module])
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in mods)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def test_no_import_cycles():
    graph = _edges(_modules())
    state, cycles = {}, []

    def visit(u, stack):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                cycles.append(stack[stack.index(v):] + [v])
            elif v not in state:
                visit(v, stack)
        stack.pop()
        state[u] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not cycles, cycles


def test_project_imports_are_at_module_top():
    inner = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for n in ast.walk(node):
                    if isinstance(n, ast.ImportFrom) and n.module and n.module.split(".")[0] in PACKAGES:
                        inner.append(f"{name}: {n.module}")
                    elif isinstance(n, ast.Import) and any(a.name.split(".")[0] in PACKAGES for a in n.names):
                        inner.append(f"{name}: {n.names[0].name}")
    assert not inner, inner


def test_sources_cite_nothing_outside_the_repository():
    bad = [str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
           if "PHYSICS.md" in p.read_text() or "shared/" in p.read_text()]
    assert not bad, bad
