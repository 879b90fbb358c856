"""The class report: written by `grade`, self-contained, escaped, and rendered by a real browser."""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest

from autograder import assignment as assignments
from autograder import build
from autograder.engine.kinds import State, TestKind
from autograder.engine.results import Grade
from autograder.integrations import classreport

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)
SOLUTION = ROOT / "solutions" / "cnn"
EXAMPLES = build.examples(CNN)
SECTIONS = ("summary", "scores", "questions", "mistakes", "timeouts", "crashes", "banned", "tampering", "isolation",
            "similarity", "tests")
try:
    import copydetect  # noqa: F401 - the similarity extra, for instructors
    SIMILARITY = ("--similarity",)
except ImportError:
    SIMILARITY = ()


def _torch_and_exit(reference: str) -> str:
    """The reference with a (refused) torch import at the top and os._exit(0) in maxpool_forward.

    It exits only for stride 1, so a handful of tests kill their worker rather than every
    pooling test (each restart costs time).
    """
    head = "def maxpool_forward(x, pool_size=2, stride=None):\n"
    assert head in reference
    body = reference.replace(head, head + "    if stride == 1:\n        import os\n        os._exit(0)\n", 1)
    return "try:\n    import torch\nexcept ImportError:\n    torch = None\n" + body


@pytest.fixture(scope="module")
def graded(tmp_path_factory, starts_workers):
    """A small batch graded by the CLI, which writes report.html after it."""
    tmp = tmp_path_factory.mktemp("classreport")
    subs = tmp / "subs"
    subs.mkdir()
    shutil.copyfile(SOLUTION / "cnn_layers.py", subs / "reference.py")
    for name in ("flipped_kernel.py", "syntax_error.py"):
        shutil.copyfile(EXAMPLES / name, subs / name)
    (subs / "torch_and_exit.py").write_text(_torch_and_exit((SOLUTION / "cnn_layers.py").read_text()))
    out = tmp / "out"
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *sorted(subs.iterdir()), "--out", out, "--jobs", "2", "--quiet", *SIMILARITY],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    grades = {p.parent.name: Grade.from_dict(json.loads(p.read_text())) for p in out.glob("*/grade.json")}
    assert set(grades) == {"reference", "flipped_kernel", "syntax_error", "torch_and_exit"}
    return out, grades


def _sections(text: str) -> dict[str, str]:
    """id -> the HTML of that section (up to the next one)."""
    marks = [(m.start(), m.group(1)) for m in re.finditer(r'<(?:section|header) id="([a-z]+)"', text)]
    return {key: text[start:(marks[i + 1][0] if i + 1 < len(marks) else len(text))] for i, (start, key) in enumerate(marks)}


def _assert_self_contained(text: str) -> None:
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), "the report refers to another site"
    assert "<link" not in text and "@import" not in text and "url(" not in text
    assert "<iframe" not in text and "<object" not in text and "<embed" not in text
    for tag in re.findall(r"<(?:img|script|source|video|audio)\b[^>]*>", text):
        src = re.search(r'\bsrc="([^"]*)"', tag)
        assert src is None or src.group(1).startswith("data:image/png;base64,"), tag[:120]
    for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', text):
        assert base64.b64decode(uri).startswith(b"\x89PNG\r\n\x1a\n")
    # Charts are inline SVG that refer to nothing and embed no HTML.
    for svg in re.findall(r"<svg\b.*?</svg>", text, re.S):
        assert "href" not in svg and "<image" not in svg and "<foreignObject" not in svg, svg[:120]
    # Nothing may be fetched from anywhere, even if a student string slipped through unescaped.
    assert "default-src 'none'" in text


