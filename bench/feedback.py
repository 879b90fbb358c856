"""How often the kit's feedback names the mistake, on a corpus of realistic student code.

The corpus (bench/corpus/part1/*.py; for --assignment cnn_capstone, bench/corpus/capstone/*.py,
each graded as capstone.py beside a correct first part) holds submissions written the ways students of two known
courses write them; each file's header says which contract items are really wrong, as
bench/corpus/judge.py (judge_capstone.py) decides by running them beside the reference (not by asking the kit).
This bench grades every file with the kit's CLI (`./kit grade FOLDER --out OUT`, one student per
file, the header line stripped so the kit sees only the code) and compares, per item:

- really wrong (judge) against lost points (kit): a false pass is an item really wrong that kept
  full points, a false fail a correct item that lost points;
- named: among really wrong items, those where at least one failing check of the item carries a
  mistake id (`mistake` in grade.json), crashes included. Every other really wrong item is listed
  with the first line the student read for it, and grouped by that message's shape.

    .venv/bin/python bench/feedback.py                        # table on stdout
    .venv/bin/python bench/feedback.py --json bench/results/feedback.json
    .venv/bin/python bench/feedback.py --only dlai_float_b cs231n_loops_ok --keep /tmp/fb
    .venv/bin/python bench/feedback.py --corpus bench/corpus/fresh --json bench/results/feedback_fresh.json

The judge runs once per file (a subprocess each); `--trust-headers` uses the headers instead
(they are checked to equal the judge's verdict by tests/test_corpus_judge.py and
`judge.py --check`). Grading uses a fixed --seed so runs compare.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

from benchlib import ROOT, machine_info  # noqa: E402

sys.path.insert(0, str(ROOT / "bench" / "corpus"))
import judge as corpus_judge  # noqa: E402
import judge_capstone  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CORPORA = {"cnn": ROOT / "bench" / "corpus" / "part1", "cnn_capstone": ROOT / "bench" / "corpus" / "capstone"}
JUDGES = {"cnn": corpus_judge, "cnn_capstone": judge_capstone}


def question_points(assignment: str) -> dict:
    data = tomllib.loads((ROOT / "assignments" / assignment / "assignment.toml").read_text())
    return {q["item"]: float(q["points"]) for q in data["questions"]}


def grade(files, assignment, out: Path, seed: int, jobs: int) -> None:
    subs = out / "subs"
    subs.mkdir(parents=True)
    for path in files:
        if assignment == "cnn_capstone":
            # a capstone submission is a folder: the file as capstone.py beside a correct first part
            folder = subs / path.stem
            folder.mkdir()
            (folder / "capstone.py").write_text(corpus_judge.strip_header(path.read_text()))
            (folder / "cnn_layers.py").write_text(corpus_judge.strip_header(judge_capstone.LAYERS.read_text()))
        else:
            (subs / path.name).write_text(corpus_judge.strip_header(path.read_text()))
    # a folder of .py files is a class; capstone folders are named one by one
    targets = sorted(str(p) for p in subs.iterdir()) if assignment == "cnn_capstone" else [str(subs)]
    cmd = [str(ROOT / "kit"), "grade", *targets, "--out", str(out / "grades"), "--quiet", "--no-report",
           "--seed", str(seed), "--jobs", str(jobs), "--assignment", assignment]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"kit grade exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def symptom(message: str) -> str:
    """The shape of a message, so that the same symptom on other inputs groups together."""
    crash = re.match(r"your code raised (\w+): (.*?)(?: \(at .*?, line \d+, in (\w+): (.*)\))?$", message)
    if crash:
        kind, text, _where, _line = crash.groups()
        text = re.sub(r"\(\d[\d, ]*\)", "(...)", text)
        text = re.sub(r"\d+", "#", text)
        return f"crash {kind}: {text.strip()}"
    text = re.sub(r"array\(.*", "array(...)", message)
    text = re.sub(r"\((?:-?\d+(?:\.\d+)?,? ?)+\)", "(...)", text)
    text = re.sub(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", "#", text)
    text = re.sub(r"\w+\(x(?:, [^)]*)?\)", "CALL", text)
    return text[:160]


def analyse(name, wrong, points, grade_json: dict) -> dict:
    by_item = grade_json.get("by_item") or {}
    tests = grade_json.get("tests") or []
    lost = [item for item, full in points.items() if by_item.get(item, 0.0) < full - 1e-6]
    rows = {}
    for item in points:
        failing = [t for t in tests if t.get("item") == item and t.get("status") not in ("passed",)]
        named = sorted({t["mistake"] for t in failing if t.get("mistake")})
        # the first message a student reads for the item: a failure or a crash before an "unmet"
        shown = sorted(failing, key=lambda t: t.get("kind") == "unmet")
        message = first_line(shown[0].get("output")) if shown else ""
        if not shown and grade_json.get("status") not in ("graded", None):
            message = first_line("; ".join(grade_json.get("notes") or [])) or grade_json.get("status", "")
        rows[item] = {
            "wrong": item in wrong, "lost": item in lost, "points": by_item.get(item, 0.0),
            "named": named, "message": message, "failing_checks": len(failing),
        }
    return {
        "name": name, "status": grade_json.get("status"), "score": grade_json.get("score"),
        "wrong": [i for i in points if i in wrong], "lost": lost,
        "false_pass": [i for i in points if i in wrong and i not in lost],
        "false_fail": [i for i in lost if i not in wrong],
        "items": rows,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignment", default="cnn", choices=sorted(CORPORA))
    parser.add_argument("--corpus", type=Path, help="folder of corpus files (default: the assignment's)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these corpus files only (names without .py)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the full results here")
    parser.add_argument("--keep", type=Path, help="grade into this folder (kept) instead of a temporary one")
    parser.add_argument("--trust-headers", action="store_true", help="take `items` from the headers, do not judge")
    args = parser.parse_args(argv)

    corpus = args.corpus or CORPORA[args.assignment]
    files = sorted(corpus.glob("*.py"))
    if args.only:
        files = [f for f in files if f.stem in set(args.only)]
    if not files:
        raise SystemExit(f"no corpus files in {corpus}")
    points = question_points(args.assignment)
    headers = {f.stem: corpus_judge.read_header(f) for f in files}
    start = time.perf_counter()

    if args.trust_headers:
        wrong = {f.stem: set(headers[f.stem].get("items", [])) for f in files}
    else:
        judge = JUDGES[args.assignment]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            verdicts = dict(zip([f.stem for f in files], pool.map(judge.judge, files)))
        wrong = {name: set(judge.wrong_items(v)) for name, v in verdicts.items()}
        stale = [n for n in wrong if wrong[n] != set(headers[n].get("items", []))]
        if stale:
            print(f"warning: header `items` differ from the judge for {', '.join(stale)} (the judge's are used)")
    judged = time.perf_counter()

    work = args.keep or Path(tempfile.mkdtemp(prefix="feedback-bench-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    try:
        grade(files, args.assignment, work, args.seed, args.jobs)
        graded = time.perf_counter()
        results = []
        for f in files:
            path = work / "grades" / f.stem / "grade.json"
            grade_json = json.loads(path.read_text()) if path.exists() else {"status": "missing"}
            row = analyse(f.stem, wrong[f.stem], points, grade_json)
            row["style"] = headers[f.stem].get("style", "")
            row["bugs"] = headers[f.stem].get("bugs", [])
            results.append(row)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    # ------------------------------------------------------------ report
    print(f"{'file':42s} {'style':10s} {'score':>6s}  wrong  lost  named  false pass / false fail")
    total_wrong = total_named = 0
    unnamed = []
    for row in results:
        wrong_items = row["wrong"]
        named_items = [i for i in wrong_items if row["items"][i]["named"]]
        total_wrong += len(wrong_items)
        total_named += len(named_items)
        for item in wrong_items:
            if not row["items"][item]["named"]:
                unnamed.append((row["name"], item, row["items"][item]["message"] or "(no failing check: full points)"))
        flags = []
        if row["false_pass"]:
            flags.append("FALSE PASS " + ",".join(row["false_pass"]))
        if row["false_fail"]:
            flags.append("FALSE FAIL " + ",".join(row["false_fail"]))
        print(f"{row['name']:42s} {row['style']:10s} {row['score'] or 0:6.1f}  {len(wrong_items):5d} {len(row['lost']):5d}"
              f"  {len(named_items):2d}/{len(wrong_items):<2d}  {'; '.join(flags)}")
    false_pass = sum(len(r["false_pass"]) for r in results)
    false_fail = sum(len(r["false_fail"]) for r in results)
    share = total_named / total_wrong if total_wrong else 1.0
    print()
    print(f"files: {len(results)} ({sum(1 for r in results if not r['wrong'])} correct); "
          f"really wrong items: {total_wrong}; named: {total_named} ({share:.0%}); "
          f"false pass: {false_pass}; false fail: {false_fail}")
    groups = defaultdict(list)
    for name, item, message in unnamed:
        groups[symptom(message)].append((name, item, message))
    print(f"\nunnamed failing items ({len(unnamed)}), grouped by what the student saw:")
    for key, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"\n  [{len(members)}] {key}")
        for name, item, message in members:
            print(f"      {name} / {item}: {message[:200]}")
    print(f"\njudge {judged - start:.0f}s, grading {graded - judged:.0f}s")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "machine": machine_info(), "assignment": args.assignment, "seed": args.seed,
            "corpus": str(corpus.resolve().relative_to(ROOT)) if corpus.resolve().is_relative_to(ROOT) else str(corpus),
            "totals": {"files": len(results), "wrong_items": total_wrong, "named": total_named, "named_share": share,
                       "false_pass": false_pass, "false_fail": false_fail},
            "unnamed": [{"file": n, "item": i, "message": m, "symptom": symptom(m)} for n, i, m in unnamed],
            "files": results,
        }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
