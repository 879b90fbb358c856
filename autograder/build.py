"""Build solutions/<name>/ and student_template/<name>/ from assignments/<name>/.

The instructor edits one annotated source. Solution code sits between
marker lines, and `### STUB <code>` lines inside a region say what the
handout shows instead:

    def pad(x, padding, value=0):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION
        ### STUB raise NotImplementedError("pad: ...")
        return np.pad(...)
        ### END SOLUTION

A region without STUB lines vanishes from the handout. The master notebook
pulls definitions out of the module with directive cells
(`# ASSIGNMENT: pad conv2d_forward`), so code is written once. Public tests
are copied into the handout and turned into otter-grader check files.

`render` computes every output in memory; `write` puts them on disk and
`stale` compares them with what is on disk, which is what `build --check`
(and CI) uses to catch an edit that was not rebuilt.

The bundled example submissions (the reference plus each short patch of
assignments/<name>/examples) are not committed: `examples` renders them
into build/examples/<name>/ whenever they are missing or out of date.
"""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import uuid
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import nbformat

from . import assignment as assignment_module
from .assignment import Assignment, ConfigError, provider

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "### STUB"
DIRECTIVE = re.compile(r"^#\s*ASSIGNMENT:\s*(?P<names>.+?)\s*$")
EXAMPLE_MODULE = re.compile(r"^#\s*module:\s*(\w+)\s*$", re.MULTILINE)
COMMAND = "python -m autograder build"
# Where examples() renders the bundled example submissions, under the kit's root (git ignores /build/).
EXAMPLES = Path("build") / "examples"


class BuildError(ConfigError):
    """The annotated source is malformed; the message names the file and line."""


def split_solution(text: str, origin: str) -> tuple[str, str]:
    """Return (solution, handout) versions of an annotated source text."""
    solution, handout = [], []
    region_start = None
    stub_lines: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if region_start is not None:
                raise BuildError(f"{origin}:{number}: '{BEGIN}' inside the region opened at line {region_start}")
            region_start, stub_lines = number, []
        elif marker == END:
            if region_start is None:
                raise BuildError(f"{origin}:{number}: '{END}' without a '{BEGIN}' before it")
            handout.extend(stub_lines)
            region_start = None
        elif region_start is not None and marker.startswith(STUB):
            indent = line[: len(line) - len(line.lstrip())]
            stub_lines.append(indent + marker[len(STUB):].lstrip() + "\n")
        elif region_start is not None:
            solution.append(line)
        else:
            solution.append(line)
            handout.append(line)
    if region_start is not None:
        raise BuildError(f"{origin}:{region_start}: '{BEGIN}' is never closed with '{END}'")
    return _tidy("".join(solution)), _tidy("".join(handout))


def _tidy(text: str) -> str:
    """Collapse the blank-line runs left where regions were removed."""
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    return text.strip("\n") + "\n"


def top_level_definitions(source: str, origin: str) -> dict[str, str]:
    """Map each top-level def, class, import and assignment name to its source."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise BuildError(f"{origin}:{exc.lineno}: {exc.msg}") from None
    lines = source.splitlines(keepends=True)
    found: dict[str, str] = {}
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        text = "".join(lines[start - 1 : node.end_lineno]).rstrip("\n")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        else:
            continue
        for name in names:
            found[name] = text
    return found


def build_notebook(master: nbformat.NotebookNode, versions: dict[str, str], origin: str, module: str):
    """Return {version: notebook}, expanding directives with that version's module source."""
    definitions = {v: top_level_definitions(src, f"{module} ({v})") for v, src in versions.items()}
    placed: set[str] = set()
    built = {}
    for version, defs in definitions.items():
        cells = []
        for index, cell in enumerate(master.cells):
            source = cell.source
            if cell.cell_type == "code":
                directive = DIRECTIVE.match(source.strip())
                if directive:
                    names = directive.group("names").split()
                    unknown = [n for n in names if not any(n in d for d in definitions.values())]
                    if unknown:
                        raise BuildError(f"{origin}: cell {index + 1} asks for {unknown}, which {module} does not define")
                    placed.update(names)
                    source = "\n\n\n".join(defs[n] for n in names if n in defs)
                    if not source:
                        continue  # solution-only helpers: nothing to show students
                else:
                    source = split_solution(source, f"{origin} cell {index + 1}")[0 if version == "solution" else 1].rstrip("\n")
            new = nbformat.from_dict(dict(cell))
            new.source = source
            if new.cell_type == "code":
                new.outputs, new.execution_count = [], None
            cells.append(new)
        notebook = nbformat.from_dict(dict(master))
        notebook.cells = cells
        built[version] = notebook
    missing = [
        name
        for defs in definitions.values()
        for name, text in defs.items()
        if name not in placed and text.lstrip().startswith(("def ", "class ", "@"))
    ]
    if missing:
        raise BuildError(f"{origin}: no '# ASSIGNMENT:' cell includes {sorted(set(missing))} from {module}")
    return built


