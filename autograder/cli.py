"""`python -m autograder`: build, grade and check commands.

Every command returns an exit code: 0 for success, 1 when a check it was
asked to make failed, 2 for bad arguments or an unusable assignment (with a
one-line message on stderr saying what to do).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import textwrap
from pathlib import Path

from tqdm import tqdm

from . import assignment as assignments
from . import build, commands, course_secret
from .engine import api
from .engine.text import inert
from .errors import UsageError
from .integrations import check, classreport, exports, gradescope, junit, similarity, submit


def cmd_build(args) -> int:
    failed = False
    for a in commands.selected(args.assignment):
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
    try:
        # Only files that differ: a kit unpacked from a Gradescope zip lacks most of the
        # handout on purpose, and a missing reference is an error of its own.
        problems = [p for p in build.stale(a) if p.problem == build.Problem.OUT_OF_DATE]
    except Exception:  # noqa: BLE001 - a warning must not stop grading
        return
    if problems:
        print(f"warning: solutions/{a.name} or student_template/{a.name} are stale ({problems[0]}); grading "
              f"with the built reference: run `./kit build` if you changed assignments/{a.name}", file=sys.stderr)


def _grade(a, inputs, out: Path, options: api.Options, quiet: bool) -> api.Batch:
    """api.grade with a progress bar and what the terminal should be told; stops (Interrupted) when cut short."""
    bar = tqdm(total=0, unit="submission", disable=quiet or not sys.stderr.isatty(), file=sys.stderr)

    def planned(plan: api.Plan) -> None:
        if options.shard:
            print(f"shard {options.shard[0]}/{options.shard[1]}: {_plural(len(plan.inputs), 'submission')} of "
                  f"{len(inputs)}", file=sys.stderr)
        if plan.skipped:
            print(f"skipped {_plural(len(plan.skipped), 'submission')} {plan.why_skipped} in {out / 'grades.csv'}; "
                  f"grading {len(plan.todo)}", file=sys.stderr)
        bar.reset(total=len(plan.todo))

    def progress(grade) -> None:
        bar.set_postfix_str(f"{grade.name}: {grade.score:g}", refresh=False)
        bar.update()

    def mismatch(found: api.SecretMismatch) -> None:
        print(f"warning: {found}", file=sys.stderr)

    try:
        done = api.grade(a, inputs, out, options, sinks=[gradescope.ResultsFile(out), progress],
                         on_plan=planned, on_secret_mismatch=mismatch)
    finally:
        bar.close()
    if done.stopped:
        why = f"interrupted by {signal.Signals(done.interrupted).name}" if done.interrupted else f"stopped: {done.problem}"
        print(f"{why}; {len(done.graded)} of {len(done.plan.todo)} submissions graded this run, every finished row kept "
              f"in {out / 'grades.csv'}. To grade the rest, run the same command again with --resume.", file=sys.stderr)
        raise Interrupted(128 + done.interrupted if done.interrupted else 1)
    return done


class Interrupted(Exception):
    def __init__(self, code: int):
        self.code = code


def print_gradebook(grades, a) -> None:
    width = max([len(g.name) for g in grades] + [10])
    print(f"{'submission':<{width}}  {'score':>7}  status")
    for g in grades:
        print(f"{g.name:<{width}}  {g.score:>7g}  {inert(g.status, one_line=True)}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def cmd_grade(args) -> int:
    a = commands.one_assignment(args.assignment)
    options = api.Options(jobs=args.jobs, seed=args.seed, resume=args.resume, stale=args.stale,
                          only=tuple(args.only or ()), shard=api.parse_shard(args.shard) if args.shard else None)
    _warn_if_stale(a)
    out = Path(args.out)
    if args.known and not Path(args.known).exists():  # said now, not after the class is graded
        raise UsageError(f"--known {args.known} does not exist; pass a folder or .zip of known solutions")
    with tempfile.TemporaryDirectory(prefix="autograder-export-") as scratch:
        # LMS and Gradescope exports become one submission per student, named after the student.
        inputs, roster = exports.inputs(args.submissions, a, Path(scratch), args.export)
        done = _grade(a, inputs, out, options, args.quiet)
        similar = (_output("similarity", lambda: _similarity(a, out, done.book, inputs, args))
                   if args.similarity or args.known else None)
    everyone, grades = done.everyone, done.grades
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
    paths, missing = similarity.class_paths(out, book.names(), {i.name: i.path for i in inputs})
    try:
        return similarity.run(a, out, paths, Path(args.known) if args.known else None, quiet=args.quiet,
                              missing=similarity.gone(missing, out))
    except similarity.SimilarityError as exc:
        raise UsageError(str(exc)) from None


def cmd_similarity(args) -> int:
    try:
        _, report = similarity.run_on_output(commands.one_assignment(args.assignment), Path(args.out),
                                             [Path(p) for p in args.submissions], Path(args.known) if args.known else None,
                                             args.export)
    except similarity.SimilarityError as exc:
        raise UsageError(str(exc)) from None
    print(f"similarity: {Path(args.out) / similarity.CSV_NAME}" + (f"; class report: {report}" if report else ""))
    return 0


def cmd_merge(args) -> int:
    a = commands.one_assignment(args.assignment)
    folders, out = [Path(f) for f in args.folders], Path(args.out)
    everyone = api.merge(a, folders, out)
    exports.write_gradebooks(out, everyone, exports.read_rosters(folders), a)
    report = len(everyone) > 1 if args.report is None else args.report
    report_path = classreport.write_report(out, everyone, a) if report else None
    print(f"merged {_plural(len(folders), 'folder')}: {_plural(len(everyone), 'student')} in {out / 'grades.csv'}"
          + (f"; class report: {report_path}" if report_path else ""))
    return 0


def cmd_check(args) -> int:
    a = commands.one_assignment(args.assignment)
    if args.watch:
        return check.watch(a, Path(args.submission))
    return check.run_check(a, Path(args.submission))


def cmd_gradescope(args) -> int:
    a = commands.one_assignment(args.assignment)
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
    a = commands.one_assignment(args.assignment)
    return gradescope.run(a, commands.gradescope_root(args))


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
    into.mkdir(parents=True, exist_ok=True)
    examples = build.examples(a)
    picks = [
        (a.reference_module, f"reference{a.reference_module.suffix}"),
        (a.solution_dir / a.notebook, f"reference_notebook{Path(a.notebook).suffix}"),
        (a.template_dir / f"{a.module}.py", "untouched_handout.py"),
        *[(p, p.name) for p in sorted(examples.glob("*.py"))],
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
    for example in sorted(p for p in examples.glob("*") if p.is_dir()):
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
    a = commands.one_assignment(args.assignment)
    out = Path(args.out)
    # The demo grades the bundled examples, not students: it uses a secret but makes none.
    options = api.Options(jobs=args.jobs, make_secret=False)
    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as scratch:
        paths = demo_submissions(a, Path(scratch) / "submissions")
        print(f"Grading {len(paths)} bundled submissions of '{a.name}' with the hidden suite...", flush=True)
        (Path(scratch) / "unpacked").mkdir()
        inputs, _ = exports.inputs([str(p) for p in paths], a, Path(scratch) / "unpacked")
        grades = _grade(a, inputs, out, options, quiet=False).grades
    report_path = classreport.write_report(out, grades, a)
    print()
    print("\n".join(demo_table(grades, shutil.get_terminal_size((120, 24)).columns)))
    print(f"\nIsolation: {grades[0].isolation if grades else '-'}")
    print(f"Gradebook: {out / 'grades.csv'}; class report: {report_path}; feedback for each: {args.out}/<name>/feedback.md")
    return 0


def _service():
    """The service's module: imported only by serve and worker (the [service] extra, which ./kit installs)."""
    try:
        from .integrations import service
    except ImportError as exc:
        raise UsageError(f"the grading service needs the [service] extra ({exc.name} is missing): "
                         "run it through ./kit, or pip install -e '.[service]'") from None
    return service


