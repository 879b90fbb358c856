"""The course calendar (course.toml): deadlines, late penalties and banks, extensions, the hard close."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from autograder.errors import UsageError
from autograder.integrations import course

DUE = datetime(2026, 12, 10, 23, 59, tzinfo=timezone(timedelta(hours=-5)))


def calendar(tmp_path, text: str) -> course.Calendar:
    (tmp_path / "course.toml").write_text(text, encoding="utf-8")
    return course.load(tmp_path, "cnn")


def test_two_hours_late_loses_a_days_penalty_and_on_time_loses_nothing(tmp_path):
    cal = calendar(tmp_path, "[assignments.cnn]\ndue = 2026-12-10T23:59:00-05:00\nlate_penalty_per_day = 0.2\n")
    assert course.stand(cal, DUE, ["alice"]) == course.Lateness()
    late = course.stand(cal, DUE + timedelta(hours=2), ["alice"])
    assert late.late and late.days == 1 and late.factor == pytest.approx(0.8)
    assert "2.0 h after the deadline (2026-12-10T23:59-05:00)" in late.reason and "20%" in late.reason
    assert course.stand(cal, DUE + timedelta(days=1, seconds=1), ["alice"]).factor == pytest.approx(0.6)
    assert course.stand(cal, DUE + timedelta(days=9), ["alice"]).factor == 0.0


def test_an_extension_of_the_student_or_their_group_moves_the_deadline_and_the_close(tmp_path):
    cal = calendar(tmp_path, "[assignments.cnn]\ndue = 2026-12-10T23:59:00-05:00\nlate_until = 2026-12-11T23:59:00-05:00\n"
                             "late_penalty_per_day = 0.2\n[extensions.cnn]\nalice = \"+48h\"\nteam1 = 2026-12-20T12:00:00Z\n")
    at = DUE + timedelta(hours=30)
    assert course.stand(cal, at, ["bob"]).closed and "closed at 2026-12-11T23:59-05:00" in course.stand(cal, at, ["bob"]).reason
    assert course.stand(cal, at, ["alice"]) == course.Lateness()  # +48h: on time
    assert course.stand(cal, at, ["carol", "team1"]) == course.Lateness()  # her group's extension
    assert course.stand(cal, DUE + timedelta(hours=49), ["alice"]).late


def test_a_bank_of_late_days(tmp_path):
    cal = calendar(tmp_path, "[assignments.cnn]\ndue = 2026-12-10T23:59:00-05:00\nlate_days = 2\n")
    assert course.stand(cal, DUE + timedelta(hours=30), ["a"]).factor == 1.0
    over = course.stand(cal, DUE + timedelta(hours=50), ["a"])
    assert over.factor == 0.0 and "2 late day(s) left" in over.reason


@pytest.mark.parametrize("text, says", [
    ("[assignments.cnn]\ndue = 2026-12-10T23:59:00\n", "give the time zone too"),
    ("[assignments.cnn]\ndue = \"tomorrow\"\n", "give a time like"),
    ("[assignments.cnn]\nlate_penalty_per_day = 20\n", "give a fraction from 0 to 1"),
    ("[assignments.cnn]\nlate_penalty_per_day = 0.1\nlate_days = 2\n", "not both"),
    ("[assignments.cnn]\ncounts = \"first\"\n", 'give "latest" or "best"'),
    ("[extensions.cnn]\nalice = \"+2 weeks\"\n", r"give \+48h, \+2d, \+90m"),
    ("[assignments.cnn\n", "cannot read it"),
])
def test_a_mistake_in_the_file_is_one_line_naming_it(tmp_path, text, says):
    with pytest.raises(UsageError, match=says) as raised:
        calendar(tmp_path, text)
    assert "\n" not in str(raised.value) and "course.toml" in str(raised.value)


def test_no_file_means_no_deadline(tmp_path):
    assert course.load(tmp_path, "cnn") == course.Calendar()
    assert course.stand(course.Calendar(), DUE, ["x"]) == course.Lateness()
