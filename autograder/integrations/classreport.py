"""The class report: one self-contained HTML file after a batch.

`write_report(out, grades, assignment)` writes `out/report.html`: the class's
scores at a glance (histogram, per-test pass rates, per-question means), the
mistakes the diagnostics named most often, and the submissions an instructor
should look at (timed out, crashed, banned imports, tampering, weaker
isolation). templates/report.html lays it out and draws its charts as inline
SVG (templates/charts.html), so the browser draws their text and nothing is
loaded from elsewhere (a Content-Security-Policy forbids it). Jinja2's
autoescape escapes every string a student controls (pages.py).
"""

from __future__ import annotations

import bisect
import math
import statistics
from datetime import datetime
from pathlib import Path

from ..engine import report
from ..engine.kinds import FLAG_OF_EVENT, Flag, Level, Scope, State, TestKind, event
from ..engine.results import Grade
from . import pages

STRONG_ISOLATION = Level.NAMESPACE  # the level (Grade.isolation_level) nothing weaker is reported against
WIDTH = 1024  # charts' width in pixels: the page's content width, so the browser shows them 1:1
BINS = 20  # a histogram's bins
MISTAKES_SHOWN = 40  # the mistakes table's rows; rarer ones are counted below it
LABEL_CHARS = 64  # longer test titles are shortened in the chart; the table below has them in full
# flags() phrases that other sections of the report already cover.
_COVERED_FLAGS = {Flag.BANNED_IMPORT.value, Flag.REFUSED_IMPORT.value, Flag.CRASH.value, Flag.PROTOCOL.value}

def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if not float(x).is_integer() else f"{x:g}"


# -- what the report counts ------------------------------------------------

def _as_grade(g) -> Grade:
    return g if isinstance(g, Grade) else Grade.from_dict(g)


def mistakes(grades: list[Grade]) -> list[tuple[str, list[str], list[str]]]:
    """(phrase, submissions naming it, items where it appeared), most submissions first."""
    who: dict[str, list[str]] = {}
    where: dict[str, list[str]] = {}
    phrases: dict[str, str] = {}
    for g in grades:
        for t in g.tests:
            # Only the suite's assertion failures: messages of kind "error" quote student exceptions.
            if t.passed or t.kind != TestKind.FAIL:
                continue
            phrase = getattr(t, "mistake_phrase", None)
            if not phrase:
                continue
            # A suite's mistake id counts a mistake once, however many checks word it.
            key = getattr(t, "mistake", None) or phrase
            phrases.setdefault(key, phrase)
            names = who.setdefault(key, [])
            if g.name not in names:
                names.append(g.name)
            items = where.setdefault(key, [])
            if t.item not in items:
                items.append(t.item)
    return sorted(((phrases[k], who[k], where[k]) for k in who), key=lambda row: (-len(row[1]), row[0]))


def _items_phrase(items) -> str:
    items = list(dict.fromkeys(items))
    return ", ".join(items[:4]) + (f" and {len(items) - 4} more" if len(items) > 4 else "")


def timed_out(g: Grade) -> str | None:
    tests = [t for t in g.tests if t.kind == TestKind.TIMEOUT]
    if tests:
        # Tests given up on (their function never returned) took no time: counted apart.
        given_up = [t for t in g.tests if t.kind == TestKind.NOTRUN]
        return (f"{len(tests)} test(s) hit the time limit, in {_items_phrase(t.item for t in tests)}"
                + (f"; {len(given_up)} more not run, since the function never returned" if given_up else ""))
    if g.state == State.LOAD_TIMEOUT:
        return g.status
    return None


def crashed(g: Grade) -> str | None:
    parts = []
    if not g.graded:
        parts.append(g.status)
    crash = [t for t in g.tests if t.kind == TestKind.CRASH]
    if crash:
        parts.append(f"{len(crash)} test(s) ended with the worker dead, in {_items_phrase(t.item for t in crash)}")
    proto = [t for t in g.tests if t.kind == TestKind.PROTOCOL]
    if proto:
        parts.append(f"{len(proto)} test(s) corrupted the grader's channel, in {_items_phrase(t.item for t in proto)}")
    return "; ".join(parts) or None


def banned_imports(g: Grade) -> str | None:
    seen = []
    for f in g.findings:
        if f.get("kind") == "banned-import":
            line = f" (line {f['line']})" if f.get("line") else ""
            seen.append(f"{f.get('detail', 'a banned import')}{line}")
    for ev in g.events:
        if ev.get("kind") == "refused-import":
            seen.append(f"tried to import {ev.get('detail', '?')} while running (refused)")
    seen = list(dict.fromkeys(seen))
    return "; ".join(seen) or None


