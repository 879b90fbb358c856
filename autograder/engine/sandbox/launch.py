"""One started worker's life: pausing it between calls, killing what it left running, its disk
cap outside a namespace, and its end; and the launches still alive in this process."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field

from ..kinds import Level
from .disk import SCRATCH, bytes_under, free_bytes, remove_files_of_uid, remove_tree, unlinked_bytes
from .procs import children, descendants, kill_all_of_uid, kill_pids, kill_strays, main_thread_children, owner, reap_orphans

# How long a worker of one thread may run between two calls (one gap, all gaps) before it is
# stopped after every call (Launch.pause).
RESTLESS_GAP_NS = 500_000
RESTLESS_TOTAL_NS = 20_000_000


# Every launch not yet killed, by the pid of the process started: the workers whose processes
# are ours (not strays), and what shutdown() ends (their folders too) when the process exits.
_live_launches: dict[int, "Launch"] = {}


def shutdown() -> None:
    """Kill every worker this process started and remove what each left (its folder, its uid's
    files): a spare started for a next submission that never came, or the sandbox probe's, would
    otherwise outlive a process that leaves with os._exit."""
    for launch in list(_live_launches.values()):
        try:
            launch.kill()
        except Exception:  # noqa: BLE001 - on the way out: do what can be done
            continue


def live_workers() -> list[int]:
    """The pids of the workers this process started and has not killed (each leads its process group)."""
    return list(_live_launches)


@dataclass
class Launch:
    """One started worker process and what is needed to clean up after it."""

    process: subprocess.Popen
    workdir: str | None
    uid: int | None
    level: Level
    disk_mb: int = 64
    _worker_pid: int | None = None
    _paused: bool = False
    _inner_pid: int | None = None
    # Free space of its folder and the host's scratch folders when it started (disk_exceeded).
    free_at_start: dict = field(default_factory=dict)
    # The host's world-writable folders (Isolation.shared_folders), counted and cleaned for its uid.
    shared_folders: list = field(default_factory=list)
    # The submission's SubmissionCaps when the worker runs in its cgroups.
    caps: object = None
    # Descriptors of the worker's /proc files read after every call (see _read_proc).
    _proc_fds: dict = field(default_factory=dict)
    # The worker's main-thread CPU time when it was last left running after a call, and
    # how much it has run between calls in all.
    _ran_at_pause: int | None = None
    _ran_between_calls: int = 0
    # Seen running between calls, or leaving processes behind: stopped after every call.
    restless: bool = False

    def worker_pid(self) -> int | None:
        """The host pid of the Python worker: bwrap's grandchild in the namespace sandbox."""
        if self._worker_pid is None:
            if self.level != Level.NAMESPACE:
                self._worker_pid = self.process.pid
            else:
                inner = children(self.process.pid)
                workers = children(inner[0]) if len(inner) == 1 else []
                if len(workers) == 1:
                    self._inner_pid, self._worker_pid = inner[0], workers[0]
        return self._worker_pid

    def enlist(self, caps) -> None:
        """Count this launch among its submission's workers (see after_call)."""
        self.caps = caps
        caps.launches.append(self)

    def track(self) -> None:
        """Count this launch among the live ones: its processes are not strays, and shutdown() ends it."""
        _live_launches[self.process.pid] = self

    def pids(self) -> list[int]:
        """The started process and everything under it (to move into a submission's cgroups)."""
        return [self.process.pid, *descendants(self.process.pid)]

    def pause(self) -> int | None:
        """Between calls, keep the submission from running; returns the worker's thread count.

        A worker with several threads, or one seen running between calls
        before (`restless`), is stopped (SIGSTOP; a fork in flight when the
        stop arrives is undone by the kernel). One of one thread is normally
        blocked on its next request, and stopping and waking it costs each
        call ~0.1 ms of cross-CPU wake-ups: instead its main thread's CPU time
        is noted here and compared in resume(), so a timer's handler or code
        run after its reply is caught after one gap.
        """
        threads = self.threads()
        if threads is None:
            return None
        if threads > 1 or self.restless:
            self._stop()
        else:
            self._ran_at_pause = self._runtime()
        return threads

    def _stop(self) -> None:
        pid = self.worker_pid()
        if pid is None or pid <= 0:  # (kill(0) would stop the grader's own process group)
            return
        try:
            os.kill(pid, signal.SIGSTOP)
            self._paused = True
        except (ProcessLookupError, PermissionError):
            pass

    def resume(self) -> None:
        pid = self.worker_pid()
        if pid is not None and self._paused:
            self._paused = False
            try:
                os.kill(pid, signal.SIGCONT)
            except (ProcessLookupError, PermissionError):
                pass
        elif self._ran_at_pause is not None:
            ran = self._runtime()
            if ran is not None:
                gap = ran - self._ran_at_pause
                self._ran_between_calls += gap
                # An honest worker runs a few microseconds after its reply (measured: median 0,
                # at most ~55 us); more, in one gap or in all, and it is stopped from now on.
                if gap > RESTLESS_GAP_NS or self._ran_between_calls > RESTLESS_TOTAL_NS:
                    self.restless = True
        self._ran_at_pause = None

    def _runtime(self) -> int | None:
        """Nanoseconds the worker's main thread has run."""
        data = self._read_proc("schedstat")
        try:
            return int(data.split()[0]) if data else None
        except (ValueError, IndexError):
            return None

    def _read_proc(self, name: str) -> bytes | None:
        """/proc/<worker>/<name> as it is now, from a descriptor opened once (opening is what costs)."""
        pid = self.worker_pid()
        if pid is None:
            return None
        try:
            fd = self._proc_fds.get(name)
            if fd is None:
                fd = self._proc_fds[name] = os.open(f"/proc/{pid}/{name}", os.O_RDONLY | os.O_CLOEXEC)
            return os.pread(fd, 4096, 0)
        except OSError:
            return None

    def after_call(self) -> int:
        """Between two calls: keep the worker from running (pause), and kill what it left running.

        Returns how many processes were killed. Where the worker runs in its
        submission's cgroups, their task count shows whether anything but the
        workers runs (two reads of open files, ~10 us); only then is /proc
        walked (~100 us). A worker that left processes is stopped from then on.
        """
        threads = self.pause()
        if self.caps is not None and self._only_workers_run(threads):
            return 0
        killed = self._kill_others_in_cgroup()
        if killed is None:
            killed = self.kill_strays()
        if killed and not self._paused:
            self.restless = True
            self._stop()
            self._ran_at_pause = None
        return killed

    def threads(self) -> int | None:
        """How many threads the worker has now."""
        data = self._read_proc("stat")
        try:
            return int(data.rsplit(b")", 1)[1].split()[17]) if data else None  # num_threads, the 20th field
        except (ValueError, IndexError):
            return None

    def own_pids(self) -> set[int] | None:
        """The processes of this launch that are ours: bwrap's two and the worker (None while starting)."""
        worker = self.worker_pid()
        if worker is None:
            return None
        return {self.process.pid, worker} | ({self._inner_pid} if self.level == Level.NAMESPACE else set())

    def _kill_others_in_cgroup(self, rounds: int = 50) -> int | None:
        """Kill every process in the submission's cgroups that is not a worker's, until none is left.

        A list of /proc taken, then killed, misses a chain that forks and exits
        in between; the cgroup holds every descendant however it was born, so
        this reads it again after each kill until it holds only the workers.
        None when it cannot tell (no cgroup, a worker still starting): walk /proc.
        """
        if self.caps is None:
            return None
        known: set[int] = set()
        for launch in list(self.caps.launches):
            own = launch.own_pids()
            if own is None:
                return None
            known |= own
        killed: set[int] = set()
        for _ in range(rounds):
            members = self.caps.procs()
            if not members:  # the workers at least are there: the groups could not be read
                return None if not killed else len(killed)
            others = members - known
            if not others:
                break
            kill_pids(others)
            killed |= others
        return len(killed)

    def _only_workers_run(self, threads: int | None) -> bool:
        """True when the cgroups hold nothing but the workers: every task in them is ours.

        Only for workers of one thread, counted first (after the stop was
        sent): a worker keeps its one thread while it lives, so a stray always
        shows as a task more. A worker with more threads is looked at the long
        way, since one of its threads could exit between the two counts.
        """
        expected = 0
        for launch in list(self.caps.launches):
            own = launch.own_pids()
            if own is None or (launch.threads() if launch is not self else threads) != 1:
                return False  # one still starting, or several threads
            expected += len(own)  # one task each: bwrap's two (in the sandbox) and the worker's one thread
        return self.caps.tasks() == expected

    def kill_strays(self, rounds: int = 50) -> int:
        """Kill every process the submission started and left running; returns how many.

        Seen from outside: the worker's descendants, what was re-parented to
        the sandbox's init (a double fork), and, outside a sandbox, what was
        re-parented to the grader (we are a subreaper). A chain that forks and
        exits can be born between a walk and its kill, so the walk is repeated
        until it finds nothing new (a killed process may linger as a zombie).
        """
        killed: set[int] = set()
        for _ in range(rounds):
            fresh = set(self._strays()) - killed
            if not fresh:
                break
            kill_pids(fresh)
            killed |= fresh
        return len(killed)

    def _strays(self) -> list[int]:
        worker = self.worker_pid()
        if worker is None:
            return []
        strays = descendants(worker)
        if self.level == Level.NAMESPACE:
            # Everything in the sandbox descends from its init (bwrap, one thread), where
            # orphans land too: its other children, and theirs.
            for pid in main_thread_children(self._inner_pid):
                if pid != worker:
                    strays += [pid, *descendants(pid)]
        else:
            orphans = [pid for pid in children(os.getpid()) if pid not in _live_launches]
            # Our own helpers (a worker being started by another thread) run as us, never as its uid.
            strays += [pid for pid in orphans if self.uid is None or owner(pid) == self.uid]
        return strays

    def disk_exceeded(self) -> bool:
        """Outside a sandbox the worker writes to the host's disk: has it written more than its cap?

        Its own folder is measured each time; the host's scratch folders only
        once free space has dropped by the cap (then only this uid's files
        there count, so a classmate's worker is never blamed).
        """
        if self.level == Level.NAMESPACE or not self.free_at_start:
            return False
        cap = self.disk_mb * 1024 * 1024
        own = bytes_under(self.workdir, cap) if self.workdir else 0
        if own > cap:
            return True
        now = free_bytes(self.free_at_start)
        if all(self.free_at_start[f] - now.get(f, self.free_at_start[f]) <= cap for f in self.free_at_start):
            return False
        if self.uid is None:
            return True  # no uid of its own: nothing to tell its files from others'
        named = own + sum(bytes_under(f, cap, self.uid) for f in self.shared_folders or SCRATCH)
        # Files deleted but kept open have no name to walk to: count them from the processes' fds.
        return named > cap or named + unlinked_bytes(self.pids()) > cap

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.uid is not None and self.level != Level.NAMESPACE:
            kill_all_of_uid(self.uid)
            remove_files_of_uid(self.uid, self.shared_folders or SCRATCH)
        elif self.level != Level.NAMESPACE:
            # procs.kill_strays (all below this process but the other workers), not the method.
            kill_strays(keep=set(_live_launches) - {self.process.pid})
        _live_launches.pop(self.process.pid, None)
        for fd in self._proc_fds.values():
            os.close(fd)
        self._proc_fds.clear()
        if self.caps is not None:
            self.caps.launches[:] = [launch for launch in self.caps.launches if launch is not self]
        reap_orphans(keep=_live_launches)
        if self.workdir:
            remove_tree(self.workdir)
