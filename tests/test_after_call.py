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


def launches(caps, *specs):
    """One stub Launch per (Level, threads) in `specs`, joined to `caps`; walks are counted."""
    made = []
    for level, threads in specs:
        launch = Launch(process=SimpleNamespace(pid=0), workdir=None, uid=None, level=level)
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
    caps = SimpleNamespace(launches=[], tasks=lambda: tasks)
    first, *_ = launches(caps, *specs)
    first.after_call()
    assert (first.walks == 1) is walked


def test_a_worker_with_threads_is_looked_at_the_long_way():
    caps = SimpleNamespace(launches=[], tasks=lambda: 3)  # what its three threads would count
    [launch] = launches(caps, (Level.USER, 3))
    launch.after_call()
    assert launch.walks == 1