def otter_check_file(test_source: str, item: str, origin: str) -> str:
    """Turn a public pytest file into an otter-grader exception-based check file.

    Otter calls each test function with the notebook's globals of the same
    names as its parameters, which is why public tests take contract names
    as parameters.
    """
    tree = ast.parse(test_source)
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    if not tests:
        raise BuildError(f"{origin}: no test functions")
    lines = test_source.splitlines(keepends=True)
    for test in sorted(tests, key=lambda n: n.lineno, reverse=True):
        if test.decorator_list:
            raise BuildError(f"{origin}:{test.lineno}: public tests cannot be decorated (otter calls them directly)")
        lines.insert(test.lineno - 1, f'@test_case(name="{test.name}")\n')
    header = (
        f"# Built from {origin} by `{COMMAND}`; edit that file instead.\n"
        "from otter.test_files import test_case\n\n"
        "OK_FORMAT = False\n"
        f'name = "{item}"\n\n'
    )
    return header + "".join(lines)


def check_public_test_parameters(test_source: str, contract: tuple[str, ...], origin: str) -> None:
    """Public tests may take only contract names: pytest, otter and the engine all supply those."""
    for node in ast.parse(test_source).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            for arg in node.args.args:
                if arg.arg not in contract:
                    raise BuildError(
                        f"{origin}:{node.lineno}: {node.name} takes '{arg.arg}', which is not a contract name {list(contract)}"
                    )


CONFTEST = '''\
"""Hands each public test the functions and classes of your {module}.py.

A test whose parameter is named like an item of the assignment (pad,
conv2d_forward, Conv2d, ...) receives that item from {module}.py in the
folder above this one. Run the tests from that folder with `pytest`.
"""

import importlib.util
from pathlib import Path

import pytest

MODULE = "{module}"
CONTRACT = {contract!r}
SOURCE = Path(__file__).resolve().parent.parent / f"{{MODULE}}.py"


@pytest.fixture(scope="session")
def _student_module():
{path_line}    if not SOURCE.is_file():
        pytest.fail(f"{{SOURCE.name}} is missing; keep it beside the tests/ folder", pytrace=False)
    spec = importlib.util.spec_from_file_location(MODULE, SOURCE)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a broken module fails every test with the reason
        pytest.fail(f"importing {{SOURCE.name}} failed: {{type(exc).__name__}}: {{exc}}", pytrace=False)
    return module


def _item(name):
    @pytest.fixture(name=name)
    def fixture(_student_module):
        if not hasattr(_student_module, name):
            pytest.fail(f"{{SOURCE.name}} does not define {{name}}; keep the names from the handout", pytrace=False)
        return getattr(_student_module, name)

    return fixture


for _name in CONTRACT:
    globals()["_fixture_" + _name] = _item(_name)


def pytest_collection_modifyitems(items):
    """Run the tests in the handout's order (test_<item>.py by the item's place), not alphabetically."""

    def place(item):
        stem = Path(str(item.fspath)).stem.removeprefix("test_")
        return CONTRACT.index(stem) if stem in CONTRACT else len(CONTRACT)

    items.sort(key=place)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A function still raising the handout's NotImplementedError fails in one line, not a traceback."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(NotImplementedError):
        report.longrepr = f"NotImplementedError: {{call.excinfo.value}}"
'''

REQUIRES_PATH = """\
    import sys  # {names} from the folder above, as on import from there

    if str(SOURCE.parent) not in sys.path:
        sys.path.insert(0, str(SOURCE.parent))
"""

# Short tracebacks: a student reads each failure's own message, not pages of frames.
PYTEST_INI = "[pytest]\ntestpaths = tests\naddopts = --tb=short\n"
# What a student installs: the module's checks need numpy and pytest; the
# notebook needs Jupyter to open it and otter-grader for its grader.check cells;
# the given pictures.py (the notebook's "see it" cells) needs matplotlib.
REQUIREMENTS = ("numpy\npytest\n# for the notebook (cnn.ipynb): Jupyter, and otter-grader for its grader.check cells\n"
                "notebook\notter-grader\n# for the pictures of your layers (pictures.py)\nmatplotlib\n")


SOURCES_STAMP = assignment_module.SOURCES_STAMP
sources_digest = assignment_module.sources_digest


def _modules(assignment: Assignment) -> dict[str, tuple[str, str, str]]:
    """{module: (solution, handout, reference file)} of the assignment's module and those it requires."""
    sources = {assignment.module: assignment.folder / f"{assignment.module}.py"}
    sources.update((name, provider(name, assignment.root).folder / f"{name}.py") for name in assignment.requires)
    modules = {}
    for name, source in sources.items():
        origin = source.relative_to(assignment.root).as_posix()
        solution, handout = split_solution(source.read_text(encoding="utf-8"), origin)
        reference = f"# Reference solution, built from {origin} by `{COMMAND}`; edit that file instead.\n" + solution
        modules[name] = (solution, handout, reference)
    return modules


