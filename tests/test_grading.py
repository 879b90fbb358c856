"""The grading engine end to end: bundled examples, outputs, submission forms, CLI behaviour."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import assignment as assignments
from autograder.engine import grading, submission

import golden_outputs

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)
ITEMS = [q.item for q in CNN.questions]
EXAMPLES = ROOT / "assignments" / "cnn" / "examples"


def run_kit(*args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "autograder", *map(str, args)],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd or ROOT, timeout=600,
    )


def example_meta(path: Path) -> tuple[list[str], str]:
    text = path.read_text()
    affects = re.search(r"^# affects: *(.*)$", text, re.M).group(1).split()
    phrase = re.search(r"^# feedback names: *(.*)$", text, re.M).group(1).strip()
    return affects, phrase


@pytest.fixture(scope="module")
def demo(tmp_path_factory, starts_workers):
    """The bundled submissions graded once, as the README's demo does."""
    out = tmp_path_factory.mktemp("demo")
    result = run_kit("demo", "--out", out, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    grades = {}
    for folder in out.iterdir():
        if (folder / "grade.json").is_file():
            grades[folder.name] = json.loads((folder / "grade.json").read_text())
    return out, grades, result.stdout


@pytest.mark.slow
def test_outputs_are_those_of_the_snapshot(demo):
    # Grades, feedback, gradebooks and the class report's text, as before any refactor (tests/golden_outputs.py).
    golden_outputs.compare("demo_cnn", golden_outputs.outputs(demo[0]))


@pytest.mark.slow
def test_reference_module_and_notebook_score_full_marks(demo):
    _, grades, _ = demo
    for name in ("reference", "reference_notebook", "four_loops"):
        assert grades[name]["score"] == 100, (name, [t for t in grades[name]["tests"] if t["status"] != "passed"])


@pytest.mark.slow
def test_untouched_handout_scores_zero_and_says_what_to_write(demo):
    out, grades, _ = demo
    assert grades["untouched_handout"]["score"] == 0
    feedback = (out / "untouched_handout" / "feedback.md").read_text()
    for function in ("conv_output_size", "pad", "conv2d_forward", "conv2d_backward", "maxpool_forward", "maxpool_backward"):
        # Said once per function, with how many checks it costs, not once per check.
        assert feedback.count(f"NotImplementedError: {function}:") == 1, function
        assert re.search(rf"`{function}`: \d+ checks \([\d.]+ points\) fail the same way: "
                         rf"`+ ?your code raised NotImplementedError: {function}:", feedback), function  # a code span
    assert len(feedback.splitlines()) < 40


@pytest.mark.slow
@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.py")))
def test_example_loses_only_its_items_and_feedback_names_the_mistake(demo, example):
    out, grades, _ = demo
    affects, phrase = example_meta(EXAMPLES / f"{example}.py")
    grade = grades[example]
    full = {q.item: q.points for q in CNN.questions}
    if affects == ["*"]:
        assert grade["score"] == 0
    else:
        for item in ITEMS:
            if item in affects:
                assert grade["by_item"][item] < full[item], f"{example} should lose points on {item}"
            else:
                assert grade["by_item"][item] == pytest.approx(full[item]), f"{example} lost points on {item}"
    if phrase:
        text = (out / example / "feedback.md").read_text()
        assert phrase.lower() in text.lower(), f"feedback of {example} does not say '{phrase}'"


@pytest.mark.slow
def test_results_json_is_gradescope_format(demo):
    out, grades, _ = demo
    data = json.loads((out / "flipped_kernel" / "results.json").read_text())
    assert {"score", "execution_time", "output", "tests"} <= set(data)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=0.01)
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(100)
    visibilities = {t["visibility"] for t in data["tests"]}
    assert visibilities == {"visible", "after_published"}
    for test in data["tests"]:
        assert {"name", "number", "score", "max_score", "status", "visibility", "tags", "output"} <= set(test)
        assert test["status"] in ("passed", "failed")
        assert test["tags"] and test["tags"][0] in ITEMS
        if test["max_score"]:
            assert (test["status"] == "passed") == (test["score"] == test["max_score"])
    public = {p.stem.removeprefix("test_") for p in CNN.public_tests_dir.glob("test_*.py")}
    assert {t["tags"][0] for t in data["tests"] if t["visibility"] == "visible"} == public
    # Public checks ship with their expected outputs: they are shown, and earn nothing.
    assert all(t["max_score"] == 0 for t in data["tests"] if t["visibility"] == "visible")
    assert all(t["max_score"] > 0 for t in data["tests"] if t["visibility"] != "visible")


