"""Writing grades: feedback.md, grade.json and grades.csv (Gradescope's results.json: integrations/gradescope.py).

grades.csv is rewritten (atomically) as each submission finishes, so an
interrupted batch keeps every grade it reached and `--resume` can skip them.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from .kinds import FLAG_OF_EVENT, FLAG_OF_TEST_KIND, Flag, event
from .results import Grade
from .text import inert, md_block, md_code

# Each event kind's flag phrase (kinds.py holds the one map; kept here for readers of events).
FLAG_KINDS = {e.value: f.value for e, f in FLAG_OF_EVENT.items()}


def flags(grade: Grade) -> list[str]:
    """One short phrase per kind of suspicious behaviour, static, observed and self-reported."""
    found: list[Flag] = []
    for entry in grade.findings + grade.events:
        flag = FLAG_OF_EVENT[event(str(entry.get("kind", "")))]
        if flag not in found:
            found.append(flag)
    for t in grade.tests:
        flag = FLAG_OF_TEST_KIND.get(t.kind)
        if flag is not None and flag not in found:
            found.append(flag)
    return [f.value for f in found]


def feedback_markdown(grade: Grade, title: str, show_hidden: bool = True) -> str:
    # What a submission chose (its messages, file names, printed text) appears only in code spans
    # and fenced blocks: no heading, link, image or HTML of its own is rendered.
    lines = [f"# {title}: feedback for {grade.name}", "", f"**Score: {grade.score:g} / {grade.max_score:g}**", ""]
    if not grade.graded:
        lines += [*md_block(grade.status), ""]
    for note in grade.notes:
        lines += [f"- Note: {md_code(note)}"]
    if grade.notes:
        lines.append("")
    lines += ["| Question | Points |", "| --- | ---: |"]
    maxima: dict[str, float] = {}
    for t in grade.tests:
        maxima[t.item] = maxima.get(t.item, 0.0) + t.max_score
    for item, score in grade.by_item.items():
        lines.append(f"| {item} | {score:g} / {round(maxima.get(item, 0), 2):g} |")
    failed = [t for t in grade.tests if t.status != "passed" and (show_hidden or t.visibility == "visible")]
    lines.append("")
    if failed:
        lines += ["## What to fix", ""]
        # Checks of one item failing for the same reason (a function not written
        # yet, say) are one entry: the reason once, not once per check.
        groups: dict[tuple[str, str], list] = {}
        for t in failed:
            groups.setdefault((t.item, t.output), []).append(t)
        for (item, output), same in groups.items():
            t = same[0]
            if len(same) == 1:
                label = "public check" if t.visibility == "visible" else "hidden check"
                head = f"- {md_code(t.name)} ({label}, {round(t.max_score, 2):g} points):"
            else:
                points = round(sum(x.max_score for x in same), 2)
                head = f"- {md_code(item)}: {len(same)} checks ({points:g} points) fail the same way:"
            said = (output or "failed").strip()
            if "\n" in said:  # several lines: a fenced block under the entry
                lines += [head, "", *("  " + line for line in md_block(said)), ""]
            else:
                lines.append(f"{head} {md_code(said)}")
    elif grade.tests:
        lines.append("Every check passed.")
    if grade.cell_errors:
        lines += ["", "## Notebook cells that raised an error", ""]
        for e in grade.cell_errors[:20]:
            lines.append(f"- {md_code(str(e.get('where') or 'a cell') + ': ' + str(e.get('type')) + ': ' + str(e.get('message')))}")
    refused = [e["detail"] for e in grade.events if e.get("kind") == "refused-import"]
    banned = [f["detail"] for f in grade.findings if f.get("kind") == "banned-import"]
    if refused or banned:
        lines += ["", "## Imports that are not allowed", "", *[f"- {md_code(x)}" for x in dict.fromkeys(banned + refused)]]
    lines += [
        "",
        "---",
        f"Hidden inputs were random with seed {grade.seed}, drawn from your code: the same file always gets the same "
        "inputs and grade, and any change to it draws new ones.",
        f"Isolation: {grade.isolation}",
        *(["Limits: " + "; ".join(f"{k}: {v}" for k, v in grade.cap_texts.items())] if grade.caps else []),
        "",
    ]
    return "\n".join(lines)


def csv_cell(value) -> str:
    """A value as a CSV cell on one line, its control characters escaped, that no spreadsheet
    runs as a formula ('=', '+', '-', '@' lead with a quote)."""
    text = inert(value, one_line=True)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(text)
            return text  # a number, negative or not, stays a number
        except ValueError:
            return "'" + text
    return text


def csv_row(values) -> list[str]:
    return [csv_cell(v) for v in values]


class Gradebook:
    """A class's gradebook: OUT/grades.csv, and OUT/gradebook.json, the record behind it.

    The record holds the assignment's name, the order of the rows (the order
    the submissions were given in) and, per student, the row and the
    fingerprint of what produced it (suite, reference, submission, seed).
    Adding a grade adds or replaces that student's row and keeps every other
    one; both files are rewritten whole after each grade (to a temporary file,
    then renamed), so an interrupted batch leaves the last complete state.
    """

    RECORD = "gradebook.json"

    def __init__(self, path: Path, items: list[str], assignment: str = ""):
        self.path = Path(path)
        self.record = self.path.with_name(self.RECORD)
        self.columns = ["name", "total", *items, "status", "flags"]
        self.assignment = assignment
        self.order: list[str] = []
        self.entries: dict[str, dict] = {}

    def load(self) -> dict[str, dict]:
        """Read what the folder already holds; ValueError (with the fix) if it is another assignment's."""
        folder = self.path.parent
        if self.record.is_file():
            try:
                data = json.loads(self.record.read_text(encoding="utf-8"))
                order, entries = list(data["order"]), dict(data["grades"])
            except (OSError, ValueError, KeyError, TypeError):
                raise ValueError(f"{self.record} is not a gradebook record; choose another --out folder, "
                                 f"or delete {self.record} and grades.csv to start afresh") from None
            other = data.get("assignment")
            if self.assignment and other != self.assignment:
                raise ValueError(f"{folder} holds grades of assignment '{other}', not '{self.assignment}'; "
                                 f"choose another --out folder")
            if data.get("columns") != self.columns:
                raise ValueError(f"{folder} holds grades with other questions than this assignment's; "
                                 f"choose another --out folder")
            self.order, self.entries = order, entries
        elif self.path.is_file():  # a grades.csv without a record (or someone else's csv)
            with open(self.path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                if reader.fieldnames != self.columns:
                    raise ValueError(f"{self.path} has other columns than this assignment's; choose another --out folder")
                rows = [row for row in reader if row.get("name")]
            self.order = [row["name"] for row in rows]
            self.entries = {row["name"]: {"row": row, "fingerprint": None} for row in rows}
        return self.entries

    def existing(self) -> dict[str, dict]:
        """{name: row} of every student in the gradebook."""
        if not self.entries:
            self.load()
        return {name: self.entries[name]["row"] for name in self.names()}

    def start(self, resume: bool) -> dict[str, dict]:
        """Open for a batch; the rows already there (kept whether or not the batch resumes)."""
        self.load()
        return self.existing() if resume else {}

    def names(self) -> list[str]:
        """Students with a grade, in the gradebook's order."""
        return [name for name in self.order if name in self.entries]

    def has(self, name: str) -> bool:
        return name in self.entries

    def fingerprint(self, name: str) -> dict | None:
        entry = self.entries.get(name)
        return entry.get("fingerprint") if entry else None

    def extend_order(self, names) -> None:
        """Rows follow this order: names not seen yet go after the ones already there."""
        known = set(self.order)
        for name in names:
            if name not in known:
                self.order.append(name)
                known.add(name)

    def row(self, grade: Grade) -> dict:
        row = {"name": grade.name, "total": f"{grade.score:g}", "status": grade.status, "flags": "; ".join(flags(grade))}
        row.update({item: f"{score:g}" for item, score in grade.by_item.items()})
        return {column: row.get(column, "") for column in self.columns}

    def put(self, name: str, entry: dict) -> None:
        self.extend_order([name])
        self.entries[name] = entry

    def add(self, grade: Grade, fingerprint: dict | None = None) -> None:
        self.put(grade.name, {"row": self.row(grade), "fingerprint": fingerprint})
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"assignment": self.assignment, "columns": self.columns, "order": self.order,
                  "grades": {name: self.entries[name] for name in self.names()}}
        _replace(self.record, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
        lines = io.StringIO(newline="")
        writer = csv.DictWriter(lines, self.columns, extrasaction="ignore")
        writer.writeheader()
        for name in self.names():
            # Escaped as it is written: the record keeps what the grader decided.
            writer.writerow({k: csv_cell(v) for k, v in self.entries[name]["row"].items()})
        _replace(self.path, lines.getvalue())


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader (or a crash) sees the old file or the new one, never half."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", errors="replace", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def write_submission(out: Path, grade: Grade, title: str) -> Path:
    """The student's folder: feedback.md, and grade.json, the record every other output is made from."""
    folder = out / grade.name
    folder.mkdir(parents=True, exist_ok=True)
    # Whatever text came from a submission (a lone surrogate in an error message, a file
    # name that is not UTF-8), these writes do not fail: JSON escapes it, Markdown replaces it.
    (folder / "feedback.md").write_text(feedback_markdown(grade, title), encoding="utf-8", errors="replace")
    (folder / "grade.json").write_text(json.dumps(grade.to_dict(), indent=1) + "\n", encoding="utf-8")
    return folder
