"""Similarity: planted pairs rank first, the handout counts for nothing, and students see none of it.

The class (tests/fixtures/similarity): alice, bob, carol and dave (a notebook) wrote their own
solutions, and so did the reference's author; alice_copy is alice's code with names changed,
functions reordered and loops rewritten as comprehensions; erin adapted a known solution from
the instructor's archive (known/naive_layers.py) to the handout's signatures.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("copydetect", reason="the similarity extra is not installed: pip install -e .[similarity]")

from autograder import assignment as assignments  # noqa: E402
from autograder.assignment import ConfigError  # noqa: E402
from autograder.integrations import normalise, similarity  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "similarity"
KNOWN = FIXTURES / "known"
CNN = assignments.load("cnn", ROOT)
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
HANDOUT = ROOT / "student_template" / "cnn"
sys.path.insert(0, str(FIXTURES))
import make_class  # noqa: E402
import obfuscate  # noqa: E402

PLANTED = {("class", "alice", "alice_copy"), ("known", "erin", "naive_layers.py")}


def _build(into: Path) -> dict[str, Path]:
    paths = make_class.build_class(into, HANDOUT / "cnn_layers.py", HANDOUT / "cnn.ipynb", ROOT / "solutions" / "cnn" / "cnn_layers.py")
    untouched = into / "untouched.py"
    shutil.copyfile(HANDOUT / "cnn_layers.py", untouched)
    paths["untouched"] = untouched
    return paths


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("similarity")
    paths = _build(tmp / "class")
    out = tmp / "out"
    out.mkdir()
    result = similarity.run(CNN, out, list(paths.values()), KNOWN, cache=tmp / "cache", quiet=True)
    return tmp, paths, out, result


def test_planted_pairs_rank_above_every_independent_pair(planted):
    _, paths, _, result = planted
    top = [(p.kind, p.a, p.b) for p in result.pairs[:2]]
    assert set(top) == PLANTED, result.pairs[:4]
    lowest_planted = min(p.score for p in result.pairs[:2])
    independent = [p for p in result.pairs if (p.kind, p.a, p.b) not in PLANTED]
    assert independent, "the class has independent pairs"
    assert max(p.score for p in independent) < lowest_planted
    # Both planted pairs are marked for review; no independent pair is.
    assert lowest_planted >= result.settings.review_from
    assert all(p.score < result.settings.review_from for p in independent)
    # Every pair of the compared submissions is there once; the notebook (dave) too.
    compared = {"alice", "alice_copy", "bob", "carol", "dave", "erin", "reference"}
    class_pairs = {frozenset((p.a, p.b)) for p in result.pairs if p.kind == "class"}
    assert len(class_pairs) == len(compared) * (len(compared) - 1) // 2
    assert {name for pair in class_pairs for name in pair} == compared
    assert result.compared == len(compared) and result.known_files == 3
    # Each submission lists at most known_per_submission known files.
    per = {}
    for p in result.pairs:
        if p.kind == "known":
            per[p.a] = per.get(p.a, 0) + 1
    assert max(per.values()) <= result.settings.known_per_submission


def test_the_handout_contributes_nothing(planted):
    _, _, _, result = planted
    # The untouched handout has no code of its own, so it is not compared at all.
    assert any(name == "untouched" and "0 tokens of its own" in why for name, why in result.skipped), result.skipped
    s = similarity.settings(CNN)
    boiler = similarity.boilerplate(CNN)
    printer = similarity.Fingerprinter(s, boiler)
    for text in boiler:
        assert printer.fingerprint(similarity.Code("handout", "class", text)).token_coverage == 0
    # Two students who each wrote only `pad`, differently: all they share is the handout.
    handout = (HANDOUT / "cnn_layers.py").read_text()
    only_pad = {}
    for name in ("alice", "bob"):
        found, _, _ = make_class.bodies((FIXTURES / f"{name}.py").read_text())
        only_pad[name] = make_class.fill_module(handout, f"def pad(x, padding, value=0):\n{_indent(found['pad'])}\n")
    codes = [similarity.Code(n, "class", t) for n, t in only_pad.items()]
    loose = similarity.Settings(min_own_tokens=1)
    pairs, _, skipped = similarity.compare(codes, [], boiler, loose)
    assert not skipped and len(pairs) == 1 and pairs[0].score < 0.05, pairs
    # Without the handout excluded, the same two would look alike: the exclusion is what keeps them apart.
    unrelated = ["def unrelated(a):\n    return [a + 1 for _ in range(3)]\n"]
    pairs, _, _ = similarity.compare(codes, [], unrelated, loose)
    assert pairs[0].score > 0.8, pairs


def _indent(body: str) -> str:
    return "\n".join("    " + line if line else line for line in body.splitlines())


def test_a_notebook_is_compared_on_its_code_cells(tmp_path):
    student = (FIXTURES / "alice.py").read_text()
    handout_nb = json.loads((HANDOUT / "cnn.ipynb").read_text())
    notebook = make_class.fill_notebook(handout_nb, student)
    # Outputs and markdown are not code: a long output must change nothing.
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x = y + 1\n" * 2000}]
    (tmp_path / "alice_nb.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "alice.py").write_text(make_class.fill_module((HANDOUT / "cnn_layers.py").read_text(), student))
    codes, skipped = similarity.class_code(CNN, [tmp_path / "alice_nb.ipynb", tmp_path / "alice.py"])
    assert not skipped
    assert "x = y + 1" not in codes[0].text and "def conv2d_forward" in codes[0].text
    pairs, _, _ = similarity.compare(codes, [], similarity.boilerplate(CNN), similarity.settings(CNN))
    # The same code as a module and as a notebook. copydetect fingerprints with Python's hash(),
    # which changes between processes: measured 0.94-1.0 over runs; independent pairs stay <= 0.35.
    assert pairs[0].score > 0.9, pairs


def test_the_archive_is_read_once_from_a_zip_or_a_folder(planted, tmp_path):
    tmp, paths, _, first = planted
    archive = tmp_path / "known.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(KNOWN.iterdir()):
            zf.write(path, f"collected/{path.name}")
    cache = tmp_path / "cache"
    runs = []
    for _ in range(2):
        out = tmp_path / f"out{len(runs)}"
        out.mkdir()
        runs.append(similarity.run(CNN, out, list(paths.values()), archive, cache=cache, quiet=True))
    cached = list(cache.glob("*.json.gz"))
    assert len(cached) == 1
    # The second run normalised and lexed nothing: every known file's form and tokens came from the cache.
    token_cache = similarity.TokenCache(cached[0], f"copydetect {__import__('copydetect').__version__}")
    assert len(token_cache.entries) == 2 * 3
    # Same scores from the zip as from the folder, and from the cache as without it.
    def scores(result):
        return [(p.kind, p.a, p.b.removeprefix("collected/"), round(p.score, 6)) for p in result.pairs]
    assert scores(runs[0]) == scores(runs[1]) == scores(first)


def test_cache_hits_on_the_second_run(tmp_path):
    codes = [similarity.Code(p.name, "known", similarity.file_code(p)) for p in sorted(KNOWN.iterdir())]
    lex_calls = []
    printer = similarity.Fingerprinter(similarity.settings(CNN), similarity.boilerplate(CNN))
    real = printer.lex

    def counting(text):
        lex_calls.append(1)
        return real(text)

    printer.lex = counting
    normalised = []
    real_normalise = printer.normalise
    printer.normalise = lambda text: normalised.append(1) or real_normalise(text)
    path = tmp_path / "c.json.gz"
    first = similarity.TokenCache(path, "lib")
    hashes = [printer.fingerprint(c, first).hashes for c in codes]
    first.save()
    # Each file's normalised form and its tokens: two entries a file.
    assert len(lex_calls) == len(normalised) == 3 and first.misses == 2 * 3
    second = similarity.TokenCache(path, "lib")
    again = [printer.fingerprint(c, second) for c in codes]
    assert len(lex_calls) == len(normalised) == 3 and second.hits == 2 * 3
    assert [fp.hashes for fp in again] == hashes
    # The cached form keeps where each line came from (for the side-by-side view).
    assert all(fp.origin and any(fp.origin) for fp in again)
    # Another library version does not trust the cache.
    assert similarity.TokenCache(path, "other").entries == {}
    path.write_bytes(b"not gzip")
    assert similarity.TokenCache(path, "lib").entries == {}


def test_csv_views_and_report_section(planted):
    _, _, out, result = planted
    with open(out / "similarity.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["a", "b", "score", "kind", "a_share", "b_share", "view"]
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True) and all(0 <= x <= 1 for x in scores)
    assert {r["kind"] for r in rows} == {"class", "known"}
    top = rows[0]
    page = (out / top["view"]).read_text()
    assert "similar, review by hand" in page and "cheat" not in page.lower()
    assert page.count("<mark>") >= 5
    assert "default-src 'none'" in page and "<script" not in page
    # Each side shows its own code.
    assert "as_pair" in page and "_two" in page
    listed = [r for r in rows if r["view"]]
    assert len(listed) == min(len(rows), result.settings.report_at_most)


def test_student_code_and_names_are_escaped_in_views(tmp_path):
    evil = '"""</pre><script>alert(1)</script>"""\n' + (FIXTURES / "bob.py").read_text()
    handout = (HANDOUT / "cnn_layers.py").read_text()
    a = tmp_path / "x<img src=y>.py"
    b = tmp_path / "plain.py"
    a.write_text(make_class.fill_module(handout, (FIXTURES / "bob.py").read_text()) + "\n# </pre><script>alert(2)</script>\n")
    b.write_text(make_class.fill_module(handout, evil.split('"""\n', 2)[-1]) + '\nS = "</pre><script>alert(3)</script>"\n')
    out = tmp_path / "out"
    out.mkdir()
    result = similarity.run(CNN, out, [a, b], None, quiet=True)
    page = (out / result.pairs[0].view).read_text()
    assert "<script" not in page and "<img" not in page
    # (Where matches begin and end varies between runs: copydetect hashes with Python's hash().)
    plain = page.replace("<mark>", "").replace("</mark>", "")
    assert "&lt;/pre&gt;&lt;script&gt;alert(2)" in plain and "&lt;/pre&gt;&lt;script&gt;alert(3)" in plain
    # Names are escaped too (the engine already makes file names safe; a view must not rely on it).
    import copydetect
    from copydetect import utils

    printer = similarity.Fingerprinter(similarity.settings(CNN), similarity.boilerplate(CNN))
    fps = [printer.fingerprint(similarity.Code(n, "class", p.read_text())) for n, p in (("<b>a</b>", a), ("b", b))]
    pair = similarity.Pair("<b>a</b>", "b", 1.0, "class", 1.0, 1.0)
    page = similarity.view_html(pair, *fps, "T<i>", copydetect.compare_files, utils.highlight_overlap)
    assert "<b>" not in page and "<i>" not in page and "&lt;b&gt;a&lt;/b&gt;" in page


