"""Grading one submission, and a batch of them, in the trusted process.

Per submission: read it (submission.py), look at its source (static.py),
load it in a sandboxed worker (session.py), run the hidden suite and the
public tests against it (plugin.py), and share each question's points
among its tests. The result is plain data; report.py writes it out.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import assignment as assignments
from .. import course_secret
from . import plugin as grading_plugin
from . import detection, sandbox, static, submission
from .kinds import Level, Scope, State
from .errors import StudentTimeout
from .session import StudentSession


@dataclass
class TestGrade:
    name: str
    number: str
    item: str
    score: float
    max_score: float
    status: str
    visibility: str
    output: str
    kind: str
    duration: float
    mistake: str | None = None
    mistake_phrase: str | None = None


@dataclass
class Grade:
    name: str
    origin: str
    score: float
    max_score: float
    status: str
    seed: int
    isolation: str
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
    # The isolation level's name (namespace, user, none; "" if none could start) and
    # how each per-submission cap held: {"memory": "per submission (cgroup v1, ...)", ...}.
    isolation_level: str = ""
    caps: dict = field(default_factory=dict)
    # {limit: kinds.Scope value}: how far each of `caps` reaches, as data.
    cap_scopes: dict = field(default_factory=dict)
    # Numbers the hidden suite measured (accuracy, speed...): reports show them; no points.
    measures: dict = field(default_factory=dict)
    # kinds.State's value: the status as data, for every output to branch on.
    state: str = "graded"

    @property
    def graded(self) -> bool:
        return self.state == State.GRADED.value

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Grade":
        data = dict(data)
        data["tests"] = [TestGrade(**t) for t in data.get("tests", [])]
        if "state" not in data:  # a grade.json written before states were data: read its sentence once, here
            data["state"] = State.GRADED.value if str(data.get("status", "")).startswith("graded") else State.NOT_LOADED.value
        return cls(**data)


# How the status counts tests that ended abnormally. "not run" tests were given up
# on (their function had timed out and never returned): they took no time.
PROBLEM_PHRASES = {"timeout": "timeout", "notrun": "not run", "crash": "crash", "protocol": "protocol"}


def seed_for(assignment_name: str, submission_name: str, code: str, secret: str = "") -> int:
    """The seed of a submission's hidden inputs, from the course's secret, the student and their code.

    `code` is the submission's fingerprint (batch.submission_fingerprint: the
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


def code_fingerprint(path: Path) -> str:
    """What a submission's seed follows: the bytes of the file, or of the folder's files, handed in."""
    from .batch import submission_fingerprint

    return submission_fingerprint(path)


def load_reference(a: assignments.Assignment):
    path = a.reference_module
    missing = [p for p in [path, *(a.solution_dir / f"{r}.py" for r in a.requires)] if not p.is_file()]
    if missing:
        raise assignments.ConfigError(f"the reference {missing[0]} is missing; run `python -m autograder build`")
    # The reference imports the modules it requires by name: theirs, not whatever else has that name.
    saved = {r: sys.modules.get(r) for r in a.requires}
    try:
        for required in a.requires:
            sys.modules[required] = _module_from(a.solution_dir / f"{required}.py", f"reference_{a.name}_{required}")
        return _module_from(path, f"reference_{a.name}_{a.module}")
    finally:
        for required, previous in saved.items():
            if previous is None:
                sys.modules.pop(required, None)
            else:
                sys.modules[required] = previous


def load_causes(a: assignments.Assignment) -> tuple:
    """The known causes of crashes the suite lists (`CAUSES` in its crashes.py), or none.

    Loaded as a module of its package when the suite folder is one (so it
    imports the suite's mistake registry as the checks do), by path otherwise.
    """
    path = a.suite / "crashes.py"
    if not path.is_file():
        return ()
    parts, folder = [path.stem], path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    module = None
    if len(parts) > 1:
        try:
            module = importlib.import_module(".".join(parts))
        except ImportError:
            module = None
        if module is not None and Path(module.__file__).resolve() != path.resolve():
            module = None  # a package of that name elsewhere: not this suite's
    if module is None:
        module = _module_from(path, f"crashes_{a.name}")
    return tuple(getattr(module, "CAUSES", ()))


