"""Rate limits: a token bucket of graded submissions on Gradescope; `check` is never limited.

Gradescope is emulated as it behaves: each submission's run sees submission_metadata.json with
`created_at` and every earlier submission (`submission_time`, `score`, `results`, the
results.json that earlier run wrote), in the time zone of the course.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from autograder import assignment as assignments
from autograder import build
from autograder.assignment import ConfigError
from autograder.integrations import check, gradescope, ratelimit

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)
SOLUTION = ROOT / "solutions" / "cnn"
REFERENCE = SOLUTION / "cnn_layers.py"
EXAMPLES = build.examples(CNN)
FLIPPED = EXAMPLES / "flipped_kernel.py"
PADS_EVERY_AXIS = EXAMPLES / "pads_every_axis.py"
HANDOUT = ROOT / "student_template" / "cnn" / "cnn_layers.py"
PACIFIC = timezone(timedelta(hours=-7))
T0 = datetime(2024, 3, 1, 9, 0, 0, 123456, tzinfo=PACIFIC)


def limited(**table) -> assignments.Assignment:
    return dataclasses.replace(CNN, extra={**CNN.extra, "rate_limit": table})


def minutes(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


# -- the bucket ----------------------------------------------------------------------------

def test_burst_then_refill_one_per_period_never_above_the_burst():
    bucket = ratelimit.Bucket(3, timedelta(minutes=60))
    rules = ratelimit.Policy({ratelimit.WHOLE: bucket})

    def verdict(times, now):
        history = [ratelimit.Past(t, frozenset({ratelimit.WHOLE})) for t in times]
        return ratelimit.decide(rules, history, now)[ratelimit.WHOLE]

    # A burst of three within three minutes: all graded, then the fourth is refused.
    assert [verdict([minutes(i) for i in range(n)], minutes(n)).left for n in range(3)] == [2, 1, 0]
    refused = verdict([minutes(0), minutes(1), minutes(2)], minutes(3))
    assert not refused.allowed
    # The first token is back one refill period after the burst began draining it.
    assert abs((refused.next_at - minutes(60)).total_seconds()) < 1e-3
    assert verdict([minutes(0), minutes(1), minutes(2)], minutes(59.9)).allowed is False
    assert verdict([minutes(0), minutes(1), minutes(2)], minutes(60)).allowed is True
    # A long pause refills to the burst, not beyond: three more, then a refusal.
    times = [minutes(0), minutes(1), minutes(2)]
    later = minutes(24 * 60)
    for i in range(3):
        d = verdict(times, later + timedelta(seconds=i))
        assert d.allowed and d.left == 2 - i
        times.append(later + timedelta(seconds=i))
    assert not verdict(times, later + timedelta(seconds=3)).allowed


def test_only_graded_submissions_use_the_budget_and_each_bucket_counts_its_own():
    rules = ratelimit.Policy({ratelimit.WHOLE: ratelimit.Bucket(2, timedelta(minutes=30)),
                              "pad": ratelimit.Bucket(1, timedelta(minutes=60))})
    graded = frozenset({ratelimit.WHOLE, "pad"})
    history = [ratelimit.Past(minutes(0), graded), ratelimit.Past(minutes(1), frozenset({ratelimit.WHOLE}))]
    refused = [ratelimit.Past(minutes(m), frozenset()) for m in (2, 3, 4, 5)]
    d = ratelimit.decide(rules, history + refused, minutes(31))
    assert d[ratelimit.WHOLE].allowed and d[ratelimit.WHOLE].left == 0
    assert not d["pad"].allowed and abs((d["pad"].next_at - minutes(60)).total_seconds()) < 1e-3


def test_gradescope_history_reads_times_zones_and_what_each_run_used():
    rules = ratelimit.Policy({ratelimit.WHOLE: ratelimit.Bucket(2, timedelta(minutes=30))})
    metadata = {
        "created_at": "2024-03-01T09:10:00.5-07:00",
        "previous_submissions": [
            {"submission_time": "2024-03-01T16:00:00Z", "score": 40.0, "results": {"score": 40.0}},
            {"submission_time": "2024-03-01T09:05:00.087023-07:00", "score": "55.5",
             "results": {"score": 55.5, "extra_data": {"rate_limit": {"graded": []}}}},
            {"submission_time": "not a time", "score": 99},
            "garbage",
        ],
    }
    now, history = ratelimit.gradescope_history(metadata, rules)
    assert now == datetime(2024, 3, 1, 9, 10, 0, 500000, tzinfo=PACIFIC)
    assert [p.time for p in history] == [datetime(2024, 3, 1, 16, tzinfo=timezone.utc), minutes(5) - timedelta(microseconds=123456 - 87023)]
    # Without a record of its own, an earlier run counts as graded (it predates the limit).
    assert history[0].graded == {ratelimit.WHOLE} and history[1].graded == frozenset()
    assert [p.score for p in history] == [40.0, 55.5]
    # An unreadable file is an empty history, timed now.
    now, history = ratelimit.gradescope_history({}, rules)
    assert history == [] and abs((now - datetime.now(timezone.utc)).total_seconds()) < 60


@pytest.mark.parametrize("table, message", [
    ({"burst": 0, "refill_minutes": 5}, "'burst' must be a number > 0"),
    ({"burst": 2.5, "refill_minutes": 5}, "whole number"),
    ({"burst": 2}, "missing 'refill_minutes'"),
    ({"burst": 2, "refill_minutes": 5, "window": 3}, "unknown settings"),
    ({"questions": {"nope": {"burst": 1, "refill_minutes": 5}}}, "is not a question"),
    ({"burst": True, "refill_minutes": 5}, "'burst' must be a number > 0"),
])
def test_bad_rate_limit_settings_are_one_line_errors(table, message):
    with pytest.raises(ConfigError, match=message) as info:
        ratelimit.policy(limited(**table))
    assert "\n" not in str(info.value) and "[rate_limit]" in str(info.value)


def test_the_gradescope_zip_refuses_a_bad_rate_limit(tmp_path):
    with pytest.raises(ConfigError, match="rate_limit"):
        gradescope.build_zip(limited(burst=-1, refill_minutes=5), tmp_path / "autograder.zip")


# -- Gradescope, emulated ----------------------------------------------------------------------

class Gradescope:
    """One student's submissions, run through gradescope.run as Gradescope would run them."""

    def __init__(self, folder: Path, assignment):
        self.folder, self.assignment, self.previous, self.runs = folder, assignment, [], 0

    def submit(self, source: Path, at: datetime) -> dict:
        self.runs += 1
        root = self.folder / f"run{self.runs}"
        (root / "submission").mkdir(parents=True)
        shutil.copyfile(source, root / "submission" / "cnn_layers.py")
        metadata = {"id": self.runs, "created_at": at.isoformat(), "users": [{"name": "Ada Lovelace", "id": 7}],
                    "previous_submissions": self.previous}
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
        assert gradescope.run(self.assignment, root) == 0
        results = json.loads((root / "results" / "results.json").read_text())
        self.previous = self.previous + [{"submission_time": at.isoformat(), "score": results["score"], "results": results}]
        return results