def test_unreadable_and_oversized_files_are_skipped_with_the_reason(tmp_path):
    known = tmp_path / "known"
    shutil.copytree(KNOWN, known)
    (known / "broken.ipynb").write_text("{not json")
    (known / "huge.py").write_text("x = 1\n" * (similarity.MAX_CODE_BYTES // 6 + 10))
    (known / "deep.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    (known / "notes.txt").write_text("not code")
    codes, skipped = similarity.known_code(known)
    assert sorted(c.name for c in codes) == sorted(p.name for p in KNOWN.iterdir())
    reasons = dict(skipped)
    assert set(reasons) == {"broken.ipynb", "huge.py", "deep.ipynb"}
    assert "not a readable notebook" in reasons["broken.ipynb"] and "KB" in reasons["huge.py"]
    with pytest.raises(similarity.SimilarityError, match="neither a folder nor a .zip"):
        similarity.known_code(known / "notes.txt")
    with pytest.raises(similarity.SimilarityError, match="does not exist"):
        similarity.known_code(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(similarity.SimilarityError, match="no .py or .ipynb"):
        similarity.known_code(empty)


@pytest.mark.parametrize("table, message", [
    ({"review_from": 1.5}, "between 0 and 1"),
    ({"noise_threshold": 0}, "whole number >= 1"),
    ({"report_at_most": 2.5}, "whole number >= 1"),
    ({"noise_threshold": 60, "guarantee_threshold": 50}, "must be at least"),
    ({"review_at": 0.5}, "unknown settings"),
    ({"review_from": "high"}, "must be a number"),
])
def test_bad_similarity_settings_are_one_line_errors(table, message):
    broken = assignments.Assignment(**{**CNN.__dict__, "extra": {**CNN.extra, "similarity": table}})
    with pytest.raises(ConfigError, match=message) as info:
        similarity.settings(broken)
    assert "\n" not in str(info.value) and "[similarity]" in str(info.value)


def _cli(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env=env)


@pytest.mark.slow
def test_grade_with_similarity_then_similarity_on_the_output(tmp_path):
    import os

    paths = _build(tmp_path / "class")
    out = tmp_path / "out"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    done = _cli("grade", *paths.values(), "--out", out, "--jobs", "2", "--quiet", "--similarity", env=env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "similarity.csv", newline="")))
    assert (rows[0]["a"], rows[0]["b"]) == ("alice", "alice_copy")
    assert {r["kind"] for r in rows} == {"class"}  # no --known: no known pairs
    report = (out / "report.html").read_text()
    section = report[report.index('<section id="similarity"'):]
    section = section[: section.index("</section>")]
    assert 'href="_similarity/1.html"' in section and "review by hand" in section and "alice_copy" in section
    # Nothing reaches a student: their results and feedback never mention it.
    for name in paths:
        for file in ("results.json", "feedback.md"):
            text = (out / name / file).read_text().lower()
            assert "similar" not in text and "review by hand" not in text and "naive_layers" not in text
    # Later, with the archive, on the same output (the files are read from where they were graded).
    (out / "similarity.csv").unlink()
    done = _cli("similarity", out, "--known", KNOWN, env=env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "similarity.csv", newline="")))
    assert {(r["kind"], r["a"], r["b"]) for r in rows[:2]} == PLANTED
    assert list((tmp_path / "xdg").rglob("*.json.gz")), "the archive's tokens are cached"
    assert 'href="_similarity/2.html"' in (out / "report.html").read_text()
    # Errors are one line with exit code 2.
    for args, phrase in [((out, "--known", tmp_path / "nope"), "does not exist"),
                         ((tmp_path / "class",), "holds no graded submissions")]:
        done = _cli("similarity", *args, env=env)
        assert done.returncode == 2 and phrase in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    shutil.rmtree(tmp_path / "class")
    done = _cli("similarity", out, env=env)
    assert done.returncode == 2 and "pass the submissions again" in done.stderr


