"""Starting a worker process with the strongest isolation this host allows.

Levels (AUTOGRADER_ISOLATION=namespace|user|none forces one; auto tries the
first two, in order, and never falls back to none):

- namespace: bubblewrap puts the worker in its own mount, PID, network, IPC
  and UTS namespaces. Its file system is an allow-list: the interpreter,
  its standard library (with every site-packages folder masked), the
  system's shared libraries, the packages the assignment allows (NumPy),
  and two size-capped RAM folders (its home and /tmp). Nothing else exists
  there: not the kit, the reference, the hidden suites, other submissions,
  nor a banned package installed beside NumPy. Run as root, the worker also
  drops to a uid of its own.
- user: when namespaces are refused (Gradescope's containers, for instance)
  but we are root, the worker drops to an unused uid. It sees the host's
  files as any other user would, so this level refuses to grade (with the
  chmod that fixes it) while anything it must hide is readable by others:
  the kit, the submissions, the output folder, a banned package.
- none: only when asked for by name. A plain subprocess with resource
  limits; as root it still drops to an unused uid (student code never runs
  as root). Every result carries a warning.

In every level the worker sets its own per-process limits before it reads
any student code; caps.py adds per-submission ones where the host allows.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .kinds import Level

ENGINE_DIR = Path(__file__).resolve().parent
WORKER_FILES = ("worker.py", "wire.py", "text.py")
LEVELS = tuple(level.value for level in Level)
# Uids for workers when we are root: far above any account a system creates.
UID_BASE = 1_900_000_000
# How long a worker of one thread may run between two calls (one gap, all gaps) before it is
# stopped after every call (Launch.pause).
RESTLESS_GAP_NS = 500_000
RESTLESS_TOTAL_NS = 20_000_000
# Where the worker's writable folder appears inside the namespace sandbox.
SANDBOX_HOME = "/home/student"
# Where the packages an assignment allows (NumPy) appear inside it.
SANDBOX_SITE = "/grader/site"


@dataclass
class Isolation:
    level: Level
    python: str
    description: str
    warnings: list[str] = field(default_factory=list)
    layout: dict = field(default_factory=dict)
    hidden_paths: list[str] = field(default_factory=list)
    # Each of the worker's RAM folders (home, /tmp) holds at most this much.
    disk_mb: int = 64
    # Outside a namespace sandbox: the host's world-writable folders, where a worker's uid
    # can write besides its own folder (shared_writable_folders).
    shared_folders: list[str] = field(default_factory=list)
    # The seccomp filter every worker runs under (syscalls.program), and what it denies or why it is missing.
    seccomp: bytes | None = None
    seccomp_about: str = ""

    def summary(self) -> str:
        return self.description + "".join(f" Warning: {w}" for w in self.warnings)


_uid_lock = threading.Lock()
_uid_serial = 0


def next_worker_uid() -> int:
    """A uid no other live worker of this host uses: per grading process, rotating."""
    global _uid_serial
    with _uid_lock:
        _uid_serial += 1
        # Live pids are unique (pid_max is at most 2**22), so two grading processes never share a uid.
        return UID_BASE + os.getpid() * 16 + _uid_serial % 16


def worker_python() -> str:
    return os.environ.get("AUTOGRADER_WORKER_PYTHON") or sys.executable


def _cache_file() -> Path | None:
    # In the user's own cache folder, never a shared /tmp: bind paths read from
    # a file someone else could write would let them widen the sandbox.
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "autograder" / "python-layout-3.json"


# Run by the worker's Python: where its parts live. Argument: packages to find.
_LAYOUT_PROBE = r"""
import glob, importlib.util, json, os, site, sys, sysconfig
real = os.path.realpath
# The base interpreter's own library (a venv adds only site-packages, which are not shown).
stdlib = sorted({real(os.path.dirname(os.__file__))} | {real(p) for p in sys.path if p.endswith("lib-dynload")})
sites = set(site.getsitepackages()) | {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
libdir = sysconfig.get_config_var("LIBDIR") or ""
packages = {}
for name in sys.argv[1:]:
    spec = importlib.util.find_spec(name)
    if spec is None:
        continue
    if spec.submodule_search_locations:
        folder = real(list(spec.submodule_search_locations)[0])
        packages[name] = folder
        if os.path.isdir(folder + ".libs"):  # a wheel's bundled shared libraries (numpy.libs)
            packages[name + ".libs"] = folder + ".libs"
    elif spec.origin:
        packages[name] = real(spec.origin)
print(json.dumps({
    "executable": real(sys.executable),
    "stdlib": stdlib,
    "site": sorted({real(p) for p in sites}),
    "libpython": sorted({real(p) for p in glob.glob(os.path.join(libdir, "libpython*.so*"))}),
    "multiarch": sysconfig.get_config_var("MULTIARCH") or "",
    "packages": packages,
}))
"""


def python_layout(python: str, packages: tuple[str, ...] = ("numpy",)) -> dict:
    """Where the worker's Python keeps what it needs, remembered per interpreter and package list."""
    import json

    real = os.path.realpath(python)
    try:
        key = f"{python}|{real}|{os.stat(real).st_mtime_ns}|{os.stat(python).st_mtime_ns}|{','.join(packages)}"
    except OSError:
        return _probe_layout(python, packages)
    cache = _cache_file()
    try:
        known = json.loads(cache.read_text()) if cache and cache.is_file() else {}
    except (OSError, ValueError):
        known = {}
    layout = known.get(key)
    if isinstance(layout, dict) and all(os.path.exists(p) for p in [layout.get("executable", ""), *layout.get("stdlib", [])]):
        return layout
    layout = _probe_layout(python, packages)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        known[key] = layout
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        tmp.replace(cache)
    except OSError:
        pass  # no cache: the probe runs next time too
    return layout


def _probe_layout(python: str, packages: tuple[str, ...]) -> dict:
    import json

    out = subprocess.run(
        [python, "-I", "-c", _LAYOUT_PROBE, *packages], capture_output=True, text=True, timeout=60, env=_clean_env("/tmp")
    )
    if out.returncode != 0:
        raise RuntimeError(f"{python} could not report where its parts live: {out.stderr.strip().splitlines()[-1:]}")
    layout = json.loads(out.stdout)
    missing = [p for p in packages if p not in layout["packages"]]
    if missing:
        raise RuntimeError(f"{python} cannot import {', '.join(missing)}, which the assignment allows")
    return layout


def find_modules(python: str, names: tuple[str, ...]) -> dict[str, str]:
    """Where `python` (with its site-packages) finds each of these modules: {name: path}."""
    import json

    probe = (
        "import importlib.util, json, os, sys\n"
        "found = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        spec = importlib.util.find_spec(name)\n"
        "    except Exception:\n"
        "        spec = None\n"
        "    if spec is not None:\n"
        "        where = list(spec.submodule_search_locations or []) or [spec.origin or '']\n"
        "        found[name] = os.path.realpath(where[0])\n"
        "print(json.dumps(found))\n"
    )
    out = subprocess.run([python, "-I", "-c", probe, *names], capture_output=True, text=True, timeout=120,
                         env=_clean_env("/tmp"))
    try:
        return json.loads(out.stdout) if out.returncode == 0 else {}
    except ValueError:
        return {}


def _clean_env(home: str) -> dict[str, str]:
    """The worker's whole environment: nothing of ours (no secrets) crosses."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home if home != SANDBOX_HOME else "/tmp",  # outside a sandbox: its own scratch, not the shared /tmp
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }


def under(path: str, folders) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def system_library_folders(multiarch: str) -> list[str]:
    """Folders of the system's shared libraries (libc, libm, libz, OpenBLAS...): never /usr itself."""
    found = []
    for top in ("/lib", "/usr/lib"):
        folder = os.path.join(top, multiarch) if multiarch else ""
        if folder and os.path.isdir(folder) and not os.path.islink(top):
            found.append(folder)
    for folder in ("/lib64", "/usr/lib64", "/lib32", "/libx32"):
        if os.path.isdir(folder) and not os.path.islink(folder):
            found.append(folder)
    return found


def bwrap_command(iso: Isolation, as_root: bool) -> list[str]:
    """The worker's command under bubblewrap, with an allow-list file system."""
    layout = iso.layout
    bwrap = os.environ.get("AUTOGRADER_BWRAP") or shutil.which("bwrap") or "bwrap"
    cmd = [
        bwrap, "--die-with-parent", "--new-session",
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
    ]
    if not as_root:
        cmd.append("--unshare-user")
    binds = [layout["executable"], *layout["stdlib"], *layout["libpython"],
             *system_library_folders(layout.get("multiarch", ""))]
    for name in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(name):
            binds.append(name)
    binds = [b for i, b in enumerate(binds) if b not in binds[:i] and not under(b, binds[:i])]
    packages = {f"{SANDBOX_SITE}/{name}": path for name, path in sorted(layout["packages"].items())}
    links = [(os.readlink(top), top) for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
             if os.path.islink(top)]
    # bwrap makes missing parent folders root-only; the worker, once it drops to
    # its own uid, must still walk through them to its Python and its home.
    targets = [*binds, *packages, SANDBOX_HOME, "/tmp", "/grader/worker.py"]
    parents = sorted({str(q) for t in targets for q in Path(t).parents if str(q) != "/"}, key=len)
    for parent in parents:
        if not under(parent, binds) and parent not in (top for _, top in links):
            cmd += ["--perms", "0755", "--dir", parent]
    for target, top in links:
        cmd += ["--symlink", target, top]
    for path in binds:
        cmd += ["--ro-bind", path, path]
    # Third-party packages in the standard library's folder (a Python built
    # from source keeps site-packages there) are masked: only the allowed
    # ones are shown, under SANDBOX_SITE.
    for folder in layout["stdlib"]:
        for name in ("site-packages", "dist-packages"):
            if os.path.isdir(os.path.join(folder, name)):
                cmd += ["--tmpfs", os.path.join(folder, name)]
    for site in layout["site"]:
        if under(site, binds) and os.path.isdir(site):
            cmd += ["--tmpfs", site]
    for target, path in packages.items():
        cmd += ["--ro-bind", path, target]
    for path in iso.hidden_paths:
        cmd += ["--tmpfs", path]
    size = str(iso.disk_mb * 1024 * 1024)
    cmd += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    cmd += ["--perms", "1777", "--size", size, "--tmpfs", SANDBOX_HOME]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--chdir", SANDBOX_HOME]
    for name in WORKER_FILES:
        cmd += ["--ro-bind", str(ENGINE_DIR / name), f"/grader/{name}"]
    return cmd + ["--", layout["executable"], "-I", "-S", "/grader/worker.py"]


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


class SandboxUnavailable(RuntimeError):
    """No isolation level can start a worker here: nothing can be graded."""


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


def _main_thread_children(pid: int | None) -> list[int]:
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


def _kill_pids(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def remove_tree(path: str) -> None:
    """Remove a folder whatever it holds (a tree too deep for rmtree, files made read-only)."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:  # rmtree recurses per level; ignore_errors covers only OSError
        pass
    if os.path.lexists(path):
        subprocess.run(["rm", "-rf", "--one-file-system", "--", path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=False)


def _owner(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _bytes_under(folder: str, cap: int, uid: int | None = None, max_entries: int = 20_000,
                 max_walked: int = 200_000) -> int:
    """Disk space used under `folder` (by `uid`'s files only, if given); past `cap` it stops and
    answers more than the cap.

    Entries of `uid`'s own are counted: past `max_entries` of them the submission has made too
    many files to look at, which is over its cap too (crowding a folder must not switch the
    count off). Others' entries in a shared folder are skipped, and past `max_walked` in all the
    walk stops (a busy host's /tmp is not the submission's doing).
    """
    total, own, walked, pending = 0, 0, 0, [folder]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                walked += 1
                if walked > max_walked:
                    return total if uid is not None else cap + 1
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                mine = uid is None or st.st_uid == uid
                if mine:
                    own += 1
                    if own > max_entries:
                        return cap + 1
                if entry.is_dir(follow_symlinks=False):
                    # It can write only into folders of its own (or world-writable ones, like
                    # the top folder itself): others' trees need no walking.
                    if mine or st.st_mode & 0o002:
                        pending.append(entry.path)
                elif mine:
                    total += st.st_blocks * 512
                    if total > cap:
                        return total
    return total


def _unlinked_bytes(pids) -> int:
    """Space held by files these processes keep open after deleting them (no name to walk to)."""
    total, seen = 0, set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(f"/proc/{pid}/fd/{fd}")  # the open file itself
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 0 and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


# File systems with nothing a worker could fill: the kernel's views, not storage.
_VIRTUAL_FS = {"proc", "sysfs", "cgroup", "cgroup2", "devpts", "debugfs", "tracefs", "securityfs", "bpf",
               "configfs", "fusectl", "pstore", "binfmt_misc", "autofs", "efivarfs", "selinuxfs", "nsfs"}


def _virtual_mounts() -> set[str]:
    found = set()
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2] in _VIRTUAL_FS:
                    found.add(parts[1].replace("\\040", " "))
    except OSError:
        pass
    return found


_shared_folders: list[str] | None = None


def shared_writable_folders() -> list[str]:
    """Every folder on this host that any user may write to (/tmp, /var/tmp, /dev/shm, /run/lock, ...).

    Outside a namespace sandbox, these (and folders the worker makes inside
    them) are the only places a worker's uid can write besides its own
    folder, so the disk cap counts its files there and cleanup removes them.
    Found by walking the host's file systems once per process (~1 s for
    450,000 entries here; only folders are stat'ed), in the detection thread.
    Nested ones are covered by the outermost.
    """
    global _shared_folders
    if _shared_folders is not None:
        return _shared_folders
    skip = _virtual_mounts()
    found: list[str] = []
    pending = ["/"]
    while pending:
        folder = pending.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if not entry.is_dir(follow_symlinks=False) or entry.path in skip:
                        continue
                    if entry.stat(follow_symlinks=False).st_mode & stat.S_IWOTH:
                        found.append(entry.path)
                        continue  # what lies inside is walked by the disk check and cleanup
                except OSError:
                    continue
                pending.append(entry.path)
    _shared_folders = sorted(found)
    return _shared_folders


def free_bytes(folders) -> dict[str, int]:
    found = {}
    for folder in folders:
        try:
            st = os.statvfs(folder)
            found[folder] = st.f_bavail * st.f_frsize
        except OSError:
            continue
    return found


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
    _free_at_start: dict = field(default_factory=dict)
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
            _kill_pids(others)
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
            _kill_pids(fresh)
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
            for pid in _main_thread_children(self._inner_pid):
                if pid != worker:
                    strays += [pid, *descendants(pid)]
        else:
            orphans = [pid for pid in children(os.getpid()) if pid not in _live_launches]
            # Our own helpers (a worker being started by another thread) run as us, never as its uid.
            strays += [pid for pid in orphans if self.uid is None or _owner(pid) == self.uid]
        return strays

    def disk_exceeded(self) -> bool:
        """Outside a sandbox the worker writes to the host's disk: has it written more than its cap?

        Its own folder is measured each time; the host's scratch folders only
        once free space has dropped by the cap (then only this uid's files
        there count, so a classmate's worker is never blamed).
        """
        if self.level == Level.NAMESPACE or not self._free_at_start:
            return False
        cap = self.disk_mb * 1024 * 1024
        own = _bytes_under(self.workdir, cap) if self.workdir else 0
        if own > cap:
            return True
        now = free_bytes(self._free_at_start)
        if all(self._free_at_start[f] - now.get(f, self._free_at_start[f]) <= cap for f in self._free_at_start):
            return False
        if self.uid is None:
            return True  # no uid of its own: nothing to tell its files from others'
        named = own + sum(_bytes_under(f, cap, self.uid) for f in self.shared_folders or _SCRATCH)
        # Files deleted but kept open have no name to walk to: count them from the processes' fds.
        return named > cap or named + _unlinked_bytes(self.pids()) > cap

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
            remove_files_of_uid(self.uid, self.shared_folders or _SCRATCH)
        elif self.level != Level.NAMESPACE:
            kill_strays(keep=set(_live_launches) - {self.process.pid})
        _live_launches.pop(self.process.pid, None)
        for fd in self._proc_fds.values():
            os.close(fd)
        self._proc_fds.clear()
        if self.caps is not None:
            self.caps.launches[:] = [launch for launch in self.caps.launches if launch is not self]
        reap_orphans()
        if self.workdir:
            remove_tree(self.workdir)


def reap_orphans() -> None:
    """Wait for dead processes re-parented to us (we are a subreaper): a sandbox's init that
    outlived its bwrap, say. Unreaped, each keeps its pid, and a submission's pid cap fills up."""
    for pid in children(os.getpid()):
        if pid in _live_launches:
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state == b"Z":
                os.waitpid(pid, os.WNOHANG)
        except (OSError, IndexError, ChildProcessError):
            continue


# Where a worker may write when the host's world-writable folders are not known.
_SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")


def remove_files_of_uid(uid: int, folders=_SCRATCH) -> None:
    """What a worker's uid left in the host's world-writable folders (a later worker may get the same uid)."""
    for folder in folders:
        if os.path.isdir(folder):
            subprocess.run(["find", folder, "-xdev", "-mindepth", "1", "-user", str(uid), "-delete"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120, check=False)


def become_subreaper() -> bool:
    """Make processes that detach from a worker (setsid, double fork) our children, not init's.

    Then the plain-subprocess level can still find and kill them. Linux only.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def kill_strays(keep: set[int]) -> None:
    """Kill every descendant of this process except the workers in `keep` (and theirs)."""
    for child in children(os.getpid()):
        if child in keep:
            continue
        _kill_pids([child, *descendants(child)])
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


_spawner_pool = None


def _spawner():
    global _spawner_pool
    with _uid_lock:
        if _spawner_pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _spawner_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autograder-spawner")
        return _spawner_pool


def spawn(iso: Isolation, request_fd: int, reply_fd: int, output_fd: int, caps=None) -> Launch:
    """Start a worker; it reads requests on request_fd and replies on reply_fd.

    `caps` (a SubmissionCaps) puts it in its submission's cgroups from its first instruction.
    """
    as_root = os.geteuid() == 0
    # Student code never runs as root, whatever the level.
    uid = next_worker_uid() if as_root else None
    filter_fd = None
    if iso.level == Level.NAMESPACE:
        workdir = None  # its home is a RAM folder inside the sandbox
        cmd = bwrap_command(iso, as_root) + [str(request_fd), str(reply_fd), SANDBOX_SITE]
        if iso.seccomp:
            # bubblewrap installs the filter just before it starts the worker (its options end at "--").
            from .syscalls import program_fd

            filter_fd = program_fd(iso.seccomp)
            cmd[cmd.index("--"):cmd.index("--")] = ["--seccomp", str(filter_fd)]
        home, cwd = SANDBOX_HOME, "/"
    else:
        workdir = tempfile.mkdtemp(prefix="autograder-worker-")
        if uid is not None:
            os.chown(workdir, uid, uid)
        cmd = [iso.python, "-I", str(ENGINE_DIR / "worker.py"), str(request_fd), str(reply_fd)]
        home = cwd = workdir
    if caps is not None:
        cmd = caps.wrap(cmd)
    # Started from one long-lived thread: bwrap's --die-with-parent kills the
    # sandbox when the *thread* that started it ends, and workers are also
    # started from short-lived threads (sandbox detection, prestart).
    try:
        process = _spawner().submit(
            subprocess.Popen,
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=output_fd,
            stderr=output_fd,
            pass_fds=(request_fd, reply_fd) + ((filter_fd,) if filter_fd is not None else ()),
            cwd=cwd,
            env=_clean_env(home),
            start_new_session=True,
        ).result()
    except BaseException:
        if workdir:
            remove_tree(workdir)  # a start that failed (a full process cap, say) leaves no folder
        raise
    finally:
        if filter_fd is not None:
            os.close(filter_fd)
    launch = Launch(process=process, workdir=workdir, uid=uid, level=iso.level, disk_mb=iso.disk_mb,
                    shared_folders=list(iso.shared_folders))
    _live_launches[process.pid] = launch
    if caps is not None and caps.active:
        launch.enlist(caps)
    if workdir:
        launch._free_at_start = free_bytes([workdir, *(iso.shared_folders or _SCRATCH)])
    return launch


def readable_by_others(paths: list[Path]) -> list[str]:
    """Which of these paths another (unprivileged) user could read."""
    found = []
    for path in paths:
        if not path.exists():
            continue
        chain, ok = [path, *path.parents], True
        for part in chain[1:]:
            if not part.stat().st_mode & stat.S_IXOTH:
                ok = False
                break
        if ok and path.stat().st_mode & stat.S_IROTH:
            found.append(str(path))
    return found


def worker_setup(limits, banned, banned_why: str, packages=("numpy",)) -> dict:
    """What a worker is started with: the same for every submission of an assignment,
    so any idle worker (the sandbox probe's, say) can serve the next submission."""
    return {
        "limits": {
            "memory_mb": limits.memory_mb,
            "cpu_seconds": limits.cpu_seconds,
            "open_files": limits.open_files,
            "file_size_mb": limits.file_size_mb,
            "processes": limits.processes if os.geteuid() == 0 else 0,
            "disk_mb": limits.disk_mb,
        },
        "banned": list(banned),
        "banned_why": banned_why,
        "packages": list(packages),
    }
