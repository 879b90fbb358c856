"""The class report: one self-contained HTML file after a batch.

`write_report(out, grades, assignment)` writes `out/report.html`: the class's
scores at a glance (histogram, per-test pass rates, per-question means), the
mistakes the diagnostics named most often, and the submissions an instructor
should look at (timed out, crashed, banned imports, tampering, weaker
isolation). Figures are PNGs drawn with matplotlib's Agg canvas (no pyplot
state) and embedded as data URIs; a Content-Security-Policy forbids loading
anything from elsewhere. Every string a student controls is escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import statistics
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from ..engine import report
from ..engine.kinds import Level, Scope
from ..engine.grading import Grade
from ..engine.text import inert
from ..engine.kinds import FLAG_OF_EVENT, Flag, State, event

STRONG_ISOLATION = Level.NAMESPACE  # the level (Grade.isolation_level) nothing weaker is reported against
DPI = 100  # figures are 1024 px wide: the page's content width, so the browser shows them 1:1
FIG_WIDTH = 10.24
LABEL_CHARS = 64  # longer test titles are shortened in the chart; the table below has them in full
# flags() phrases that other sections of the report already cover.
_COVERED_FLAGS = {Flag.BANNED_IMPORT.value, Flag.REFUSED_IMPORT.value, Flag.CRASH.value, Flag.PROTOCOL.value}

# Sets document.body.dataset.imagesLoaded to "all" once every figure has decoded
# (or "k of n"), so a headless browser can tell that the report rendered.
_SCRIPT = """
(function () {
  function check() {
    var imgs = document.images, ok = 0;
    for (var i = 0; i < imgs.length; i++) {
      if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
    }
    document.body.dataset.imagesLoaded = ok === imgs.length ? "all" : ok + " of " + imgs.length;
  }
  if (document.readyState === "complete") check(); else window.addEventListener("load", check);
})();
"""

_CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif;
       color: var(--fg); margin: 0; background: #fff; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
p.lead { color: var(--muted); margin: 0 0 16px; }
p.note { color: var(--muted); font-size: 13px; margin: 4px 0 10px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0 4px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 120px; background: var(--bg2); }
.card .v { font-size: 22px; font-weight: 600; }
.card .k { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
ul.attention { margin: 8px 0 0; padding-left: 20px; }
ul.attention li.zero { color: var(--muted); }
figure { margin: 8px 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 4px; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg2); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.detail { overflow-wrap: anywhere; }
td.name { overflow-wrap: anywhere; min-width: 9em; }
table.problems { table-layout: fixed; }
col.c-name { width: 24%; }
col.c-score { width: 9%; }
tr:nth-child(even) td { background: #fbfcfd; }
.bar { background: #e6eaef; border-radius: 3px; height: 10px; width: 120px; display: inline-block; vertical-align: middle; margin-left: 8px; }
.bar > span { display: block; height: 10px; border-radius: 3px; background: #2e7d32; }
.bar > span.mid { background: #e0a100; }
.bar > span.low { background: #c62828; }
.bar > span.plain { background: #8c959f; }
.none { color: var(--muted); font-style: italic; }
details { margin: 6px 0; }
summary { cursor: pointer; color: var(--accent); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font-size: 13px; background: var(--bg2); padding: 1px 4px; border-radius: 4px; }
table.similar tr.below td { color: var(--muted); }
span.kind { color: var(--muted); font-size: 12px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
"""


def e(value) -> str:
    """Escaped text for HTML content and attributes, its control characters shown as escapes."""
    return html.escape(inert(value), quote=True)


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
            if t.status == "passed" or t.kind != "fail":
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
    tests = [t for t in g.tests if t.kind == "timeout"]
    if tests:
        # Tests given up on (their function never returned) took no time: counted apart.
        given_up = [t for t in g.tests if t.kind == "notrun"]
        return (f"{len(tests)} test(s) hit the time limit, in {_items_phrase(t.item for t in tests)}"
                + (f"; {len(given_up)} more not run, since the function never returned" if given_up else ""))
    if g.state == State.LOAD_TIMEOUT.value:
        return g.status
    return None