# -- obfuscated copies (issue 16) -------------------------------------------------------------------
#
# Every independent implementation the kit holds (the class's students, erin's adaptation of a known
# solution, the reference) is copied through obfuscate.py's mechanical edits, which keep what the code
# computes (bench/obfuscation.py checks that, and measures the scores). Each copy must score at least
# review_from against its source and above every independent pair.

INDEPENDENT = ("alice", "bob", "carol", "dave", "erin", "reference")
EDITS = {**{name: (name,) for name in obfuscate.TRANSFORMS}, **obfuscate.COMBINATIONS}


def _protected() -> set[str]:
    """What a copy must keep to earn its points: the handout's names and its classes' method names."""
    names = normalise.entry_points(similarity.boilerplate(CNN))
    return names | {name.split(".")[-1] for name in names}


@pytest.fixture(scope="module")
def independent():
    """(fingerprinter, {name: code}, {name: fingerprint}, highest independent pair score)."""
    handout = (HANDOUT / "cnn_layers.py").read_text()
    codes = {n: make_class.fill_module(handout, (FIXTURES / f"{n}.py").read_text()) for n in INDEPENDENT[:-1]}
    codes["reference"] = (ROOT / "solutions" / "cnn" / "cnn_layers.py").read_text()
    s = similarity.settings(CNN)
    known = [similarity.Code(p.name, "known", similarity.file_code(p)) for p in sorted(KNOWN.iterdir())]
    pairs, _, skipped = similarity.compare([similarity.Code(n, "class", t) for n, t in codes.items()], known,
                                           similarity.boilerplate(CNN), s)
    assert not skipped
    # erin adapted known/naive_layers.py: the one pair of them that is not independent.
    top = max(p.score for p in pairs if (p.a, p.b) != ("erin", "naive_layers.py"))
    printer = similarity.Fingerprinter(s, similarity.boilerplate(CNN))
    return printer, codes, {n: printer.fingerprint(similarity.Code(n, "class", t)) for n, t in codes.items()}, top


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_obfuscated_copy_scores_for_review_and_above_every_independent_pair(independent, edit):
    import copydetect

    printer, codes, prints, top = independent
    review_from = similarity.settings(CNN).review_from
    for name in INDEPENDENT:
        copy = obfuscate.obfuscate(codes[name], EDITS[edit], _protected(), seed=len(name))
        assert copy != codes[name]
        fp = printer.fingerprint(similarity.Code(f"{name}_copy", "class", copy))
        assert fp.origin is not None  # compared normalised, not as written
        _, shares, _ = copydetect.compare_files(fp, prints[name])
        score = max(shares)
        assert score >= review_from and score > top, (edit, name, score, top)