@pytest.mark.slow
def test_grade_writes_a_self_contained_report_with_every_section(graded):
    out, grades = graded
    text = (out / "report.html").read_text(encoding="utf-8")
    _assert_self_contained(text)
    assert text.count("<svg ") == 2 and "<img" not in text  # the histogram and the pass rates, drawn inline
    sections = _sections(text)
    assert set(SECTIONS) <= set(sections), sorted(sections)
    assert CNN.title in sections["summary"]
    assert re.search(r'<div class="v">4</div><div class="k">submissions</div>', sections["summary"])
    scores = sorted(g.score for g in grades.values())
    mean = sum(scores) / 4
    assert f'<div class="v">{mean:.1f}</div><div class="k">mean</div>' in sections["summary"]
    assert "median" in sections["summary"]
    # Every question, and every test with its pass count.
    for q in CNN.questions:
        assert f"<code>{q.item}</code>" in sections["questions"]
    n_tests = len(grades["reference"].tests)
    assert sections["tests"].count("</tr>") == n_tests + 1
    # The flipped kernel is named as a mistake.
    assert "you flip the kernel" in sections["mistakes"] and "flipped_kernel" in sections["mistakes"]
    # Who belongs in which list.
    assert "syntax_error" in sections["crashes"] and "torch_and_exit" in sections["crashes"]
    assert "reference" not in sections["crashes"] and "flipped_kernel" not in sections["crashes"]
    assert "torch_and_exit" in sections["banned"] and "imports torch" in sections["banned"]
    assert "syntax_error" not in sections["banned"]
    assert "torch_and_exit" in sections["tampering"] and "exits the process" in sections["tampering"]
    assert "No submission hit a time limit." in sections["timeouts"]
    if all(g.isolation_level == "namespace" for g in grades.values()):
        assert "Every submission ran in the namespace sandbox." in sections["isolation"]
    else:
        assert "ran with:" in sections["isolation"]


@pytest.mark.slow
def test_pass_rates_follow_the_questions_and_count_every_submission(graded):
    _, grades = graded
    rows = classreport.pass_rates(list(grades.values()), CNN)
    order = [q.item for q in CNN.questions]
    assert [order.index(r["item"]) for r in rows] == sorted(order.index(r["item"]) for r in rows)
    assert len(rows) == len(grades["reference"].tests)
    assert all(r["total"] == 4 for r in rows)
    # syntax_error passes nothing; the reference passes everything.
    assert all(1 <= r["passed"] <= 3 for r in rows)


def _grade(name: str, score: float = 100.0, **changes) -> Grade:
    grade = Grade(name=name, origin=f"{name}.py", score=score, max_score=100.0, seed=1,
                  isolation_level="namespace",
                  by_item={q.item: q.points * score / 100 for q in CNN.questions})
    for key, value in changes.items():
        setattr(grade, key, value)
    return grade


@pytest.mark.slow
def test_student_strings_are_escaped_and_lists_catch_timeouts_and_weak_isolation(graded, tmp_path):
    _, grades = graded
    evil = copy.deepcopy(grades["flipped_kernel"])
    evil.name = '<script>alert("name")</script>'
    next(t for t in evil.tests if t.passed).kind = TestKind.TIMEOUT  # its status: 'graded; 1 test(s) timeout'
    failed = next(t for t in evil.tests if t.status != "passed" and t.kind == "fail")
    failed.mistake_phrase = '<img src=x onerror=alert(1)> & "quote"'  # the phrase travels as data
    failed.output += f" It matches what you get if you {failed.mistake_phrase}."
    slow = copy.deepcopy(grades["reference"])
    slow.name = "slow & steady"
    for t in slow.tests[:2]:
        t.kind, t.output = TestKind.TIMEOUT, "the test took longer than 5 s"
    weak = _grade("weak<iso>", isolation_warnings=["<b>careful</b>"], isolation_level="none")
    spoofed = _grade("spoof", reason="cnn_layers.py could not be loaded: <script>x</script>", score=0.0,
                     state=State.NOT_LOADED)
    path = classreport.write_report(tmp_path, [evil, slow, weak, spoofed], CNN)
    text = path.read_text(encoding="utf-8")
    _assert_self_contained(text)
    assert text.count("<script") == 1  # only the report's own
    assert "<img src=x" not in text and "<b>careful</b>" not in text and "weak<iso>" not in text
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in text
    assert "you &lt;img src=x onerror=alert(1)&gt; &amp; &#34;quote&#34;" in text
    sections = _sections(text)
    assert "slow &amp; steady" in sections["timeouts"] and "2 test(s) hit the time limit" in sections["timeouts"]
    assert "weak&lt;iso&gt;" in sections["isolation"] and "&lt;b&gt;careful&lt;/b&gt;" in sections["isolation"]
    assert "spoof" in sections["crashes"] and "&lt;script&gt;x&lt;/script&gt;" in sections["crashes"]
    # Links to each submission's feedback are relative and quoted.
    assert 'href="slow%20%26%20steady/feedback.md"' in text


