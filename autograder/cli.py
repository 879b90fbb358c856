"""`python -m autograder`: build, grade and check commands.

Every command returns an exit code: 0 for success, 1 when a check it was
asked to make failed, 2 for bad arguments or an unusable assignment (with a
one-line message on stderr saying what to do).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import assignment as assignments


class UsageError(Exception):
    """Bad arguments; the message is shown as one line and the exit code is 2."""


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


def _submission_paths(args_paths: list[str]) -> list[Path]:
    paths = []
    for raw in args_paths:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"{raw} does not exist; pass .py, .ipynb, .zip files or folders")
        paths.append(path)
    return list(dict.fromkeys(paths))


def grade_batch(a, paths: list[Path], out: Path, jobs: int, resume: bool, seed, public_only=False, quiet=False):
    """Grade every path into `out`; returns the grades in the order given."""
    from tqdm import tqdm

    from .engine import grading, report, sandbox
    from .engine.submission import unique_names

    # Names are decided once, here: safe as folder names, collisions resolved (_2, _3).
    name_of = unique_names(paths)
    # Every student's results land here: private from the start (a classmate's worker
    # running as another uid must not read them).
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    _refuse_exposed(a, paths, out)
    book = report.Gradebook(out / "grades.csv", [q.item for q in a.questions])
    try:
        done = book.start(resume)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    grades: dict[str, grading.Grade] = {}
    todo = []
    for path in paths:
        name = name_of[path]
        saved = out / name / "grade.json"
        if resume and name in done and saved.is_file():
            import json

            grades[name] = grading.Grade.from_dict(json.loads(saved.read_text(encoding="utf-8")))
        else:
            todo.append(path)
    bar = tqdm(total=len(todo), unit="submission", disable=quiet or not sys.stderr.isatty(), file=sys.stderr)

    def finish(grade):
        report.write_submission(out, grade, a.title)
        book.add(grade)
        grades[grade.name] = grade
        bar.set_postfix_str(f"{grade.name}: {grade.score:g}", refresh=False)
        bar.update()

    try:
        _grade_all(a, todo, jobs, seed, public_only, finish, protect=[out], name_of=name_of)
    except sandbox.SandboxUnavailable as exc:  # its message says what to do
        raise UsageError(str(exc)) from None
    finally:
        bar.close()
    return [grades[name_of[p]] for p in paths if name_of[p] in grades]


def _refuse_exposed(a, paths: list[Path], out: Path) -> None:
    """Before any student code runs: at the unprivileged-uid level, no submission may be
    readable by others (a worker graded earlier would read a classmate's file)."""
    from .engine import sandbox

    exposed = sandbox.exposed_paths(paths)
    if not exposed:
        return
    setup = sandbox.worker_setup(a.limits, a.banned_imports, a.banned_why, a.sandbox_packages)
    try:
        iso = sandbox.detect_soon(a.private_paths + [out], setup)[0].result()
        sandbox.require_hidden(iso, exposed)
    except sandbox.SandboxUnavailable as exc:
        raise UsageError(str(exc)) from None


def _grade_all(a, todo: list[Path], jobs: int, seed, public_only: bool, finish, protect=(), name_of=None) -> None:
    from .engine import grading, sandbox

    if jobs <= 1 or len(todo) <= 1:
        grader = grading.Grader(a, seed=seed, public_only=public_only, protect=protect)
        try:
            for path in todo:
                try:
                    finish(grader.grade(path, name=name_of[path]))
                except sandbox.SandboxUnavailable:
                    raise
                except Exception as exc:  # noqa: BLE001 - the batch goes on; the reason is kept
                    finish(grading.failed_grade(grader, path, f"grader error: {type(exc).__name__}: {exc}",
                                                name_of[path]))
        finally:
            grader.close()
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=grading._job_init,
            initargs=(a.name, str(a.root), None, seed, public_only, [str(p) for p in protect]),
        ) as pool:
            futures = [pool.submit(grading._job_grade, str(p), name_of[p]) for p in todo]
            for future in as_completed(futures):
                finish(grading.Grade.from_dict(future.result()))


