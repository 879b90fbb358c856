"""Rate limits on graded submissions: a token bucket per student (assignment.toml [rate_limit]).

A grader that answers in a second invites brute force: submit, read which checks fail, nudge,
submit again. The budget is a token bucket: a student may have `burst` submissions graded
at once and earns one more every `refill_minutes`, never holding more than `burst`. A bucket
can also be set for single questions ([rate_limit.questions]).

- On Gradescope, the history is `previous_submissions` in submission_metadata.json, which
  Gradescope writes and the student cannot edit; time is the submission's own `created_at`
  (so a re-run of the autograder decides as the first run did). Each results.json records
  which buckets it used (extra_data.rate_limit.graded); a submission refused for the whole
  budget uses none, and one the grader could not grade uses none either.
- `check` is never limited: it runs only the public checks, which ship with the handout, as
  the student who runs it (see check.py for why a shared machine gets no sudo recipe).

When the whole budget is spent, the submission is not graded: the results of the student's
best earlier graded submission stand, and the student is told when the next graded
submission becomes available. When only a question's budget is spent, the submission is
graded and that question's results are replaced by its best earlier ones.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..assignment import ConfigError

WHOLE = "*"  # the bucket of whole submissions; other buckets are named by question item
_EPS = 1e-9


@dataclass(frozen=True)
class Bucket:
    burst: int
    refill: timedelta

    def describe(self, what: str = "submission", of: str = "") -> str:
        plural = what if self.burst == 1 else what + "s"
        return f"up to {self.burst} graded {plural}{of} at once, and one more every {_duration(self.refill)}"


@dataclass(frozen=True)
class Policy:
    buckets: dict  # WHOLE or an item -> Bucket

    @property
    def whole(self) -> Bucket | None:
        return self.buckets.get(WHOLE)


def _bucket(table, where: str) -> Bucket:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: should be a table with 'burst' and 'refill_minutes'")
    unknown = set(table) - {"burst", "refill_minutes"}
    if unknown:
        raise ConfigError(f"{where}: unknown settings {sorted(unknown)}; known ones are ['burst', 'refill_minutes']")
    for key in ("burst", "refill_minutes"):
        if key not in table:
            raise ConfigError(f"{where}: missing '{key}'")
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or not math.isfinite(value):
            raise ConfigError(f"{where}: '{key}' must be a number > 0, got {value!r}")
    if table["burst"] != int(table["burst"]):
        raise ConfigError(f"{where}: 'burst' must be a whole number of submissions, got {table['burst']!r}")
    return Bucket(int(table["burst"]), timedelta(minutes=float(table["refill_minutes"])))


def policy(assignment) -> Policy | None:
    """The [rate_limit] table of assignment.toml, or None when there is none (no limit)."""
    table = assignment.extra.get("rate_limit")
    if table is None:
        return None
    where = f"{assignment.folder / 'assignment.toml'} [rate_limit]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: should be a table with 'burst' and 'refill_minutes'")
    buckets = {}
    whole = {k: v for k, v in table.items() if k != "questions"}
    if whole:
        buckets[WHOLE] = _bucket(whole, where)
    questions = table.get("questions", {})
    if not isinstance(questions, dict):
        raise ConfigError(f"{where}: 'questions' should be a table of question = {{ burst, refill_minutes }}")
    items = [q.item for q in assignment.questions]
    for item, sub in questions.items():
        if item not in items:
            raise ConfigError(f"{where}: 'questions.{item}' is not a question; questions are {items}")
        buckets[item] = _bucket(sub, f"{where} questions.{item}")
    return Policy(buckets) if buckets else None


# -- the bucket ---------------------------------------------------------------------

@dataclass
class Past:
    """One earlier submission: when, which buckets it used, and what it scored."""

    time: datetime
    graded: frozenset
    score: float | None = None
    results: dict | None = None


@dataclass
class Decision:
    key: str
    bucket: Bucket
    allowed: bool
    left: int  # graded submissions still available right after this one
    next_at: datetime | None  # when refused: when the next graded one becomes available


def tokens(bucket: Bucket, used: list[datetime], now: datetime) -> float:
    """Tokens in `bucket` at `now`, after the graded submissions at the times `used`.

    The bucket starts full; each graded submission takes one token (a history graded under
    a looser budget cannot drive it below empty); tokens come back at one per refill period.
    """
    level, last = float(bucket.burst), None
    for t in sorted(t for t in used if t <= now):
        if last is not None:
            level = min(bucket.burst, level + (t - last) / bucket.refill)
        level, last = max(0.0, level - 1), t
    if last is not None:
        level = min(bucket.burst, level + (now - last) / bucket.refill)
    return level


def decide(rules: Policy, history: list[Past], now: datetime) -> dict[str, Decision]:
    decisions = {}
    for key, bucket in rules.buckets.items():
        level = tokens(bucket, [p.time for p in history if key in p.graded], now)
        if level >= 1 - _EPS:
            decisions[key] = Decision(key, bucket, True, int(math.floor(level - 1 + _EPS)), None)
        else:
            decisions[key] = Decision(key, bucket, False, 0, now + (1 - level) * bucket.refill)
    return decisions


# -- wording ---------------------------------------------------------------------------

def _duration(span: timedelta) -> str:
    minutes = max(1, math.ceil(span.total_seconds() / 60 - _EPS))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} hours" + (f" {rest} minutes" if rest else "")
    return f"{hours / 24:.1f} days".replace(".0 ", " ")


def when(moment: datetime, now: datetime) -> str:
    """'2024-03-01 15:20 UTC-07:00 (in 23 minutes)', in the time zone of `now`."""
    local = moment.astimezone(now.tzinfo) if now.tzinfo else moment
    stamp = local.strftime("%Y-%m-%d %H:%M") + (f" {local.strftime('%Z')}" if local.tzinfo else "")
    return f"{stamp} (in {_duration(moment - now)})"


def allowed_line(decisions: dict[str, Decision]) -> str:
    parts = []
    for key, d in decisions.items():
        if d.allowed:
            what = "graded submissions" if key == WHOLE else f"graded submissions of {key}"
            parts.append(f"{what} left now: {d.left} of {d.bucket.burst} (one more every {_duration(d.bucket.refill)})")
    return ("Rate limit: " + "; ".join(parts) + ".") if parts else ""


def refused_line(d: Decision, now: datetime) -> str:
    if d.key == WHOLE:
        return (f"Rate limit: this submission was not graded. You may have {d.bucket.describe()}. "
                f"Your next graded submission is available from {when(d.next_at, now)}.")
    return (f"Rate limit: {d.key} was not graded this time ({d.bucket.describe(of=' of it')}); "
            f"its best earlier result stands. It is graded again from {when(d.next_at, now)}.")


# -- Gradescope ---------------------------------------------------------------------------

def parse_time(value) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # Python 3.10 reads at most 6 fractional digits and needs them as 3 or 6.
        head, dot, tail = text.partition(".")
        if not dot:
            return None
        digits = "".join(c for c in tail if c.isdigit())
        zone = tail[len(digits):]
        try:
            moment = datetime.fromisoformat(f"{head}.{(digits + '000000')[:6]}{zone}")
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def used_buckets(results, rules: Policy) -> frozenset:
    """Which buckets an earlier results.json used: as it recorded, or all of them if it recorded nothing."""
    extra = results.get("extra_data") if isinstance(results, dict) else None
    mark = extra.get("rate_limit") if isinstance(extra, dict) else None
    if isinstance(mark, dict) and isinstance(mark.get("graded"), list):
        return frozenset(str(k) for k in mark["graded"])
    # Graded before the limit was set, or by another grader: it counts as graded.
    return frozenset(rules.buckets)


def gradescope_history(metadata: dict, rules: Policy) -> tuple[datetime, list[Past]]:
    """(this submission's time, earlier submissions) from submission_metadata.json."""
    now = parse_time(metadata.get("created_at")) if isinstance(metadata, dict) else None
    now = now or datetime.now(timezone.utc)
    history = []
    previous = metadata.get("previous_submissions") if isinstance(metadata, dict) else None
    for entry in previous if isinstance(previous, list) else []:
        if not isinstance(entry, dict):
            continue
        moment = parse_time(entry.get("submission_time"))
        if moment is None:
            continue
        results = entry.get("results") if isinstance(entry.get("results"), dict) else None
        score = entry.get("score", results.get("score") if results else None)
        try:
            score = float(score) if score is not None else None
        except (TypeError, ValueError):
            score = None
        history.append(Past(moment, used_buckets(results, rules), score, results))
    return now, history


def _item_points(results: dict, item: str) -> float | None:
    extra = results.get("extra_data") if isinstance(results, dict) else None
    by_item = extra.get("by_item") if isinstance(extra, dict) else None
    if isinstance(by_item, dict) and isinstance(by_item.get(item), (int, float)):
        return float(by_item[item])
    tests = [t for t in results.get("tests", []) if isinstance(t, dict) and item in (t.get("tags") or [])]
    return sum(float(t.get("score") or 0) for t in tests) if tests else None


def best_earlier(history: list[Past], item: str | None = None) -> Past | None:
    """The earlier submission with the highest score (of `item`, if given), graded ones first on a tie."""
    def points(p: Past):
        if item is None:
            return p.score
        return _item_points(p.results, item) if p.results else None

    scored = [(points(p), bool(p.graded), -p.time.timestamp(), i) for i, p in enumerate(history) if points(p) is not None]
    if not scored:
        return None
    return history[max(scored)[3]]


@dataclass
class Gate:
    """The rate limit's verdict on one Gradescope submission."""

    rules: Policy
    now: datetime
    history: list[Past]
    decisions: dict = field(default_factory=dict)

    @property
    def refused_whole(self) -> bool:
        d = self.decisions.get(WHOLE)
        return d is not None and not d.allowed

    def refused_message(self) -> str:
        """What a student whose submission is not graded reads first: why, when to come back, what stands."""
        d, best = self.decisions[WHOLE], best_earlier(self.history)
        kept = (f"The results of your best earlier graded submission (submitted {best.time.astimezone(self.now.tzinfo):%Y-%m-%d %H:%M}) "
                "stand; they are shown below." if best is not None else "No earlier graded submission was found.")
        return refused_line(d, self.now) + " " + kept

    def refused_results(self) -> dict:
        """results.json for a submission that is not graded: the best earlier results, and when to come back."""
        d = self.decisions[WHOLE]
        best = best_earlier(self.history)
        if best is not None and best.results:
            data = copy.deepcopy(best.results)
        else:
            data = {"score": best.score if best and best.score is not None else 0.0, "tests": [],
                    "visibility": "visible", "stdout_visibility": "hidden", "output": ""}
        if best is not None and best.score is not None:
            data["score"] = best.score
        extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
        # The kept output's own budget lines were true then, not now: apply() counted them.
        said = (extra.get("rate_limit") or {}).get("lines") if isinstance(extra.get("rate_limit"), dict) else None
        earlier = str(data.get("output") or "").splitlines()
        earlier = "\n".join(earlier[said:] if isinstance(said, int) and said >= 0 else earlier).strip()
        data["output"] = self.refused_message() + ("\n\n" + earlier if earlier else "")
        extra["rate_limit"] = {"graded": [], "refused": [WHOLE], "next_graded_at": d.next_at.isoformat(),
                               "kept_from": best.time.isoformat() if best else None}
        data["extra_data"] = extra
        data.pop("execution_time", None)
        return data

    def apply(self, data: dict) -> dict:
        """results.json of a graded submission, with refused questions' results replaced and the budget said."""
        refused = [d for key, d in self.decisions.items() if key != WHOLE and not d.allowed]
        lines = []
        for d in refused:
            best = best_earlier(self.history, d.key)
            earlier = [t for t in (best.results.get("tests", []) if best and best.results else [])
                       if isinstance(t, dict) and d.key in (t.get("tags") or [])]
            current = [t for t in data.get("tests", []) if d.key in (t.get("tags") or [])]
            now_points = sum(float(t.get("score") or 0) for t in current)
            if earlier:
                then_points = _item_points(best.results, d.key) or 0.0
                replaced = copy.deepcopy(earlier)
            else:
                then_points = 0.0
                replaced = [{**t, "score": 0.0, "status": "failed", "output": "Not graded this time (rate limit)."}
                            for t in current]
            first = next((i for i, t in enumerate(data.get("tests", [])) if d.key in (t.get("tags") or [])), None)
            kept = [t for t in data.get("tests", []) if d.key not in (t.get("tags") or [])]
            data["tests"] = kept if first is None else kept[:first] + replaced + kept[first:]
            extra = data.setdefault("extra_data", {})
            if isinstance(extra.get("by_item"), dict):
                extra["by_item"][d.key] = round(then_points, 2)
                data["score"] = round(sum(float(v) for v in extra["by_item"].values()), 2)  # as the engine totals
            else:
                data["score"] = round(float(data.get("score", 0.0)) - now_points + then_points, 2)
            lines.append(refused_line(d, self.now))
        allowed = allowed_line({k: d for k, d in self.decisions.items() if d.allowed})
        head = "\n".join(([allowed] if allowed else []) + lines)
        if head:
            data["output"] = head + ("\n" + data["output"] if data.get("output") else "")
        data.setdefault("extra_data", {})["rate_limit"] = {
            "graded": [k for k, d in self.decisions.items() if d.allowed],
            "refused": [d.key for d in refused],
            "lines": len(head.splitlines()),  # the budget lines above the grade's own output
        }
        return data


def gradescope_gate(assignment, metadata_path: Path) -> Gate | None:
    """The verdict for this submission, or None when the assignment sets no rate limit."""
    rules = policy(assignment)
    if rules is None:
        return None
    try:
        metadata = json.loads(Path(metadata_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        metadata = {}
    now, history = gradescope_history(metadata, rules)
    return Gate(rules, now, history, decide(rules, history, now))
