"""Unit tests of the pytest plugin: which checks earn points, how each outcome is explained, and
how dependencies withhold points. Tiny suites run against a tiny submission through the
in-process worker (tests/inprocess.py): no sandbox, no real time.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autograder.assignment import Limits, Question
from autograder.engine import plugin as grading_plugin
from autograder.engine.session import StudentSession
from autograder.engine.submission import Submission

from inprocess import Clock, install

STUDENT = '''
def double(x):
    return 2 * x

def half(x):
    return x / 3          # wrong

def picky(x):
    raise ValueError("no thanks")

def nothing(x):
    return None

def slow(x):
    return x
'''

QUESTIONS = [Question("double", "Double", 10), Question("half", "Half", 10)]


class Reference:
    @staticmethod
    def double(x):
        return 2 * x

    @staticmethod
    def half(x):
        return x / 2


def run(tmp_path: Path, monkeypatch, suite: str, public: str | None = None, cost=None, module=STUDENT, **limits):
    """Grade `module` with the hidden `suite` (and a public test file for `double`): the plugin's outcomes."""
    plugin = run_plugin(tmp_path, monkeypatch, suite, public, cost, module, **limits)
    return {o.function: o for o in plugin.outcomes.values()}


def run_plugin(tmp_path: Path, monkeypatch, suite: str, public: str | None = None, cost=None, module=STUDENT,
               others: dict[str, str] | None = None, **limits):
    """As run, returning the plugin; `others` maps more hidden files' name stems to their source
    (run before `suite`, as a suite's files run in its questions' order)."""
    install(monkeypatch, Clock(), cost=cost)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    # A file name of its own per test: pytest keeps suite modules imported by name (as it
    # should while grading a class), so a second "test_suite.py" would be the first one again.
    suite_file = hidden / f"test_{tmp_path.name}.py"
    suite_file.write_text("from autograder.suite import check, fail, raises, record\n" + textwrap.dedent(suite))
    public_dir = tmp_path / "public"
    public_dir.mkdir()
    files = []
    for stem, source in (others or {}).items():
        files.append(hidden / f"test_{stem}_{tmp_path.name}.py")
        files[-1].write_text("from autograder.suite import check\n" + textwrap.dedent(source))
    files.append(suite_file)
    if public is not None:
        (public_dir / "test_double.py").write_text(textwrap.dedent(public))
        files.insert(0, public_dir / "test_double.py")
    sub = Submission(name="s", origin=tmp_path / "s.py", kind="module", display="s.py",
                     module_name=f"plugin_student_{tmp_path.name}", source=module)
    session = StudentSession(sub, iso=None, limits=Limits(**limits), banned=(), banned_why="", seed=1)
    plugin = grading_plugin.GradingPlugin(session, Reference, ["double", "half"], QUESTIONS, public_dir, 1, Limits(**limits))
    try:
        grading_plugin.run_suite(plugin, files, tmp_path)
    finally:
        session.close()
    plugin.withhold_unmet()
    return plugin


def test_hidden_checks_carry_their_weight_and_public_ones_none(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        @check("double", weight=3)
        def test_doubles(student, reference):
            assert student.double(4) == reference.double(4)
        ''', public='''
        def test_public_double(double):
            assert double(1) == 2
        ''')
    assert outcomes["test_doubles"].weight == 3.0 and outcomes["test_doubles"].visibility == "after_published"
    public = outcomes["test_public_double"]
    assert public.weight == 0.0 and public.visibility == "visible" and public.passed
    # Public checks come first within their question.
    assert public.order < outcomes["test_doubles"].order


def test_a_failed_assertion_shows_its_own_message(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        @check("half")
        def test_halves(student, reference):
            got = student.half(4)
            assert got == reference.half(4), f"half(4) gave {got}, expected 2"
        ''')
    o = outcomes["test_halves"]
    # (Only the first line: under this outer pytest its assertion rewriting adds more.)
    assert not o.passed and o.kind == "fail" and o.message.splitlines()[0] == "half(4) gave 1.3333333333333333, expected 2"


def test_a_students_exception_is_named_with_its_type_and_message(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        @check("double")
        def test_picky(student):
            assert student.picky(1) == 1
        ''')
    o = outcomes["test_picky"]
    assert o.kind == "error" and o.message.startswith("your code raised ValueError: no thanks (at s.py, line")


def test_a_suite_stumbling_over_a_returned_value_blames_the_value_not_the_suite(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        @check("double")
        def test_shape(student):
            assert student.nothing(1).shape == (1,)
        ''')
    o = outcomes["test_shape"]
    assert o.kind == "fail" and o.message.startswith("the result could not be checked (AttributeError:")
    assert "hidden" not in o.message  # never the suite's source or path


