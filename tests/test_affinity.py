"""The grader's thread stays on one CPU while it talks to its loaded worker (engine/affinity.py),
except in the processes of a parallel batch; the worker is never pinned. Only speed depends on
it (BENCHMARKS.md §1 measures it); these tests check that the pinning happens where it should,
and is given back."""

from __future__ import annotations

import os
import threading

import pytest

from autograder.engine import affinity
from autograder.engine import session as session_module
from autograder.engine.session import StudentModule

from inprocess import Clock, install
from test_session import module_submission, session_for

TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


@pytest.fixture
def two_cpus(monkeypatch):
    monkeypatch.setattr(affinity, "_allowed", frozenset({0, 1}))
    monkeypatch.setattr(affinity, "_beside_others", False)


def on_a_thread(run):
    """Run `run` on a thread of its own (pytest's thread is left alone); returns what it returned."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", run()))
    thread.start()
    thread.join()
    return result["value"]


@pytest.mark.skipif(not TWO_CPUS, reason="needs two CPUs")
def test_a_thread_is_kept_where_it_runs_starts_workers_anywhere_and_gets_its_cpus_back():
    allowed = os.sched_getaffinity(0)

    def run():
        seen = {"cpu": affinity._current_cpu()}
        before = affinity.pin_here()
        seen["pinned"] = os.sched_getaffinity(0)
        with affinity.unpinned():
            seen["starting"] = os.sched_getaffinity(0)
        seen["after start"] = os.sched_getaffinity(0)
        affinity.restore(before)
        seen["restored"] = os.sched_getaffinity(0)
        return seen

    seen = on_a_thread(run)
    assert seen["pinned"] == {seen["cpu"]} == seen["after start"]
    assert seen["starting"] == set(allowed) == seen["restored"]


def test_nothing_is_pinned_with_one_cpu_or_where_the_cpu_is_unknown(monkeypatch):
    monkeypatch.setattr(affinity, "_beside_others", False)
    monkeypatch.setattr(affinity, "_allowed", frozenset({3}))
    monkeypatch.setattr(affinity, "_current_cpu", lambda: 3)
    assert on_a_thread(affinity.pin_here) is None
    monkeypatch.setattr(affinity, "_allowed", frozenset({0, 1}))
    monkeypatch.setattr(affinity, "_current_cpu", lambda: None)  # /proc unreadable
    assert on_a_thread(affinity.pin_here) is None


def test_a_session_keeps_its_thread_on_one_cpu_from_the_load_and_gives_it_back(monkeypatch, two_cpus):
    workers = install(monkeypatch, Clock())
    pins, restored = [], []
    monkeypatch.setattr(session_module.affinity, "pin_here", lambda: pins.append("pinned") or {0, 1})
    monkeypatch.setattr(session_module.affinity, "restore", restored.append)
    session = session_for(module_submission())
    session.begin_test(1.0)
    assert StudentModule(session).double(2) == 4
    assert pins == ["pinned"] and restored == []
    # The worker is told nothing: the student's calls stay free to move to another CPU.
    load = next(r for r in workers[0].requests if r.get("op") == "load")
    assert "cpu" not in load
    session.close()
    assert restored == [{0, 1}]


def test_a_process_of_a_parallel_batch_pins_nothing(two_cpus, monkeypatch):
    """With --jobs 2 a job pinned to one CPU could not leave it, and a classmate's worker can pin
    itself to that CPU too (its own affinity needs no privilege): spinning there, it took half of
    the classmate's CPU for as long as its calls ran, and the classmate's time limits are wall
    time. Unpinned, the kernel moves the classmate to the other CPU, as before the pinning (which
    gained 0.97x in a batch of two jobs, BENCHMARKS.md)."""
    from autograder.engine import batch

    monkeypatch.setattr(batch, "_make_pool_grader", lambda *args: None)
    monkeypatch.setattr(batch.signal, "signal", lambda *args: None)  # pytest's own handlers stay
    monkeypatch.setattr(affinity, "_current_cpu", lambda: 1)
    if TWO_CPUS:
        assert on_a_thread(affinity.pin_here) is not None  # what the pool's set-up turns off
    batch._pool_init("cnn", "/kit", None, None, False, [])
    assert on_a_thread(affinity.pin_here) is None


def test_the_thread_gets_its_cpus_back_when_closing_is_interrupted(monkeypatch, two_cpus):
    """A batch's Ctrl-C raises KeyboardInterrupt wherever its grading is, close() included (and
    removing the cgroups or a worker's files can raise too): the thread still gets its CPUs back."""
    install(monkeypatch, Clock())
    restored = []
    monkeypatch.setattr(session_module.affinity, "pin_here", lambda: {0, 1})
    monkeypatch.setattr(session_module.affinity, "restore", restored.append)
    session = session_for(module_submission())
    session.begin_test(1.0)
    assert StudentModule(session).double(2) == 4

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(session.caps, "remove", interrupted)
    with pytest.raises(KeyboardInterrupt):
        session.close()
    assert restored == [{0, 1}]