@pytest.mark.slow
def test_failure_messages_do_not_show_hidden_code(demo):
    out, grades, _ = demo
    suite_lines = {
        line.strip()
        for path in CNN.suite.glob("*.py")
        for line in path.read_text().splitlines()
        if len(line.strip()) > 25 and not line.strip().startswith(('"""', "#", "@check"))
    }
    for name, grade in grades.items():
        for test in grade["tests"]:
            for line in suite_lines:
                assert line not in test["output"], f"{name}/{test['name']} shows suite code: {line}"


@pytest.mark.slow
def test_gradebook_has_a_row_per_submission(demo):
    out, grades, stdout = demo
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [c for c in rows[0]] == ["name", "total", *ITEMS, "status", "flags"]
    assert {r["name"] for r in rows} == set(grades)
    for row in rows:
        assert float(row["total"]) == pytest.approx(sum(float(row[i]) for i in ITEMS), abs=0.05)
    assert "flip the kernel" in stdout


# -- submission forms --------------------------------------------------------
def test_notebook_magics_and_otter_lines_are_skipped(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import otter\ngrader = otter.Notebook(tests_dir='checks')\n%matplotlib inline"),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("%%time\nx = 1"),
        nbformat.v4.new_code_cell("!pip install torch\ndef f():\n    return 2\ngrader.check('pad')"),
    ]
    path = tmp_path / "alice.ipynb"
    nbformat.write(nb, path)
    sub = submission.resolve(path, "cnn_layers", "cnn.ipynb")
    assert sub.problem is None and sub.kind == "notebook" and sub.name == "alice"
    # Numbered among code cells, as a student counts them, and named by what they define.
    assert [n for n, _ in sub.cells] == ["code cell 1", "code cell 3 (defines f)"]
    code = "\n".join(c for _, c in sub.cells)
    assert "otter" not in code.replace("# skipped by the grader", "") and "pip" not in code
    compile(code, "cells", "exec")


def test_folder_with_both_files_grades_the_one_that_was_worked_on(tmp_path):
    folder = tmp_path / "bob"
    folder.mkdir()
    handout = CNN.template_dir / "cnn_layers.py"
    (folder / "cnn_layers.py").write_bytes(handout.read_bytes())
    (folder / "cnn.ipynb").write_bytes((CNN.solution_dir / "cnn.ipynb").read_bytes())
    (folder / "conftest.py").write_text("import os\nos._exit(0)\n")
    sub = submission.resolve(folder, "cnn_layers", "cnn.ipynb", handout)
    assert sub.kind == "notebook", sub.notes
    assert any("conftest.py" in n for n in sub.notes)
    assert any(f["kind"] == "conftest" for f in sub.findings)
    (folder / "cnn_layers.py").write_text("x = 1\n")
    assert submission.resolve(folder, "cnn_layers", "cnn.ipynb", handout).kind == "module"


def test_zip_is_extracted_safely(tmp_path):
    archive = tmp_path / "carol.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("carol/cnn_layers.py", "def pad(x, padding, value=0):\n    return x\n")
        zf.writestr("../../escaped.py", "print('out')\n")
        zf.writestr("/tmp/absolute_escape.txt", "x")
    sub = submission.resolve(archive, "cnn_layers", "cnn.ipynb")
    assert sub.problem is None and sub.name == "carol" and "def pad" in sub.source
    assert any(f["kind"] == "unsafe-zip" for f in sub.findings)
    assert not (tmp_path.parent / "escaped.py").exists() and not Path("/tmp/absolute_escape.txt").exists()


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.ipynb", nbformat.writes(nbformat.v4.new_notebook()), "no code"),
        ("garbage.ipynb", "{not json", "not a readable notebook"),
        ("notzip.zip", "plain text", "not a valid zip"),
        ("latin.py", None, "not UTF-8"),
    ],
)
def test_unreadable_submissions_get_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is None:
        path.write_bytes(b"x = '\xe9'\n")
    else:
        path.write_text(content)
    assert reason in submission.resolve(path, "cnn_layers", "cnn.ipynb").problem