def test_a_timeout_is_the_reason_even_when_the_check_goes_on(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        @check("double", seconds=2)
        def test_slow(student):
            try:
                student.slow(1)
            except Exception:
                pass
            assert False, "a later assertion"
        ''', cost=lambda op, name: 3.0 if name == "slow" else 0.0)
    o = outcomes["test_slow"]
    assert o.kind == "timeout" and o.message == "timed out after 2 s"  # the check's own seconds


def test_a_check_that_swallows_a_timeout_still_fails(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        @check("double")
        def test_swallows(student):
            try:
                student.slow(1)
            except Exception:
                pass
        ''', cost=lambda op, name: 9.0 if name == "slow" else 0.0, test_seconds=1)
    assert not outcomes["test_swallows"].passed and outcomes["test_swallows"].kind == "timeout"


def test_a_timeout_is_not_the_reason_the_next_checks_fixture_fails(tmp_path, monkeypatch):
    # The next check's fixture runs before its clock starts: it fails for its own reason.
    outcomes = run(tmp_path, monkeypatch, '''
        @check("double", seconds=1)
        def test_a_slow(student):
            student.slow(1)

        @check("half")
        def test_b_half(half):
            assert half(4) == 2
        ''', cost=lambda op, name: 3.0 if name == "slow" else 0.0,
        module="def double(x):\n    return 2 * x\ndef slow(x):\n    return x\n")
    assert outcomes["test_a_slow"].kind == "timeout"
    o = outcomes["test_b_half"]
    assert not o.passed and o.kind == "error" and "s.py does not define half" in o.message


def test_points_wait_for_the_checks_they_depend_on(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        @check("half")
        def test_values(student, reference):
            """half gives half"""
            assert student.half(4) == reference.half(4)

        @check("half", depends=[test_values])
        def test_returns_a_number(student):
            assert isinstance(student.half(4), float)

        @check("half", depends=["test_returns_a_number"])
        def test_chained(student):
            assert student.half(0) == 0
        ''')
    assert not outcomes["test_values"].passed
    for name in ("test_returns_a_number", "test_chained"):
        o = outcomes[name]
        assert not o.passed and o.kind == "unmet"
    assert outcomes["test_returns_a_number"].message == "counts only once this check passes too: half gives half"


def test_a_dependency_that_passes_withholds_nothing(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        @check("double")
        def test_values(student):
            assert student.double(2) == 4

        @check("double", depends=[test_values])
        def test_error(student):
            raises(ValueError, lambda: student.picky(1), "picky(1)")
        ''')
    assert outcomes["test_values"].passed and outcomes["test_error"].passed


def test_a_check_of_another_file_withholds_points_and_is_named_with_its_question(tmp_path, monkeypatch):
    # The halves file runs first; the "whole" check of the other file waits for its value check.
    plugin = run_plugin(tmp_path, monkeypatch, f'''
        @check("double", depends=["test_halves_{tmp_path.name}.py::test_values"])
        def test_whole(student):
            assert student.double(3) == 6

        @check("double", depends=["test_halves_{tmp_path.name}.py::test_type"])
        def test_other_whole(student):
            assert student.double(1) == 2

        @check("double")
        def test_doubles_zero_to_one(student):
            """double(0) is 1"""
            assert student.double(0) == 1

        @check("double", depends=["test_halves_{tmp_path.name}.py::test_values", "test_doubles_zero_to_one"])
        def test_both(student):
            assert student.double(2) == 4
        ''', others={"halves": '''
        @check("half")
        def test_values(student, reference):
            """half gives half"""
            assert student.half(4) == reference.half(4)

        @check("half")
        def test_type(student):
            assert isinstance(student.half(4), float)
        '''})
    outcomes = {o.function: o for o in plugin.outcomes.values()}
    assert outcomes["test_type"].passed and not outcomes["test_values"].passed
    assert outcomes["test_other_whole"].passed
    whole = outcomes["test_whole"]
    assert not whole.passed and whole.kind == "unmet"
    assert whole.message == "counts only once this check passes too: half: half gives half"
    assert outcomes["test_both"].message == "counts only once these checks pass too: half: half gives half; double(0) is 1"


