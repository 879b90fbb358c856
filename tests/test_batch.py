"""Batches as an instructor runs them: the gradebook folder, paths, sharding, signals.

- Grading into an existing --out adds or replaces rows and never drops
  another student's; a folder of another assignment is refused.
- --only, --stale and --resume choose what is graded, and say what they skipped.
- grades.csv keeps the order the submissions were given in.
- A folder of .py files is a class; ./kit takes paths relative to the caller.
- Shards merged give exactly the gradebook of one run.
- SIGINT or SIGTERM stops a batch: finished rows kept, children killed, a hint
  to --resume, exit code 130 or 143.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import assignment as assignments
from autograder import build
from autograder.engine import report
from autograder.engine.kinds import State

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
HANDOUT = ROOT / "student_template" / "cnn" / "cnn_layers.py"
EXAMPLES = build.examples(CNN)
OURS = ("AUTOGRADER_ISOLATION", "AUTOGRADER_ROOT", "AUTOGRADER_SECRET", "GITHUB_STEP_SUMMARY")
BASE_ENV = {k: v for k, v in os.environ.items() if k not in OURS}


def kit(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**BASE_ENV, **(env or {})}, timeout=300)


def rows(out: Path) -> list[dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def class_of(folder: Path, files: dict[str, Path]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, source in files.items():
        paths.append(folder / f"{name}{source.suffix}")
        shutil.copyfile(source, paths[-1])
    return paths


def one_line_error(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("note:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# -- the gradebook folder ------------------------------------------------------
@pytest.mark.slow
def test_grading_into_an_existing_out_adds_and_replaces_rows_and_keeps_the_others(tmp_path):
    subs = class_of(tmp_path / "subs", {"ann": REFERENCE, "bob": EXAMPLES / "missing_bias.py"})
    out = tmp_path / "out"
    assert kit("grade", *subs, "--out", out, "--quiet").returncode == 0
    first = {r["name"]: r for r in rows(out)}
    assert list(first) == ["ann", "bob"] and first["ann"]["total"] == "100"
    # A late student, graded alone into the same folder: a row is added, none lost.
    (late,) = class_of(tmp_path / "late", {"cy": EXAMPLES / "flipped_kernel.py"})
    result = kit("grade", late, "--out", out, "--quiet")
    assert result.returncode == 0, result.stderr
    assert [r["name"] for r in rows(out)] == ["ann", "bob", "cy"]
    assert {r["name"]: r for r in rows(out)}["ann"] == first["ann"]
    # Bob resubmits: his row is replaced in place.
    shutil.copyfile(REFERENCE, subs[1])
    assert kit("grade", subs[1], "--out", out, "--quiet").returncode == 0
    now = {r["name"]: r for r in rows(out)}
    assert list(now) == ["ann", "bob", "cy"] and now["bob"]["total"] == "100" and now["cy"]["total"] != "100"
    # The class report covers the whole gradebook, not just the last run.
    assert kit("grade", subs[1], "--out", out, "--quiet", "--report").returncode == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<div class="v">3</div><div class="k">submissions' in page
    record = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    assert record["assignment"] == "cnn" and set(record["grades"]) == {"ann", "bob", "cy"}
    fingerprint = record["grades"]["bob"]["fingerprint"]
    assert set(fingerprint) == {"suite", "reference", "submission", "secret", "seed"}
    assert fingerprint["seed"] == json.loads((out / "bob" / "grade.json").read_text())["seed"]
    assert fingerprint["submission"] == record["grades"]["ann"]["fingerprint"]["submission"]  # same bytes


@pytest.mark.slow
def test_a_folder_of_another_assignment_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "gradebook.json").write_text(json.dumps({"assignment": "rnn", "columns": [], "order": [], "grades": {}}))
    (sub,) = class_of(tmp_path, {"ann": REFERENCE})
    line = one_line_error(kit("grade", sub, "--out", out))
    assert "'rnn'" in line and "--out" in line
    # A grades.csv with other columns (another tool's) is refused the same way, and left as it was.
    other = tmp_path / "other"
    other.mkdir()
    (other / "grades.csv").write_text("student,grade\nann,7\n")
    assert "--out" in one_line_error(kit("grade", sub, "--out", other))
    assert (other / "grades.csv").read_text() == "student,grade\nann,7\n"


@pytest.mark.slow
def test_only_stale_and_resume_choose_what_is_graded_and_say_so(tmp_path):
    subs = class_of(tmp_path / "subs", {"ann": REFERENCE, "bob": EXAMPLES / "missing_bias.py", "cy": HANDOUT})
    out = tmp_path / "out"
    assert kit("grade", tmp_path / "subs", "--out", out, "--quiet").returncode == 0
    stamps = {p.name: (out / p.stem / "grade.json").stat().st_mtime_ns for p in subs}

    def regraded():
        return {p.stem for p in subs if (out / p.stem / "grade.json").stat().st_mtime_ns != stamps[p.name]}

    result = kit("grade", tmp_path / "subs", "--out", out, "--only", "bob", "--quiet")
    assert result.returncode == 0 and regraded() == {"bob"}
    stamps.update({p.name: (out / p.stem / "grade.json").stat().st_mtime_ns for p in subs})
    shutil.copyfile(REFERENCE, subs[2])  # cy finishes the handout
    result = kit("grade", tmp_path / "subs", "--out", out, "--stale", "--quiet")
    assert result.returncode == 0 and regraded() == {"cy"}
    assert "skipped 2 submissions unchanged" in result.stderr
    assert {r["name"]: r["total"] for r in rows(out)}["cy"] == "100"
    result = kit("grade", tmp_path / "subs", "--out", out, "--resume", "--quiet")
    assert "skipped 3 submissions already graded" in result.stderr and "grading 0" in result.stderr
    line = one_line_error(kit("grade", tmp_path / "subs", "--out", out, "--only", "dan"))
    assert "dan" in line and "ann" in line


@pytest.mark.slow
def test_rows_keep_the_order_submissions_were_given_in(tmp_path):
    # The slow one first: with two jobs the others finish before it.
    subs = class_of(tmp_path, {"zed": EXAMPLES / "four_loops.py", "amy": REFERENCE, "max": HANDOUT,
                               "bea": EXAMPLES / "syntax_error.py"})
    out = tmp_path / "out"
    result = kit("grade", *subs, "--out", out, "--jobs", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    assert [r["name"] for r in rows(out)] == ["zed", "amy", "max", "bea"]


@pytest.mark.slow
def test_a_folder_of_py_files_is_a_class(tmp_path):
    class_of(tmp_path / "subs", {"ann": REFERENCE, "bob": HANDOUT, "cy": EXAMPLES / "syntax_error.py"})
    result = kit("grade", "subs", "--out", "out", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "grading each file as one student's submission" in result.stderr
    assert [(r["name"], r["total"]) for r in rows(tmp_path / "out")] == [("ann", "100"), ("bob", "0"), ("cy", "0")]
    # A folder holding the module is still one student's submission.
    class_of(tmp_path / "one", {"cnn_layers": REFERENCE, "helper": HANDOUT})
    result = kit("grade", "one", "--out", "out1", "--quiet", cwd=tmp_path)
    assert [r["name"] for r in rows(tmp_path / "out1")] == ["one"]


@pytest.mark.parametrize("args, says", [
    (["--shard", "3"], "K/N"),
    (["--shard", "0/2"], "+1"),
    (["--shard", "3/2"], "K must be 1 to N"),
    (["--jobs", "0"], "at least 1"),
    (["--jobs", "two"], "--help"),
    (["--out", "a_file"], "is a file"),
    (["missing.py"], "does not exist"),
])
def test_bad_arguments_get_one_line_naming_the_fix(tmp_path, args, says):
    (tmp_path / "a_file").write_text("")
    class_of(tmp_path, {"ann": REFERENCE})
    full = ["grade", "ann.py", "--out", "out", *args] if args[0].startswith("--") else ["grade", *args, "--out", "out"]
    if "--out" in args:
        full = ["grade", "ann.py", *args]
    assert says in one_line_error(kit(*full, cwd=tmp_path))


def test_a_missing_option_is_one_line_too(tmp_path):
    line = one_line_error(kit("grade", "ann.py", cwd=tmp_path))
    assert "--out" in line and "--help" in line


@pytest.mark.slow
def test_kit_takes_paths_relative_to_the_callers_folder(tmp_path):
    student = tmp_path / "student"
    class_of(student, {"cnn_layers": EXAMPLES / "flipped_kernel.py"})
    script = str(ROOT / "kit")
    checked = subprocess.run([script, "check", "cnn_layers.py"], capture_output=True, text=True, cwd=student,
                             env=BASE_ENV, timeout=300)
    assert checked.returncode == 1 and "Public checks passed: 29 of 33" in checked.stdout, checked.stderr
    graded = subprocess.run([script, "grade", "cnn_layers.py", "--out", "grades", "--quiet"], capture_output=True,
                            text=True, cwd=student, env=BASE_ENV, timeout=300)
    assert graded.returncode == 0, graded.stderr
    assert (student / "grades" / "grades.csv").is_file() and not (ROOT / "grades").exists()


# -- shards ---------------------------------------------------------------------
def _decided(folder: Path, name: str) -> dict:
    """A student's results.json without what varies from run to run (timings)."""
    data = json.loads((folder / name / "results.json").read_text(encoding="utf-8"))
    data.pop("execution_time")
    data["extra_data"].pop("timing")
    for t in data["tests"]:
        t.pop("duration", None)
    return data


