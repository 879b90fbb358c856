"""The command line's words: its parser, which assignment a command means, and the early start.

Light on purpose (argparse and the engine's API, no grader): `python -m autograder` parses
its arguments here and starts the sandbox probe of a command that grades before cli.py
imports the integrations and the grader (pytest, NumPy), so the probe's worker comes up
in its own process meanwhile; its first grading then uses it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from . import assignment as assignments
from .engine import api
from .errors import UsageError


def selected(names: list[str]) -> list[assignments.Assignment]:
    if names:
        return [assignments.load(n) for n in names]
    found = assignments.all_assignments()
    if not found:
        raise UsageError(f"no assignments found under {assignments.kit_root() / 'assignments'}")
    return found


def one_assignment(name: str | None) -> assignments.Assignment:
    if name:
        return assignments.load(name)
    found = selected([])
    if len(found) > 1:
        # The one marked `default = true` in its assignment.toml, so commands written for one assignment keep working.
        found = [a for a in found if a.extra["assignment"].get("default") is True] or found
    if len(found) > 1:
        raise UsageError("several assignments exist; say which with --assignment NAME")
    return found[0]


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


_seed.__name__ = "seed (an integer >= 0)"  # what argparse's one-line error calls it


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line naming the problem and where the fix is, exit code 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message}; see `{self.prog} --help`\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="python -m autograder", description="Build, grade and check commands.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="build solutions/ and student_template/ from assignments/")
    p.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    p.add_argument("--check", action="store_true", help="only report whether the built files are stale (exit 1 if so)")

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

    p = sub.add_parser("similarity", help="instructors: compare graded submissions for similarity, to review by hand")
    p.add_argument("out", metavar="OUT", help="the --out folder of an earlier grade")
    p.add_argument("submissions", nargs="*", metavar="SUBMISSION", help="the submissions again (default: where OUT graded them)")
    p.add_argument("--known", metavar="ARCHIVE", help="a folder or .zip of known solutions to compare with")
    p.add_argument("--export", choices=("canvas", "gradescope"), action="append", default=[],
                   help="the SUBMISSIONs hold this LMS's download, as given to grade")
    p.add_argument("--assignment", help="assignment name (default: the only one)")

    p = sub.add_parser("check", help="students: run the public checks through the grader, as it will grade them")
    p.add_argument("submission", metavar="SUBMISSION", help="cnn_layers.py, cnn.ipynb, or a folder holding one")
    p.add_argument("--watch", action="store_true",
                   help="check again each time the file is saved, with a grader kept warm (Ctrl-C to stop)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")

    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip (and try it locally)")
    p.add_argument("--out", default="autograder.zip", help="zip to write (default autograder.zip)")
    p.add_argument("--try", dest="try_submission", metavar="SUBMISSION",
                   help="then run the zip's setup.sh and run_autograder on SUBMISSION in an emulated /autograder "
                        "(a temporary folder) and print what the student would see")
    p.add_argument("--assignment", help="assignment name (default: the only one)")

    p = sub.add_parser("gradescope-run", help="inside Gradescope: grade ROOT/submission into ROOT/results")
    p.add_argument("--root", help="the /autograder folder (default: $AUTOGRADER_GRADESCOPE_ROOT or /autograder)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")

    p = sub.add_parser("merge", help="combine gradebook folders (the shards of `grade --shard K/N`) into one")
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="--out folders of grade runs of the same assignment")
    p.add_argument("--out", required=True, help="folder for the combined gradebook (may be one of FOLDER, or hold earlier grades)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    p.add_argument("--report", action=argparse.BooleanOptionalAction, default=None,
                   help="write OUT/report.html (default: when the gradebook has more than one student)")

    p = sub.add_parser("doctor", help="instructors: say whether a course secret exists (without printing it)")

    p = sub.add_parser("serve", help="instructors: the grading service (students submit, a queue grades, feedback comes back)")
    p.add_argument("--data", required=True, help="folder for the service's state (SQLite), queue and tokens.csv")
    p.add_argument("--roster", required=True, help="CSV with columns student,email: each new student gets a link")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: put a TLS proxy in front)")
    p.add_argument("--base-url", help="the address students use, for their links (default http://HOST:PORT)")
    p.add_argument("--broker", help="redis://HOST:PORT/DB: grade on a Redis queue that `worker` processes serve "
                   "(default: a SQLite queue under --data and the service's own workers)")
    p.add_argument("--workers", type=int, default=1, help="the service's own worker processes, with no --broker (default 1)")
    p.add_argument("--db", help="postgresql+psycopg://USER@HOST/DB: keep the state in PostgreSQL (default: SQLite under --data)")
    p.add_argument("--lease", type=float, default=30.0,
                   help="seconds without a heartbeat after which a grading counts as lost with its worker and is "
                        "queued again (default 30)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")

    p = sub.add_parser("worker", help="instructors: grade from the service's queue, on any machine that reaches the broker")
    p.add_argument("--broker", required=True, help="the service's --broker (redis://HOST:PORT/DB)")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")

    p = sub.add_parser("adjust", help="instructors: add points (or take them) on a question of a student's grade in the service")
    p.add_argument("--data", required=True, help="the service's --data folder")
    p.add_argument("student", help="the student's name in the roster")
    p.add_argument("question", help="the question (its item, as in grades.csv's columns)")
    p.add_argument("points", type=float, help="points to add (negative to take)")
    p.add_argument("--comment", required=True, help="why: the student reads it in their feedback")
    p.add_argument("--by", help="who gives them (default: your user name)")

    p = sub.add_parser("regrade", help="instructors: grade again in the service, behind students' live submissions")
    p.add_argument("--data", required=True, help="the service's --data folder")
    p.add_argument("students", nargs="*", metavar="STUDENT", help="these students' counted submissions")
    p.add_argument("--all", action="store_true", help="every student's counted submission")

    p = sub.add_parser("export", help="instructors: the service's gradebook (with adjustments and late penalties)")
    p.add_argument("--data", required=True, help="the service's --data folder")
    p.add_argument("--format", choices=("csv", "canvas"), default="csv",
                   help="csv: grade's grades.csv columns (default); canvas: Canvas's gradebook import")
    p.add_argument("--out", help="file to write (default: standard output)")

    p = sub.add_parser("submit", help="students: upload to the grading service, wait, and print the feedback")
    p.add_argument("submission", metavar="FILE", help="cnn_layers.py or cnn.ipynb")
    p.add_argument("--server", required=True, help="the service's address, as in your link (https://...)")
    p.add_argument("--token", help="your token: the last part of your link (default: $AUTOGRADER_TOKEN, which "
                   "keeps it out of the process list and your shell's history)")

    p = sub.add_parser("demo", help="grade the bundled examples (reference, untouched handout, typical mistakes)")
    p.add_argument("--out", default="out/demo", help="where to write the results (default out/demo)")
    p.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    p.add_argument("--assignment", help="assignment name (default: the only one)")
    return top


def start_early(args) -> None:
    """Start the sandbox probe for a command that grades in this process, as it will ask for it
    (the same protected folders); for any other command, or arguments it cannot use, nothing."""
    if args.command == "grade" and args.jobs == 1:  # with --jobs N, each pool process probes for itself
        protect = [Path(args.out)]
    elif args.command == "check":
        protect = []
    elif args.command == "gradescope-run":
        protect = [gradescope_root(args) / "results"]
    else:
        return
    try:
        a = one_assignment(args.assignment)
    except Exception:  # noqa: BLE001 - the command itself says what is wrong, in its words
        return
    api.start(a, protect)


def gradescope_root(args) -> Path:
    return Path(args.root or os.environ.get("AUTOGRADER_GRADESCOPE_ROOT", "/autograder"))
