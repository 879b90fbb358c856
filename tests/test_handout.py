"""The built handout (student_template/cnn) is safe to publish and works as students will use it.

- No reference code reaches it.
- Untouched, every public check fails and says which function to write, both
  under pytest and in the notebook's grader.check cells.
- With the reference filled in, every public check passes, both ways.
- The module and the notebook define the same contract; the README is there.

The notebooks are run cell by cell in a subprocess (as Jupyter would, the last
expression of a cell is its value), because no Jupyter kernel is installed in
the kit's environment.

Run: .venv/bin/python -m pytest tests/test_handout.py -q
"""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import assignment as assignments

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", root=ROOT)
SOURCE = CNN.folder / f"{CNN.module}.py"
HANDOUT = CNN.template_dir
SOLUTION = CNN.solution_dir

# The function whose stub every public check of an item runs into first.
FIRST_STUB = {
    "conv_output_size": "conv_output_size",
    "pad": "pad",
    "conv2d_forward": "conv2d_forward",
    "conv2d_backward": "conv2d_backward",
    "maxpool_forward": "maxpool_forward",
    "maxpool_backward": "maxpool_backward",
    "Conv2d": "Conv2d.__init__",
    "MaxPool2d": "MaxPool2d.__init__",
}
CHECKED_ITEMS = sorted(p.stem[len("test_"):] for p in CNN.public_tests_dir.glob("test_*.py"))