def tampering(g: Grade) -> str | None:
    phrases = [f for f in report.flags(g) if f not in _COVERED_FLAGS]
    if not phrases:
        return None
    details = []
    for entry in g.findings + g.events:
        if FLAG_OF_EVENT[event(str(entry.get("kind", "")))].value in phrases and entry.get("detail"):
            line = f" (line {entry['line']})" if entry.get("line") else ""
            details.append(f"{entry['detail']}{line}")
    details = list(dict.fromkeys(details))
    text = "; ".join(phrases)
    if details:
        shown = details[:6] + ([f"{len(details) - 6} more"] if len(details) > 6 else [])
        text += ": " + "; ".join(shown)
    return text


def pass_rates(grades: list[Grade], assignment) -> list[dict]:
    """One row per test, ordered by question and then by the test's number."""
    order = {q.item: i for i, q in enumerate(assignment.questions)}
    rows: dict[tuple[str, str], dict] = {}
    for g in grades:
        for t in g.tests:
            row = rows.get((t.item, t.name))
            if row is None:
                try:
                    sub = int(str(t.number).rsplit(".", 1)[-1])
                except ValueError:
                    sub = 10**6
                row = rows[(t.item, t.name)] = {
                    "item": t.item, "name": t.name, "title": t.title, "number": str(t.number),
                    "public": t.visibility == "visible", "passed": 0, "total": 0,
                    "key": (order.get(t.item, len(order)), t.item, sub, t.name),
                }
            row["total"] += 1
            row["passed"] += t.status == "passed"
    return sorted(rows.values(), key=lambda r: r["key"])


# -- charts ------------------------------------------------------------------
# Each chart is data for templates/charts.html, which draws it as inline SVG: positions in
# pixels of a WIDTH-wide picture (the page's content width, shown 1:1), and its texts. The
# browser draws the glyphs, so a report costs no picture rendering.

def _px(x: float) -> float:
    return round(x, 1)


def ticks(low: float, high: float, most: int = 8, integer: bool = False) -> list[float]:
    """Round values from low to high for an axis, at most about `most` of them."""
    raw = max(high - low, 1e-12) / most
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in steps if m * magnitude >= raw)
    if integer:
        step = max(1, round(step))
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _tick_label(value: float) -> str:
    return f"{value:g}"


def _counts(values: list[float], edges: list[float]) -> list[int]:
    """How many values fall in each bin: [edge, next edge), the last bin closed (as numpy.histogram)."""
    counts = [0] * (len(edges) - 1)
    for v in values:
        if edges[0] <= v <= edges[-1]:
            counts[min(bisect.bisect_right(edges, v) - 1, len(counts) - 1)] += 1
    return counts


def histogram_chart(values: list[float], low: float, high: float, x_label: str,
                    marks: list[tuple[str, float, str, str]], height: int, x_ticks: list[float] | None = None) -> dict:
    """Twenty bins from low to high, with vertical lines at `marks`: (label, value, colour, dash pattern)."""
    left, right, top, bottom = 66, WIDTH - 20, 34, height - 54
    edges = [low + (high - low) * i / BINS for i in range(BINS + 1)]
    counts = _counts(values, edges)
    peak = max(1, max(counts, default=0))
    y_top = peak * 1.15
    y_ticks = [t for t in ticks(0, y_top, integer=True) if t <= y_top]

    def x(v: float) -> float:
        return _px(left + (v - low) / (high - low) * (right - left))

    def y(v: float) -> float:
        return _px(bottom - v / y_top * (bottom - top))

    bars = [{"x": x(edges[i]) + 0.5, "y": y(c), "width": max(x(edges[i + 1]) - x(edges[i]) - 1, 0.5),
             "height": _px(bottom - y(c)), "title": f"{c} submission(s) from {edges[i]:.4g} to {edges[i + 1]:.4g}"}
            for i, c in enumerate(counts) if c]
    x_ticks = x_ticks if x_ticks is not None else ticks(low, high)
    legend, at = [], WIDTH - 20
    for label, value, colour, dash in reversed(marks):
        text = f"{label} {value:.1f}"
        at -= round(7.5 * len(text)) + 48  # the line sample, the text (about 7.5 px a character), a gap
        legend.insert(0, {"x": at, "text": text, "colour": colour, "dash": dash})
    return {
        "width": WIDTH, "height": height, "left": left, "right": right, "top": top, "bottom": bottom,
        "bars": bars, "x_label": x_label, "y_label": "submissions",
        "x_ticks": [{"x": x(t), "label": _tick_label(t)} for t in x_ticks if low - 1e-9 <= t <= high + 1e-9],
        "y_ticks": [{"y": y(t), "label": _tick_label(t)} for t in y_ticks],
        "marks": [{"x": x(min(max(value, low), high)), "colour": colour, "dash": dash}
                  for _, value, colour, dash in marks],
        "legend": legend,
    }


