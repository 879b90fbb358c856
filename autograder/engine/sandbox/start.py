"""Starting a worker at an isolation level: its uid, its command, and the one long-lived thread
that starts every worker."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

from ..kinds import Level
from ..syscalls import program_fd
from .bwrap import bwrap_command
from .disk import SCRATCH, free_bytes, remove_tree
from .isolation import ENGINE_DIR, SANDBOX_HOME, SANDBOX_SITE, Isolation, worker_env
from .launch import Launch

# Uids for workers when we are root: far above any account a system creates.
UID_BASE = 1_900_000_000

# Guards the uid serial and the spawner's creation: workers are started from several threads.
_uid_lock = threading.Lock()
_uid_serial = 0


def next_worker_uid() -> int:
    """A uid no other live worker of this host uses: per grading process, rotating."""
    global _uid_serial
    with _uid_lock:
        _uid_serial += 1
        # Live pids are unique (pid_max is at most 2**22), so two grading processes never share a uid.
        return UID_BASE + os.getpid() * 16 + _uid_serial % 16


_spawner_pool = None


def _spawner():
    global _spawner_pool
    with _uid_lock:
        if _spawner_pool is None:
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
            env=worker_env(home),
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
    launch.track()
    if caps is not None and caps.active:
        launch.enlist(caps)
    if workdir:
        launch.free_at_start = free_bytes([workdir, *(iso.shared_folders or SCRATCH)])
    return launch
