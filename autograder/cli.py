"""`python -m autograder`: build, grade and check commands.

Every command returns an exit code: 0 for success, 1 when a check it was
asked to make failed, 2 for bad arguments or an unusable assignment (with a
one-line message on stderr saying what to do).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from . import assignment as assignments
from . import course_secret
from .engine.batch import BatchError
from .engine.text import inert
from .errors import UsageError


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


_seed.__name__ = "seed (an integer >= 0)"  # what argparse's one-line error calls it


def _selected(names: list[str]) -> list[assignments.Assignment]:
    if names:
        return [assignments.load(n) for n in names]
    found = assignments.all_assignments()
    if not found:
        raise UsageError(f"no assignments found under {assignments.kit_root() / 'assignments'}")
    return found


def cmd_build(args) -> int:
    from . import build

    failed = False
    for a in _selected(args.assignment):
        if args.check:
            problems = build.stale(a)
            for line in problems:
                print(f"{a.name}: {line}", file=sys.stderr)
            if problems:
                failed = True
                print(f"{a.name}: built files are stale; run `python -m autograder build` and commit the result", file=sys.stderr)
            else:
                print(f"{a.name}: solutions/ and student_template/ are up to date")
        else:
            written = build.write(a)
            print(f"{a.name}: built {len(written)} files into solutions/{a.name} and student_template/{a.name}")
    return 1 if failed else 0


def _one_assignment(name: str | None) -> assignments.Assignment:
    if name:
        return assignments.load(name)
    found = _selected([])
    if len(found) > 1:
        # The one marked `default = true` in its assignment.toml, so commands written for one assignment keep working.
        found = [a for a in found if a.extra["assignment"].get("default") is True] or found
    if len(found) > 1:
        raise UsageError("several assignments exist; say which with --assignment NAME")
    return found[0]


def _warn_if_stale(a) -> None:
    """Grading with an outdated reference gives wrong grades quietly: say so (gradescope refuses)."""

    # A hash of the sources against the build's stamp: milliseconds, where rendering the
    # whole build to compare (below, only when they differ) costs ~0.15 s.
    stamp = a.solution_dir / assignments.SOURCES_STAMP
    try:
        if stamp.read_text().strip() == assignments.sources_digest(a):
            return
    except OSError:
        pass
    from . import build
    try:
        # Only files that differ: a kit unpacked from a Gradescope zip lacks most of the
        # handout on purpose, and a missing reference is an error of its own.
        problems = [line for line in build.stale(a) if line.startswith("out of date:")]
    except Exception:  # noqa: BLE001 - a warning must not stop grading
        return
    if problems:
        print(f"warning: solutions/{a.name} or student_template/{a.name} are stale ({problems[0]}); grading "
              f"with the built reference: run `./kit build` if you changed assignments/{a.name}", file=sys.stderr)


def _fingerprints(a, inputs, seed, secret: str):
    """What produced each grade, for gradebook.json and --stale: the seed follows the submission's bytes."""
    from .engine import batch, grading

    suite, reference = batch.suite_fingerprint(a), batch.reference_fingerprint(a)
    prints = {}
    for i in inputs:
        code = batch.submission_fingerprint(i.path)
        prints[i.name] = {
            "suite": suite, "reference": reference, "submission": code,
            "secret": course_secret.fingerprint(secret),  # a short hash, never the secret
            "seed": seed if seed is not None else grading.seed_for(a.name, i.name, code, secret),
        }
    return prints


def _settle_secret(book, out: Path, make: bool = True) -> str:
    """The course secret to grade with (made now if there is none and `make`), after a warning
    when the gradebook's earlier grades were drawn with another secret or one that is gone."""
    used = {fp["secret"] for name in book.names()
            if isinstance(fp := book.fingerprint(name), dict) and fp.get("secret")}
    secret, where = course_secret.current()
    mine = course_secret.fingerprint(secret)
    if used and mine not in used:
        ids = ", ".join(sorted(used)[:3])
        found = (f"this one (id {mine}, from {where})" if secret else
                 f"none here (no {course_secret.ENV}, no {course_secret.path()})")
        print(f"warning: earlier grades in {out} were drawn with a course secret of id {ids}, and there is {found}: "
              f"students graded now get other hidden inputs than their earlier grade. To reproduce those grades, "
              f"put that secret back in {course_secret.path()} or {course_secret.ENV}", file=sys.stderr)
    return course_secret.ensure() if make else secret


