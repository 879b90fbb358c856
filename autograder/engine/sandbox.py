"""Starting a worker process with the strongest isolation this host allows.

Three levels, tried in this order (AUTOGRADER_ISOLATION=namespace|user|none
forces one):

- namespace: bubblewrap puts the worker in its own mount, PID, network, IPC
  and UTS namespaces. It sees a read-only Python and NumPy, an empty
  writable folder and nothing else: not the kit, its reference solutions or
  hidden suites, nor other submissions. Killing the sandbox kills every
  process in it. Run as root, the worker also drops to a uid of its own.
- user: when namespaces are refused (Gradescope's containers, for instance)
  but we are root, the worker drops to an unused uid. It can still read
  world-readable files, so the results say which protected files it could
  read. Every process of that uid is killed afterwards.
- none: a plain subprocess with resource limits, said plainly in the results.

In every level the worker sets its own resource limits (memory, CPU time,
open files, file size, processes) before it reads any student code.
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
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parent
WORKER_FILES = ("worker.py", "wire.py")
LEVELS = ("namespace", "user", "none")
# Uids for workers when we are root: far above any account a system creates.
UID_BASE = 1_900_000_000
# Where the worker's writable folder appears inside the namespace sandbox.
SANDBOX_HOME = "/home/student"


@dataclass
class Isolation:
    level: str
    python: str
    description: str
    warnings: list[str] = field(default_factory=list)
    bind_paths: list[str] = field(default_factory=list)
    hidden_paths: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return self.description + "".join(f" Warning: {w}" for w in self.warnings)


_uid_lock = threading.Lock()
_uid_serial = 0


def next_worker_uid() -> int:
    """A uid no other live worker of this host uses: per grading process, rotating."""
    global _uid_serial
    with _uid_lock:
        _uid_serial += 1
        return UID_BASE + (os.getpid() % 100_000) * 16 + _uid_serial % 16


def worker_python() -> str:
    return os.environ.get("AUTOGRADER_WORKER_PYTHON") or sys.executable


def _cache_file() -> Path | None:
    # In the user's own cache folder, never a shared /tmp: bind paths read from
    # a file someone else could write would let them widen the sandbox.
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "autograder" / "python-paths.json"


def _python_paths(python: str) -> list[str]:
    """_probe_python_paths, remembered per interpreter (it costs a Python start)."""
    import json

    real = os.path.realpath(python)
    try:
        key = f"{python}|{real}|{os.stat(real).st_mtime_ns}|{os.stat(python).st_mtime_ns}"
    except OSError:
        return _probe_python_paths(python)
    cache = _cache_file()
    try:
        known = json.loads(cache.read_text()) if cache and cache.is_file() else {}
    except (OSError, ValueError):
        known = {}
    paths = known.get(key)
    if isinstance(paths, list) and paths and all(isinstance(p, str) and os.path.isdir(p) for p in paths):
        return paths
    paths = _probe_python_paths(python)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        known[key] = paths
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        tmp.replace(cache)
    except OSError:
        pass  # no cache: the probe runs next time too
    return paths


def _probe_python_paths(python: str) -> list[str]:
    """Folders the worker's Python needs: its prefixes and where NumPy lives."""
    probe = (
        "import sys, os, numpy; print(sys.prefix); print(sys.base_prefix);"
        "print(os.path.dirname(os.path.dirname(numpy.__file__)));"
        "print(os.path.realpath(sys.executable))"
    )
    out = subprocess.run(
        [python, "-I", "-c", probe], capture_output=True, text=True, timeout=60, env=_clean_env("/tmp")
    )
    if out.returncode != 0:
        raise RuntimeError(f"{python} cannot import numpy: {out.stderr.strip().splitlines()[-1:]}")
    paths = [p for p in out.stdout.splitlines() if p]
    paths[-1] = os.path.dirname(os.path.dirname(paths[-1]))  # the real interpreter's prefix
    keep = []
    for p in sorted(set(paths), key=len):
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in keep) and p not in ("/usr", "/"):
            keep.append(p)
    return keep


