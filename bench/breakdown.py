"""Where the time goes when the kit grades one submission (the reference module).

Runs a driver in a fresh kit interpreter that does what
`python -m autograder grade solutions/cnn/cnn_layers.py --out TMP` does,
step by step, timing each step (the engine is not modified: a few of its
functions are wrapped with timers inside the driver):

  interpreter start   from the parent's spawn to the driver's first line
  assignment + probe  reading assignment.toml, then starting the sandbox probe
                      in a thread, as the CLI does before its heavy imports
  imports             engine.grading (pytest, NumPy), engine.report,
                      integrations (export, junit, class report), tqdm
  reference           importing the reference module
  Grader()            loading the hidden suite's list; it joins the sandbox probe
                      started earlier (whose worker then serves this submission)
  grade()             Grader.grade(), whose wall time is grade.json's
                      execution_time, split into:
      resolve + scan        reading the submission, the static look at its source
      worker spawn          starting the sandboxed worker (prestart)
      worker start          timing.worker_start: spawn until the worker's
                            handshake (Python + NumPy in the sandbox); it runs
                            while pytest starts and collects, so it overlaps
      submission load       timing.load: the worker importing the submission
      pytest start+collect  pytest.main until the first test runs
      wait for worker       the first test waiting for handshake + load
      test bodies           sum of per-test durations minus that wait
      pytest per-test       the rest of pytest.main: setup/teardown, hooks, reports
      close + score         stopping the workers, sharing the points
  write results       results.json, feedback.md, grade.json, grades.csv
  interpreter exit    from the driver's last line until the parent sees it exit

It also reports the brief's coarse split, "pytest overhead" = execution_time
- worker_start - load - sum(test durations) (note the first test's duration
already contains the wait for the worker, so that figure is approximate),
the end-to-end wall time of the real CLI command and of `python -c "import
numpy"` measured interleaved with the driver, the packages whose imports cost
most (python -X importtime, self time summed per top-level package), the 10
slowest tests, and the wall time of importing matplotlib (what the class
report needs), to split the class report's time into import and drawing.

Usage (from the repository root):

    .venv/bin/python bench/breakdown.py              # median of 7
    .venv/bin/python bench/breakdown.py --repeats 3

Prints a table and writes bench/results/breakdown.json.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from benchlib import ROOT, RESULTS_DIR, REFERENCE_MODULE, fmt, kit_python, machine_info, median, timed_run  # noqa: E402

# The driver: run with `python -c DRIVER SUBMISSION OUT`; prints one JSON line.
DRIVER = r"""
import time
t = {"first_line": time.monotonic()}
import json, os, sys
from pathlib import Path
import autograder.cli
from autograder import assignment
from autograder.engine import detection, sandbox
spans = {}
def timed(owner, name, key):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        started = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            spans.setdefault(key, []).append((started, time.monotonic()))
    setattr(owner, name, wrapper)
a = assignment.load("cnn")
t["assignment"] = time.monotonic()
# As the CLI does: the sandbox probe starts before the heavy imports, in a thread.
timed(detection, "detect", "detect")
detection.detect_soon(a.private_paths, sandbox.worker_setup(a.limits, a.banned_imports, a.banned_why, a.sandbox_packages))
t["probe_started"] = time.monotonic()
from autograder.engine import grading, plugin, report, session, static, submission
from autograder.integrations import classreport, exports, junit
import tqdm
t["imported"] = time.monotonic()
reference = grading.load_reference(a)
t["reference"] = time.monotonic()
t["detect"] = time.monotonic()
grader = grading.Grader(a)
t["grader"] = time.monotonic()
timed(submission, "resolve", "resolve")
timed(static, "scan", "scan")
timed(session.StudentSession, "prestart", "prestart")
timed(session.StudentSession, "ensure_worker", "ensure_worker")
timed(session.StudentSession, "close", "close")
timed(plugin, "run_suite", "run_suite")