@pytest.mark.slow
def test_broken_submissions_score_zero_and_the_batch_goes_on(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "good.py").write_bytes(CNN.reference_module.read_bytes())
    (tmp_path / "crash.py").write_text("raise RuntimeError('boom at import')\n")
    out = tmp_path / "out"
    result = run_kit("grade", tmp_path / "broken.ipynb", tmp_path / "crash.py", tmp_path / "good.py", "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in csv.DictReader(open(out / "grades.csv", newline=""))}
    assert float(rows["good"]["total"]) == 100
    assert float(rows["broken"]["total"]) == 0 and "not a readable notebook" in rows["broken"]["status"]
    assert float(rows["crash"]["total"]) == 0 and "boom at import" in rows["crash"]["status"]


@pytest.mark.slow
def test_resume_skips_finished_submissions(tmp_path):
    for name in ("one", "two"):
        (tmp_path / f"{name}.py").write_bytes(CNN.reference_module.read_bytes())
    out = tmp_path / "out"
    assert run_kit("grade", tmp_path / "one.py", "--out", out, "--quiet").returncode == 0
    first = (out / "one" / "grade.json").stat().st_mtime_ns
    result = run_kit("grade", tmp_path / "one.py", tmp_path / "two.py", "--out", out, "--resume")
    assert result.returncode == 0, result.stderr
    assert (out / "one" / "grade.json").stat().st_mtime_ns == first
    rows = list(csv.DictReader(open(out / "grades.csv", newline="")))
    assert [r["name"] for r in rows] == ["one", "two"]
    assert "one" in result.stdout and "two" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["grade", "missing.py", "--out", "x"], "does not exist"),
        (["grade", "README.md", "--out", "x", "--jobs", "0"], "--jobs"),
        (["grade", "README.md", "--out", "x", "--assignment", "nope"], "no assignment 'nope'"),
    ],
)
@pytest.mark.slow
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, message):
    result = run_kit(*args, cwd=tmp_path if args[1] == "missing.py" else ROOT)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_seed_depends_on_the_name_the_code_and_the_secret():
    a = grading.seed_for("cnn", "alice", "c0de")
    assert a == grading.seed_for("cnn", "alice", "c0de") != grading.seed_for("cnn", "bob", "c0de")
    assert grading.seed_for("cnn", "alice", "c0de", secret="s3cret") != a
    assert grading.seed_for("cnn", "alice", "c0dd") != a


@pytest.mark.slow
@pytest.mark.parametrize("level", ["auto", "none"])
def test_student_code_can_import_and_use_scratch_space(tmp_path, level, request):
    """After the worker drops privileges it must still reach its Python (regression: bwrap's
    root-only parent folders once hid every module the worker had not preloaded)."""
    source = CNN.reference_module.read_text() + (
        "\nimport fractions, statistics, numpy.polynomial, tempfile, os\n"
        "with open(os.path.join(tempfile.gettempdir(), 'scratch.txt'), 'w') as f:\n"
        "    f.write('notes')\n"
        "with open('notes.txt', 'w') as f:\n"
        "    f.write('notes')\n"
    )
    (tmp_path / "imports.py").write_text(source)
    out = tmp_path / "out"
    env = {"AUTOGRADER_ISOLATION": level}
    if level == "none" and os.geteuid() == 0:  # even unsandboxed, student code drops root: it needs a public Python
        env["AUTOGRADER_WORKER_PYTHON"] = request.getfixturevalue("public_python")
    result = run_kit("grade", tmp_path / "imports.py", "--out", out, "--quiet", env=env)
    assert result.returncode == 0, result.stderr
    grade = json.loads((out / "imports" / "grade.json").read_text())
    assert grade["status"] == "graded", grade["status"]
    assert grade["score"] == 100