def _clean_env(home: str) -> dict[str, str]:
    """The worker's whole environment: nothing of ours (no secrets) crosses."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
    }


def bwrap_command(iso: Isolation, workdir: str, as_root: bool) -> list[str]:
    bwrap = os.environ.get("AUTOGRADER_BWRAP") or shutil.which("bwrap") or "bwrap"
    cmd = [
        bwrap, "--die-with-parent", "--new-session",
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
    ]
    if not as_root:
        cmd.append("--unshare-user")
    cmd += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    for name in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(name):
            cmd += ["--ro-bind", name, name]
    # bwrap makes missing parent folders root-only; the worker, once it drops to
    # its own uid, must still walk through them to its Python and its home.
    # A fresh /tmp first: mounted after the binds, it would cover a Python that
    # lives under /tmp (a venv in a checkout there, as CI may make).
    cmd += ["--perms", "1777", "--tmpfs", "/tmp"]
    mounts = [*iso.bind_paths, SANDBOX_HOME, "/grader/x"]
    parents = sorted({str(parent) for m in mounts for parent in Path(m).parents if str(parent) != "/"}, key=len)
    for parent in parents:
        if parent not in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/tmp") and not any(
            parent == b or parent.startswith(b.rstrip("/") + "/") for b in iso.bind_paths
        ):
            cmd += ["--perms", "0755", "--dir", parent]
    for path in iso.bind_paths:
        cmd += ["--ro-bind", path, path]
    for path in iso.hidden_paths:
        cmd += ["--tmpfs", path]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--bind", workdir, SANDBOX_HOME, "--chdir", SANDBOX_HOME]
    for name in WORKER_FILES:
        cmd += ["--ro-bind", str(ENGINE_DIR / name), f"/grader/{name}"]
    return cmd + ["--", iso.python, "-I", "/grader/worker.py"]


_live_workers: set[int] = set()


class SandboxUnavailable(RuntimeError):
    """No isolation level can start a worker here: nothing can be graded."""


@dataclass
class Launch:
    """One started worker process and what is needed to clean up after it."""

    process: subprocess.Popen
    workdir: str
    uid: int | None
    level: str

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
        if self.uid is not None:
            kill_all_of_uid(self.uid)
        elif self.level == "none":
            kill_strays(keep=set(_live_workers) - {self.process.pid})
        _live_workers.discard(self.process.pid)
        shutil.rmtree(self.workdir, ignore_errors=True)


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


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def kill_strays(keep: set[int]) -> None:
    """Kill every descendant of this process except the workers in `keep` (and theirs)."""
    me = os.getpid()
    for child in _children_of(me):
        if child in keep:
            continue
        pending, family = [child], []
        while pending:
            pid = pending.pop()
            family.append(pid)
            pending.extend(_children_of(pid))
        for pid in family:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
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


def spawn(iso: Isolation, request_fd: int, reply_fd: int, output_fd: int) -> Launch:
    """Start a worker; it reads requests on request_fd and replies on reply_fd."""
    as_root = os.geteuid() == 0
    workdir = tempfile.mkdtemp(prefix="autograder-worker-")
    uid = next_worker_uid() if as_root and iso.level in ("namespace", "user") else None
    if uid is not None:
        os.chown(workdir, uid, uid)
    if iso.level == "namespace":
        cmd = bwrap_command(iso, workdir, as_root)
        home = SANDBOX_HOME
    else:
        cmd = [iso.python, "-I", str(ENGINE_DIR / "worker.py")]
        home = workdir
    cmd += [str(request_fd), str(reply_fd)]
    # Started from one long-lived thread: bwrap's --die-with-parent kills the
    # sandbox when the *thread* that started it ends, and workers are also
    # started from short-lived threads (sandbox detection, prestart).
    process = _spawner().submit(
        subprocess.Popen,
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=output_fd,
        stderr=output_fd,
        pass_fds=(request_fd, reply_fd),
        cwd=workdir,
        env=_clean_env(home),
        start_new_session=True,
    ).result()
    _live_workers.add(process.pid)
    return Launch(process=process, workdir=workdir, uid=uid, level=iso.level)


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


PROBE_MODULES = ["fractions", "statistics", "numpy.polynomial"]


def _probe(iso: Isolation, setup: dict | None = None):
    """Start a worker at this level: (usable at all, what is wrong with it or None, the worker).

    The worker is returned, still running, when it is usable and was started
    with a real `setup`: it can then serve the first submission.
    """
    from .session import WorkerProcess  # late: session imports this module

    probe_setup = setup or {"limits": None, "banned": [], "banned_why": ""}
    limits = probe_setup.get("limits") or {}
    worker = WorkerProcess(iso, probe_setup, max_reply_bytes=int(limits.get("memory_mb", 2048)) * 1024 * 1024)
    keep = False
    try:
        worker.start()
        worker.handshake(timeout=60)
        # After dropping privileges the worker must still import what it did not preload.
        header, _ = worker.request({"op": "probe", "modules": PROBE_MODULES}, deadline=time.monotonic() + 60)
        if not header.get("ok"):
            error = header.get("error") or {}
            return True, (
                f"student code could not import the standard library ({error.get('message', '')[:120]}); "
                "the worker's Python is not readable by other users: set AUTOGRADER_WORKER_PYTHON to one that is"
            ), None
        keep = setup is not None
        return True, None, worker if keep else None
    except Exception as exc:  # noqa: BLE001 - any failure means this level is unavailable
        return False, str(exc), None
    finally:
        if not keep:
            worker.close()


def worker_setup(limits, banned, banned_why: str) -> dict:
    """What a worker is started with: the same for every submission of an assignment,
    so any idle worker (the sandbox probe's, say) can serve the next submission."""
    return {
        "limits": {
            "memory_mb": limits.memory_mb,
            "cpu_seconds": limits.cpu_seconds,
            "open_files": limits.open_files,
            "file_size_mb": limits.file_size_mb,
            "processes": limits.processes if os.geteuid() == 0 else 0,
        },
        "banned": list(banned),
        "banned_why": banned_why,
    }


def background(function, *args) -> Future:
    """Run function(*args) in a thread; its Future holds the result or the exception."""
    future: Future = Future()

    def run():
        try:
            future.set_result(function(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the result
            future.set_exception(exc)

    threading.Thread(target=run, name=f"autograder-{function.__name__}", daemon=True).start()
    return future


_soon: dict[str, tuple[Future, list]] = {}


def detect_soon(protected: list[Path], setup: dict) -> tuple[Future, list]:
    """detect() in a thread, started once per process and setup: (its Future, its ready workers).

    The CLI calls this before it imports pytest and NumPy, so the probe
    worker starts (in another process, on the other core) while they load.
    """
    import json

    key = json.dumps([os.environ.get("AUTOGRADER_ISOLATION", ""), list(map(str, protected)), setup], sort_keys=True)
    with _uid_lock:
        if key not in _soon:
            ready: list = []
            _soon[key] = (background(detect, protected, setup, ready), ready)
        return _soon[key]


_detected: dict[str, Isolation] = {}


def detect(protected: list[Path] | None = None, setup: dict | None = None, ready: list | None = None) -> Isolation:
    """The strongest isolation that works here (cached per process).

    With a worker `setup`, the probe that finds the level is started like a
    real worker and, still running, appended to `ready` for the first
    submission to use: detection then costs no extra worker start.
    """
    become_subreaper()
    forced = os.environ.get("AUTOGRADER_ISOLATION", "auto").strip().lower() or "auto"
    if forced not in ("auto", *LEVELS):
        raise ValueError(f"AUTOGRADER_ISOLATION must be auto, namespace, user or none, not {forced!r}")
    key = forced + "|" + "|".join(map(str, protected or []))
    if key in _detected:
        return _detected[key]
    python = worker_python()
    paths = _python_paths(python)
    protected = [p.resolve() for p in (protected or [])]
    # Paths of ours that happen to sit inside a folder the sandbox must show
    # (a venv inside the kit's checkout, say) are masked with empty folders.
    hidden = [
        str(p)
        for p in protected
        if p.is_dir() and any(str(p).startswith(b.rstrip("/") + "/") for b in paths)
    ]
    reasons = []
    for level in LEVELS if forced == "auto" else (forced,):
        if level == "user" and os.geteuid() != 0:
            reasons.append("user: needs root to switch to another uid")
            continue
        iso = Isolation(level=level, python=python, description="", bind_paths=paths, hidden_paths=hidden)
        usable, why, worker = _probe(iso, setup)
        if why and (forced == "auto" or not usable):
            reasons.append(f"{level}: {why}")
            continue
        if worker is not None:
            if ready is not None:
                ready.append(worker)
            else:
                worker.close()
        if why:  # forced by the instructor and it runs: go on, and say what is wrong
            iso.warnings.append(why + ".")
        if level == "namespace":
            iso.description = "Namespace sandbox (bubblewrap): no network, read-only Python, no view of the kit or other submissions."
        elif level == "user":
            iso.description = "Unprivileged user (namespaces unavailable here): no root, but files readable by all users are visible to student code."
            if reasons:
                iso.description += " Stronger isolation failed: " + "; ".join(reasons)[:300] + "."
            leaks = readable_by_others(protected)
            if leaks:
                iso.warnings.append(
                    "student code could read " + ", ".join(leaks) + " (run `chmod -R o-rwx` on them to hide them)."
                )
        else:
            iso.description = "Plain subprocess with resource limits only: student code runs as this user and can read its files."
            if reasons:
                iso.warnings.append("stronger isolation failed: " + "; ".join(reasons))
        _detected[key] = iso
        return iso
    raise SandboxUnavailable("no isolation level works here: " + "; ".join(reasons))