def print_gradebook(grades, a) -> None:
    width = max([len(g.name) for g in grades] + [10])
    print(f"{'submission':<{width}}  {'score':>7}  status")
    for g in grades:
        print(f"{g.name:<{width}}  {g.score:>7g}  {g.status}")


def _probe_sandbox_early(a, protect=()) -> None:
    """Start the sandbox probe now: its worker (~0.2 s to start) comes up in another
    process while this one imports pytest and NumPy, then grades the first submission.
    `protect` must be what the Grader will be given, or the probe is not the one it uses."""
    from .engine import sandbox

    sandbox.detect_soon(a.private_paths + [Path(p) for p in protect],
                        sandbox.worker_setup(a.limits, a.banned_imports, a.banned_why, a.sandbox_packages))


def cmd_grade(args) -> int:
    import tempfile

    a = _one_assignment(args.assignment)
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.jobs == 1:  # with --jobs N, each worker process of the pool probes for itself
        _probe_sandbox_early(a, [Path(args.out)])

    from .integrations import classreport, exports, junit
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="autograder-export-") as scratch:
        # LMS and Gradescope exports become one submission per student, named after the student.
        try:
            expanded, roster = exports.expand([Path(p) for p in args.submissions], a, Path(scratch))
        except exports.ExportError as exc:
            raise UsageError(str(exc)) from None
        paths = _submission_paths([str(p) for p in expanded])
        grades = grade_batch(a, paths, out, args.jobs, args.resume, args.seed, quiet=args.quiet)
        similar = _similarity(a, out, paths, args) if args.similarity or args.known else None
    if roster:
        exports.write_gradebooks(out, grades, roster, a)
    if args.junit:
        junit.write_junit(grades, Path(args.junit), a)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        junit.write_step_summary(grades, Path(os.environ["GITHUB_STEP_SUMMARY"]), a)
    # A class report of one student says nothing its feedback does not, and
    # drawing its figures costs more than grading: by default only for batches.
    report = len(grades) > 1 if args.report is None else args.report
    report_path = classreport.write_report(out, grades, a, similarity=similar) if report else None
    if not args.quiet:
        print_gradebook(grades, a)
        print(f"grades: {out / 'grades.csv'};" + (f" class report: {report_path};" if report_path else "")
              + f" per submission: results.json and feedback.md in {out}/<name>/")
    return 0


def _similarity(a, out: Path, paths: list[Path], args):
    from .integrations import similarity

    try:
        return similarity.run(a, out, paths, Path(args.known) if args.known else None, quiet=args.quiet)
    except similarity.SimilarityError as exc:
        raise UsageError(str(exc)) from None


def cmd_similarity(args) -> int:
    from .integrations import similarity

    try:
        _, report = similarity.run_on_output(_one_assignment(args.assignment), Path(args.out),
                                             [Path(p) for p in args.submissions], Path(args.known) if args.known else None)
    except similarity.SimilarityError as exc:
        raise UsageError(str(exc)) from None
    print(f"similarity: {Path(args.out) / similarity.CSV_NAME}" + (f"; class report: {report}" if report else ""))
    return 0


def cmd_check(args) -> int:
    a = _one_assignment(args.assignment)
    _probe_sandbox_early(a)
    from .integrations import check

    return check.run_check(a, Path(args.submission))


def cmd_gradescope(args) -> int:
    from .integrations import gradescope

    path = gradescope.build_zip(_one_assignment(args.assignment), Path(args.out))
    print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    return 0


def cmd_gradescope_run(args) -> int:
    from .integrations import gradescope

    root = Path(args.root or os.environ.get("AUTOGRADER_GRADESCOPE_ROOT", "/autograder"))
    a = _one_assignment(args.assignment)
    _probe_sandbox_early(a, [root / "results"])  # as gradescope.run's Grader protects it
    return gradescope.run(a, root)


def demo_submissions(a, into: Path) -> list[Path]:
    """Copies of the bundled submissions under names that say what they are."""
    import shutil

    into.mkdir(parents=True, exist_ok=True)
    picks = [
        (a.reference_module, f"reference{a.reference_module.suffix}"),
        (a.solution_dir / a.notebook, f"reference_notebook{Path(a.notebook).suffix}"),
        (a.template_dir / f"{a.module}.py", "untouched_handout.py"),
        *[(p, p.name) for p in sorted((a.solution_dir / "examples").glob("*.py"))],
    ]
    paths = []
    for source, name in picks:
        if source.is_file():
            shutil.copyfile(source, into / name)
            paths.append(into / name)
    if not paths:
        raise UsageError(f"nothing to grade: run `python -m autograder build` first to make solutions/{a.name}")
    return paths


