"""Grading a class: 100 mixed submissions with --jobs 1 and with --jobs 2.

The batch (made fresh in a temporary folder, every file under a unique
name, in a fixed shuffled order) mixes, for --count 100:

  48  correct module copies          (solutions/cnn/cnn_layers.py)
  25  correct notebook copies        (solutions/cnn/cnn.ipynb)
  20  bundled wrong examples         (build/examples/cnn/*.py, cycled;
                                      one of them is itself a syntax error)
   6  broken files                   (2 each: a .py with a syntax error, a
                                      .zip that is not a zip, a notebook
                                      with no cells)
   1  a submission that loops forever: the reference with
      `while True: pass` as the first statement of maxpool_forward,
      placed in the middle of the batch (each function that calls it
      times out twice; then the engine stops calling it, so its other
      tests are "not run", costing nothing)

Smaller --count values keep the same proportions, and always one looping
submission and one of each broken kind.

Each job count grades the whole batch once with
`python -m autograder grade FILES... --out OUT --jobs J --quiet` into its own
folder. Reported: wall time, submissions per minute, peak memory of the
grader's whole process tree, CPU time, and what the looping submission cost
(its execution_time from grade.json and how many of its tests timed out).

Peak memory is measured two ways:
  - sampled: every 50 ms the script walks /proc/<pid>/task/*/children from
    the grader down and sums RSS (double-counts pages shared between
    processes, e.g. NumPy's libraries, so an upper bound of real use) and
    PSS (shared pages divided among their users: the best estimate of what
    the tree really takes). A process that lives less than 50 ms can be
    missed.
  - ru_maxrss from wait4() on the grader: the largest single process of the
    tree that was waited for (a lower bound of the tree's peak).

Usage (from the repository root):

    .venv/bin/python bench/batch.py                  # 100 submissions, a few minutes
    .venv/bin/python bench/batch.py --count 12       # smoke run
    .venv/bin/python bench/batch.py --jobs 2         # only one job count

Prints a table and writes bench/results/batch.json (batch_<count>.json for
other counts, so a smoke run never overwrites the full results).
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import argparse  # noqa: E402
import ast  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from benchlib import ROOT, RESULTS_DIR, REFERENCE_MODULE, REFERENCE_NOTEBOOK, fmt, kit_python, machine_info, median  # noqa: E402

from autograder import assignment as assignments  # noqa: E402
from autograder import build  # noqa: E402

EXAMPLES_DIR = build.examples(assignments.load("cnn", ROOT))
LOOP_FUNCTION = "maxpool_forward"


# -- the batch -----------------------------------------------------------
def looping_source() -> str:
    """The reference with `while True: pass` as the first statement of LOOP_FUNCTION."""
    source = REFERENCE_MODULE.read_text()
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == LOOP_FUNCTION)
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(node.body) > 1:
        first = node.body[1]  # after the docstring
    lines = source.splitlines(keepends=True)
    indent = " " * first.col_offset
    lines.insert(first.lineno - 1, f"{indent}while True:\n{indent}    pass\n")
    return "".join(lines)


def plan(count: int) -> list[str]:
    """Kinds of submission, `count` of them, in a fixed shuffled order."""
    examples = sorted(EXAMPLES_DIR.glob("*.py"))
    broken_each = max(1, round(0.02 * count))
    kinds = ["loop"] + ["broken_syntax", "broken_not_a_zip", "broken_empty_notebook"] * broken_each
    kinds += [f"example:{examples[i % len(examples)].name}" for i in range(round(0.20 * count))]
    kinds += ["correct_notebook"] * round(0.25 * count)
    kinds += ["correct_module"] * max(0, count - len(kinds))
    kinds = kinds[:count] if count >= 1 else []
    rest = [k for k in kinds if k != "loop"]
    random.Random(0).shuffle(rest)
    middle = len(rest) // 2
    return rest[:middle] + ["loop"] + rest[middle:] if "loop" in kinds else rest


def make_batch(into: Path, count: int) -> list[dict]:
    into.mkdir(parents=True, exist_ok=True)
    empty_notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    made = []
    for index, kind in enumerate(plan(count)):
        stem = f"s{index:03d}_"
        if kind == "loop":
            path = into / f"{stem}loops_forever.py"
            path.write_text(looping_source())
        elif kind == "broken_syntax":
            path = into / f"{stem}broken_syntax.py"
            path.write_text(REFERENCE_MODULE.read_text().replace("def pad(", "def pad((", 1))
        elif kind == "broken_not_a_zip":
            path = into / f"{stem}broken_not_a_zip.zip"
            path.write_bytes(b"this is not a zip archive\n" * 10)
        elif kind == "broken_empty_notebook":
            path = into / f"{stem}broken_empty_notebook.ipynb"
            path.write_text(json.dumps(empty_notebook))
        elif kind == "correct_notebook":
            path = into / f"{stem}correct_notebook.ipynb"
            shutil.copyfile(REFERENCE_NOTEBOOK, path)
        elif kind == "correct_module":
            path = into / f"{stem}correct_module.py"
            shutil.copyfile(REFERENCE_MODULE, path)
        else:
            example = EXAMPLES_DIR / kind.split(":", 1)[1]
            path = into / f"{stem}example_{example.name}"
            shutil.copyfile(example, path)
        made.append({"kind": kind, "path": path, "name": path.stem})
    return made


# -- measuring the process tree -----------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    found += [int(c) for c in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB, from smaps_rollup (0, 0 if it is gone)."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


class TreeSampler(threading.Thread):
    """Samples the summed RSS and PSS of a process and its descendants every `interval` s."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.stop = threading.Event()
        self.peak_rss_kb = self.peak_pss_kb = self.peak_processes = self.samples = 0

    def run(self):
        while not self.stop.is_set():
            tree, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo += _children(pid)
            rss = pss = 0
            for pid in tree:
                r, p = _memory_kb(pid)
                rss, pss = rss + r, pss + p
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            self.peak_processes = max(self.peak_processes, len(tree))
            self.samples += 1
            self.stop.wait(self.interval)


