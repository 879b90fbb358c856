"""JUnit XML and a GitHub Actions step summary of a batch.

JUnit: one <testsuite> per submission, one <testcase> per test (classname
"<submission>.<item>"), a <failure> with the test's feedback for a failed
test, and the points in <properties> (score, max_score) on every testcase,
the way pytest's record_property writes them. A submission the grader could
not grade at all (no tests ran) gets one <testcase name="grading"> with an
<error>. CI systems (GitHub, GitLab, Jenkins) read this shape.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..engine.report import flags
from ..engine.text import inert, md_code

# Characters XML 1.0 cannot hold; student output can contain them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MESSAGE_CHARS = 500


def _xml(text) -> str:
    # Control characters as visible escapes first; what XML still cannot hold (U+FFFE) is replaced.
    return _NOT_XML.sub("\ufffd", inert(text))


def _message(text: str) -> str:
    line = " ".join(_xml(text).split())
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 3] + "..."


def _properties(parent: ET.Element, values: dict) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(props, "property", name=name, value=_xml(value))


def _number(x: float) -> str:
    return f"{x:.12g}"


def junit_tree(grades, assignment) -> ET.ElementTree:
    root = ET.Element("testsuites", name=_xml(assignment.title))
    totals = {"tests": 0, "failures": 0, "errors": 0, "time": 0.0}
    for g in grades:
        failures = sum(1 for t in g.tests if t.status != "passed")
        errors = 0 if g.tests else 1
        tests = len(g.tests) or 1
        suite = ET.SubElement(
            root, "testsuite", name=_xml(g.name), tests=str(tests), failures=str(failures),
            errors=str(errors), skipped="0", time=f"{g.execution_time:.3f}",
        )
        _properties(suite, {
            "score": _number(g.score), "max_score": _number(g.max_score), "status": g.status,
            "seed": g.seed, "isolation": g.isolation, "flags": "; ".join(flags(g)),
        })
        for t in g.tests:
            case = ET.SubElement(
                suite, "testcase", classname=_xml(f"{g.name}.{t.item}"), name=_xml(t.name), time=f"{t.duration:.3f}",
            )
            _properties(case, {
                "score": _number(t.score), "max_score": _number(t.max_score),
                "visibility": t.visibility, "number": t.number,
            })
            if t.status != "passed":
                failure = ET.SubElement(case, "failure", message=_message(t.output or "failed"), type=t.kind)
                failure.text = _xml(t.output)
        if not g.tests:
            case = ET.SubElement(suite, "testcase", classname=_xml(g.name), name="grading", time="0.000")
            _properties(case, {"score": "0", "max_score": _number(g.max_score)})
            error = ET.SubElement(case, "error", message=_message(g.status), type="grading")
            error.text = _xml(g.status)
        totals["tests"] += tests
        totals["failures"] += failures
        totals["errors"] += errors
        totals["time"] += g.execution_time
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("time", f"{totals['time']:.3f}")
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def write_junit(grades, path: Path, assignment) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    junit_tree(grades, assignment).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)


def _cell(text) -> str:
    """A table cell of student text: a code span (nothing rendered), its pipes escaped (GFM splits on them)."""
    return md_code(" ".join(str(text).split())).replace("|", "\\|")


def step_summary(grades, assignment) -> str:
    items = [q.item for q in assignment.questions]
    lines = [
        f"### {inert(assignment.title, one_line=True)}: {len(grades)} submission{'s' if len(grades) != 1 else ''} graded",
        "",
        "| submission | score | " + " | ".join(f"`{i}`" for i in items) + " | status |",
        "| --- | ---: | " + " | ".join("---:" for _ in items) + " | --- |",
    ]
    for g in grades:
        points = " | ".join(
            f"{g.by_item.get(q.item, 0):g} / {q.points:g}" for q in assignment.questions
        )
        status = g.status + "".join(f"; {f}" for f in flags(g))
        # The name is the grader's (letters, digits, - and _); the status may hold the student's text.
        lines.append(f"| {inert(g.name, one_line=True)} | **{g.score:g}** / {g.max_score:g} | {points} | {_cell(status)} |")
    if grades:
        mean = sum(g.score for g in grades) / len(grades)
        lines += ["", f"Mean score: {mean:.2f} / {grades[0].max_score:g}."]
    return "\n".join(lines) + "\n\n"


def write_step_summary(grades, path: Path, assignment) -> None:
    """Append a Markdown table to $GITHUB_STEP_SUMMARY."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(step_summary(grades, assignment))