def crashed(g: Grade) -> str | None:
    parts = []
    if not g.graded:
        parts.append(g.status)
    crash = [t for t in g.tests if t.kind == "crash"]
    if crash:
        parts.append(f"{len(crash)} test(s) ended with the worker dead, in {_items_phrase(t.item for t in crash)}")
    proto = [t for t in g.tests if t.kind == "protocol"]
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
                title = t.name.split(": ", 1)[1] if t.name.startswith(f"{t.item}: ") else t.name
                row = rows[(t.item, t.name)] = {
                    "item": t.item, "name": t.name, "title": title, "number": str(t.number),
                    "public": t.visibility == "visible", "passed": 0, "total": 0,
                    "key": (order.get(t.item, len(order)), t.item, sub, t.name),
                }
            row["total"] += 1
            row["passed"] += t.status == "passed"
    return sorted(rows.values(), key=lambda r: r["key"])


# -- figures ----------------------------------------------------------------

def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    buf = io.BytesIO()
    canvas.print_png(buf, metadata={"Software": None})
    fig.clear()
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float):
    # The object API, not pyplot: nothing is registered globally, nothing to close.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI)


def _plain(text: str) -> str:
    """Text for matplotlib without mathtext: a $ would start a formula."""
    return text.replace("$", r"\$")


def histogram_png(scores: list[float], max_score: float) -> str:
    fig = _figure(FIG_WIDTH, 3.4)
    ax = fig.add_axes((0.065, 0.15, 0.915, 0.74))
    top = max_score if max_score > 0 else 100.0
    edges = [top * i / 20 for i in range(21)]
    clipped = [min(max(s, 0.0), top) for s in scores]
    counts, _, _ = ax.hist(clipped, bins=edges, color="#4c78a8", edgecolor="white", linewidth=0.8)
    ax.set_xlim(0, top)
    ax.set_xticks([top * i / 10 for i in range(11)])
    ax.set_xlabel(f"score (out of {_fmt(top)})")
    ax.set_ylabel("submissions")
    peak = int(max(counts)) if len(counts) else 0
    ax.set_ylim(0, max(1, peak) * 1.15)
    ax.yaxis.get_major_locator().set_params(integer=True)
    if scores:
        mean = statistics.fmean(scores)
        ax.axvline(mean, color="#e45756", linestyle="--", linewidth=1.2, label=f"mean {mean:.1f}")
        ax.axvline(statistics.median(scores), color="#222", linestyle=":", linewidth=1.2,
                   label=f"median {statistics.median(scores):.1f}")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False, fontsize=9,
                  borderaxespad=0.2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    return _png(fig)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _rate_colour(rate: float) -> str:
    return "#2e7d32" if rate >= 0.8 else "#e0a100" if rate >= 0.5 else "#c62828"


