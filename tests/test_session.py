"""Unit tests of the grader's side of a worker: StudentSession, Budget and Transcript.

The worker is worker.py's own handler run in this process on a fake clock (tests/inprocess.py),
so these tests are quick and exact about time; the sandbox's part is tested end to end in
test_hostile.py and test_integrity.py.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from autograder.assignment import Limits
from autograder.engine.budget import Budget
from autograder.engine.errors import NotRun, StudentError, StudentTimeout, WorkerDied
from autograder.engine.kinds import Event
from autograder.engine.session import StudentModule, StudentSession
from autograder.engine.submission import Submission
from autograder.engine.transcript import MAX_EVENTS, Transcript

from inprocess import Clock, install

_names = itertools.count()

SOURCE = '''
def double(x):
    return 2 * x

def slow(x):
    return x

def picky(x):
    if x < 0:
        raise ValueError("x must not be negative")
    return x
'''


def module_submission(source: str = SOURCE) -> Submission:
    # A fresh module name each time: the in-process worker registers it in sys.modules.
    name = f"unit_student_{next(_names)}"
    return Submission(name="unit", origin=Path("unit.py"), kind="module", display="unit.py",
                      module_name=name, source=source)


def notebook_submission(cells: list[str]) -> Submission:
    name = f"unit_student_{next(_names)}"
    labels = [(f"code cell {i + 1}", source) for i, source in enumerate(cells)]
    return Submission(name="unit", origin=Path("unit.ipynb"), kind="notebook", display="unit.ipynb",
                      module_name=name, cells=labels)


def session_for(sub: Submission, **limits) -> StudentSession:
    return StudentSession(sub, iso=None, limits=Limits(**limits), banned=(), banned_why="", seed=7)


@pytest.fixture
def clock(monkeypatch):
    return Clock()


def costing(**seconds):
    """A cost function: calls to the named functions (and cells) take that many seconds."""
    return lambda op, name: seconds.get(name, 0.0) if op in ("call", "cell") else 0.0


# -- the per-test budget ------------------------------------------------------------------
def test_only_time_inside_calls_counts_against_a_test(monkeypatch, clock):
    install(monkeypatch, clock, cost=costing(slow=0.4))
    session = session_for(module_submission(), test_seconds=1.0)
    student = StudentModule(session)
    session.begin_test(1.0)
    assert student.slow(1) == 1
    clock.advance(30)  # the grader's own work between calls (the reference, gradients)
    assert student.slow(2) == 2
    with pytest.raises(StudentTimeout, match="timed out after 1 s"):
        student.slow(3)  # 0.2 s left, the call needs 0.4
    assert session.incident is not None and session.incident.kind == "timeout"


def test_after_a_timeout_the_test_calls_nothing_more(monkeypatch, clock):
    workers = install(monkeypatch, clock, cost=costing(slow=5))
    session = session_for(module_submission())
    student = StudentModule(session)
    session.begin_test(1.0)
    with pytest.raises(StudentTimeout):
        student.slow(1)
    sent = sum(len(w.requests) for w in workers)
    # The same reason again, even for a quick function, without asking any worker.
    with pytest.raises(StudentTimeout, match="timed out after 1 s"):
        student.double(1)
    assert sum(len(w.requests) for w in workers) == sent


def test_the_next_test_gets_a_fresh_worker_and_a_full_budget(monkeypatch, clock):
    workers = install(monkeypatch, clock, cost=costing(slow=5))
    session = session_for(module_submission())
    student = StudentModule(session)
    session.begin_test(1.0)
    with pytest.raises(StudentTimeout):
        student.slow(1)
    session.end_test()
    session.begin_test(1.0)
    assert student.double(21) == 42
    assert len(workers) == 2 and workers[0].closed


def test_a_tests_incident_ends_with_it(monkeypatch, clock):
    install(monkeypatch, clock, cost=costing(slow=5))
    session = session_for(module_submission())
    student = StudentModule(session)
    session.begin_test(1.0)
    with pytest.raises(StudentTimeout):
        student.slow(1)
    session.end_test()
    # The next test's fixtures run before begin_test: what they meet is theirs.
    assert session.incident is None
    assert student.double(3) == 6


def test_teardown_calls_get_an_allowance_of_their_own(monkeypatch, clock):
    install(monkeypatch, clock, cost=costing(slow=0.6))
    session = session_for(module_submission())
    student = StudentModule(session)
    session.begin_test(1.0)
    assert student.slow(1) == 1  # 0.4 s of the test's second left
    session.end_test_body()
    assert student.slow(2) == 2  # a fixture's teardown: not the test's time
    assert session.incident is None


def test_after_a_crash_the_test_calls_nothing_more_and_the_next_test_restarts(monkeypatch, clock):
    workers = install(monkeypatch, clock, crash={"boom"})
    session = session_for(module_submission(SOURCE + "\ndef boom():\n    pass\n"))
    student = StudentModule(session)
    session.begin_test(1.0)
    with pytest.raises(WorkerDied) as crashed:
        student.boom()
    with pytest.raises(WorkerDied) as again:
        student.double(1)  # the crash again, without a restart
    assert again.value is crashed.value and len(workers) == 1
    session.end_test()
    assert workers[0].closed  # retired at the test's end, before the next one's clock
    session.begin_test(1.0)
    assert student.double(1) == 2
    assert len(workers) == 2


def test_a_worker_broken_outside_a_test_body_is_restarted_by_the_next_call(monkeypatch, clock):
    workers = install(monkeypatch, clock, crash={"boom"})
    session = session_for(module_submission(SOURCE + "\ndef boom():\n    pass\n"))
    student = StudentModule(session)
    with pytest.raises(WorkerDied):
        student.boom()  # a fixture's set-up, say
    assert student.double(1) == 2
    assert len(workers) == 2 and workers[0].closed


def test_a_submission_runs_out_of_its_own_time_before_its_tests_do(monkeypatch, clock):
    install(monkeypatch, clock, cost=costing(slow=0.6))
    session = session_for(module_submission(), submission_seconds=1.0)
    student = StudentModule(session)
    session.begin_test(5.0)
    assert student.slow(1) == 1
    session.end_test()
    session.begin_test(5.0)
    with pytest.raises(NotRun, match="used up its 1 s"):
        student.slow(2)  # 0.4 s of the submission's second left
    assert session.incident.kind == "notrun"
    session.end_test()
    session.begin_test(5.0)
    with pytest.raises(NotRun):
        student.double(1)  # nothing more of it runs, not even a restart


def test_a_function_that_never_returned_is_given_up_after_two_timeouts(monkeypatch, clock):
    workers = install(monkeypatch, clock, cost=costing(slow=9))
    session = session_for(module_submission(), give_up_after_timeouts=2)
    student = StudentModule(session)
    for seconds in (1.0, 2.0):
        session.begin_test(seconds)
        with pytest.raises(StudentTimeout):
            student.slow(1)
        session.end_test()
    calls = sum(w.ops().count("call") for w in workers)
    session.begin_test(5.0)  # the limits it ran out of are named, not this test's
    with pytest.raises(NotRun, match="slow was stopped after 1 s or 2 s in 2 earlier test"):
        student.slow(1)
    assert sum(w.ops().count("call") for w in workers) == calls
    session.end_test()
    session.begin_test(1.0)
    assert student.double(2) == 4  # other functions are still called


def test_a_function_that_returned_once_is_never_given_up(monkeypatch, clock):
    slow_seconds = {"slow": 0.1}
    install(monkeypatch, clock, cost=lambda op, name: slow_seconds.get(name, 0.0) if op == "call" else 0.0)
    session = session_for(module_submission(), give_up_after_timeouts=1)
    student = StudentModule(session)
    session.begin_test(1.0)
    assert student.slow(1) == 1
    session.end_test()
    slow_seconds["slow"] = 9
    for _ in range(2):
        session.begin_test(1.0)
        with pytest.raises(StudentTimeout):  # timed out, not "not run": it did return before
            student.slow(1)
        session.end_test()


# -- what comes back --------------------------------------------------------------------------
def test_a_student_exception_is_the_builtin_it_derives_from(monkeypatch, clock):
    install(monkeypatch, clock)
    session = session_for(module_submission(SOURCE + "\nclass SizeError(ValueError):\n    pass\n"
                                            "def sized(n):\n    raise SizeError('too big')\n"))
    student = StudentModule(session)
    session.begin_test(1.0)
    with pytest.raises(ValueError, match="must not be negative") as raised:
        student.picky(-1)
    assert isinstance(raised.value, StudentError) and raised.value.kind == "error"
    assert "unit.py, line" in raised.value.where
    with pytest.raises(ValueError, match="too big") as raised:
        student.sized(3)
    assert raised.value.type_name == "SizeError"
    assert session.incident is None  # raising is an answer, not an incident


def test_a_missing_name_says_which_and_where(monkeypatch, clock):
    install(monkeypatch, clock)
    session = session_for(module_submission())
    session.begin_test(1.0)
    with pytest.raises(AttributeError, match="unit.py does not define conv2d_forward"):
        StudentModule(session).conv2d_forward


def test_a_module_function_is_looked_up_once_per_worker(monkeypatch, clock):
    workers = install(monkeypatch, clock)
    session = session_for(module_submission())
    student = StudentModule(session)
    session.begin_test(1.0)
    for x in range(3):
        assert student.double(x) == 2 * x
    assert workers[0].ops().count("getattr") == 1
    assert workers[0].ops().count("call") == 3


def test_a_handle_from_a_replaced_worker_is_refused(monkeypatch, clock):
    install(monkeypatch, clock, cost=costing(slow=5))
    session = session_for(module_submission("class Box:\n    def get(self):\n        return 1\n"
                                            "def slow(x):\n    return x\n"))
    student = StudentModule(session)
    session.begin_test(1.0)
    box = student.Box()
    assert box.get() == 1
    with pytest.raises(StudentTimeout):
        student.slow(1)
    session.end_test()
    session.begin_test(1.0)
    with pytest.raises(WorkerDied, match="belonged to a worker that has since stopped"):
        box.get()


def test_an_ndarray_subclass_is_graded_on_its_values_and_noted(monkeypatch, clock):
    install(monkeypatch, clock)
    session = session_for(module_submission("import numpy as np\nclass Tagged(np.ndarray):\n    pass\n"
                                            "def make():\n    return np.arange(3.0).view(Tagged)\n"))
    session.begin_test(1.0)
    got = StudentModule(session).make()
    assert type(got) is np.ndarray and got.tolist() == [0.0, 1.0, 2.0]
    [noted] = session.transcript.events
    assert noted["kind"] == Event.SUBCLASS.value and "Tagged" in noted["detail"]


def test_a_malformed_error_reply_is_the_students_error_not_the_graders(monkeypatch, clock):
    def forge(header):
        return {**header, "ok": False, "error": "not a dict"} if header.get("ok") and header.get("value", {}).get("t") == "int" else header

    install(monkeypatch, clock, tamper=forge)
    session = session_for(module_submission())
    session.begin_test(1.0)
    with pytest.raises(StudentError) as raised:
        StudentModule(session).double(2)
    assert raised.value.type_name == "Error"


# -- loading -------------------------------------------------------------------------------
def test_a_submission_that_cannot_load_fails_every_request_with_the_reason(monkeypatch, clock):
    workers = install(monkeypatch, clock)
    session = session_for(module_submission("def double(x):\n    return (\n"))
    assert session.start() is session.load_error
    assert "unit.py could not be loaded" in str(session.load_error)
    assert "SyntaxError" in str(session.load_error)
    for _ in range(2):
        session.begin_test(1.0)
        with pytest.raises(StudentError, match="could not be loaded"):
            StudentModule(session).double(1)
        session.end_test()
    assert len(workers) == 1  # not started again for every test


def test_a_first_load_that_hangs_is_the_reason_nothing_is_graded(monkeypatch, clock):
    workers = install(monkeypatch, clock, cost=lambda op, name: 99.0 if op == "load" else 0.0)
    session = session_for(module_submission(), import_seconds=10)
    assert isinstance(session.start(), StudentTimeout)
    assert str(session.load_error) == "unit.py could not be loaded: loading timed out after 10 s"
    assert workers[0].closed
    assert session.budget.spent == pytest.approx(10.0)  # charged to the submission


def test_a_refused_submission_starts_no_worker(monkeypatch, clock):
    workers = install(monkeypatch, clock)
    session = session_for(module_submission())
    session.refuse("the submission could not be read: not a zip file")
    session.begin_test(1.0)
    with pytest.raises(StudentError, match="not a zip file"):
        StudentModule(session).double(1)
    assert workers == []


def test_a_notebook_cell_that_hangs_is_skipped_and_the_rest_graded(monkeypatch, clock):
    workers = install(monkeypatch, clock, cost=costing(**{"code cell 2": 99}))
    session = session_for(notebook_submission(["def double(x):\n    return 2 * x\n", "while True: pass\n",
                                               "def triple(x):\n    return 3 * x\n"]), import_seconds=10)
    assert session.start() is None
    session.begin_test(1.0)
    student = StudentModule(session)
    assert student.double(2) == 4 and student.triple(2) == 6
    assert len(workers) == 2  # the first load stopped at the cell; the second skipped it
    assert "code cell 2" not in [r.get("label") for r in workers[1].requests]
    [error] = session.transcript.cell_errors
    assert error["where"] == "code cell 2" and error["type"] == "NotRun"
    assert "did not finish within the notebook's 10 s" in error["message"]


def test_a_notebook_cell_that_raises_is_reported_and_the_next_cells_run(monkeypatch, clock):
    install(monkeypatch, clock)
    session = session_for(notebook_submission(["x = 1 / 0\n", "def double(x):\n    return 2 * x\n"]))
    assert session.start() is None
    session.begin_test(1.0)
    assert StudentModule(session).double(3) == 6
    [error] = session.transcript.cell_errors
    assert error["type"] == "ZeroDivisionError" and error["where"].startswith("unit.ipynb, code cell 1")


# -- Budget and Transcript alone ---------------------------------------------------------------
def test_budget_allowance_is_the_smaller_clock():
    budget = Budget(test_seconds=2.0, submission_seconds=3.0)
    budget.begin_test(2.0)
    assert budget.allowance() == (2.0, True)
    budget.charge(1.5)
    assert budget.allowance() == (0.5, True)
    budget.end_test()
    budget.charge(1.0, call=False)  # a restart: the submission's time only
    budget.begin_test(2.0)
    assert budget.allowance() == (0.5, False)
    assert isinstance(budget.stopped(by_test=False), NotRun)
    assert isinstance(budget.stopped(by_test=True), StudentTimeout)
    budget.charge(0.5)
    assert isinstance(budget.exhausted(), NotRun)


def test_budget_outside_a_test_gives_one_call_a_test_allowance():
    budget = Budget(test_seconds=2.0, submission_seconds=100.0)
    budget.begin_test(1.0)
    budget.charge(1.0)
    assert isinstance(budget.exhausted(), StudentTimeout)
    budget.end_test()
    assert budget.exhausted() is None and budget.allowance() == (1.0, True)


def test_transcript_bounds_what_a_worker_reports():
    transcript = Transcript()
    transcript.absorb({"events": [{"kind": "spawn", "detail": "os.system 'ls'"}] * 3})
    assert transcript.events == [{"kind": "spawn", "detail": "os.system 'ls'"}]  # once
    transcript.absorb({"events": [{"kind": "all-clear", "detail": "trust me"}]})
    assert transcript.events[-1] == {"kind": Event.FORGED.value, "detail": "kind 'all-clear': trust me"}
    for batch in range(10):
        transcript.absorb({"events": [{"kind": "write-file", "detail": f"/tmp/{batch}-{i}"} for i in range(60)]})
    assert len(transcript.events) == MAX_EVENTS
    assert transcript.events_dropped > 0
    assert transcript.all_events()[-1] == {"kind": Event.FORGED.value,
                                           "detail": f"{transcript.events_dropped} more events not kept"}


def test_transcript_ignores_events_that_are_not_a_list_of_dicts():
    transcript = Transcript()
    transcript.absorb({"events": "spawn"})
    transcript.absorb({"events": ["spawn", 3, None]})
    assert transcript.events == []


def test_transcript_keeps_the_first_loads_cell_errors_only():
    transcript = Transcript()
    transcript.cells_ran([{"type": "NameError", "message": "x", "where": "code cell 1"}])
    transcript.cells_ran([])
    assert [e["type"] for e in transcript.cell_errors] == ["NameError"]


def test_transcript_notes_strays_and_keeps_what_a_retired_worker_printed():
    transcript = Transcript()
    transcript.worker_retired(0, "")
    assert transcript.events == [] and transcript.printed == []
    transcript.worker_retired(2, "hello\n")
    assert transcript.events == [{"kind": Event.LEFT_PROCESSES.value,
                                  "detail": "2 process(es) still running after calls were killed"}]
    assert transcript.printed == ["hello\n"]


LAYER = '''
class Param:
    def __init__(self, data):
        self.data = data

class Layer:
    def __init__(self, scale):
        self.w = Param(scale)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x * self.w.data

    def stuck(self, x):
        return x

    def picky(self, x):
        raise ValueError("no")
'''


def test_a_chain_answers_as_its_steps_would_one_by_one_in_one_round_trip(monkeypatch, clock):
    workers = install(monkeypatch, clock)
    session = session_for(module_submission(LAYER))
    student = StudentModule(session)
    assert session.start() is None  # loaded: the load is a request of its own
    session.begin_test(5.0)
    chain = student.chain()
    layer = chain.Layer(3)
    layer.w.data = 10  # a step's attribute set, then read back through the same object
    out = layer.forward(np.arange(3.0))
    calls = layer.calls
    before = sum(w.exchanges for w in workers)
    chain.run()
    assert sum(w.exchanges for w in workers) == before + 1
    np.testing.assert_array_equal(out.value, [0.0, 10.0, 20.0])
    assert calls.value == 1 and chain.failed is None
    assert repr(layer.value) == "<student Layer>"
    assert layer.value.forward(np.ones(1))[0] == 10.0  # the handle serves later requests too


def test_a_chain_stops_at_the_step_that_raises_and_raises_its_error(monkeypatch, clock):
    install(monkeypatch, clock)
    session = session_for(module_submission(LAYER))
    student = StudentModule(session)
    session.begin_test(5.0)
    chain = student.chain()
    layer = chain.Layer(2)
    bad = layer.picky(1)
    after = layer.forward(1)
    with pytest.raises(ValueError, match="no"):
        chain.run()
    assert chain.failed is bad and layer.ran and not bad.ran and not after.ran
    with pytest.raises(AttributeError, match="does not define Missing"):
        student.chain().Missing(1).__class__  # a step is made, nothing sent yet
        chain = student.chain()
        chain.Missing(1)
        chain.run()


def test_a_chain_charges_a_timeout_to_the_step_that_ran_out(monkeypatch, clock):
    workers = install(monkeypatch, clock, cost=costing(stuck=9))
    session = session_for(module_submission(LAYER), give_up_after_timeouts=2)
    student = StudentModule(session)
    for seconds in (1.0, 2.0):
        session.begin_test(seconds)
        chain = student.chain()
        layer = chain.Layer(2)
        first = layer.forward(1)
        stuck = layer.stuck(1)
        with pytest.raises(StudentTimeout):
            chain.run()
        assert chain.failed is stuck and first.ran and first.value == 2
        session.end_test()
    assert session.returned >= {"Layer", "Layer.forward"} and "Layer.stuck" not in session.returned
    assert session.timeouts == {"Layer.stuck": [1.0, 2.0]}
    sent = sum(w.exchanges for w in workers)
    session.begin_test(5.0)
    chain = student.chain()
    chain.Layer(2).stuck(1)
    with pytest.raises(NotRun, match="Layer.stuck was stopped after 1 s or 2 s"):
        chain.run()  # given up before anything is sent, as a call alone would be
    assert sum(w.exchanges for w in workers) == sent


def test_a_step_of_an_earlier_chain_is_sent_as_what_it_gave(monkeypatch, clock):
    install(monkeypatch, clock)
    session = session_for(module_submission(LAYER))
    student = StudentModule(session)
    session.begin_test(5.0)
    first = student.chain()
    layer = first.Layer(4)
    first.run()
    second = student.chain()
    second.Layer(1)  # step 0 of the second chain, which step 0 of the first must not be taken for
    out = second.on(layer.value).forward(2)
    again = second.on(layer.value).forward
    second.run()
    assert out.value == 8 and again.ran
    third = student.chain()
    third.Layer(1).forward(layer)  # the first chain's step, as an argument: its handle, the Layer itself
    with pytest.raises(TypeError, match="'Layer' and 'int'"):
        third.run()