def test_a_dependency_on_a_missing_check_of_another_file_stops_the_suite(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="depends on 'test_nowhere.py::test_values', which is not a check of the suite"):
        run(tmp_path, monkeypatch, '''
            @check("double", depends=["test_nowhere.py::test_values"])
            def test_here(student):
                assert True
            ''')


def test_measures_come_only_from_checks_that_earned_their_points(tmp_path, monkeypatch):
    plugin = run_plugin(tmp_path, monkeypatch, '''
        @check("half")
        def test_values(student, reference):
            assert student.half(4) == reference.half(4)

        @check("half", depends=[test_values])
        def test_measured_then_withheld(student, request):
            record(request, "withheld", 1.0)

        @check("double")
        def test_measured_then_failed(student, request):
            record(request, "failed", 2.0)
            assert student.double(2) == 5

        @check("double")
        def test_measured(student, request):
            record(request, "kept", student.double(2))
        ''')
    outcomes = {o.function: o for o in plugin.outcomes.values()}
    assert outcomes["test_measured_then_withheld"].measures == {"withheld": 1.0}  # recorded, then withheld
    assert plugin.measures() == {"kept": 4}


def test_a_check_without_a_question_stops_the_suite(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="test_orphan has no @check"):
        run(tmp_path, monkeypatch, '''
            def test_orphan(student):
                assert True
            ''')


def test_a_check_of_an_unknown_question_or_dependency_stops_the_suite(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="grades 'triple', which is not a question"):
        run(tmp_path, monkeypatch, '''
            @check("triple")
            def test_triple(student):
                assert True
            ''')


def test_a_dependency_on_a_missing_check_stops_the_suite(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="depends on 'test_gone', which is not a check of its file"):
        run(tmp_path, monkeypatch, '''
            @check("double", depends=["test_gone"])
            def test_here(student):
                assert True
            ''')


def test_a_mistake_travels_as_data(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        from autograder.suite import Mistake

        @check("half")
        def test_halves(student):
            if student.half(6) == 2:
                fail("half(6) gave 2", Mistake("divide_by_three", "divide by three"))
        ''')
    o = outcomes["test_halves"]
    assert (o.mistake, o.mistake_phrase) == ("divide_by_three", "divide by three")
    assert o.message == "half(6) gave 2. It matches what you get if you divide by three."


def test_a_failure_is_put_together_from_what_was_wrong_the_help_and_the_mistake(tmp_path, monkeypatch):
    outcomes = run(tmp_path, monkeypatch, '''
        from autograder.suite import CheckFailed, Mistake

        @check("half")
        def test_named(student):
            fail(f"half(6) gave {student.half(6)}", Mistake("divide_by_three", "divide by three"), help="Divide by 2")

        @check("half")
        def test_helped(student):
            raise CheckFailed("half(6) gave 2.", help="Divide by 2.")
        ''')
    named, helped = outcomes["test_named"], outcomes["test_helped"]
    assert named.mistake == "divide_by_three"
    assert named.message == "half(6) gave 2.0. Divide by 2. It matches what you get if you divide by three."
    assert helped.mistake is None and helped.message == "half(6) gave 2. Divide by 2."


def test_a_table_of_checks_gives_one_check_per_row_in_its_place(tmp_path, monkeypatch):
    plugin = run_plugin(tmp_path, monkeypatch, '''
        from autograder.suite import checks_over

        @check("double")
        def test_first(student):
            assert True

        @checks_over("double", [
            ("test_small", 2, [1, 2], "doubles small numbers"),
            ("test_negative", 1, [-3], "doubles negative numbers"),
        ])
        def _group(student, reference, rng, numbers):
            for x in numbers:
                if student.half(x) != reference.half(x):
                    fail(f"half({x}) gave {student.half(x)}")

        @check("double", depends=["test_small"])
        def test_last(student):
            assert True
        ''')
    outcomes = sorted(plugin.outcomes.values(), key=lambda o: o.order)
    assert [(o.function, o.title, o.weight) for o in outcomes] == [
        ("test_first", "first", 1.0), ("test_small", "doubles small numbers", 2.0),
        ("test_negative", "doubles negative numbers", 1.0), ("test_last", "last", 1.0)]
    small, last = plugin.outcomes[outcomes[1].nodeid], plugin.outcomes[outcomes[3].nodeid]
    assert small.nodeid.endswith("::test_small") and small.message == "half(1) gave 0.3333333333333333."
    assert last.kind == "unmet" and "doubles small numbers" in last.message
