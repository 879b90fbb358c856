"""`check --watch`: a warm grader re-checks a student's file on every save, a fresh worker each time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from autograder import assignment as assignments
from autograder.integrations import check

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)


def test_a_save_is_seen_once_and_an_unchanged_file_is_not(tmp_path):
    path = tmp_path / "cnn_layers.py"
    path.write_text("x = 1\n")
    seen, polls = [], []

    def stop():
        polls.append(1)
        if len(polls) == 3:  # after the first look: a save (a new size, whatever the clock's resolution)
            path.write_text("x = 22\n")
        return len(polls) > 8

    for _ in check.saved_versions(path, interval=0.01, stop=stop):
        seen.append(path.read_text())
    assert seen == ["x = 1\n", "x = 22\n"]


def test_a_missing_file_is_refused_before_watching(tmp_path):
    with pytest.raises(check.UsageError, match="does not exist"):
        check.watch(CNN, tmp_path / "nothing.py", stop=lambda: True)


@pytest.mark.slow
def test_each_save_is_checked_again_with_its_new_code(tmp_path, monkeypatch):
    path = tmp_path / "cnn_layers.py"
    reference = (ROOT / "solutions" / "cnn" / "cnn_layers.py").read_text(encoding="utf-8")
    path.write_text(reference, encoding="utf-8")
    grades = []
    shown = check.report_lines
    # What each run shows the student, recorded (the grading's own pytest run owns the terminal's capture).
    monkeypatch.setattr(check, "report_lines", lambda grade: grades.append(grade) or shown(grade))

    def stop():
        if len(grades) == 1 and "oops" not in path.read_text(encoding="utf-8"):  # the student breaks pad, saves
            path.write_text(reference + "\n\ndef pad(x, padding, value=0):\n    raise ValueError('oops')\n",
                            encoding="utf-8")
        return len(grades) >= 2

    code = check.watch(CNN, path, stop=stop, interval=0.05)
    first, second = grades
    assert first.tests and all(t.passed for t in first.tests)
    broken = [t for t in second.tests if not t.passed]
    assert broken and all(t.item == "pad" or "pad" in t.output for t in broken), [t.name for t in broken]
    assert any("ValueError: oops" in t.output for t in broken) and code == 1


def test_watch_keeps_its_grader_warm_and_closes_it(monkeypatch, tmp_path):
    """One grader for every run, closed at the end; each run asks it for a new worker ahead."""
    made, closed, graded = [], [], []

    class FakeWarm:
        def __init__(self, a, public_only):
            made.append(public_only)

        def grade(self, target):
            graded.append(target)
            raise KeyboardInterrupt  # the student stops watching during a run

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            closed.append(True)

    monkeypatch.setattr(check.api, "Warm", FakeWarm)
    path = tmp_path / "cnn_layers.py"
    path.write_text("x = 1\n")
    assert check.watch(CNN, path, stop=lambda: False, interval=0.01) == 1
    assert made == [True] and closed == [True] and len(graded) == 1
    time.sleep(0)  # nothing left running: the loop ended with the interrupt


def test_a_file_gone_for_a_moment_is_not_a_save(tmp_path):
    """Editors that save by renaming leave no file for an instant: no run then, one when it is back."""
    path = tmp_path / "cnn_layers.py"
    path.write_text("x = 1\n")
    seen, polls = [], []

    def stop():
        polls.append(1)
        if len(polls) == 2:
            path.rename(tmp_path / "cnn_layers.py~")
        if len(polls) == 5:
            path.write_text("x = 333\n")
        return len(polls) > 8

    for _ in check.saved_versions(path, interval=0.01, stop=stop):
        seen.append(path.read_text())
    assert seen == ["x = 1\n", "x = 333\n"]


@pytest.mark.slow
def test_a_warm_grader_keeps_at_most_one_worker_waiting(tmp_path):
    """A grading that takes no worker (nothing readable to grade) must not leave one more behind each time."""
    from autograder.engine import api

    empty = tmp_path / "empty"
    empty.mkdir()
    with api.Warm(CNN, public_only=True) as grader:
        for _ in range(3):
            assert not grader.grade(empty).graded
            time.sleep(1.5)  # time for the next worker to start
        waiting = list(grader._grader._ready)
        assert len(waiting) <= 1
    assert all(not w.alive for w in waiting)