path, out = Path(sys.argv[1]), Path(sys.argv[2])
t["grade_start"] = time.monotonic()
grade = grader.grade(path)
t["graded"] = time.monotonic()
out.mkdir(parents=True, exist_ok=True)
book = report.Gradebook(out / "grades.csv", [q.item for q in a.questions])
book.start(False)
report.write_submission(out, grade, a.title)
book.add(grade)
t["written"] = time.monotonic()
# Like the CLI, no class report for a single submission (a batch draws one at its end).
print(json.dumps({"t": t, "spans": spans, "grade": grade.to_dict()}))
sys.stdout.flush()
t_last = time.monotonic()
print(json.dumps({"last_line": t_last}))
sys.stdout.flush()
os._exit(0)  # as python -m autograder does
"""

IMPORTS = ("import autograder.cli; from autograder.engine import grading, report; "
           "from autograder.integrations import classreport, exports, junit; import tqdm")


# What the class report imports to draw its figures.
MATPLOTLIB_IMPORT = "import matplotlib.figure, matplotlib.backends.backend_agg"


def run_driver(scratch: Path, index: int) -> dict:
    out = scratch / f"driver-{index}"
    started = time.monotonic()
    done = subprocess.run([kit_python(), "-c", DRIVER, str(REFERENCE_MODULE), str(out)], cwd=ROOT,
                          env=benchlib.env(), capture_output=True, text=True)
    ended = time.monotonic()
    if done.returncode != 0:
        raise RuntimeError(f"driver failed: {done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    data, last = json.loads(lines[-2]), json.loads(lines[-1])["last_line"]
    t, spans, grade = data["t"], data["spans"], data["grade"]

    def total(key):
        return sum(b - a for a, b in spans.get(key, []))

    first_wait = (spans["ensure_worker"][0][1] - spans["ensure_worker"][0][0]) if spans.get("ensure_worker") else 0.0
    run_suite = total("run_suite")
    suite_start = spans["run_suite"][0][0]
    first_test = spans["ensure_worker"][0][0] if spans.get("ensure_worker") else suite_start
    durations = [x["duration"] for x in grade["tests"]]
    later_waits = total("ensure_worker") - first_wait
    test_bodies = sum(durations) - first_wait - later_waits
    execution = grade["execution_time"]
    grade_wall = t["graded"] - t["grade_start"]
    phases = {
        "interpreter start": t["first_line"] - started,
        "assignment + probe started": t["probe_started"] - t["first_line"],
        "imports": t["imported"] - t["probe_started"],
        "reference": t["reference"] - t["imported"],
        "Grader()": t["grader"] - t["detect"],
        "grade(): resolve + scan": total("resolve") + total("scan"),
        "grade(): worker spawn": total("prestart"),
        "grade(): pytest start+collect": first_test - suite_start,
        "grade(): wait for worker (1st test)": first_wait,
        "grade(): test bodies": test_bodies,
        "grade(): pytest per-test": run_suite - (first_test - suite_start) - sum(durations),
        "grade(): close + score": grade_wall - total("resolve") - total("scan") - total("prestart") - run_suite,
        "write results": t["written"] - t["graded"],
        "interpreter exit": ended - last,
    }
    timing = grade["timing"]
    detect = spans.get("detect", [(0.0, 0.0)])[0]
    return {
        "wall": ended - started,
        "phases": phases,
        # In a thread from before the imports on: how long it took, and how much of it
        # the first test still had to wait for (the rest hid behind the imports and pytest).
        "sandbox_detection_background": detect[1] - detect[0],
        "sandbox_detection_not_hidden": max(0.0, detect[1] - first_test) if spans.get("ensure_worker") else None,
        "execution_time": execution,
        "worker_start": sum(timing.get("worker_start", [])),
        "load": sum(timing.get("load", [])),
        "test_durations": sum(durations),
        "pytest_overhead_coarse": execution - sum(timing.get("worker_start", [])) - sum(timing.get("load", [])) - sum(durations),
        "tests": {x["name"]: x["duration"] for x in grade["tests"]},
        "n_tests": len(grade["tests"]),
        "score": grade["score"],
        "isolation": grade["isolation"],
    }


def run_cli(scratch: Path, index: int) -> dict:
    wall, _ = timed_run([kit_python(), "-I", "-m", "autograder", "grade", str(REFERENCE_MODULE), "--out",
                         str(scratch / f"cli-{index}"), "--quiet"], cwd=ROOT)
    return {"wall": wall}


def run_floor(_scratch: Path, _index: int) -> dict:
    wall, _ = timed_run([kit_python(), "-c", "import numpy"])
    return {"wall": wall}


def run_matplotlib(_scratch: Path, _index: int) -> dict:
    wall, _ = timed_run([kit_python(), "-c", MATPLOTLIB_IMPORT])
    return {"wall": wall}


def run_empty(_scratch: Path, _index: int) -> dict:
    wall, _ = timed_run([kit_python(), "-c", "pass"])
    return {"wall": wall}


def import_costs(top: int = 10) -> list[dict]:
    """Self import time summed per top-level package for the CLI's imports (python -X importtime)."""
    done = subprocess.run([kit_python(), "-X", "importtime", "-c", IMPORTS], cwd=ROOT, env=benchlib.env(),
                          capture_output=True, text=True)
    per_package: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line[len("import time:"):].split("|")
        try:
            self_us, name = int(parts[0]), parts[2].strip()
        except (ValueError, IndexError):
            continue
        package = name.split(".")[0]
        per_package[package] = per_package.get(package, 0) + self_us
    ranked = sorted(per_package.items(), key=lambda kv: -kv[1])[:top]
    return [{"package": p, "self_seconds": us / 1e6} for p, us in ranked]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs of each (median taken; default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each first (default 1)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "breakdown.json")
    args = parser.parse_args(argv)

    contenders = {"driver": run_driver, "cli": run_cli, "floor": run_floor, "empty": run_empty,
                   "matplotlib": run_matplotlib}
    names = list(contenders)
    runs = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="bench-breakdown-") as tmp:
        scratch = Path(tmp)
        for attempt in range(args.warmup + args.repeats):
            shift = attempt % len(names)
            for name in names[shift:] + names[:shift]:
                result = contenders[name](scratch, attempt)
                if attempt >= args.warmup:
                    runs[name].append(result)
            print(f"  run {attempt + 1}/{args.warmup + args.repeats}", file=sys.stderr)
    imports = import_costs()

    drivers = runs["driver"]
    phases = {k: median([d["phases"][k] for d in drivers]) for k in drivers[0]["phases"]}
    coarse = {k: median([d[k] for d in drivers]) for k in
              ("execution_time", "worker_start", "load", "test_durations", "pytest_overhead_coarse", "wall")}
    test_names = list(drivers[0]["tests"])
    per_test = {n: median([d["tests"].get(n, 0.0) for d in drivers]) for n in test_names}
    slowest = sorted(per_test.items(), key=lambda kv: -kv[1])[:10]
    walls = {n: median([r["wall"] for r in runs[n]]) for n in names}

    report = {
        "submission": str(REFERENCE_MODULE.relative_to(ROOT)),
        "machine": machine_info(),
        "repeats": args.repeats,
        "isolation": drivers[-1]["isolation"],
        "tests": drivers[-1]["n_tests"],
        "scores": sorted({d["score"] for d in drivers}),
        "median_phases_seconds": phases,
        "sum_of_phases": sum(phases.values()),
        "coarse_median_seconds": coarse,
        "end_to_end_median_seconds": {
            "driver (same steps as the CLI)": walls["driver"],
            "python -m autograder grade cnn_layers.py --quiet": walls["cli"],
            'python -c "import numpy"': walls["floor"],
            'python -c "pass"': walls["empty"],
            f'python -c "{MATPLOTLIB_IMPORT}"': walls["matplotlib"],
        },
        "class_report_matplotlib_import_estimate": walls["matplotlib"] - walls["floor"],
        "sandbox_detection_background": median([d["sandbox_detection_background"] for d in drivers]),
        "sandbox_detection_not_hidden": median([d["sandbox_detection_not_hidden"] or 0.0 for d in drivers]),
        "import_self_seconds_by_package": imports,
        "slowest_tests": [{"name": n, "median_seconds": s} for n, s in slowest],
        "notes": "phases are medians of each phase separately, so they need not add up exactly to the median wall; "
                 "worker start overlaps pytest start+collect",
    }

    print(f"\nOne grading of {report['submission']} ({report['tests']} tests, score {report['scores']}), "
          f"median of {args.repeats}")
    print(f"isolation: {report['isolation']}")
    header = f"{'phase':38s} {'median s':>9s} {'share':>6s}"
    print(header)
    print("-" * len(header))
    whole = walls["driver"]
    for name, seconds in phases.items():
        print(f"{name:38s} {seconds:9.3f} {seconds / whole * 100:5.1f}%")
    print(f"{'sum of phases':38s} {sum(phases.values()):9.3f}")
    print(f"{'driver wall (end to end)':38s} {whole:9.3f}")
    print()
    print("grade.json's view (medians): "
          f"execution_time {fmt(coarse['execution_time'])}, worker_start {fmt(coarse['worker_start'])} (overlaps), "
          f"load {fmt(coarse['load'])}, sum of test durations {fmt(coarse['test_durations'])}, "
          f"pytest overhead (execution - worker_start - load - tests) {fmt(coarse['pytest_overhead_coarse'])}")
    print("end to end (interleaved medians): " + ", ".join(f"{k}: {v:.3f} s" for k, v in report["end_to_end_median_seconds"].items()))
    print(f"sandbox probe, in a thread from before the imports on: {fmt(report['sandbox_detection_background'])} s, "
          f"of which the first test still waited {fmt(report['sandbox_detection_not_hidden'])} s")
    print(f"not paid here: a batch's class report, whose matplotlib import alone is about "
          f"{report['class_report_matplotlib_import_estimate']:.3f} s (that import's wall minus import numpy's)")
    print("\nimports, self time by top-level package (one run of -X importtime):")
    for row in imports:
        print(f"  {row['package']:24s} {row['self_seconds']:.3f} s")
    print("\n10 slowest tests (median s):")
    for name, seconds in slowest:
        print(f"  {seconds:7.4f}  {name}")
    benchlib.write_json(args.output, report)


if __name__ == "__main__":
    main()
