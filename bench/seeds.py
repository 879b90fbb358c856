"""Verdicts hold for every draw: the bundled submissions graded under many seeds.

A submission's hidden inputs are drawn from a seed that changes whenever its code
changes (grading.seed_for). A check whose verdict depends on the draw would then make
a grade flicker between resubmissions of equivalent code, and would let a student
shop for a lucky draw with cosmetic edits. So every bundled submission is graded
under --seed S for each of N seeds, and per submission and question we ask:

  stable    the question's pass/fail verdict (full points or not) is the same on
            every draw; "scores" also asks that its points are the same on every draw
  expected  that verdict is the one the example's `# affects:` header gives: a
            correct implementation passes every question on every draw, and each
            known bug fails the questions it affects on every draw (and only those)
  named     for an example whose `# mistake:` header gives an id: every hidden check
            it fails names that id, on every draw

Submissions: the reference, the untouched handout and every example of
build/examples/<assignment> (for the capstone, folders holding the first
part too, as students hand them in); expected verdicts come from the example's
source in assignments/<assignment>/examples. For cnn, also the tests' corpora:
the similarity tests' class (independent implementations, some with mistakes of
their own: no verdict is known beforehand, so each need only keep its verdicts),
and the mutants tests/test_mutation.py grades in CI (each must fail its question,
a helper's mutant some question, on every draw). The tests whose status differs
between draws are listed: they are the checks to fix.

Usage (from the repository root, after ./kit has made .venv):

    nice -n 10 .venv/bin/python bench/seeds.py                         # cnn, 20 seeds, --jobs 2: ~8 min
    nice -n 10 .venv/bin/python bench/seeds.py --assignment cnn_capstone   # trains per submission: ~14 min
    .venv/bin/python bench/seeds.py --seeds 50 --jobs 2

Prints a table per assignment and writes bench/results/seeds.json (one key per
assignment, so the two runs add up). Exit code 1 when any verdict flickers or
differs from the expected one.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from benchlib import ROOT, RESULTS_DIR, kit_python, machine_info, timed_run  # noqa: E402

sys.path.insert(0, str(ROOT))
from autograder import assignment as assignments  # noqa: E402

ALL = "*"
ANY = "any"  # a mutant of a shared helper: some question fails, whichever


def seeds(n: int) -> list[int]:
    """N seeds spread as real ones are (48-bit, from a hash), the same in every run of the bench."""
    return [int(hashlib.sha256(f"bench-seeds-{i}".encode()).hexdigest()[:12], 16) for i in range(n)]


def example_mistake(a, name: str) -> str | None:
    """The mistake id a bundled example makes (its `# mistake:` header), if it says one."""
    path = a.folder / "examples" / f"{name}.py"
    found = re.search(r"^# mistake: *(.*)$", path.read_text(encoding="utf-8"), re.M) if path.is_file() else None
    return found.group(1).strip() or None if found else None


def example_failures(a, name: str) -> tuple[set[str] | str, set[str]]:
    """The questions a bundled submission should fail on every draw (ALL: every one), and those its
    header says it fails on some draws only (`# on some draws:`: the draw follows the student)."""
    if name == "reference":
        return set(), set()
    if name == "untouched_handout":
        return ALL, set()
    source = (a.folder / "examples" / f"{name}.py").read_text(encoding="utf-8")
    affects = re.search(r"^# affects: *(.*)$", source, re.M).group(1).split()
    sometimes = re.search(r"^# on some draws: *(.*)$", source, re.M)
    return (ALL if affects == [ALL] else set(affects)), set(sometimes.group(1).split() if sometimes else ())


def bundled(a, into: Path) -> list[dict]:
    """The bundled submissions, as the demo hands them to `grade` (one folder each where a part is required).

    Each: a question fails every draw when the example says it is affected, and passes every
    draw otherwise (`only`)."""
    from autograder.cli import demo_submissions

    # The notebook is the reference's code again, at twice the grading time: it adds no verdict.
    paths = [p for p in demo_submissions(a, into) if p.stem != "reference_notebook"]
    found = []
    for p in paths:
        fails, sometimes = example_failures(a, p.stem)
        found.append({"path": p, "corpus": "bundled", "fails": fails, "sometimes": sometimes, "only": True,
                      "mistake": example_mistake(a, p.stem)})
    return found


def corpora(a, into: Path) -> list[dict]:
    """The tests' corpora (cnn only): the similarity tests' class, whose independent implementations
    have no verdict known beforehand (each must only keep its verdicts on every draw), the realistic
    corpora of bench/feedback.py (expected verdicts from their headers), and the mutants
    tests/test_mutation.py grades in CI, each of which must fail its question on every draw."""
    if a.name != "cnn":
        return []
    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "similarity"))
    sys.path.insert(0, str(ROOT / "tests"))
    import make_class
    import test_mutation

    found = []
    students = make_class.build_class(into / "class", a.template_dir / f"{a.module}.py", a.template_dir / a.notebook,
                                      a.reference_module)
    for name, path in students.items():
        if name != "reference":  # the bundled reference already
            found.append({"path": path, "corpus": "similarity class", "fails": None, "sometimes": set(), "only": False})
    # The realistic corpora of bench/feedback.py: each file's really wrong items (its header, the judge's
    # verdict) must lose points on every draw, every other item keep them, and the mistakes named hold.
    sys.path.insert(0, str(ROOT / "bench" / "corpus"))
    import judge as corpus_judge

    for corpus in ("part1", "fresh"):
        folder = ROOT / "bench" / "corpus" / corpus
        (into / corpus).mkdir()
        for path in sorted(folder.glob("*.py")):
            copy = into / corpus / f"{corpus}_{path.name}"
            copy.write_text(corpus_judge.strip_header(path.read_text(encoding="utf-8")), encoding="utf-8")
            found.append({"path": copy, "corpus": f"realistic corpus ({corpus})", "sometimes": set(), "only": True,
                          "fails": set(corpus_judge.read_header(path)["items"])})
    reference = a.reference_module.read_text(encoding="utf-8")
    (into / "mutants").mkdir()
    for index, m in enumerate(test_mutation.SAMPLE["mutant"]):
        path = into / "mutants" / f"mutant{index}.py"
        path.write_text(test_mutation.rebuild(reference, m["function"], m["before"], m["after"]), encoding="utf-8")
        fails = ANY if m["item"] == test_mutation.HELPERS else {m["item"]}
        found.append({"path": path, "corpus": f"mutation sample: {m['id']}", "fails": fails, "sometimes": set(),
                      "only": False})
    return found


def grade_under(a, paths: list[Path], seed: int, out: Path, jobs: int) -> dict:
    """{submission: {"items": {item: points}, "tests": {test: status}}} for one seed."""
    timed_run([kit_python(), "-m", "autograder", "grade", *map(str, paths), "--assignment", a.name, "--out", str(out),
               "--seed", str(seed), "--jobs", str(jobs), "--quiet", "--no-report"], cwd=ROOT)
    graded = {}
    for path in paths:
        data = json.loads((out / path.stem / "grade.json").read_text(encoding="utf-8"))
        graded[path.stem] = {"items": data["by_item"], "tests": {t["name"]: t["status"] for t in data["tests"]},
                             "state": data["state"],
                             # The mistake each failing hidden check names (None: none).
                             "named": {t["name"]: t.get("mistake") for t in data["tests"]
                                       if t["status"] != "passed" and t.get("visibility") != "visible"}}
    return graded


def analyse(a, subs: list[dict], runs: dict[int, dict]) -> list[dict]:
    # A question of no points (the capstone's speed measure) has no verdict to hold.
    points = {q.item: q.points for q in a.questions if q.points > 0}
    rows = []
    for sub in subs:
        name, fails = sub["path"].stem, sub["fails"]
        items = {}
        for item, full in points.items():
            scores = [runs[s][name]["items"][item] for s in runs]
            verdicts = {score >= full - 1e-6 for score in scores}  # True: full points
            known_to_vary = item in sub["sometimes"]
            if known_to_vary:
                expected = None  # said beforehand to depend on the draw: reported, not held to one verdict
            elif fails == ALL or (isinstance(fails, set) and item in fails):
                expected = {False}
            elif sub["only"]:
                expected = {True}
            else:
                expected = None  # no verdict known beforehand: it need only hold
            items[item] = {
                "known_to_vary": known_to_vary,
                "stable": len(verdicts) == 1,
                "same_points": len(set(scores)) == 1,
                "as_expected": expected is None or verdicts == expected,
                "points": sorted(set(scores)),
            }
        if fails == ANY:  # some question below full points on every draw
            totals = [sum(runs[s][name]["items"][i] for i in points) for s in runs]
            items["(any question)"] = {"stable": True, "same_points": True, "points": sorted(set(totals)),
                                       "as_expected": all(t < sum(points.values()) - 1e-6 for t in totals)}
        tests = {}
        for s in runs:
            for test, status in runs[s][name]["tests"].items():
                tests.setdefault(test, set()).add(status)
        # The mistakes the failing hidden checks name: the same set on every draw.
        named_sets = {frozenset(v for v in runs[s][name]["named"].values() if v) for s in runs}
        named = None  # every failing hidden check names the example's mistake, on every draw
        if sub.get("mistake"):
            named = all(runs[s][name]["named"] and set(runs[s][name]["named"].values()) == {sub["mistake"]} for s in runs)
        rows.append({
            "submission": name,
            "mistake": sub.get("mistake"),
            "named_every_draw": named,
            "same_mistakes_named_every_draw": len(named_sets) == 1,
            "mistakes_named": sorted(set().union(*named_sets)),
            "corpus": sub["corpus"],
            "fails": ("every question" if fails == ALL else "some question" if fails == ANY else
                      "not known" if fails is None else " ".join(sorted(fails)) or "none")
                     + ("; on some draws: " + " ".join(sorted(sub["sometimes"])) if sub["sometimes"] else ""),
            "items": items,
            "flickering_tests": sorted(t for t, statuses in tests.items() if len(statuses) > 1),
        })
    return rows


def table(rows: list[dict], n: int) -> list[str]:
    width = max(len(r["submission"]) for r in rows)
    lines = [f"{'submission':<{width}}  {'verdicts stable':>15}  {'as expected':>11}  {'points stable':>13}  "
             f"{'named':>5}  expected to fail (on every draw)"]
    corpus = None
    for r in rows:
        heading = r["corpus"].split(":")[0]
        if heading != corpus:
            lines.append(f"-- {heading}")
            corpus = heading
        items = r["items"].values()
        if r["corpus"].startswith("mutation sample: "):
            lines.append(f"  ({r['corpus'].split(': ', 1)[1]})")
        lines.append(f"{r['submission']:<{width}}  {sum(i['stable'] for i in items):>7}/{len(items):<7}  "
                     f"{sum(i['as_expected'] for i in items):>5}/{len(items):<5}  "
                     f"{sum(i['same_points'] for i in items):>6}/{len(items):<6}  "
                     f"{'' if r.get('named_every_draw') is None else 'yes' if r['named_every_draw'] else 'NO':>5}  "
                     f"{r['fails']}")
        for item, i in r["items"].items():
            if not (i["stable"] and i["as_expected"] and i["same_points"]):
                said = " (said to vary with the draw)" if i.get("known_to_vary") else ""
                lines.append(f"    {item}: points over {n} draws {i['points']}{said}")
        for test in r["flickering_tests"]:
            lines.append(f"    flickers: {test}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="cnn")
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds (default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    args = parser.parse_args()
    a = assignments.load(args.assignment, ROOT)
    scratch = Path(tempfile.mkdtemp(prefix="bench-seeds-"))
    started = time.monotonic()
    try:
        subs = bundled(a, scratch / "subs") + corpora(a, scratch / "corpora")
        paths = [sub["path"] for sub in subs]
        names = [p.stem for p in paths]
        assert len(set(names)) == len(names), f"two submissions share a name: {names}"
        runs = {}
        for k, seed in enumerate(seeds(args.seeds), 1):
            runs[seed] = grade_under(a, paths, seed, scratch / f"out-{k}", args.jobs)
            print(f"seed {k}/{args.seeds} ({seed}): graded {len(paths)} submissions, "
                  f"{time.monotonic() - started:.0f} s so far", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = analyse(a, subs, runs)
    print(f"{a.name}: {len(rows)} submissions x {args.seeds} seeds, {time.monotonic() - started:.0f} s")
    print("\n".join(table(rows, args.seeds)))
    ok = all((i["stable"] or i.get("known_to_vary")) and i["as_expected"] for r in rows for i in r["items"].values())
    ok = ok and all(r.get("named_every_draw") is not False for r in rows)
    unsteady_names = [r["submission"] for r in rows if not r["same_mistakes_named_every_draw"]]
    print(f"the same mistakes named on every draw: {len(rows) - len(unsteady_names)} of {len(rows)} submissions"
          + (f" (not: {', '.join(unsteady_names)})" if unsteady_names else ""))
    steady = all(i["same_points"] for r in rows for i in r["items"].values())
    print(f"\nevery verdict the same on every draw (but those said to vary) and as expected: {'yes' if ok else 'NO'}; "
          f"every question's points the same on every draw: {'yes' if steady else 'no'}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "seeds.json"
    previous = json.loads(path.read_text()) if path.is_file() else {}
    previous[a.name] = {"machine": machine_info(), "seeds": args.seeds, "jobs": args.jobs,
                        "seconds": round(time.monotonic() - started), "ok": ok, "points_steady": steady, "rows": rows}
    path.write_text(json.dumps(previous, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
