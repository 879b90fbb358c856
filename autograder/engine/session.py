"""The grader's side of a student's worker: requests, time limits, proxies.

A suite never touches student objects. It calls proxies:

    out = student.conv2d_forward(x, w, b, stride=2)   # a plain ndarray comes back
    layer = student.Conv2d(3, 4, 3)                   # a Remote handle
    layer.W.data = w                                  # sent to the worker
    dx = layer.backward(dout)

Each call is bounded by the current test's deadline (budget.py). A
timeout, a dead worker or a malformed reply fails the call with a
StudentError saying so (errors.py); the worker (worker_process.py) is
discarded and a fresh one, with the submission loaded again, serves the
next test. What the workers reported and printed goes to a Transcript.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from . import affinity
from . import caps as caps_module
from . import wire
from .budget import Budget
from .errors import (
    BadReply, BadValue, CellSkipped, NotRun, StudentError, StudentTimeout, WorkerDied, remote_exception,
)
from .kinds import Event, TestKind
from .transcript import Transcript
from .sandbox import worker_setup
from .worker_process import WorkerProcess


class Remote:
    """A handle to an object that lives in the worker (a layer, a Parameter, a function)."""

    __slots__ = ("_session", "_id", "_cls", "_generation", "_label")

    def __init__(self, session, ident: int, cls: str, generation: int):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_cls", cls)
        object.__setattr__(self, "_generation", generation)
        # How suites reached it ("conv2d_forward", "Conv2d.backward"): names it in messages.
        object.__setattr__(self, "_label", cls)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)  # keep NumPy and pytest from probing the worker
        return self._session.getattr(self, name)

    def __setattr__(self, name: str, value) -> None:
        self._session.setattr(self, name, value)

    def __call__(self, *args, **kwargs):
        return self._session.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<student {self._cls}>"


_remote_classes: dict[str, type] = {}


def _remote_class(cls: str) -> type:
    """A Remote subclass named after the student's class, so `type(x).__name__` in a
    check's message names what the student returned ("Box"), not our handle."""
    found = _remote_classes.get(cls)
    if found is None:
        if len(_remote_classes) >= 256 or not cls.isidentifier():
            return Remote
        found = _remote_classes[cls] = type(cls, (Remote,), {"__slots__": (), "__module__": "student"})
    return found


class _Decoder:
    """How replies become values here: refs become Remotes, arrays plain ndarrays."""

    def __init__(self, session, generation: int):
        self.session = session
        self.generation = generation

    def __call__(self, ident: int, cls: str) -> Remote:
        return _remote_class(cls)(self.session, ident, cls, self.generation)

    def array(self, array: np.ndarray, cls: str, scalar: bool):
        if scalar:
            return array[()]
        if cls not in ("numpy.ndarray", "ndarray"):
            self.session.transcript.note(Event.SUBCLASS, f"returned {cls}, a subclass of numpy.ndarray; graded on its values")
        return array

    @staticmethod
    def bad(cls: str, why: str):
        raise BadValue(f"returned {cls}, which is not plain data: {why}")


