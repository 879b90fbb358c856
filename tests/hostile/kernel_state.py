"""The reference, plus calls that make kernel state outliving the worker, or reach past it, at import.

A key added to the uid's keyring stayed after the batch and was seen by a
later worker given the same uid; a SysV shared memory segment or a POSIX message queue does the same;
a new user namespace, ptrace and bpf reach past the sandbox. The seccomp
filter must deny each (EPERM), at every level; each attempt prints
DENIED-<name> or MADE-<name>. The grade must be its honest twin's.
"""
# ==== HOSTILE ====
import ctypes as _ctypes
import platform as _platform

_libc = _ctypes.CDLL(None, use_errno=True)
# System call numbers: x86_64, aarch64.
_NR = {"x86_64": {"add_key": 248, "keyctl": 250, "bpf": 321, "ptrace": 101},
       "aarch64": {"add_key": 217, "keyctl": 219, "bpf": 280, "ptrace": 117}}.get(_platform.machine(), {})


def _try(name, result):
    print(f"{'DENIED' if result == -1 and _ctypes.get_errno() == 1 else 'MADE'}-{name} {result} {_ctypes.get_errno()}",
          flush=True)


if _NR:
    _try("add_key", _libc.syscall(_NR["add_key"], b"user", b"@MARK@", b"secret", 6, -4))  # the user keyring
    _try("keyctl", _libc.syscall(_NR["keyctl"], 0, -4, 0))  # KEYCTL_GET_KEYRING_ID
    _try("bpf", _libc.syscall(_NR["bpf"], 0, 0, 0))
    _try("ptrace", _libc.syscall(_NR["ptrace"], 0, 0, 0, 0))  # PTRACE_TRACEME
_try("shmget", _libc.shmget(0, 4096, 0o1600))  # IPC_PRIVATE | IPC_CREAT | 0600
_libc.mq_open.restype = _ctypes.c_int
_try("mq_open", _libc.mq_open(b"/q_@MARK@", 0o102, 0o600, None))  # O_CREAT | O_RDWR: a queue outlives us
_try("unshare", _libc.unshare(0x10000000))  # CLONE_NEWUSER