def grade_batch(a, paths: list[Path], out: Path, jobs: int, resume: bool, seed, public_only=False, quiet=False):
    """Grade every path into `out`'s gradebook; returns the grades in the order given.

    One row per submission as it finishes; a failure is graded 0 with its reason;
    no working sandbox stops the batch (UsageError, exit code 2).
    """
    from .engine import batch
    from .integrations import exports

    with tempfile.TemporaryDirectory(prefix="autograder-export-") as scratch:
        try:
            inputs, _ = exports.inputs([str(p) for p in paths], a, Path(scratch))
            book = batch.open_gradebook(a, out)
            book.extend_order(i.name for i in inputs)
            # The demo grades the bundled examples, not students: it uses a secret but makes none.
            secret = _settle_secret(book, out, make=False)
            prints = _fingerprints(a, inputs, seed, secret)
            todo = batch.plan(inputs, book, resume=resume).todo
            result = _run(a, book, out, todo, prints, jobs, seed, secret, public_only, quiet)
        except batch.BatchError as exc:
            raise UsageError(str(exc)) from None
    _stop_if_interrupted(result, out, len(todo))
    names = {i.name for i in inputs}
    return [g for g in batch.all_grades(out, book, result.graded) if g.name in names]


def _run(a, book, out, todo, prints, jobs, seed, secret, public_only, quiet):
    from tqdm import tqdm

    from .engine import batch

    # Every student's results land here: private from the start (a classmate's worker
    # running as another uid must not read them).
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"cannot create --out {out}: {exc.strerror or exc}; choose a folder you can write") from None
    _refuse_exposed(a, [i.path for i in todo], out)
    bar = tqdm(total=len(todo), unit="submission", disable=quiet or not sys.stderr.isatty(), file=sys.stderr)

    def progress(grade):
        bar.set_postfix_str(f"{grade.name}: {grade.score:g}", refresh=False)
        bar.update()

    try:
        return batch.run(a, todo, jobs=jobs, seed=seed, secret=secret, public_only=public_only, protect=[out], sinks=[
            batch.Folder(out, a.title), lambda grade: book.add(grade, prints.get(grade.name)), progress,
        ])
    finally:
        bar.close()
        book.save()


def _refuse_exposed(a, paths: list[Path], out: Path) -> None:
    """Before any student code runs: at the unprivileged-uid level, no submission may be
    readable by others (a worker graded earlier would read a classmate's file)."""
    from .engine import detection, sandbox

    exposed = detection.exposed_paths(paths)
    if not exposed:
        return
    setup = sandbox.worker_setup(a.limits, a.banned_imports, a.banned_why, a.sandbox_packages)
    future, ready = detection.detect_soon(a.private_paths + [out], setup)
    try:
        detection.require_hidden(future.result(), exposed)
    except sandbox.SandboxUnavailable as exc:
        # The probe's worker, started for the first submission, has a folder of its own: a
        # refusal leaves nothing behind.
        while ready:
            ready.pop().close()
        raise UsageError(str(exc)) from None


class Interrupted(Exception):
    def __init__(self, code: int):
        self.code = code


def _stop_if_interrupted(result, out: Path, planned: int) -> None:
    if result.interrupted is None and not result.problem:
        return
    import signal

    why = f"interrupted by {signal.Signals(result.interrupted).name}" if result.interrupted else f"stopped: {result.problem}"
    print(f"{why}; {len(result.graded)} of {planned} submissions graded this run, every finished row kept in "
          f"{out / 'grades.csv'}. To grade the rest, run the same command again with --resume.", file=sys.stderr)
    raise Interrupted(128 + result.interrupted if result.interrupted else 1)


