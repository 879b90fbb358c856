"""The grader's peak memory on the largest inputs its caps allow (issue 25: under 500 MB).

Grades, one command each, an honest classmate (the reference) beside:
  notebook   a 20 MB notebook (the cap) of ~990,000 JSON values (just under the value budget)
  zip        a zip of 2,000 entries (the cap) whose files unpack to ~100 MB (the cap)
  source     a 512 KB module (the cap) of one long expression chain per line
and reports the peak resident memory of the grading command and everything it waited for
(getrusage RUSAGE_CHILDREN, so the grader and its workers; the workers hold NumPy and are
capped on their own), against the honest classmate graded alone.

Usage: .venv/bin/python bench/readers.py   (~2 min). Writes bench/results/readers.json.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

from benchlib import REFERENCE_MODULE, RESULTS_DIR, kit_python, machine_info  # noqa: E402

GOAL_MB = 500
WRAPPER = ("import resource, subprocess, sys\n"
           "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)\n")


def notebook(path: Path) -> None:
    code = REFERENCE_MODULE.read_text(encoding="utf-8")
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": code}
    filler = ["x"] * 330_000  # three values a string with its comma: ~990,000 in all
    text = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {"filler": filler}, "cells": [cell]})
    pad = 20 * 1024 * 1024 - len(text) - 64
    text = text[:-1] + ', "pad": "' + "p" * max(pad, 0) + '"}'
    path.write_text(text, encoding="utf-8")


def big_zip(path: Path) -> None:
    chunk = b"# " + b"z" * (50_000 - 3) + b"\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("cnn_layers.py", REFERENCE_MODULE.read_bytes())
        for i in range(1_999):
            zf.writestr(f"data/f{i}.txt", chunk)


def source(path: Path) -> None:
    code = REFERENCE_MODULE.read_text(encoding="utf-8")
    line = "_pad = " + " + ".join(["1"] * 200) + "\n"
    path.write_text(code + line * ((512 * 1024 - len(code)) // len(line)), encoding="utf-8")


def peak_mb(paths, out: Path) -> tuple[float, int]:
    cmd = [kit_python(), "-c", WRAPPER, kit_python(), "-I", "-m", "autograder", "grade", *map(str, paths),
           "--out", str(out), "--quiet", "--no-report", "--jobs", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    kb, code = done.stdout.split()
    return int(kb) / 1024, int(code)


def main() -> None:
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as scratch:
        scratch = Path(scratch)
        honest = scratch / "honest.py"
        honest.write_bytes(REFERENCE_MODULE.read_bytes())
        rows["honest alone"] = peak_mb([honest], scratch / "out-alone")
        makers = {"notebook": ("cnn.ipynb", notebook), "zip": ("big.zip", big_zip), "source": ("long.py", source)}
        for label, (name, make) in makers.items():
            folder = scratch / label
            folder.mkdir()
            make(folder / name)
            size = (folder / name).stat().st_size
            mb, code = peak_mb([honest, folder / name], scratch / f"out-{label}")
            rows[f"honest + largest {label} ({size / 1024 / 1024:.1f} MB file)"] = (mb, code)
    print(f"{'batch':<48} {'peak MB':>8}  exit")
    for label, (mb, code) in rows.items():
        print(f"{label:<48} {mb:8.0f}  {code}")
    worst = max(mb for mb, _ in rows.values())
    print(f"\nGoal: the grader's peak under {GOAL_MB} MB for any input within the caps: "
          f"{'met' if worst < GOAL_MB else 'NOT met'} ({worst:.0f} MB)")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "readers.json").write_text(json.dumps(
        {"machine": machine_info(), "peak_mb": {k: v[0] for k, v in rows.items()}, "goal_mb": GOAL_MB}, indent=2) + "\n")


if __name__ == "__main__":
    main()
