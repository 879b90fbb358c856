"""Grading one correct notebook: this kit against `otter run` and against a bare `import numpy`.

All three run on the reference notebook solutions/cnn/cnn.ipynb, side by
side in one run, interleaved (each repetition runs the three in a rotated
order), with the median of N wall times each:

  kit    `python -m autograder grade cnn.ipynb --out TMP --quiet`: the whole
         hidden suite plus the public tests, in the strongest sandbox the
         host allows (the level is read back from results.json).
  otter  `otter run -a autograder.zip cnn.ipynb -o TMP`, with an otter
         autograder built by `otter generate` from the handout's public
         checks (student_template/cnn/checks/*.py, otter's exception-based
         format). otter runs the notebook in a Jupyter kernel.
  floor  `python -c "import numpy"`: starting Python and NumPy, which any
         grader of a NumPy assignment pays at least once.

otter run needs a Jupyter kernel (ipykernel), which is not a dependency of
the kit. Give an interpreter that has otter-grader, ipykernel and NumPy with
`--otter-python PATH`; otherwise the script uses the kit's .venv if it has
ipykernel, else a separate venv at /tmp/otterenv, which it creates when
missing (python -m venv, then pip install otter-grader==<the kit's otter
version> ipykernel numpy==<the kit's NumPy version>). `--no-otter-setup`
skips that step; if otter cannot run, the reason is printed and written to
the JSON instead of its numbers.

Usage (from the repository root):

    .venv/bin/python bench/per_submission.py               # N=7
    .venv/bin/python bench/per_submission.py --repeats 3   # quicker
    .venv/bin/python bench/per_submission.py --load        # quiet and busy (two CPU-bound processes) side by side
    .venv/bin/python bench/per_submission.py --otter-python /path/to/venv/bin/python

Prints a table (median wall seconds, tests run, ratios) and writes
bench/results/per_submission.json.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from benchlib import ROOT, RESULTS_DIR, REFERENCE_NOTEBOOK, fmt, kit_python, machine_info, median, timed_run  # noqa: E402

CHECKS_DIR = ROOT / "student_template" / "cnn" / "checks"
DEFAULT_OTTER_ENV = Path("/tmp/otterenv")


# -- otter's environment -------------------------------------------------
def _has(python: str, *modules: str) -> bool:
    code = "; ".join(f"import {m}" for m in modules)
    return subprocess.run([python, "-c", code], capture_output=True).returncode == 0


def _version(python: str, module: str) -> str | None:
    done = subprocess.run(
        [python, "-c", f"import importlib.metadata as m; print(m.version({module!r}))"], capture_output=True, text=True
    )
    return done.stdout.strip() or None


def otter_python(requested: str | None, setup: bool) -> tuple[str | None, str, str | None]:
    """(interpreter, how it was chosen, reason it cannot be used or None)."""
    if requested:
        if not _has(requested, "otter", "ipykernel", "numpy"):
            return None, "--otter-python", f"{requested} lacks otter-grader, ipykernel or numpy"
        return requested, "--otter-python", None
    kit = kit_python()
    if _has(kit, "otter", "ipykernel", "numpy"):
        return kit, "the kit's .venv (it has ipykernel)", None
    candidate = str(DEFAULT_OTTER_ENV / "bin" / "python")
    if Path(candidate).exists() and _has(candidate, "otter", "ipykernel", "numpy"):
        return candidate, f"existing {DEFAULT_OTTER_ENV}", None
    if not setup:
        return None, "none", "the kit's .venv has no ipykernel (otter run needs a Jupyter kernel) and --no-otter-setup was given"
    # A separate venv, so ipykernel never becomes a dependency of the kit.
    base = subprocess.run([kit, "-c", "import sys; print(sys._base_executable)"], capture_output=True, text=True)
    base_python = base.stdout.strip() or sys.executable
    otter_version = _version(kit, "otter-grader") or "7.0.0"
    numpy_version = _version(kit, "numpy")
    packages = [f"otter-grader=={otter_version}", "ipykernel", f"numpy=={numpy_version}" if numpy_version else "numpy"]
    print(f"setting up {DEFAULT_OTTER_ENV} for otter run: pip install {' '.join(packages)} ...", file=sys.stderr)
    steps = [
        [base_python, "-m", "venv", "--clear", str(DEFAULT_OTTER_ENV)],
        [candidate, "-m", "pip", "install", "--quiet", *packages],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return None, f"setup of {DEFAULT_OTTER_ENV}", f"`{' '.join(step)}` failed: {' | '.join(tail)}"
    if not _has(candidate, "otter", "ipykernel", "numpy"):
        return None, f"setup of {DEFAULT_OTTER_ENV}", "otter, ipykernel or numpy still not importable after install"
    return candidate, f"created {DEFAULT_OTTER_ENV}", None


def build_otter_autograder(python: str, work: Path) -> tuple[Path, int, list[str]]:
    """autograder.zip from the handout's checks; also the number of check cases and the files."""
    tests = work / "tests"
    tests.mkdir(parents=True)
    files = sorted(CHECKS_DIR.glob("*.py"))
    for f in files:
        shutil.copy(f, tests / f.name)
    (work / "requirements.txt").write_text("numpy\n")
    zip_path = work / "autograder.zip"
    timed_run([python, "-m", "otter", "generate", "-t", "tests", "-r", "requirements.txt", "-o", str(zip_path)], cwd=work)
    # Count cases with otter's own loader, as otter run sees them.
    count = subprocess.run(
        [python, "-c",
         "import sys\nfrom otter.test_files.exception_test import ExceptionTestFile\n"
         "print(sum(len(ExceptionTestFile.from_file(p).test_cases) for p in sys.argv[1:]))",
         *map(str, files)],
        capture_output=True, text=True, check=True,
    )
    return zip_path, int(count.stdout.strip()), [f.name for f in files]