class StudentSession:
    """One submission's running code, as the suite's checks reach it.

    Owns the workers (one serving, one spare started ahead), loads the
    submission into each, and turns proxy operations into requests within
    the Budget. Outside code reads `budget`, `transcript`, `load_error` and
    `incident`, and changes them only through the methods below.
    """

    def __init__(self, submission, iso, limits, banned, banned_why: str, seed: int, packages=("numpy",)):
        """`iso` is an Isolation, or a Future of one (sandbox detection still running)."""
        self.submission = submission
        self._iso = iso
        self._starting: threading.Thread | None = None
        self.limits = limits
        self.seed = seed
        self.setup = worker_setup(limits, banned, banned_why, packages)
        self.max_reply_bytes = limits.reply_mb * 1024 * 1024
        # One cgroup for all of this submission's workers and what they start (where the host allows).
        self.caps = caps_module.SubmissionCaps(limits.memory_mb, limits.processes)
        self.budget = Budget(limits.test_seconds, limits.submission_seconds)
        self.transcript = Transcript()
        self.worker: WorkerProcess | None = None
        self.spare: WorkerProcess | None = None
        self._unpinned_cpus: set[int] | None = None  # this thread's CPUs before it was kept on one
        self.generation = 0
        # Notebook cells that timed out or killed the worker: skipped in every later load.
        self.skipped_cells: dict[str, str] = {}
        # Why the submission cannot be graded at all (unreadable, or its first load failed).
        self.load_error: StudentError | None = None
        # What stopped the current test's calls: raised again by every later call of the test.
        self.incident: StudentError | None = None
        self._module_names: dict[tuple[int, str], Remote] = {}
        # Per callable label: calls that ran out of time, and whether one ever returned.
        self.timeouts: dict[str, list[float]] = {}  # the test limits each ran out of, one per timeout
        self.returned: set[str] = set()
        self._call_timed_out = False

    def refuse(self, reason: str) -> None:
        """Grade nothing of this submission: every check fails with `reason`."""
        self.load_error = StudentError(reason)

    @property
    def iso(self):
        return self._iso.result() if hasattr(self._iso, "result") else self._iso

    # -- worker lifecycle ----------------------------------------------
    def _new_worker(self) -> WorkerProcess:
        worker = WorkerProcess(self.iso, self.setup, max_reply_bytes=self.max_reply_bytes, caps=self.caps)
        try:
            worker.start()
        except StudentError:
            worker.close()
            raise
        except OSError as exc:  # the submission's process cap is full, say: its problem, not the batch's
            worker.close()
            raise WorkerDied(f"a new worker could not start ({exc})") from None
        return worker

    def _adopt(self, worker: WorkerProcess | None) -> WorkerProcess | None:
        """A worker started before this submission (the sandbox probe's) joins its caps and limits."""
        if worker is not None:
            worker.max_reply_bytes = self.max_reply_bytes
            worker.caps = self.caps
            if self.caps.active and worker.launch is not None:
                if not self.caps.adopt(worker.launch.pids()):
                    worker.close()  # it cannot be capped like the others: start a fresh one
                    return None
                worker.launch.enlist(self.caps)
        return worker

    def prestart(self, background: bool = False, ready=None) -> None:
        """Start a spare worker now so the next restart does not wait for Python and NumPy.

        In the background, the start (and any wait for sandbox detection)
        overlaps pytest's start; the first request waits for it. `ready()`
        may hand over an idle worker already started (the sandbox probe's)
        instead of a new one.
        """
        if self.spare is not None or self._starting is not None:
            return
        if not background:
            self.spare = self._new_worker()
            return

        def start():
            try:
                self.iso  # wait for sandbox detection, which may leave a worker ready
                self.spare = self._adopt(ready() if ready else None) or self._new_worker()
            except Exception:  # noqa: BLE001 - ensure_worker starts one itself and meets the error there
                pass

        self._starting = threading.Thread(target=start, name="autograder-prestart", daemon=True)
        self._starting.start()

    def _join_prestart(self) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None

    def ensure_worker(self) -> None:
        """A loaded, healthy worker, started (and the submission loaded) if needed."""
        if self.worker is not None and self.worker.alive:
            return
        if self.budget.submission_left <= 0:
            raise self.budget.out_of_time()
        started = time.monotonic()
        self._join_prestart()
        if self.worker is not None:
            self._retire(self.worker)
        worker, self.spare = (self.spare or self._new_worker()), None
        self.worker = worker
        self.generation += 1
        self._module_names.clear()
        try:
            while True:
                try:
                    self._load(worker)
                    break
                except CellSkipped:  # start over without that cell, on a fresh worker
                    self._retire(worker)
                    self.budget.charge(time.monotonic() - started, call=False)
                    started = time.monotonic()
                    if self.budget.submission_left <= 0:
                        raise StudentTimeout("its cells used up the submission's time") from None
                    worker = self.worker = self._new_worker()
        except StudentError as exc:
            if self.generation > 1:
                raise
            # The first load decides whether the submission can be graded at all.
            if isinstance(exc, StudentTimeout):
                exc = StudentTimeout(f"loading timed out after {self.limits.import_seconds:g} s")
            kind = StudentTimeout if isinstance(exc, StudentTimeout) else StudentError
            self.load_error = kind(f"{self.submission.display} could not be loaded: {exc}")
            self.load_error.origin = exc  # what raised, for a cause to be named (causes.py)
            self._retire(worker)
            self.worker = None
            raise self.load_error.with_traceback(None) from None
        finally:
            self.budget.charge(time.monotonic() - started, call=False)

    def _load(self, worker: WorkerProcess) -> None:
        worker.handshake(timeout=max(self.limits.import_seconds, 30))
        self.transcript.timing["worker_start"].append(time.monotonic() - worker.started_at)
        loaded = time.monotonic()
        deadline = loaded + max(min(self.limits.import_seconds, self.budget.submission_left), 0.0)
        # From here the worker and this thread take turns: this thread stays on one CPU (affinity.py).
        if self._unpinned_cpus is None:  # given back at close(): the caller's thread is not ours
            self._unpinned_cpus = affinity.pin_here()
        request = {**self.submission.load_request(), "seed": self.seed}
        notebook = self.submission.kind == "notebook"
        if notebook:
            request["cells"] = []  # the module only: cells follow one request each
        header, blobs = worker.request(request, deadline=deadline)
        self.transcript.round_trips += 1
        self.transcript.absorb(header)
        if not header.get("ok"):
            raise _remote_error(header, from_call=False)
        errors = self._run_cells(worker, deadline) if notebook else []
        self.transcript.timing["load"].append(time.monotonic() - loaded)
        self.transcript.cells_ran(errors)

    def _run_cells(self, worker: WorkerProcess, deadline: float) -> list[dict]:
        """Run a notebook's cells one request each, as Jupyter's "run all" that carries on.

        A cell that raises is reported and the next cells run. A cell that
        runs out of the notebook's time, or kills its worker, is skipped from
        then on (CellSkipped makes the caller start over without it): the
        notebook is graded on what its other cells define.
        """
        errors = []
        for label, source in self.submission.cells:
            if label in self.skipped_cells:
                errors.append({"type": "NotRun", "message": self.skipped_cells[label], "where": label})
                continue
            try:
                header, blobs = worker.request({"op": "cell", "label": label, "source": source}, deadline=deadline)
                self.transcript.round_trips += 1
            except (StudentTimeout, WorkerDied, BadReply) as exc:
                why = (f"did not finish within the notebook's {self.limits.import_seconds:g} s"
                       if isinstance(exc, StudentTimeout) else str(exc))
                self.skipped_cells[label] = f"{why}; the grader skipped this cell and graded what the others define"
                raise CellSkipped(label) from None
            self.transcript.absorb(header)
            if not header.get("ok"):  # sys.exit() in a cell: Jupyter shows it and goes on, so do we
                error = header.get("error") if isinstance(header.get("error"), dict) else {}
                errors.append({"type": wire.clean(str(error.get("type", "Error")))[:100],
                               "message": wire.clean(str(error.get("message", "")))[:500], "where": label[:300]})
                continue
            try:
                value = wire.decode(header.get("value", {"t": "none"}), blobs)
            except wire.WireError:
                value = None  # only bookkeeping: a garbled cell error costs no points
            if isinstance(value, (tuple, list)) and len(value) == 3:
                errors.append({"type": str(value[0])[:100], "message": str(value[1])[:500], "where": str(value[2])[:300]})
        return errors

    def start(self) -> StudentError | None:
        """Load the submission now; returns the reason if it cannot be loaded at all."""
        try:
            self.ensure_worker()
        except StudentError:
            pass
        return self.load_error

    def _retire(self, worker: WorkerProcess | None) -> None:
        if worker is None:
            return
        worker.close()
        self.transcript.worker_retired(worker.strays_killed, worker.printed(), worker.filtered)

    def close(self) -> None:
        affinity.restore(self._unpinned_cpus)  # first: nothing below may keep the caller's thread pinned
        self._unpinned_cpus = None
        self._join_prestart()
        for worker in (self.worker, self.spare):
            self._retire(worker)
        self.worker = self.spare = None
        self.caps.remove()

    # -- per test ------------------------------------------------------
    def begin_test(self, seconds: float) -> None:
        """The test's body starts: its calls share `seconds`."""
        self.incident = None
        self.budget.begin_test(seconds)

    def end_test_body(self) -> None:
        """The test's body ended: calls from its teardown get a fresh allowance of their own."""
        self.budget.end_test()

    def end_test(self) -> None:
        """The test is over: a worker it broke is replaced now, before the next test's clock starts."""
        self.budget.end_test()
        # Its incident is its own: left set, the next test's fixtures (which run before
        # begin_test) would fail with it, and the plugin would explain them by it.
        self.incident = None
        if self.worker is not None and not self.worker.alive:
            self._retire(self.worker)
            self.worker = None
            self.prestart()

    def _stop(self, reason: StudentError):
        """Record what stopped the test's calls (the first reason wins) and return it to raise."""
        self.incident = self.incident or reason
        return self.incident.with_traceback(None)

    # -- requests ------------------------------------------------------
    def _request(self, header: dict, blobs=()):
        ((reply, reply_blobs),) = self._exchange(header, blobs)
        if not reply.get("ok"):
            raise _remote_error(reply, from_call=True)
        return self._decode(reply, reply_blobs)

    def _decode(self, reply: dict, blobs):
        try:
            return wire.decode(reply.get("value", {"t": "none"}), blobs, _Decoder(self, self.generation))
        except wire.WireError as exc:
            raise BadReply(f"the worker sent a malformed value ({exc})") from None

    def _exchange(self, header: dict, blobs=(), replies: int = 1, arrived: list | None = None) -> list:
        """Send a request within the test's limits and return its reply frames (absorbed, not decoded).

        `arrived` receives the frames that came before a timeout or a death."""
        if self.load_error is not None:
            # Raised once per test: drop the traceback gathered by earlier raises.
            raise self.load_error.with_traceback(None)
        if self.incident is not None and self.budget.in_test:
            # The test has failed already (timed out, crashed its worker): its
            # later calls would not change that, so none is made, nor a restart.
            raise self.incident.with_traceback(None)
        # Checked before a restart too: a test or submission out of time starts no worker.
        reason = self.budget.exhausted()
        if reason is not None:
            raise self._stop(reason)
        try:
            self.ensure_worker()
        except NotRun as exc:
            raise self._stop(exc) from None
        assert self.worker is not None
        reason = self.budget.exhausted()  # the restart may have used what was left
        if reason is not None:
            raise self._stop(reason)
        allowed, by_test = self.budget.allowance()
        started = time.monotonic()
        self.transcript.round_trips += 1
        try:
            frames = self.worker.exchange(header, blobs, started + allowed, replies)
        except StudentTimeout as exc:
            self._absorb(getattr(exc, "frames", []), arrived)
            self._call_timed_out = True
            self.incident = self.budget.stopped(by_test)
            raise self.incident from None
        except (WorkerDied, BadReply) as exc:
            self._absorb(getattr(exc, "frames", []), arrived)
            self.incident = self.incident or exc
            raise
        finally:
            self.budget.charge(time.monotonic() - started)
        return self._absorb(frames, arrived)

    def _absorb(self, frames: list, into: list | None = None) -> list:
        for reply, _ in frames:
            self.transcript.absorb(reply)
        if into is not None:
            into.extend(frames)
        return frames

    def _encode(self, values):
        encoder = wire.Encoder()
        tagged = [self._tag(v, encoder) for v in values]
        return tagged, encoder.blobs

    def _tag(self, value, encoder):
        if isinstance(value, Step) and value._op == "known":
            value = value.value
        elif isinstance(value, Step):
            return {"t": "ref", "id": -1 - value._index, "cls": "step"}  # the worker's result of that step
        if isinstance(value, Remote):
            self._check_generation(value)
            return {"t": "ref", "id": value._id, "cls": value._cls}
        if isinstance(value, (tuple, list)):
            return {"t": type(value).__name__, "items": [self._tag(v, encoder) for v in value]}
        return encoder.encode(value)

    def _check_generation(self, remote: Remote) -> None:
        # The module (id 0) is in every worker; any other object only in the one that made it.
        gone = remote._id != 0 and (self.worker is None or not self.worker.alive)
        if remote._generation != self.generation or gone:
            raise WorkerDied("this object belonged to a worker that has since stopped")

    def keep(self, value) -> Remote:
        """Put a value in the worker and return a handle to it (see StudentModule.remote_copy)."""
        (tagged,), blobs = self._encode([value])
        return self._request({"op": "keep", "value": tagged, "blobs": len(blobs)}, blobs)

    def fetch(self, remote: Remote):
        self._check_generation(remote)
        return self._request({"op": "fetch", "id": remote._id})

    def module(self) -> Remote:
        return Remote(self, 0, "module", self.generation)

    def getattr(self, remote: Remote, name: str):
        if remote._id == 0:
            # A module-level function or class is looked up once per worker: a suite
            # names student.conv2d_forward before every call, and each lookup is a
            # round trip. (Were the student's code to rebind the name, its own earlier
            # object would be called: its own code either way.)
            cached = self._module_names.get((self.generation, name))
            if cached is not None and self.worker is not None and self.worker.alive:
                return cached
            remote = self.module()
        self._check_generation(remote)
        try:
            value = self._request({"op": "getattr", "id": remote._id, "name": name})
        except StudentError as exc:
            if remote._id == 0 and exc.type_name == "AttributeError":
                raise self._not_defined(name) from None
            raise
        if isinstance(value, Remote):
            object.__setattr__(value, "_label", name if remote._id == 0 else f"{remote._cls}.{name}")
            if remote._id == 0 and value._cls in ("function", "type"):
                self._module_names[(value._generation, name)] = value
        return value

    def _not_defined(self, name: str) -> StudentError:
        """A module-level name the submission lacks, said as such (not as the worker's AttributeError)."""
        return remote_exception("AttributeError", True, f"{self.submission.display} does not define {name}", "")

    def setattr(self, remote: Remote, name: str, value) -> None:
        self._check_generation(remote)
        (tagged,), blobs = self._encode([value])
        self._request({"op": "setattr", "id": remote._id, "name": name, "value": tagged, "blobs": len(blobs)}, blobs)

    def _give_up(self, label: str) -> None:
        """Refuse to call `label` once it ran out of time give_up_after_timeouts times and never returned."""
        limit = self.limits.give_up_after_timeouts
        timed_out = self.timeouts.get(label, [])
        if limit and label not in self.returned and len(timed_out) >= limit:
            stopped_after = " or ".join(f"{seconds:g} s" for seconds in sorted(set(timed_out)))
            raise self._stop(NotRun(
                f"not run: {label} was stopped after {stopped_after} in {len(timed_out)} "
                f"earlier test(s) and never returned, so the grader no longer calls it"
            ))

    def call(self, remote: Remote, args, kwargs):
        self._check_generation(remote)
        label = remote._label
        self._give_up(label)
        self._call_timed_out = False
        try:
            value = self._call(remote, args, kwargs)
        except StudentTimeout:
            if self._call_timed_out:
                self.timeouts.setdefault(label, []).append(self.budget.test_seconds)
            raise
        except StudentError as exc:
            if exc.kind == TestKind.ERROR:  # it ended by raising: it does return
                self.returned.add(label)
            raise
        self.returned.add(label)
        if isinstance(value, Remote):  # an object made by the call: calling it runs its __call__
            object.__setattr__(value, "_label", f"{value._cls}.__call__")
        return value

    def _call(self, remote: Remote, args, kwargs):
        tagged_args, blobs = self._encode(list(args) + list(kwargs.values()))
        header = {
            "op": "call",
            "id": remote._id,
            "args": tagged_args[: len(args)],
            "kwargs": dict(zip(kwargs.keys(), tagged_args[len(args):])),
            "blobs": len(blobs),
        }
        return self._request(header, blobs)


