"""The worker's command line under bubblewrap: the namespaces, and a file system that is an
allow-list (its Python, the allowed packages, the system's libraries, two RAM folders)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .isolation import ENGINE_DIR, SANDBOX_HOME, SANDBOX_SITE, WORKER_FILES, Isolation
from .layout import system_library_folders, under


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
