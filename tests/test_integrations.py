"""LMS exports, JUnit XML, the step summary and the students' `check` command.

One direct batch of the bundled submissions (the baseline, graded with a
fixed seed, writing JUnit XML and a GitHub step summary) is compared with:

- a Canvas bulk download (zip) of the same files under Canvas's names, with
  a LATE file, a "-1" resubmission and a notebook;
- a Gradescope "export submissions" zip of the same files, with a group
  submission and Ruby-flavoured metadata;
- `check` on the same files, which runs only the public tests.

Since the seed is fixed, inputs do not depend on the submission's name, so
every student must get exactly the per-test results of the same file graded
directly.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from autograder import assignment as assignments
from autograder import build
from autograder.engine import grading
from autograder.engine.kinds import State, TestKind
from autograder.integrations import exports, junit

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)
ITEMS = [q.item for q in CNN.questions]
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
NOTEBOOK = ROOT / "solutions" / "cnn" / "cnn.ipynb"
HANDOUT = ROOT / "student_template" / "cnn" / "cnn_layers.py"
EXAMPLES = build.examples(CNN)
SEED = "7"
OURS = ("AUTOGRADER_ISOLATION", "AUTOGRADER_ROOT", "AUTOGRADER_SECRET", "GITHUB_STEP_SUMMARY")
BASE_ENV = {k: v for k, v in os.environ.items() if k not in OURS}

# The bundled files graded directly, by the names the baseline gives them.
FILES = {
    "ref_module": REFERENCE,
    "ref_notebook": NOTEBOOK,
    "untouched": HANDOUT,
    "flipped_kernel": EXAMPLES / "flipped_kernel.py",
    "pads_every_axis": EXAMPLES / "pads_every_axis.py",
}


def kit(*args, env=None, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "autograder", *map(str, args)],
        capture_output=True, text=True, env={**BASE_ENV, **(env or {})}, cwd=cwd, timeout=300,
    )


def results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text(encoding="utf-8"))


def per_test(out: Path, name: str) -> list[tuple]:
    """What a test decided, without its timing."""
    return [(t["name"], t["score"], t["max_score"], t["status"], t["output"]) for t in results(out, name)["tests"]]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# --------------------------------------------------------------------------
# The baseline: the files graded directly (also writes JUnit and a step summary)
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def baseline(tmp_path_factory, starts_workers):
    work = tmp_path_factory.mktemp("baseline")
    paths = []
    for name, source in FILES.items():
        paths.append(work / f"{name}{source.suffix}")
        shutil.copyfile(source, paths[-1])
    summary = work / "step_summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    out = work / "out"
    result = kit("grade", *paths, "--out", out, "--seed", SEED, "--jobs", "2", "--quiet",
                 "--junit", work / "junit.xml", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stderr
    return out, work / "junit.xml", summary


# --------------------------------------------------------------------------
# Canvas
# --------------------------------------------------------------------------
CANVAS_FILES = {
    # Canvas file name -> the bundled file it holds
    "smith_anna_1001_5001_cnn_layers.py": REFERENCE,
    # Canvas's own spelling: "lastfirst" and a lower-case late mark.
    "jonesben_late_1002_5002_cnn.ipynb": NOTEBOOK,
    # An earlier upload and its resubmission: the later one (-1) is graded.
    "lee_chris_1003_5003_cnn_layers.py": HANDOUT,
    "lee_chris_1003_5010_cnn_layers-1.py": EXAMPLES / "flipped_kernel.py",
    # A file named otherwise is still the student's module.
    "garcia_dana_1004_5004_my_cnn.py": EXAMPLES / "pads_every_axis.py",
    # Anonymous grading leaves the name out.
    "1005_5005_cnn_layers.py": EXAMPLES / "pads_every_axis.py",
}
CANVAS_EXPECTED = {  # student -> (Canvas user id, baseline name, late)
    "smith_anna": ("1001", "ref_module", False),
    "jonesben": ("1002", "ref_notebook", True),
    "lee_chris": ("1003", "flipped_kernel", False),
    "garcia_dana": ("1004", "pads_every_axis", False),
    "canvas_1005": ("1005", "pads_every_axis", False),
}


def canvas_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, source in CANVAS_FILES.items():
            zf.write(source, name)
        zf.writestr("__MACOSX/._smith_anna_1001_5001_cnn_layers.py", b"\0")
        zf.writestr("grading_notes.txt", "not a submission")
    return path


@pytest.fixture(scope="module")
def canvas(tmp_path_factory, starts_workers):
    work = tmp_path_factory.mktemp("canvas")
    out = work / "out"
    result = kit("grade", canvas_zip(work / "submissions.zip"), "--out", out, "--seed", SEED, "--jobs", "2", "--quiet", "--export", "canvas")
    assert result.returncode == 0, result.stderr
    return out, result


@pytest.mark.slow
def test_canvas_export_gives_each_student_the_grade_of_their_file(baseline, canvas):
    base, _, _ = baseline
    out, result = canvas
    graded = {row[0] for row in read_csv(out / "grades.csv")[1:]}
    assert graded == set(CANVAS_EXPECTED)
    for student, (_, direct, _) in CANVAS_EXPECTED.items():
        assert per_test(out, student) == per_test(base, direct), student
    # The stray file was named, not graded.
    assert "grading_notes.txt is not named like a Canvas submission file" in result.stderr


@pytest.mark.slow
def test_canvas_gradebook_and_roster(baseline, canvas):
    base, _, _ = baseline
    out, _ = canvas
    rows = read_csv(out / "canvas_gradebook.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", CNN.title]
    assert rows[1] == ["    Points Possible", "", "", "", "", "100"]
    body = {row[1]: row for row in rows[2:]}
    assert len(rows) == 2 + len(CANVAS_EXPECTED)
    for student, (user, direct, _) in CANVAS_EXPECTED.items():
        assert body[user][0] == student
        assert float(body[user][5]) == results(base, direct)["score"]
    # The scores differ, so a mix-up of the full-marks student with another would show
    # (per-test identity with each student's own file is checked above).
    assert len({row[5] for row in rows[2:]}) >= 2
    roster = json.loads((out / "roster.json").read_text(encoding="utf-8"))
    for student, (user, _, late) in CANVAS_EXPECTED.items():
        assert roster[student]["canvas_user_id"] == user
        assert roster[student]["late"] is late
    assert roster["lee_chris"]["source"] == "lee_chris_1003_5010_cnn_layers-1.py"
    assert roster["lee_chris"]["superseded"] == ["lee_chris_1003_5003_cnn_layers.py"]


def test_canvas_column_carries_the_assignment_id(tmp_path, capsys):
    import dataclasses

    # Canvas fills an existing assignment only when the column is "Title (id)".
    with_id = dataclasses.replace(CNN, extra={**CNN.extra, "lms": {"canvas_assignment_id": 4321}})
    assert exports.canvas_column(with_id) == f"{CNN.title} (4321)"
    graded = grading.Grade(name="smith_anna", origin="x", score=90.0, max_score=100.0, seed=1)
    roster = {"smith_anna": {"kind": "canvas", "student": "smith_anna", "canvas_user_id": "1001", "late": False,
                             "source": "x"}}
    exports.write_gradebooks(tmp_path, [graded], roster, with_id)
    assert read_csv(tmp_path / "canvas_gradebook.csv")[0][-1] == f"{CNN.title} (4321)"
    assert capsys.readouterr().err == ""
    # Without the id, the file is still written, and the instructor is told what Canvas will do.
    exports.write_gradebooks(tmp_path, [graded], roster, CNN)
    assert "canvas_assignment_id" in capsys.readouterr().err
    # A later run with another student keeps the first one's roster entry.
    late = dataclasses.replace(graded, name="jonesben", score=50.0)
    exports.write_gradebooks(tmp_path, [graded, late], {"jonesben": {**roster["smith_anna"], "student": "jonesben",
                                                                     "canvas_user_id": "1002"}}, with_id)
    assert [row[1] for row in read_csv(tmp_path / "canvas_gradebook.csv")[2:]] == ["1002", "1001"]


def test_canvas_folder_is_expanded_like_the_zip(tmp_path):
    folder = tmp_path / "downloaded"
    folder.mkdir()
    for name, source in CANVAS_FILES.items():
        shutil.copyfile(source, folder / name)
    (folder / "smith_anna_1001_5001_cnn.ipynb").write_bytes(NOTEBOOK.read_bytes())  # both kinds from one student
    paths, roster = exports.expand([folder, REFERENCE], CNN, tmp_path / "scratch", "canvas")
    assert paths[-1] == REFERENCE  # a plain submission passes through
    by_name = {p.name: p for p in paths[:-1]}
    assert set(by_name) == set(CANVAS_EXPECTED) == set(roster)
    assert sorted(os.listdir(by_name["smith_anna"])) == ["cnn.ipynb", "cnn_layers.py"]
    assert os.listdir(by_name["garcia_dana"]) == ["cnn_layers.py"]
    assert (by_name["lee_chris"] / "cnn_layers.py").read_bytes() == (EXAMPLES / "flipped_kernel.py").read_bytes()
    assert (by_name["jonesben"] / "cnn.ipynb").read_bytes() == NOTEBOOK.read_bytes()
    assert roster["jonesben"]["late"] is True and roster["smith_anna"]["late"] is False


def test_two_canvas_students_with_one_name_stay_apart(tmp_path):
    folder = tmp_path / "downloaded"
    folder.mkdir()
    shutil.copyfile(REFERENCE, folder / "kim_li_2001_7001_cnn_layers.py")
    shutil.copyfile(HANDOUT, folder / "kim_li_2002_7002_cnn_layers.py")
    paths, roster = exports.expand([folder], CNN, tmp_path / "scratch", "canvas")
    assert {p.name for p in paths} == {"kim_li_2001", "kim_li_2002"}
    assert roster["kim_li_2002"]["canvas_user_id"] == "2002"
    assert (tmp_path / "scratch" / "export0" / "students" / "kim_li_2002" / "cnn_layers.py").read_bytes() == HANDOUT.read_bytes()


# --------------------------------------------------------------------------
# Gradescope
# --------------------------------------------------------------------------
# As Gradescope writes it (Ruby's YAML): symbol keys, quoted SIDs, a Ruby tag.
METADATA = """\
---
submission_111111111:
  :submitters:
  - :name: Anna Smith
    :sid: '5001'
    :email: anna@example.edu
  :created_at: 2024-03-01 10:00:00.123456000 -08:00
  :score: !ruby/object:BigDecimal 18:0.0
  :status: processed
  :results:
    score: 0.0
    tests: []
  :history: []
