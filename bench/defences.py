"""What the grade-integrity defences cost: this engine against an earlier one, side by side.

Grades the reference notebook and the reference module with the kit as it
is and with the kit at an earlier commit (default: the last commit before
the allow-list sandbox, per-submission cgroups, stopping the worker between
calls and killing what it left running), interleaved, median of N wall
times each. The earlier kit is checked out with `git worktree` into a
temporary folder and run by the same interpreter.

Usage (from the repository root):

    .venv/bin/python bench/defences.py                 # N=7, against d8d52c4
    .venv/bin/python bench/defences.py --base REV --repeats 11

Prints the table and writes bench/results/defences.json.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from benchlib import ROOT, RESULTS_DIR, REFERENCE_MODULE, REFERENCE_NOTEBOOK, fmt, kit_python, machine_info, median, timed_run  # noqa: E402

BASE = "d8d52c4"


def grade_command(kit: Path, submission: Path, out: Path) -> list[str]:
    # Not isolated (-I), unlike every other entry point: this bench imports each kit from the
    # folder it runs in (PYTHONPATH and cwd are the kit's own checkout), to time two versions.
    return [kit_python(), "-m", "autograder", "grade", str(submission), "--out", str(out), "--quiet", "--no-report"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BASE, help=f"the earlier commit (default {BASE})")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-defences-") as scratch:
        scratch = Path(scratch)
        base = scratch / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base],
                       check=True, capture_output=True)
        # Bytecode for both, as ./kit writes it: otherwise, under PYTHONDONTWRITEBYTECODE,
        # the earlier kit would compile its engine and suites on every run.
        for kit in (ROOT, base):
            subprocess.run([kit_python(), "-m", "compileall", "-q", "-x", "/examples/", "autograder", "assignments",
                            "solutions"], cwd=kit, capture_output=True)
        try:
            kits = {"now": ROOT, "before": base}
            subs = {"notebook": REFERENCE_NOTEBOOK, "module": REFERENCE_MODULE}
            times = {(k, s): [] for k in kits for s in subs}
            for round_ in range(args.repeats):
                order = list(kits) if round_ % 2 == 0 else list(reversed(kits))
                for sub_name, sub in subs.items():
                    for kit_name in order:
                        kit = kits[kit_name]
                        out = scratch / f"out-{kit_name}-{sub_name}-{round_}"
                        cwd = kit
                        os.environ["PYTHONPATH"] = str(kit)
                        os.environ["AUTOGRADER_ROOT"] = str(kit)
                        seconds, _ = timed_run(grade_command(kit, sub, out), cwd=cwd)
                        data = json.loads(next(out.glob("*/results.json")).read_text())
                        assert data["score"] == 100, (kit_name, sub_name, data["score"])
                        times[(kit_name, sub_name)].append(seconds)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], capture_output=True)

    rows = []
    print(f"{'submission':<10} {'before s':>9} {'now s':>8} {'now/before':>11}")
    for sub_name in subs:
        before, now = median(times[("before", sub_name)]), median(times[("now", sub_name)])
        rows.append({"submission": sub_name, "before_s": before, "now_s": now, "ratio": now / before})
        print(f"{sub_name:<10} {fmt(before):>9} {fmt(now):>8} {now / before:>10.2f}x")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "defences.json").write_text(json.dumps({
        "machine": machine_info(), "base": args.base, "repeats": args.repeats, "rows": rows,
        "times": {f"{k}/{s}": v for (k, s), v in times.items()},
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