class Step:
    """One request of a Chain: a name looked up, an attribute set, a call. After run(), `value`.

    Used like a handle: `layer = chain.Conv2d(3, 4, 3)`, `layer.W.data = w`, `out = layer.forward(x)`
    add steps; nothing is sent until chain.run()."""

    __slots__ = ("_chain", "_index", "_op", "_target", "_name", "_args", "_kwargs", "value", "ran")

    def __init__(self, chain, index, op, target, name="", args=(), kwargs=None):
        for slot, value in (("_chain", chain), ("_index", index), ("_op", op), ("_target", target), ("_name", name),
                            ("_args", args), ("_kwargs", kwargs or {}), ("value", None), ("ran", False)):
            object.__setattr__(self, slot, value)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._chain._add("getattr", self, name)

    def __setattr__(self, name: str, value) -> None:
        self._chain._add("setattr", self, name, (value,))

    def __call__(self, *args, **kwargs):
        return self._chain._add("call", self, "", args, kwargs)

    def __getitem__(self, key):
        """`step[i]`: two steps, the object's __getitem__ looked up and called, as Python would."""
        return self._chain._add("getattr", self, "__getitem__")(key)

    def __repr__(self) -> str:
        return f"<step {self._index}: {self._op} {self._name}>"


class Chain:
    """Requests to one worker sent as one: a layer made, its parameters set, forward and backward.

    Each step runs as the same request alone would, in order, and is answered in a frame of its
    own as it ends: values, errors, time limits, give_up_after_timeouts and the test's incident
    are the same as step by step, at one round trip (and one stop of the worker) for all. The
    first step that raises ends the chain: run() raises its error, `failed` is that step, and the
    steps after it did not run.
    """

    def __init__(self, session: StudentSession):
        self.session = session
        self.steps: list[Step] = []
        self.failed: Step | None = None

    def __getattr__(self, name: str) -> Step | Remote:
        """A module-level name: its handle if this worker looked it up already, else a step."""
        if name.startswith("__"):
            raise AttributeError(name)
        session = self.session
        cached = session._module_names.get((session.generation, name))
        if cached is not None and session.worker is not None and session.worker.alive:
            return self.on(cached)
        return self._add("getattr", session.module(), name)

    def on(self, handle: Remote) -> Step:
        """A handle from earlier requests, to add steps on: `chain.on(layer).forward(x)`."""
        known = Step(self, -1, "known", handle, "")  # sent as the handle itself, not as a step
        object.__setattr__(known, "value", handle)
        object.__setattr__(known, "ran", True)
        return known

    def _add(self, op, target, name="", args=(), kwargs=None) -> Step:
        if isinstance(target, Step) and target._op == "known":
            target = target.value
        step = Step(self, len(self.steps), op, target, name, args, kwargs)
        self.steps.append(step)
        return step

    def _own(self, value):
        """`value` with another chain's steps replaced by what they gave (a step number means this chain's)."""
        if isinstance(value, Step) and value._chain is not self:
            if not value.ran:
                raise ValueError(f"{value!r} of another chain has not run")
            return value.value
        if isinstance(value, (tuple, list)):
            return type(value)(self._own(v) for v in value)
        return value

    def _label(self, target) -> str | None:
        """What a call of `target` is named by (session.call's label), if known before running."""
        if isinstance(target, Remote):
            return target._label
        if isinstance(target, Step) and target.ran:
            return target.value._label if isinstance(target.value, Remote) else None
        if isinstance(target, Step) and target._op == "getattr" and isinstance(target._target, Step):
            made = target._target  # a method of an object made in this chain: its class is the one called
            if made._op == "call" and isinstance(made._target, Remote) and made._target._cls == "type":
                return f"{made._target._label}.{target._name}"
            if made._op == "call" and isinstance(made._target, Step) and made._target._op == "getattr" \
                    and isinstance(made._target._target, Remote) and made._target._target._id == 0:
                return f"{made._target._name}.{target._name}"  # a class looked up in the same chain
        return None

    def run(self) -> None:
        """Send every step; each step's `value` is set as it ran."""
        session = self.session
        labels = [self._label(step._target) if step._op == "call" else None for step in self.steps]
        for label in labels:
            if label is not None:
                session._give_up(label)
        encoder = wire.Encoder()
        steps = []
        for step in self.steps:
            target = self._own(step._target)
            if isinstance(target, Remote):
                session._check_generation(target)
            header = {"op": step._op, "id": session._tag(target, encoder)["id"], "name": step._name}
            if step._op == "setattr":
                header["value"] = session._tag(self._own(step._args[0]), encoder)
            elif step._op == "call":
                header["args"] = [session._tag(self._own(v), encoder) for v in step._args]
                header["kwargs"] = {k: session._tag(self._own(v), encoder) for k, v in step._kwargs.items()}
            steps.append(header)
        session._call_timed_out = False
        arrived: list = []
        try:
            session._exchange({"op": "chain", "steps": steps, "blobs": len(encoder.blobs)}, encoder.blobs,
                              len(steps), arrived)
        except StudentError as exc:
            self._settle(arrived)
            if len(arrived) < len(self.steps):
                self.failed = self.steps[len(arrived)]
                label = self._label(self.failed._target) if self.failed._op == "call" else None
                if isinstance(exc, StudentTimeout) and session._call_timed_out and label is not None:
                    session.timeouts.setdefault(label, []).append(session.budget.test_seconds)
            raise
        self._settle(arrived)

    def _settle(self, frames) -> None:
        """Each arrived frame's value on its step, handles named as session.getattr/call name them."""
        session = self.session
        for step, (reply, blobs) in zip(self.steps, frames):
            label = self._label(step._target) if step._op == "call" else None
            if not reply.get("ok"):
                self.failed = step
                exc = _remote_error(reply, from_call=True)
                if (step._op == "getattr" and isinstance(step._target, Remote) and step._target._id == 0
                        and exc.type_name == "AttributeError"):
                    raise session._not_defined(step._name)
                if label is not None and exc.kind == TestKind.ERROR:  # it ended by raising: it does return
                    session.returned.add(label)
                raise exc
            value = session._decode(reply, blobs)
            object.__setattr__(step, "value", value)
            object.__setattr__(step, "ran", True)
            if label is not None:
                session.returned.add(label)
            if isinstance(value, Remote):
                if step._op == "call":
                    name = f"{value._cls}.__call__"
                else:
                    owner = step._target if isinstance(step._target, Remote) else step._target.value
                    owner_cls = owner._cls if isinstance(owner, Remote) else type(owner).__name__  # a list, say
                    module = isinstance(owner, Remote) and owner._id == 0
                    name = step._name if module else f"{owner_cls}.{step._name}"
                    if module and value._cls in ("function", "type"):
                        session._module_names[(value._generation, step._name)] = value
                object.__setattr__(value, "_label", name)


