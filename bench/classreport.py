"""What the class report costs, against grading one notebook, side by side.

Grades a small class with the CLI once (the reference notebook, two broken examples), then
builds classes of 4 and 400 from its grade.json files (each a copy of one of them, renamed)
and, interleaved, N times each:

  grade    `python -m autograder grade cnn.ipynb` on the reference notebook (wall seconds)
  report4  classreport.write_report for 4 grades, in a fresh interpreter (CPU seconds)
  report400  the same for 400 grades

A report runs in a fresh interpreter because its imports (the engine, Jinja2 and its
templates) are part of what an instructor waits for. Goals: the report of a 400-student class
costs less than grading two notebooks (report400/grade < 2), and it grows slowly with the class
(report400/report4 < 3: most of its cost is the fixed part, the imports).

Usage (from the repository root):

    .venv/bin/python bench/classreport.py              # N=5
    .venv/bin/python bench/classreport.py --repeats 9

Prints a table and writes bench/results/classreport.json.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from benchlib import ROOT, RESULTS_DIR, REFERENCE_NOTEBOOK, fmt, kit_python, machine_info, median, timed_run, write_json  # noqa: E402

from autograder import assignment as assignments  # noqa: E402
from autograder import build  # noqa: E402

EXAMPLES = build.examples(assignments.load("cnn", ROOT))

REPORT_SCRIPT = """
import json, sys, time
from pathlib import Path
from autograder import assignment as assignments
from autograder.engine.grading import Grade
from autograder.integrations import classreport
graded, size, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
start = time.process_time()
a = assignments.load("cnn", Path.cwd())
base = [json.loads(p.read_text()) for p in sorted(graded.glob("*/grade.json"))]
grades = [Grade.from_dict({**base[i % len(base)], "name": f"student{i:03d}"}) for i in range(size)]
classreport.write_report(out, grades, a)
print(json.dumps({"cpu": time.process_time() - start, "bytes": (out / "report.html").stat().st_size}))
"""


def report(graded: Path, size: int, out: Path) -> tuple[float, int]:
    """(CPU seconds, report.html bytes) of one class report of `size` grades, in a fresh interpreter."""
    _, done = timed_run([kit_python(), "-c", REPORT_SCRIPT, str(graded), str(size), str(out)], cwd=ROOT)
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return measured["cpu"], measured["bytes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-classreport-") as scratch:
        scratch = Path(scratch)
        subs = scratch / "subs"
        subs.mkdir()
        shutil.copyfile(REFERENCE_NOTEBOOK, subs / "reference.ipynb")
        for name in ("flipped_kernel.py", "syntax_error.py"):
            shutil.copyfile(EXAMPLES / name, subs / name)
        graded = scratch / "graded"
        timed_run([kit_python(), "-I", "-m", "autograder", "grade", *sorted(map(str, subs.iterdir())), "--out", str(graded),
                   "--quiet", "--no-report"], cwd=ROOT)

        times = {"grade": [], "report4": [], "report400": []}
        sizes = {}
        for round_ in range(args.repeats):
            order = list(times) if round_ % 2 == 0 else list(reversed(times))
            for what in order:
                out = scratch / f"{what}-{round_}"
                if what == "grade":
                    seconds, _ = timed_run([kit_python(), "-I", "-m", "autograder", "grade", str(REFERENCE_NOTEBOOK),
                                            "--out", str(out), "--quiet", "--no-report"], cwd=ROOT)
                else:
                    out.mkdir()
                    seconds, sizes[what] = report(graded, int(what.removeprefix("report")), out)
                times[what].append(seconds)

    grade, small, large = (median(times[k]) for k in ("grade", "report4", "report400"))
    rows = {
        "report400_over_grade": large / grade,
        "report400_over_report4": large / small,
    }
    print(f"{'measured':<32} {'median s':>9}")
    print(f"{'grade one notebook (wall)':<32} {fmt(grade):>9}")
    print(f"{'class report, 4 grades (CPU)':<32} {fmt(small):>9}")
    print(f"{'class report, 400 grades (CPU)':<32} {fmt(large):>9}")
    print(f"\nreport400 / grade   = {rows['report400_over_grade']:.2f}x  (goal < 2)")
    print(f"report400 / report4 = {rows['report400_over_report4']:.2f}x  (goal < 3)")
    print(f"report.html for 400: {sizes['report400'] / 1e6:.2f} MB")
    write_json(RESULTS_DIR / "classreport.json", {
        "machine": machine_info(), "repeats": args.repeats, "medians_s": {"grade": grade, "report4": small, "report400": large},
        "ratios": rows, "report_bytes": sizes, "times": times,
    })


if __name__ == "__main__":
    main()
