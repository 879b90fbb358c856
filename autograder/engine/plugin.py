"""The pytest plugin that turns a suite run into per-test grades.

It supplies the fixtures (`student`, `reference`, `rng`, and one per
contract name for the public tests), gives every test its time budget, and
records each outcome with a message fit for the student: the assertion's
own message or the student's error, never the suite's source or traceback.
"""

from __future__ import annotations

import os
import time
import types
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from . import causes
from .errors import StudentError
from .kinds import TestKind
from .session import StudentModule, StudentSession


@dataclass
class TestOutcome:
    nodeid: str
    item: str
    title: str
    weight: float
    visibility: str
    passed: bool = False
    kind: TestKind = TestKind.PASS
    message: str = ""
    duration: float = 0.0
    order: tuple = field(default_factory=tuple)
    # The known mistake the failure matched (a suite's id for it), as data.
    mistake: str | None = None
    mistake_phrase: str | None = None
    # The mistake was found by another check this one builds on or follows from (named here as the cause).
    derived: bool = False
    # (id, phrase) of each known mistake the output matched alike, when it matched several.
    candidates: tuple = ()
    # Checks of the same file whose passing this one's points wait for.
    depends: tuple = ()
    function: str = ""
    file: str = ""
    # What the check measured, for reports (no points): suite.record(request, name, value).
    measures: dict = field(default_factory=dict)


def _first_named(outcomes):
    """The first of `outcomes` whose mistake its own check found, else the first with any mistake:
    the deepest cause is the one to name (a layer's check, not the training that waits for it)."""
    return next((o for o in outcomes if o.mistake and not o.derived), None) or next(
        (o for o in outcomes if o.mistake), None)


def failure_message(failure: BaseException) -> str:
    """What the student reads of a check's failure: a suite's CheckFailed put together from its parts
    (what was wrong, what to do, the known mistake or mistakes its output matches); any other
    assertion's own text."""
    rationale = getattr(failure, "rationale", None)
    if rationale is None:
        return str(failure)
    said = [rationale, failure.help]
    if failure.mistake:
        said.append(f"It matches what you get if you {failure.phrase}.")
    elif failure.candidates:
        either = ", or if you ".join(phrase for _, phrase in failure.candidates)
        said.append(f"It matches what you get if you {either}: these inputs cannot tell them apart.")
    return " ".join(part for part in said if part)


def _title(item: pytest.Item) -> str:
    doc = (getattr(item.obj, "__doc__", None) or "").strip()
    if doc:
        return doc.splitlines()[0].rstrip(".")
    return item.name.removeprefix("test_").replace("_", " ")