def _module_from(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Grader:
    """Grades submissions of one assignment; reusable across a batch."""

    def __init__(self, a: assignments.Assignment, secret: str | None = None, seed: int | None = None,
                 public_only: bool = False, protect=()):
        self.assignment = a
        # The CLI passes the secret it settled on; without one (check, Gradescope's run), the kit's own.
        self.secret = course_secret.value(a.root) if secret is None else secret
        self.fixed_seed = seed
        self.reference = load_reference(a)
        self.causes = load_causes(a)
        public = sorted(a.public_tests_dir.glob("test_*.py"))
        hidden = [] if public_only else sorted(a.suite.glob("test_*.py"))
        if not public_only and not hidden:
            raise assignments.ConfigError(f"no hidden suite files (test_*.py) in {a.suite}")
        self.files = hidden + public
        self.rootdir = Path(os.path.commonpath([str(p.parent) for p in self.files]))
        # Everything student code must not see, for the sandbox to hide or check
        # (with the batch's output folder, which holds every student's results).
        self.protected = a.private_paths + [Path(p) for p in protect]
        # Probing the sandbox starts a worker (~0.1-0.2 s), in a thread while pytest starts
        # and collects (or earlier: the CLI starts it first); that worker, left running,
        # then serves the first submission.
        self._detection, self._ready = detection.detect_soon(
            self.protected, sandbox.worker_setup(a.limits, a.banned_imports, a.banned_why, a.sandbox_packages)
        )

    @property
    def isolation(self) -> sandbox.Isolation:
        """The sandbox level; raises what detection raised (no level works here, say)."""
        return self._detection.result()

    def _take_ready(self):
        try:
            return self._ready.pop()
        except IndexError:
            return None

    def close(self) -> None:
        """Stop a worker left ready and never used (the batch had nothing to load)."""
        if self._detection.done():
            while (worker := self._take_ready()) is not None:
                worker.close()

    def seed(self, name: str, path: Path) -> int:
        """`--seed` when given, else the seed of this student's code at `path`."""
        if self.fixed_seed is not None:
            return self.fixed_seed
        return seed_for(self.assignment.name, name, code_fingerprint(path), self.secret)

    def student_seed(self, name: str) -> int:
        """`--seed` when given, else this student's seed, whatever their code (student_seed_for)."""
        if self.fixed_seed is not None:
            return self.fixed_seed
        return student_seed_for(self.assignment.name, name, self.secret)

    def failed(self, path: Path, reason: str, name: str | None = None) -> Grade:
        """failed_grade with this grader's seed and isolation (or why there is none)."""
        name = name or submission.submission_name(path)
        try:
            summary, level = self.isolation.summary(), self.isolation.level.value
        except Exception as exc:  # noqa: BLE001 - a failed grade must still be written
            summary, level = f"none: {exc}", ""
        return failed_grade(self.assignment, path, reason, self.seed(name, path), name, summary, level)

    def grade(self, path: Path, handout: Path | None = None, name: str | None = None,
              seed_as: tuple[str, Path] | None = None) -> Grade:
        """Grade the submission at `path`; its seeds are those of `seed_as` (a name and the files
        handed in) when given (Gradescope grades a zip found in the folder a regrade seeds from)."""
        started = time.monotonic()
        a = self.assignment
        handout = handout or (a.template_dir / f"{a.module}.py")
        # Outside a namespace sandbox, a classmate's worker could read this file: refuse instead.
        detection.require_hidden(self.isolation, [path])
        sub = submission.resolve(Path(path), a.module, a.notebook, handout, name, requires=a.requires)
        seed_name, seed_path = seed_as or (sub.name, path)
        seed = self.seed(seed_name, seed_path)
        session = StudentSession(sub, self._detection, a.limits, a.banned_imports, a.banned_why, seed,
                                 a.sandbox_packages)
        findings = list(sub.findings)
        references, texts = {}, []
        if sub.problem:
            session.refuse(f"the submission could not be read: {sub.problem}")
        else:
            findings += (static.scan_cells(sub.cells, a.banned_imports) if sub.kind == "notebook"
                         else static.scan(sub.source, a.banned_imports))
            for _, _, source in sub.modules:
                findings += static.scan(source, a.banned_imports)
            texts = [source for _, source in sub.cells] if sub.kind == "notebook" else [sub.source]
            texts += [source for _, _, source in sub.modules]
            references = static.references(texts, [q.item for q in a.questions])
            # The worker starts while pytest collects; the first test loads the
            # submission, and a load error then fails every test at once.
            session.prestart(background=True, ready=self._take_ready)
        plugin = grading_plugin.GradingPlugin(
            session, self.reference, a.contract, a.questions, a.public_tests_dir, seed, a.limits,
            student_seed=self.student_seed(seed_name), crash_causes=self.causes, references=references,
            sources=texts,
        )
        try:
            grading_plugin.run_suite(plugin, self.files, self.rootdir)
        finally:
            session.close()
        self.isolation  # noqa: B018 - if no sandbox could start, this is a grader error, not a grade
        grade = self._score(sub, plugin, session, seed)
        grade.findings = findings
        grade.execution_time = round(time.monotonic() - started, 3)
        return grade

    def _score(self, sub, plugin, session, seed) -> Grade:
        a = self.assignment
        plugin.resolve_candidates()
        plugin.withhold_unmet()
        plugin.name_followers()
        outcomes = sorted(plugin.outcomes.values(), key=lambda o: o.order)
        weights: dict[str, float] = {}
        for o in outcomes:
            weights[o.item] = weights.get(o.item, 0.0) + o.weight
        tests, by_item, counters = [], {q.item: 0.0 for q in a.questions}, {}
        for o in outcomes:
            q_index = [q.item for q in a.questions].index(o.item)
            counters[o.item] = counters.get(o.item, 0) + 1
            max_score = a.question(o.item).points * o.weight / weights[o.item] if weights[o.item] else 0.0
            score = max_score if o.passed else 0.0
            by_item[o.item] += score
            tests.append(TestGrade(
                name=f"{o.item}: {o.title}",
                number=f"{q_index + 1}.{counters[o.item]}",
                item=o.item,
                score=round(score, 6),
                max_score=round(max_score, 6),
                status="passed" if o.passed else "failed",
                visibility=o.visibility,
                output="" if o.passed else o.message,
                kind=o.kind,
                duration=round(o.duration, 4),
                mistake=o.mistake,
                mistake_phrase=o.mistake_phrase,
            ))
        total = round(sum(by_item.values()), 2)
        state = State.GRADED
        if session.load_error is not None:
            status = str(session.load_error)
            state = State.LOAD_TIMEOUT if isinstance(session.load_error, StudentTimeout) else State.NOT_LOADED
        else:
            problems = {}
            for t in tests:
                if t.kind in PROBLEM_PHRASES:
                    problems[t.kind] = problems.get(t.kind, 0) + 1
            status = "graded" + "".join(f"; {n} test(s) {PROBLEM_PHRASES[k]}" for k, n in problems.items())
        # Seen from outside, in each worker's /proc status: the filter held in every worker that ran.
        ran = session.transcript.filtered
        filtered = bool(ran) and all(ran)
        if filtered:
            syscall_cap = f"seccomp filter in every worker: {self.isolation.seccomp_about}"
        elif self.isolation.seccomp is None:
            syscall_cap = f"none: {self.isolation.seccomp_about}"
        else:
            syscall_cap = ("none: no worker ran" if not ran else
                           f"none: the seccomp filter did not hold in {ran.count(False)} of {len(ran)} workers")
        return Grade(
            name=sub.name,
            origin=str(sub.origin),
            score=total,
            max_score=a.total_points,
            status=status,
            state=state.value,
            seed=seed,
            isolation=self.isolation.summary(),
            isolation_level=self.isolation.level.value,
            caps={**session.caps.levels, "disk": "RAM folders of {} MB each".format(a.limits.disk_mb)
                  if self.isolation.level == Level.NAMESPACE else
                  f"host disk, {a.limits.file_size_mb} MB per file, stopped past {a.limits.disk_mb} MB",
                  "syscalls": syscall_cap},
            cap_scopes={**{k: v.value for k, v in session.caps.scopes.items()}, "disk": Scope.WORKER.value,
                        "syscalls": (Scope.PROCESS if filtered else Scope.NONE).value},
            tests=tests,
            by_item={k: round(v, 2) for k, v in by_item.items()},
            events=session.transcript.all_events(),
            notes=sub.notes,
            cell_errors=session.transcript.cell_errors,
            printed="\n".join(session.transcript.printed)[-20000:],
            timing={k: [round(x, 4) for x in v] for k, v in session.transcript.timing.items()},
            kind=sub.kind,
            measures=plugin.measures(),
        )


def failed_grade(a: assignments.Assignment, path: Path, reason: str, seed: int, name: str | None = None,
                 isolation: str = "", isolation_level: str = "") -> Grade:
    """The one builder of a grade the grader failed to give: 0 with `reason`, state grader-error.

    Every path that cannot grade a submission (a batch job's exception, a
    Gradescope run that failed before or while grading) writes this Grade.
    """
    return Grade(
        name=name or submission.submission_name(path), origin=str(path), score=0.0, max_score=a.total_points,
        status=reason, state=State.GRADER_ERROR.value, seed=seed, isolation=isolation,
        isolation_level=isolation_level, by_item={q.item: 0.0 for q in a.questions},
    )
