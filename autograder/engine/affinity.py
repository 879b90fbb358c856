"""One CPU shared by a grading and its worker, once the worker has started.

A grading is ~1,000 round trips into the worker, and each side waits while
the other works. On two CPUs every message wakes the other one (on a VM an
inter-processor interrupt, tens of microseconds), which cost 10-20% of a
grading here (bench/defences.py and BENCHMARKS.md). So the grader's thread
and its loaded worker share one CPU: the "home" CPU of this process, the one
its first grading ran on. Starting a worker (Python and NumPy) still runs on
any CPU, beside the grader's own work.

Only speed depends on this: the worker pins itself (no privilege needed),
and a submission that unpins itself slows only its own grading, which its
cgroup's one-CPU quota bounds anyway. Where affinity cannot be set, or only
one CPU is allowed, nothing is pinned.

Nor is anything pinned in the processes of a parallel batch (--jobs 2 and
more): a job held on one CPU could not leave it, and a classmate's worker,
free to pin itself anywhere, could spin on that CPU and take half of it for
as long as its calls ran (time limits are wall time). Unpinned, the kernel
moves a job away from a busy CPU, and pinning gained nothing there (0.97x).
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
_home: int | None = None
# A process grading beside others of its batch (a pool process): never pinned (see above).
_beside_others = False


def stay_unpinned() -> None:
    """This process grades beside other processes of a batch: pin nothing in it."""
    global _beside_others
    _beside_others = True


def home() -> int | None:
    """This process's home CPU, chosen on first use (the one it runs on); None: do not pin."""
    global _home
    allowed = _allowed
    if len(allowed) < 2 or _beside_others:
        return None
    if _home is None:
        _home = _current_cpu()
        if _home not in allowed:
            _home = min(allowed)
    return _home if _home in allowed else None


def _current_cpu() -> int | None:
    try:
        with open("/proc/thread-self/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[36])  # "processor", the 39th field
    except (OSError, ValueError, IndexError):
        return None


def pin_here(cpu: int | None) -> set[int] | None:
    """Keep the calling thread on `cpu`; returns the CPUs it had, for restore() (None: nothing done)."""
    if cpu is None:
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