def pass_rate_png(rows: list[dict], assignment) -> str:
    """Horizontal bars, one per test, in blocks per question with the question's title above."""
    from matplotlib import transforms

    titles = {q.item: q.title for q in assignment.questions}
    bar_in, head_in, top_in, bottom_in = 0.17, 0.34, 0.62, 0.15  # inches
    groups: list[tuple[str, list[dict]]] = []
    for r in rows:
        if not groups or groups[-1][0] != r["item"]:
            groups.append((r["item"], []))
        groups[-1][1].append(r)
    height = len(rows) * bar_in + len(groups) * head_in + top_in + bottom_in
    fig = _figure(FIG_WIDTH, height)
    left, right = 0.445, 0.03
    ax = fig.add_axes((left, bottom_in / height, 1 - left - right, 1 - (top_in + bottom_in) / height))
    y, ys, heads = 0.0, [], []
    for item, members in groups:
        heads.append((y, item))
        y += head_in / bar_in
        for _ in members:
            ys.append(y)
            y += 1
    flat = [r for _, members in groups for r in members]
    rates = [r["passed"] / r["total"] if r["total"] else 0.0 for r in flat]
    ax.barh(ys, [100 * x for x in rates], height=0.74, color=[_rate_colour(x) for x in rates])
    # Labels as plain texts, not ticks: 100 Tick objects cost more than the bars.
    labels = transforms.blended_transform_factory(ax.transAxes, ax.transData)
    for yy, rate, r in zip(ys, rates, flat):
        suffix = " (public)" if r["public"] else ""
        text = f"{r['number']}  {_shorten(r['title'], LABEL_CHARS - len(r['number']) - len(suffix))}{suffix}"
        ax.text(-0.012, yy, _plain(text), transform=labels, ha="right", va="center", fontsize=8, color="#24292f")
        ax.text(100 * rate + 0.8, yy, f"{100 * rate:.0f}%", va="center", ha="left", fontsize=7.5, color="#333")
    for yy, item in heads:
        ax.text(-left / (1 - left - right) + 0.012, yy + 0.3 * head_in / bar_in, _plain(f"{item}: {titles.get(item, item)}"),
                transform=labels, ha="left", va="center", fontsize=9.5, fontweight="bold", color="#1f2328")
        if yy > 0:
            ax.axhline(yy - 0.5, color="#c9d1d9", linewidth=0.8)
    ax.set_yticks([])
    ax.set_ylim(y - 0.4, -0.6)
    ax.set_xlim(0, 108)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xticklabels([f"{v}%" for v in range(0, 101, 20)], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_xlabel("share of submissions that passed the test", fontsize=9)
    ax.xaxis.set_label_position("top")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("right", "bottom"):
        ax.spines[side].set_visible(False)
    return _png(fig)


def measure_histogram_png(values: list[float], title: str, marks: dict[str, float]) -> str:
    """The distribution of one measure across the class, with vertical lines at `marks`."""
    fig = _figure(FIG_WIDTH, 3.0)
    ax = fig.add_axes((0.065, 0.17, 0.915, 0.7))
    low, high = min(values + list(marks.values())), max(values + list(marks.values()))
    span = max(high - low, 1.0)
    ax.hist(values, bins=20, range=(low - 0.05 * span, high + 0.05 * span), color="#4c78a8", edgecolor="white")
    for (label, value), colour in zip(marks.items(), ("#e45756", "#222", "#59a14f")):
        ax.axvline(value, color=colour, linestyle="--", linewidth=1.2, label=f"{label} {value:.1f}")
    if marks:
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(marks), frameon=False, fontsize=9)
    ax.set_xlabel(_plain(title))
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _png(fig)


