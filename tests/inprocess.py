"""A worker for unit tests of the grader's side: worker.py's own request handler, run in this
process behind WorkerProcess's interface, on a clock the test moves.

Requests and replies still go through the wire format both ways (packed here, unpacked by
the worker's copy of wire.py, and back), so what the session sees is what a real worker
would send; only the process, the sandbox and real time are left out. `cost(op, name)` says
how many seconds a request takes (`name`: the function called, the attribute, the cell); one that would run past its deadline times out, as a real
one would, and leaves the worker unusable. A call of a function named in `crash` kills the worker.
"""

from __future__ import annotations

import importlib.util
import io
import sys

from autograder.engine import session as session_module
from autograder.engine import wire
from autograder.engine.errors import StudentTimeout, WorkerDied
from autograder.engine.sandbox import ENGINE_DIR


def _load_worker_module():
    """worker.py as a module of its own (it imports its sibling wire.py by bare name)."""
    saved_path, saved_argv = list(sys.path), sys.argv
    sys.argv = ["worker.py"]
    try:
        spec = importlib.util.spec_from_file_location("autograder_inprocess_worker", ENGINE_DIR / "worker.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path[:], sys.argv = saved_path, saved_argv
    return module


worker_module = _load_worker_module()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class InProcessWorker:
    def __init__(self, clock: Clock, setup: dict, cost=None, tamper=None, crash=()):
        self.clock = clock
        self.worker = worker_module.Worker(setup)
        self.cost = cost or (lambda op, name: 0.0)
        self.crash = set(crash)
        # tamper(header) -> header: rewrite a reply as a hostile worker could.
        self.tamper = tamper
        self.requests: list[dict] = []
        self.started_at = clock.now
        self.ready = True
        self.launch = None
        self.strays_killed = 0
        self.broken: str | None = None
        self.closed = False
        self.filtered = None  # no process of its own: no seccomp filter to see

    def start(self) -> None:
        pass

    def handshake(self, timeout: float) -> None:
        pass

    def request(self, header: dict, blobs=(), deadline: float = 0.0):
        if self.broken:
            raise WorkerDied(f"the worker is unusable ({self.broken})")
        sent = io.BytesIO(wire.pack(header, blobs))
        header, blobs = worker_module.wire.unpack(sent.read, 1 << 30, max_header=64 << 20)
        self.requests.append(header)
        if header.get("op") == "call" and self._name(header) in self.crash:
            self.broken = "died"
            raise WorkerDied("the worker was killed by SIGKILL during the call")
        seconds = self.cost(header.get("op"), self._name(header))
        if self.clock.now + seconds > deadline:
            self.clock.now = max(self.clock.now, deadline)
            self.broken = "timeout"
            raise StudentTimeout("timed out")
        self.clock.advance(seconds)
        reply = io.BytesIO()
        try:
            self.worker.reply(reply, {"ok": True, "value": self.worker.handle(header, blobs)})
        except Exception as exc:  # noqa: BLE001 - as Worker.serve answers
            self.worker.reply(reply, {"ok": False, "error": worker_module.describe_error(exc, self.worker.files)})
        reply.seek(0)
        answer, answer_blobs = wire.unpack(reply.read, 1 << 26)
        if self.tamper is not None:
            answer = self.tamper(answer)
        return answer, answer_blobs

    def _name(self, header: dict) -> str:
        """What a request is about: the called function's name, the attribute, or the cell."""
        if header.get("op") == "call":
            return getattr(self.worker.objects.table.get(header.get("id")), "__name__", "")
        return str(header.get("name") or header.get("label") or "")

    def ops(self) -> list[str]:
        return [r.get("op") for r in self.requests]

    @property
    def alive(self) -> bool:
        return self.broken is None and not self.closed

    def close(self) -> None:
        self.closed = True

    def printed(self) -> str:
        return ""


def install(monkeypatch, clock: Clock, **worker_options) -> list[InProcessWorker]:
    """Make StudentSession start InProcessWorkers on `clock`; returns the list of those started."""
    started: list[InProcessWorker] = []

    def make(iso, setup, max_reply_bytes=0, caps=None):
        worker = InProcessWorker(clock, setup, **worker_options)
        started.append(worker)
        return worker

    monkeypatch.setenv("AUTOGRADER_CGROUPS", "off")
    # A session pins the thread that loads its worker: here, pytest's own (test_affinity.py checks it).
    monkeypatch.setattr(session_module.affinity, "pin_here", lambda: None)
    monkeypatch.setattr(session_module, "WorkerProcess", make)
    monkeypatch.setattr(session_module, "time", clock)
    return started
