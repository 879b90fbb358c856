"""A seccomp filter: the system calls a numerical exercise never needs, denied to every worker.

Docker's default profile is the anchor: it denies what lets a process reach
past its container (kernel keyrings, ptrace, bpf, perf, userfaultfd, mount,
new namespaces, kernel modules, the clock, ...). Those calls are denied here
too, with EPERM, and so is SysV IPC, whose segments and semaphores outlive
the process that made them: with it denied, no per-uid kernel state a
submission could make survives it (a keyring key did, seen by a later worker
given the same uid). clone3 answers ENOSYS, so the C library falls back to
clone, whose namespace flags are checked (clone3 passes them in memory, where
a filter cannot look).

The program is built with libseccomp (through pyseccomp), never by hand, once
per grading process. At the namespace level bubblewrap installs it (--seccomp);
at the other levels the worker installs it itself, before it reads any student
code. Either way the kernel enforces it from then on, and the grader reads
each worker's /proc status from outside to see that it holds.
"""

from __future__ import annotations

import errno
import functools
import os

# What a worker may never call (names libseccomp knows; those missing on an architecture are skipped).
DENIED = (
    # kernel keyrings: keys outlive the process, per uid
    "add_key", "keyctl", "request_key",
    # other processes' memory and tracing
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    # the kernel's programmable parts
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    # file systems and namespaces
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "open_by_handle_at", "name_to_handle_at",
    "quotactl", "swapon", "swapoff", "acct", "nfsservctl", "lookup_dcookie", "fanotify_init",
    # kernel modules, reboots, the clock, the console, hardware ports
    "init_module", "finit_module", "delete_module", "create_module", "kexec_load", "kexec_file_load",
    "reboot", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "syslog", "vhangup",
    "iopl", "ioperm", "uselib", "ustat", "sysfs", "_sysctl",
    # SysV IPC and POSIX message queues: segments, semaphores and queues outlive their process
    "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semtimedop", "semctl",
    "msgget", "msgsnd", "msgrcv", "msgctl",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
)
# clone's flags that make new namespaces (CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET).
NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
# /proc/<pid>/status says "Seccomp:\t2" for a process under a filter.
FILTER_MODE = 2


@functools.lru_cache(maxsize=1)
def program() -> tuple[bytes | None, str]:
    """(the filter as BPF bytes, what it denies), or (None, why it cannot be built here)."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:  # pyseccomp loads libseccomp.so.2 when imported
        return None, f"libseccomp is not available ({exc}); install libseccomp2 and pyseccomp"
    try:
        rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        denied = 0
        for name in DENIED:
            try:
                rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
                denied += 1
            except (RuntimeError, ValueError, OSError):
                continue  # not a system call of this architecture
        for flag in NAMESPACE_FLAGS:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        try:
            rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        except (RuntimeError, ValueError, OSError):
            pass
        read, write = os.pipe()
        try:
            with os.fdopen(write, "wb") as sink:
                rules.export_bpf(sink)
            data = b""
            while chunk := os.read(read, 1 << 16):
                data += chunk
        finally:
            os.close(read)
    except Exception as exc:  # noqa: BLE001 - any failure: grade without it, and say so
        return None, f"the seccomp filter could not be built ({type(exc).__name__}: {exc})"
    return data, (f"{denied} system calls denied (keyrings, ptrace, bpf, perf, mount, new namespaces, kernel "
                  "modules, SysV IPC, message queues, ...)")


def program_fd(data: bytes) -> int:
    """A descriptor holding `data` from its start, for bubblewrap's --seccomp (inheritable)."""
    fd = os.memfd_create("autograder-seccomp", 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    os.set_inheritable(fd, True)
    return fd


def mode(status: bytes | None) -> int | None:
    """The Seccomp mode in a /proc/<pid>/status text (2: a filter holds), None if unreadable."""
    for line in (status or b"").splitlines():
        if line.startswith(b"Seccomp:"):
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None
