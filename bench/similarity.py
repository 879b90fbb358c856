"""Similarity of a class of 400 submissions against an archive of 1,000 known files.

The class and the archive are grown from the similarity tests' students and known solutions
(tests/fixtures/similarity). A submission takes each function from one of the five students at
random (a class whose members share idioms but rarely whole files), then puts its functions in a
random order and leaves 0-2 of them as the handout's stub. An archive file is one known
solution or one student's file, reordered the same way. 5% of the submissions
are notebooks, and 10 submissions are planted copies of another (functions reordered).
Every submission carries the handout, as a student's file does.

Measured, in one run:
  cold     `similarity.run` with an empty token cache: the archive is lexed (pygments)
  warm     the same again: the archive's tokens come from the cache
  subset   --baseline submissions (default 100) against the whole archive, warm, side by side with
           copydetect's own CopyDetector on the same files (every test file against every
           reference file), which is what the kit would do without its prefilter
It also checks what the prefilter loses: for each subset submission, whether the kit's best
known score equals the best CopyDetector finds over the whole archive.

Usage (from the repository root, after ./kit has made .venv with the similarity extra):

    .venv/bin/python bench/similarity.py                       # 400 x 1,000; ~5 minutes
    .venv/bin/python bench/similarity.py --students 40 --archive 100 --baseline 20   # smoke run

Prints a table and writes bench/results/similarity.json (similarity_<students>x<archive>.json for
other sizes).
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = benchlib.ROOT
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "similarity"))

import make_class  # noqa: E402

from autograder import assignment as assignments  # noqa: E402
from autograder.integrations import similarity  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "similarity"
HANDOUT = ROOT / "student_template" / "cnn"
STYLES = ("alice", "bob", "carol", "dave", "erin")


def _mixed(styles: dict, rng: random.Random) -> str:
    """A student: each function and class taken from one of the styles at random (with its helpers)."""
    parsed = {name: make_class.bodies(text) for name, text in styles.items()}
    chosen, seen = [], set()
    for name in parsed["alice"][1]:
        if name.startswith("_"):
            continue
        style = rng.choice([s for s in parsed if name in parsed[s][2]])
        _, order, blocks = parsed[style]
        helpers = [n for n in order if n not in parsed["alice"][1] or n.startswith("_")]
        for n in helpers + [name]:
            if (style, n) not in seen and n in blocks:
                seen.add((style, n))
                chosen.append(blocks[n])
    return "\n\n\n".join(chosen) + "\n"


def _variant(source: str, rng: random.Random) -> str:
    """The file's top-level definitions in a random order, 0-2 functions dropped (left as stubs)."""
    found, order, blocks = make_class.bodies(source)
    names = list(order)
    rng.shuffle(names)
    droppable = [n for n in names if not n[0].isupper() and not n.startswith("_")]
    for name in rng.sample(droppable, k=min(len(droppable), rng.randint(0, 2))):
        names.remove(name)
    return "\n\n\n".join(blocks[n] for n in names) + "\n"


def grow(into: Path, students: int, archive: int, seed: int = 0) -> tuple[list[Path], Path]:
    rng = random.Random(seed)
    handout = (HANDOUT / "cnn_layers.py").read_text()
    notebook = json.loads((HANDOUT / "cnn.ipynb").read_text())
    styles = {name: (FIXTURES / f"{name}.py").read_text() for name in STYLES}
    klass = into / "class"
    klass.mkdir(parents=True)
    paths = []
    for i in range(students):
        body = _variant(_mixed(styles, rng), rng)
        if i % 20 == 7:
            path = klass / f"student{i:03d}.ipynb"
            path.write_text(json.dumps(make_class.fill_notebook(notebook, body)))
        else:
            path = klass / f"student{i:03d}.py"
            path.write_text(make_class.fill_module(handout, body))
        paths.append(path)
    # Planted copies: ten submissions replaced by another's code, functions reordered.
    for i in range(10):
        source, target = paths[2 * i], paths[-1 - i]
        if source.suffix == ".py" and target.suffix == ".py":
            text = source.read_text()
            order = [n for n in make_class.bodies(text)[1]]
            rng.shuffle(order)
            target.write_text(make_class.reorder(text, order))
    known_dir = into / "known"
    known_dir.mkdir()
    originals = [p for p in sorted((FIXTURES / "known").iterdir())]
    for j in range(archive):
        pick = rng.random()
        if pick < 0.3:
            original = rng.choice(originals)
            if original.suffix == ".ipynb":
                shutil.copyfile(original, known_dir / f"repo{j:04d}.ipynb")
                continue
            text = original.read_text()
            head, _, _ = text.partition("\ndef ")
            (known_dir / f"repo{j:04d}.py").write_text(head + "\n\n" + _variant(text, rng))
        else:
            (known_dir / f"repo{j:04d}.py").write_text(make_class.fill_module(handout, _variant(styles[rng.choice(STYLES)], rng)))
    return paths, known_dir