@pytest.mark.slow
def test_gradescope_burst_refusal_keeps_the_best_earlier_score_and_says_when_to_come_back(tmp_path):
    site = Gradescope(tmp_path, limited(burst=2, refill_minutes=30))
    first = site.submit(FLIPPED, minutes(0))
    assert 0 < first["score"] < 100
    assert first["output"].startswith("Rate limit: graded submissions left now: 1 of 2 (one more every 30 minutes).")
    assert first["extra_data"]["rate_limit"]["graded"] == ["*"]
    second = site.submit(HANDOUT, minutes(1))
    assert second["score"] == 0 and "left now: 0 of 2" in second["output"]

    # The budget is spent: the reference is not graded; the best earlier result stands.
    third = site.submit(REFERENCE, minutes(2))
    assert third["score"] == first["score"]
    assert [t["score"] for t in third["tests"]] == [t["score"] for t in first["tests"]]
    assert third["output"].startswith("Rate limit: this submission was not graded.")
    # The first token comes back 30 minutes after the burst began, shown in the course's time zone.
    assert "available from 2024-03-01 09:30 UTC-07:00 (in 28 minutes)" in third["output"]
    assert "best earlier graded submission (submitted 2024-03-01 09:00)" in third["output"]
    assert third["extra_data"]["rate_limit"]["graded"] == []
    # The total stays hidden as in any result: only the public checks' summary is said.
    assert str(first["score"]) not in third["output"].split("\n\n")[0]

    fourth = site.submit(REFERENCE, minutes(10))
    assert fourth["score"] == first["score"] and "(in 20 minutes)" in fourth["output"]

    # Refill: one token back at 09:30, even though two refused submissions came in between.
    fifth = site.submit(REFERENCE, minutes(31))
    assert fifth["score"] == 100 and "left now: 0 of 2" in fifth["output"]
    sixth = site.submit(FLIPPED, minutes(32))
    assert sixth["score"] == 100 and "not graded" in sixth["output"]  # the best earlier is now the reference's