@pytest.mark.slow
def test_a_failing_notebook_cell_is_reported_and_costs_nothing_by_itself(tmp_path):
    notebook = nbformat.read(CNN.solution_dir / "cnn.ipynb", as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_code_cell("1 / 0"))
    nbformat.write(notebook, tmp_path / "dana.ipynb")
    out = tmp_path / "out"
    assert run_kit("grade", tmp_path / "dana.ipynb", "--out", out, "--quiet").returncode == 0
    grade = json.loads((out / "dana" / "grade.json").read_text())
    assert grade["score"] == 100
    assert [e["type"] for e in grade["cell_errors"]] == ["ZeroDivisionError"]
    code_before = sum(c.cell_type == "code" for c in notebook.cells[:3])
    assert grade["cell_errors"][0]["where"].startswith(f"cnn.ipynb, code cell {code_before + 1},"), grade["cell_errors"]
    assert "ZeroDivisionError" in (out / "dana" / "feedback.md").read_text()


def _with_loop(body: str) -> str:
    """The reference whose maxpool_forward runs `body` (indented code) before its own work."""
    source = CNN.reference_module.read_text()
    head = "def maxpool_forward(x, pool_size=2, stride=None):\n"
    return source + "\n\n_reference_maxpool_forward = maxpool_forward\n\n\n" + head + body + (
        "    return _reference_maxpool_forward(x, pool_size, stride)\n"
    )


def _grade_fast_timeouts(tmp_path: Path, source: str, give_up: int) -> dict:
    """Grade `source` in this process with a 0.4 s budget per test."""
    import dataclasses

    limits = dataclasses.replace(CNN.limits, test_seconds=0.4, give_up_after_timeouts=give_up)
    path = tmp_path / "looping.py"
    path.write_text(source)
    return grading.Grader(dataclasses.replace(CNN, limits=limits)).grade(path).to_dict()


def _maxpool_forward_tests(grade: dict) -> list[dict]:
    return [t for t in grade["tests"] if t["item"] == "maxpool_forward"]


@pytest.mark.slow
def test_a_function_that_never_returns_is_given_up_after_its_timeouts(tmp_path):
    grade = _grade_fast_timeouts(tmp_path, _with_loop("    while True:\n        pass\n"), give_up=2)
    pool = _maxpool_forward_tests(grade)
    given_up = [t for t in pool if t["output"].startswith("not run: maxpool_forward was stopped after 0.4 s in 2")]
    assert len(pool) > 4 and len(given_up) == len(pool) - 2 and all(t["status"] == "failed" for t in pool)
    # The layer loops through maxpool_forward too: MaxPool2d.forward and layer(x) are given up
    # after two timeouts each; so two timeouts per way in, and no more.
    layer = [t for t in grade["tests"] if t["item"] == "MaxPool2d"]
    assert any(t["output"].startswith("not run: MaxPool2d.forward was stopped") for t in layer)
    timed_out = [t for t in grade["tests"] if "timed out after" in t["output"]]
    assert len(timed_out) <= 6, [(t["name"], t["output"]) for t in timed_out]
    assert grade["by_item"]["maxpool_forward"] == 0 and grade["by_item"]["MaxPool2d"] < CNN.question("MaxPool2d").points
    # Every other item is graded in full, and the grade says tests ran out of time.
    assert all(grade["by_item"][q.item] == q.points for q in CNN.questions if q.item not in ("maxpool_forward", "MaxPool2d"))
    assert "timeout" in grade["status"]


@pytest.mark.slow
def test_a_function_that_returned_once_is_always_called_again(tmp_path):
    # Returns on the first call in each fresh worker, then loops: never given up.
    body = "    global _calls\n    _calls = globals().get('_calls', 0) + 1\n    while _calls > 1:\n        pass\n"
    grade = _grade_fast_timeouts(tmp_path, _with_loop(body), give_up=2)
    pool = _maxpool_forward_tests(grade)
    assert not [t for t in grade["tests"] if t["output"].startswith("not run:")]
    assert sum("timed out after" in t["output"] for t in pool) > 2
    # With the rule off, the loop of the first test costs every test that calls it.
    grade = _grade_fast_timeouts(tmp_path, _with_loop("    while True:\n        pass\n"), give_up=0)
    assert all("timed out after" in t["output"] for t in _maxpool_forward_tests(grade))