def test_control_characters_of_students_are_shown_as_escapes(tmp_path):
    """Autoescape stops markup; the pages' finalize (engine/text.py's inert) also stops what
    reorders or hides text around it: a right-to-left override, a terminal escape, a NUL."""
    spoofed = _grade("ann\u202eexe.py", reason="could not be loaded: \x1b[2K\x00boom", score=0.0, state=State.NOT_LOADED)
    text = classreport.write_report(tmp_path, [spoofed, _grade("bob")], CNN).read_text(encoding="utf-8")
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)
    crashes = _sections(text)["crashes"]
    assert "ann\\u202eexe.py" in crashes and "\\x1b[2K\\x00boom" in crashes


@pytest.mark.slow
def test_no_submissions_and_one_submission(tmp_path, graded):
    _, grades = graded
    text = classreport.write_report(tmp_path / "none", [], CNN).read_text(encoding="utf-8")
    _assert_self_contained(text)
    assert "No submissions were graded" in text and "<svg" not in text
    assert re.search(r'<div class="v">0</div><div class="k">submissions</div>', text)
    text = classreport.write_report(tmp_path / "one", [grades["flipped_kernel"]], CNN).read_text(encoding="utf-8")
    _assert_self_contained(text)
    assert text.count("<svg ") == 2
    score = grades["flipped_kernel"].score
    assert f'<div class="v">{score:.1f}</div><div class="k">mean</div>' in text
    # A grade that never ran a test (a grader error) still reports.
    broken = _grade("broken", score=0.0, reason="grader error: RuntimeError: boom", state=State.GRADER_ERROR, by_item={})
    text = classreport.write_report(tmp_path / "broken", [broken], CNN).read_text(encoding="utf-8")
    assert "grader error: RuntimeError: boom" in _sections(text)["crashes"]


def test_charts_count_like_numpy_and_colour_filters_around_zero():
    """The histogram bins as numpy.histogram does (the last bin closed); the filters' scale is
    blue below zero, white at zero and red above, its ends at the largest magnitude."""
    import numpy as np

    rng = np.random.default_rng(0)
    values = [*rng.uniform(0, 100, 200).round(1), 0.0, 5.0, 100.0, 99.99, 50.0]
    edges = [100 * i / 20 for i in range(21)]
    assert classreport._counts(values, edges) == np.histogram(values, bins=edges)[0].tolist()
    chart = classreport.score_histogram([0.0, 100.0, 100.0, 42.0], 100.0)
    assert [b["title"].split()[0] for b in chart["bars"]] == ["1", "1", "2"]
    assert [t["label"] for t in chart["x_ticks"]] == [str(10 * i) for i in range(11)]
    assert [t["label"] for t in chart["y_ticks"]] == ["0", "1", "2"]  # whole submissions
    assert chart["bars"][-1]["height"] > chart["bars"][0]["height"] > 0
    assert classreport.ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    filters = classreport.images_chart([[[-2.0, 0.0], [1.0, 2.0]], [[0.5, -0.5], [0.0, 0.0]]])
    first = [c["fill"] for c in filters["images"][0]["cells"]]
    assert first[0] == "#053061" and first[1] == "#f7f7f7" and first[3] == "#67001f"
    red, green, blue = (int(first[2][i:i + 2], 16) for i in (1, 3, 5))
    assert red > blue and red > green  # +1 of a scale to 2: a light red
    assert len(filters["images"]) == 2 and len(filters["images"][1]["cells"]) == 4


