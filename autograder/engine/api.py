"""The engine's one public surface: grade an assignment's submissions, get typed results back.

Every entry point calls this and nothing else of the engine's grading: the CLI
(cli.py, a few lines per command), Gradescope's runner and `check`
(integrations/), the benches, and the grading service to come.

    api.start(a, protect)              start the sandbox probe early (optional)
    api.grade(a, inputs, out, options) a class, or part of one, into a gradebook folder
    api.grade_one(a, path, ...)        one submission, nothing written
    api.Warm(a)                        a grader kept for many gradings, a fresh worker ready for each
    api.merge(a, folders, out)         shards' folders into one gradebook
    api.grades(a, out)                 every grade a gradebook folder holds

Inputs are `Input`s: LMS exports and class folders are expanded by
integrations/exports.py before they reach here. What comes back is data
(`Batch`, `Grade`, `SecretMismatch`); the caller decides how to show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .. import assignment as assignments
from .. import course_secret
from . import batch, detection, fingerprints, sandbox
from .batch import BatchError, Input, Plan, parse_shard
from .report import Gradebook
from .results import Grade, seed_for

# The grader (grading.py) imports pytest and NumPy, ~0.15 s: `start` launches the sandbox probe's
# worker first, so that it comes up in its own process meanwhile. This is the one import kept
# inside functions for speed; `grading` is imported by name there (bench/per_submission.py measures it).

__all__ = ["BatchError", "Batch", "Input", "Options", "Plan", "SecretMismatch", "SandboxUnavailable", "Sink",
           "Warm", "grade", "grade_one", "grades", "merge", "parse_shard", "start"]

SandboxUnavailable = sandbox.SandboxUnavailable
Sink = Callable[[Grade], None]  # called with each grade as it is made


@dataclass(frozen=True)
class Options:
    """How to grade a batch; every field has the default a plain `grade` uses."""

    jobs: int = 1                         # submissions graded at once (processes)
    seed: int | None = None               # one seed for every submission (to reproduce a run)
    resume: bool = False                  # skip students the gradebook has
    stale: bool = False                   # grade only what changed since its grade
    only: tuple[str, ...] = ()            # grade only these students
    shard: tuple[int, int] | None = None  # (K, N): a fixed 1/N of the inputs
    public_only: bool = False             # the public checks alone (no hidden suite)
    make_secret: bool = True              # make the course secret if there is none (the demo does not)

    def __post_init__(self):
        if self.jobs < 1:
            raise BatchError(f"--jobs {self.jobs}: give at least 1 (the number of submissions graded at once)")


@dataclass(frozen=True)
class SecretMismatch:
    """The gradebook's earlier grades were drawn with another course secret (or one that is gone)."""

    folder: str               # the gradebook folder
    earlier: tuple[str, ...]  # short ids of the secrets used before
    current: str              # the short id of this one ("" when there is none)
    where: str                # where this one comes from
    file: str                 # where a secret would be read from
    env: str                  # the variable that overrides it

    def __str__(self) -> str:
        found = (f"this one (id {self.current}, from {self.where})" if self.current else
                 f"none here (no {self.env}, no {self.file})")
        return (f"earlier grades in {self.folder} were drawn with a course secret of id {', '.join(self.earlier)}, and "
                f"there is {found}: students graded now get other hidden inputs than their earlier grade. To reproduce "
                f"those grades, put that secret back in {self.file} or {self.env}")


@dataclass
class Batch:
    """What one `grade` did."""

    plan: Plan                        # which inputs were this run's and which of them it graded
    graded: list[Grade]               # the grades made now, in the order they finished
    grades: list[Grade]               # this run's share of the class (plan.inputs), earlier grades included
    everyone: list[Grade]             # every student in the gradebook, in its order
    interrupted: int | None = None    # the signal that stopped it
    problem: str = ""                 # why it stopped early without a signal
    secret_mismatch: SecretMismatch | None = None
    book: Gradebook | None = field(default=None, repr=False)

    @property
    def stopped(self) -> bool:
        return self.interrupted is not None or bool(self.problem)


def start(a: assignments.Assignment, protect: Iterable[Path] = ()) -> None:
    """Start probing the sandbox now; its worker then serves the first submission graded in this process.

    `protect` must be what grading will be given (the output folder), or the probe is not the one it uses.
    """
    detection.probe(a, protect)


def grade(a: assignments.Assignment, inputs: list[Input], out: Path, options: Options = Options(), *,
          secret: str | None = None, sinks: Iterable[Sink] = (),
          on_plan: Callable[[Plan], None] | None = None,
          on_secret_mismatch: Callable[[SecretMismatch], None] | None = None) -> Batch:
    """Grade `inputs` into the gradebook folder `out`: each student's folder, grades.csv, gradebook.json.

    Each Grade goes to every sink as it finishes (results files, a progress bar). One row per
    submission; a submission that cannot be graded gets 0 with its reason and the batch goes on.
    `secret`: the course secret to draw hidden inputs with (default: the course's, made if
    missing when options.make_secret). Told before any grading: `on_secret_mismatch` when the
    gradebook's earlier grades used another secret, `on_plan` what this run grades and skips.
    Raises BatchError (bad options or inputs, another assignment's folder, no sandbox).
    """
    book = batch.open_gradebook(a, out)
    book.extend_order(i.name for i in inputs)
    mismatch = secret_mismatch(book)
    if mismatch and on_secret_mismatch:
        on_secret_mismatch(mismatch)
    if secret is None:
        secret = course_secret.ensure() if options.make_secret else course_secret.current()[0]
    prints = prints_of(a, inputs, options.seed, secret)
    plan = batch.plan(inputs, book, shard=options.shard, only=list(options.only), resume=options.resume,
                      stale=options.stale, fingerprint=lambda i: prints[i.name])
    if on_plan:
        on_plan(plan)
    # Every student's results land here: private from the start (a classmate's worker
    # running as another uid must not read them).
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BatchError(f"cannot create --out {out}: {exc.strerror or exc}; choose a folder you can write") from None
    refuse_exposed(a, [i.path for i in plan.todo], out)
    try:
        result = batch.run(a, plan.todo, jobs=options.jobs, seed=options.seed, secret=secret,
                           public_only=options.public_only, protect=[out],
                           sinks=[batch.Folder(out, a.title), lambda g: book.add(g, prints.get(g.name)), *sinks])
    finally:
        book.save()
    everyone = batch.all_grades(out, book, result.graded)
    mine = {i.name for i in plan.inputs}
    return Batch(plan, result.graded, [g for g in everyone if g.name in mine], everyone,
                 result.interrupted, result.problem, mismatch, book)