@pytest.mark.slow
def test_shards_merged_equal_one_run(tmp_path):
    files = {"ann": REFERENCE, "bob": EXAMPLES / "missing_bias.py", "cy": HANDOUT, "dan": EXAMPLES / "flipped_kernel.py",
             "eve": EXAMPLES / "syntax_error.py"}
    subs = class_of(tmp_path / "subs", files)
    whole = tmp_path / "whole"
    assert kit("grade", *subs, "--out", whole, "--quiet").returncode == 0
    shards = []
    for k in (1, 2, 3):
        shards.append(tmp_path / f"shard{k}")
        result = kit("grade", *subs, "--out", shards[-1], "--shard", f"{k}/3", "--quiet")
        assert result.returncode == 0, result.stderr
    # Each input in exactly one shard, and the shards as even as they can be.
    sizes = [len(rows(s)) for s in shards]
    assert sorted(sizes) == [1, 2, 2]
    assert sorted(r["name"] for s in shards for r in rows(s)) == sorted(files)
    merged = tmp_path / "merged"
    result = kit("merge", *reversed(shards), "--out", merged)  # in any order
    assert result.returncode == 0, result.stderr
    assert (merged / "grades.csv").read_bytes() == (whole / "grades.csv").read_bytes()
    assert json.loads((merged / "gradebook.json").read_text()) == json.loads((whole / "gradebook.json").read_text())
    for name in files:
        assert _decided(merged, name) == _decided(whole, name)
    # The report of the merged class is the report of the single run (but for its date).
    stamp = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?[^<]*")
    assert stamp.sub("", (merged / "report.html").read_text()) == stamp.sub("", (whole / "report.html").read_text())


