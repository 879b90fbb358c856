"""One CPU shared by a grading and its worker, once the worker has started.

A grading is ~1,000 round trips into the worker, and each side waits while
the other works. On two CPUs every message wakes the other one (on a VM an
inter-processor interrupt, tens of microseconds), which cost ~20% of a
grading here (bench/per_submission.py and BENCHMARKS.md). So the grader's
thread and its loaded worker share one CPU: the "home" CPU of this process,
claimed per pool process in a batch so that parallel jobs use different
CPUs. Starting a worker (Python and NumPy) still runs on any CPU, beside
the grader's own work.

Only speed depends on this: the worker pins itself (no privilege needed),
and a submission that unpins itself slows only its own grading, which its
cgroup's one-CPU quota bounds anyway. Where affinity cannot be set, or only
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
_home: int | None = None


def claim(cpu: int | None) -> None:
    """Make `cpu` this process's home (a batch gives each pool process its own; None: choose later)."""
    global _home
    if cpu is not None:
        _home = cpu


def spread(jobs: int) -> list[int | None]:
    """The home CPUs of `jobs` parallel gradings: one each, round the allowed CPUs."""
    cpus = sorted(_allowed)
    return [cpus[i % len(cpus)] if cpus else None for i in range(jobs)]


def claim_slot(folder: str, homes: list[int | None]) -> None:
    """Claim the first of `homes` no other process of the batch has, by making its file in `folder`.

    (Files, not a multiprocessing queue: a pool stopped by a signal would leave
    its semaphores behind, and Python warns about them.)
    """
    for index, cpu in enumerate(homes):
        try:
            os.close(os.open(os.path.join(folder, str(index)), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            continue
        except OSError:
            return
        claim(cpu)
        return


def home() -> int | None:
    """This process's home CPU, chosen on first use (the one it runs on); None: do not pin."""
    global _home
    allowed = _allowed
    if len(allowed) < 2:
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
    """Let the calling thread (and what it starts) run anywhere for a while: a worker's start."""
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
