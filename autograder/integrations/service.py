"""A grading service for courses without Gradescope: students submit, a queue grades, feedback comes back.

    ./kit serve --data DIR --roster ROSTER.csv        the web service (and, with no --broker, its own workers)
    ./kit worker --broker URL                        more workers, on any machine that can reach the broker
    ./kit submit FILE --server URL --token TOKEN     a student's upload from a terminal (submit.py)

Parts, each a well-kept library:
- Starlette under uvicorn serves the pages and the JSON API (`/api/...`, what `submit` uses).
- SQLAlchemy keeps the state: SQLite under DIR by default, PostgreSQL with `--db postgresql://...`.
- Huey is the queue: SQLite under DIR by default (the service starts its own worker processes),
  Redis with `--broker redis://...` (workers on other machines join with `./kit worker`). Huey is
  small, well kept, and one library gives both the embedded queue and the Redis one.
- Grading is the engine's API: each worker process keeps an api.Warm grader, so a grading pays no
  imports and finds a worker started ahead. Submissions and grades travel through the broker.

Nothing lost: Huey takes a task off the queue when a worker starts it, so a worker killed mid-grading
would lose it. The worker keeps a heartbeat in the broker while it grades; the service's collector
puts a submission back on the queue when it has no result, is no longer queued and its heartbeat
stopped. A submission's grade is stored once (the first result wins), so a student sees one result
per submission even if two workers graded it.

Nobody let in: a student's link holds a random token of which only a hash is stored, compared in
constant time; uploads are size-capped before they are parsed, and only the engine's bounded
readers (in the sandboxed grading) open them; forms carry a CSRF token bound to the student; a
student reaches only their own submissions. Run it behind a TLS reverse proxy (README).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path

import huey as huey_lib
import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import assignment as assignments
from ..engine import api, report
from ..engine.results import Grade
from ..errors import UsageError
from . import classreport, course, exports, pages, ratelimit

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a notebook with its outputs; far above any honest cnn_layers.py
DRAIN_BYTES = 64 * 1024 * 1024
NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}\.(py|ipynb|zip)")
LEASE_SECONDS = 30.0  # a grading whose heartbeat is older than this lost its worker
HEARTBEAT_SECONDS = 5.0
SWEEP_SECONDS = 0.25  # how often results are collected: part of every student's wait
LIVE, RERUN = 10, 0  # queue priorities: a student's submission before any staff re-run
MAX_WAITING = 3  # a student's (or group's) submissions waiting at once
MAX_ATTEMPTS = 3  # times a submission is queued after its worker was lost, before it is a system error

metadata = sa.MetaData()
students = sa.Table(
    "students", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("student", sa.String(200), unique=True, nullable=False),
    sa.Column("email", sa.String(300), nullable=False, default=""),
    sa.Column("token_hash", sa.String(64), unique=True, nullable=False),
    sa.Column("canvas_id", sa.String(50)),  # the roster's optional canvas_id: the Canvas CSV's ID column
    sa.Column("grp", sa.String(200), index=True),  # the roster's optional group: members share submissions
)
submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id"), nullable=False, index=True),
    sa.Column("filename", sa.String(120), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # queued (waiting or being graded), graded, refused (rate limit: not graded), failed (the grader failed)
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("task_id", sa.String(64)),
    sa.Column("enqueued", sa.Integer, nullable=False, default=0),  # times put on the queue
    sa.Column("missing_since", sa.Float),  # first sweep that found it neither queued, graded nor beating
    sa.Column("score", sa.Float),
    sa.Column("max_score", sa.Float),
    sa.Column("message", sa.Text, nullable=False, default=""),  # why refused or failed
    sa.Column("grade_json", sa.Text),
    sa.Column("graded_at", sa.Float),
    # Against the calendar when it arrived (course.py): the score is multiplied by factor.
    sa.Column("factor", sa.Float, nullable=False, default=1.0),
    sa.Column("late_reason", sa.Text, nullable=False, default=""),
)
earlier = sa.Table(
    "earlier_grades", metadata,  # a submission's grades before staff re-ran it: the score history
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=False, index=True),
    sa.Column("score", sa.Float),
    sa.Column("max_score", sa.Float),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("grade_json", sa.Text),
    sa.Column("graded_at", sa.Float),
)
adjustments = sa.Table(
    "adjustments", metadata,  # a TA's points on a question, kept apart from grades: regrades leave them
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("student", sa.String(200), nullable=False, index=True),
    sa.Column("question", sa.String(200), nullable=False),
    sa.Column("points", sa.Float, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("by", sa.String(200), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)
settings = sa.Table(
    "settings", metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def _token(size: int) -> str:
    """A random URL-safe token that does not start with "-" (a command line would read it as an option)."""
    while True:
        token = secrets.token_urlsafe(size)
        if not token.startswith("-"):
            return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# -- the queue ------------------------------------------------------------------------------
def make_queue(broker: str | None, data: Path | None):
    """(Huey on Redis (`redis://...`) or, with no broker, on SQLite under `data`; its grading task)."""
    if broker and broker.startswith(("redis://", "rediss://", "unix://")):
        queue = huey_lib.PriorityRedisHuey("autograder", url=broker, results=True)  # staff re-runs wait behind students
    elif broker and broker.startswith("sqlite:///"):
        queue = huey_lib.SqliteHuey("autograder", filename=broker[len("sqlite:///"):], results=True)
    elif broker:
        raise UsageError(f"--broker {broker}: give redis://HOST:PORT/DB (or sqlite:///PATH for one machine)")
    else:
        queue = huey_lib.SqliteHuey("autograder", filename=str(Path(data) / "queue.sqlite3"), results=True)
    return queue, queue.task(name="grade")(_grade_task)


_warm: dict[str, api.Warm] = {}  # one warm grader per assignment, per worker process


def _grade_task(submission_id: int, assignment: str, student: str, filename: str, body: bytes) -> dict:
    """In a worker process: grade one upload with the engine; what comes back is plain data."""
    queue = _current_queue
    beat = threading.Event()

    # While this grading runs, the service knows its worker is alive, and staff see where it runs.
    where = (socket.gethostname(), os.getpid())

    def heartbeat():
        while not beat.wait(HEARTBEAT_SECONDS):
            queue.put(f"beat:{submission_id}", (time.time(), *where))

    queue.put(f"beat:{submission_id}", (time.time(), *where))
    threading.Thread(target=heartbeat, name="autograder-heartbeat", daemon=True).start()
    try:
        grader = _warm.get(assignment)
        if grader is None:
            grader = _warm[assignment] = api.Warm(assignments.load(assignment))
        with tempfile.TemporaryDirectory(prefix="autograder-service-") as tmp:
            path = Path(tmp) / filename
            path.write_bytes(body)
            try:
                grade = grader.grade(path, name=student)
            except Exception as exc:  # noqa: BLE001 - the grader failed (not the submission): said, not lost
                return {"submission": submission_id, "failed": f"the grader could not grade it: {exc}"[:500]}
        return {"submission": submission_id, "grade": grade.to_dict()}
    finally:
        beat.set()


_current_queue: huey_lib.Huey | None = None


def run_worker(broker: str | None, data: Path | None, jobs: int) -> None:
    """Grade from the queue until stopped (`./kit worker`, and the service's own workers)."""
    global _current_queue
    queue, _ = make_queue(broker, data)
    _current_queue = queue  # the worker processes Huey forks from here inherit it
    # An idle consumer polls an SQLite queue at most every 0.5 s (Huey's default backs off to 10 s: a
    # student would wait that long for the first grading after a quiet spell); Redis blocks instead.
    consumer = queue.create_consumer(workers=max(1, jobs), worker_type="process", periodic=False,
                                     check_worker_health=True, initial_delay=0.05, max_delay=0.5)
    consumer.run()


# -- state ----------------------------------------------------------------------------------
class Service:
    """The service's state and queue: what the pages and the API call."""

    def __init__(self, a: assignments.Assignment, data: Path, db: str | None, broker: str | None,
                 lease: float = LEASE_SECONDS):
        self.a = a
        self.lease = lease
        self.data = data
        self.engine = sa.create_engine(db or f"sqlite:///{data / 'service.sqlite3'}", future=True)
        metadata.create_all(self.engine)
        self.queue, self.grade_task = make_queue(broker, data)
        self.secret = self._setting("csrf_secret") or self._set("csrf_secret", secrets.token_hex(32))
        self.policy = ratelimit.policy(a)
        self._calendar: tuple = (object(), None)  # (course.toml's mtime when read, its calendar)
        self._stop = threading.Event()

    def _setting(self, key: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(sa.select(settings.c.value).where(settings.c.key == key)).scalar()

    def _set(self, key: str, value: str) -> str:
        with self.engine.begin() as c:
            if c.execute(sa.select(settings.c.key).where(settings.c.key == key)).first():
                c.execute(settings.update().where(settings.c.key == key).values(value=value))
            else:
                c.execute(settings.insert().values(key=key, value=value))
        return value

    @property
    def manual_release(self) -> bool:
        release = (self.a.extra.get("service") or {}).get("release", "immediately")
        if release not in ("immediately", "manual"):
            raise UsageError(f"{self.a.folder / 'assignment.toml'} [service] release = {release!r}: "
                             "give \"immediately\" or \"manual\"")
        return release == "manual"

    @property
    def released(self) -> bool:
        """Whether students see the hidden checks' results (assignment.toml [service] release)."""
        return not self.manual_release or self._setting("released") == "yes"

    def release(self) -> None:
        self._set("released", "yes")

    # roster and tokens
    def enrol(self, roster: Path, base_url: str) -> list[tuple[str, str, str]]:
        """Students of the roster not yet known get a token; returns (student, token, link) of the new ones."""
        try:
            with open(roster, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise UsageError(f"{roster}: cannot read the roster ({exc}); give a CSV with columns student,email")
        if rows and "student" not in rows[0]:
            raise UsageError(f"{roster}: the roster needs a 'student' column (and 'email')")
        new = []
        with self.engine.begin() as c:
            known = {r.student for r in c.execute(sa.select(students.c.student))}
            for number, row in enumerate(rows, start=2):
                name = (row.get("student") or "").strip()
                if len(name) > 200:
                    raise UsageError(f"{roster}, line {number}: a student's name is longer than 200 characters; shorten it")
                if not name or name in known:
                    continue
                token = _token(24)
                c.execute(students.insert().values(student=name[:200], email=(row.get("email") or "").strip()[:300],
                                                   token_hash=token_hash(token),
                                                   canvas_id=(row.get("canvas_id") or "").strip()[:50] or None,
                                                   grp=(row.get("group") or "").strip()[:200] or None))
                known.add(name)
                new.append((name, token, f"{base_url}/s/{token}"))
        return new

    def student_of(self, token: str | None):
        if not token:
            return None
        wanted = token_hash(token)
        with self.engine.connect() as c:
            row = c.execute(sa.select(students).where(students.c.token_hash == wanted)).first()
        # The lookup is by hash (an index); the comparison of what was found is in constant time too.
        return row if row is not None and hmac.compare_digest(row.token_hash, wanted) else None

    def csrf(self, student_row) -> str:
        return hmac.new(self.secret.encode(), f"csrf:{student_row.id}".encode(), hashlib.sha256).hexdigest()

    # the instructor
    def instructor_link(self, base_url: str) -> str | None:
        """A new instructor token's link, the first time (only its hash is kept); None once one exists."""
        if self._setting("instructor_hash"):
            return None
        token = _token(32)
        self._set("instructor_hash", token_hash(token))
        return f"{base_url}/i/{token}"

    def is_instructor(self, token: str | None) -> bool:
        kept = self._setting("instructor_hash")
        return bool(token) and kept is not None and hmac.compare_digest(kept, token_hash(token))

    def instructor_csrf(self) -> str:
        return hmac.new(self.secret.encode(), b"csrf:instructor", hashlib.sha256).hexdigest()

    def calendar(self) -> course.Calendar:
        """course.toml's calendar of this assignment, read again when the file changes."""
        path = self.data / course.FILE
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            stamp = None
        if self._calendar[0] != stamp:
            self._calendar = (stamp, course.load(self.data, self.a.name))
        return self._calendar[1]

    def _members(self, c, student_row) -> list[int]:
        """The ids of the student and their group's other members: one submission history."""
        if not student_row.grp:
            return [student_row.id]
        return [r.id for r in c.execute(sa.select(students.c.id).where(students.c.grp == student_row.grp))]

    @staticmethod
    def _adjusted(c, student: str) -> list:
        """The adjustments of `student`, in the order they were given."""
        return c.execute(sa.select(adjustments).where(adjustments.c.student == student).order_by(adjustments.c.id)).all()

    def _decision(self, c, student_row, moment: datetime) -> ratelimit.Decision:
        """The rate limit's decision for the student's (or their group's: shared) next graded submission."""
        times = [r.created_at for r in c.execute(sa.select(submissions.c.created_at).where(
            submissions.c.student_id.in_(self._members(c, student_row)), submissions.c.state.in_(("queued", "graded"))))]
        history = [ratelimit.Past(datetime.fromtimestamp(t, timezone.utc), frozenset({ratelimit.WHOLE})) for t in times]
        return ratelimit.decide(self.policy, history, moment)[ratelimit.WHOLE]

    def _final(self, grade: Grade, factor: float, adjusted) -> tuple[dict, float]:
        """(points per question after the adjustments, the total after them and the late factor)."""
        items = dict(grade.by_item)
        for a in adjusted:
            items[a.question] = round(items.get(a.question, 0.0) + a.points, 2)
        # The engine's total (not the sum of rounded questions), so an unadjusted grade is the CLI's.
        raw = grade.score + sum(a.points for a in adjusted)
        return items, round(min(max(raw * factor, 0.0), grade.max_score), 2)

    def gradebook(self) -> list[dict]:
        """Each student's row: the counted submission of theirs or their group's (course.toml's counts:
        the latest, or the best total), its grade, their adjustments and the total after them and
        after the late factor. Students with no graded submission have none."""
        counts = self.calendar().counts
        with self.engine.connect() as c:
            people = c.execute(sa.select(students).order_by(students.c.student)).all()
            graded = c.execute(sa.select(submissions.c.id, submissions.c.student_id, submissions.c.grade_json,
                                         submissions.c.factor, submissions.c.late_reason, submissions.c.filename)
                               .where(submissions.c.state == "graded").order_by(submissions.c.id)).all()
            adjusted = c.execute(sa.select(adjustments).order_by(adjustments.c.id)).all()
        key = {p.id: ("group", p.grp) if p.grp else ("student", p.id) for p in people}  # apart: a group named "#1"
        grades = {r.id: Grade.from_dict(json.loads(r.grade_json)) for r in graded}
        shared: dict = {}  # a student's or group's graded submissions, oldest first
        for r in graded:
            shared.setdefault(key.get(r.student_id), []).append(r)
        own_adjustments: dict = {}
        for a in adjusted:
            own_adjustments.setdefault(a.student, []).append(a)
        rows = []
        for person in people:
            own = own_adjustments.get(person.student, [])
            chosen = None
            for r in shared.get(key[person.id], []):
                items, total = self._final(grades[r.id], r.factor, own)
                if chosen is None or counts == "latest" or total >= chosen["total"]:
                    chosen = {"submission": r.id, "grade": grades[r.id], "items": items, "total": total,
                              "factor": r.factor, "late_reason": r.late_reason, "filename": r.filename}
            rows.append({"student": person.student, "id": person.id, "canvas_id": person.canvas_id, "group": person.grp,
                         "adjustments": own, **(chosen or {"submission": None})})
        return rows

    def roster(self) -> list[dict]:
        """Every student with their submissions' count, their latest one's state and their counted total."""
        with self.engine.connect() as c:
            found = c.execute(sa.select(submissions.c.student_id, submissions.c.state).order_by(submissions.c.id)).all()
        latest, counts = {}, {}
        for r in found:
            latest[r.student_id] = r.state
            counts[r.student_id] = counts.get(r.student_id, 0) + 1
        return [{"id": row["id"], "student": row["student"], "group": row["group"] or "",
                 "submissions": counts.get(row["id"], 0), "state": latest.get(row["id"], ""),
                 "score": f"{row['total']:g} / {row['grade'].max_score:g}" if row["submission"] else ""}
                for row in self.gradebook()]

    def latest_grades(self) -> list[Grade]:
        """Each student's counted grade (its total after adjustments and lateness), for the class report."""
        grades = []
        for row in self.gradebook():
            if row["submission"] is not None:
                grade = Grade.from_dict(row["grade"].to_dict())
                grade.name, grade.score = row["student"], row["total"]
                grades.append(grade)
        return grades

    def calendar_text(self) -> str:
        try:
            return (self.data / course.FILE).read_text(encoding="utf-8")
        except OSError:
            return ""

    def save_calendar(self, text: str) -> str | None:
        """Write course.toml if it reads as a calendar; else the one-line reason, and the file is left as it was."""
        if len(text) > 200_000:
            return "the calendar is longer than 200 KB"
        trial = self.data / f".{course.FILE}.new"
        trial.write_text(text, encoding="utf-8")
        try:
            course.load_file(trial, self.a.name)
        except UsageError as exc:
            trial.unlink()
            return str(exc).replace(str(trial), course.FILE)
        os.replace(trial, self.data / course.FILE)  # whole, at once: a reader sees the old file or the new
        return None

    def queue_view(self) -> dict:
        """For staff: how many wait, which are being graded (where, and how long ago their worker beat)."""
        now = time.time()
        with self.engine.connect() as c:
            waiting = c.execute(sa.select(submissions.c.id, students.c.student, submissions.c.created_at,
                                          submissions.c.enqueued).join(students)
                                .where(submissions.c.state == "queued").order_by(submissions.c.id)).all()
        rows = []
        for r in waiting:
            beat = self.queue.get(f"beat:{r.id}", peek=True)
            rows.append({"id": r.id, "student": r.student, "waited": f"{now - r.created_at:.0f} s", "attempts": r.enqueued,
                         "worker": f"{beat[1]} pid {beat[2]}" if beat else "",
                         "beat": f"{now - float(beat[0]):.0f} s ago" if beat else "waiting"})
        return {"depth": len(rows), "rows": rows}

    def cancel(self, sid: int) -> bool:
        """Stop waiting for a stuck grading: a system error for the student (no budget used), the task revoked."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(submissions.c.task_id).where(submissions.c.id == sid,
                                                                   submissions.c.state == "queued")).first()
        if row is None:
            return False
        if row.task_id:
            self.queue.revoke_by_id(row.task_id)
        self._store(sid, {"failed": "system error: the course staff cancelled its grading (it used none of your budget)"})
        return True

    def adjustments_of(self, student: str) -> list[dict]:
        with self.engine.connect() as c:
            rows = self._adjusted(c, student)
        return [{"question": r.question, "points": f"{r.points:+g}", "comment": r.comment, "by": r.by,
                 "at": datetime.fromtimestamp(r.at, timezone.utc).isoformat(timespec="minutes")} for r in rows]

    def adjust(self, student: str, question: str, points: float, comment: str, by: str) -> None:
        """A TA's points on a question of `student`'s counted grade; kept apart from grades, so regrades keep it."""
        questions = [q.item for q in self.a.questions]
        if not comment:
            raise UsageError("say why in a comment: the student reads it beside the points")
        if not math.isfinite(points) or abs(points) > self.a.total_points:
            raise UsageError(f"points {points:g}: give a number between -{self.a.total_points:g} and {self.a.total_points:g}")
        if question not in questions:
            raise UsageError(f"no question {question!r}: give one of {', '.join(questions)}")
        with self.engine.begin() as c:
            if c.execute(sa.select(students.c.id).where(students.c.student == student)).first() is None:
                raise UsageError(f"no student {student!r} in the roster")
            c.execute(adjustments.insert().values(student=student, question=question, points=float(points),
                                                  comment=comment[:2000], by=by[:200], at=time.time()))

    def student_name(self, c, student_id: int) -> str | None:
        if not 0 < student_id < 2**62:  # beyond what the database's integers hold: no such student
            return None
        return c.execute(sa.select(students.c.student).where(students.c.id == student_id)).scalar()

    def student_history(self, student_id: int) -> tuple[str, list[dict]] | None:
        with self.engine.connect() as c:
            who = self.student_name(c, student_id)
            if who is None:
                return None
            rows = c.execute(sa.select(submissions).where(submissions.c.student_id == student_id)
                             .order_by(submissions.c.id.desc())).all()
            before = {}
            for e in c.execute(sa.select(earlier).where(earlier.c.submission_id.in_([r.id for r in rows]))
                               .order_by(earlier.c.id)):
                before.setdefault(e.submission_id, []).append(
                    f"{e.score:g} / {e.max_score:g}" if e.state == "graded" else e.state)
        out = []
        for r in rows:
            entry = {"id": r.id, "state": r.state, "filename": r.filename, "message": r.message,
                     "submitted": datetime.fromtimestamp(r.created_at, timezone.utc).isoformat(timespec="seconds"),
                     "score": f"{r.score:g} / {r.max_score:g}" if r.state == "graded" else "", "feedback": "",
                     "earlier": before.get(r.id, [])}
            if r.state == "graded":
                entry["feedback"] = report.feedback_markdown(Grade.from_dict(json.loads(r.grade_json)), self.a.title)
            out.append(entry)
        return who, out

    def regrade(self, sid: int | None = None, names: list[str] | None = None) -> int:
        """Grade again (a staff re-run, behind live submissions in the queue): submission `sid`, or the
        counted submission of the students `names`, or of everyone (neither given); how many were queued."""
        if sid is not None:
            ids = [sid]
        else:
            rows = self.gradebook()
            if names:
                known = {r["student"] for r in rows}
                unknown = [n for n in names if n not in known]
                if unknown:
                    raise UsageError(f"no student {unknown[0]!r} in the roster")
                rows = [r for r in rows if r["student"] in names]
            ids = sorted({r["submission"] for r in rows if r["submission"] is not None})
        with self.engine.begin() as c:
            rerun = c.execute(sa.select(submissions.c.id, submissions.c.score, submissions.c.max_score,
                                        submissions.c.state, submissions.c.grade_json, submissions.c.graded_at)
                              .where(submissions.c.id.in_(ids), submissions.c.state.in_(("graded", "failed")))
                              .order_by(submissions.c.id)).all()
            ids = [was.id for was in rerun]
            for was in rerun:
                c.execute(earlier.insert().values(submission_id=was.id, score=was.score, max_score=was.max_score,
                                                  state=was.state, grade_json=was.grade_json, graded_at=was.graded_at))
                c.execute(submissions.update().where(submissions.c.id == was.id).values(
                    state="queued", score=None, max_score=None, grade_json=None, message="", graded_at=None))
        for i in ids:
            self._enqueue(i, priority=RERUN)
        return len(ids)

    def grades_csv(self) -> str:
        """The gradebook, with `grade`'s grades.csv columns: name, total, each question, status, flags.
        Questions include the adjustments; the total is after them and after the late factor."""
        questions = [q.item for q in self.a.questions]
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(["name", "total", *questions, "status", "flags"])
        for row in self.gradebook():
            if row["submission"] is None:
                out.writerow(report.csv_row([row["student"], "", *[""] * len(questions), "no graded submission", ""]))
                continue
            grade = row["grade"]
            status = "; ".join([grade.status] + ([row["late_reason"]] if row["late_reason"] else [])
                               + [f"adjusted: {a.question} {a.points:+g} ({a.comment})" for a in row["adjustments"]])
            out.writerow(report.csv_row([row["student"], f"{row['total']:g}",
                                         *[f"{row['items'].get(q, 0):g}" for q in questions],
                                         status, "; ".join(report.flags(grade))]))
        return buffer.getvalue()

    def canvas_csv(self) -> tuple[str, int]:
        """Canvas's gradebook import (students matched by the roster's canvas_id), and how many graded
        students it leaves out for want of one."""
        rows = [r for r in self.gradebook() if r["submission"] is not None]
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", exports.canvas_column(self.a)])
        out.writerow(["    Points Possible", "", "", "", "", f"{self.a.total_points:g}"])
        for r in rows:
            if r["canvas_id"]:
                out.writerow(report.csv_row([r["student"], r["canvas_id"], "", "", "", f"{r['total']:g}"]))
        return buffer.getvalue(), sum(1 for r in rows if not r["canvas_id"])

    def similarity_csv(self) -> str:
        """similarity.csv of every student's (or group's) counted submission (the [similarity] extra)."""
        from . import similarity

        counted, seen = [], set()
        for row in self.gradebook():  # a group's submission once
            if row["submission"] is not None and row["submission"] not in seen:
                seen.add(row["submission"])
                counted.append(row)
        with self.engine.connect() as c:  # the files, read only here (the gradebook reads none)
            bodies = dict(c.execute(sa.select(submissions.c.id, submissions.c.body)
                                    .where(submissions.c.id.in_(seen))).all())
        with tempfile.TemporaryDirectory(prefix="autograder-service-similarity-") as tmp:
            paths = []
            for number, row in enumerate(counted):
                folder = Path(tmp) / "in" / str(number)
                folder.mkdir(parents=True)
                (folder / row["filename"]).write_bytes(bodies[row["submission"]])
                paths.append((row["group"] or row["student"], folder / row["filename"]))
            similarity.run(self.a, Path(tmp) / "out", paths, quiet=True)
            return (Path(tmp) / "out" / similarity.CSV_NAME).read_text(encoding="utf-8")

    # submissions
    def submit(self, student_row, filename: str, body: bytes) -> dict:
        """Store and queue an upload, or refuse it: {"id"} or {"refused": reason, "status": the HTTP status}."""
        name = Path(filename or "").name
        if not NAME.fullmatch(name):
            return {"refused": "the file should be a .py, .ipynb or .zip with a plain name (letters, digits, _ . -)",
                    "status": 400}
        if len(body) > MAX_UPLOAD_BYTES:
            return {"refused": f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", "status": 413}
        now = time.time()  # the server's clock, never the client's
        moment = datetime.fromtimestamp(now, timezone.utc)
        stand = course.stand(self.calendar(), moment, [student_row.student] + ([student_row.grp] if student_row.grp else []))
        if stand.closed:
            return {"refused": f"not accepted: {stand.reason}", "status": 403}
        with self.engine.connect() as c:
            members = self._members(c, student_row)
            waiting = c.execute(sa.select(sa.func.count()).select_from(submissions).where(
                submissions.c.student_id.in_(members), submissions.c.state == "queued")).scalar()
            if waiting >= MAX_WAITING:  # one student cannot fill the queue ahead of the class
                return {"refused": f"you have {waiting} submissions waiting to be graded; submit again once they are",
                        "status": 429}
            if self.policy is not None and self.policy.whole is not None:  # a group shares one budget
                decision = self._decision(c, student_row, moment)
                if not decision.allowed:
                    return {"refused": ratelimit.refused_line(decision, moment), "status": 429}
        with self.engine.begin() as c:
            sid = c.execute(submissions.insert().values(
                student_id=student_row.id, filename=name, body=body, created_at=now, state="queued",
                message="", enqueued=0, factor=stand.factor, late_reason=stand.reason)).inserted_primary_key[0]
        self._enqueue(sid, priority=LIVE)
        return {"id": sid}

    def _enqueue(self, sid: int, priority: int = LIVE) -> None:
        with self.engine.begin() as c:
            row = c.execute(sa.select(submissions, students.c.student).join(students).where(
                submissions.c.id == sid)).first()
            result = self.queue.enqueue(self.grade_task.s(sid, self.a.name, row.student, row.filename, row.body,
                                                          priority=priority))
            c.execute(submissions.update().where(submissions.c.id == sid).values(
                task_id=result.id, enqueued=row.enqueued + 1, missing_since=None))

    def _own(self, c, student_row, sid: int):
        """Submission `sid` if it is the student's or their group's (None otherwise)."""
        return c.execute(sa.select(submissions).where(
            submissions.c.id == sid, submissions.c.student_id.in_(self._members(c, student_row)))).first()

    def view(self, student_row, sid: int) -> dict | None:
        """What the student may see of their (or their group's) submission `sid` (None: not theirs, or none)."""
        if not 0 < sid < 2**62:  # beyond what the database's integers hold: no such submission
            return None
        with self.engine.connect() as c:
            row = self._own(c, student_row, sid)
            if row is None:
                return None
            ahead = c.execute(sa.select(sa.func.count()).select_from(submissions).where(
                submissions.c.state == "queued", submissions.c.id < sid)).scalar() if row.state == "queued" else 0
            own = self._adjusted(c, student_row.student)
        out = {"id": row.id, "state": row.state, "filename": row.filename, "message": row.message,
               "submitted": datetime.fromtimestamp(row.created_at, timezone.utc).isoformat(timespec="seconds")}
        if row.state == "queued":
            out["position"] = ahead + 1
        if row.state == "graded":
            grade = Grade.from_dict(json.loads(row.grade_json))
            if self.released:
                _, total = self._final(grade, row.factor, own)
                notes = ([f"Late: {row.late_reason}. Autograded score before it: {grade.score:g} / {grade.max_score:g}."]
                         if row.late_reason else [])
                notes += [f"Adjusted by {a.by}: {a.question} {a.points:+g} ({a.comment})" for a in own]
                out["feedback"] = report.feedback_markdown(grade, self.a.title) + (
                    "\n" + "\n".join(f"- {n}" for n in notes) + f"\n\n**Total: {total:g} / {grade.max_score:g}**\n"
                    if notes else "")
                out["score"], out["max_score"] = total, grade.max_score
                if row.late_reason:
                    out["raw_score"], out["late"] = grade.score, row.late_reason
            else:  # the public checks' results only, and that the hidden ones ran
                public = [t for t in grade.tests if t.visibility == "visible"]
                out["feedback"] = "\n".join(
                    [f"# {self.a.title}: public checks of {grade.name}", ""]
                    + [f"- {'passed' if t.status == 'passed' else 'FAILED'}: {t.name}" for t in public]
                    + ["", f"The {len(grade.tests) - len(public)} hidden checks ran too; their results and your score "
                       "are shown once your instructor releases them."])
                out["withheld"] = True
        return out

    def budget(self, student_row) -> str:
        """The rate limit's budget left now (the student's group's, shared), as a sentence; "" with no limit."""
        if self.policy is None or self.policy.whole is None:
            return ""
        moment = datetime.now(timezone.utc)
        with self.engine.connect() as c:
            decision = self._decision(c, student_row, moment)
        if decision.allowed:
            return f"Graded submissions left now: {decision.left + 1} of {decision.bucket.burst}."
        return f"No graded submission left now; the next one is available from {ratelimit.when(decision.next_at, moment)}."

    def history(self, student_row) -> list[dict]:
        """The student's submissions, their group's included."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(submissions.c.id, submissions.c.state, submissions.c.filename,
                                       submissions.c.created_at, submissions.c.grade_json, submissions.c.factor,
                                       submissions.c.late_reason)
                             .where(submissions.c.student_id.in_(self._members(c, student_row)))
                             .order_by(submissions.c.id.desc())).all()
            own = self._adjusted(c, student_row.student)
        released, out = self.released, []
        for r in rows:
            score = ""
            if r.state == "graded" and released:
                grade = Grade.from_dict(json.loads(r.grade_json))
                score = f"{self._final(grade, r.factor, own)[1]:g} / {grade.max_score:g}" + (" (late)" if r.late_reason else "")
            out.append({"id": r.id, "state": r.state, "filename": r.filename, "score": score,
                        "submitted": datetime.fromtimestamp(r.created_at, timezone.utc).isoformat(timespec="seconds")})
        return out

    # results
    def collect_once(self) -> None:
        """Store the results that came back; put back on the queue what a dead worker lost."""
        with self.engine.connect() as c:
            waiting = c.execute(sa.select(submissions.c.id, submissions.c.task_id, submissions.c.missing_since,
                                          submissions.c.enqueued).where(submissions.c.state == "queued")).all()
        if not waiting:
            return
        pending = None
        now = time.time()
        for row in waiting:
            try:
                result = self.queue.result(row.task_id, preserve=False) if row.task_id else None
            except huey_lib.exceptions.TaskException as exc:
                result = {"submission": row.id, "failed": f"the grader failed: {exc}"[:500]}
            if result is not None:
                self._store(row.id, result)
                continue
            beat = self.queue.get(f"beat:{row.id}", peek=True)  # (time, host, pid)
            if beat is not None and now - float(beat[0]) < self.lease:
                self._missing(row.id, None)
                continue
            if pending is None:
                pending = {t.id for t in self.queue.pending()}
            if row.task_id in pending:
                self._missing(row.id, None)
                continue
            # Neither queued, nor graded, nor beating: lost with its worker (two sweeps apart, so a worker
            # that has just taken it has had time to beat).
            if row.missing_since is None:
                self._missing(row.id, now)
            elif now - row.missing_since >= max(2 * SWEEP_SECONDS, HEARTBEAT_SECONDS):
                if row.enqueued >= MAX_ATTEMPTS:  # a submission that kills its worker every time: said, not retried
                    self._store(row.id, {"failed": f"system error: its worker was lost {row.enqueued} times; "
                                                   "the course staff have been shown it (it used none of your budget)"})
                else:
                    self._enqueue(row.id)

    def _missing(self, sid: int, since: float | None) -> None:
        with self.engine.begin() as c:
            c.execute(submissions.update().where(submissions.c.id == sid).values(missing_since=since))

    def _store(self, sid: int, result: dict) -> None:
        values = {"graded_at": time.time()}
        if isinstance(result, dict) and isinstance(result.get("grade"), dict):
            grade = Grade.from_dict(result["grade"])
            values.update(state="graded", score=grade.score, max_score=grade.max_score,
                          grade_json=json.dumps(grade.to_dict()))
        else:
            failed = result.get("failed") if isinstance(result, dict) else None
            values.update(state="failed", message=str(failed or "the grader sent no grade")[:500])
        with self.engine.begin() as c:
            # The first result wins: a submission graded twice (its worker was thought lost) keeps one.
            c.execute(submissions.update().where(submissions.c.id == sid, submissions.c.state == "queued")
                      .values(**values))

    def collect_forever(self) -> None:
        while not self._stop.wait(SWEEP_SECONDS):
            try:
                self.collect_once()
            except Exception as exc:  # noqa: BLE001 - a broker hiccup: said, and the next sweep tries again
                print(f"service: collecting results failed ({type(exc).__name__}: {exc}); retrying", flush=True)


# -- web ------------------------------------------------------------------------------------
def _page(template: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(pages.render(template, **context), status_code=status)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


async def _bounded_body(request: Request, cap: int) -> bool:
    """Read the request's body into it, at most `cap` bytes whatever its headers say (a chunked upload
    declares no length); False when it is longer. Past the cap, what is still coming is read and dropped
    up to DRAIN_BYTES, so the client reads the refusal instead of a reset."""
    try:
        declared = int(request.headers.get("content-length", "0"))
    except ValueError:
        declared = 0
    body, seen = bytearray(), 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > cap or declared > cap:
            if seen > DRAIN_BYTES:
                break
            continue
        body += chunk
    if seen > cap or declared > cap:
        return False
    request._body = bytes(body)  # Starlette's form parser reads the body from here: nothing unbounded
    return True


async def _form(request: Request, cap: int = 300_000, **limits):
    """The request's form, its body at most `cap` bytes; None when longer."""
    if not await _bounded_body(request, cap):
        return None
    return await request.form(max_files=limits.get("max_files", 0), max_fields=limits.get("max_fields", 4),
                              max_part_size=cap)


async def _upload(request: Request):
    """(filename, bytes, form) of the form's `file`, or a refusal response; the size is checked as it arrives."""
    too_big = JSONResponse({"refused": f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"}, status_code=413)
    form = await _form(request, MAX_UPLOAD_BYTES + 64 * 1024, max_files=1, max_fields=4)
    if form is None:
        return None, too_big
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return None, JSONResponse({"refused": "no file: send it as the form field 'file'"}, status_code=400)
    body = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(body) > MAX_UPLOAD_BYTES:
        return None, too_big
    return (upload.filename or "", body, form), None


class _PrivatePages:
    """Headers on every answer: its address holds a token, so no referrer leaves it, no cache keeps
    it, and no other site frames it."""

    HEADERS = [(b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store"), (b"x-frame-options", b"DENY"),
               (b"x-content-type-options", b"nosniff")]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


OUT_OF_DATE = "the form was out of date or not sent from this page; open your link again"
UNKNOWN_TOKEN = {"refused": "unknown token: use the link your instructor sent you"}


def make_app(service: Service) -> Starlette:
    not_found = lambda: _page("service_home.html", 404, title=service.a.title)  # noqa: E731

    async def home(request: Request):
        return _page("service_home.html", title=service.a.title)

    async def student_page(request: Request):
        who = service.student_of(request.path_params["token"])
        if who is None:
            return not_found()
        return _page("service_student.html", title=service.a.title, student=who.student, token=request.path_params["token"],
                     csrf=service.csrf(who), history=service.history(who), budget=service.budget(who))

    async def student_submit(request: Request):
        token = request.path_params["token"]
        who = service.student_of(token)
        if who is None:
            return not_found()
        upload, refusal = await _upload(request)
        if refusal is not None:
            return _page("service_refused.html", refusal.status_code, title=service.a.title, token=token,
                         reason=json.loads(refusal.body)["refused"])
        filename, body, form = upload
        if not hmac.compare_digest(str(form.get("csrf", "")), service.csrf(who)):
            return _page("service_refused.html", 403, title=service.a.title, token=token,
                         reason=OUT_OF_DATE)
        done = service.submit(who, filename, body)
        if "refused" in done:
            return _page("service_refused.html", done["status"], title=service.a.title, token=token, reason=done["refused"])
        return RedirectResponse(f"/s/{token}/{done['id']}", status_code=303)

    async def student_submission(request: Request):
        token = request.path_params["token"]
        who = service.student_of(token)
        seen = service.view(who, request.path_params["sid"]) if who is not None else None
        if seen is None:
            return not_found()
        return _page("service_submission.html", title=service.a.title, token=token, s=seen)

    async def api_submit(request: Request):
        who = service.student_of(_bearer(request))
        if who is None:
            return JSONResponse(UNKNOWN_TOKEN, status_code=401)
        upload, refusal = await _upload(request)
        if refusal is not None:
            return refusal
        filename, body, _ = upload
        done = service.submit(who, filename, body)
        if "refused" in done:
            return JSONResponse({"refused": done["refused"]}, status_code=done["status"])
        return JSONResponse(done, status_code=201)

    async def api_submission(request: Request):
        who = service.student_of(_bearer(request))
        if who is None:
            return JSONResponse(UNKNOWN_TOKEN, status_code=401)
        seen = service.view(who, request.path_params["sid"])
        if seen is None:
            return JSONResponse({"refused": "no such submission of yours"}, status_code=404)
        return JSONResponse(seen)

    async def health(request: Request):
        return Response("ok\n", media_type="text/plain")

    def instructor(request: Request) -> str | None:
        token = request.path_params["token"]
        return token if service.is_instructor(token) else None

    def instructor_post(act):
        """A POST of the instructor's pages: their link and the form's CSRF token checked, then act(request, token, form)."""
        async def handle(request: Request):
            token = instructor(request)
            if token is None:
                return not_found()
            form, refused = await instructor_form(request, token)
            return refused if refused is not None else await act(request, token, form)

        return handle

    async def instructor_form(request: Request, token: str):
        """The instructor's posted form, or the refusal page when it is too long or its CSRF token is wrong."""
        form = await _form(request, max_fields=8)
        if form is None or not hmac.compare_digest(str(form.get("csrf", "")), service.instructor_csrf()):
            return None, _page("service_refused.html", 403, title=service.a.title, token=token,
                               reason=OUT_OF_DATE)
        return form, None

    async def instructor_home(request: Request):
        token = instructor(request)
        if token is None:
            return not_found()
        return _page("service_instructor.html", title=service.a.title, token=token, csrf=service.instructor_csrf(),
                     rows=await run_in_threadpool(service.roster), queued=request.query_params.get("queued", ""),
                     withheld=not service.released)

    async def instructor_report(request: Request):
        if instructor(request) is None:
            return not_found()
        grades = await run_in_threadpool(service.latest_grades)  # off the event loop: students wait for nothing
        return HTMLResponse(await run_in_threadpool(classreport.render, grades, service.a))

    async def instructor_student(request: Request):
        token = instructor(request)
        found = service.student_history(request.path_params["student_id"]) if token else None
        if found is None:
            return not_found()
        who, history = found
        return _page("service_history.html", title=service.a.title, token=token, student=who, history=history,
                     csrf=service.instructor_csrf(), student_id=request.path_params["student_id"],
                     questions=[q.item for q in service.a.questions], adjusted=service.adjustments_of(who),
                     problem=request.query_params.get("problem", ""))

    @instructor_post
    async def instructor_adjust(request: Request, token: str, form):
        with service.engine.connect() as c:
            who = service.student_name(c, request.path_params["student_id"])
        if who is None:
            return not_found()
        where = f"/i/{token}/students/{request.path_params['student_id']}"
        try:
            points = float(str(form.get("points", "")))
            service.adjust(who, str(form.get("question", "")), points, str(form.get("comment", "")).strip(),
                           str(form.get("by", "")).strip() or "the instructor's page")
        except (ValueError, UsageError) as exc:
            reason = "give the points as a number" if not isinstance(exc, UsageError) else str(exc)
            return RedirectResponse(f"{where}?problem={urllib.parse.quote(reason)}", status_code=303)
        return RedirectResponse(where, status_code=303)

    @instructor_post
    async def instructor_regrade(request: Request, token: str, form):
        sid = str(form.get("submission", ""))
        queued = service.regrade(int(sid) if sid.isdigit() else None)
        return RedirectResponse(f"/i/{token}?queued={queued}", status_code=303)

    async def instructor_calendar(request: Request):
        token = instructor(request)
        if token is None:
            return not_found()
        problem, text, saved = "", service.calendar_text(), False
        if request.method == "POST":
            form, refused = await instructor_form(request, token)
            if refused is not None:
                return refused
            text = str(form.get("calendar", "")).replace("\r\n", "\n")
            problem = service.save_calendar(text) or ""
            saved = not problem
        return _page("service_calendar.html", 400 if problem else 200, title=service.a.title, token=token,
                     csrf=service.instructor_csrf(), text=text, problem=problem, saved=saved, name=service.a.name)

    async def instructor_queue(request: Request):
        token = instructor(request)
        if token is None:
            return not_found()
        return _page("service_queue.html", title=service.a.title, token=token, csrf=service.instructor_csrf(),
                     q=service.queue_view())

    @instructor_post
    async def instructor_cancel(request: Request, token: str, form):
        sid = str(form.get("submission", ""))
        if sid.isdigit():
            service.cancel(int(sid))
        return RedirectResponse(f"/i/{token}/queue", status_code=303)

    async def instructor_canvas(request: Request):
        if instructor(request) is None:
            return not_found()
        text, left_out = await run_in_threadpool(service.canvas_csv)
        return Response(text, media_type="text/csv", headers={
            "Content-Disposition": 'attachment; filename="canvas_gradebook.csv"',
            "X-Left-Out": str(left_out)})  # graded students without a canvas_id in the roster

    async def instructor_similarity(request: Request):
        if instructor(request) is None:
            return not_found()
        return Response(await run_in_threadpool(service.similarity_csv), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="similarity.csv"'})

    @instructor_post
    async def instructor_release(request: Request, token: str, form):
        service.release()
        return RedirectResponse(f"/i/{token}", status_code=303)

    async def instructor_csv(request: Request):
        if instructor(request) is None:
            return not_found()
        return Response(await run_in_threadpool(service.grades_csv), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="grades.csv"'})

    return Starlette(middleware=[Middleware(_PrivatePages)], routes=[
        Route("/", home),
        Route("/healthz", health),
        Route("/s/{token:str}", student_page),
        Route("/s/{token:str}/submit", student_submit, methods=["POST"]),
        Route("/s/{token:str}/{sid:int}", student_submission),
        Route("/api/submissions", api_submit, methods=["POST"]),
        Route("/api/submissions/{sid:int}", api_submission),
        Route("/i/{token:str}", instructor_home),
        Route("/i/{token:str}/report", instructor_report),
        Route("/i/{token:str}/students/{student_id:int}", instructor_student),
        Route("/i/{token:str}/students/{student_id:int}/adjust", instructor_adjust, methods=["POST"]),
        Route("/i/{token:str}/regrade", instructor_regrade, methods=["POST"]),
        Route("/i/{token:str}/grades.csv", instructor_csv),
        Route("/i/{token:str}/release", instructor_release, methods=["POST"]),
        Route("/i/{token:str}/canvas.csv", instructor_canvas),
        Route("/i/{token:str}/queue", instructor_queue),
        Route("/i/{token:str}/calendar", instructor_calendar, methods=["GET", "POST"]),
        Route("/i/{token:str}/cancel", instructor_cancel, methods=["POST"]),
        Route("/i/{token:str}/similarity.csv", instructor_similarity),
    ])


def serve(a: assignments.Assignment, data: Path, roster: Path, *, port: int = 8000, host: str = "127.0.0.1",
          broker: str | None = None, workers: int = 1, db: str | None = None, base_url: str | None = None,
          lease: float = LEASE_SECONDS) -> int:
    """`./kit serve`: the web service; with no broker, its own worker processes on the SQLite queue."""
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)  # every student's code and grade, and the CSRF secret: the instructor's eyes only
    service = Service(a, data, db, broker, lease)
    service.manual_release  # a misspelt release policy stops the start, in one line
    service.calendar()  # and so does a course.toml that cannot be read
    # What the instructor's commands (adjust, regrade, export) need to reach the same state and queue.
    _private(data / SETTINGS_FILE, json.dumps({"assignment": a.name, "db": db, "broker": broker}))
    base = base_url or f"http://{host}:{port}"
    new = service.enrol(roster, base)
    tokens = data / "tokens.csv"
    lines = io.StringIO()
    csv.writer(lines).writerows(([] if tokens.exists() else [["student", "token", "link"]]) + new)
    _private(tokens, lines.getvalue(), append=True)
    print(f"service: {len(new)} new student link(s) in {tokens}; serving {a.name} on {base}", flush=True)
    link = service.instructor_link(base)
    if link is not None:  # the instructor's pages: a link of their own, written once, for their eyes only
        _private(data / "instructor.txt", link + "\n")
        print(f"service: the instructor's link is in {data / 'instructor.txt'}", flush=True)
    consumer = None
    if broker is None and workers > 0:
        # `./kit worker` on the SQLite queue, as a child that dies with the service (PR_SET_PDEATHSIG).
        consumer = subprocess.Popen(
            [sys.executable, "-I", "-m", "autograder", "worker", "--broker", f"sqlite:///{data.resolve() / 'queue.sqlite3'}",
             "--jobs", str(workers)], preexec_fn=_die_with_parent, stdin=subprocess.DEVNULL)
    collector = threading.Thread(target=service.collect_forever, name="autograder-collector", daemon=True)
    collector.start()
    try:
        # A bounded number of connections at once (each holds at most one capped body), and idle ones
        # closed: a slow client cannot hold the service; a reverse proxy in front does the rest (README).
        uvicorn.run(make_app(service), host=host, port=port, log_level="warning", limit_concurrency=200,
                    timeout_keep_alive=5)
    finally:
        service._stop.set()
        if consumer is not None:
            consumer.send_signal(signal.SIGINT)  # Huey's graceful stop: the current grading finishes
            try:
                consumer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                consumer.kill()
    return 0


SETTINGS_FILE = "service.json"


def _private(path: Path, text: str, append: bool = False) -> None:
    """Write (or append) a file only its owner reads: tokens, the instructor's link, the settings."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o600)
    with os.fdopen(fd, "a" if append else "w", newline="", encoding="utf-8") as f:
        f.write(text)


def open_service(data: Path) -> Service:
    """The service whose --data is `data`, for the instructor's commands (it need not be running)."""
    try:
        kept = json.loads((Path(data) / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UsageError(f"{data}: no grading service's folder here (no {SETTINGS_FILE}); give the --data of `serve`") from None
    return Service(assignments.load(kept["assignment"]), Path(data), kept.get("db"), kept.get("broker"))


def _die_with_parent() -> None:
    """In the workers' child process: SIGTERM when the service dies, even by SIGKILL."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
