"""A grade as data: what every output (feedback, gradebooks, reports, Gradescope) is made from.

Each fact is held once, as data (kinds.py's vocabularies); the sentences people
read (a test's name, a grade's status) are rendered from it where shown. Light on
purpose: readers of grades (report.py, the integrations) need no grader (pytest, NumPy).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import assignment as assignments
from .kinds import Scope, State, TestKind, isolation_text
from .submission import submission_name

# How a grade's status counts tests that ended abnormally. "not run" tests were given up
# on (their function had timed out and never returned): they took no time.
PROBLEM_PHRASES = {TestKind.TIMEOUT: "timeout", TestKind.NOTRUN: "not run", TestKind.CRASH: "crash",
                   TestKind.PROTOCOL: "protocol"}


@dataclass
class TestGrade:
    """One check's result: its question (`item`), its title, and how it ended (`kind`)."""

    __test__ = False  # not a pytest test class, whatever its name

    item: str
    title: str
    number: str
    score: float
    max_score: float
    visibility: str
    output: str
    kind: TestKind
    duration: float
    mistake: str | None = None
    mistake_phrase: str | None = None

    @property
    def name(self) -> str:
        """What people and Gradescope call the check."""
        return f"{self.item}: {self.title}"

    @property
    def passed(self) -> bool:
        return self.kind == TestKind.PASS

    @property
    def status(self) -> str:
        """Gradescope's word for it."""
        return "passed" if self.passed else "failed"

    @classmethod
    def from_dict(cls, data: dict) -> "TestGrade":
        data = dict(data)
        if "title" not in data:  # written before titles were kept apart from items
            name, item = str(data.get("name", "")), str(data.get("item", ""))
            data["title"] = name[len(item) + 2:] if name.startswith(f"{item}: ") else name
        data["kind"] = TestKind(data.get("kind") or (TestKind.PASS if data.get("status") == "passed" else TestKind.FAIL))
        data.pop("name", None)  # rendered by to_dict
        data.pop("status", None)
        return cls(**data)