submission_222222222:
  :submitters:
  - :name: José Núñez
    :sid: '5002'
    :email: jose@example.edu
  - :name: Ben Lee
    :sid: '5003'
    :email: ben@example.edu
  :created_at: 2024-03-02 23:59:59.000000000 -08:00
  :score: 0.0
  :history: []
submission_333333333:
  :submitters:
  - :name: "O'Brien, Ciara"
    :sid: 5004
    :email: ciara@example.edu
  :created_at: 2024-03-03 09:00:00.000000000 -08:00
  :score: 0.0
  :history: []
"""
GRADESCOPE_FILES = {
    "submission_111111111/cnn_layers.py": REFERENCE,
    "submission_222222222/cnn_layers.py": EXAMPLES / "flipped_kernel.py",
    "submission_333333333/cnn.ipynb": NOTEBOOK,
}
GRADESCOPE_EXPECTED = {  # submission name -> baseline name
    "anna_smith": "ref_module",
    "jose_nunez-ben_lee": "flipped_kernel",
    "o_brien_ciara": "ref_notebook",
}


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory, starts_workers):
    work = tmp_path_factory.mktemp("gradescope")
    export = work / "submissions_export.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("assignment_4242_export/submission_metadata.yml", METADATA)
        for name, source in GRADESCOPE_FILES.items():
            zf.write(source, f"assignment_4242_export/{name}")
    out = work / "out"
    result = kit("grade", export, "--out", out, "--seed", SEED, "--jobs", "2", "--quiet", "--export", "gradescope")
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.slow
def test_gradescope_export_gives_each_student_the_grade_of_their_file(baseline, gradescope):
    base, _, _ = baseline
    graded = {row[0] for row in read_csv(gradescope / "grades.csv")[1:]}
    assert graded == set(GRADESCOPE_EXPECTED)
    for student, direct in GRADESCOPE_EXPECTED.items():
        assert per_test(gradescope, student) == per_test(base, direct), student


@pytest.mark.slow
def test_gradescope_scores_csv_has_one_row_per_student(baseline, gradescope):
    base, _, _ = baseline
    rows = read_csv(gradescope / "gradescope_scores.csv")
    assert rows[0] == ["Name", "SID", "Email", "Total Score"]
    score = {name: f"{results(base, direct)['score']:g}" for name, direct in GRADESCOPE_EXPECTED.items()}
    assert sorted(rows[1:]) == sorted([
        ["Anna Smith", "5001", "anna@example.edu", score["anna_smith"]],
        ["José Núñez", "5002", "jose@example.edu", score["jose_nunez-ben_lee"]],
        ["Ben Lee", "5003", "ben@example.edu", score["jose_nunez-ben_lee"]],
        ["O'Brien, Ciara", "5004", "ciara@example.edu", score["o_brien_ciara"]],
    ])
    roster = json.loads((gradescope / "roster.json").read_text(encoding="utf-8"))
    assert roster["anna_smith"]["source"] == "submission_111111111"
    assert roster["o_brien_ciara"]["sid"] == "5004"
    assert [s["sid"] for s in roster["jose_nunez-ben_lee"]["submitters"]] == ["5002", "5003"]


def test_gradescope_export_folder_and_same_names(tmp_path):
    folder = tmp_path / "export"
    (folder / "submission_1").mkdir(parents=True)
    (folder / "submission_2").mkdir()
    (folder / "submission_3").mkdir()  # not in the metadata: reported, not graded
    shutil.copyfile(REFERENCE, folder / "submission_1" / "cnn_layers.py")
    shutil.copyfile(HANDOUT, folder / "submission_2" / "cnn_layers.py")
    (folder / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: Sam Park\n    :sid: '11'\n"
        "submission_2:\n  :submitters:\n  - :name: Sam Park\n    :sid: '12'\n",
        encoding="utf-8",
    )
    paths, roster = exports.expand([folder], CNN, tmp_path / "scratch", "gradescope")
    assert {p.name for p in paths} == {"sam_park_11", "sam_park_12"}
    assert (tmp_path / "scratch" / "export0" / "students" / "sam_park_12" / "cnn_layers.py").read_bytes() == HANDOUT.read_bytes()
    assert roster["sam_park_11"]["source"] == "submission_1" and roster["sam_park_11"]["late"] is False


@pytest.mark.parametrize("metadata", [
    "submission_1: [unclosed\n",          # not YAML
    "- just\n- a list\n",                 # not submission entries
])
@pytest.mark.slow
def test_unreadable_gradescope_metadata_is_a_one_line_usage_error(tmp_path, metadata):
    folder = tmp_path / "export"
    (folder / "submission_1").mkdir(parents=True)
    shutil.copyfile(REFERENCE, folder / "submission_1" / "cnn_layers.py")
    (folder / "submission_metadata.yml").write_text(metadata, encoding="utf-8")
    result = kit("grade", folder, "--out", tmp_path / "out", "--quiet", "--export", "gradescope")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "submission_metadata.yml" in lines[0]
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_plain_submissions_pass_through_untouched(tmp_path):
    student = tmp_path / "someone"
    student.mkdir()
    shutil.copyfile(REFERENCE, student / "cnn_layers.py")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    paths, roster = exports.expand([REFERENCE, NOTEBOOK, student, broken], CNN, tmp_path / "scratch")
    assert paths == [REFERENCE, NOTEBOOK, student, broken] and roster == {}


# --------------------------------------------------------------------------
# JUnit XML and the step summary
# --------------------------------------------------------------------------
def assert_junit_shape(root: ET.Element) -> None:
    """The usual JUnit schema: testsuites > testsuite > (properties?, testcase*), testcase > (properties?, failure|error?)."""
    assert root.tag == "testsuites"
    for attr in ("tests", "failures", "errors", "time"):
        float(root.get(attr))
    for suite in root:
        assert suite.tag == "testsuite"
        assert suite.get("name")
        for attr in ("tests", "failures", "errors", "skipped", "time"):
            float(suite.get(attr))
        tags = [child.tag for child in suite]
        assert set(tags) <= {"properties", "testcase"} and tags.count("properties") <= 1
        assert "properties" not in tags[1:], "properties come first"
        for prop in suite.iter("property"):
            assert set(prop.attrib) == {"name", "value"}
        for case in suite.findall("testcase"):
            assert case.get("classname") and case.get("name")
            float(case.get("time"))
            inner = [child.tag for child in case]
            assert set(inner) <= {"properties", "failure", "error"}
            assert inner.count("failure") + inner.count("error") <= 1
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("errors")) == len(suite.findall("testcase/error"))
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in root)
    assert int(root.get("failures")) == sum(int(s.get("failures")) for s in root)


@pytest.mark.slow
def test_junit_matches_results_json(baseline):
    base, junit_path, _ = baseline
    root = ET.parse(junit_path).getroot()
    assert_junit_shape(root)
    suites = {s.get("name"): s for s in root}
    assert set(suites) == set(FILES)
    for name, suite in suites.items():
        data = results(base, name)
        tests = data["tests"]
        assert int(suite.get("tests")) == len(tests)
        assert int(suite.get("failures")) == sum(t["status"] != "passed" for t in tests)
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}
        assert float(props["score"]) == data["score"] and props["seed"] == SEED
        assert props["isolation"] == data["extra_data"]["isolation"]
        cases = suite.findall("testcase")
        for case, test in zip(cases, tests, strict=True):
            assert case.get("name") == test["name"]
            assert case.get("classname") == f"{name}.{test['tags'][0]}"
            values = {p.get("name"): p.get("value") for p in case.find("properties")}
            assert float(values["score"]) == pytest.approx(test["score"])
            assert float(values["max_score"]) == pytest.approx(test["max_score"])
            failure = case.find("failure")
            if test["status"] == "passed":
                assert failure is None
            else:
                assert failure.text == test["output"]
                line = " ".join(test["output"].split())
                assert failure.get("message") == (line if len(line) <= 500 else line[:497] + "...")
    # Real failures are in there: the untouched handout fails everything, the reference nothing.
    assert suites["untouched"].get("failures") == suites["untouched"].get("tests")
    assert suites["ref_module"].get("failures") == "0"


def test_junit_survives_hostile_output_and_ungradable_submissions(tmp_path):
    nasty = "your code raised ValueError: \x00\x1b[31mred\x07 <b>&\"'</b>\ud800"
    tests = [
        grading.TestGrade("pad", "a", "2.1", 0.0, 5.0, "visible", nasty, TestKind.ERROR, 0.01),
        grading.TestGrade("pad", "b", "2.2", 5.0, 5.0, "visible", "", TestKind.PASS, 0.02),
    ]
    graded = grading.Grade("evil\x01name", "x", 5.0, 100.0, 1, tests=tests, by_item={"pad": 5.0})
    broken = grading.Grade("broken", "y", 0.0, 100.0, 2, state=State.GRADER_ERROR,
                           reason="grader error: RuntimeError: boom")
    path = tmp_path / "reports" / "junit.xml"
    junit.write_junit([graded, broken], path, CNN)
    root = ET.parse(path).getroot()  # parses: control characters were replaced
    assert_junit_shape(root)
    evil, bad = list(root)
    failure = evil.find("testcase/failure")
    assert "<b>&\"'</b>" in failure.text and "red" in failure.text and "\x00" not in failure.text
    assert evil.get("failures") == "1" and evil.get("tests") == "2"
    error = bad.find("testcase/error")
    assert error.get("message") == "grader error: RuntimeError: boom"
    assert bad.get("errors") == "1" and root.get("errors") == "1"


@pytest.mark.slow
def test_step_summary_is_appended_with_one_row_per_submission(baseline):
    base, _, summary = baseline
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")  # appended, not overwritten
    header = next(line for line in text.splitlines() if line.startswith("| submission"))
    assert header == "| submission | score | " + " | ".join(f"`{i}`" for i in ITEMS) + " | status |"
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ") and line != header and not line.startswith("| ---")}
    book = {row[0]: row for row in read_csv(base / "grades.csv")[1:]}
    assert set(rows) == set(FILES)
    for name, line in rows.items():
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == f"**{book[name][1]}** / 100"
        for item, cell, points in zip(ITEMS, cells[2:-1], [q.points for q in CNN.questions], strict=True):
            assert cell == f"{book[name][2 + ITEMS.index(item)]} / {points:g}"
        assert cells[-1].startswith("`graded")  # the status, in a code span


# --------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------
CHECK_LINE = re.compile(r"^  ([✓✗]) (.+)$")


def check_marks(stdout: str) -> list[tuple[str, str]]:
    return [(m[2], "passed" if m[1] == "✓" else "failed") for m in map(CHECK_LINE.match, stdout.splitlines()) if m]


def run_check(path: Path, cwd=ROOT):
    return kit("check", path, env={"PYTHONIOENCODING": "utf-8"}, cwd=cwd)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ref_module", "ref_notebook", "flipped_kernel"])
def test_check_agrees_with_grade_on_the_public_tests(baseline, tmp_path, name):
    base, _, _ = baseline
    target = tmp_path / f"{name}{FILES[name].suffix}"
    shutil.copyfile(FILES[name], target)
    result = run_check(target)
    data = results(base, name)
    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    assert check_marks(result.stdout) == [(t["name"], t["status"]) for t in visible]
    passed = sum(t["status"] == "passed" for t in visible)
    assert f"Public checks passed: {passed} of {len(visible)}. They earn no points" in result.stdout
    for t in visible:
        if t["status"] != "passed":
            assert t["output"].splitlines()[0] in result.stdout
    everything_passed = all(t["status"] == "passed" for t in visible)
    assert result.returncode == (0 if everything_passed else 1), result.stdout + result.stderr
    assert ("✗" in result.stdout) is not everything_passed
    assert re.search(r"^Seed: \d+ ", result.stdout, re.M)
    assert re.search(r"^Isolation: .*\S", result.stdout, re.M)


@pytest.mark.slow
def test_check_on_the_untouched_handout_names_each_missing_function(tmp_path):
    target = tmp_path / "cnn_layers.py"
    shutil.copyfile(HANDOUT, target)
    result = run_check(target)
    assert result.returncode == 1
    assert "✓" not in result.stdout
    for function in ("conv_output_size", "pad", "conv2d_forward", "conv2d_backward", "maxpool_forward",
                     "maxpool_backward", "Conv2d.__init__", "MaxPool2d.__init__"):
        assert f"NotImplementedError: {function}:" in result.stdout, function
    assert "Public checks passed: 0 of" in result.stdout


def test_check_of_a_handout_folder_grades_the_module_and_writes_nothing(tmp_path):
    folder = tmp_path / "my_cnn"
    shutil.copytree(ROOT / "student_template" / "cnn", folder)
    shutil.copyfile(REFERENCE, folder / "cnn_layers.py")  # the student's finished module
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    result = run_check(folder, cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    # The module was graded (not the untouched notebook), and tests/conftest.py is not a submitted conftest.
    assert "graded cnn_layers.py" in result.stdout and "conftest" not in result.stdout
    assert "✗" not in result.stdout and len(check_marks(result.stdout)) > 20
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.parametrize("make", ["missing", "text", "empty_folder"])
def test_check_refuses_what_is_not_a_submission(tmp_path, make):
    path = tmp_path / {"missing": "nope.py", "text": "notes.txt", "empty_folder": "empty"}[make]
    if make == "text":
        path.write_text("hello", encoding="utf-8")
    elif make == "empty_folder":
        path.mkdir()
    result = run_check(path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


# --------------------------------------------------------------------------
# The handout's GitHub Actions workflow
# --------------------------------------------------------------------------
def test_handout_ships_a_workflow_that_runs_the_public_checks():
    import yaml

    workflow = ROOT / "student_template" / "cnn" / ".github" / "workflows" / "checks.yml"
    source = ROOT / "assignments" / "cnn" / "handout_files" / ".github" / "workflows" / "checks.yml"
    assert workflow.read_bytes() == source.read_bytes()
    spec = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    triggers = spec.get("on", spec.get(True))  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"push", "pull_request"}
    (job,) = spec["jobs"].values()
    steps = job["steps"]
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["python-version"] == "3.11"
    runs = [s["run"] for s in steps if "run" in s]
    assert runs == ["pip install -r requirements.txt", "pytest"]
    # What it installs and runs is in the handout: requirements.txt, and pytest.ini pointing at tests/.
    handout = ROOT / "student_template" / "cnn"
    assert "pytest" in (handout / "requirements.txt").read_text().split()
    assert "testpaths = tests" in (handout / "pytest.ini").read_text()
    assert any((handout / "tests").glob("test_*.py"))
