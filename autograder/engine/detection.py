"""Which isolation level this host allows, found once per process by starting a real worker.

detect() tries the levels in order (see sandbox/ for what each one
guarantees). The probe that finds the level is started like any worker, so
it can serve the first submission: detection costs no extra start.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from . import syscalls
from .kinds import Level
from .sandbox import (
    LEVELS, Isolation, SandboxUnavailable, under, become_subreaper, find_modules, python_layout,
    readable_by_others, shared_writable_folders, system_library_folders, worker_python, worker_setup,
)

PROBE_MODULES = ["fractions", "statistics", "numpy.polynomial"]


def _probe(iso: Isolation, setup: dict | None = None):
    """Start a worker at this level: (usable at all, what is wrong with it or None, the worker).

    The worker is returned, still running, when it is usable and was started
    with a real `setup`: it can then serve the first submission.
    """
    # Imported here, not at the top: it brings NumPy (through wire), which then loads in
    # this thread while the CLI's main thread imports pytest (see detect_soon).
    from .worker_process import WorkerProcess

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
            return False, (
                f"student code could not import the standard library ({error.get('message', '')[:120]}): "
                "the worker's Python is not readable by other users; set AUTOGRADER_WORKER_PYTHON to one that is"
            ), None
        keep = setup is not None
        return True, None, worker if keep else None
    except Exception as exc:  # noqa: BLE001 - any failure means this level is unavailable
        if not keep:
            worker.close()  # so what it printed (bwrap's own complaint, say) is all there
        said = worker.printed().strip().splitlines()
        return False, str(exc) + (f" ({said[0][:160]})" if said else ""), None
    finally:
        if not keep:
            worker.close()


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
_soon_lock = threading.Lock()  # two callers at once start one probe, not two


def setup_of(a) -> dict:
    """What every worker of assignment `a` is started with (its limits and banned imports)."""
    return worker_setup(a.limits, a.banned_imports, a.banned_why, a.sandbox_packages)


def protected_of(a, protect=()) -> list[Path]:
    """Everything student code of `a` must not see: the kit's private paths and `protect` (an output folder)."""
    return a.private_paths + [Path(p) for p in protect]


def probe(a, protect=()) -> tuple[Future, list]:
    """detect_soon for assignment `a`: the one probe that a Grader of `a` given the same `protect` uses."""
    return detect_soon(protected_of(a, protect), setup_of(a))


def detect_soon(protected: list[Path], setup: dict) -> tuple[Future, list]:
    """detect() in a thread, started once per process and setup: (its Future, its ready workers).

    The CLI calls this before it imports pytest and NumPy, so the probe
    worker starts (in another process, on the other core) while they load.
    """
    import json

    key = json.dumps([os.environ.get("AUTOGRADER_ISOLATION", ""), list(map(str, protected)), setup], sort_keys=True)
    with _soon_lock:
        if key not in _soon:
            ready: list = []
            _soon[key] = (background(detect, protected, setup, ready), ready)
        return _soon[key]


_detected: dict[str, Isolation] = {}


class Exposed(SandboxUnavailable):
    """The user level would let student code read what it must not; the message says which chmod hides it."""


def exposed_paths(paths) -> list[str]:
    """Of `paths`, those a worker's uid could read (as any other user can)."""
    return readable_by_others([Path(p) for p in paths])


def require_hidden(iso: Isolation, paths) -> None:
    """At the user level, refuse (one line, with the fix) while any of `paths` is readable by others."""
    if iso.level != Level.USER:
        return
    leaks = exposed_paths(paths)
    if leaks:
        raise Exposed(
            f"student code would run as another user who can read {', '.join(leaks[:3])}"
            + (f" and {len(leaks) - 3} more" if len(leaks) > 3 else "")
            + f"; run `chmod -R o-rwx {' '.join(leaks[:3])}` (or install bubblewrap), then grade again"
        )


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
    setup = setup or {}
    key = forced + "|" + "|".join(map(str, protected or [])) + "|" + repr(sorted((setup.get("limits") or {}).items()))
    if key in _detected:
        return _detected[key]
    python = worker_python()
    packages = tuple(setup.get("packages") or ("numpy",))
    disk_mb = int((setup.get("limits") or {}).get("disk_mb", 64))
    protected = [p.resolve() for p in (protected or [])]
    reasons = []
    for level in (Level.NAMESPACE, Level.USER) if forced == "auto" else (Level(forced),):
        if level == Level.USER and os.geteuid() != 0:
            reasons.append("user: needs root to switch to another uid")
            continue
        iso = Isolation(level=level, python=python, disk_mb=disk_mb)
        iso.seccomp, iso.seccomp_about = syscalls.program()
        try:
            if level == Level.NAMESPACE:
                iso.layout = python_layout(python, packages)
                shown = [iso.layout["executable"], *iso.layout["stdlib"], *iso.layout["packages"].values(),
                         *system_library_folders(iso.layout.get("multiarch", ""))]
                # Paths of ours inside a folder the sandbox must show are masked with empty folders.
                iso.hidden_paths = [str(p) for p in protected if p.is_dir() and under(str(p), shown)]
            elif level == Level.USER:
                require_hidden(iso, protected)
                banned = find_modules(python, tuple(setup.get("banned") or ()))
                leaks = exposed_paths(banned.values())
                if leaks:
                    names = [n for n, path in banned.items() if path in leaks]
                    raise Exposed(
                        f"banned {', '.join(names)} would be importable by student code (at {', '.join(leaks[:3])}); "
                        f"run `chmod -R o-rwx {' '.join(leaks[:3])}` or uninstall it, or install bubblewrap"
                    )
        except Exposed as exc:
            if forced != "auto":
                raise
            reasons.append(f"{level.value}: {exc}")
            continue
        except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as exc:
            reasons.append(f"{level.value}: {exc}")
            continue
        if level != Level.NAMESPACE:
            # Outside a sandbox the worker's uid may write wherever any user may: the disk cap and
            # cleanup must know every such folder (/run/lock too), not just /tmp.
            iso.shared_folders = shared_writable_folders()
        usable, why, worker = _probe(iso, setup or None)
        if why and (forced == "auto" or not usable):
            reasons.append(f"{level.value}: {why}")
            continue
        if worker is not None:
            if ready is not None:
                ready.append(worker)
            else:
                worker.close()
        if why:  # forced by the instructor and it runs: go on, and say what is wrong
            iso.warnings.append(why + ".")
        if level == Level.USER:
            iso.fallbacks = list(reasons)
        elif level == Level.NONE:
            iso.warnings.append(
                "student code could read every file this user (or, as root, any user) can read, and talk to the network."
            )
            leaks = readable_by_others(protected)
            if leaks and os.geteuid() == 0:
                iso.warnings.append("readable by it: " + ", ".join(leaks[:5]) + ".")
        _detected[key] = iso
        return iso
    raise SandboxUnavailable(
        "no sandbox works here (" + "; ".join(reasons)[:600] + "); install bubblewrap, or run as root for the "
        "unprivileged-user level, or set AUTOGRADER_ISOLATION=none to grade without one"
    )