@pytest.mark.slow
def test_a_question_budget_keeps_that_questions_best_earlier_result(tmp_path):
    site = Gradescope(tmp_path, limited(burst=10, refill_minutes=5, questions={"pad": {"burst": 1, "refill_minutes": 60}}))
    wrong_pad = site.submit(PADS_EVERY_AXIS, minutes(0))
    pad_points = wrong_pad["extra_data"]["by_item"]["pad"]
    assert pad_points < CNN.question("pad").points
    pad_tests = [t for t in wrong_pad["tests"] if "pad" in t["tags"]]

    right = site.submit(REFERENCE, minutes(5))
    # Every other question is graded now; pad keeps its earlier result.
    assert right["score"] == pytest.approx(100 - CNN.question("pad").points + pad_points)
    assert [t for t in right["tests"] if "pad" in t["tags"]] == pad_tests
    assert right["extra_data"]["by_item"]["pad"] == pad_points
    assert all(t["status"] == "passed" for t in right["tests"] if "pad" not in t["tags"])
    assert "pad was not graded this time" in right["output"]
    assert "It is graded again from 2024-03-01 10:00 UTC-07:00 (in 55 minutes)" in right["output"]
    # The budget's two lines (what is left, what was refused) head the output, and the record counts them.
    assert right["extra_data"]["rate_limit"] == {"graded": ["*"], "refused": ["pad"], "lines": 2}
    assert all(line.startswith("Rate limit:") for line in right["output"].splitlines()[:2])
    assert not right["output"].splitlines()[2].startswith("Rate limit:")

    later = site.submit(REFERENCE, minutes(61))
    assert later["score"] == 100 and "not graded" not in later["output"]


@pytest.mark.slow
def test_a_grader_failure_costs_no_budget(tmp_path):
    site = Gradescope(tmp_path, limited(burst=1, refill_minutes=60))
    site.previous = [{"submission_time": minutes(0).isoformat(), "score": 0.0,
                      "results": gradescope._failure(CNN, "grader error: boom", "Ada", 1, 0.0)}]
    assert site.submit(REFERENCE, minutes(1))["score"] == 100


# -- check is never limited ----------------------------------------------------------------------

def test_check_refuses_the_shared_machine_history_and_points_to_the_service(tmp_path, monkeypatch, capsys):
    """The sudo recipe is gone: its variable is refused before anything is read or run."""
    from autograder.errors import UsageError

    monkeypatch.setenv(check.HISTORY_ENV, str(tmp_path))
    with pytest.raises(UsageError, match=r"AUTOGRADER_CHECK_HISTORY is set.*grading service \(`serve`, planned"):
        check.run_check(limited(burst=2, refill_minutes=60), REFERENCE)
    assert "Checking" not in capsys.readouterr().out and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_check_is_unlimited_whatever_the_budget(monkeypatch, capsys):
    monkeypatch.delenv(check.HISTORY_ENV, raising=False)
    a = limited(burst=1, refill_minutes=600)
    assert check.run_check(a, REFERENCE) == 0 and check.run_check(a, REFERENCE) == 0
    assert "Rate limit" not in capsys.readouterr().out
