"""What a worker is started with: its isolation level and setup, its environment, and where
things appear inside the namespace sandbox."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..kinds import Level, isolation_text

# The engine's folder, where the files the worker runs (WORKER_FILES) live.
ENGINE_DIR = Path(__file__).resolve().parent.parent
WORKER_FILES = ("worker.py", "wire.py", "text.py")
LEVELS = tuple(level.value for level in Level)
# Where the worker's writable folder appears inside the namespace sandbox.
SANDBOX_HOME = "/home/student"
# Where the packages an assignment allows (NumPy) appear inside it.
SANDBOX_SITE = "/grader/site"


@dataclass
class Isolation:
    level: Level
    python: str
    # Why each stronger level could not be used, and what a result must warn of at this one.
    fallbacks: list[str] = field(default_factory=list)
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
        return isolation_text(self.level.value, self.fallbacks, self.warnings)


class SandboxUnavailable(RuntimeError):
    """No isolation level can start a worker here: nothing can be graded."""


def worker_python() -> str:
    return os.environ.get("AUTOGRADER_WORKER_PYTHON") or sys.executable


def worker_env(home: str) -> dict[str, str]:
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