@pytest.mark.slow
def test_contract_faithful_variations_get_full_marks_and_objects_are_named(tmp_path):
    """A namedtuple of gradients, a list of them and a ValueError subclass all keep the contract."""
    source = CNN.reference_module.read_text() + '''

from collections import namedtuple

_Grads = namedtuple("_Grads", "dx dw db")
_reference_backward, _reference_size = conv2d_backward, conv_output_size


class SizeError(ValueError):
    pass


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    return _Grads(*_reference_backward(dout, x, w, b, stride, padding))


def conv_output_size(size, kernel, stride=1, padding=0):
    try:
        return _reference_size(size, kernel, stride, padding)
    except ValueError as exc:
        raise SizeError(str(exc)) from None
'''
    path = tmp_path / "variations.py"
    path.write_text(source)
    grader = grading.Grader(CNN)
    grade = grader.grade(path)
    assert grade.score == 100, [(t.name, t.output) for t in grade.tests if t.status != "passed"]

    (tmp_path / "boxed.py").write_text(CNN.reference_module.read_text() + '''

class Box:
    pass


def maxpool_forward(x, pool_size=2, stride=None):
    return Box()
''')
    grade = grader.grade(tmp_path / "boxed.py")
    messages = [t.output for t in grade.tests if t.item == "maxpool_forward"]
    assert messages and all("Box" in m and "Remote" not in m for m in messages), messages


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_no_working_sandbox_stops_the_batch_with_one_line(tmp_path, jobs):
    broken = tmp_path / "bwrap"
    broken.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    broken.chmod(0o755)
    subs = [EXAMPLES / "missing_bias.py", EXAMPLES / "flipped_kernel.py"]
    result = run_kit("grade", *subs, "--out", tmp_path / "out", "--jobs", jobs,
                     env={"AUTOGRADER_ISOLATION": "namespace", "AUTOGRADER_BWRAP": str(broken)})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no sandbox works here (namespace:"), lines
    assert "No permissions to create new namespace" in lines[0]  # bwrap's own reason
    assert "AUTOGRADER_ISOLATION=none" in lines[0]
    # Nothing was graded as a zero for the grader's own failure.
    assert not list((tmp_path / "out").glob("*/grade.json"))


@pytest.mark.slow
def test_workers_started_in_the_background_live_until_used():
    """Regression: bwrap's --die-with-parent killed workers started by a thread that then ended
    (sandbox detection and prestart run in threads), failing the first test of a submission."""
    grader = grading.Grader(CNN)
    for _ in range(3):
        grade = grader.grade(CNN.reference_module)
        assert grade.score == 100, [(t.name, t.output) for t in grade.tests if t.status != "passed"]
        assert grade.timing["worker_start"] and len(grade.timing["load"]) == 1  # one worker served every test


@pytest.mark.slow
def test_the_sandbox_probe_worker_serves_the_first_submission(monkeypatch):
    from autograder.engine import detection, sandbox

    monkeypatch.setattr(detection, "_detected", {})  # detect afresh, as a new process does
    monkeypatch.setattr(detection, "_soon", {})
    spawned = []
    real_spawn = sandbox.spawn
    monkeypatch.setattr(sandbox, "spawn", lambda *args: spawned.append(args) or real_spawn(*args))
    grader = grading.Grader(CNN)
    grader.isolation  # detection done: its probe worker is left running
    spawned.clear()
    grade = grader.grade(CNN.reference_module)
    assert grade.score == 100
    assert spawned == [], "the first submission should have used the probe's worker"
    grader.grade(CNN.reference_module)
    assert len(spawned) >= 1  # later submissions start their own


@pytest.mark.slow
def test_student_random_draws_follow_the_submission_seed(tmp_path):
    """Each submission's NumPy random state is seeded from its seed (also in a reused worker)."""
    path = tmp_path / "draws.py"
    path.write_text(CNN.reference_module.read_text() + "\nprint('DRAW', np.random.randint(10**9))\n")
    grader = grading.Grader(CNN)

    def draw(seed):
        grader.fixed_seed = seed
        return re.search(r"DRAW (\d+)", grader.grade(path).printed)[1]

    first, again, other = draw(11), draw(11), draw(12)
    assert first == again != other


def test_notebooks_of_the_current_and_older_formats_give_the_same_cells(tmp_path):
    import nbformat.v3

    code = ["import numpy as np", "%matplotlib inline\nx = np.zeros(3)", "def f():\n    return 1"]
    v4 = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")]
                                  + [nbformat.v4.new_code_cell(c) for c in code])
    nbformat.write(v4, tmp_path / "v4.ipynb")
    v3 = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(
        cells=[nbformat.v3.new_text_cell("markdown", source="# Title")]
        + [nbformat.v3.new_code_cell(input=c) for c in code])])
    (tmp_path / "v3.ipynb").write_text(nbformat.v3.writes_json(v3))
    cells = submission.notebook_cells(tmp_path / "v4.ipynb")
    assert [n for n, _ in cells] == ["code cell 1", "code cell 2", "code cell 3 (defines f)"]
    assert "pass  # skipped by the grader" in cells[1][1] and "x = np.zeros(3)" in cells[1][1]
    assert submission.notebook_cells(tmp_path / "v3.ipynb") == cells
    (tmp_path / "odd.ipynb").write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, '
                                        '"cells": [{"cell_type": "code", "source": 7}]}')
    with pytest.raises(ValueError, match="code cell 1 has no readable source"):
        submission.notebook_cells(tmp_path / "odd.ipynb")