# Solution lines that may legitimately appear in the handout, and why.
ALLOWED_IN_HANDOUT = {
    "dx, dw, db = conv2d_backward(": "conv2d_backward's docstring example calls it the same way",
}
TRIVIAL = {"return out", "else:", "pass", "return dx", "return x"}


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_ROOT", "PYTEST_ADDOPTS")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _copy_handout(tmp_path: Path) -> Path:
    copy = tmp_path / "cnn"
    shutil.copytree(HANDOUT, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return copy


def _solution_lines() -> list[str]:
    lines, inside = [], False
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        marker = line.strip()
        if marker == "### BEGIN SOLUTION":
            inside = True
        elif marker == "### END SOLUTION":
            inside = False
        elif inside and not marker.startswith("#") and marker not in TRIVIAL and len(marker) >= 12:
            lines.append(marker)
    return lines


def _handout_texts() -> dict[str, str]:
    texts = {}
    for path in sorted(HANDOUT.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        name = path.relative_to(ROOT).as_posix()
        if path.suffix == ".npy":  # data (the photo of pictures.py): an array, no code
            assert np.load(path, allow_pickle=False).dtype.kind in "uif", name
            continue
        if path.suffix == ".ipynb":
            notebook = nbformat.read(path, as_version=4)
            texts[name] = "\n".join(cell.source for cell in notebook.cells)
            outputs = [json.dumps(cell.get("outputs", [])) for cell in notebook.cells]
            texts[name + " (outputs)"] = "\n".join(outputs)
        else:
            texts[name] = path.read_text(encoding="utf-8")
    return texts


def _top_level_names(source: str) -> set[str]:
    return {
        node.name
        for node in ast.parse(source).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


def _notebook_code(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")


# --------------------------------------------------------------------------
# No reference code reaches the handout
# --------------------------------------------------------------------------


def test_solution_regions_are_found():
    lines = _solution_lines()
    assert len(lines) > 50  # every function has a real body in the source
    assert "patches = _windows(pad(x, paddings), kernel, strides)" in lines
    assert set(ALLOWED_IN_HANDOUT) <= set(lines), "stale entry in ALLOWED_IN_HANDOUT"


def test_no_reference_line_reaches_the_handout():
    texts = _handout_texts()
    assert f"{HANDOUT.relative_to(ROOT).as_posix()}/{CNN.module}.py" in texts
    assert f"{HANDOUT.relative_to(ROOT).as_posix()}/{CNN.notebook}" in texts
    leaks = [
        f"{name}: {line}"
        for line in _solution_lines()
        if line not in ALLOWED_IN_HANDOUT
        for name, text in texts.items()
        if line in text
    ]
    assert not leaks, "reference code in the handout:\n" + "\n".join(leaks)


@pytest.mark.parametrize("helper", ["_pair", "_windows", "_pad_widths", "_check_4d", "sliding_window_view"])
def test_solution_only_helpers_are_not_in_the_handout_code(helper):
    reference = (SOLUTION / f"{CNN.module}.py").read_text(encoding="utf-8")
    assert helper in reference  # the name is real
    module = (HANDOUT / f"{CNN.module}.py").read_text(encoding="utf-8")
    notebook = _notebook_code(HANDOUT / CNN.notebook)
    assert helper not in module
    assert helper not in notebook


def test_handout_code_has_a_stub_for_every_solution_region():
    module = (HANDOUT / f"{CNN.module}.py").read_text(encoding="utf-8")
    assert "###" not in module
    for stub in FIRST_STUB.values():
        assert f'raise NotImplementedError("{stub}: ' in module


# --------------------------------------------------------------------------
# pytest in the handout folder
# --------------------------------------------------------------------------


def _run_public_tests(folder: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    report = tmp_path / "junit.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=folder, env=_env(), capture_output=True, text=True, timeout=120,
    )
    cases = []
    for case in ET.parse(report).iter("testcase"):
        failure = case.find("failure")
        error = case.find("error")
        problem = failure if failure is not None else error
        cases.append({
            "file": case.get("classname").split(".")[-1],
            "name": case.get("name"),
            "passed": problem is None and case.find("skipped") is None,
            "message": problem.get("message", "") if problem is not None else "",
        })
    return result, cases


def _expected_test_count() -> int:
    return sum(
        1
        for path in CNN.public_tests_dir.glob("test_*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    )


@pytest.mark.slow
def test_untouched_handout_fails_every_public_test_naming_the_function(tmp_path):
    folder = _copy_handout(tmp_path)
    result, cases = _run_public_tests(folder, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert len(cases) == _expected_test_count()
    assert {c["file"] for c in cases} == {f"test_{item}" for item in CHECKED_ITEMS}
    assert not [c for c in cases if c["passed"]], "tests pass against the stubs"
    assert f"{len(cases)} failed" in output
    assert not re.search(r"\d+ passed", output)
    for case in cases:
        stub = FIRST_STUB[case["file"][len("test_"):]]
        assert case["message"].startswith(f"NotImplementedError: {stub}: "), case
    for stub in FIRST_STUB.values():
        assert f"NotImplementedError: {stub}:" in output
    # In the handout's order, one line per unwritten function: no tracebacks, no reprinted docstrings.
    order = [c["file"][len("test_"):] for c in cases]
    assert order == sorted(order, key=CNN.contract.index), order
    assert "Traceback" not in output and "Inputs:" not in output
    assert len(output.splitlines()) < 5 * len(cases), output


@pytest.mark.slow
def test_reference_passes_every_public_test_in_the_handout(tmp_path):
    folder = _copy_handout(tmp_path)
    shutil.copyfile(SOLUTION / f"{CNN.module}.py", folder / f"{CNN.module}.py")
    result, cases = _run_public_tests(folder, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert len(cases) == _expected_test_count()
    assert all(c["passed"] for c in cases), [c for c in cases if not c["passed"]]
    assert f"{len(cases)} passed" in output


# --------------------------------------------------------------------------
# The notebooks' grader.check cells
# --------------------------------------------------------------------------

# Runs a notebook's code cells in order in one namespace, as a kernel would:
# a failing cell is recorded and the next one runs; the value of a cell's last
# expression is its result. Prints one JSON record per code cell.
RUNNER = r'''
import ast, json, sys
import nbformat

notebook = nbformat.read(sys.argv[1], as_version=4)
namespace = {"__name__": "__main__"}
records = []
for index, cell in enumerate(notebook.cells):
    if cell.cell_type != "code":
        continue
    record = {"index": index, "source": cell.source, "error": None, "check": None}
    try:
        tree = ast.parse(cell.source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, f"<cell {index}>", "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), f"<cell {index}>", "eval"), namespace) if last else None
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    else:
        if hasattr(value, "test_case_results"):
            record["check"] = {
                "name": value.name,
                "passed_all": value.passed_all,
                "grade": value.grade,
                "cases": [
                    {"name": r.test_case.name, "passed": r.passed, "message": r.message}
                    for r in value.test_case_results
                ],
                "summary": repr(value),
            }
    records.append(record)
print(json.dumps(records))
'''


def _run_notebook(folder: Path, notebook: str) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, notebook],
        cwd=folder, env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _check_calls(records: list[dict]) -> dict[str, dict]:
    calls = {}
    for record in records:
        source = record["source"].strip()
        if source.startswith("grader.check("):
            item = ast.literal_eval(ast.parse(source).body[0].value.args[0])
            assert record["error"] is None, f"grader.check({item!r}) raised {record['error']}"
            assert record["check"] is not None, f"grader.check({item!r}) returned no result"
            calls[item] = record["check"]
    return calls


@pytest.fixture(scope="module")
def handout_run(tmp_path_factory):
    folder = _copy_handout(tmp_path_factory.mktemp("handout"))
    return _run_notebook(folder, CNN.notebook)


@pytest.fixture(scope="module")
def solution_run(tmp_path_factory):
    # The solution notebook, placed where the handout's is, beside checks/.
    folder = _copy_handout(tmp_path_factory.mktemp("solution"))
    shutil.copyfile(SOLUTION / CNN.notebook, folder / CNN.notebook)
    return _run_notebook(folder, CNN.notebook)


@pytest.mark.slow
def test_solution_notebook_passes_every_check(solution_run):
    errors = [(r["index"], r["error"]) for r in solution_run if r["error"]]
    assert not errors, f"cells of the solution notebook fail: {errors}"
    calls = _check_calls(solution_run)
    assert sorted(calls) == CHECKED_ITEMS
    for item, check in calls.items():
        assert check["name"] == item
        assert check["cases"], f"grader.check({item!r}) ran no test cases"
        assert check["passed_all"] and check["grade"] == 1, check["summary"]
        assert all(case["passed"] for case in check["cases"])


@pytest.mark.slow
def test_untouched_handout_notebook_fails_every_check_naming_the_function(handout_run):
    calls = _check_calls(handout_run)
    assert sorted(calls) == CHECKED_ITEMS
    for item, check in calls.items():
        assert not check["passed_all"] and check["grade"] == 0, check["summary"]
        stub = FIRST_STUB[item]
        for case in check["cases"]:
            assert not case["passed"]
            assert f"NotImplementedError: {stub}: " in case["message"], (item, case)
        assert f"NotImplementedError: {stub}: " in check["summary"]


def test_untouched_handout_notebook_fails_only_where_students_write_code(handout_run):
    # The setup cell and every cell of definitions (stubs and given code) run;
    # the only failures are examples calling a stub.
    setup = next(r for r in handout_run if "otter.Notebook(" in r["source"])
    assert setup["error"] is None
    definitions = [
        r for r in handout_run
        if all(isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))
               for n in ast.parse(r["source"]).body)
    ]
    defined = set().union(*(_top_level_names(r["source"]) for r in definitions))
    assert set(CNN.contract) <= defined
    assert [r["error"] for r in definitions if r["error"]] == []
    errors = [r["error"] for r in handout_run if r["error"]]
    assert errors and all(e.startswith("NotImplementedError: ") for e in errors), errors


# --------------------------------------------------------------------------
# Same contract in module and notebook; README
# --------------------------------------------------------------------------


@pytest.mark.parametrize("folder", [HANDOUT, SOLUTION], ids=["handout", "solution"])
def test_module_and_notebook_define_the_contract(folder):
    module_names = _top_level_names((folder / f"{CNN.module}.py").read_text(encoding="utf-8"))
    notebook_names = _top_level_names(_notebook_code(folder / CNN.notebook))
    missing_module = [n for n in CNN.contract if n not in module_names]
    missing_notebook = [n for n in CNN.contract if n not in notebook_names]
    assert not missing_module, f"{CNN.module}.py lacks {missing_module}"
    assert not missing_notebook, f"{CNN.notebook} lacks {missing_notebook}"
    public = lambda names: {n for n in names if not n.startswith("_")}  # noqa: E731
    assert public(module_names) == public(notebook_names)


def test_student_readme():
    readme = HANDOUT / "README.md"
    assert readme.is_file()
    text = readme.read_text(encoding="utf-8")
    assert text == (CNN.folder / "student_README.md").read_text(encoding="utf-8")
    for needed in ("pytest", "grader.check", "requirements.txt", f"{CNN.module}.py", CNN.notebook):
        assert needed in text, needed
