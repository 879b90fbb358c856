"""`check`: the public tests through the same sandboxed engine, for students.

`python -m autograder check cnn_layers.py` (or cnn.ipynb, or the folder
holding them) loads the file exactly as the grader will: in the sandboxed
worker, a notebook's cells in order, with the time limits and banned
imports of the assignment. It then runs the public checks, prints one line
per check (with the reason for a failure), and exits 0 when every public
check passed, 1 otherwise. Nothing is written into the student's folder.

`check` runs as whoever calls it and is never rate-limited. It once offered a
limit on a shared machine, with students running it through sudo as a grading
account; that made every path and folder a student could name a way into the
grading account, and bought little: the public checks ship with the handout,
and students run them freely on their own machines. Rate-limited feedback on
the hidden checks belongs to a grading service (`serve`), where students
upload a file and never run anything as the grader. So `check` refuses
AUTOGRADER_CHECK_HISTORY, the variable that recipe set.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from ..engine import api
from ..engine.report import flags
from ..engine.submission import MAX_CODE_BYTES, MAX_NOTEBOOK_BYTES, read_regular
from ..engine.text import inert
from ..errors import UsageError

# Set by the sudo recipe of earlier versions (see above); refused now, never read.
HISTORY_ENV = "AUTOGRADER_CHECK_HISTORY"


def _marks() -> tuple[str, str]:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗".encode(encoding)
        return "✓", "✗"
    except (UnicodeEncodeError, LookupError):
        return "PASS", "FAIL"


def _require(assignment, path: Path) -> None:
    if not path.exists():
        raise UsageError(f"{path} does not exist; pass your {assignment.module}.py, your {assignment.notebook} "
                         "or the folder holding them")


def _target(assignment, path: Path, scratch: Path) -> Path:
    """What to grade: the file, or the module/notebook of a folder (not its tests or checks)."""
    module, notebook = f"{assignment.module}.py", assignment.notebook
    _require(assignment, path)
    if path.is_file():
        if path.suffix.lower() not in (".py", ".ipynb", ".zip"):
            raise UsageError(f"{path.name} is not a .py file or an .ipynb notebook; pass your {module} or {notebook}")
        return path
    found = [path / name for name in (module, notebook) if (path / name).is_file()]
    # Modules of an earlier part the assignment requires (cnn_layers.py) go along, as in a submission.
    required = [path / f"{name}.py" for name in assignment.requires if (path / f"{name}.py").is_file()]
    if not found:
        raise UsageError(f"{path} holds neither {module} nor {notebook}; pass the file you work in")
    # The handout folder also holds tests/, checks/ and a conftest.py, which a
    # submission would not: grade only what a student hands in.
    folder = scratch / path.resolve().name
    folder.mkdir()
    for source in found + required:
        # As the grader reads a folder: no link followed, the size checked before anything is copied.
        limit = MAX_NOTEBOOK_BYTES if source.suffix == ".ipynb" else MAX_CODE_BYTES
        try:
            data = read_regular(source, limit)
        except (ValueError, OSError) as exc:
            raise UsageError(str(exc)) from None
        (folder / source.name).write_bytes(data)
    return folder


def _indent(text: str, prefix: str = "      ") -> str:
    lines = text.strip().splitlines() or [""]
    if len(lines) > 12:
        lines = lines[:12] + ["..."]
    return "\n".join(prefix + line for line in lines)


def report_lines(grade) -> list[str]:
    ok, bad = _marks()
    lines = []
    if not grade.graded:
        lines += [f"Problem: {inert(grade.status, one_line=True)}", ""]
    for note in grade.notes:
        lines.append(f"Note: {inert(note, one_line=True)}")
    for error in grade.cell_errors[:5]:
        said = f"{error.get('where') or 'a cell'} raised {error.get('type')}: {error.get('message')}"
        lines.append(f"Note: {inert(said, one_line=True)}")
    for flag in flags(grade):
        lines.append(f"Warning: your code {flag}; the grader gives no points for that")
    if len(lines) and lines[-1] != "":
        lines.append("")
    previous = None
    for t in grade.tests:
        if t.status == "passed":
            lines.append(f"  {ok} {t.name}")
        else:
            lines.append(f"  {bad} {t.name}")
            reason = inert(t.output or "failed")
            lines.append(_indent("(the same reason)" if reason == previous else reason))
            previous = reason
    passed = sum(1 for t in grade.tests if t.status == "passed")
    lines += [
        "",
        f"Public checks passed: {passed} of {len(grade.tests)}. They earn no points themselves (their answers "
        "ship with the handout): your grade comes from the hidden checks, which test the same functions on "
        "other inputs.",
        f"Seed: {grade.seed} (inputs are random from it; a rerun gives the same result).",
        f"Isolation: {grade.isolation}",
    ]
    return lines


def _refuse_history() -> None:
    if os.environ.get(HISTORY_ENV):
        raise UsageError(f"{HISTORY_ENV} is set, but check is no longer rate-limited through sudo on a shared machine; "
                     "unset it: rate-limited feedback belongs to the grading service (`serve`, planned, not built "
                     "yet; see the README's Rate limits)")


def _check_once(assignment, path: Path, grade) -> int:
    """Check `path` with `grade(target)`; print what a student reads; 0 when every public check passed."""
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as scratch:
        target = _target(assignment, Path(path), Path(scratch))
        print(f"Checking {Path(path).name} with the public checks, run by the grader's sandboxed engine...", flush=True)
        result = grade(target)
    print("\n".join(report_lines(result)), flush=True)
    passed = bool(result.tests) and result.graded and all(t.passed for t in result.tests)
    return 0 if passed else 1


def run_check(assignment, path: Path) -> int:
    _refuse_history()
    return _check_once(assignment, path, lambda target: api.grade_one(assignment, target, public_only=True))


def saved_versions(path: Path, interval: float = 0.3, stop=None):
    """Yield once now and again after each save of `path` (a file, or a folder's files), until `stop()`.

    A save is a change of the files' sizes or modification times, polled every `interval`
    seconds: no watcher library, and editors that replace the file on save are seen too.
    """
    def stamp():
        try:
            files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
            seen = [(p.name, p.stat()) for p in files]
        except OSError:
            return None  # gone for a moment (an editor that saves by renaming), or mid-save: look again
        return tuple((name, info.st_size, info.st_mtime_ns) for name, info in seen) or None

    last = None
    while not (stop and stop()):
        now = stamp()
        if now is not None and now != last:
            last = now
            yield
        time.sleep(interval)


def watch(assignment, path: Path, *, stop=None, interval: float = 0.3) -> int:
    """`check --watch`: check `path` now and after every save, with a warm grader, until Ctrl-C (or `stop()`).

    The grader's imports and the sandbox level are paid once; each run still gets a fresh worker.
    Returns the last run's exit code.
    """
    _refuse_history()
    _require(assignment, Path(path))  # said now, not when the first save is awaited
    code = 1
    print(f"Watching {Path(path).name}: the public checks run again each time you save it (Ctrl-C to stop).", flush=True)
    with api.Warm(assignment, public_only=True) as grader:
        try:
            for _ in saved_versions(Path(path), interval, stop):
                try:
                    code = _check_once(assignment, path, grader.grade)
                except (UsageError, RuntimeError, api.SandboxUnavailable) as exc:
                    # One run that could not check (the file half-saved, or Ctrl-C inside the run,
                    # which pytest turns into an error): say so in a line and keep watching.
                    code = 2
                    print(f"the check could not run: {inert(exc, one_line=True)[:300]}", flush=True)
                print(f"\n-- waiting for the next save of {Path(path).name} (Ctrl-C to stop) --", flush=True)
        except KeyboardInterrupt:
            pass
    return code