def test_an_obfuscated_copy_of_a_known_solution_is_listed_first(tmp_path):
    """The reference as last year's solution in the archive; a student hands in a copy edited every way."""
    (tmp_path / "archive").mkdir()
    shutil.copyfile(ROOT / "solutions" / "cnn" / "cnn_layers.py", tmp_path / "archive" / "last_year.py")
    for path in KNOWN.iterdir():
        shutil.copyfile(path, tmp_path / "archive" / path.name)
    paths = _build(tmp_path / "class")
    del paths["reference"], paths["alice_copy"], paths["untouched"]
    copied = tmp_path / "class" / "frank.py"
    copied.write_text(obfuscate.obfuscate((ROOT / "solutions" / "cnn" / "cnn_layers.py").read_text(),
                                          EDITS["all"], _protected(), seed=3))
    out = tmp_path / "out"
    out.mkdir()
    result = similarity.run(CNN, out, [*paths.values(), copied], tmp_path / "archive", cache=tmp_path / "cache",
                            quiet=True)
    first = result.pairs[0]
    assert (first.kind, first.a, first.b) == ("known", "frank", "last_year.py"), result.pairs[:3]
    others = [p for p in result.pairs[1:] if (p.a, p.b) != ("erin", "naive_layers.py")]
    assert first.score >= result.settings.review_from and first.score > max(p.score for p in others)
    # The view shows frank's code as written (comments and dead code too), the matched lines marked.
    page = (out / first.view).read_text()
    assert "unused_" in page and "# " in page and page.count("<mark>") >= 20
    marked = "".join(re.findall(r"<mark>(.*?)</mark>", page, re.S))
    assert "def conv2d_forward" in marked and "unused_" not in marked