def class_name(remote: Remote) -> str:
    """The class name of the object a handle stands for, as the worker reported it."""
    return object.__getattribute__(remote, "_cls")


def _remote_error(header: dict, from_call: bool) -> StudentError:
    """The exception a worker's error reply describes (strings only, bounded and cleaned).

    A call's error is also the builtin it derives from (so a check's
    `raises(ValueError, ...)` sees a student's ValueError); a load's is only
    reported, inside the reason the submission could not be loaded.
    """
    error = header.get("error") if isinstance(header.get("error"), dict) else {}
    return remote_exception(
        wire.clean(str(error.get("type", "Error"))[:100]),
        from_call and bool(error.get("builtin")),
        wire.clean(str(error.get("message", ""))[:2000]),
        wire.clean(str(error.get("where", ""))[:500]),
        wire.clean(str(error.get("base", ""))[:100]) if from_call else "",
        _lines(error.get("lines")),
    )


def _lines(value) -> tuple:
    """At most 120 student source lines of 160 characters: whatever a worker sends, bounded."""
    if not isinstance(value, list):
        return ()
    return tuple(wire.clean(line[:160]) for line in value[-120:] if isinstance(line, str))


class StudentModule:
    """`student.<name>` for suites: looks names up in the current worker each time.

    Looking up at use (not caching) means a name still works after the
    worker was replaced between tests.
    """

    def __init__(self, session: StudentSession):
        object.__setattr__(self, "_session", session)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        session = object.__getattribute__(self, "_session")
        return session.getattr(session.module(), name)

    def chain(self) -> Chain:
        """Requests gathered and sent as one (see Chain): `chain = student.chain()`, steps, `chain.run()`."""
        return Chain(object.__getattribute__(self, "_session"))

    def remote_copy(self, value) -> Remote:
        """A copy of `value` that lives in the worker; pass it to a call, then read_back it.

        This is how a check sees whether student code modified its inputs.
        """
        return object.__getattribute__(self, "_session").keep(value)

    def read_back(self, remote: Remote):
        return object.__getattribute__(self, "_session").fetch(remote)

    def __repr__(self) -> str:
        return f"<student module {object.__getattribute__(self, '_session').submission.display}>"
