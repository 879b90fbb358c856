"""`python -m autograder`: build, grade and check commands.

Every command returns an exit code: 0 for success, 1 when a check it was
asked to make failed, 2 for bad arguments or an unusable assignment (with a
one-line message on stderr saying what to do).
"""

from __future__ import annotations

import argparse
import sys

from . import assignment as assignments
from . import build


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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="build solutions/ and student_template/ from assignments/")
    p.add_argument("assignment", nargs="*", help="assignment names (default: all)")
    p.add_argument("--check", action="store_true", help="only report whether the built files are stale (exit 1 if so)")
    p.set_defaults(run=cmd_build)
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, assignments.ConfigError, build.BuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
