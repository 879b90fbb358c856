"""Similarity of obfuscated copies against independent implementations, with and without normalisation.

The corpus is every independent implementation the kit holds: the similarity tests' students
(alice, bob, carol, dave, erin; tests/fixtures/similarity) and the reference solution, each put
into the handout as a student would, with the known archive of tests/fixtures/similarity/known
(erin adapted its naive_layers.py, so that pair is not independent). A copy is one of the
implementations passed through the mechanical edits of tests/fixtures/similarity/obfuscate.py
(`ast` transforms; each copy is checked to compute what its source computes).

For each edit and each source, the copy joins the class and is scored against its source, as a
classmate (kind "class") and, with the source in the known archive instead, as a known solution
(kind "known"). A copy is caught when it scores at least review_from and above every
independent pair of the same run. Both are measured with the kit's normalisation and without it
(the fingerprints of the code as written, as before), in this one process.

Also measured, side by side over the same files: what normalising one file costs, against
copydetect's lexing of it, and `similarity.compare` on the class with and without normalisation.

Usage (from the repository root, after ./kit has made .venv with the similarity extra):

    .venv/bin/python bench/obfuscation.py            # ~2 minutes on 2 cores

Prints a table and writes bench/results/obfuscation.json.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = benchlib.ROOT
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "similarity"))

import make_class  # noqa: E402
import obfuscate  # noqa: E402

from autograder import assignment as assignments  # noqa: E402
from autograder.integrations import normalise, similarity  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "similarity"
HANDOUT = ROOT / "student_template" / "cnn"
SOURCES = ("alice", "bob", "carol", "dave", "erin", "reference")
NOT_INDEPENDENT = {("erin", "naive_layers.py")}


def corpus() -> dict[str, str]:
    """Each independent implementation as a submission's module."""
    handout = (HANDOUT / "cnn_layers.py").read_text()
    codes = {name: make_class.fill_module(handout, (FIXTURES / f"{name}.py").read_text()) for name in SOURCES[:-1]}
    codes["reference"] = (ROOT / "solutions" / "cnn" / "cnn_layers.py").read_text()
    return codes


def known_codes() -> list[similarity.Code]:
    return [similarity.Code(p.name, "known", similarity.file_code(p)) for p in sorted((FIXTURES / "known").iterdir())]


def edits() -> dict[str, tuple[str, ...]]:
    return {**{name: (name,) for name in obfuscate.TRANSFORMS}, **obfuscate.COMBINATIONS}


def copy_of(source: str, name: str, edit: str, protected: set[str]) -> str:
    seed = zlib.crc32(f"{name}/{edit}".encode())
    return obfuscate.obfuscate(source, edits()[edit], protected, seed)


# -- behaviour: a copy computes what its source computes -----------------------------------------

def _load(source: str) -> dict:
    namespace: dict = {"__name__": "obfuscated"}
    exec(compile(source, "<copy>", "exec"), namespace)  # our own fixtures, transformed
    return namespace


def _answers(ns: dict) -> list:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    out = [ns["conv_output_size"](9, 3, 2, 1), ns["pad"](x, 1), ns["pad"](x, ((1, 2), (0, 1)), value=3)]
    for stride, padding in ((1, 0), (2, 1), ((2, 1), (1, 0))):
        y = ns["conv2d_forward"](x, w, b, stride, padding)
        out += [y, *ns["conv2d_backward"](np.ones_like(y) * 0.5, x, w, b, stride, padding)]
    for pool, stride in ((2, None), (3, 2), ((2, 3), 1)):
        y = ns["maxpool_forward"](x, pool, stride)
        out += [y, ns["maxpool_backward"](np.ones_like(y), x, pool, stride)]
    np.random.seed(1)
    layer = ns["Conv2d"](3, 4, 3, stride=1, padding=1)
    y = layer(x)
    out += [y, layer.backward(np.ones_like(y)), layer.W.grad, layer.b.grad]
    return out


def same_behaviour(source: str, copy: str) -> bool:
    try:
        a, b = _answers(_load(source)), _answers(_load(copy))
    except Exception:  # noqa: BLE001  (a copy that fails is reported, not raised)
        return False
    return all(np.shape(p) == np.shape(q) and np.allclose(p, q) for p, q in zip(a, b))


# -- scores ---------------------------------------------------------------------------------------

def scores(codes: dict[str, str], known: list, boiler: list[str], s, normalised: bool, copy_name: str | None,
           as_known: str | None = None):
    """compare() over the class; returns (copy's score against its source or None, highest independent pair)."""
    printer = similarity.Fingerprinter
    original = similarity.Fingerprinter

    class Chosen(printer):
        def __init__(self, settings, boiler_texts):
            super().__init__(settings, boiler_texts, normalised=normalised)

    similarity.Fingerprinter = Chosen
    try:
        klass = [similarity.Code(n, "class", t) for n, t in codes.items() if n != as_known]
        archive = list(known) + ([similarity.Code(f"{as_known}.py", "known", codes[as_known])] if as_known else [])
        pairs, _, skipped = similarity.compare(klass, archive, boiler, s)
    finally:
        similarity.Fingerprinter = original
    assert not skipped, skipped
    copy_score, independent = None, 0.0
    for p in pairs:
        names = {p.a, p.b.removesuffix(".py") if p.kind == "known" and as_known else p.b}
        if copy_name in names:
            source = copy_name.split("~")[0]
            if source in names:
                copy_score = max(copy_score or 0.0, p.score)
            continue
        if (p.a, p.b) in NOT_INDEPENDENT or p.b == f"{as_known}.py":
            continue
        independent = max(independent, p.score)
    return copy_score or 0.0, independent


