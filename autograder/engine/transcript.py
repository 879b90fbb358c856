"""What the grader saw of one submission besides return values.

Events (what its code did, as kinds.Event: seen from outside, or reported by
the worker, whose reports student code could forge, so their number and
size are bounded here), the errors its notebook cells raised, what its
workers printed, and how long starts and loads took. Read by grading.py
into the Grade; nothing here is a grade.
"""

from __future__ import annotations

from .kinds import Event, event
from . import wire

MAX_EVENTS = 200
MAX_EVENTS_PER_REPLY = 50
MAX_CELL_ERRORS = 50


class Transcript:
    def __init__(self):
        self.events: list[dict] = []
        self.events_dropped = 0
        self._seen: set[tuple[str, str]] = set()
        self.cell_errors: list[dict] = []
        self._cells_recorded = False
        self.printed: list[str] = []
        self.timing: dict[str, list[float]] = {"worker_start": [], "load": []}
        # Requests sent to workers and answered (a chain of steps is one): each is a wake-up of both sides.
        self.round_trips = 0
        # Per worker that ran: whether its seccomp filter was seen holding (from its /proc status).
        self.filtered: list[bool] = []

    def note(self, kind: Event, detail: str) -> None:
        key = (kind.value, detail)
        if key in self._seen:
            return
        if len(self.events) >= MAX_EVENTS:
            self.events_dropped += 1
            return
        self._seen.add(key)
        self.events.append({"kind": kind.value, "detail": detail})

    def absorb(self, header: dict) -> None:
        """Take the events a worker's reply carries (any kind we never send is noted as forged)."""
        events = header.get("events")
        if not isinstance(events, list):
            return
        for e in events[:MAX_EVENTS_PER_REPLY]:
            if isinstance(e, dict):
                raw = wire.clean(str(e.get("kind", "?"))[:40])
                kind = event(raw)
                detail = wire.clean(str(e.get("detail", ""))[:300])
                self.note(kind, detail if kind.value == raw else f"kind {raw!r}: {detail}")

    def cells_ran(self, errors: list[dict]) -> None:
        """The cell errors of the first complete load (later loads rerun the same cells)."""
        if not self._cells_recorded:
            self._cells_recorded = True
            self.cell_errors = errors[:MAX_CELL_ERRORS]

    def worker_retired(self, strays_killed: int, printed: str, filtered: bool | None = None) -> None:
        if filtered is not None:
            self.filtered.append(filtered)
        if strays_killed:
            self.note(Event.LEFT_PROCESSES, f"{strays_killed} process(es) still running after calls were killed")
        if printed:
            self.printed.append(printed)

    def all_events(self) -> list[dict]:
        """The events, and one more saying how many were not kept."""
        if not self.events_dropped:
            return list(self.events)
        return self.events + [{"kind": Event.FORGED.value, "detail": f"{self.events_dropped} more events not kept"}]
