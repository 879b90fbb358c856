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
        self.exchanges = 0  # round trips: a chain of steps is one
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
        return self.exchange(header, blobs, deadline)[0]

    def exchange(self, header: dict, blobs=(), deadline: float = 0.0, replies: int = 1):
        """As WorkerProcess.exchange: a chain's steps answered one frame each, up to the first failure."""
        if self.broken:
            raise WorkerDied(f"the worker is unusable ({self.broken})")
        self.exchanges += 1
        sent = io.BytesIO(wire.pack(header, blobs))
        header, blobs = worker_module.wire.unpack(sent.read, 1 << 30, max_header=64 << 20)
        if header.get("op") != "chain":
            return [self._answer(header, blobs, deadline)]
        frames = []
        self.worker.objects.steps = []
        try:
            for step in header["steps"]:
                try:
                    frames.append(self._answer(step, blobs, deadline))
                except (StudentTimeout, WorkerDied) as exc:
                    exc.frames = frames
                    raise
                if not frames[-1][0].get("ok"):
                    break
        finally:
            self.worker.objects.steps = None
        return frames

    def _answer(self, header: dict, blobs, deadline: float):
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
        self.worker.answer(header, blobs, reply)  # as Worker.serve answers
        reply.seek(0)
        answer, answer_blobs = wire.unpack(reply.read, 1 << 26)
        if self.tamper is not None:
            answer = self.tamper(answer)
        return answer, answer_blobs

    def _name(self, header: dict) -> str:
        """What a request is about: the called function's name, the attribute, or the cell."""
        if header.get("op") == "call":
            try:
                return getattr(self.worker.objects(header.get("id"), ""), "__name__", "")
            except Exception:  # noqa: BLE001 - an unknown id: the worker's handler says so
                return ""
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
