"""Unit tests of Launch.after_call's shortcut: a cgroup's task count rules strays out only when
it can (every worker of one thread, the count exactly theirs); otherwise /proc is walked.

Launches here are stubs (no process is started or signalled): the end-to-end side is the
hostile cases spawn_leftovers (test_hostile.py) and fork_chain (test_integrity.py), both slow.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from autograder.engine.kinds import Level
from autograder.engine.sandbox import Launch
from autograder.engine.sandbox import launch as launch_module


def launches(caps, *specs):
    """One stub Launch per (Level, threads) in `specs`, joined to `caps`; walks are counted."""
    made = []
    for index, (level, threads) in enumerate(specs):
        # A started launch: its processes are known (bwrap's two and the worker in the sandbox).
        pid = 100 + 10 * index
        launch = Launch(process=SimpleNamespace(pid=pid), workdir=None, uid=None, level=level)
        if level == Level.NAMESPACE:
            launch._inner_pid, launch._worker_pid = pid + 1, pid + 2
        launch.threads = lambda n=threads: n
        launch.pause = lambda n=threads: n  # stopping it would signal a real pid
        launch.walks = 0

        def walk(launch=launch):
            launch.walks += 1
            return 0

        launch.kill_strays = walk
        launch.enlist(caps)
        made.append(launch)
    return made


@pytest.mark.parametrize("specs, tasks, walked", [
    ([(Level.USER, 1), (Level.USER, 1)], 2, False),         # just the two workers
    ([(Level.USER, 1), (Level.USER, 1)], 3, True),          # one task more: a stray
    ([(Level.NAMESPACE, 1)], 3, False),                     # bwrap's two and the worker
    ([(Level.NAMESPACE, 1)], 4, True),
    ([(Level.USER, 1), (Level.USER, None)], 1, True),       # a spare still starting
    ([(Level.USER, 1)], None, True),                        # no count (no pids controller)
])
def test_strays_are_looked_for_unless_the_count_is_exactly_the_workers(specs, tasks, walked):
    caps = SimpleNamespace(launches=[], tasks=lambda: tasks, procs=set)
    first, *_ = launches(caps, *specs)
    first.after_call()
    assert (first.walks == 1) is walked


def test_a_worker_with_threads_is_looked_at_the_long_way():
    caps = SimpleNamespace(launches=[], tasks=lambda: 3, procs=set)  # what its three threads would count
    [launch] = launches(caps, (Level.USER, 3))
    launch.after_call()
    assert launch.walks == 1


def stub(threads=1, runtimes=()):
    """A Launch whose worker has `threads` and whose main thread's CPU time reads `runtimes` in turn;
    stopping it is recorded, not done."""
    launch = Launch(process=SimpleNamespace(pid=0), workdir=None, uid=None, level=Level.USER)
    launch.threads = lambda: threads
    readings = iter(runtimes)
    launch._runtime = lambda: next(readings)
    launch.stops = 0

    def stop():
        launch.stops += 1
        launch._paused = True

    launch._stop = stop
    return launch


def test_a_worker_of_one_thread_that_waits_is_not_stopped():
    launch = stub(runtimes=[1_000, 1_000 + 50_000])  # 50 us after its reply: an honest tail
    launch.pause()
    launch.resume()
    assert launch.stops == 0 and not launch.restless


def test_a_worker_that_runs_between_calls_is_stopped_after_every_later_call():
    launch = stub(runtimes=[1_000, 1_000 + 4_000_000])  # 4 ms between two calls: a timer, a loop
    launch.pause()
    launch.resume()
    assert launch.restless and launch.stops == 0  # found after that gap...
    launch.pause()
    assert launch.stops == 1  # ...and stopped from then on
    launch.resume()
    launch.pause()
    assert launch.stops == 2


def test_small_runs_between_calls_add_up():
    gaps = 60  # 400 us each: under the one-gap limit, over the total after 50
    runtimes = [value for i in range(gaps) for value in (i * 1_000_000, i * 1_000_000 + 400_000)]
    launch = stub(runtimes=runtimes)
    for _ in range(gaps):
        launch.pause()
        launch.resume()
    assert launch.restless


def test_a_worker_with_threads_is_always_stopped():
    launch = stub(threads=2)
    launch.pause()
    assert launch.stops == 1


def test_a_worker_that_left_processes_is_stopped_at_once_and_from_then_on():
    launch = stub(runtimes=[1_000])
    launch.kill_strays = lambda: 1
    assert launch.after_call() == 1
    assert launch.restless and launch.stops == 1


def test_strays_are_killed_from_the_cgroup_until_only_the_workers_are_left(monkeypatch):
    """A chain that forks and exits between a list and a kill is read again: each round kills what
    the cgroup holds besides the workers, until nothing else is there."""
    rounds = [{10, 11, 12}, {10, 13}, {10}]  # the worker (10); a stray; the stray's child, born meanwhile
    killed = []
    monkeypatch.setattr(launch_module, "kill_pids", lambda pids: killed.append(set(pids)))
    caps = SimpleNamespace(launches=[], tasks=lambda: 99, procs=lambda: rounds.pop(0))
    launch = Launch(process=SimpleNamespace(pid=10), workdir=None, uid=None, level=Level.USER)
    launch.threads = lambda: 1
    launch.pause = lambda: 1
    launch._stop = lambda: None
    launch.kill_strays = lambda: pytest.fail("walked /proc although the cgroup said what to kill")
    launch.enlist(caps)
    assert launch.after_call() == 3
    assert killed == [{11, 12}, {13}] and launch.restless


def test_without_a_cgroup_the_walk_is_repeated_until_it_finds_nothing_new(monkeypatch):
    """The same race without cgroups (Gradescope): a chain's next generation, born between a walk
    and its kill, is found by the next walk; a killed process still listed (a zombie its parent has
    not reaped) is not killed again, and does not keep the loop going."""
    walks = [[11, 12], [11, 13], [11, 13], [11, 13]]  # 11 lingers as a zombie; 13 was born meanwhile
    killed = []
    monkeypatch.setattr(launch_module, "kill_pids", lambda pids: killed.append(set(pids)))
    launch = Launch(process=SimpleNamespace(pid=10), workdir=None, uid=None, level=Level.USER)
    launch._strays = lambda: walks.pop(0)
    assert launch.kill_strays() == 3
    assert killed == [{11, 12}, {13}] and len(walks) == 1