def print_gradebook(grades, a) -> None:
    width = max([len(g.name) for g in grades] + [10])
    print(f"{'submission':<{width}}  {'score':>7}  status")
    for g in grades:
        print(f"{g.name:<{width}}  {g.score:>7g}  {inert(g.status, one_line=True)}")


def _probe_sandbox_early(a, protect=()) -> None:
    """Start the sandbox probe now: its worker (~0.2 s to start) comes up in another
    process while this one imports pytest and NumPy, then grades the first submission.
    `protect` must be what the Grader will be given, or the probe is not the one it uses."""
    from .engine import detection, sandbox

    detection.detect_soon(a.private_paths + [Path(p) for p in protect],
                        sandbox.worker_setup(a.limits, a.banned_imports, a.banned_why, a.sandbox_packages))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def cmd_grade(args) -> int:
    from .engine import batch

    a = _one_assignment(args.assignment)
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: give at least 1 (the number of submissions graded at once)")
    shard = batch.parse_shard(args.shard) if args.shard else None
    _warn_if_stale(a)
    out = Path(args.out)
    if args.known and not Path(args.known).exists():  # said now, not after the class is graded
        raise UsageError(f"--known {args.known} does not exist; pass a folder or .zip of known solutions")
    book = batch.open_gradebook(a, out)
    if args.jobs == 1:  # with --jobs N, each worker process of the pool probes for itself
        _probe_sandbox_early(a, [out])
    from .integrations import exports  # after the probe starts: it imports the grader (pytest, NumPy)

    with tempfile.TemporaryDirectory(prefix="autograder-export-") as scratch:
        # LMS and Gradescope exports become one submission per student, named after the student.
        inputs, roster = exports.inputs(args.submissions, a, Path(scratch), args.export)
        book.extend_order(i.name for i in inputs)
        secret = _settle_secret(book, out)
        prints = _fingerprints(a, inputs, args.seed, secret)
        plan = batch.plan(inputs, book, shard=shard, only=args.only, resume=args.resume, stale=args.stale,
                          fingerprint=lambda i: prints[i.name])
        if shard:
            print(f"shard {shard[0]}/{shard[1]}: {_plural(len(plan.inputs), 'submission')} of {len(inputs)}", file=sys.stderr)
        if plan.skipped:
            print(f"skipped {_plural(len(plan.skipped), 'submission')} {plan.why_skipped} in {out / 'grades.csv'}; "
                  f"grading {len(plan.todo)}", file=sys.stderr)
        result = _run(a, book, out, plan.todo, prints, args.jobs, args.seed, secret, False, args.quiet)
        _stop_if_interrupted(result, out, len(plan.todo))
        similar = (_output("similarity", lambda: _similarity(a, out, book, inputs, args))
                   if args.similarity or args.known else None)

    from .integrations import classreport, junit

    everyone = batch.all_grades(out, book, result.graded)
    mine = {i.name for i in plan.inputs}
    grades = [g for g in everyone if g.name in mine]
    # Each output on its own: one that fails (on a student's bytes, say) leaves the others written.
    _output("the LMS gradebooks", lambda: exports.write_gradebooks(out, everyone, roster, a))
    if args.junit:
        _output(f"JUnit XML {args.junit}", lambda: junit.write_junit(grades, Path(args.junit), a))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        _output("the step summary", lambda: junit.write_step_summary(grades, Path(os.environ["GITHUB_STEP_SUMMARY"]), a))
    # A class report of one student says nothing its feedback does not, and
    # drawing its figures costs more than grading: by default only for classes.
    report = len(everyone) > 1 if args.report is None else args.report
    report_path = (_output("the class report", lambda: classreport.write_report(out, everyone, a, similarity=similar))
                   if report else None)
    if not args.quiet:
        print_gradebook(grades, a)
        others = len(everyone) - len(grades)
        print(f"grades: {out / 'grades.csv'}" + (f" (with {_plural(others, 'other student')} graded before);" if others else ";")
              + (f" class report: {report_path};" if report_path else "")
              + f" per submission: results.json and feedback.md in {out}/<name>/")
    return 0