def images_png(images: list) -> str:
    """A row of small images (filters, say) on one diverging colour scale centred at 0."""
    import numpy as np

    arrays = [np.asarray(i, dtype=float) for i in images]
    scale = max(float(np.abs(a).max()) for a in arrays) or 1.0
    fig = _figure(min(FIG_WIDTH, 1.1 * len(arrays) + 0.4), 1.4)
    for k, array in enumerate(arrays):
        ax = fig.add_axes((0.02 + k * 0.96 / len(arrays), 0.05, 0.9 * 0.96 / len(arrays), 0.75))
        ax.imshow(array, cmap="RdBu_r", vmin=-scale, vmax=scale)
        ax.set_title(str(k), fontsize=8)
        ax.axis("off")
    return _png(fig)


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _measures_section(grades: list[Grade], assignment) -> str:
    """What the suite measured (no points), as the assignment's [measures] table says to show it."""
    specs = {k: v for k, v in (getattr(assignment, "extra", {}) or {}).get("measures", {}).items() if isinstance(v, dict)}
    if not specs or not any(g.measures for g in grades):
        return ""
    out = ['<section id="measures"><h2>Measured (no points)</h2>']
    for name, spec in specs.items():
        values = [v for g in grades if (v := _number(g.measures.get(name))) is not None]
        if spec.get("histogram") and values:
            marks = {"mean": statistics.fmean(values)}
            references = [v for g in grades if (v := _number(g.measures.get(f"reference_{name}"))) is not None]
            if references:
                marks["reference (mean)"] = statistics.fmean(references)
            out.append(f'<figure><img src="{measure_histogram_png(values, spec.get("title", name), marks)}" '
                       f'alt="Distribution of {e(spec.get("title", name))}" width="1024" height="300"><figcaption>'
                       f'{e(spec.get("title", name))}: {len(values)} submissions, from {_fmt(min(values))} to '
                       f"{_fmt(max(values))}.</figcaption></figure>")
        best_by = spec.get("images_of_best")
        if best_by:
            ranked = [g for g in grades if _number(g.measures.get(best_by)) is not None and g.measures.get(name)]
            if ranked:
                best = max(ranked, key=lambda g: _number(g.measures[best_by]))
                out.append(f'<figure><img src="{images_png(best.measures[name])}" alt="{e(spec.get("title", name))}">'
                           f'<figcaption>{e(spec.get("title", name))}: {_link(best.name)}, '
                           f'{e(specs.get(best_by, {}).get("title", best_by))} {_fmt(_number(best.measures[best_by]))}.'
                           "</figcaption></figure>")
    columns = [n for n, spec in specs.items() if not spec.get("images_of_best")
               and any(_number(g.measures.get(n)) is not None for g in grades)]
    if columns:
        board = next((n for n in columns if specs[n].get("leaderboard") in ("asc", "desc")), None)

        def key(g):
            v = _number(g.measures.get(board)) if board else None
            return (v is None, (v if specs[board]["leaderboard"] == "asc" else -v) if v is not None else 0, g.name)

        head = "".join(f'<th class="num">{e(specs[n].get("title", n))}</th>' for n in columns)
        rows = "".join(
            f'<tr><td class="name">{_link(g.name)}</td>' + "".join(
                f'<td class="num">{"" if (v := _number(g.measures.get(n))) is None else _fmt(round(v, 3))}</td>'
                for n in columns) + "</tr>"
            for g in sorted(grades, key=key))
        order = f" Ordered by {e(specs[board].get('title', board))}, the leaderboard." if board else ""
        out.append(f'<p class="note">An empty cell: not measured (the code failed that check).{order}</p>'
                   f"<table><thead><tr><th>submission</th>{head}</tr></thead><tbody>{rows}</tbody></table>")
    out.append("</section>")
    return "".join(out)


# -- HTML ---------------------------------------------------------------------

def _link(name: str) -> str:
    return f'<a href="{e(quote(name))}/feedback.md">{e(name)}</a>'