def score_histogram(scores: list[float], max_score: float) -> dict:
    top = max_score if max_score > 0 else 100.0
    clipped = [min(max(s, 0.0), top) for s in scores]
    marks = []
    if scores:
        marks = [("mean", statistics.fmean(scores), "#e45756", "6 3"),
                 ("median", statistics.median(scores), "#222", "2 2")]
    return histogram_chart(clipped, 0.0, top, f"score (out of {_fmt(top)})", marks, height=340,
                           x_ticks=[top * i / 10 for i in range(11)])


def measure_histogram(values: list[float], title: str, marks: dict[str, float]) -> dict:
    """The distribution of one measure across the class, with vertical lines at `marks`."""
    low, high = min(values + list(marks.values())), max(values + list(marks.values()))
    span = max(high - low, 1.0)
    lines = [(label, value, colour, "6 3") for (label, value), colour in zip(marks.items(), ("#e45756", "#222", "#59a14f"))]
    return histogram_chart(values, low - 0.05 * span, high + 0.05 * span, title, lines, height=300)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _rate_colour(rate: float) -> str:
    return "#2e7d32" if rate >= 0.8 else "#e0a100" if rate >= 0.5 else "#c62828"


def pass_rate_chart(rows: list[dict], assignment) -> dict:
    """Horizontal bars, one per test, in blocks per question with the question's title above."""
    titles = {q.item: q.title for q in assignment.questions}
    row, head, top, bottom = 17, 34, 62, 15  # pixels
    left, right = 456, WIDTH - 31  # the bars' axis: 0% to 108%, labels to its left
    groups: list[tuple[str, list[dict]]] = []
    for r in rows:
        if not groups or groups[-1][0] != r["item"]:
            groups.append((r["item"], []))
        groups[-1][1].append(r)

    def x(percent: float) -> float:
        return _px(left + percent / 108 * (right - left))

    y, heads, bars = top + 4, [], []
    for number, (item, members) in enumerate(groups):
        heads.append({"y": y + 0.75 * head, "text": f"{item}: {titles.get(item, item)}",
                      "line": y if number else None})
        y += head
        for r in members:
            rate = r["passed"] / r["total"] if r["total"] else 0.0
            suffix = " (public)" if r["public"] else ""
            label = f"{r['number']}  {_shorten(r['title'], LABEL_CHARS - len(r['number']) - len(suffix))}{suffix}"
            bars.append({"y": _px(y + 0.13 * row), "middle": _px(y + row / 2), "width": _px(x(100 * rate) - left),
                         "height": _px(0.74 * row), "colour": _rate_colour(rate), "label": label,
                         "percent": f"{100 * rate:.0f}%", "at": _px(x(100 * rate) + 4),
                         "title": f"{r['number']} {r['title']}{suffix}: {r['passed']} of {r['total']} passed"})
            y += row
    return {"width": WIDTH, "height": round(y + bottom), "left": left, "right": right, "top": top,
            "bottom": _px(y), "heads": heads, "bars": bars,
            "x_ticks": [{"x": x(v), "label": f"{v}%"} for v in range(0, 101, 20)],
            "x_label": "share of submissions that passed the test", "label_x": left - 6}


# matplotlib's RdBu_r (ColorBrewer's RdBu, reversed): blue below zero, white at zero, red above.
_DIVERGING = ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
              "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"]


def diverging(t: float) -> str:
    """The colour of t in [-1, 1] on the diverging scale (interpolated between its stops)."""
    at = (min(max(t, -1.0), 1.0) + 1) / 2 * (len(_DIVERGING) - 1)
    k = min(int(at), len(_DIVERGING) - 2)
    f = at - k
    low, high = _DIVERGING[k], _DIVERGING[k + 1]
    return "#" + "".join(f"{round(int(low[i:i + 2], 16) * (1 - f) + int(high[i:i + 2], 16) * f):02x}" for i in (1, 3, 5))