class GradingPlugin:
    def __init__(self, session: StudentSession, reference, contract, questions, public_dir: Path, seed: int, limits,
                 student_seed: int | None = None, crash_causes=(), references=None, sources=()):
        self.session = session
        # The suite's known causes of crashes (causes.Cause), tried in order on each error of the student's code.
        self.causes = tuple(crash_causes)
        self.reference = reference
        self.questions = [q.item for q in questions]
        self.uses = {q.item: tuple(getattr(q, "uses", ())) for q in questions}
        # What each question's definition in the student's code refers to (static.references),
        # and the code's texts (a cause may look for a line that ran before the crash).
        self.references = references or {}
        self.sources = tuple(sources)
        self.public_dir = public_dir.resolve()
        self.seed = seed
        self.student_seed = seed if student_seed is None else student_seed
        self.limits = limits
        self.outcomes: dict[str, TestOutcome] = {}
        self.problems: list[str] = []
        self.fixtures = self._fixture_module(contract)

    def _fixture_module(self, contract):
        """Fixtures live in a module object: pytest reads fixtures from plugin modules."""
        fixtures = types.ModuleType("autograder_fixtures")
        student = StudentModule(self.session)

        def make(name):
            @pytest.fixture(name=name)
            def provide():
                return getattr(student, name)

            return provide

        for name in contract:
            setattr(fixtures, f"contract_{name}", make(name))

        @pytest.fixture(name="student")
        def student_fixture():
            return student

        @pytest.fixture(name="reference", scope="session")
        def reference_fixture():
            return self.reference

        @pytest.fixture(name="rng")
        def rng_fixture(request):
            return np.random.default_rng([self.seed, zlib.crc32(request.node.name.encode())])

        # Draws that follow the student but not the code (grading.student_seed_for says which).
        @pytest.fixture(name="student_rng")
        def student_rng_fixture(request):
            return np.random.default_rng([self.student_seed, zlib.crc32(request.node.name.encode())])

        fixtures.student_fixture = student_fixture
        fixtures.reference_fixture = reference_fixture
        fixtures.rng_fixture = rng_fixture
        fixtures.student_rng_fixture = student_rng_fixture
        return fixtures

    # -- collection ----------------------------------------------------
    def pytest_configure(self, config):
        config.pluginmanager.register(self.fixtures, "autograder-fixtures")
        # Tracebacks are never shown (they would reveal the suite), so pytest's cheapest style will do.
        config.option.tbstyle = "line"
        config.addinivalue_line("markers", "grade(item, weight, seconds): the question a check grades")

    def pytest_collection_modifyitems(self, session, config, items):
        for position, item in enumerate(items):
            path = Path(str(item.path)).resolve()
            marker = item.get_closest_marker("grade")
            depends = ()
            if path.parent == self.public_dir:
                # Public checks earn no points: their inputs and expected outputs ship
                # with the handout, so a lookup table would pass them. They run, and
                # are shown, so a student sees the grader agree with the handout.
                question = path.stem.removeprefix("test_")
                weight, visibility = 0.0, "visible"
            elif marker is not None:
                question = marker.kwargs.get("item")
                weight, visibility = float(marker.kwargs.get("weight", 1.0)), "after_published"
                depends = tuple(marker.kwargs.get("depends", ()))
            else:
                self.problems.append(f"{item.nodeid} has no @check(...) naming the question it grades")
                continue
            if question not in self.questions:
                self.problems.append(f"{item.nodeid} grades '{question}', which is not a question of the config")
                continue
            outcome = TestOutcome(item.nodeid, question, _title(item), weight, visibility, depends=depends,
                                  function=getattr(item, "originalname", item.name), file=str(path))
            outcome.order = (self.questions.index(question), visibility != "visible", position)
            self.outcomes[item.nodeid] = outcome
        items.sort(key=lambda i: self.outcomes[i.nodeid].order if i.nodeid in self.outcomes else (999,))
        for outcome in self.outcomes.values():
            for name in outcome.depends:
                if not self._checks_named(outcome.file, name):
                    where = "the suite" if "::" in name else "its file"
                    self.problems.append(f"{outcome.nodeid} depends on '{name}', which is not a check of {where}")

    def _checks_named(self, file: str, name: str) -> list[TestOutcome]:
        """Every outcome of the check function `name` in `file` (several when it is parametrized);
        "test_other.py::name" names a check of another file in the same folder."""
        if "::" in name:
            other, name = name.split("::", 1)
            file = str(Path(file).parent / other)
        return [o for o in self.outcomes.values() if o.file == file and o.function == name]

    def withhold_unmet(self) -> None:
        """Fail each passed check whose dependencies did not all pass (repeated: chains settle)."""
        changed = True
        while changed:
            changed = False
            for outcome in self.outcomes.values():
                if not outcome.passed:
                    continue
                unmet = self._failed_dependencies(outcome)
                if unmet:
                    # It passed, but what it checks (an error raised, a shape) a stub could do too.
                    outcome.passed, outcome.kind, changed = False, TestKind.UNMET, True
                    titles = list(dict.fromkeys(self._title_of(u, outcome.item) for u in unmet))
                    these = "this check passes" if len(titles) == 1 else "these checks pass"
                    outcome.message = f"counts only once {these} too: " + "; ".join(titles)
                    # What those checks found is what to fix for this one's points too (a training that
                    # waits for Adam's check: "you leave out the bias correction").
                    named = _first_named(unmet)
                    if named is not None:
                        outcome.mistake, outcome.mistake_phrase = named.mistake, named.mistake_phrase
                        outcome.derived = True

    def resolve_candidates(self) -> None:
        """A failure that matched several known mistakes alike takes the one the question's other checks
        name on their own (inputs that tell them apart); with none, it stays unnamed. Call first."""
        for outcome in self.outcomes.values():
            if outcome.passed or outcome.mistake or not outcome.candidates:
                continue
            ids = [ident for ident, _ in outcome.candidates]
            # Its own question's checks first, then those of the questions its code calls (a layer's backward
            # matching both "the layer drops its stride" and the function's own mistake: the function's checks say).
            items = [outcome.item, *self._called_uses(outcome.item)]
            told = next((o for item in items for o in self.outcomes.values() if o.item == item and not o.passed
                         and not o.derived and not o.candidates and o.mistake in ids), None)
            if told is not None:
                outcome.mistake, outcome.mistake_phrase, outcome.derived = told.mistake, told.mistake_phrase, True
                where = outcome.item if told.item == outcome.item else told.item
                outcome.message += f" Your checks of {where} tell them apart: you {told.mistake_phrase}."

    def name_followers(self) -> None:
        """A failure with no named cause, of a question whose code calls another one that fails too, says so.

        The first failing question it may use (the config's `uses`, in order)
        that the student's definition really refers to (static.references) is
        named, with the mistake its own checks found: a ceil in conv_output_size
        shows up as wrong shapes and crashes in every function that calls it,
        and is what to fix first. Call after withhold_unmet.
        """
        failing = {}
        for o in sorted(self.outcomes.values(), key=lambda o: o.order):
            # Only a failure of values explains another's: not refusing a bad argument explains nothing.
            if not o.passed and o.kind != TestKind.UNMET and o.weight > 0 and o.mistake not in causes.ERROR_PATHS:
                failing.setdefault(o.item, []).append(o)
        # In the config's order: a question named from the one it uses is named in turn to the next
        # (Conv2d, from conv2d_forward, from conv_output_size's ceil).
        for outcome in sorted(self.outcomes.values(), key=lambda o: o.order):
            if outcome.passed or outcome.mistake or outcome.kind not in (TestKind.FAIL, TestKind.ERROR):
                continue
            # A check that waits for others (training waits for its layers' checks) and fails itself:
            # the failing checks it depends on come first, a named one first of all.
            unmet = self._failed_dependencies(outcome)
            if any(o.message == outcome.message for o in unmet):
                continue  # the same failure (a stub's NotImplementedError): nothing more to say
            if unmet:
                first = _first_named(unmet) or unmet[0]
                why = f" (you {first.mistake_phrase})" if first.mistake else ""
                outcome.message = (f"{outcome.message.rstrip('.')}. This may follow from a check it builds on, which "
                                   f"fails: {self._title_of(first, outcome.item, mistake=False)}{why}; "
                                   f"fix that first.")
                if first.mistake:
                    outcome.mistake, outcome.mistake_phrase, outcome.derived = first.mistake, first.mistake_phrase, True
                continue
            used = next((u for u in self._called_uses(outcome.item) if u in failing), None)
            if used is None:
                continue
            named = _first_named(failing[used])
            why = f" (you {named.mistake_phrase})" if named is not None else ""
            outcome.message = (f"{outcome.message.rstrip('.')}. This may follow from {used}, which your "
                               f"{outcome.item} calls and which fails its own checks{why}: fix {used} first.")
            if named is not None:
                outcome.mistake, outcome.mistake_phrase, outcome.derived = named.mistake, named.mistake_phrase, True

    def _failed_dependencies(self, outcome: TestOutcome) -> list[TestOutcome]:
        """The outcomes of the checks `outcome` depends on that did not pass, in `depends` order."""
        return [o for name in outcome.depends for o in self._checks_named(outcome.file, name) if not o.passed]

    def _called_uses(self, item: str) -> list[str]:
        """The questions `item` may use (the config's `uses`, in order) that the student's definition refers to."""
        called = self.references.get(item, set())
        return [u for u in self.uses.get(item, ()) if u in called]

    @staticmethod
    def _title_of(dependency: TestOutcome, item: str, mistake: bool = True) -> str:
        """A dependency as a message names it: its question (when another), title, and mistake."""
        title = dependency.title if dependency.item == item else f"{dependency.item}: {dependency.title}"
        return f"{title} (it fails: you {dependency.mistake_phrase})" if mistake and dependency.mistake_phrase else title

    def measures(self) -> dict:
        """What the checks recorded (suite.record), from those that earned their points only, their
        dependencies included (call withhold_unmet first): a report then ranks or draws no number of
        work that earned nothing, such as a time of wrong answers or a model the check did not accept."""
        return {k: v for o in sorted(self.outcomes.values(), key=lambda o: o.order) if o.passed
                for k, v in o.measures.items()}

    # -- running -------------------------------------------------------
    def _seconds(self, item) -> float:
        marker = item.get_closest_marker("grade")
        seconds = marker.kwargs.get("seconds") if marker is not None else None
        return float(seconds or self.limits.test_seconds)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        # A replacement worker is made ready before the clock starts, so a
        # restart after another test's timeout costs this test nothing.
        if self.session.load_error is None:
            try:
                self.session.ensure_worker()
            except StudentError:
                pass  # the test's first call raises it again, with the reason
        self.session.begin_test(self._seconds(item))
        try:
            yield
        finally:
            self.session.end_test_body()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        outcome = self.outcomes.get(item.nodeid)
        if outcome is None:
            return
        if call.when == "call":
            outcome.duration = call.duration
            outcome.measures.update(report.user_properties)
        if report.passed and call.when == "call":
            outcome.passed = self.session.incident is None
        if report.failed or (call.when == "call" and self.session.incident is not None):
            if outcome.kind == TestKind.PASS or call.when == "call":
                outcome.passed = False
                outcome.kind, outcome.message = self._explain(call.excinfo)
                outcome.mistake = getattr(call.excinfo.value, "mistake", None) if call.excinfo else None
                outcome.mistake_phrase = getattr(call.excinfo.value, "phrase", None) if call.excinfo else None
                outcome.candidates = tuple(getattr(call.excinfo.value, "candidates", ())) if call.excinfo else ()
                if outcome.mistake is None and call.excinfo is not None:
                    self._name_crash(outcome, call.excinfo.value)
        if call.when == "teardown":
            self.session.end_test()

    def _name_crash(self, outcome: TestOutcome, exc) -> None:
        """Name the cause of the student's error (the suite's causes), when one matches."""
        error = getattr(exc, "origin", None) or exc  # a load error names what raised while loading
        if self.session.incident is not None or not isinstance(error, StudentError) or not error.type_name:
            return
        named = causes.name_crash(error, self.causes, self.sources)
        if named is None:
            return
        outcome.mistake, outcome.mistake_phrase = named.id, named.phrase
        if error is exc:  # the error's own text, cut short so that the cause is read, not lost after it
            text = error.message if len(error.message) <= 300 else error.message[:300].rstrip() + " ..."
            said = f"{error.type_name}: {text}" + (f" (at {error.where})" if error.where else "")
            outcome.message = f"your code raised {said}"
        outcome.message = f"{outcome.message.rstrip('.')}. This is what happens when you {named.phrase}."

    def _explain(self, excinfo) -> tuple[TestKind, str]:
        incident = self.session.incident
        if incident is not None:
            return incident.kind, str(incident)
        if excinfo is None:
            return TestKind.FAIL, "the check failed"
        exc = excinfo.value
        if isinstance(exc, StudentError):
            return exc.kind, f"your code raised {exc}" if exc.kind == TestKind.ERROR and exc.type_name else str(exc)
        if isinstance(exc, AssertionError):
            return TestKind.FAIL, failure_message(exc).strip() or "the check failed"
        if isinstance(exc, pytest.fail.Exception):
            return TestKind.FAIL, str(exc)
        # The suite stumbled over what the student returned (None.shape, say).
        return TestKind.FAIL, f"the result could not be checked ({type(exc).__name__}: {str(exc)[:300]})"


