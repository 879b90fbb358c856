"""A warm re-grade (api.Warm, what `check --watch` and a service's worker use) beside the floor.

One process keeps a grader of the assignment; after one untimed grading, each round times a
re-grade of the reference module with the whole hidden suite (a fresh sandboxed worker each time,
started ahead by the previous grading) and, side by side, the floor: `python -c "import numpy"`
in a new process. Rounds alternate which goes first. The last line ends in `ratio R`: the median
warm re-grade over the median floor.

    .venv/bin/python bench/warm.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import sys
import time

import benchlib  # noqa: F401  (pins BLAS to one thread, first)
from benchlib import REFERENCE_MODULE, ROOT, kit_python, machine_info, median, timed_run, write_json, RESULTS_DIR

sys.path.insert(0, str(ROOT))
from autograder import assignment as assignments  # noqa: E402
from autograder.engine import api  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--assignment", default="cnn", help="cnn (the part-1 reference module) or cnn_capstone")
    args = parser.parse_args()
    a = assignments.load(args.assignment, ROOT)
    reference = REFERENCE_MODULE if a.name == "cnn" else ROOT / "solutions" / a.name  # the capstone: a folder
    floor_cmd = [kit_python(), "-c", "import numpy"]
    warm, floor = [], []
    with api.Warm(a) as grader:
        first = grader.grade(reference)  # untimed: imports, the reference, the sandbox level
        if first.score != first.max_score:
            raise SystemExit(f"the reference scored {first.score} of {first.max_score}: not a fair re-grade")
        for round_ in range(args.rounds):
            for which in (("warm", "floor") if round_ % 2 == 0 else ("floor", "warm")):
                if which == "floor":
                    floor.append(timed_run(floor_cmd)[0])
                else:
                    time.sleep(0.3)  # as between two saves: the next worker has had time to start
                    started = time.perf_counter()
                    grade = grader.grade(reference)
                    warm.append(time.perf_counter() - started)
                    assert grade.score == grade.max_score, grade.status
    ratio = median(warm) / median(floor)
    trips = grade.timing.get("round_trips", 0)  # requests to the worker in one grading (a chain is one)
    report = {"machine": machine_info(), "assignment": a.name, "rounds": args.rounds, "warm_s": warm, "floor_s": floor,
              "checks": len(first.tests), "round_trips": trips, "round_trips_per_check": trips / len(first.tests), "median_warm_s": median(warm), "median_floor_s": median(floor), "ratio": ratio}
    write_json(RESULTS_DIR / "warm.json", report)
    print(f"round trips to the worker: {trips} for {len(first.tests)} checks, {trips / len(first.tests):.2f} per check")
    print(f"warm re-grade of the reference ({len(first.tests)} checks): median {median(warm):.3f} s; "
          f"floor (python -c 'import numpy'): median {median(floor):.3f} s; ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