@dataclass
class Grade:
    name: str
    origin: str
    score: float
    max_score: float
    seed: int
    # What became of the submission as a whole, and, when it was not graded, why (one sentence).
    state: State = State.GRADED
    reason: str = ""
    tests: list[TestGrade] = field(default_factory=list)
    by_item: dict[str, float] = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cell_errors: list[dict] = field(default_factory=list)
    printed: str = ""
    execution_time: float = 0.0
    timing: dict = field(default_factory=dict)
    kind: str = "module"
    # The isolation level's name (namespace, user, none; "" if none could start), why stronger
    # levels failed, and what the level warns of (or, with no level, why none could start).
    isolation_level: str = ""
    isolation_fallbacks: list[str] = field(default_factory=list)
    isolation_warnings: list[str] = field(default_factory=list)
    # Only in a record from before isolation was data: its sentence, shown as it was.
    isolation_note: str = ""
    # How each limit held: {limit: {"scope": a kinds.Scope, "how": the mechanism, for people}},
    # e.g. {"memory": {"scope": "submission", "how": "per submission (cgroup v1, tmpfs included)"}}.
    caps: dict = field(default_factory=dict)
    # Numbers the hidden suite measured (accuracy, speed...): reports show them; no points.
    measures: dict = field(default_factory=dict)

    @property
    def graded(self) -> bool:
        return self.state == State.GRADED

    @property
    def isolation(self) -> str:
        """The isolation as people read it (kinds.isolation_text)."""
        if self.isolation_note:
            return self.isolation_note
        return isolation_text(self.isolation_level, self.isolation_fallbacks, self.isolation_warnings)

    @property
    def cap_scopes(self) -> dict[str, Scope]:
        """How far each limit reaches, as data."""
        return {limit: Scope(cap["scope"]) for limit, cap in self.caps.items()}

    @property
    def cap_texts(self) -> dict[str, str]:
        """How each limit held, for people."""
        return {limit: cap["how"] for limit, cap in self.caps.items()}

    @property
    def status(self) -> str:
        """The sentence for people: "graded", with the tests that ended abnormally, or why it was not."""
        if not self.graded:
            return self.reason
        problems: dict[TestKind, int] = {}
        for t in self.tests:
            if t.kind in PROBLEM_PHRASES:
                problems[t.kind] = problems.get(t.kind, 0) + 1
        return "graded" + "".join(f"; {n} test(s) {PROBLEM_PHRASES[k]}" for k, n in problems.items())

    def to_dict(self) -> dict:
        """grade.json: the data, with the sentences people and scripts read rendered beside it
        (the grade's status, each test's name and status); from_dict reads only the data."""
        data = asdict(self)
        data["status"], data["isolation"] = self.status, self.isolation
        for t, d in zip(self.tests, data["tests"]):
            d["name"], d["status"] = t.name, t.status
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Grade":
        data = dict(data)
        data["tests"] = [TestGrade.from_dict(t) for t in data.get("tests", [])]
        status = str(data.pop("status", ""))
        if "state" not in data:  # a grade.json written before states were data: read its sentence once, here
            data["state"] = State.GRADED if status.startswith("graded") else State.NOT_LOADED
        data["state"] = State(data["state"])
        if "reason" not in data and data["state"] != State.GRADED:
            data["reason"] = status
        said = data.pop("isolation", None)  # rendered by to_dict
        if isinstance(said, str) and "isolation_warnings" not in data:  # a record from before: its sentence
            data["isolation_note"] = said
        scopes = data.pop("cap_scopes", None)
        if any(isinstance(v, str) for v in (data.get("caps") or {}).values()):
            # written when the caps' texts and scopes were two fields (or before scopes were recorded)
            scopes = scopes if isinstance(scopes, dict) else {}
            data["caps"] = {k: {"scope": scopes.get(k, Scope.NONE.value), "how": v} for k, v in data["caps"].items()}
        return cls(**data)


def seed_for(assignment_name: str, submission_name: str, code: str, secret: str = "") -> int:
    """The seed of a submission's hidden inputs, from the course's secret, the student and their code.

    `code` is the submission's fingerprint (fingerprints.submission_fingerprint: the
    bytes handed in). The same file always draws the same inputs, so a regrade
    reproduces its grade; any change to the code draws new ones, so hard-coding
    the cases one grade's feedback revealed gains nothing on the next. The
    secret makes the draw unpredictable to anyone who holds the kit.
    """
    digest = hashlib.sha256(f"{secret}\0{assignment_name}\0{submission_name}\0{code}".encode()).hexdigest()
    return int(digest[:12], 16)


def student_seed_for(assignment_name: str, submission_name: str, secret: str = "") -> int:
    """A seed that follows the student but not their code: for draws whose verdict may depend on
    luck and reveal nothing a student could replay (the capstone's training run). Drawn again with
    each change to the code, such a check would let a student resubmit until a lucky draw."""
    digest = hashlib.sha256(f"student\0{secret}\0{assignment_name}\0{submission_name}".encode()).hexdigest()
    return int(digest[:12], 16)


def failed_grade(a: assignments.Assignment, path: Path, reason: str, seed: int, name: str | None = None,
                 isolation_level: str = "", fallbacks=(), warnings=()) -> Grade:
    """The one builder of a grade the grader failed to give: 0 with `reason`, state grader-error.

    Every path that cannot grade a submission (a batch job's exception, a
    Gradescope run that failed before or while grading) writes this Grade.
    """
    return Grade(
        name=name or submission_name(path), origin=str(path), score=0.0, max_score=a.total_points,
        reason=reason, state=State.GRADER_ERROR, seed=seed, isolation_level=isolation_level,
        isolation_fallbacks=list(fallbacks), isolation_warnings=list(warnings), by_item={q.item: 0.0 for q in a.questions},
    )
