"""Text a submission chose is inert wherever an instructor or a student reads it (issues 16 and 25).

Unit tests of engine/text.py, then one batch through the real command line,
where one submission fails to load with an exception message built to move
the terminal's cursor, overwrite its classmate's row and add a fake one, and
another raises and prints the same inside a call. Neither may reach the
terminal, grades.csv, feedback.md, JUnit or the step summary raw, and the
honest classmate's row is its own.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograder.engine import wire
from autograder.engine.report import csv_cell
from autograder.engine.text import inert, md_block, md_code

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
# Cursor up, erase the line, carriage return, a fake row; an OSC title; a right-to-left override;
# NUL; a lone surrogate; and Markdown/HTML that would render.
NASTY = ("\x1b[1A\x1b[2K\rhonest   0  graded\n\x1b]0;pwned\x07\u202etxt.exe\x00\udcff"
         "\n# Fake heading\n![x](http://example.invalid/x.png)\n<img src=x onerror=alert(1)>")
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def test_inert_escapes_controls_keeps_text_and_is_idempotent():
    assert inert("plain text, ünïcode, 中文\tand\nlines") == "plain text, ünïcode, 中文\tand\nlines"
    assert inert("a\x1b[2Kb\rc\x00d\x7fe\x9bf") == "a\\x1b[2Kb\\rc\\x00d\\x7fe\\x9bf"
    assert inert("\u202eabc\u2066") == "\\u202eabc\\u2066"
    assert inert("x\udcffy") == "x\\udcffy"
    assert inert("a\tb\nc", one_line=True) == "a\\tb\\nc"
    once = inert(NASTY)
    assert not RAW.search(once) and inert(once) == once
    assert once.encode("utf-8")  # a lone surrogate no longer makes a writer raise
    assert inert(ValueError("x\x1by")) == "x\\x1by"


def test_wire_cleans_student_strings_and_class_names_as_they_enter():
    assert wire.clean(NASTY) == inert(NASTY)
    blob = wire.decode({"t": "str", "v": "a\x1b[2Kb"}, [])
    assert blob == "a\\x1b[2Kb"


def test_markdown_helpers_render_nothing_of_the_student():
    span = md_code("`` ![x](y) `code` # h")
    assert span.startswith("```") and span.endswith("```") and "\n" not in span
    block = md_block("```\n# heading\n````\nend")
    fence = block[0][: len(block[0]) - len("text")]
    assert set(fence) == {"`"} and len(fence) >= 5 and block[-1] == fence
    assert not any(line.startswith(fence) for line in block[1:-1])


def test_csv_cells_are_one_line_and_no_formula():
    assert csv_cell("ok\r\n=1+1\x1b") == "ok\\r\\n=1+1\\x1b"
    assert csv_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert csv_cell(-3.5) == "-3.5"


# -- one batch through the command line ------------------------------------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory, starts_workers):
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap (bwrap) is not installed")
    tmp = tmp_path_factory.mktemp("inert")
    subs = tmp / "subs"
    subs.mkdir()
    reference = REFERENCE.read_text(encoding="utf-8")
    (subs / "honest.py").write_text(reference, encoding="utf-8")
    (subs / "loud.py").write_text(reference + f"\nraise RuntimeError({NASTY!r})\n", encoding="utf-8")
    (subs / "calls.py").write_text(reference + f'''

def conv2d_forward(x, w, b, stride=1, padding=0):
    print({NASTY!r}, flush=True)
    raise RuntimeError({NASTY!r})
''', encoding="utf-8")
    out, summary, junit = tmp / "out", tmp / "summary.md", tmp / "results.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "PYTEST_"))}
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    done = subprocess.run([sys.executable, "-I", "-m", "autograder", "grade", *(str(subs / f"{n}.py") for n in
                           ("honest", "loud", "calls")), "--out", str(out), "--junit", str(junit), "--no-report"],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return {"tmp": tmp, "out": out, "summary": summary, "junit": junit, "done": done}


def _outside_fences(markdown: str) -> list[str]:
    """The lines of `markdown` that are not inside a fenced block (CommonMark's rule for ``` fences)."""
    fence, outside = None, []
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
        elif fence is not None and stripped.startswith(fence) and set(stripped) == {"`"}:
            fence = None
        elif fence is None:
            outside.append(line)
    return outside


def _rows(out: Path) -> dict:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return {row["name"]: row for row in csv.DictReader(f)}


@pytest.mark.slow
def test_the_terminal_gets_no_control_character(graded):
    printed = graded["done"].stdout + graded["done"].stderr
    assert not RAW.search(printed), [m.group() for m in RAW.finditer(printed)][:5]
    table = [line for line in graded["done"].stdout.splitlines() if line.startswith(("honest", "loud", "calls"))]
    assert [line.split()[0] for line in table] == ["honest", "loud", "calls"], table  # no fake row
    assert table[0].split()[1] == "100"


@pytest.mark.slow
def test_files_hold_the_text_escaped_and_the_classmate_is_untouched(graded):
    out = graded["out"]
    rows = _rows(out)
    assert rows["honest"]["total"] == "100" and rows["honest"]["status"] == "graded" and not rows["honest"]["flags"]
    assert "\\x1b[1A" in rows["loud"]["status"]  # the message is shown, as an escape
    for name in ("honest", "loud", "calls"):
        for path in (out / "grades.csv", out / name / "feedback.md", out / name / "grade.json"):
            text = path.read_text(encoding="utf-8")
            assert not RAW.search(text), (path, [m.group() for m in RAW.finditer(text)][:5])
    for name in ("loud", "calls"):
        feedback = (out / name / "feedback.md").read_text(encoding="utf-8")
        outside = _outside_fences(feedback)
        assert not [line for line in outside if line.startswith("# Fake")], feedback
        assert not [line for line in outside if "![x]" in line and "`" not in line], feedback
        assert not [line for line in outside if "<img" in line and "`" not in line], feedback
    calls = json.loads((out / "calls" / "grade.json").read_text(encoding="utf-8"))
    assert "\\x1b" in calls["printed"]


@pytest.mark.slow
def test_junit_and_step_summary_hold_no_raw_student_text(graded):
    tree = ET.parse(graded["junit"])  # parses: no character XML cannot hold
    text = ET.tostring(tree.getroot(), encoding="unicode")
    assert not RAW.search(text)
    summary = graded["summary"].read_text(encoding="utf-8")
    assert not RAW.search(summary)
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == rows[0].count(" | ") for line in rows), rows  # no cell broke the table
    loud = next(line for line in rows if "loud" in line)
    status = loud.rstrip(" |").rsplit(" | ", 1)[1]
    # The student's text sits whole in one code span, where GitHub renders no HTML or image.
    fence = status[: len(status) - len(status.lstrip("`"))]
    assert fence and status.endswith(fence) and fence not in status[len(fence):-len(fence)], status
    assert "<img" in status and "![x]" in status