def _output(what: str, write):
    """write(), or, if it fails, a one-line warning (the grades and every other output stand)."""
    try:
        return write()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - no output may lose the class's grades
        print(f"warning: {what} was not written ({type(exc).__name__}: {inert(exc, one_line=True)[:300]}); "
              "the grades and every other output were", file=sys.stderr)
        return None


def _similarity(a, out: Path, book, inputs, args):
    """Similarity over everyone in the gradebook, not only this run's part of the class: this run's
    files, and the earlier students' from where they were graded (or listed as not compared)."""
    from .integrations import similarity

    paths, missing = similarity.class_paths(out, book.names(), {i.name: i.path for i in inputs})
    try:
        return similarity.run(a, out, paths, Path(args.known) if args.known else None, quiet=args.quiet,
                              missing=similarity.gone(missing, out))
    except similarity.SimilarityError as exc:
        raise UsageError(str(exc)) from None


def cmd_similarity(args) -> int:
    from .integrations import similarity

    try:
        _, report = similarity.run_on_output(_one_assignment(args.assignment), Path(args.out),
                                             [Path(p) for p in args.submissions], Path(args.known) if args.known else None,
                                             args.export)
    except similarity.SimilarityError as exc:
        raise UsageError(str(exc)) from None
    print(f"similarity: {Path(args.out) / similarity.CSV_NAME}" + (f"; class report: {report}" if report else ""))
    return 0


def cmd_merge(args) -> int:
    from .engine import batch
    from .integrations import classreport, exports

    a = _one_assignment(args.assignment)
    folders = [Path(f) for f in args.folders]
    for folder in folders:
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder; pass the --out folders of `grade --shard K/N` runs")
    book = batch.merge(a, folders, Path(args.out))
    out = Path(args.out)
    everyone = batch.all_grades(out, book)
    exports.write_gradebooks(out, everyone, exports.read_rosters(folders), a)
    report = len(everyone) > 1 if args.report is None else args.report
    report_path = classreport.write_report(out, everyone, a) if report else None
    print(f"merged {_plural(len(folders), 'folder')}: {_plural(len(everyone), 'student')} in {out / 'grades.csv'}"
          + (f"; class report: {report_path}" if report_path else ""))
    return 0


def cmd_check(args) -> int:
    a = _one_assignment(args.assignment)
    _probe_sandbox_early(a)
    from .integrations import check

    return check.run_check(a, Path(args.submission))


def cmd_gradescope(args) -> int:
    from .integrations import gradescope

    a = _one_assignment(args.assignment)
    submission = Path(args.try_submission) if args.try_submission else None
    if submission is not None and not submission.exists():
        raise UsageError(f"--try {submission}: no such file or folder; pass a submission (.py, .ipynb, folder or .zip)")
    # The zip grades with the course's secret (made now if this is the first command to need it).
    path = gradescope.build_zip(a, Path(args.out), course_secret.ensure())
    print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    if submission is None:
        return 0
    return gradescope.try_zip(a, path, submission)


def cmd_gradescope_run(args) -> int:
    from .integrations import gradescope

    root = Path(args.root or os.environ.get("AUTOGRADER_GRADESCOPE_ROOT", "/autograder"))
    a = _one_assignment(args.assignment)
    _probe_sandbox_early(a, [root / "results"])  # as gradescope.run's Grader protects it
    return gradescope.run(a, root)


def cmd_doctor(args) -> int:
    """What this kit grades with; for now, whether a course secret exists (never the secret itself)."""
    secret, where = course_secret.current()
    if secret:
        print(f"course secret: yes, from {where} (id {course_secret.fingerprint(secret)}; gradebook.json records "
              "this id with each grade)")
    else:
        print(f"course secret: none yet; the first `grade` or `gradescope` makes one in {course_secret.path()} "
              f"(or set {course_secret.ENV})")
    return 0


