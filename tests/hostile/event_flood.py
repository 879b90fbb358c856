"""The reference, plus 1000 made-up bookkeeping events before every reply.

The worker's Bookkeeping (found with gc) gets 1000 events with distinct
300-character details appended before each reply; the grader keeps 50
per reply, but every reply adds 50 more. The grade must not change and
results.json must stay small (under 1 MB, as for printed floods).
"""
# ==== HOSTILE ====
import gc as _gc

_books = next(o for o in _gc.get_objects() if type(o).__name__ == "Bookkeeping")
_count = [0]
_drain = _books.drain


def _flooded_drain():
    events = _drain()
    for _ in range(1000):
        _count[0] += 1
        events.append({"kind": "write-file", "detail": f"/tmp/{_count[0]:08d}-" + "x" * 280})
    return events


_books.drain = _flooded_drain
