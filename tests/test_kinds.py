"""The result's vocabularies: every event kind the engine can record maps to a flag."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from autograder.engine import kinds, report, static
from autograder.engine.kinds import TestKind
from autograder.engine.results import Grade, TestGrade

ENGINE = Path(kinds.__file__).parent


def _literal_kinds(path: Path, call_names: set[str]) -> set[str]:
    """First string arguments of calls like note("kind", ...) in a source file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in call_names and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def test_every_event_maps_to_exactly_one_flag():
    assert set(kinds.FLAG_OF_EVENT) == set(kinds.Event)
    assert all(isinstance(f, kinds.Flag) for f in kinds.FLAG_OF_EVENT.values())


def test_every_kind_the_engine_records_is_an_event():
    # The grader's side (Transcript.note) takes Event members, so only the worker's literals need checking.
    recorded = _literal_kinds(ENGINE / "worker.py", {"note"})
    recorded |= {kind for kind, _ in static.CALLS.values()} | {kind for kind, _ in static.MODULES.values()}
    recorded |= _literal_kinds(ENGINE / "static.py", {"add"})
    assert recorded, "found no recorded kinds: the scan of the sources is broken"
    assert recorded <= {e.value for e in kinds.Event}, recorded - {e.value for e in kinds.Event}


def test_runtime_patching_is_flagged_like_patching_in_the_source():
    """Regression: the worker records 'patched', which once mapped to no flag at all."""
    grade = Grade(name="x", origin="x.py", score=0, max_score=100, seed=1,
                  events=[{"kind": "patched", "detail": "numpy.allclose"}])
    assert report.flags(grade) == [kinds.Flag.PATCH.value]


def test_a_kind_our_worker_never_sends_is_flagged_as_forged():
    grade = Grade(name="x", origin="x.py", score=0, max_score=100, seed=1,
                  events=[{"kind": "all-good", "detail": "trust me"}])
    assert report.flags(grade) == [kinds.Flag.FORGED.value]


def test_test_kinds_flag_crashes_and_channel_corruption():
    tests = [TestGrade(item="pad", title="t", number="1.1", score=0, max_score=1, visibility="after_published",
                       output="", kind=k, duration=0) for k in (TestKind.CRASH, TestKind.PROTOCOL, TestKind.FAIL)]
    grade = Grade(name="x", origin="x.py", score=0, max_score=100, seed=1, tests=tests)
    assert report.flags(grade) == [kinds.Flag.CRASH.value, kinds.Flag.PROTOCOL.value]
    assert all(isinstance(k, TestKind) for k in kinds.FLAG_OF_TEST_KIND)


@pytest.mark.slow
def test_a_grade_says_its_state_as_data():
    """Outputs branch on Grade.state, never on the wording of the status sentence."""
    from autograder import assignment, build
    from autograder.engine import grading

    cnn = assignment.load("cnn")
    grader = grading.Grader(cnn)
    try:
        broken = grader.grade(build.examples(cnn) / "syntax_error.py")
        fine = grader.grade(cnn.reference_module)
    finally:
        grader.close()
    assert (broken.state, broken.graded) == (kinds.State.NOT_LOADED.value, False)
    assert (fine.state, fine.graded) == (kinds.State.GRADED.value, True)
    failed = grader.failed(Path("x.py"), "grader error: boom")
    assert failed.state == kinds.State.GRADER_ERROR.value and not failed.graded


def test_isolation_levels_are_the_names_a_user_types():
    from autograder.engine import sandbox
    from autograder.engine.kinds import Level

    assert sandbox.LEVELS == ("namespace", "user", "none")  # AUTOGRADER_ISOLATION's values, strongest first
    assert [str(level) for level in Level] == list(sandbox.LEVELS)
    assert f"{Level.USER}: refused" == "user: refused"  # as messages show it, not "Level.USER"
    assert Level("namespace") is Level.NAMESPACE and Level.NAMESPACE == "namespace"  # as grade.json holds it


def test_reaching_into_the_workers_ban_is_found_in_the_source():
    """Issue 16: emptying the worker's import ban earned nothing, but nothing flagged it."""
    from autograder.engine import static

    for source in ("import gc\nfor o in gc.get_objects():\n    o.banned = ()\n",
                   "import sys\nsys.modules['__main__'].books.banned = ()\n",
                   "import __main__\n",
                   "import gc\nx = gc.get_referrers(print)\n"):
        kinds = {f["kind"] for f in static.scan(source, ())}
        assert kinds & {"patch", "introspection"}, source
    worker = [f for f in static.scan("import sys\nsys.modules['__main__'].books.banned = ()\n", ())
              if "grader's worker" in f["detail"]]
    assert worker and all(f["kind"] == "patch" for f in worker)
    # An honest numerical module has none of these.
    reference = (Path(__file__).resolve().parents[1] / "solutions" / "cnn" / "cnn_layers.py").read_text()
    assert static.scan(reference, ()) == []


def test_the_seccomp_program_is_built_with_libseccomp_and_read_back_from_proc():
    from autograder.engine import syscalls

    program, about = syscalls.program()
    assert program is not None, about
    assert len(program) % 8 == 0 and len(program) // 8 > len(syscalls.DENIED)  # sock_filter entries
    assert "system calls denied" in about
    assert syscalls.mode(b"Name:\tpython\nSeccomp:\t2\nSeccomp_filters:\t1\n") == syscalls.FILTER_MODE
    assert syscalls.mode(b"Seccomp:\t0\n") == 0 and syscalls.mode(None) is None
    with open("/proc/self/status", "rb") as f:
        assert syscalls.mode(f.read()) in (0, 2)


def test_records_from_before_results_were_data_still_read_and_render():
    """grade.json of earlier kits: caps as sentences (with or without their scopes), isolation as a sentence."""
    old = {"name": "s", "origin": "s.py", "score": 1, "max_score": 2, "seed": 1, "status": "graded",
           "isolation": "Unprivileged user (namespaces unavailable here): no root. Warning: careful.",
           "isolation_level": "user", "caps": {"memory": "per process (rlimit)"}}
    grade = Grade.from_dict(old)
    assert grade.isolation == old["isolation"] and grade.cap_texts == {"memory": "per process (rlimit)"}
    assert grade.cap_scopes == {"memory": kinds.Scope.NONE}  # its scope was not recorded
    scoped = Grade.from_dict({**old, "cap_scopes": {"memory": "process"}})
    assert scoped.cap_scopes == {"memory": kinds.Scope.PROCESS}
    # A record written now reads back to the same data, its sentence rendered again, not kept.
    again = Grade.from_dict(json.loads(json.dumps(Grade.from_dict(
        {**old, "isolation_warnings": ["careful."], "isolation": "ignored"}).to_dict())))
    assert again.isolation_note == "" and again.isolation.endswith("Warning: careful.")
    assert kinds.isolation_text("a-future-level", [], ["w"]) == "a-future-level Warning: w"