def grade_batch(batch: list[dict], out: Path, jobs: int) -> dict:
    cmd = [kit_python(), "-I", "-m", "autograder", "grade", *[str(s["path"]) for s in batch],
           "--out", str(out), "--jobs", str(jobs), "--quiet"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=benchlib.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    # Drain the pipes in threads so a chatty grader never blocks; wait4 gives the tree's rusage.
    drained = {}
    readers = [threading.Thread(target=lambda n, s: drained.__setitem__(n, s.read()), args=(n, s), daemon=True)
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.stop.set()
    sampler.join()
    for r in readers:
        r.join()
    if proc.returncode != 0:
        raise RuntimeError(f"grading failed with exit code {proc.returncode}: {drained.get('stderr', b'')[-2000:].decode()}")
    return {
        "jobs": jobs,
        "wall_seconds": wall,
        "submissions_per_minute": len(batch) / wall * 60,
        "peak_tree_rss_mb_sampled": sampler.peak_rss_kb / 1024,
        "peak_tree_pss_mb_sampled": sampler.peak_pss_kb / 1024,
        "peak_processes_sampled": sampler.peak_processes,
        "memory_samples": sampler.samples,
        "max_single_process_rss_mb_wait4": usage.ru_maxrss / 1024,
        "cpu_user_seconds": usage.ru_utime,
        "cpu_system_seconds": usage.ru_stime,
    }


def analyse(batch: list[dict], out: Path, test_seconds: float) -> dict:
    """What the grades say: per kind, and the looping submission's cost."""
    with open(out / "grades.csv", newline="") as f:
        rows = {r["name"]: r for r in csv.DictReader(f)}
    by_kind: dict[str, dict] = {}
    loop = None
    missing = []
    for s in batch:
        kind = "example" if s["kind"].startswith("example:") else s["kind"]
        path = out / s["name"] / "grade.json"
        if not path.is_file() or s["name"] not in rows:
            missing.append(s["name"])
            continue
        grade = json.loads(path.read_text())
        entry = by_kind.setdefault(kind, {"count": 0, "scores": [], "execution_times": [], "statuses": {}})
        entry["count"] += 1
        entry["scores"].append(grade["score"])
        entry["execution_times"].append(grade["execution_time"])
        status = grade["status"] if len(grade["status"]) < 80 else grade["status"][:77] + "..."
        entry["statuses"][status] = entry["statuses"].get(status, 0) + 1
        if kind == "loop":
            # Tests that ran out of time, and those the engine no longer ran because the
            # function had timed out before without ever returning (give_up_after_timeouts).
            timed_out = [t for t in grade["tests"] if t["kind"] == "timeout"]
            given_up = [t for t in grade["tests"] if t["kind"] == "notrun"]
            loop = {
                "name": s["name"],
                "execution_time": grade["execution_time"],
                "tests": len(grade["tests"]),
                "tests_timed_out": len(timed_out),
                "tests_given_up": len(given_up),
                "timed_out_seconds": round(sum(t["duration"] for t in timed_out), 3),
                "score": grade["score"],
                "status": grade["status"],
                "worker_starts": len(grade["timing"].get("worker_start", [])),
            }
    summary = {}
    for kind, entry in by_kind.items():
        summary[kind] = {
            "count": entry["count"],
            "median_score": median(entry["scores"]),
            "min_score": min(entry["scores"]),
            "max_score": max(entry["scores"]),
            "median_execution_time": median(entry["execution_times"]),
            "total_execution_time": round(sum(entry["execution_times"]), 3),
            "statuses": entry["statuses"],
        }
    if loop is not None:
        normal = summary.get("correct_module", {}).get("median_execution_time") or 0.0
        loop["limit_per_test_seconds"] = test_seconds
        loop["expected_if_only_timeouts"] = round(loop["tests_timed_out"] * test_seconds + normal, 3)
        loop["overhead_beyond_timeouts"] = round(loop["execution_time"] - loop["expected_if_only_timeouts"], 3)
        loop["overhead_per_timeout"] = round(loop["overhead_beyond_timeouts"] / max(loop["tests_timed_out"], 1), 3)
        loop["overhead_share_of_timeouts"] = round(
            loop["overhead_beyond_timeouts"] / max(loop["tests_timed_out"] * test_seconds, 1e-9), 4)
    others = [t for k, e in by_kind.items() if k != "loop" for t in e["execution_times"]]
    return {"by_kind": summary, "loop": loop, "missing": missing,
            "others_execution_time_total": round(sum(others), 3)}


def test_seconds_limit() -> float:
    done = subprocess.run(
        [kit_python(), "-c", "from autograder import assignment; print(assignment.load('cnn').limits.test_seconds)"],
        cwd=ROOT, capture_output=True, text=True,
    )
    try:
        return float(done.stdout.strip())
    except ValueError:
        return float("nan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="submissions in the batch (default 100)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="job counts to run (default 1 2)")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="copy the batch and the grades here")
    args = parser.parse_args(argv)
    output = args.output or RESULTS_DIR / ("batch.json" if args.count == 100 else f"batch_{args.count}.json")

    limit = test_seconds_limit()
    report = {"count": args.count, "machine": machine_info(), "test_seconds": limit}
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        scratch = Path(tmp)
        batch = make_batch(scratch / "submissions", args.count)
        composition = {}
        for s in batch:
            kind = "example" if s["kind"].startswith("example:") else s["kind"]
            composition[kind] = composition.get(kind, 0) + 1
        report["composition"] = composition
        report["loop_position"] = next((i for i, s in enumerate(batch) if s["kind"] == "loop"), None)
        print(f"batch of {len(batch)}: {composition}", file=sys.stderr)
        for jobs in args.jobs:
            out = scratch / f"out-jobs{jobs}"
            print(f"grading with --jobs {jobs} ...", file=sys.stderr)
            run = grade_batch(batch, out, jobs)
            run.update(analyse(batch, out, limit))
            runs.append(run)
            print(f"  {run['wall_seconds']:.1f} s", file=sys.stderr)
        if args.keep:
            shutil.copytree(scratch, args.keep, dirs_exist_ok=True)
    report["runs"] = runs
    report["goals"] = {
        f"{args.count} submissions with --jobs 2 under 2 minutes": next(
            (r["wall_seconds"] < 120 for r in runs if r["jobs"] == 2), None),
        # "Only its timeouts": beyond n_timeouts x the limit (and a correct submission's own
        # time), restarts and the rest add less than 5% of the time spent in timeouts.
        "the looping submission costs only its timeouts (overhead < 5% of n_timeouts x limit)": next(
            (r["loop"]["overhead_share_of_timeouts"] < 0.05 for r in runs if r["loop"]), None),
    }

    print(f"\nBatch of {args.count} submissions {composition}")
    header = (f"{'jobs':>4s} {'wall s':>8s} {'subs/min':>9s} {'peak PSS MB':>12s} {'peak RSS MB':>12s} "
              f"{'max proc MB':>12s} {'CPU s':>7s} {'loop s':>7s} {'loop t/o+skip':>14s}")
    print(header)
    print("-" * len(header))
    for r in runs:
        loop = r["loop"] or {}
        print(f"{r['jobs']:4d} {r['wall_seconds']:8.1f} {r['submissions_per_minute']:9.1f} "
              f"{r['peak_tree_pss_mb_sampled']:12.0f} {r['peak_tree_rss_mb_sampled']:12.0f} "
              f"{r['max_single_process_rss_mb_wait4']:12.0f} {r['cpu_user_seconds'] + r['cpu_system_seconds']:7.1f} "
              f"{fmt(loop.get('execution_time')):>7s} {str(loop.get('tests_timed_out', '-')) + '+' + str(loop.get('tests_given_up', '-')) + '/' + str(loop.get('tests', '-')):>14s}")
    for r in runs:
        print(f"\n--jobs {r['jobs']}: per kind (count, median score, median execution_time s, statuses)")
        for kind, k in sorted(r["by_kind"].items()):
            statuses = "; ".join(f"{n}x {s}" for s, n in k["statuses"].items())
            print(f"  {kind:22s} {k['count']:3d} {k['median_score']:6g} {fmt(k['median_execution_time']):>7s}  {statuses[:110]}")
        if r["loop"]:
            lp = r["loop"]
            print(f"  looping submission: {lp['execution_time']:.1f} s, {lp['tests_timed_out']} of {lp['tests']} tests timed out, "
                  f"{lp['tests_given_up']} more not run (their function had never returned) "
                  f"(limit {lp['limit_per_test_seconds']:g} s each, {lp['worker_starts']} worker starts); "
                  f"{lp['overhead_beyond_timeouts']:+.2f} s beyond timeouts + a correct module's time "
                  f"({lp['overhead_per_timeout']:.3f} s per timeout, {lp['overhead_share_of_timeouts'] * 100:.1f}%)")
        print(f"  the other {args.count - 1}: {r['others_execution_time_total']:.1f} s of execution_time in total")
        if r["missing"]:
            print(f"  MISSING grades: {r['missing']}")
    print("\nPeak PSS/RSS: sampled every 50 ms over the grader and all its descendants; "
          "max proc: ru_maxrss of the largest single process (wait4), a lower bound.")
    benchlib.write_json(output, report)


if __name__ == "__main__":
    main()