# -- the three contenders ------------------------------------------------
def run_kit(scratch: Path, index: int) -> dict:
    out = scratch / f"kit-{index}"
    wall, _ = timed_run([kit_python(), "-I", "-m", "autograder", "grade", str(REFERENCE_NOTEBOOK), "--out", str(out), "--quiet"], cwd=ROOT)
    name = REFERENCE_NOTEBOOK.stem
    results = json.loads((out / name / "results.json").read_text())
    grade = json.loads((out / name / "grade.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    return {
        "wall": wall,
        "score": results["score"],
        "tests": len(results["tests"]),
        "hidden_tests": sum(1 for t in results["tests"] if t.get("visibility") != "visible"),
        "isolation": results["extra_data"]["isolation"],
        "execution_time": grade["execution_time"],
    }


def run_otter(python: str, zip_path: Path, scratch: Path, index: int) -> dict:
    out = scratch / f"otter-{index}"
    out.mkdir()
    wall, _ = timed_run([python, "-m", "otter", "run", "-a", str(zip_path), str(REFERENCE_NOTEBOOK), "-o", str(out), "--no-logo"], cwd=scratch)
    results = json.loads((out / "results.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    scored = [t for t in results["tests"] if t.get("max_score")]
    return {
        "wall": wall,
        "score": sum(t.get("score") or 0 for t in scored),
        "max_score": sum(t["max_score"] for t in scored),
        "questions": len(scored),
    }


def run_floor(_scratch: Path, _index: int) -> dict:
    wall, _ = timed_run([kit_python(), "-c", "import numpy"])
    return {"wall": wall}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each (median taken; default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each first (default 1)")
    parser.add_argument("--otter-python", help="interpreter with otter-grader, ipykernel and numpy")
    parser.add_argument("--no-otter-setup", action="store_true", help=f"do not create {DEFAULT_OTTER_ENV} when needed")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "per_submission.json")
    parser.add_argument("--load", action="store_true",
                        help="also under load: each repetition runs every contender once more beside two CPU-bound "
                             "processes, so the table shows quiet and busy side by side")
    args = parser.parse_args(argv)

    report = {"submission": str(REFERENCE_NOTEBOOK.relative_to(ROOT)), "machine": machine_info(),
              "repeats": args.repeats, "warmup": args.warmup}
    with tempfile.TemporaryDirectory(prefix="bench-per-submission-") as tmp:
        scratch = Path(tmp)
        python, chosen, why_not = otter_python(args.otter_python, not args.no_otter_setup)
        otter = {"python": python, "chosen": chosen, "available": why_not is None, "why_not": why_not}
        zip_path = None
        if python:
            try:
                zip_path, cases, files = build_otter_autograder(python, scratch / "otter-build")
                otter.update(version=_version(python, "otter-grader"), check_files=files, check_cases=cases,
                             built_with="otter generate -t tests -r requirements.txt -o autograder.zip")
                run_otter(python, zip_path, scratch, -1)  # fails here, not mid-run, if otter run cannot work
            except Exception as exc:  # noqa: BLE001 - the reason goes in the report
                otter.update(available=False, why_not=f"{type(exc).__name__}: {exc}"[:3000])
                zip_path = None
        if not otter["available"]:
            print(f"otter run is NOT measured: {otter['why_not']}", file=sys.stderr)

        contenders = {"kit": run_kit, "floor": run_floor}
        if zip_path:
            contenders["otter"] = lambda s, i: run_otter(python, zip_path, s, i)
        names = list(contenders)
        runs = {n: [] for n in names}
        busy = {n: [] for n in names}
        for attempt in range(args.warmup + args.repeats):
            shift = attempt % len(names)
            for loaded in ((False, True) if args.load else (False,)):
                with competing(2 if loaded else 0):
                    for name in names[shift:] + names[:shift]:  # rotate who goes first
                        result = contenders[name](scratch, attempt)
                        if attempt >= args.warmup:
                            (busy if loaded else runs)[name].append(result)
            print(f"  run {attempt + 1}/{args.warmup + args.repeats}: "
                  + ", ".join(f"{n} {runs[n][-1]['wall']:.3f} s" for n in names if attempt >= args.warmup and runs[n])
                  + ("; busy: " + ", ".join(f"{n} {busy[n][-1]['wall']:.3f} s" for n in names
                                            if attempt >= args.warmup and busy[n]) if args.load else ""),
                  file=sys.stderr)

    med = {n: median([r["wall"] for r in runs[n]]) for n in names}
    kit_last = runs["kit"][-1]
    summary = {
        "kit": {
            "command": "python -m autograder grade solutions/cnn/cnn.ipynb --out TMP --quiet",
            "median_seconds": med["kit"],
            "times": [r["wall"] for r in runs["kit"]],
            "median_execution_time": median([r["execution_time"] for r in runs["kit"]]),
            "tests": kit_last["tests"],
            "hidden_tests": kit_last["hidden_tests"],
            "public_tests": kit_last["tests"] - kit_last["hidden_tests"],
            "scores": sorted({r["score"] for r in runs["kit"]}),
            "isolation": kit_last["isolation"],
        },
        "floor": {"command": 'python -c "import numpy"', "median_seconds": med["floor"],
                  "times": [r["wall"] for r in runs["floor"]]},
        "otter": dict(otter),
        "kit_over_floor": med["kit"] / med["floor"],
    }
    if "otter" in med:
        summary["otter"].update(
            command="otter run -a autograder.zip solutions/cnn/cnn.ipynb -o TMP --no-logo",
            median_seconds=med["otter"],
            times=[r["wall"] for r in runs["otter"]],
            scores=sorted({f"{r['score']:g}/{r['max_score']:g}" for r in runs["otter"]}),
            questions=runs["otter"][-1]["questions"],
        )
        summary["kit_over_otter"] = med["kit"] / med["otter"]
        summary["otter_over_kit"] = med["otter"] / med["kit"]
    report.update(summary)
    report["goals"] = {
        "kit at least 5x faster than otter run": None if "otter" not in med else med["otter"] / med["kit"] >= 5,
        "kit within 3x the floor": med["kit"] / med["floor"] <= 3,
    }

    print(f"\nOne correct notebook ({report['submission']}), median of {args.repeats} interleaved runs")
    header = f"{'grader':7s} {'median s':>9s} {'tests run':>22s}  {'vs kit':>7s}"
    print(header)
    print("-" * len(header))
    k = summary["kit"]
    kit_tests = f"{k['tests']} ({k['hidden_tests']} hidden)"
    print(f"{'kit':7s} {fmt(med['kit']):>9s} {kit_tests:>22s}  {'1.00x':>7s}")
    if "otter" in med:
        o = summary["otter"]
        otter_tests = f"{o['check_cases']} cases, {len(o['check_files'])} files"
        print(f"{'otter':7s} {fmt(med['otter']):>9s} {otter_tests:>22s}  "
              f"{med['otter'] / med['kit']:6.2f}x")
    else:
        print(f"{'otter':7s} {'-':>9s} {'not run':>22s}  ({otter['why_not']})")
    print(f"{'floor':7s} {fmt(med['floor']):>9s} {'0 (import numpy)':>22s}  {med['floor'] / med['kit']:6.2f}x")
    print()
    print(f"kit isolation: {k['isolation']}")
    print(f"kit score(s): {k['scores']}; in-process execution_time median {fmt(k['median_execution_time'])} s")
    if "otter" in med:
        print(f"otter score(s): {summary['otter']['scores']} ({summary['otter']['python']}, otter {summary['otter']['version']})")
        print(f"kit / otter = {summary['kit_over_otter']:.3f}  (otter is {summary['otter_over_kit']:.2f}x slower; goal >= 5x)")
    print(f"kit / floor = {summary['kit_over_floor']:.3f}  (goal <= 3)")
    if args.load:
        report["busy"] = under_load(busy, names)
    benchlib.write_json(args.output, report)


def under_load(busy: dict, names: list) -> dict:
    """The busy runs' medians and ratios, printed beside the quiet table's."""
    med = {n: median([r["wall"] for r in busy[n]]) for n in names}
    print("\nThe same, each run beside two CPU-bound processes (load about 2 on 2 cores more than quiet)")
    for name in names:
        print(f"{name:7s} {fmt(med[name]):>9s}  {med[name] / med['kit']:6.2f}x of the kit")
    result = {"competing_processes": 2, "median_seconds": med, "times": {n: [r["wall"] for r in busy[n]] for n in names},
              "kit_over_floor": med["kit"] / med["floor"]}
    print(f"busy: kit / floor = {result['kit_over_floor']:.3f}")
    if "otter" in med:
        result["otter_over_kit"] = med["otter"] / med["kit"]
        print(f"busy: otter is {result['otter_over_kit']:.2f}x slower than the kit")
    return result


@contextlib.contextmanager
def competing(count: int):
    """`count` processes spinning on a CPU each while the block runs (the busy machine of issue 19)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


if __name__ == "__main__":
    main()