@pytest.mark.slow
def test_one_submission_gets_a_report_only_when_asked(tmp_path):
    def grade(out: Path, *flags: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "autograder", "grade", str(EXAMPLES / "missing_bias.py"),
             "--out", str(out), *flags], capture_output=True, text=True, cwd=ROOT, timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert (out / "missing_bias" / "results.json").is_file() and (out / "grades.csv").is_file()
        return result

    plain = grade(tmp_path / "plain")
    assert not (tmp_path / "plain" / "report.html").exists()
    assert "class report" not in plain.stdout and "missing_bias" in plain.stdout
    asked = grade(tmp_path / "asked", "--report")
    assert "class report" in asked.stdout
    _assert_self_contained((tmp_path / "asked" / "report.html").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_four_hundred_submissions_fit_in_one_page_and_need_no_matplotlib(graded, tmp_path):
    out, _ = graded
    script = f"""
import json, sys
from pathlib import Path
from autograder import assignment as assignments
from autograder.engine.kinds import State, TestKind
from autograder.engine.results import Grade
from autograder.integrations import classreport
a = assignments.load("cnn", Path({str(ROOT)!r}))
base = [json.loads(p.read_text()) for p in sorted(Path({str(out)!r}).glob("*/grade.json"))]
grades = [Grade.from_dict({{**base[i % len(base)], "name": f"student{{i:03d}}"}}) for i in range(400)]
classreport.write_report(Path({str(tmp_path)!r}), grades, a)
print(json.dumps({{"matplotlib": "matplotlib" in sys.modules}}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    # Its charts are SVG the browser draws: grading installs no matplotlib.
    assert not measured["matplotlib"], "the report imported matplotlib"
    # What it costs is measured side by side with a grading in bench/classreport.py.
    assert (tmp_path / "report.html").stat().st_size < 3_000_000


# -- in a real browser -------------------------------------------------------------

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    binary = _chromium()
    if binary is None:
        pytest.skip("chromium not found: install Debian's chromium (apt-get install -y chromium) for the browser check")
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.mark.slow
def test_report_renders_in_a_headless_browser(graded, tmp_path):
    out, grades = graded
    url = (out / "report.html").resolve().as_uri()
    dom = _browser(tmp_path, "--dump-dom", url).stdout
    assert 'data-images-loaded="all"' in dom, dom[:500]
    for key in SECTIONS:
        assert f'id="{key}"' in dom
    for name in grades:
        assert name in dom
    if SIMILARITY:
        # The similarity section lists the near-identical pair (the reference and one wrong
        # variant of it) with a link to its side-by-side view, which renders with matches marked.
        section = dom[dom.index('id="similarity"'):]
        section = section[: section.index("</section>")]
        links = re.findall(r'href="(_similarity/\d+\.html)"', section)
        assert links and "review by hand" in section, section[:800]
        view = _browser(tmp_path, "--dump-dom", (out / links[0]).resolve().as_uri()).stdout
        assert view.count("<mark>") > 3 and "similar, review by hand" in view
        # Which pair is first depends on ties: every wrong variant here is the reference plus a
        # line or two, and normalised copies score alike. The view names its two submissions.
        assert sum(f"{name}" in view for name in grades) >= 2, [n for n in grades if n in view]
    shot = tmp_path / "report.png"
    _browser(tmp_path, f"--screenshot={shot}", "--window-size=1200,2400", url)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 50_000, len(data)
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2400, 1200)
    # Not one colour: many distinct pixel values in a sample.
    rgb = (pixels[..., :3] * 255).astype("uint8").reshape(-1, 3)
    assert len({tuple(p) for p in rgb[::97]}) > 20
    # Ink on most of the page (text, figures, tables), not a blank page with a title.
    dark_rows = int(((pixels[..., :3].min(axis=2) < 0.6).sum(axis=1) > 5).sum())
    assert dark_rows > 600, dark_rows


def test_submissions_without_a_cgroup_of_their_own_are_named(tmp_path):
    """Never degrade silently: a grade whose limits held only per process (no cgroups, as on
    Gradescope) is named in the isolation section, with the limits that were loose; grades
    capped per submission, or with no record of their caps (a grader error), are not."""
    def caps(scopes):
        return {limit: {"scope": scope, "how": f"{limit} held per {scope}"} for limit, scope in scopes.items()}

    capped = {"memory": "submission", "processes": "submission", "cpu": "submission", "disk": "worker"}
    full = _grade("full", caps=caps(capped))
    loose = _grade("loose", caps=caps({**capped, "memory": "process", "processes": "uid", "cpu": "none"}))
    unknown = _grade("unknown", caps={})
    text = classreport.write_report(tmp_path / "mixed", [full, loose, unknown], CNN).read_text(encoding="utf-8")
    section = _sections(text)["isolation"]
    assert "<strong>1 submission(s)</strong> ran without a cgroup of its own for memory, processes, cpu" in section
    assert "loose" in section and ">full<" not in section and ">unknown<" not in section
    text = classreport.write_report(tmp_path / "capped", [full, unknown], CNN).read_text(encoding="utf-8")
    assert "without a cgroup" not in _sections(text)["isolation"]


def test_a_grade_records_how_far_each_limit_reaches():
    """The scopes are data (kinds.Scope values) beside the sentences people read."""
    from autograder.engine.caps import SubmissionCaps
    from autograder.engine.kinds import Scope

    caps = SubmissionCaps(256, 8)
    try:
        assert set(caps.scopes) == set(caps.levels) == {"memory", "processes", "cpu"}
        for limit, scope in caps.scopes.items():
            assert isinstance(scope, Scope)
            # The sentence says the same as the scope.
            assert (scope == Scope.SUBMISSION) == ("per submission" in caps.levels[limit]), (limit, caps.levels)
    finally:
        caps.remove()
