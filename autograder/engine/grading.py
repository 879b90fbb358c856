"""Grading one submission, and a batch of them, in the trusted process.

Per submission: read it (submission.py), look at its source (static.py),
load it in a sandboxed worker (session.py), run the hidden suite and the
public tests against it (plugin.py), and share each question's points
among its tests. The result is plain data; report.py writes it out.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path

from .. import assignment as assignments
from .. import course_secret
from . import plugin as grading_plugin
from . import detection, sandbox, static, submission
from .fingerprints import submission_fingerprint
from .errors import StudentTimeout
from .kinds import Level, Scope, State
from .results import Grade, TestGrade, failed_grade, seed_for, student_seed_for
from .session import StudentSession
from .worker_process import WorkerProcess


def code_fingerprint(path: Path) -> str:
    """What a submission's seed follows: the bytes of the file, or of the folder's files, handed in."""
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
        self.protected = detection.protected_of(a, protect)
        # Probing the sandbox starts a worker (~0.1-0.2 s), in a thread while pytest starts
        # and collects (or earlier: the CLI starts it first); that worker, left running,
        # then serves the first submission.
        self._setup = detection.setup_of(a)
        self._detection, self._ready = detection.detect_soon(self.protected, self._setup)  # as detection.probe(a, protect)
        self._closed = False
        self._ready_lock = threading.Lock()  # start_next's thread against close()

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
        with self._ready_lock:
            self._closed = True
        if self._detection.done():
            while (worker := self._take_ready()) is not None:
                worker.close()

    def start_next(self) -> None:
        """Start the worker the next grading will use, in the background (a warm grader).

        A new process each time, never one that ran a submission: nothing carries over from
        one grading to the next. The next grading joins it to its caps as it does the probe's.
        One waits at most: a grading that takes none (an unreadable submission) leaves it for the next.
        """
        if self._ready or self._closed:
            return

        def start():
            worker = None
            try:
                worker = WorkerProcess(self.isolation, self._setup)
                worker.start()
            except Exception:  # noqa: BLE001 - the next grading starts its own and meets the error there
                if worker is not None:
                    worker.close()
                return
            with self._ready_lock:
                if not self._closed:
                    self._ready.append(worker)
                    return
            worker.close()

        threading.Thread(target=start, name="autograder-next-worker", daemon=True).start()

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
            iso = self.isolation
            level, fallbacks, warnings = iso.level.value, iso.fallbacks, iso.warnings
        except Exception as exc:  # noqa: BLE001 - a failed grade must still be written
            level, fallbacks, warnings = "", [], [str(exc)]
        return failed_grade(self.assignment, path, reason, self.seed(name, path), name, level, fallbacks, warnings)

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
                item=o.item,
                title=o.title,
                number=f"{q_index + 1}.{counters[o.item]}",
                score=round(score, 6),
                max_score=round(max_score, 6),
                visibility=o.visibility,
                output="" if o.passed else o.message,
                kind=o.kind,
                duration=round(o.duration, 4),
                mistake=o.mistake,
                mistake_phrase=o.mistake_phrase,
            ))
        total = round(sum(by_item.values()), 2)
        state, reason = State.GRADED, ""
        if session.load_error is not None:
            reason = str(session.load_error)
            state = State.LOAD_TIMEOUT if isinstance(session.load_error, StudentTimeout) else State.NOT_LOADED
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
            state=state,
            reason=reason,
            seed=seed,
            isolation_level=self.isolation.level.value,
            isolation_fallbacks=list(self.isolation.fallbacks),
            isolation_warnings=list(self.isolation.warnings),
            caps={**{k: {"scope": session.caps.scopes[k].value, "how": how} for k, how in session.caps.levels.items()},
                  "disk": {"scope": Scope.WORKER.value,
                           "how": f"RAM folders of {a.limits.disk_mb} MB each" if self.isolation.level == Level.NAMESPACE
                           else f"host disk, {a.limits.file_size_mb} MB per file, stopped past {a.limits.disk_mb} MB"},
                  "syscalls": {"scope": (Scope.PROCESS if filtered else Scope.NONE).value, "how": syscall_cap}},
            tests=tests,
            by_item={k: round(v, 2) for k, v in by_item.items()},
            events=session.transcript.all_events(),
            notes=sub.notes,
            cell_errors=session.transcript.cell_errors,
            printed="\n".join(session.transcript.printed)[-20000:],
            timing={**{k: [round(x, 4) for x in v] for k, v in session.transcript.timing.items()},
                    "round_trips": session.transcript.round_trips},
            kind=sub.kind,
            measures=plugin.measures(),
        )