def grade_one(a: assignments.Assignment, path: Path, *, name: str | None = None, protect: Iterable[Path] = (),
              secret: str | None = None, public_only: bool = False, seed_as: tuple[str, Path] | None = None) -> Grade:
    """One submission graded in this process, nothing written: its Grade.

    `name`: what the grade is called (default: from the path); `seed_as`: the (name, files) its inputs
    are drawn from, when not its own (Gradescope seeds as a regrade of the course's export does).
    Raises what grading raises (SandboxUnavailable when no isolation level can start here): the
    caller decides what a grader failure becomes (a batch grades it 0 and goes on).
    """
    from . import grading

    grader = grading.Grader(a, secret=secret, public_only=public_only, protect=list(protect))
    try:
        grade = grader.grade(Path(path), seed_as=seed_as)
    finally:
        grader.close()
    if name is not None:
        grade.name = name
    return grade


class Warm:
    """A grader kept for many gradings in this process (`check --watch`, the grading service's workers):
    the grader's imports, the reference and the sandbox level are paid once, and after each grading
    a fresh worker starts for the next, so the next one does not wait for Python and NumPy.
    Each grading still gets a worker of its own: nothing carries over between them.

        with api.Warm(a, public_only=True) as grader:
            grade = grader.grade(path)
    """

    def __init__(self, a: assignments.Assignment, *, public_only: bool = False, protect: Iterable[Path] = (),
                 secret: str | None = None):
        from . import grading

        self._grader = grading.Grader(a, secret=secret, public_only=public_only, protect=list(protect))

    def grade(self, path: Path, *, name: str | None = None) -> Grade:
        """As grade_one, with this grader; raises what grading raises."""
        try:
            grade = self._grader.grade(Path(path))
        finally:
            self._grader.start_next()
        if name is not None:
            grade.name = name
        return grade

    def close(self) -> None:
        self._grader.close()

    def __enter__(self) -> "Warm":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def grades(a: assignments.Assignment, out: Path) -> list[Grade]:
    """Every grade the gradebook folder `out` holds, in its order."""
    return batch.all_grades(out, batch.open_gradebook(a, out))


def merge(a: assignments.Assignment, folders: list[Path], out: Path) -> list[Grade]:
    """Combine gradebook folders (the shards of one class) into `out`; every grade it then holds."""
    for folder in folders:
        if not folder.is_dir():
            raise BatchError(f"{folder} is not a folder; pass the --out folders of `grade --shard K/N` runs")
    book = batch.merge(a, folders, out)
    return batch.all_grades(out, book)


# -- what a batch settles before it grades -----------------------------------
def secret_mismatch(book: Gradebook) -> SecretMismatch | None:
    """Whether the gradebook's earlier grades were drawn with a secret other than the current one."""
    used = {fp["secret"] for name in book.names()
            if isinstance(fp := book.fingerprint(name), dict) and fp.get("secret")}
    secret, where = course_secret.current()
    mine = course_secret.fingerprint(secret) if secret else ""
    if not used or (mine and mine in used):
        return None
    return SecretMismatch(str(book.path.parent), tuple(sorted(used)[:3]), mine, where, str(course_secret.path()), course_secret.ENV)


def prints_of(a: assignments.Assignment, inputs: list[Input], seed: int | None, secret: str) -> dict[str, dict]:
    """What produced each grade, for gradebook.json and --stale: the seed follows the submission's bytes."""
    suite, reference = fingerprints.suite_fingerprint(a), fingerprints.reference_fingerprint(a)
    prints = {}
    for i in inputs:
        code = fingerprints.submission_fingerprint(i.path)
        prints[i.name] = {
            "suite": suite, "reference": reference, "submission": code,
            "secret": course_secret.fingerprint(secret),  # a short hash, never the secret
            "seed": seed if seed is not None else seed_for(a.name, i.name, code, secret),
        }
    return prints


def refuse_exposed(a: assignments.Assignment, paths: list[Path], out: Path) -> None:
    """Before any student code runs: at the unprivileged-uid level, no submission may be
    readable by others (a worker graded earlier would read a classmate's file)."""
    exposed = detection.exposed_paths(paths)
    if not exposed:
        return
    future, ready = detection.probe(a, [out])
    try:
        detection.require_hidden(future.result(), exposed)
    except sandbox.SandboxUnavailable as exc:
        # The probe's worker, started for the first submission, has a folder of its own: a
        # refusal leaves nothing behind.
        while ready:
            ready.pop().close()
        raise BatchError(str(exc)) from None