def timing(codes: dict[str, str], boiler: list[str], s, rounds: int = 7) -> dict:
    """Normalising each file against lexing it, and compare() with and without, round by round."""
    printer = similarity.Fingerprinter(s, boiler)
    texts = list(codes.values())
    norm, lex, on, off = [], [], [], []
    klass = [similarity.Code(n, "class", t) for n, t in codes.items()]
    original = similarity.Fingerprinter
    for _ in range(rounds):
        started = time.perf_counter()
        forms = [normalise.normalise(t, printer.entries) for t in texts]
        norm.append((time.perf_counter() - started) / len(texts))
        started = time.perf_counter()
        for form in forms:
            printer.lex(form.text)
        lex.append((time.perf_counter() - started) / len(texts))
        for flag, into in ((True, on), (False, off)):
            class Chosen(original):
                def __init__(self, settings, boiler_texts, _flag=flag):
                    super().__init__(settings, boiler_texts, normalised=_flag)
            similarity.Fingerprinter = Chosen
            started = time.perf_counter()
            similarity.compare(klass, [], boiler, s)
            into.append(time.perf_counter() - started)
            similarity.Fingerprinter = original
    return {"normalise_ms_per_file": 1000 * statistics.median(norm), "lex_ms_per_file": 1000 * statistics.median(lex),
            "compare_s_normalised": statistics.median(on), "compare_s_as_written": statistics.median(off),
            "compare_ratio": statistics.median(a / b for a, b in zip(on, off)), "files": len(texts), "rounds": rounds}


def main() -> None:
    cnn = assignments.load("cnn", ROOT)
    s = similarity.settings(cnn)
    boiler = similarity.boilerplate(cnn)
    protected = normalise.entry_points(boiler)
    protected |= {p.split(".")[-1] for p in protected}
    codes = corpus()
    known = known_codes()
    rows = []
    for edit in edits():
        row = {"edit": edit, "behaviour_kept": 0, "sources": len(SOURCES)}
        for normalised in (True, False):
            tag = "normalised" if normalised else "as_written"
            copies, knowns, tops = [], [], []
            for name in SOURCES:
                copy = copy_of(codes[name], name, edit, protected)
                if normalised:
                    row["behaviour_kept"] += same_behaviour(codes[name], copy)
                with_copy = {**codes, f"{name}~copy": copy}
                score, top = scores(with_copy, known, boiler, s, normalised, f"{name}~copy")
                copies.append(score)
                tops.append(top)
                if normalised:
                    kscore, ktop = scores(with_copy, known, boiler, s, normalised, f"{name}~copy", as_known=name)
                    knowns.append((kscore, ktop))
            top = max(tops)
            row[tag] = {"min": min(copies), "median": statistics.median(copies), "max": max(copies),
                        "independent_max": top, "by_source": dict(zip(SOURCES, copies)),
                        "caught": sum(c >= s.review_from and c > t for c, t in zip(copies, tops))}
            if normalised:
                row["known"] = {"min": min(k for k, _ in knowns), "independent_max": max(t for _, t in knowns),
                                "caught": sum(k >= s.review_from and k > t for k, t in knowns)}
        rows.append(row)
        n, w = row["normalised"], row["as_written"]
        print(f"{edit:26} copy min {n['min']:.2f} median {n['median']:.2f} (as written {w['min']:.2f}/{w['median']:.2f})"
              f"  independent max {n['independent_max']:.2f} ({w['independent_max']:.2f})"
              f"  caught {n['caught']}/{len(SOURCES)} ({w['caught']}/{len(SOURCES)}); as known: min {row['known']['min']:.2f}"
              f" caught {row['known']['caught']}/{len(SOURCES)}; behaviour kept {row['behaviour_kept']}/{len(SOURCES)}",
              flush=True)
    cost = timing(codes, boiler, s)
    print(f"normalise {cost['normalise_ms_per_file']:.1f} ms/file vs lexing it {cost['lex_ms_per_file']:.1f} ms/file; "
          f"compare() of {cost['files']} files: {cost['compare_s_normalised']:.2f} s normalised vs "
          f"{cost['compare_s_as_written']:.2f} s as written (x{cost['compare_ratio']:.2f}, median of {cost['rounds']} paired rounds)")
    benchlib.write_json(benchlib.RESULTS_DIR / "obfuscation.json",
                        {"machine": benchlib.machine_info(), "review_from": s.review_from, "rows": rows, "cost": cost})


if __name__ == "__main__":
    main()
