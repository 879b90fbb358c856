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

The modules, each importing only those listed before it:

    isolation.py  what a worker is started with: the level, its setup, its environment
    layout.py     where the worker's Python keeps its parts (probed once, cached)
    bwrap.py      the bubblewrap command line: namespaces and an allow-list file system
    procs.py      the worker's processes from /proc: children, descendants, owners; killing them
    disk.py       the host's disk outside a namespace: space a uid used, shared folders, clean-up
    launch.py     one started worker's life: pause, strays, disk cap, kill; the live ones
    start.py      spawn(): a worker's uid and command, started from one long-lived thread

The rest of the engine imports the names below from here, not from the modules.
"""

from .bwrap import bwrap_command
from .disk import readable_by_others, remove_tree, shared_writable_folders
from .isolation import (
    ENGINE_DIR, LEVELS, SANDBOX_SITE, WORKER_FILES, Isolation, SandboxUnavailable, worker_python, worker_setup,
)
from .launch import Launch, live_workers, shutdown
from .layout import find_modules, python_layout, system_library_folders, under
from .procs import become_subreaper, kill_strays
from .start import spawn

__all__ = [
    "ENGINE_DIR", "LEVELS", "SANDBOX_SITE", "WORKER_FILES", "Isolation", "Launch", "SandboxUnavailable",
    "become_subreaper", "bwrap_command", "find_modules", "kill_strays", "live_workers", "python_layout",
    "readable_by_others", "remove_tree", "shared_writable_folders", "shutdown", "spawn",
    "system_library_folders", "under", "worker_python", "worker_setup",
]
