"""A grading's thread kept on one CPU while it talks to its loaded worker.

A grading is ~1,000 round trips into the worker, and each side waits while
the other works. Left to move, the grader's thread and the worker often sit
on different CPUs, and every message then wakes the other one (on a VM an
inter-processor interrupt). Held on the CPU it runs on when the worker is
loaded, the grader's thread draws the worker it wakes to that CPU (the
kernel's wake-affine placement): 3-12% off a grading here, measured side by
side (BENCHMARKS.md §1; holding the worker too gained no more).

The worker itself is not pinned: the student's calls, the time that its
limits count, stay free to move away from a CPU something else keeps busy.
Nor is anything pinned in the processes of a parallel batch (--jobs 2 and
more): a job held on one CPU could not leave it, and a classmate's worker,
free to pin itself anywhere without privilege, could spin there; pinning
gained nothing there anyway (0.97x). Where affinity cannot be set, or only
one CPU is allowed, nothing is pinned.
"""

from __future__ import annotations

import contextlib
import os


def _read_allowed() -> frozenset[int]:
    try:
        return frozenset(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return frozenset()


# Read once, at import, before any thread of this process is pinned: what a thread reads
# later is its own set, maybe one CPU already.
_allowed: frozenset[int] = _read_allowed()
# A process grading beside others of its batch (a pool process): never pinned (see above).
_beside_others = False


def cpus() -> int:
    """How many CPUs this process may run on (read at import, before any of its threads was pinned)."""
    return len(_allowed)


def stay_unpinned() -> None:
    """This process grades beside other processes of a batch: pin nothing in it."""
    global _beside_others
    _beside_others = True


def _current_cpu() -> int | None:
    try:
        with open("/proc/thread-self/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[36])  # "processor", the 39th field
    except (OSError, ValueError, IndexError):
        return None


def pin_here() -> set[int] | None:
    """Keep the calling thread on the CPU it runs on now; returns the CPUs it had, for restore()
    (None: nothing was pinned). Chosen anew for each grading, wherever the kernel put it."""
    if len(_allowed) < 2 or _beside_others:
        return None
    cpu = _current_cpu()
    if cpu not in _allowed:
        return None
    try:
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError, ValueError):
        return None
    return before


def restore(before: set[int] | None) -> None:
    """Give the calling thread back the CPUs pin_here() took from it."""
    if before:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            os.sched_setaffinity(0, before)


@contextlib.contextmanager
def unpinned():
    """Let the calling thread (and what it starts) run anywhere for a while: a worker's start.

    (sandbox.spawn starts workers from its own long-lived thread, which is made, by the first
    spawn, with the mask of the thread that asks: this keeps that mask whole.)
    """
    allowed = _allowed
    try:
        before = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        before = None
    changed = bool(allowed) and before is not None and before != allowed
    if changed:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, allowed)
    try:
        yield
    finally:
        if changed:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, before)
