"""What a graded --out folder says, without what may differ between two runs of the same grading.

Refactors must not change grades, feedback, gradebooks or reports: tests compare a
grading's outputs with a snapshot kept in tests/golden/. After a deliberate change of
what the kit says, rewrite the snapshots with AUTOGRADER_UPDATE_GOLDEN=1 and review
the diff like any other change.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import html.parser
import io
import json
import os
import re
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
# Times differ between runs; so do the temporary folders submissions were copied to.
VOLATILE = {"execution_time", "duration", "timing", "origin"}
TIME_COLUMNS = {"time", "seconds", "graded_at", "execution_time"}


class _Text(html.parser.HTMLParser):
    """A page's visible text, a line per element: markup may change, what a reader sees may not."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "svg"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "svg") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self.skip:
            self.parts.append(text)


def visible_text(page: str) -> list[str]:
    reader = _Text()
    reader.feed(page)
    # The report says when it was made.
    return [re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d( UTC)?", "<when>", part) for part in reader.parts]


def _strip(value):
    if isinstance(value, dict):  # ..._ms: the capstone's measured speeds
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE and not k.endswith("_ms")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _table(path: Path) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    return [{k: v for k, v in row.items() if k not in TIME_COLUMNS} for row in rows]


def outputs(out: Path, names=None, report: bool = True) -> dict:
    """The outputs of a grade --out folder (only the submissions in `names`, if given), as plain data."""
    folders = sorted(f for f in out.iterdir() if (f / "results.json").is_file() and (names is None or f.name in names))
    seen = {}
    for folder in folders:
        grade = json.loads((folder / "grade.json").read_text(encoding="utf-8"))
        seen[folder.name] = {
            "results.json": _strip(json.loads((folder / "results.json").read_text(encoding="utf-8"))),
            "feedback.md": (folder / "feedback.md").read_text(encoding="utf-8").splitlines(),
            # The rest of grade.json is in results.json already.
            "grade": {"state": grade.get("state"), "by_item": grade["by_item"], "findings": grade.get("findings", []),
                      "tests": [[t.get("number"), t.get("kind"), t.get("mistake")] for t in grade["tests"]]},
        }
    tables = {p.name: [r for r in _table(p) if names is None or r.get("name", r.get("Student", "")) in names
                       or not r.get("name")]
              for p in sorted(out.glob("*.csv"))}
    page = out / "report.html"
    return {"submissions": seen, "tables": tables,
            "report": visible_text(page.read_text(encoding="utf-8")) if report and page.is_file() else None}


def compare(name: str, seen: dict, replace: dict[str, str] | None = None) -> None:
    """Assert `seen` equals the snapshot tests/golden/<name>.json.gz (written instead, when asked).

    `replace` maps what differs between runs by design (a temporary folder, a random mark) to a placeholder.
    """
    path = GOLDEN / f"{name}.json.gz"  # compressed: a class's feedback in full is ~1 MB of text
    text = json.dumps(seen, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    for old, new in sorted((replace or {}).items(), key=lambda kv: -len(kv[0])):
        text = text.replace(json.dumps(old)[1:-1], new)
    if os.environ.get("AUTOGRADER_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
        return
    assert path.is_file(), f"no snapshot {path}: run this test once with AUTOGRADER_UPDATE_GOLDEN=1"
    want = gzip.decompress(path.read_bytes()).decode("utf-8")
    if text != want:
        diff = "".join(list(difflib.unified_diff(want.splitlines(True), text.splitlines(True), "snapshot", "now"))[:80])
        raise AssertionError(f"the outputs differ from tests/golden/{name}.json.gz:\n{diff}")
