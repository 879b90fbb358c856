"""A batch: many submissions graded into one gradebook folder.

Every command that grades more than one thing goes through here (`grade`,
`demo`, `merge`); the CLI only parses arguments and prints. The steps:

1. `expand`: the SUBMISSION arguments become inputs, one per student. LMS
   exports become one input per student (integrations/exports.py); a folder
   with no module or notebook of the assignment but several .py, .ipynb or
   .zip files is a class, one input per file.
2. `plan`: which inputs this run grades: a shard (`--shard K/N`, a fixed
   1/N of the inputs), chosen students (`--only`), or those whose
   submission, suite or reference changed since their grade (`--stale`);
   `--resume` skips students the gradebook already has.
3. `run`: grade them, one process or a pool, and hand each grade, as it
   finishes, to the sinks: the student's folder, the gradebook (a row
   added or replaced, never another student's lost), a progress bar.

A submission the grader cannot grade gets a failure grade (results.failed_grade, the
one place they are made): 0 points with the reason, and the batch goes on.
If no sandbox can start a worker, nothing can be graded: `BatchError`.
SIGINT or SIGTERM stops the batch: every finished row is kept, every
process it started is killed, and `run` returns with `interrupted` set.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.util
import os
import shutil
import signal
import stat
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import assignment as assignments
from . import affinity, report, sandbox
from .results import Grade
from .submission import IGNORED_PARTS
from .text import inert

if TYPE_CHECKING:
    from . import grading
# grading.py imports pytest and NumPy (~0.15 s): imported where a grader is made, so that
# api.start's sandbox probe comes up meanwhile in its own process.

SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")


class BatchError(Exception):
    """The batch cannot go on (bad input, no sandbox); the message says what to do, on one line."""


def note(message: str) -> None:
    print(f"note: {inert(message, one_line=True)}", file=sys.stderr)  # it may name a student's files


# -- inputs ----------------------------------------------------------------
@dataclass
class Input:
    """One student's submission, at its place in the whole class's list."""

    name: str
    path: Path
    position: int


def class_files(folder: Path, a: assignments.Assignment) -> list[Path] | None:
    """The submissions of a class folder (no module or notebook of its own, several files), else None."""
    if not folder.is_dir():
        return None
    top = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".") and p.name not in IGNORED_PARTS]
    if any(p.name in (f"{a.module}.py", a.notebook) for p in top):
        return None
    files = [p for p in top if (p.is_symlink() or not p.is_dir()) and p.suffix.lower() in SUBMISSION_SUFFIXES
             and p.name != "conftest.py"]
    if len(files) < 2:
        return None
    # A file of the class folder is found, not named: a link there is never followed (it could
    # point the grader at the reference or at a classmate's file), nor a FIFO or device read.
    odd = [p for p in files if not _plain_file(p)]
    if odd:
        note(f"{folder}: not graded, links or special files (the grader follows no link and reads only "
              f"regular files; copy the file in instead): {', '.join(p.name for p in odd[:5])}"
              + (f" and {len(odd) - 5} more" if len(odd) > 5 else ""))
    return [p for p in files if p not in odd]


def _plain_file(path: Path) -> bool:
    """A regular file with no other name (a hard link's other name may be the reference's)."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1