def images_chart(images: list) -> dict:
    """A row of small images (filters, say) on one diverging colour scale centred at 0."""
    arrays = [[[float(v) for v in line] for line in image] for image in images]
    scale = max((abs(v) for a in arrays for line in a for v in line), default=0.0) or 1.0
    box, gap, top = 84, 26, 22
    per = min(box + gap, (WIDTH - gap) / max(len(arrays), 1))
    size = per - gap
    shown = []
    for k, array in enumerate(arrays):
        rows, columns = len(array), max((len(line) for line in array), default=0)
        cell = size / max(rows, columns, 1)
        x0 = gap / 2 + k * per + (size - cell * columns) / 2
        cells = [{"x": _px(x0 + j * cell), "y": _px(top + i * cell), "fill": diverging(v / scale),
                  "title": f"{v:.4g}"}
                 for i, line in enumerate(array) for j, v in enumerate(line)]
        shown.append({"label": str(k), "middle": _px(gap / 2 + k * per + size / 2), "cells": cells,
                      "cell": _px(cell) + 0.3, "x": _px(x0), "y": top, "width": _px(cell * columns),
                      "height": _px(cell * rows)})
    width = max(round(gap + len(arrays) * per), 420)  # room for the scale's note under a few images
    return {"width": width, "height": round(top + size + 22), "images": shown,
            "scale": f"blue below 0, red above; the ends of the scale are ±{scale:.3g}"}


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _measures(grades: list[Grade], assignment) -> dict | None:
    """What the suite measured (no points), as the assignment's [measures] table says to show it."""
    specs = {k: v for k, v in (getattr(assignment, "extra", {}) or {}).get("measures", {}).items() if isinstance(v, dict)}
    if not specs or not any(g.measures for g in grades):
        return None
    figures = []
    for name, spec in specs.items():
        title = spec.get("title", name)
        values = [v for g in grades if (v := _number(g.measures.get(name))) is not None]
        if spec.get("histogram") and values:
            marks = {"mean": statistics.fmean(values)}
            references = [v for g in grades if (v := _number(g.measures.get(f"reference_{name}"))) is not None]
            if references:
                marks["reference (mean)"] = statistics.fmean(references)
            figures.append({"kind": "histogram", "title": title, "chart": measure_histogram(values, title, marks),
                            "count": len(values), "low": _fmt(min(values)), "high": _fmt(max(values))})
        best_by = spec.get("images_of_best")
        if best_by:
            ranked = [g for g in grades if _number(g.measures.get(best_by)) is not None and g.measures.get(name)]
            if ranked:
                best = max(ranked, key=lambda g: _number(g.measures[best_by]))
                figures.append({"kind": "images", "title": title, "chart": images_chart(best.measures[name]),
                                "name": best.name, "by": specs.get(best_by, {}).get("title", best_by),
                                "value": _fmt(_number(best.measures[best_by]))})
    columns = [n for n, spec in specs.items() if not spec.get("images_of_best")
               and any(_number(g.measures.get(n)) is not None for g in grades)]
    table = None
    if columns:
        board = next((n for n in columns if specs[n].get("leaderboard") in ("asc", "desc")), None)

        def key(g):
            v = _number(g.measures.get(board)) if board else None
            return (v is None, (v if specs[board]["leaderboard"] == "asc" else -v) if v is not None else 0, g.name)

        table = {"heads": [specs[n].get("title", n) for n in columns],
                 "board": specs[board].get("title", board) if board else None,
                 "rows": [(g.name, ["" if (v := _number(g.measures.get(n))) is None else _fmt(round(v, 3))
                                    for n in columns]) for g in sorted(grades, key=key)]}
    return {"figures": figures, "table": table}


def _questions(grades: list[Grade], assignment) -> list[dict]:
    rows = []
    for q in assignment.questions:
        pts = [float(g.by_item.get(q.item, 0.0)) for g in grades]
        mean = statistics.fmean(pts) if pts else 0.0
        rows.append({"item": q.item, "title": q.title, "points": _fmt(q.points), "mean": mean,
                     "share": mean / q.points if q.points else 0.0,
                     "full": sum(1 for p in pts if q.points and p >= q.points - 1e-6),
                     "zero": sum(1 for p in pts if p <= 1e-9)})
    return rows


# Limits that hold for a whole submission only in its cgroup (Grade.cap_scopes); elsewhere per process or uid.
SUBMISSION_LIMITS = ("memory", "processes", "cpu")


def _whom(members: list, grades: list) -> str:
    return "Every submission" if len(members) == len(grades) else f"{len(members)} submission(s)"


def _caps(grades: list[Grade]) -> dict | None:
    """Which submissions ran without their own cgroup, and for which limits."""
    loose = [g for g in grades if any(g.cap_scopes.get(limit, Scope.SUBMISSION) != Scope.SUBMISSION
                                      for limit in SUBMISSION_LIMITS)]
    if not loose:
        return None
    limits = [limit for limit in SUBMISSION_LIMITS
              if any(g.cap_scopes.get(limit, Scope.SUBMISSION) != Scope.SUBMISSION for g in loose)]
    return {"whom": _whom(loose, grades), "limits": ", ".join(limits),
            "names": sorted(g.name for g in loose)}