@pytest.mark.slow
def test_installed_pytest_plugins_do_not_touch_the_grade(tmp_path):
    """A pytest11 entry point (pytest-randomly, or worse) is not loaded into the hidden suite's run."""
    site = tmp_path / "site"
    dist = site / "sabotage-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sabotage\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\nsabotage = sabotage_plugin\n")
    (site / "sabotage_plugin.py").write_text(
        "def pytest_collection_modifyitems(items):\n    del items[: len(items) // 2]  # drop half the checks\n"
    )
    probe = subprocess.run([sys.executable, "-c", "import importlib.metadata as m; "
                            "print([e.name for e in m.entry_points(group='pytest11')])"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(site)})
    assert "sabotage" in probe.stdout  # the plugin is really installed for that interpreter
    out = tmp_path / "out"
    result = run_kit("grade", CNN.reference_module, "--out", out, "--quiet",
                     env={"PYTHONPATH": f"{site}{os.pathsep}{ROOT}"})
    assert result.returncode == 0, result.stderr
    grade = json.loads((out / "cnn_layers" / "grade.json").read_text())
    assert grade["score"] == 100 and len(grade["tests"]) > 60


@pytest.mark.slow
def test_a_property_a_trivial_dx_satisfies_earns_nothing_alone(tmp_path):
    """Issue 16: 'sum(dx) equals sum(dout)' credited dx.flat[0] = dout.sum(); it depends on the value checks."""
    path = tmp_path / "trivial_dx.py"
    path.write_text(CNN.reference_module.read_text() + '''

def maxpool_backward(dout, x, pool_size=2, stride=None):
    dx = np.zeros(x.shape)
    dx.flat[0] = dout.sum()
    return dx
''')
    grade = grading.Grader(CNN).grade(path)
    prop = [t for t in grade.tests if t.name.endswith("sum(dx) equals sum(dout)") or "sum_of_dx" in t.name
            or "sum(dx)" in t.name]
    assert prop and all(t.score == 0 for t in prop), [(t.name, t.status, t.score) for t in prop]
    assert grade.by_item["maxpool_backward"] == 0, [(t.name, t.score) for t in grade.tests if t.item == "maxpool_backward" and t.score]