# -- signals -------------------------------------------------------------------
def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, pending = set(), [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("jobs, sig, group", [(2, signal.SIGINT, False), (2, signal.SIGTERM, True), (1, signal.SIGINT, True)])
def test_a_signal_stops_the_batch_keeps_rows_and_kills_every_child(tmp_path, jobs, sig, group):
    looping = REFERENCE.read_text() + "\n\ndef maxpool_forward(x, pool_size=2, stride=None):\n    while True:\n        pass\n"
    subs = class_of(tmp_path / "subs", {"a_done": REFERENCE})
    for i in range(3):
        (tmp_path / "subs" / f"loop{i}.py").write_text(looping)
        subs.append(tmp_path / "subs" / f"loop{i}.py")
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade", *subs, "--out", out, "--jobs", str(jobs)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=BASE_ENV, cwd=tmp_path,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    # A student's grade.json is written before the gradebook's row: wait for both.
    while not ((out / "a_done" / "grade.json").is_file() and (out / "grades.csv").is_file() and len(rows(out)) == 1):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    time.sleep(1.0)  # the looping ones are in their tests now
    children = _descendants(process.pid)
    assert children
    started = time.monotonic()
    if group:
        os.killpg(process.pid, sig)
    else:
        os.kill(process.pid, sig)
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - started < 15
    assert process.returncode == 128 + sig, stderr
    assert "Traceback" not in stderr and "resource_tracker" not in stderr and "--resume" in stderr, stderr
    assert [r["name"] for r in rows(out)] == ["a_done"]
    time.sleep(0.5)
    assert not [pid for pid in children if _alive(pid)]
    resumed = kit("grade", *subs[:1], "--out", out, "--resume", "--quiet")
    assert "skipped 1 submission already graded" in resumed.stderr


# -- the record on its own -----------------------------------------------------------
def test_gradebook_replaces_a_row_and_writes_whole_files(tmp_path):
    from autograder.engine.grading import Grade

    items = [q.item for q in CNN.questions]
    book = report.Gradebook(tmp_path / "grades.csv", items, "cnn")
    book.extend_order(["b", "a"])
    for name, score in (("a", 1.0), ("b", 2.0), ("a", 3.0)):
        book.add(Grade(name=name, origin=name, score=score, max_score=100, seed=1,
                       by_item={i: 0.0 for i in items}))
    again = report.Gradebook(tmp_path / "grades.csv", items, "cnn")
    again.load()
    assert again.names() == ["b", "a"] and again.existing()["a"]["total"] == "3"
    assert [r["name"] for r in rows(tmp_path)] == ["b", "a"]
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(ValueError, match="another --out folder"):
        report.Gradebook(tmp_path / "grades.csv", items, "rnn").load()


# -- what a grade says ---------------------------------------------------------
@pytest.mark.slow
def test_tests_given_up_on_are_not_run_not_timeouts(tmp_path):
    import dataclasses

    from autograder.engine import grading
    from autograder.integrations import classreport

    looping = REFERENCE.read_text() + "\n\ndef maxpool_forward(x, pool_size=2, stride=None):\n    while True:\n        pass\n"
    path = tmp_path / "looping.py"
    path.write_text(looping)
    limits = dataclasses.replace(CNN.limits, test_seconds=0.4, give_up_after_timeouts=2)
    grade = grading.Grader(dataclasses.replace(CNN, limits=limits)).grade(path)
    timeouts = [t for t in grade.tests if t.kind == "timeout"]
    not_run = [t for t in grade.tests if t.kind == "notrun"]
    assert timeouts and not_run
    assert all("timed out" in t.output for t in timeouts) and all(t.output.startswith("not run:") for t in not_run)
    assert f"{len(timeouts)} test(s) timeout" in grade.status and f"{len(not_run)} test(s) not run" in grade.status
    said = classreport.timed_out(grade)
    assert said.startswith(f"{len(timeouts)} test(s) hit the time limit") and f"{len(not_run)} more not run" in said


@pytest.mark.slow
def test_feedback_names_the_students_problem_not_the_graders_classes(tmp_path):
    (sub,) = class_of(tmp_path, {"eve": EXAMPLES / "syntax_error.py"})
    assert kit("grade", sub, "--out", tmp_path / "out", "--quiet").returncode == 0
    feedback = (tmp_path / "out" / "eve" / "feedback.md").read_text(encoding="utf-8")
    assert "SyntaxError" in feedback
    assert not re.search(r"Student\w*Error|StudentTimeout|WorkerDied|BadReply|Remote\b", feedback)


@pytest.mark.slow
def test_public_checks_are_on_the_grades_one_scale(tmp_path):
    (sub,) = class_of(tmp_path, {"dan": EXAMPLES / "flipped_kernel.py"})
    assert kit("grade", sub, "--out", tmp_path / "out", "--quiet").returncode == 0
    output = json.loads((tmp_path / "out" / "dan" / "results.json").read_text())["output"]
    checked = kit("check", sub).stdout
    # Both count the same checks and say they earn no points; neither shows public points.
    graded = re.search(r"Public checks: (\d+) of (\d+) passed \(they earn no points", output)
    shown = re.search(r"Public checks passed: (\d+) of (\d+)\. They earn no points", checked)
    assert graded and shown and graded.groups() == shown.groups()
    assert not re.search(r"\d+ of \d+ points|/ 100", output + checked)


@pytest.mark.slow
def test_grade_warns_when_the_built_reference_is_stale(tmp_path):
    copy = tmp_path / "kit"
    ignore = shutil.ignore_patterns(".venv", "__pycache__", "*.pyc")
    for part in ("autograder", "assignments", "solutions", "student_template"):
        shutil.copytree(ROOT / part, copy / part, ignore=ignore)
    (sub,) = class_of(tmp_path / "subs", {"ann": REFERENCE})
    env = {"AUTOGRADER_ROOT": str(copy)}
    fresh = kit("grade", sub, "--out", tmp_path / "a", "--quiet", env=env)
    assert fresh.returncode == 0 and "stale" not in fresh.stderr, fresh.stderr
    source = copy / "assignments" / "cnn" / "cnn_layers.py"
    text = source.read_text(encoding="utf-8")
    edited = "    out = np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3]))\n"
    assert text.count(edited) == 1
    source.write_text(text.replace(edited, edited.rstrip("\n") + "  # edited\n"), encoding="utf-8")
    stale = kit("grade", sub, "--out", tmp_path / "b", "--quiet", env=env)
    assert stale.returncode == 0
    assert stale.stderr.startswith("warning: ") and "./kit build" in stale.stderr


def test_demo_table_shows_each_message_in_full():
    from autograder.cli import demo_table
    from autograder.engine.grading import Grade

    reason = ("cnn_layers.py could not be loaded: SyntaxError: expected ':' (at cnn_layers.py, line 489: "
              "def conv2d_forward(x, w, b, stride=1, padding=0)) and more words to make it long")
    grade = Grade(name="syntax_error", origin="x", score=0.0, max_score=100.0, reason=reason, state=State.NOT_LOADED, seed=1)
    lines = demo_table([grade], 80)
    assert len(lines) > 2 and all(len(line) <= 80 for line in lines)
    assert " ".join(line[len("syntax_error") + 10:].strip() for line in lines[1:]) == reason


@pytest.mark.slow
def test_an_output_that_fails_leaves_the_others_written(tmp_path):
    """Issue 25: each output is written on its own; a failing one is a warning, not a lost class."""
    subs = class_of(tmp_path / "subs", {"ann": EXAMPLES / "flipped_kernel.py", "bob": EXAMPLES / "missing_bias.py"})
    out = tmp_path / "out"
    done = kit("grade", *subs, "--out", out, "--quiet", "--report", "--junit", "/proc/no-such/results.xml")
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: JUnit XML")]
    assert len(warnings) == 1 and "every other output" in warnings[0], done.stderr
    assert [r["name"] for r in rows(out)] == ["ann", "bob"]
    assert (out / "report.html").is_file() and (out / "ann" / "feedback.md").is_file()


@pytest.mark.slow
def test_a_missing_known_archive_is_refused_before_grading(tmp_path):
    subs = class_of(tmp_path / "subs", {"ann": EXAMPLES / "flipped_kernel.py"})
    done = kit("grade", *subs, "--out", tmp_path / "out", "--quiet", "--known", tmp_path / "nope.zip")
    assert done.returncode == 2 and "--known" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "ann").exists()


