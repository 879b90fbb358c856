"""The grader's thread and its loaded worker share one CPU (engine/affinity.py), except in the
processes of a parallel batch. Within a grading only speed depends on it (bench/defences.py
measures it); these tests check that the pinning happens where it should, and is given back."""

from __future__ import annotations

import os
import threading

import pytest

from autograder.engine import affinity
from autograder.engine import session as session_module
from autograder.engine.session import StudentModule

from inprocess import Clock, install
from test_session import module_submission, session_for


@pytest.fixture
def two_cpus(monkeypatch):
    monkeypatch.setattr(affinity, "_allowed", frozenset({0, 1}))
    monkeypatch.setattr(affinity, "_home", None)
    monkeypatch.setattr(affinity, "_beside_others", False, raising=False)


def test_home_is_the_cpu_running_the_first_grading_and_stays(two_cpus, monkeypatch):
    monkeypatch.setattr(affinity, "_current_cpu", lambda: 1)
    assert affinity.home() == 1
    monkeypatch.setattr(affinity, "_current_cpu", lambda: 0)
    assert affinity.home() == 1


def test_nothing_is_pinned_with_one_cpu_or_an_unknown_one(monkeypatch):
    monkeypatch.setattr(affinity, "_home", None)
    monkeypatch.setattr(affinity, "_allowed", frozenset({3}))
    assert affinity.home() is None and affinity.pin_here(None) is None
    monkeypatch.setattr(affinity, "_allowed", frozenset({0, 1}))
    monkeypatch.setattr(affinity, "_current_cpu", lambda: None)  # /proc unreadable
    assert affinity.home() == 0


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_a_pinned_thread_starts_workers_anywhere_and_is_given_its_cpus_back():
    allowed = os.sched_getaffinity(0)
    cpu = max(allowed)
    seen = {}

    def run():  # on a thread of its own: pytest's thread is left alone
        before = affinity.pin_here(cpu)
        seen["pinned"] = os.sched_getaffinity(0)
        with affinity.unpinned():
            seen["starting"] = os.sched_getaffinity(0)
        seen["after start"] = os.sched_getaffinity(0)
        affinity.restore(before)
        seen["restored"] = os.sched_getaffinity(0)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == {"pinned": {cpu}, "starting": set(allowed), "after start": {cpu}, "restored": set(allowed)}


def test_a_session_pins_its_thread_with_the_worker_it_loads_and_gives_it_back(monkeypatch, two_cpus):
    workers = install(monkeypatch, Clock())
    pins, restored = [], []
    monkeypatch.setattr(session_module.affinity, "_current_cpu", lambda: 1)
    monkeypatch.setattr(session_module.affinity, "pin_here", lambda cpu: pins.append(cpu) or {0, 1})
    monkeypatch.setattr(session_module.affinity, "restore", restored.append)
    session = session_for(module_submission())
    session.begin_test(1.0)
    assert StudentModule(session).double(2) == 4
    load = next(r for r in workers[0].requests if r.get("op") == "load")
    assert load["cpu"] == 1 and pins == [1]  # the worker is asked to pin itself to the CPU this thread took
    session.close()
    assert restored == [{0, 1}]


def test_the_worker_pins_itself_where_the_load_asks(monkeypatch):
    from inprocess import worker_module

    pinned = []
    monkeypatch.setattr(worker_module.os, "sched_setaffinity", lambda pid, cpus: pinned.append((pid, cpus)))
    worker = worker_module.Worker({"banned": (), "banned_why": ""})
    worker.load({"name": "unit_affinity_student", "filename": "unit.py", "kind": "module", "source": "x = 1", "cpu": 1})
    worker.load({"name": "unit_affinity_student", "filename": "unit.py", "kind": "module", "source": "x = 1", "cpu": None})
    assert pinned == [(0, {1})]


def test_a_process_of_a_parallel_batch_pins_nothing(two_cpus, monkeypatch):
    """With --jobs 2 a job pinned to one CPU could not leave it, and a classmate's worker can pin
    itself to that CPU too (its own affinity needs no privilege): spinning there, it took half of
    the classmate's CPU for as long as its calls ran, and the classmate's time limits are wall
    time. Unpinned, the kernel moves the classmate to the other CPU, as before the pinning (which
    gained 0.97x in a batch of two jobs, BENCHMARKS.md)."""
    from autograder.engine import batch, grading

    monkeypatch.setattr(grading, "_job_init", lambda *args: None)
    monkeypatch.setattr(batch.signal, "signal", lambda *args: None)  # pytest's own handlers stay
    monkeypatch.setattr(affinity, "_current_cpu", lambda: 1)
    batch._pool_init("cnn", "/kit", None, None, False, [])
    assert affinity.home() is None

    workers = install(monkeypatch, Clock())
    pins = []
    monkeypatch.setattr(session_module.affinity, "pin_here", lambda cpu: pins.append(cpu))
    session = session_for(module_submission())
    session.begin_test(1.0)
    assert StudentModule(session).double(2) == 4
    session.close()
    load = next(r for r in workers[0].requests if r.get("op") == "load")
    assert load["cpu"] is None and pins == [None]  # neither the worker nor this thread is pinned


def test_the_thread_gets_its_cpus_back_when_closing_is_interrupted(monkeypatch, two_cpus):
    """A batch's Ctrl-C raises KeyboardInterrupt wherever its grading is, close() included (and
    removing the cgroups or a worker's files can raise too): the thread still gets its CPUs back."""
    install(monkeypatch, Clock())
    restored = []
    monkeypatch.setattr(session_module.affinity, "pin_here", lambda cpu: {0, 1})
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
