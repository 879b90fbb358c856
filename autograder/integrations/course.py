"""A course's calendar: `course.toml` in the service's folder (deadlines, late work, extensions).

    [assignments.cnn]
    due = 2026-12-10T23:59:00-05:00
    late_until = 2026-12-12T23:59:00-05:00   # the hard close; optional
    late_penalty_per_day = 0.2               # per started day late; or late_days = 3 (a bank)
    counts = "latest"                        # or "best": which submission the gradebook counts
    [extensions.cnn]
    alice = "+48h"                           # or an absolute time; a group's name works too

Read again whenever it changes (the instructor's page writes it; a restart keeps it). Times are
the server's: a submission is stamped when it arrives, never by the client's clock.
"""

from __future__ import annotations

import re
try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..errors import UsageError

FILE = "course.toml"
DAY = timedelta(days=1)
_SHIFT = re.compile(r"\+(\d+(?:\.\d+)?)\s*([dhm])")


@dataclass(frozen=True)
class Calendar:
    due: datetime | None = None
    late_until: datetime | None = None
    penalty_per_day: float = 0.0
    late_days: int | None = None
    counts: str = "latest"
    extensions: dict = field(default_factory=dict)  # a student's or group's name -> a timedelta or a datetime


@dataclass(frozen=True)
class Lateness:
    """How a submission stands against the calendar: on time, late (its score multiplied by
    `factor`, `days` started days late), or refused after the hard close."""

    late: bool = False
    days: int = 0
    factor: float = 1.0
    reason: str = ""
    closed: bool = False


def _time(value, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{where} = {value!r}: give a time like 2026-12-10T23:59:00-05:00") from None
    else:
        raise UsageError(f"{where} = {value!r}: give a time like 2026-12-10T23:59:00-05:00")
    if moment.tzinfo is None:
        raise UsageError(f"{where} = {value}: give the time zone too (2026-12-10T23:59:00-05:00, or Z for UTC)")
    return moment


def _extension(value, where: str):
    if isinstance(value, str) and value.startswith("+"):
        found = _SHIFT.fullmatch(value.strip())
        if not found:
            raise UsageError(f"{where} = {value!r}: give +48h, +2d, +90m, or an absolute time")
        amount, unit = float(found.group(1)), found.group(2)
        return timedelta(days=amount) if unit == "d" else timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount)
    return _time(value, where)


def load(folder: Path, assignment: str) -> Calendar:
    """The calendar of `assignment` in FOLDER/course.toml (no file, or no table: no deadline)."""
    return load_file(Path(folder) / FILE, assignment)


def load_file(path: Path, assignment: str) -> Calendar:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Calendar()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc}); fix the file (TOML)") from None
    table = (data.get("assignments") or {}).get(assignment) or {}
    where = f"{path} [assignments.{assignment}]"
    if not isinstance(table, dict):
        raise UsageError(f"{where}: should be a table")
    penalty = table.get("late_penalty_per_day", 0.0)
    days = table.get("late_days")
    if not isinstance(penalty, (int, float)) or isinstance(penalty, bool) or not 0 <= penalty <= 1:
        raise UsageError(f"{where} late_penalty_per_day = {penalty!r}: give a fraction from 0 to 1 (0.2 is 20% a day)")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 0):
        raise UsageError(f"{where} late_days = {days!r}: give a whole number of days (0 or more)")
    if penalty and days is not None:
        raise UsageError(f"{where}: give late_penalty_per_day or late_days, not both")
    counts = table.get("counts", "latest")
    if counts not in ("latest", "best"):
        raise UsageError(f"{where} counts = {counts!r}: give \"latest\" or \"best\"")
    extensions = (data.get("extensions") or {}).get(assignment) or {}
    if not isinstance(extensions, dict):
        raise UsageError(f"{path} [extensions.{assignment}]: should be a table of name = \"+48h\" or a time")
    return Calendar(
        due=_time(table["due"], f"{where} due") if "due" in table else None,
        late_until=_time(table["late_until"], f"{where} late_until") if "late_until" in table else None,
        penalty_per_day=float(penalty), late_days=days, counts=counts,
        extensions={str(k): _extension(v, f"{path} [extensions.{assignment}] {k}") for k, v in extensions.items()},
    )


def _shifted(moment: datetime | None, shift) -> datetime | None:
    if moment is None or shift is None:
        return moment
    return moment + shift if isinstance(shift, timedelta) else max(moment, shift)


def _shift_for(calendar: Calendar, names) -> object:
    """The most generous extension among `names` (a student's own and their group's)."""
    found = [calendar.extensions[n] for n in names if n in calendar.extensions]
    if not found:
        return None
    base = calendar.due or datetime.now(timezone.utc)
    return max(found, key=lambda shift: _shifted(base, shift))


def stand(calendar: Calendar, when: datetime, names) -> Lateness:
    """Where a submission arriving at `when` (the server's clock) stands, for a student known by `names`.
    A bank of late days is the assignment's own: a submission may be late by up to that many days."""
    shift = _shift_for(calendar, names)
    due, close = _shifted(calendar.due, shift), _shifted(calendar.late_until, shift)
    if close is not None and when > close:
        return Lateness(closed=True, reason=f"submissions closed at {close.isoformat(timespec='minutes')}"
                        + (" (with your extension)" if shift is not None else ""))
    if due is None or when <= due:
        return Lateness()
    days = -(-(when - due) // DAY)  # started days
    late = f"{(when - due).total_seconds() / 3600:.1f} h after the deadline ({due.isoformat(timespec='minutes')})"
    if calendar.late_days is not None:
        if days <= calendar.late_days:
            return Lateness(True, days, 1.0, f"late by {late}: {days} of your late days used, no penalty")
        return Lateness(True, days, 0.0, f"late by {late}, with {calendar.late_days} late day(s) left: it counts 0")
    factor = max(0.0, 1.0 - calendar.penalty_per_day * days)
    return Lateness(True, days, factor,
                    f"late by {late}: {days} started day(s) at {calendar.penalty_per_day:.0%} each, "
                    f"the score is multiplied by {factor:g}")