def render(assignment: Assignment) -> dict[Path, bytes]:
    """Every committed built file (not the examples: see examples()), keyed by its path relative to the kit's root."""
    root, folder = assignment.root, assignment.folder
    rel = lambda p: p.relative_to(root).as_posix()  # noqa: E731
    outputs: dict[Path, str | bytes] = {}
    solution_out = Path("solutions") / assignment.name
    template_out = Path("student_template") / assignment.name

    modules = _modules(assignment)
    solution, handout, reference = modules[assignment.module]
    outputs[solution_out / f"{assignment.module}.py"] = reference
    outputs[template_out / f"{assignment.module}.py"] = handout
    # Each module of an earlier part beside the reference, as a submission holds it beside its own.
    for name in assignment.requires:
        outputs[solution_out / f"{name}.py"] = modules[name][2]

    notebook_path = folder / assignment.notebook
    if notebook_path.is_file():
        master = nbformat.read(notebook_path, as_version=4)
        notebooks = build_notebook(
            master, {"solution": solution, "handout": handout}, rel(notebook_path), assignment.module
        )
        for version, out in (("solution", solution_out), ("handout", template_out)):
            nbformat.validate(notebooks[version])
            outputs[out / notebook_path.name] = nbformat.writes(notebooks[version]) + "\n"

    public = sorted(assignment.public_tests_dir.glob("test_*.py"))
    for path in public:
        source = path.read_text(encoding="utf-8")
        check_public_test_parameters(source, assignment.contract, rel(path))
        item = path.stem[len("test_"):]
        if item not in assignment.contract:
            raise BuildError(f"{rel(path)}: the file name must be test_<item>.py with an item of the contract")
        outputs[template_out / "tests" / path.name] = source
        outputs[template_out / "checks" / f"{item}.py"] = otter_check_file(source, item, rel(path))
    if public:
        # Modules an assignment requires (an earlier part's) sit beside its module: importable from there.
        path_line = REQUIRES_PATH.format(names=", ".join(f"{r}.py" for r in assignment.requires)) if assignment.requires else ""
        outputs[template_out / "tests" / "conftest.py"] = CONFTEST.format(
            module=assignment.module, contract=list(assignment.contract), path_line=path_line
        )
        outputs[template_out / "pytest.ini"] = PYTEST_INI
    outputs[template_out / "requirements.txt"] = REQUIREMENTS
    outputs[solution_out / SOURCES_STAMP] = sources_digest(assignment) + "\n"

    readme = folder / "student_README.md"
    if readme.is_file():
        outputs[template_out / "README.md"] = readme.read_text(encoding="utf-8")
    for extra in sorted((folder / "handout_files").rglob("*")) if (folder / "handout_files").is_dir() else []:
        # A given module's bytecode (Python writes it when the module is imported or compiled) is not a handout file.
        if extra.is_file() and "__pycache__" not in extra.parts and extra.suffix != ".pyc":
            outputs[template_out / extra.relative_to(folder / "handout_files")] = extra.read_bytes()  # data too
    return {Path(k): v if isinstance(v, bytes) else v.encode("utf-8") for k, v in outputs.items()}


def render_examples(assignment: Assignment) -> dict[Path, bytes]:
    """Each bundled example submission, keyed by its path inside examples(assignment)."""
    modules = _modules(assignment)
    outputs: dict[Path, str] = {}
    for example in sorted((assignment.folder / "examples").glob("*.py")):
        origin = example.relative_to(assignment.root).as_posix()
        snippet = example.read_text(encoding="utf-8")
        if not assignment.requires:
            outputs[Path(example.name)] = example_submission(modules[assignment.module][0], snippet, origin)
            continue
        # A folder, as such a submission is: the reference files, with the mistake added to the
        # one the example's `# module: NAME` line names (this assignment's module by default).
        target = EXAMPLE_MODULE.search(snippet)
        target = target.group(1) if target else assignment.module
        if target not in modules:
            raise BuildError(f"{origin}: '# module: {target}' is neither {assignment.module} nor a required module")
        for name, (solution, _, reference) in modules.items():
            outputs[Path(example.stem, f"{name}.py")] = (
                example_submission(solution, snippet, origin) if name == target else reference
            )
    return {k: v.encode("utf-8") for k, v in outputs.items()}


