"""The kit's own structure: imports point down, no private name crosses a module, no prose is parsed.

Read from the source with `ast` (nothing is imported), so a new violation fails here
with the file and line, whatever the tests of behaviour cover.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
# Floors, lowest first: a module may import its own floor and those below, never above.
# assignment.py, errors.py, course_secret.py: configuration and shared errors under everything.
FLOORS = [
    ("base", ["autograder.assignment", "autograder.errors", "autograder.course_secret"]),
    ("engine", ["autograder.engine"]),
    ("suite", ["autograder.suite", "autograder.build"]),
    ("suites", ["autograder.suites"]),
    ("integrations", ["autograder.integrations"]),
    ("cli", ["autograder.cli", "autograder.commands", "autograder.__main__"]),
]
# The worker runs in the sandbox, on its own: it imports nothing of the kit but its two helpers.
WORKER = {"autograder.engine.worker", "autograder.engine.wire", "autograder.engine.text"}
# String methods that take text apart, and the literals they may be given: a two-word phrase (or a
# paragraph break) is another component's sentence being parsed back into data.
PARSERS = {"startswith", "endswith", "split", "rsplit", "partition", "rpartition", "removeprefix", "removesuffix",
           "index", "find"}
PHRASE = re.compile(r"[A-Za-z]{2,}[ :][A-Za-z]{2,}|\n\n")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def floor(module: str) -> int:
    best, level = -1, None
    for index, (_, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    assert level is not None, f"{module} is on no floor of tests/test_layers.py's FLOORS: add it"
    return level


def imports(module: str, path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, imported module) for every import of the kit's own modules in `path` (or `source`, as if there)."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("autograder")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("autograder"):
                continue
            for alias in node.names:  # `from . import batch` imports the module autograder.engine.batch
                full = f"{target}.{alias.name}"
                found.append((node.lineno, full if full in MODULES else target))
    return found


def upward(module: str, path: Path, source: str | None = None) -> list[str]:
    return [f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}" for line, target in imports(module, path, source)
            if target in MODULES and floor(target) > floor(module)]


def test_imports_point_only_down():
    found = [line for module, path in MODULES.items() if module not in WORKER for line in upward(module, path)]
    assert not found, "imports that point up a floor:\n" + "\n".join(found)


def test_the_floor_check_catches_an_engine_that_reaches_up():
    batch = MODULES["autograder.engine.batch"]
    assert upward("autograder.engine.batch", batch, "from ..integrations import exports\n")
    assert upward("autograder.engine.batch", batch, "from autograder.cli import main\n")
    assert not upward("autograder.engine.batch", batch, "from . import sandbox\nfrom .. import assignment\n")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every module that can reach itself through imports, with one path that shows it."""
    found = []
    for start in sorted(graph):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for target in sorted(graph.get(node, ())):
                if target == start:
                    found.append(path + [start])
                    stack = []
                    break
                if target not in seen:
                    seen.add(target)
                    stack.append((target, path + [target]))
    return found


def test_no_import_cycles():
    """Imports inside functions count too: a cycle is a cycle whenever it is taken."""
    graph = {}
    for module, path in MODULES.items():
        # A package's __init__ re-exporting its own modules is not a cycle of the floors.
        graph[module] = {t for _, t in imports(module, path) if t in MODULES and t != module
                         and not (module.startswith(t + ".") and MODULES[t].name == "__init__.py")}
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"], ["b", "c", "a", "b"],
                                                                        ["c", "a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_worker_imports_nothing_of_the_kit_but_its_helpers():
    for module in WORKER:
        for line, target in imports(module, MODULES[module]):
            assert target in WORKER, f"{MODULES[module]}:{line} imports {target}"


def test_no_private_name_crosses_a_module():
    crossing = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                crossing += [f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {alias.name}"
                             for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]
            # module._name, where `module` is a module of the kit imported by name
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name)
                    and any(m.rpartition(".")[2] == node.value.id for m in MODULES if m != module)
                    and node.value.id not in ("self", "cls")):
                crossing.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert not crossing, "private names used across modules:\n" + "\n".join(crossing)


def prose_parsed(source: str) -> list[tuple[int, str, str]]:
    """(line, method, literal) for every string method given a phrase to take text apart at."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in PARSERS:
            for arg in node.args[:1]:
                values = ([arg] if isinstance(arg, ast.Constant) else
                          list(arg.elts) if isinstance(arg, ast.Tuple) else [])
                found += [(node.lineno, node.func.attr, v.value) for v in values
                          if isinstance(v, ast.Constant) and isinstance(v.value, str) and PHRASE.search(v.value)]
    return found


def test_the_prose_check_catches_what_it_is_for():
    # Each of these was once in the kit: a stale-file line read by its prefix, a rate-limit line
    # filtered out of an earlier output, Gradescope's output cut at its first blank line.
    assert prose_parsed('[l for l in lines if l.startswith("out of date:")]')
    assert prose_parsed('[line for line in text.splitlines() if not line.startswith("Rate limit:")]')
    assert prose_parsed('data["output"].split("\\n\\n", 1)[0]')
    assert prose_parsed('name.partition("could not be loaded")')
    # Not prose: suffixes, prefixes of identifiers, single separators.
    assert not prose_parsed('p.endswith(".zip") or n.startswith("test_") or s.split(": ", 1) or t.split("\\n")')


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_component_parses_another_components_sentences(module):
    """Components pass data (enums, dataclasses); a sentence is only ever rendered, never read back."""
    found = prose_parsed(MODULES[module].read_text(encoding="utf-8"))
    assert not found, f"{MODULES[module]}: text parsed at a phrase: " + "; ".join(
        f"line {line}: .{method}({literal!r})" for line, method, literal in found)