def _isolation(grades: list[Grade]) -> list[dict]:
    """The submissions that ran with weaker isolation than the namespace sandbox, by isolation."""
    weak: dict[str, list[Grade]] = {}
    for g in grades:
        if g.isolation_level != STRONG_ISOLATION:
            weak.setdefault(g.isolation, []).append(g)
    return [{"whom": _whom(members, grades), "isolation": iso or "unknown isolation",
             "names": sorted(g.name for g in members)} for iso, members in weak.items()]


def _similarity(result) -> dict | None:
    """Top pairs by similarity, each linked to its side-by-side view; wording for review, not verdicts."""
    if result is None:
        return None
    s = result.settings
    rows = []
    for rank, p in enumerate(result.listed, start=1):
        review = p.score >= s.review_from
        rows.append({"rank": rank, "pair": p, "review": review,
                     "status": "review by hand" if review else f"below {s.review_from:g}",
                     "other": "known solution" if p.kind == "known" else "submission"})
    return {"result": result, "review_from": f"{s.review_from:g}", "rows": rows,
            "known": f" and with {result.known_files} known solution file(s)" if result.known_files else "",
            "flagged": sum(1 for p in result.pairs if p.score >= s.review_from)}


def render(grades, assignment, now: datetime | None = None, similarity=None) -> str:
    """The report as one HTML string (templates/report.html)."""
    grades = [_as_grade(g) for g in grades]
    n = len(grades)
    now = now or datetime.now().astimezone()
    title = getattr(assignment, "title", None) or getattr(assignment, "name", "assignment")
    total = float(getattr(assignment, "total_points", 0) or (grades[0].max_score if grades else 100.0))
    scores = [float(g.score) for g in grades]

    lists = [
        {"key": "timeouts", "head": "Timed out", "what": "what timed out",
         "rows": [(g, d) for g in grades if (d := timed_out(g))], "empty": "No submission hit a time limit."},
        {"key": "crashes", "head": "Crashed or could not be graded", "what": "what happened",
         "rows": [(g, d) for g in grades if (d := crashed(g))],
         "empty": "Every submission loaded and no test killed its worker."},
        {"key": "banned", "head": "Banned imports", "what": "imports",
         "rows": [(g, d) for g in grades if (d := banned_imports(g))], "empty": "No submission imported a banned module."},
        {"key": "tampering", "head": "Flagged for tampering", "what": "flags",
         "rows": [(g, d) for g in grades if (d := tampering(g))], "empty": "No submission was flagged."},
    ]
    for entry in lists:
        entry["rows"].sort(key=lambda row: row[0].name)
    cards = [("submissions", str(n))]
    if n:
        cards += [
            ("mean", f"{statistics.fmean(scores):.1f}"),
            ("median", f"{statistics.median(scores):.1f}"),
            ("range", f"{_fmt(min(scores))}–{_fmt(max(scores))}"),
            ("full marks", str(sum(1 for s in scores if s >= total - 1e-6))),
        ]
    else:
        cards += [("mean", "–"), ("median", "–")]
    rates = pass_rates(grades, assignment)
    found = mistakes(grades)
    script, script_hash = pages.script("report.js")
    return pages.render(
        "report.html", title=title, when=now.strftime("%Y-%m-%d %H:%M %Z").strip(), n=n, cards=cards,
        total=_fmt(total), bin_width=_fmt(total / 20), lists=lists, fmt=_fmt,
        weak=sum(1 for g in grades if g.isolation_level != STRONG_ISOLATION),
        histogram=score_histogram(scores, total) if n else None,
        questions=_questions(grades, assignment) if n else [],
        mistakes=found[:MISTAKES_SHOWN], more_mistakes=max(len(found) - MISTAKES_SHOWN, 0),
        isolation=_isolation(grades), caps=_caps(grades), measures=_measures(grades, assignment),
        similarity=_similarity(similarity), rates=rates, rates_chart=pass_rate_chart(rates, assignment) if rates else None,
        script=script, script_hash=script_hash,
    )


def write_report(out: Path, grades, assignment, similarity=None) -> Path:
    """Write out/report.html and return its path; `similarity` is a similarity.Result, or None if not checked."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    tmp = out / "report.html.tmp"
    tmp.write_text(render(grades, assignment, similarity=similarity), encoding="utf-8")
    tmp.replace(path)
    return path