def parse_shard(text: str) -> tuple[int, int]:
    """'K/N' (1 <= K <= N) as (K, N)."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise BatchError(f"--shard {text}: write K/N, e.g. --shard 2/4 for the second of four shards") from None
    if n < 1 or not 1 <= k <= n:
        raise BatchError(f"--shard {text}: K must be 1 to N (a 0-based index such as $JOB_COMPLETION_INDEX needs +1)")
    return k, n


def shard_of(inputs: list[Input], k: int, n: int) -> list[Input]:
    """Shard K of N: every N-th input from the K-th, so shards are fixed by the inputs and even in size."""
    return [i for i in inputs if i.position % n == k - 1]


@dataclass
class Plan:
    inputs: list[Input]          # this run's share of the class (all of it without --shard)
    todo: list[Input]            # what this run grades
    skipped: list[Input] = field(default_factory=list)
    why_skipped: str = ""


def plan(inputs: list[Input], book: report.Gradebook, *, shard: tuple[int, int] | None = None,
         only: list[str] | None = None, resume: bool = False, stale: bool = False,
         fingerprint=None) -> Plan:
    """Which inputs to grade; `fingerprint(input)` gives what --stale compares with the gradebook."""
    mine = shard_of(inputs, *shard) if shard else list(inputs)
    todo = mine
    if only:
        names = {i.name for i in inputs}
        unknown = [n for n in only if n not in names]
        if unknown:
            known = ", ".join(sorted(names)[:8]) + (", ..." if len(names) > 8 else "")
            raise BatchError(f"--only {unknown[0]}: no submission of that name among the inputs ({known})")
        todo = [i for i in todo if i.name in set(only)]
    skipped, why = [], ""
    if stale:
        keep = [i for i in todo if book.fingerprint(i.name) != fingerprint(i)]
        skipped, why = [i for i in todo if i not in keep], "unchanged since their grade"
        todo = keep
    elif resume:
        keep = [i for i in todo if not book.has(i.name)]
        skipped, why = [i for i in todo if i not in keep], "already graded"
        todo = keep
    return Plan(mine, todo, skipped, why)


# -- failures --------------------------------------------------------------
def grader_failure(grader: grading.Grader, path: Path, exc: BaseException, name: str) -> Grade:
    """The grader itself failed on this submission: graded 0 with the error (results.failed_grade)."""
    return grader.failed(Path(path), f"grader error: {type(exc).__name__}: {exc}", name)


# -- stopping --------------------------------------------------------------
class Stop:
    """SIGINT/SIGTERM while a batch runs: remembered, and (while grading in this process) raised."""

    def __init__(self):
        self.signum: int | None = None
        self.interruptible = False

    def __call__(self, signum, frame):
        if self.signum is None:
            self.signum = signum
            if self.interruptible:
                self.interruptible = False
                raise KeyboardInterrupt  # pytest stops its session on this

    def install(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {s: signal.signal(s, self) for s in (signal.SIGINT, signal.SIGTERM)}


def kill_sandbox_workers(strays: bool = False) -> None:
    """Kill every sandbox worker this process started (with `strays`, anything else below it too).

    The main process of a pool passes no `strays`: multiprocessing's resource
    tracker is its child, and killing it makes the tracker print tracebacks.
    """
    for pid in sandbox.live_workers():
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if strays:
        sandbox.kill_strays(keep=set())


def _pool_stop(signum, frame):  # pragma: no cover - runs in a pool process
    kill_sandbox_workers(strays=True)
    sandbox.shutdown()  # their folders and files too
    os._exit(128 + signum)


# The grader of a pool process (made once by _pool_init, used by each _pool_grade there).
_pool_grader = None


def _make_pool_grader(name: str, root: str, secret: str | None, seed: int | None, public_only: bool, protect=()):
    from . import grading

    os.environ["AUTOGRADER_ROOT"] = root
    return grading.Grader(assignments.load(name, Path(root)), secret, seed, public_only, protect)


def _pool_init(*args) -> None:  # pragma: no cover - runs in a pool process
    global _pool_grader

    # Ctrl-C reaches the whole process group: the main process decides what
    # happens (it stops this process with SIGTERM), so no traceback here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _pool_stop)
    # Jobs side by side are not pinned to CPUs: a classmate's worker could crowd one's CPU (affinity.py).
    affinity.stay_unpinned()
    # When the pool ends this process normally, its spare worker and that worker's folder go too.
    multiprocessing.util.Finalize(None, sandbox.shutdown, exitpriority=10)
    _pool_grader = _make_pool_grader(*args)


def _pool_grade(path: str, name: str) -> dict:  # pragma: no cover - runs in a pool process
    grader = _pool_grader
    try:
        return grader.grade(Path(path), name=name).to_dict()
    except sandbox.SandboxUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - the batch goes on; the reason is kept
        return grader_failure(grader, Path(path), exc, name).to_dict()


# -- running ---------------------------------------------------------------
@dataclass
class Result:
    graded: list[Grade]
    interrupted: int | None = None   # the signal that stopped the batch
    problem: str = ""                # why it stopped early without a signal


def _sandbox_error(exc: BaseException) -> BatchError:
    return BatchError(str(exc))  # its message says what to do


def run(a: assignments.Assignment, todo: list[Input], *, sinks, jobs: int = 1, seed: int | None = None,
        secret: str | None = None, public_only: bool = False, protect=()) -> Result:
    """Grade `todo`, giving each grade to every sink (`sink(grade)`) as it finishes.

    `secret`: the course's secret the seeds are drawn with (None: the kit's, if any).
    `protect`: folders student code must not see besides the assignment's (the output).
    """
    stop = Stop()
    previous = stop.install()
    graded: list[Grade] = []

    def finish(grade):
        for sink in sinks:
            sink(grade)
        graded.append(grade)

    try:
        if jobs <= 1 or len(todo) <= 1:
            problem = _run_here(a, todo, seed, secret, public_only, protect, finish, stop)
        else:
            problem = _run_pool(a, todo, jobs, seed, secret, public_only, protect, finish, stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return Result(graded, stop.signum, problem)


def _run_here(a, todo, seed, secret, public_only, protect, finish, stop: Stop) -> str:
    from . import grading

    grader = grading.Grader(a, secret=secret, seed=seed, public_only=public_only, protect=protect)
    # The next submission's worker starts while this one is graded: with one job a core is
    # free for it (paired, 14 submissions: 0.92x wall). A pool's processes fill both cores
    # already; there it cost 1.04x, so they do not. On one CPU it would take time from this
    # submission's timed calls.
    ahead = affinity.cpus() > 1
    try:
        for index, item in enumerate(todo):
            if stop.signum is not None:
                break
            grade = None
            try:
                stop.interruptible = True
                if ahead and index + 1 < len(todo):
                    grader.start_next()
                grade = grader.grade(item.path, name=item.name)
            except sandbox.SandboxUnavailable as exc:
                if stop.signum is None:
                    raise _sandbox_error(exc) from None
            except BaseException as exc:  # noqa: BLE001 - a signal, or a grader error the batch survives
                if stop.signum is None:
                    grade = grader_failure(grader, item.path, exc, item.name)
            finally:
                stop.interruptible = False
            if stop.signum is not None:
                break  # a grade cut short by the signal is not a grade
            finish(grade)
    finally:
        grader.close()
        if stop.signum is not None:
            kill_sandbox_workers()
    return ""


def _run_pool(a, todo, jobs, seed, secret, public_only, protect, finish, stop: Stop) -> str:
    """Grade `todo` in `jobs` processes. A process that dies (killed from outside, out of memory)
    costs only the submission it was grading: the pool is made anew and what it held is graded
    again, and one that kills its process when graded alone is graded 0 with the reason."""
    from . import grading

    # In flight when a process dies, every submission of the pool is lost with it, the cause
    # among them: they are graded again side by side once, then one at a time.
    lost = _pool_round(a, list(todo), jobs, seed, secret, public_only, protect, finish, stop)
    if lost:
        lost = _pool_round(a, lost, jobs, seed, secret, public_only, protect, finish, stop)
    for item in lost:
        if stop.signum is not None:
            break
        if _pool_round(a, [item], 1, seed, secret, public_only, protect, finish, stop) and stop.signum is None:
            grader = grading.Grader(a, secret=secret, seed=seed, public_only=public_only, protect=protect)
            try:
                finish(grader.failed(item.path, "the grading process died while grading this submission alone "
                                     "(out of memory, or killed from outside)", item.name))
            finally:
                grader.close()
    return ""


def _pool_round(a, todo, jobs, seed, secret, public_only, protect, finish, stop: Stop) -> list:
    """One pool over `todo`; returns the submissions not finished because a pool process died."""
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(todo)), mp_context=multiprocessing.get_context("spawn"),
        initializer=_pool_init, initargs=(a.name, str(a.root), secret, seed, public_only, [str(p) for p in protect]),
    )
    lost, clean, finished = [], False, set()
    try:
        item_of = {pool.submit(_pool_grade, str(item.path), item.name): item for item in todo}
        pending = set(item_of)
        while pending and stop.signum is None:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    data = future.result()
                except sandbox.SandboxUnavailable as exc:
                    raise _sandbox_error(exc) from None
                except BrokenProcessPool:
                    time.sleep(0.3)  # a SIGTERM to the process group reaches the pool first
                    wait(pending, timeout=5)  # the pool fails every future it holds
                    for f, item in item_of.items():
                        if f in finished:
                            continue
                        if f.done() and not f.cancelled() and f.exception() is None:
                            finished.add(f)
                            finish(Grade.from_dict(f.result()))
                        else:
                            lost.append(item)
                    pending = set()
                    break
                finished.add(future)
                finish(Grade.from_dict(data))
        clean = not pending and stop.signum is None and not lost
    finally:
        if clean:
            pool.shutdown(wait=True)
        else:
            _stop_pool(pool)
    if lost and stop.signum is None:
        note(f"a grading process died (out of memory, or killed from outside); grading again "
              f"the {len(lost)} submission(s) the pool held")
    return [] if stop.signum is not None else lost


def _stop_pool(pool) -> None:
    """End a pool now: queued submissions are dropped, running ones stopped with their sandboxes."""
    processes = list(getattr(pool, "_processes", {}).values())
    for p in processes:
        if p.is_alive():
            p.terminate()  # SIGTERM: the pool process kills its sandbox workers, then exits
    deadline = time.monotonic() + 5
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(1)
    # With its processes gone the pool's manager thread ends at once; waiting for it
    # lets the pool release its queues (else multiprocessing warns of leaked semaphores).
    pool.shutdown(wait=True, cancel_futures=True)
    kill_sandbox_workers()


# -- the gradebook folder --------------------------------------------------
def open_gradebook(a: assignments.Assignment, out: Path) -> report.Gradebook:
    """OUT's gradebook, refusing a folder that holds another assignment's grades."""
    if out.exists() and not out.is_dir():
        raise BatchError(f"--out {out} is a file; give a folder for grades.csv and the students' results")
    book = report.Gradebook(out / "grades.csv", [q.item for q in a.questions], a.name)
    try:
        book.load()
    except ValueError as exc:
        raise BatchError(str(exc)) from None
    return book


class Folder:
    """The sink that writes a student's feedback.md and grade.json."""

    def __init__(self, out: Path, title: str):
        self.out, self.title = out, title

    def __call__(self, grade: Grade) -> None:
        report.write_submission(self.out, grade, self.title)