@pytest.mark.slow
def test_a_pool_process_killed_costs_no_classmate_their_grade(tmp_path):
    """Issue 25: a pool process killed (as by the OOM killer) stopped the batch; now the
    submissions it held are graded again and every queued classmate is graded."""
    import signal as _signal
    import time as _time

    names = [f"s{i}" for i in range(6)]
    subs = class_of(tmp_path / "subs", {name: REFERENCE for name in names})
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "grade", *map(str, subs), "--out", str(out),
                             "--jobs", "2", "--quiet", "--no-report"], cwd=ROOT, env=BASE_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = _time.monotonic() + 120
    while killed is None and _time.monotonic() < deadline and proc.poll() is None:
        pool = []
        for child in _children(proc.pid):
            try:
                cmdline = open(f"/proc/{child}/cmdline", "rb").read()
            except OSError:
                continue
            if b"multiprocessing" in cmdline and b"spawn_main" in cmdline:
                pool.append(child)
        if pool and (out / "grades.csv").exists():
            killed = pool[0]
            os.kill(killed, _signal.SIGKILL)
        _time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=600)
    assert killed is not None, "no pool process was seen while the batch ran"
    assert proc.returncode == 0, stderr[-2000:]
    assert "a grading process died" in stderr
    graded = {r["name"]: r for r in rows(out)}
    assert sorted(graded) == names and all(r["total"] == "100" for r in graded.values()), graded


def _children(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        here = pending.pop()
        try:
            with open(f"/proc/{here}/task/{here}/children") as f:
                kids = [int(c) for c in f.read().split()]
        except OSError:
            kids = []
        found += kids
        pending += kids
    return found
