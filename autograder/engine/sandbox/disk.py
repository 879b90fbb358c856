"""The host's disk as a worker outside a namespace sandbox meets it: which files others may read,
where any user may write, how much a worker's uid wrote, and removing what it left."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

# Where a worker may write when the host's world-writable folders are not known.
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")


def remove_tree(path: str) -> None:
    """Remove a folder whatever it holds (a tree too deep for rmtree, files made read-only)."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:  # rmtree recurses per level; ignore_errors covers only OSError
        pass
    if os.path.lexists(path):
        subprocess.run(["rm", "-rf", "--one-file-system", "--", path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=False)


def bytes_under(folder: str, cap: int, uid: int | None = None, max_entries: int = 20_000,
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


def unlinked_bytes(pids) -> int:
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


def remove_files_of_uid(uid: int, folders=SCRATCH) -> None:
    """What a worker's uid left in the host's world-writable folders (a later worker may get the same uid)."""
    for folder in folders:
        if os.path.isdir(folder):
            subprocess.run(["find", folder, "-xdev", "-mindepth", "1", "-user", str(uid), "-delete"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120, check=False)


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