def saved_grade(out: Path, name: str) -> Grade | None:
    try:
        return Grade.from_dict(json.loads((out / name / "grade.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def all_grades(out: Path, book: report.Gradebook, fresh: list[Grade] = ()) -> list[Grade]:
    """Every student's grade in the gradebook, in its order (this run's from memory, the rest from disk)."""
    mine = {g.name: g for g in fresh}
    grades = []
    for name in book.names():
        grade = mine.get(name) or saved_grade(out, name)
        if grade is not None:
            grades.append(grade)
    return grades


def merge(a: assignments.Assignment, folders: list[Path], out: Path) -> report.Gradebook:
    """Combine gradebook folders (shards of one class) into `out`; later folders win a student graded twice."""
    book = open_gradebook(a, out)
    for folder in folders:
        if not (folder / report.Gradebook.RECORD).is_file():
            raise BatchError(f"{folder} has no {report.Gradebook.RECORD}; pass folders that `grade --out` wrote")
        if folder.resolve() == out.resolve():
            continue
        part = open_gradebook(a, folder)
        book.extend_order(part.order)
        for name in part.names():
            if (folder / name).is_dir():
                shutil.rmtree(out / name, ignore_errors=True)
                shutil.copytree(folder / name, out / name)
            book.put(name, part.entries[name])
    book.save()
    return book