def examples(assignment: Assignment) -> Path:
    """The folder of the bundled example submissions (build/examples/<name>/), rendered when missing or out of date.

    They are never committed: each is the reference plus a short patch of
    assignments/<name>/examples, so they are made when asked for. A stamp inside the
    folder (a hash of the sources and of this renderer) makes asking cheap once made.
    """
    target = assignment.root / EXAMPLES / assignment.name
    stamp = hashlib.sha256(sources_digest(assignment).encode() + b"\0" + Path(__file__).read_bytes()).hexdigest()
    if _stamp_of(target) != stamp:
        _place(target, render_examples(assignment), stamp)
    return target


def _stamp_of(folder: Path) -> str | None:
    try:
        return (folder / SOURCES_STAMP).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _place(target: Path, files: dict[Path, bytes], stamp: str) -> None:
    """Put `files` and `stamp` in the folder `target` whole: written aside, then renamed into place.

    Several commands or test workers may ask at once: a reader sees the whole folder or
    none, a current folder is never replaced, and of makers that race the first rename
    wins (the others' folders hold the same files and are dropped).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name per maker, made with mkdir (not mkdtemp, whose 0700 the folder would keep).
    fresh = target.parent / f".{target.name}-{uuid.uuid4().hex}"
    fresh.mkdir()
    try:
        for path, content in files.items():
            (fresh / path).parent.mkdir(parents=True, exist_ok=True)
            (fresh / path).write_bytes(content)
        (fresh / SOURCES_STAMP).write_text(stamp + "\n", encoding="utf-8")
        for _ in range(10):
            try:
                fresh.rename(target)
                return
            except OSError:
                if _stamp_of(target) == stamp:
                    return  # another maker got there first
                if not target.exists():
                    continue  # moved aside by another maker between our rename and this look
            # An outdated folder: moved aside (one rename, so it too is whole or gone), then removed.
            old = target.parent / f".{target.name}-{uuid.uuid4().hex}"
            try:
                target.rename(old)
            except FileNotFoundError:
                pass  # another maker moved it first
            shutil.rmtree(old, ignore_errors=True)
        fresh.rename(target)  # still failing: its error says why
    finally:
        shutil.rmtree(fresh, ignore_errors=True)  # gone already when it was renamed into place


def example_submission(solution: str, snippet: str, origin: str) -> str:
    """The reference with an example's wrong definitions appended (later definitions win).

    Each replaced function stays reachable as _reference_<name>, so a
    snippet can wrap the right answer instead of repeating it.
    """
    try:
        replaced = [n.name for n in ast.parse(snippet).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    except SyntaxError:
        replaced = []  # an example of a broken file
    known = top_level_definitions(solution, origin)
    aliases = "".join(f"_reference_{name} = {name}\n" for name in replaced if name in known)
    return (
        f"# Example submission, built from {origin} by `{COMMAND}`: the reference plus the mistake below.\n"
        + solution
        + f"\n\n# ---- The mistake (from {origin}) ----\n"
        + aliases
        + "\n"
        + snippet
    )


def output_dirs(assignment: Assignment) -> list[Path]:
    return [assignment.solution_dir, assignment.template_dir]


def _on_disk(assignment: Assignment) -> dict[Path, bytes]:
    found = {}
    for directory in output_dirs(assignment):
        for path in directory.rglob("*") if directory.is_dir() else []:
            if path.is_file() and "__pycache__" not in path.parts and ".pytest_cache" not in path.parts:
                found[path.relative_to(assignment.root)] = path.read_bytes()
    return found


class Problem(str, Enum):
    """How a built file differs from what assignments/ builds."""

    MISSING = "missing"
    STRAY = "not built from assignments/ (remove it or add its source)"
    OUT_OF_DATE = "out of date"


@dataclass(frozen=True)
class Stale:
    problem: Problem
    path: Path  # relative to the kit

    def __str__(self) -> str:
        return f"{self.problem.value}: {self.path.as_posix()}"


def stale(assignment: Assignment) -> list[Stale]:
    """What differs between the built outputs and the files on disk, one entry per file."""
    wanted, present = render(assignment), _on_disk(assignment)
    render_examples(assignment)  # not on disk to compare, but a malformed example is a build error
    problems = []
    for path in sorted(set(wanted) | set(present)):
        if path not in present:
            problems.append(Stale(Problem.MISSING, path))
        elif path not in wanted:
            problems.append(Stale(Problem.STRAY, path))
        elif wanted[path] != present[path]:
            problems.append(Stale(Problem.OUT_OF_DATE, path))
    return problems


def write(assignment: Assignment) -> list[Path]:
    """Write every output, removing built files whose source is gone, and make the examples."""
    wanted = render(assignment)
    render_examples(assignment)  # a malformed example stops the build before anything is written
    for path in set(_on_disk(assignment)) - set(wanted):
        (assignment.root / path).unlink()
    for path, content in wanted.items():
        target = assignment.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_bytes() != content:
            target.write_bytes(content)
    examples(assignment)
    return sorted(wanted)