def run_suite(plugin: GradingPlugin, files: list[Path], rootdir: Path) -> None:
    """Run the suite files in this process; results land in plugin.outcomes."""
    args = [
        *map(str, files),
        "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:stepwise", "-p", "no:warnings",
        # Per-test log capture, and a full gc.collect() at the end of each run
        # (unraisableexception), cost time per submission and report nothing we grade.
        "-p", "no:logging", "-p", "no:unraisableexception", "-p", "no:threadexception",
        "-p", "no:doctest", "-p", "no:pastebin", "-p", "no:junitxml",
        "--assert=plain", "--import-mode=importlib", "-s",
        "--rootdir", str(rootdir), "--confcutdir", str(rootdir), "-o", "addopts=", "-o", "python_files=test_*.py",
        "-o", "console_output_style=classic",
    ]
    started = time.monotonic()
    # Only our plugin: a pytest plugin that happens to be installed (pytest-randomly
    # reseeds and reorders tests, say) must not change a grade, and finding them all
    # through package metadata costs time per submission.
    autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        code = pytest.main(args, plugins=[plugin])
    finally:
        if autoload is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = autoload
    if code not in (0, 1) or plugin.problems:
        detail = "; ".join(plugin.problems) or f"pytest exited with code {int(code)}"
        raise RuntimeError(f"the hidden suite could not run ({detail}, after {time.monotonic() - started:.1f} s)")