def _named_mistake(grade) -> str:
    for t in grade.tests:
        if "It matches what you get if you" in t.output:
            return "you " + t.output.split("It matches what you get if you", 1)[1].strip().rstrip(".")
    failed = [t for t in grade.tests if t.status != "passed"]
    return f"{failed[0].name}: {failed[0].output}" if failed else ""


def cmd_demo(args) -> int:
    import tempfile

    a = _one_assignment(args.assignment)
    with tempfile.TemporaryDirectory(prefix="autograder-demo-") as scratch:
        paths = demo_submissions(a, Path(scratch))
        print(f"Grading {len(paths)} bundled submissions of '{a.name}' with the hidden suite...", flush=True)
        grades = grade_batch(a, paths, Path(args.out), args.jobs, False, None, quiet=False)
    from .integrations import classreport

    report_path = classreport.write_report(Path(args.out), grades, a)
    width = max(len(g.name) for g in grades)
    print(f"\n{'submission':<{width}}  {'score':>6}  what the feedback names")
    for g in grades:
        said = g.status if not g.status.startswith("graded") else _named_mistake(g)
        print(f"{g.name:<{width}}  {g.score:>6g}  {said[:90]}")
    print(f"\nIsolation: {grades[0].isolation if grades else '-'}")
    print(f"Gradebook: {Path(args.out) / 'grades.csv'}; class report: {report_path}; feedback for each: {args.out}/<name>/feedback.md")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="build solutions/ and student_template/ from assignments/")
    p.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    p.add_argument("--check", action="store_true", help="only report whether the built files are stale (exit 1 if so)")
    p.set_defaults(run=cmd_build)

    p = sub.add_parser("grade", help="grade submissions with the hidden suite")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION", help=".py, .ipynb, folder or .zip")
    p.add_argument("--out", required=True, help="folder for grades.csv and one folder of results per submission")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    p.add_argument("--resume", action="store_true", help="skip submissions already in OUT/grades.csv")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.add_argument("--seed", type=int, help="use this seed for every submission's inputs (to reproduce a run)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or gradebook on the terminal")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML (one testcase per test)")
    p.add_argument("--report", action=argparse.BooleanOptionalAction, default=None,
                   help="write OUT/report.html, the class report (default: when more than one submission is graded)")
    p.add_argument("--similarity", action="store_true", help="also compare submissions for similarity (OUT/similarity.csv)")
    p.add_argument("--known", metavar="ARCHIVE", help="a folder or .zip of known solutions to compare with (implies --similarity)")
    p.set_defaults(run=cmd_grade)

    p = sub.add_parser("similarity", help="instructors: compare graded submissions for similarity, to review by hand")
    p.add_argument("out", metavar="OUT", help="the --out folder of an earlier grade")
    p.add_argument("submissions", nargs="*", metavar="SUBMISSION", help="the submissions again (default: where OUT graded them)")
    p.add_argument("--known", metavar="ARCHIVE", help="a folder or .zip of known solutions to compare with")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.set_defaults(run=cmd_similarity)

    p = sub.add_parser("check", help="students: run the public checks through the grader, as it will grade them")
    p.add_argument("submission", metavar="SUBMISSION", help="cnn_layers.py, cnn.ipynb, or a folder holding one")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip")
    p.add_argument("--out", default="autograder.zip", help="zip to write (default autograder.zip)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.set_defaults(run=cmd_gradescope)

    p = sub.add_parser("gradescope-run", help="inside Gradescope: grade ROOT/submission into ROOT/results")
    p.add_argument("--root", help="the /autograder folder (default: $AUTOGRADER_GRADESCOPE_ROOT or /autograder)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.set_defaults(run=cmd_gradescope_run)

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
    except (UsageError, assignments.ConfigError) as exc:  # BuildError is a ConfigError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