def _problem_table(rows: list[tuple[Grade, str]], what: str, empty: str) -> str:
    if not rows:
        return f'<p class="none">{e(empty)}</p>'
    body = "".join(
        f'<tr><td class="name">{_link(g.name)}</td><td class="num">{_fmt(g.score)}</td>'
        f'<td class="detail">{e(detail)}</td></tr>'
        for g, detail in sorted(rows, key=lambda r: r[0].name)
    )
    return (f'<table class="problems"><colgroup><col class="c-name"><col class="c-score"><col></colgroup>'
            f'<thead><tr><th>submission</th><th class="num">score</th><th>{e(what)}</th></tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _bar(fraction: float) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    cls = "" if fraction >= 0.8 else "mid" if fraction >= 0.5 else "low"
    return f'<span class="bar"><span class="{cls}" style="width:{100 * fraction:.0f}%"></span></span>'


def _questions_table(grades: list[Grade], assignment) -> str:
    rows = []
    for q in assignment.questions:
        pts = [float(g.by_item.get(q.item, 0.0)) for g in grades]
        mean = statistics.fmean(pts) if pts else 0.0
        share = mean / q.points if q.points else 0.0
        full = sum(1 for p in pts if q.points and p >= q.points - 1e-6)
        zero = sum(1 for p in pts if p <= 1e-9)
        rows.append(
            f"<tr><td><code>{e(q.item)}</code></td><td>{e(q.title)}</td><td class=\"num\">{_fmt(q.points)}</td>"
            f'<td class="num">{mean:.2f}{_bar(share)}</td><td class="num">{100 * share:.0f}%</td>'
            f'<td class="num">{full}</td><td class="num">{zero}</td></tr>'
        )
    return ('<table><thead><tr><th>question</th><th>title</th><th class="num">points</th>'
            '<th class="num">mean points</th><th class="num">mean %</th><th class="num">full marks</th>'
            f'<th class="num">zero</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _mistakes_section(found, n: int) -> str:
    if not found:
        return '<p class="none">No failed test matched a known mistake.</p>'
    rows = []
    for phrase, names, items in found[:40]:
        who = ", ".join(_link(x) for x in names)
        rows.append(
            f'<tr><td class="detail">you {e(phrase)}</td><td class="num">{len(names)}</td>'
            f'<td class="num">{100 * len(names) / n:.0f}%</td><td>{", ".join(f"<code>{e(i)}</code>" for i in items)}</td>'
            f"<td><details><summary>{len(names)} submission(s)</summary>{who}</details></td></tr>"
        )
    more = f'<p class="note">{len(found) - 40} rarer mistakes not shown.</p>' if len(found) > 40 else ""
    return ('<p class="note">Failed tests whose message says &ldquo;It matches what you get if you &hellip;&rdquo;, '
            "counted once per submission.</p>"
            '<table><thead><tr><th>the feedback says: it matches what you get if</th><th class="num">submissions</th>'
            '<th class="num">share</th><th>where</th><th>who</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>{more}')


def _rates_table(rows: list[dict]) -> str:
    body = "".join(
        f'<tr><td class="num">{e(r["number"])}</td><td><code>{e(r["item"])}</code></td>'
        f'<td>{e(r["title"])}{" <em>(public)</em>" if r["public"] else ""}</td>'
        f'<td class="num">{r["passed"]} / {r["total"]}{_bar(r["passed"] / r["total"] if r["total"] else 0)}</td></tr>'
        for r in rows
    )
    return ('<details><summary>Every test with its full name</summary><table><thead><tr><th class="num">#</th>'
            f'<th>question</th><th>test</th><th class="num">passed</th></tr></thead><tbody>{body}</tbody></table></details>')


# Limits that hold for a whole submission only in its cgroup (Grade.cap_scopes); elsewhere per process or uid.
SUBMISSION_LIMITS = ("memory", "processes", "cpu")


def _caps_note(grades: list[Grade]) -> str:
    """Which submissions ran without their own cgroup, and for which limits."""
    loose = [g for g in grades if any(g.cap_scopes.get(limit, Scope.SUBMISSION) != Scope.SUBMISSION
                                      for limit in SUBMISSION_LIMITS)]
    if not loose:
        return ""
    limits = [limit for limit in SUBMISSION_LIMITS
              if any(g.cap_scopes.get(limit, Scope.SUBMISSION) != Scope.SUBMISSION for g in loose)]
    whom = "Every submission" if len(loose) == len(grades) else f"{len(loose)} submission(s)"
    names = ", ".join(_link(g.name) for g in sorted(loose, key=lambda g: g.name))
    return (f"<p><strong>{whom}</strong> ran without a cgroup of its own for {e(', '.join(limits))}: those "
            "limits held per process or per uid only, so a submission that starts processes could use more "
            "(cgroups need root and a writable /sys/fs/cgroup).</p>"
            f"<details><summary>which</summary>{names}</details>")


def _isolation_section(grades: list[Grade]) -> str:
    weak: dict[str, list[Grade]] = {}
    for g in grades:
        if g.isolation_level != STRONG_ISOLATION:
            weak.setdefault(g.isolation, []).append(g)
    if not weak:
        return '<p class="none">Every submission ran in the namespace sandbox.</p>' + _caps_note(grades)
    parts = []
    for iso, members in weak.items():
        names = ", ".join(_link(g.name) for g in sorted(members, key=lambda g: g.name))
        whom = "Every submission" if len(members) == len(grades) else f"{len(members)} submission(s)"
        parts.append(f"<p><strong>{whom}</strong> ran with: {e(iso or 'unknown isolation')}</p>"
                     f"<details><summary>which</summary>{names}</details>")
    return "".join(parts) + _caps_note(grades)


def _similarity_section(result) -> str:
    """Top pairs by similarity, each linked to its side-by-side view; wording for review, not verdicts."""
    if result is None:
        return ('<p class="none">Not checked. <code>grade ... --similarity [--known ARCHIVE]</code> or '
                "<code>python -m autograder similarity OUT [--known ARCHIVE]</code> compares every pair of "
                "submissions, and each with known solutions, and lists the most similar here.</p>")
    s = result.settings
    known = (f" and with {result.known_files} known solution file(s)" if result.known_files else "")
    parts = [f'<p class="note">{result.compared} submissions compared with each other{e(known)}, the handout&rsquo;s '
             "code excluded. A score is the share of one side&rsquo;s own code that is also found in the other, "
             "each normalised first (no-ops and dead code dropped, temporaries inlined, independent statements in "
             "one order; names, strings and numbers normalised). A high score means <strong>similar, review by hand</strong>: "
             "short exercises share idioms, and collaboration may have been allowed. It is not a finding "
             "that anyone copied. Nothing of this is shown to students.</p>"]
    listed = result.listed
    if not listed:
        parts.append('<p class="none">No pair shares code beyond the handout.</p>')
    else:
        rows = []
        for rank, p in enumerate(listed, start=1):
            review = p.score >= s.review_from
            status = "review by hand" if review else f"below {s.review_from:g}"
            other = "known solution" if p.kind == "known" else "submission"
            rows.append(
                f'<tr class="{"review" if review else "below"}"><td class="num">{rank}</td>'
                f'<td class="name">{e(p.a)}</td><td class="name">{e(p.b)} <span class="kind">({other})</span></td>'
                f'<td class="num">{p.score:.2f}<span class="bar"><span class="{"low" if review else "plain"}" '
                f'style="width:{100 * min(max(p.score, 0.0), 1.0):.0f}%"></span></span></td>'
                f'<td class="num">{100 * p.a_share:.0f}% / {100 * p.b_share:.0f}%</td>'
                f'<td>{e(status)}</td><td><a class="view" href="{e(quote(p.view))}">side by side</a></td></tr>'
            )
        flagged = sum(1 for p in result.pairs if p.score >= s.review_from)
        parts.append(f'<p><strong>{flagged}</strong> pair(s) at or above {s.review_from:g} '
                     f"(<code>review_from</code> in assignment.toml); the {len(listed)} most similar are listed, "
                     "every pair is in <code>similarity.csv</code>.</p>")
        parts.append('<table class="similar"><thead><tr><th class="num">#</th><th>submission</th><th>similar to</th>'
                     '<th class="num">score</th><th class="num">shares</th><th>status</th><th>view</th></tr></thead>'
                     f'<tbody>{"".join(rows)}</tbody></table>')
    if result.skipped:
        items = "".join(f"<li>{e(name)}: {e(why)}</li>" for name, why in result.skipped[:100])
        parts.append(f"<details><summary>{len(result.skipped)} not compared</summary><ul>{items}</ul></details>")
    return "".join(parts)


def render(grades, assignment, now: datetime | None = None, similarity=None) -> str:
    """The report as one HTML string."""
    grades = [_as_grade(g) for g in grades]
    n = len(grades)
    now = now or datetime.now().astimezone()
    title = getattr(assignment, "title", None) or getattr(assignment, "name", "assignment")
    total = float(getattr(assignment, "total_points", 0) or (grades[0].max_score if grades else 100.0))
    scores = [float(g.score) for g in grades]

    lists = {
        "timeouts": ("Timed out", "what timed out", [(g, d) for g in grades if (d := timed_out(g))],
                     "No submission hit a time limit."),
        "crashes": ("Crashed or could not be graded", "what happened", [(g, d) for g in grades if (d := crashed(g))],
                    "Every submission loaded and no test killed its worker."),
        "banned": ("Banned imports", "imports", [(g, d) for g in grades if (d := banned_imports(g))],
                   "No submission imported a banned module."),
        "tampering": ("Flagged for tampering", "flags", [(g, d) for g in grades if (d := tampering(g))],
                      "No submission was flagged."),
    }
    weak = sum(1 for g in grades if g.isolation_level != STRONG_ISOLATION)

    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">']
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    out.append('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
               f"style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'\">")
    out.append(f"<title>Class report: {e(title)}</title><style>{_CSS}</style></head><body><main>")

    # Header.
    out.append(f'<header id="summary"><h1>{e(title)}</h1>')
    out.append(f'<p class="lead">Class report, {e(now.strftime("%Y-%m-%d %H:%M %Z").strip())}</p>')
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
    out.append('<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{e(v)}</div><div class="k">{e(k)}</div></div>' for k, v in cards) + "</div>")
    out.append(f'<p class="note">Scores are out of {_fmt(total)} points.</p>')
    if n:
        items = [f'<li class="{"zero" if not rows else ""}"><a href="#{key}">{e(head)}</a>: {len(rows)}</li>'
                 for key, (head, _, rows, _) in lists.items()]
        items.append(f'<li class="{"zero" if not weak else ""}"><a href="#isolation">Weaker isolation</a>: {weak}</li>')
        if similarity is not None:
            similar = sum(1 for p in similarity.pairs if p.score >= similarity.settings.review_from)
            items.append(f'<li class="{"zero" if not similar else ""}"><a href="#similarity">Similar pairs to review'
                         f"</a>: {similar}</li>")
        out.append('<ul class="attention">' + "".join(items) + "</ul>")
    out.append("</header>")

    if not n:
        out.append('<section id="scores"><h2>Scores</h2><p class="none">No submissions were graded, '
                   "so there is nothing to show yet.</p></section>")
    else:
        out.append('<section id="scores"><h2>Score distribution</h2><figure>'
                   f'<img src="{histogram_png(scores, total)}" alt="Histogram of the scores" width="1024" height="340">'
                   f"<figcaption>Scores in bins of {_fmt(total / 20)} points; the last bin includes full marks."
                   "</figcaption></figure></section>")

        out.append(f'<section id="questions"><h2>Points per question</h2>{_questions_table(grades, assignment)}</section>')
        out.append(f'<section id="mistakes"><h2>Mistakes named most often</h2>{_mistakes_section(mistakes(grades), n)}'
                   "</section>")

    for key, (head, what, rows, empty) in lists.items():
        body = _problem_table(rows, what, empty) if n else '<p class="none">No submissions.</p>'
        out.append(f'<section id="{key}"><h2>{e(head)} ({len(rows)})</h2>{body}</section>')
    iso = _isolation_section(grades) if n else '<p class="none">No submissions.</p>'
    out.append(f'<section id="isolation"><h2>Weaker isolation ({weak})</h2>{iso}</section>')

    out.append(_measures_section(grades, assignment))
    out.append(f'<section id="similarity"><h2>Similarity</h2>{_similarity_section(similarity)}</section>')
    rates = pass_rates(grades, assignment)
    if rates:
        out.append('<section id="tests"><h2>Pass rate per test</h2>'
                   '<p class="note">One bar per test, grouped by question. Green: at least 80% passed; '
                   "amber: 50&ndash;80%; red: below 50%. (public) marks the tests students can run themselves.</p>")
        out.append(f'<figure><img src="{pass_rate_png(rates, assignment)}" alt="Pass rate of each test" '
                   f'width="{round(FIG_WIDTH * DPI)}"></figure>')
        out.append(_rates_table(rates) + "</section>")
    elif n:
        out.append('<section id="tests"><h2>Pass rate per test</h2><p class="none">No test ran.</p></section>')

    out.append('<footer>Written by the autograder. Names link to each submission\'s feedback.md next to this file.'
               "</footer></main>")
    out.append(f"<script>{_SCRIPT}</script></body></html>\n")
    return "".join(out)


def write_report(out: Path, grades, assignment, similarity=None) -> Path:
    """Write out/report.html and return its path; `similarity` is a similarity.Result, or None if not checked."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    tmp = out / "report.html.tmp"
    tmp.write_text(render(grades, assignment, similarity=similarity), encoding="utf-8")
    tmp.replace(path)
    return path
