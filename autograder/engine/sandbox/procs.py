"""The processes a worker started, seen from /proc: children, descendants, owners; and killing
and reaping them (also every process of a worker's uid).

Hand-written on purpose, not psutil: Launch.after_call walks /proc after every call into student
code, and psutil answers each question here 2.5x to 160x slower (its children() reads the stat
file of every process on the host; bench/procs.py, BENCHMARKS.md section 13).
"""

from __future__ import annotations

import ctypes
import os
import signal


def children(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's), from /proc: cheap enough to ask after every call."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return found


def main_thread_children(pid: int | None) -> list[int]:
    """Children of a single-threaded process of ours (the sandbox's init): one read."""
    if pid is None:
        return []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except (OSError, ValueError):
        return []


def descendants(pid: int) -> list[int]:
    found, pending = [], children(pid)
    while pending:
        child = pending.pop()
        found.append(child)
        pending += children(child)
    return found


def kill_pids(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def owner(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def reap_orphans(keep) -> None:
    """Wait for dead processes re-parented to us (we are a subreaper): a sandbox's init that
    outlived its bwrap, say. Unreaped, each keeps its pid, and a submission's pid cap fills up.
    The pids in `keep` (live workers) are left to their own Popen."""
    for pid in children(os.getpid()):
        if pid in keep:
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state == b"Z":
                os.waitpid(pid, os.WNOHANG)
        except (OSError, IndexError, ChildProcessError):
            continue


def become_subreaper() -> bool:
    """Make processes that detach from a worker (setsid, double fork) our children, not init's.

    Then the plain-subprocess level can still find and kill them. Linux only.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def kill_strays(keep: set[int]) -> None:
    """Kill every descendant of this process except the workers in `keep` (and theirs)."""
    for child in children(os.getpid()):
        if child in keep:
            continue
        kill_pids([child, *descendants(child)])
        try:
            os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            pass


def kill_all_of_uid(uid: int) -> None:
    """Kill every process running as `uid`, however it detached (setsid, double fork)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)  # every process this uid may signal, except us
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