def cmd_serve(args) -> int:
    if args.lease < 10:
        raise UsageError(f"--lease {args.lease:g}: give 10 seconds or more (workers beat every 5 s)")
    return _service().serve(commands.one_assignment(args.assignment), Path(args.data), Path(args.roster), port=args.port,
                            host=args.host, broker=args.broker, workers=args.workers, db=args.db, base_url=args.base_url,
                            lease=args.lease)


def cmd_worker(args) -> int:
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: give 1 or more")
    _service().run_worker(args.broker, None, args.jobs)
    return 0


def cmd_adjust(args) -> int:
    import getpass

    service = _service().open_service(Path(args.data))
    service.adjust(args.student, args.question, args.points, args.comment, args.by or getpass.getuser())
    print(f"adjusted: {args.student} {args.question} {args.points:+g} ({args.comment})")
    return 0


def cmd_regrade(args) -> int:
    if args.all == bool(args.students):
        raise UsageError("give --all, or the students to grade again (not both)")
    queued = _service().open_service(Path(args.data)).regrade(names=None if args.all else args.students)
    print(f"queued {_plural(queued, 'submission')} to be graded again, behind students' live submissions")
    return 0


def cmd_export(args) -> int:
    service = _service().open_service(Path(args.data))
    if args.format == "canvas":
        text, left_out = service.canvas_csv()
        if left_out:
            print(f"export: {_plural(left_out, 'graded student')} left out: no canvas_id in the roster", file=sys.stderr)
    else:
        text = service.grades_csv()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_submit(args) -> int:
    token = args.token or os.environ.get("AUTOGRADER_TOKEN")
    if not token:
        raise UsageError("give your token: --token TOKEN (the last part of your link), or set AUTOGRADER_TOKEN")
    return submit.submit(Path(args.submission), args.server, token)


COMMANDS = {
    "build": cmd_build,
    "grade": cmd_grade,
    "similarity": cmd_similarity,
    "check": cmd_check,
    "gradescope": cmd_gradescope,
    "gradescope-run": cmd_gradescope_run,
    "merge": cmd_merge,
    "doctor": cmd_doctor,
    "demo": cmd_demo,
    "serve": cmd_serve,
    "worker": cmd_worker,
    "submit": cmd_submit,
    "adjust": cmd_adjust,
    "regrade": cmd_regrade,
    "export": cmd_export,
}


def main(argv: list[str] | None = None) -> int:
    args = commands.parser().parse_args(argv)
    commands.start_early(args)
    return run(args)


def run(args) -> int:
    """The command `args` names (parsed by commands.parser), as an exit code."""
    try:
        return COMMANDS[args.command](args)
    except (UsageError, api.BatchError, assignments.ConfigError) as exc:  # BuildError is a ConfigError
        print(f"error: {inert(exc, one_line=True)}", file=sys.stderr)
        return 2
    except Interrupted as stopped:
        return stopped.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