PLAIN = '''import numpy as np
def f(x, y):
    a = np.sum(x)
    b = np.max(y)
    out = []
    for i in range(3):
        out.append(a * i + b)
    return out
class Layer:
    def forward(self, x):
        return f(x, x)
'''

EDITED = '''import numpy as np
import os
def unused_helper(z):
    return z + 1
class Layer:
    def forward(self, x):
        """Rewritten."""
        result = f(x, x)
        pass
        return result
        print('never')
def f(x, y):
    b = np.max(y)
    b = b
    ignored = b * 2
    a = np.sum(x)
    if False:
        a = 0
    return [a * i + b for i in range(3)]
'''


def test_normalised_forms():
    entries = {"f", "Layer", "Layer.forward"}
    a, b = normalise.normalise(PLAIN, entries), normalise.normalise(EDITED, entries)
    assert a.text == b.text
    assert "unused_helper" not in b.text and "os" not in b.text and "never" not in b.text
    # Dependent statements keep their order, and the form still computes the same.
    chain = "def f(x, y):\n    x = x + 1\n    x = x * 2\n    y.append(x)\n    return y\n"
    form = normalise.normalise(chain, {"f"}).text
    assert form.index("x += 1") < form.index("x *= 2") < form.index("y.append")
    namespace = {}
    exec(form, namespace)
    assert namespace["f"](3, []) == [8]
    # Each line of the form names the lines of the code as written that it stands for: here the
    # return (line 19) with the two temporaries inlined into it (lines 13 and 16).
    lines = dict(zip(b.text.splitlines(), b.origin))
    assert lines["    return [np.sum(x) * i + np.max(y) for i in range(3)]"] == (13, 16, 19)
    # Code that cannot be had within the bounds has no form: it is compared as written.
    assert normalise.normalise("def f(:\n") is None
    assert normalise.normalise("x = " + "+".join(["a"] * 100_000)) is None
    assert normalise.normalise("x = 1\n" * (normalise.MAX_NODES // 3 + 1)) is None


def test_a_file_that_does_not_parse_is_compared_as_written(tmp_path):
    handout = (HANDOUT / "cnn_layers.py").read_text()
    alice = make_class.fill_module(handout, (FIXTURES / "alice.py").read_text())
    broken = alice + "\ndef unfinished(:\n    pass\n"
    paths = {}
    for name, text in {"alice": alice, "broken": broken, "broken_copy": broken.replace("result", "res"),
                       "bob": make_class.fill_module(handout, (FIXTURES / "bob.py").read_text())}.items():
        paths[name] = tmp_path / f"{name}.py"
        paths[name].write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    result = similarity.run(CNN, out, list(paths.values()), None, quiet=True)
    scores = {(p.a, p.b): p.score for p in result.pairs}
    assert result.compared == 4 and not result.skipped
    # Two unparsable files compare as before normalisation; one against a parsed file still scores.
    assert scores[("broken", "broken_copy")] > 0.9
    assert scores[("alice", "broken")] > max(score for pair, score in scores.items() if "bob" in pair)
    pair = next(p for p in result.pairs if {p.a, p.b} == {"broken", "broken_copy"})  # not pairs[0]: ties
    page = (out / pair.view).read_text()
    import re as _re

    # The code as written (marks may cut a line where a matched region ends), with matches marked.
    assert "def unfinished(:" in _re.sub(r"</?mark>", "", page) and "<mark>" in page


@pytest.mark.slow
def test_grade_with_similarity_on_part_of_a_class_covers_the_whole_gradebook(tmp_path):
    import os

    paths = _build(tmp_path / "class")
    out = tmp_path / "out"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    done = _cli("grade", paths["alice"], paths["bob"], "--out", out, "--quiet", "--similarity", env=env)
    assert done.returncode == 0, done.stderr
    # A later run grades one more student: the pairs are everyone's, not that run's alone.
    done = _cli("grade", paths["alice_copy"], "--out", out, "--quiet", "--similarity", env=env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "similarity.csv", newline="")))
    assert {frozenset((r["a"], r["b"])) for r in rows} == {
        frozenset(p) for p in (("alice", "alice_copy"), ("alice", "bob"), ("bob", "alice_copy"))}
    assert {rows[0]["a"], rows[0]["b"]} == {"alice", "alice_copy"}
    # A student whose file is gone is still accounted for: listed as not compared, with what to do.
    paths["bob"].unlink()
    done = _cli("grade", paths["carol"], "--out", out, "--quiet", "--similarity", env=env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "similarity.csv", newline="")))
    assert {n for r in rows for n in (r["a"], r["b"])} == {"alice", "alice_copy", "carol"}
    section = (out / "report.html").read_text().split('<section id="similarity"', 1)[1].split("</section>", 1)[0]
    assert "1 not compared" in section and "bob: not compared: the file it was graded from is gone" in section
    # `similarity OUT` with bob's file given again covers all four.
    (tmp_path / "again").mkdir()
    bob_again = tmp_path / "again" / "bob.py"
    bob_again.write_text(make_class.fill_module((HANDOUT / "cnn_layers.py").read_text(),
                                                (FIXTURES / "bob.py").read_text()))
    done = _cli("similarity", out, bob_again, env=env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "similarity.csv", newline="")))
    assert len(rows) == 6 and {n for r in rows for n in (r["a"], r["b"])} == {"alice", "alice_copy", "bob", "carol"}


def test_names_a_collision_gave_are_read_again_and_a_surrogate_stops_nothing(tmp_path, capsys):
    """Red team (issue 25): after honest.py and honest!.py were graded as honest_<hash>, a later
    `similarity OUT` found neither; a lone surrogate in a notebook cell made similarity raise."""
    import json as _json

    from autograder.engine.submission import unique_names

    subs = tmp_path / "subs"
    subs.mkdir()
    files = [subs / "honest.py", subs / "honest!.py"]
    for f in files:
        f.write_text(REFERENCE.read_text())
    out = tmp_path / "out"
    for path, name in unique_names(files).items():
        (out / name).mkdir(parents=True)
        (out / name / "grade.json").write_text(_json.dumps({"origin": str(path)}))
        assert similarity._origin(out, name) == path
    notebook = tmp_path / "odd.ipynb"
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": REFERENCE.read_text() + "\nx = '\ud800'\n"}
    notebook.write_text(_json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))
    codes, skipped = similarity.class_code(CNN, [notebook, files[0]])
    assert len(codes) == 2 and not skipped
    assert "\ud800" not in codes[0].text