def baseline(class_codes, known_dir: Path, boiler_dir: Path, settings):
    """copydetect's CopyDetector: every test file against every reference file."""
    import copydetect

    with tempfile.TemporaryDirectory(prefix="bench-similarity-cd-") as scratch:
        tests = Path(scratch) / "tests"
        tests.mkdir()
        for code in class_codes:
            (tests / f"{code.name}.py").write_text(code.text)
        refs = Path(scratch) / "refs"
        refs.mkdir()
        for path in known_dir.iterdir():
            (refs / f"{path.stem}.py").write_text(similarity.file_code(path))
        started = time.perf_counter()
        detector = copydetect.CopyDetector(
            test_dirs=[str(tests)], ref_dirs=[str(refs), str(tests)], boilerplate_dirs=[str(boiler_dir)],
            extensions=["py"], noise_t=settings.noise_threshold, guarantee_t=settings.guarantee_threshold,
            silent=True, autoopen=False)
        detector.run()
        seconds = time.perf_counter() - started
        best = {}
        for i, test in enumerate(detector.test_files):
            row = [float(max(detector.similarity_matrix[i, j])) for j, ref in enumerate(detector.ref_files)
                   if Path(ref).parent == refs]
            best[Path(test).stem] = max(row, default=0.0)
        return seconds, best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=400)
    parser.add_argument("--archive", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=100, help="submissions in the side-by-side run with CopyDetector")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    cnn = assignments.load("cnn", ROOT)
    settings = similarity.settings(cnn)
    runs = {}
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as scratch:
        scratch = Path(scratch)
        paths, known = grow(scratch, args.students, args.archive)
        cache = scratch / "cache"
        for label in ("cold", "warm"):
            out = scratch / f"out-{label}"
            out.mkdir()
            started = time.perf_counter()
            result = similarity.run(cnn, out, paths, known, cache=cache, quiet=True)
            runs[label] = {"seconds": time.perf_counter() - started, "pairs": len(result.pairs),
                           "compared": result.compared, "known_files": result.known_files,
                           "flagged": sum(1 for p in result.pairs if p.score >= settings.review_from)}
            print(f"{label}: {runs[label]['seconds']:.1f} s", flush=True)
        planted = [p for p in result.pairs if p.kind == "class"][:10]
        runs["planted_pairs_top10"] = [[p.a, p.b, round(p.score, 3)] for p in planted]

        subset = paths[: args.baseline]
        out = scratch / "out-subset"
        out.mkdir()
        started = time.perf_counter()
        mine = similarity.run(cnn, out, subset, known, cache=cache, quiet=True)
        runs["subset_kit"] = {"seconds": time.perf_counter() - started}
        boiler_dir = scratch / "boiler"
        boiler_dir.mkdir()
        for i, text in enumerate(similarity.boilerplate(cnn)):
            (boiler_dir / f"handout{i}.py").write_text(text)
        codes, _ = similarity.class_code(cnn, subset)
        seconds, best = baseline(codes, known, boiler_dir, settings)
        runs["subset_copydetect"] = {"seconds": seconds}
        kit_best = {}
        for p in mine.pairs:
            if p.kind == "known":
                kit_best[p.a] = max(kit_best.get(p.a, 0.0), p.score)
        gaps = [best[name] - kit_best.get(name, 0.0) for name in best]
        runs["prefilter_agreement"] = {"submissions": len(best),
                                       "same_best_known_score": sum(1 for g in gaps if abs(g) < 1e-9),
                                       "largest_shortfall": max(gaps, default=0.0)}

    import copydetect

    data = {"machine": benchlib.machine_info(), "copydetect": copydetect.__version__, "students": args.students,
            "archive": args.archive, "baseline_students": args.baseline, "settings": settings.__dict__, "runs": runs}
    name = "similarity.json" if (args.students, args.archive) == (400, 1000) else f"similarity_{args.students}x{args.archive}.json"

    cold, warm = runs["cold"]["seconds"], runs["warm"]["seconds"]
    kit, cd = runs["subset_kit"]["seconds"], runs["subset_copydetect"]["seconds"]
    print(f"\n{args.students} submissions x {args.archive} known files "
          f"({runs['cold']['pairs']} pairs listed, {runs['cold']['flagged']} at or above {settings.review_from:g})")
    print(f"{'run':<48} {'seconds':>8} {'ratio':>7}")
    print(f"{'cold (archive lexed, cache written)':<48} {cold:>8.1f} {1.0:>7.2f}")
    print(f"{'warm (archive tokens from the cache)':<48} {warm:>8.1f} {warm / cold:>7.2f}")
    print(f"{f'{args.baseline} submissions, kit (warm)':<48} {kit:>8.1f} {1.0:>7.2f}")
    print(f"{f'{args.baseline} submissions, copydetect CopyDetector':<48} {cd:>8.1f} {cd / kit:>7.2f}")
    agreement = runs["prefilter_agreement"]
    print(f"prefilter: the kit finds CopyDetector's best known score for {agreement['same_best_known_score']} "
          f"of {agreement['submissions']} submissions (largest shortfall {agreement['largest_shortfall']:.3f})")
    benchlib.write_json(benchlib.RESULTS_DIR / name, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