def demo_submissions(a, into: Path) -> list[Path]:
    """Copies of the bundled submissions under names that say what they are.

    Where the assignment builds on an earlier part (`requires`), each is a
    folder holding the file and the reference's modules of that part, as a
    student hands it in; a bundled example is such a folder already.
    """
    import shutil

    from .build import examples

    into.mkdir(parents=True, exist_ok=True)
    picks = [
        (a.reference_module, f"reference{a.reference_module.suffix}"),
        (a.solution_dir / a.notebook, f"reference_notebook{Path(a.notebook).suffix}"),
        (a.template_dir / f"{a.module}.py", "untouched_handout.py"),
        *[(p, p.name) for p in sorted(examples(a).glob("*.py"))],
    ]
    paths = []
    for source, name in picks:
        if not source.is_file():
            continue
        if a.requires:
            folder = into / Path(name).stem
            folder.mkdir()
            shutil.copyfile(source, folder / source.name)
            for module in a.requires:
                shutil.copyfile(a.solution_dir / f"{module}.py", folder / f"{module}.py")
            paths.append(folder)
        else:
            shutil.copyfile(source, into / name)
            paths.append(into / name)
    for example in sorted(p for p in examples(a).glob("*") if p.is_dir()):
        shutil.copytree(example, into / example.name)
        paths.append(into / example.name)
    if not paths:
        raise UsageError(f"nothing to grade: run `python -m autograder build` first to make solutions/{a.name}")
    return paths


def _named_mistake(grade) -> str:
    for t in grade.tests:
        if t.status != "passed" and t.mistake_phrase:
            return f"you {t.mistake_phrase}"
    failed = [t for t in grade.tests if t.status != "passed"]
    return f"{failed[0].name}: {failed[0].output}" if failed else ""


def demo_table(grades, columns: int) -> list[str]:
    """Score and what the feedback names, per submission; each message in full, wrapped
    under its column to fit `columns` (a message cut mid-sentence misleads)."""
    import textwrap

    width = max([len(g.name) for g in grades] + [len("submission")])
    indent = width + 10
    wrap = max(40, columns - indent)
    lines = [f"{'submission':<{width}}  {'score':>6}  what the feedback names"]
    for g in grades:
        said = inert(g.status if not g.graded else _named_mistake(g), one_line=True)
        parts = textwrap.wrap(said, wrap) or [""]
        lines.append(f"{g.name:<{width}}  {g.score:>6g}  {parts[0]}")
        lines += [" " * indent + part for part in parts[1:]]
    return lines


