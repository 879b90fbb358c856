"""Limits that hold for a whole submission, not for one of its processes.

A submission's workers, everything they start, and the files they write in
their RAM-backed folders share one memory cap, one process count and one
CPU share: a cgroup per submission, where the host lets us make one (root,
and cgroup v1 or v2 mounted writable). Where it does not (Gradescope's
containers, a user without root), the worker's per-process rlimits are all
there is, and the result says so: `levels` is reported in every grade.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

from .kinds import Scope

CGROUP_ROOT = Path(os.environ.get("AUTOGRADER_CGROUP_ROOT", "/sys/fs/cgroup"))
V1_CONTROLLERS = ("memory", "pids", "cpu")
_serial = itertools.count(1)


def _write(path: Path, value) -> bool:
    try:
        path.write_text(f"{value}\n")
        return True
    except OSError:
        return False


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def _v2() -> bool:
    return (CGROUP_ROOT / "cgroup.controllers").is_file()


class SubmissionCaps:
    """One submission's cgroup(s), or none; `levels` says which caps hold and how."""

    def __init__(self, memory_mb: int, processes: int, cpus: float = 1.0):
        self.groups: list[Path] = []
        # The sandbox.Launch of every worker started or adopted into the groups, until killed.
        self.launches: list = []
        self._tasks_fd: int | None = None
        # How far each limit reaches: as data (scopes), and as people read it (levels).
        self.scopes: dict[str, Scope] = {}
        self.levels: dict[str, str] = {}
        self._per_process(processes)
        if os.environ.get("AUTOGRADER_CGROUPS", "auto") == "off" or os.geteuid() != 0:
            return
        name = f"autograder/{os.getpid()}-{next(_serial)}"
        try:
            if _v2():
                self._make_v2(name, memory_mb, processes, cpus)
            else:
                self._make_v1(name, memory_mb, processes, cpus)
        except OSError:
            self.remove()
            self.groups = []
            self._per_process(processes)

    def _per_process(self, processes: int) -> None:
        """The limits without a cgroup: the worker's own rlimits."""
        self.scopes = {"memory": Scope.PROCESS, "processes": Scope.UID if processes else Scope.NONE, "cpu": Scope.NONE}
        self.levels = {"memory": "per process (rlimit)", "processes": "per uid (rlimit)" if processes else "none",
                       "cpu": "none"}

    def _held(self, limit: str, how: str) -> None:
        """`limit` holds for the whole submission, in its cgroup: `how` says which and with what."""
        self.scopes[limit] = Scope.SUBMISSION
        self.levels[limit] = how

    def _make_v1(self, name: str, memory_mb: int, processes: int, cpus: float) -> None:
        made = {}
        for controller in V1_CONTROLLERS:
            top = CGROUP_ROOT / controller
            if not (top / "cgroup.procs").is_file():
                continue
            group = top / name
            group.mkdir(parents=True, exist_ok=True)
            self.groups.append(group)
            made[controller] = group
        if "memory" in made:
            limit = memory_mb * 1024 * 1024
            if _write(made["memory"] / "memory.limit_in_bytes", limit):
                _write(made["memory"] / "memory.memsw.limit_in_bytes", limit)  # no escape into swap
                self._held("memory", "per submission (cgroup v1, tmpfs included)")
        if "pids" in made and processes and _write(made["pids"] / "pids.max", processes):
            self._held("processes", "per submission (cgroup v1)")
        if "pids" in made:
            self._tasks_fd = _open(made["pids"] / "pids.current")
        if "cpu" in made and _write(made["cpu"] / "cpu.cfs_quota_us", int(100_000 * cpus)):
            _write(made["cpu"] / "cpu.cfs_period_us", 100_000)
            self._held("cpu", f"{cpus:g} CPU per submission (cgroup v1)")
        if not made:
            raise OSError("no cgroup v1 controller is mounted")

    def _make_v2(self, name: str, memory_mb: int, processes: int, cpus: float) -> None:
        top = CGROUP_ROOT / "autograder"
        top.mkdir(exist_ok=True)
        # Controllers must be enabled on the way down for the group to have their files.
        _write(CGROUP_ROOT / "cgroup.subtree_control", "+memory +pids +cpu")
        _write(top / "cgroup.subtree_control", "+memory +pids +cpu")
        group = CGROUP_ROOT / name
        group.mkdir()
        self.groups.append(group)
        if _write(group / "memory.max", memory_mb * 1024 * 1024):
            _write(group / "memory.swap.max", 0)
            self._held("memory", "per submission (cgroup v2, tmpfs included)")
        if processes and _write(group / "pids.max", processes):
            self._held("processes", "per submission (cgroup v2)")
        self._tasks_fd = _open(group / "pids.current")
        if _write(group / "cpu.max", f"{int(100_000 * cpus)} 100000"):
            self._held("cpu", f"{cpus:g} CPU per submission (cgroup v2)")

    @property
    def active(self) -> bool:
        return bool(self.groups)

    def wrap(self, command: list[str]) -> list[str]:
        """`command`, started inside this submission's cgroups before it runs anything.

        The shell joins the groups and then becomes the command (exec), so
        every process the worker ever starts is born inside them.
        """
        if not self.groups:
            return command
        join = 'for f; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 126; shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", join, "autograder-join", *(str(g / "cgroup.procs") for g in self.groups), "--", *command]

    def adopt(self, pids) -> bool:
        """Move already running processes (a worker started before the submission) into the groups."""
        try:
            for group in self.groups:
                for pid in pids:
                    (group / "cgroup.procs").write_text(f"{pid}\n")
            return True
        except OSError:
            return False

    def tasks(self) -> int | None:
        """How many tasks (threads of every process) the groups hold now; None where not counted.

        Read after every call, so from a descriptor kept open: opening a
        cgroup file costs ~50 us, reading an open one ~2 us.
        """
        if self._tasks_fd is None:
            return None
        try:
            return int(os.pread(self._tasks_fd, 32, 0))
        except (OSError, ValueError):
            return None

    def procs(self) -> set[int]:
        found: set[int] = set()
        for group in self.groups:
            try:
                found |= {int(p) for p in (group / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                continue
        return found

    def kill_all(self, wait: float = 2.0) -> None:
        """SIGKILL everything in the groups, until they are empty (or `wait` runs out)."""
        until = time.monotonic() + wait
        while True:
            left = self.procs()
            if not left or time.monotonic() > until:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        """Kill what is left and remove the groups; never raises."""
        if self._tasks_fd is not None:
            os.close(self._tasks_fd)
            self._tasks_fd = None
        self.kill_all()
        for group in self.groups:
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.groups = []