def cmd_demo(args) -> int:
    import shutil

    a = _one_assignment(args.assignment)
    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as scratch:
        paths = demo_submissions(a, Path(scratch))
        print(f"Grading {len(paths)} bundled submissions of '{a.name}' with the hidden suite...", flush=True)
        grades = grade_batch(a, paths, Path(args.out), args.jobs, False, None, quiet=False)
    from .integrations import classreport

    report_path = classreport.write_report(Path(args.out), grades, a)
    print()
    print("\n".join(demo_table(grades, shutil.get_terminal_size((120, 24)).columns)))
    print(f"\nIsolation: {grades[0].isolation if grades else '-'}")
    print(f"Gradebook: {Path(args.out) / 'grades.csv'}; class report: {report_path}; feedback for each: {args.out}/<name>/feedback.md")
    return 0


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line naming the problem and where the fix is, exit code 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; see `{self.prog} --help`\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="build solutions/ and student_template/ from assignments/")
    p.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    p.add_argument("--check", action="store_true", help="only report whether the built files are stale (exit 1 if so)")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("grade", help="grade submissions with the hidden suite")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION", help=".py, .ipynb, folder or .zip")
    p.add_argument("--out", required=True,
                   help="folder for grades.csv and one folder of results per submission; an existing one keeps its other students' rows")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    p.add_argument("--resume", action="store_true", help="skip submissions already in OUT/grades.csv")
    p.add_argument("--stale", action="store_true",
                   help="grade only submissions that are new, or whose file, suite or reference changed since their grade")
    p.add_argument("--only", nargs="+", metavar="NAME", help="grade only these students (submission names); others keep their rows")
    p.add_argument("--shard", metavar="K/N", help="grade shard K of N (1 <= K <= N): a fixed 1/N of the inputs, for a job array; "
                   "combine the folders with `merge`")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.add_argument("--seed", type=_seed, help="use this seed for every submission's inputs (to reproduce a run)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or gradebook on the terminal")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML (one testcase per test)")
    p.add_argument("--report", action=argparse.BooleanOptionalAction, default=None,
                   help="write OUT/report.html, the class report (default: when more than one submission is graded)")
    p.add_argument("--similarity", action="store_true", help="also compare submissions for similarity (OUT/similarity.csv)")
    p.add_argument("--known", metavar="ARCHIVE", help="a folder or .zip of known solutions to compare with (implies --similarity)")
    p.add_argument("--export", choices=("canvas", "gradescope"), action="append", default=[],
                   help="read SUBMISSIONs laid out as this LMS's download as one submission per student "
                        "(without it, every zip is one student's); may be given for both")
    p.set_defaults(run=cmd_grade)

    p = sub.add_parser("similarity", help="instructors: compare graded submissions for similarity, to review by hand")
    p.add_argument("out", metavar="OUT", help="the --out folder of an earlier grade")
    p.add_argument("submissions", nargs="*", metavar="SUBMISSION", help="the submissions again (default: where OUT graded them)")
    p.add_argument("--known", metavar="ARCHIVE", help="a folder or .zip of known solutions to compare with")
    p.add_argument("--export", choices=("canvas", "gradescope"), action="append", default=[],
                   help="the SUBMISSIONs hold this LMS's download, as given to grade")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.set_defaults(run=cmd_similarity)

    p = sub.add_parser("check", help="students: run the public checks through the grader, as it will grade them")
    p.add_argument("submission", metavar="SUBMISSION", help="cnn_layers.py, cnn.ipynb, or a folder holding one")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip (and try it locally)")
    p.add_argument("--out", default="autograder.zip", help="zip to write (default autograder.zip)")
    p.add_argument("--try", dest="try_submission", metavar="SUBMISSION",
                   help="then run the zip's setup.sh and run_autograder on SUBMISSION in an emulated /autograder "
                        "(a temporary folder) and print what the student would see")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.set_defaults(run=cmd_gradescope)

    p = sub.add_parser("gradescope-run", help="inside Gradescope: grade ROOT/submission into ROOT/results")
    p.add_argument("--root", help="the /autograder folder (default: $AUTOGRADER_GRADESCOPE_ROOT or /autograder)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.set_defaults(run=cmd_gradescope_run)

    p = sub.add_parser("merge", help="combine gradebook folders (the shards of `grade --shard K/N`) into one")
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="--out folders of grade runs of the same assignment")
    p.add_argument("--out", required=True, help="folder for the combined gradebook (may be one of FOLDER, or hold earlier grades)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.add_argument("--report", action=argparse.BooleanOptionalAction, default=None,
                   help="write OUT/report.html (default: when the gradebook has more than one student)")
    p.set_defaults(run=cmd_merge)

    p = sub.add_parser("doctor", help="instructors: say whether a course secret exists (without printing it)")
    p.set_defaults(run=cmd_doctor)

    p = sub.add_parser("demo", help="grade the bundled examples (reference, untouched handout, typical mistakes)")
    p.add_argument("--out", default="out/demo", help="where to write the results (default out/demo)")
    p.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.set_defaults(run=cmd_demo)
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, BatchError, assignments.ConfigError) as exc:  # BuildError is a ConfigError
        print(f"error: {inert(exc, one_line=True)}", file=sys.stderr)
        return 2
    except Interrupted as stopped:
        return stopped.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
