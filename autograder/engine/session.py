"""The grader's side of a student's worker: requests, time limits, proxies.

A suite never touches student objects. It calls proxies:

    out = student.conv2d_forward(x, w, b, stride=2)   # a plain ndarray comes back
    layer = student.Conv2d(3, 4, 3)                   # a Remote handle
    layer.W.data = w                                  # sent to the worker
    dx = layer.backward(dout)

Each call is bounded by the current test's deadline. A timeout, a dead
worker or a malformed reply fails the call with a StudentError saying so;
the worker is discarded and a fresh one (with the submission loaded again)
serves the next test.
"""

from __future__ import annotations

import builtins
import os
import select
import signal
import threading
import time

import numpy as np

from . import caps as caps_module
from .kinds import Event, event
from . import sandbox, wire

OUTPUT_LIMIT = 64 * 1024


class StudentError(Exception):
    """Something the student's code did: raised, timed out, crashed or returned junk."""

    kind = "error"

    def __init__(self, message: str, type_name: str = "", where: str = ""):
        super().__init__(message)
        self.message = message
        self.type_name = type_name
        self.where = where

    def __str__(self) -> str:
        text = f"{self.type_name}: {self.message}" if self.type_name else self.message
        return f"{text} (at {self.where})" if self.where else text


class StudentTimeout(StudentError):
    kind = "timeout"


class WorkerDied(StudentError):
    kind = "crash"


class BadReply(StudentError):
    kind = "protocol"


class CellSkipped(Exception):
    """A notebook cell ran out of time or killed its worker: load again without it."""


class NotRun(StudentError):
    """The grader did not call the code: it never returned before, or the submission's time is used up."""

    kind = "notrun"


class BadValue(StudentError):
    """The call returned something that cannot be graded as data."""


_remote_exception_classes: dict[str, type] = {}


def remote_exception(type_name: str, builtin: bool, message: str, where: str, base_name: str = "") -> StudentError:
    """An exception that is both a StudentError and the builtin it is (or derives from).

    So `pytest.raises(ValueError)` in a suite works on a student's ValueError,
    or on a student's subclass of it, while nothing from the worker is ever
    instantiated here but strings.
    """
    base = getattr(builtins, type_name if builtin else base_name, None) if (builtin or base_name) else None
    if isinstance(base, type) and issubclass(base, Exception) and not issubclass(base, StudentError):
        key = (type_name, base.__name__)
        cls = _remote_exception_classes.get(key)
        if cls is None:
            try:
                cls = type(type_name, (StudentError, base), {"__module__": "student"})
            except TypeError:  # builtin with an incompatible layout
                cls = StudentError
            _remote_exception_classes[key] = cls
        error = cls.__new__(cls)
        StudentError.__init__(error, message, type_name, where)
        error.args = (message,)
        return error
    return StudentError(message, type_name, where)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "the worker stopped answering"
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        hint = {
            signal.SIGKILL: " (the memory limit, or the grader stopping it)",
            signal.SIGXCPU: " (the CPU time limit)",
            signal.SIGXFSZ: " (the file size limit)",
            signal.SIGSEGV: " (a crash in native code)",
        }.get(sig, "")
        return f"the worker was killed by {name}{hint}"
    return f"the worker exited with code {code}"


class WorkerProcess:
    """One sandboxed worker: start, handshake, request/reply with deadlines."""

    def __init__(self, iso: sandbox.Isolation, setup: dict, max_reply_bytes: int = 1 << 26, caps=None):
        self.iso = iso
        self.setup = setup
        self.max_reply_bytes = max_reply_bytes
        self.caps = caps
        self.launch: sandbox.Launch | None = None
        # Processes the submission left running after a call, killed (seen from outside).
        self.strays_killed = 0
        self.output = bytearray()
        self.output_dropped = 0
        self._fds: list[int] = []
        self.broken: str | None = None
        self.ready = False
        self.started_at = 0.0

    def start(self) -> None:
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        out_r, out_w = os.pipe()
        for fd in (self.req_w, self.rep_r, out_r):
            os.set_inheritable(fd, False)
        self.started_at = time.monotonic()
        try:
            self.launch = sandbox.spawn(self.iso, req_r, rep_w, out_w, self.caps)
        finally:
            for fd in (req_r, rep_w, out_w):
                os.close(fd)
        self._fds = [self.req_w, self.rep_r]
        self._drain = threading.Thread(target=self._collect_output, args=(out_r,), daemon=True)
        self._drain.start()
        setup = dict(self.setup)
        if self.launch.uid is not None:
            setup["uid"] = setup["gid"] = self.launch.uid
        self._send(setup, deadline=time.monotonic() + 30)

    def _collect_output(self, fd: int) -> None:
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                room = OUTPUT_LIMIT - len(self.output)
                self.output += chunk[: max(room, 0)]
                self.output_dropped += max(len(chunk) - max(room, 0), 0)
        finally:
            os.close(fd)

    def handshake(self, timeout: float) -> None:
        """Wait for the worker's "ready" (once: a probed worker has said it already)."""
        if self.ready:
            return
        header, _ = self._receive(time.monotonic() + timeout)
        if not header.get("ok") or header.get("value", {}).get("v") != "ready":
            raise BadReply("the worker did not start properly")
        self.ready = True

    def _send(self, header: dict, blobs=(), deadline: float = 0.0) -> None:
        data = wire.pack(header, blobs)
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise StudentTimeout("timed out while sending the input")
            _, ready, _ = select.select([], [self.req_w], [], left)
            if ready:
                try:
                    sent = os.write(self.req_w, view[: 1 << 16])
                except BrokenPipeError:
                    raise self._died() from None
                view = view[sent:]

    def _reader(self, deadline: float, budget: float):
        # Outside a sandbox the worker writes to the host's disk: look at free space while waiting.
        watch_disk = self.launch is not None and self.launch.level != "namespace"

        def read(n: int) -> bytes:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StudentTimeout(f"timed out after {budget:g} s")
                ready, _, _ = select.select([self.rep_r], [], [], min(left, 0.25) if watch_disk else left)
                if ready:
                    return os.read(self.rep_r, min(n, 1 << 20))
                if watch_disk and self.launch.disk_exceeded():
                    self.broken = "disk"
                    self.launch.kill()
                    raise WorkerDied(f"the worker wrote more than {self.launch.disk_mb} MB to disk and was stopped")

        return read

    def _receive(self, deadline: float) -> tuple[dict, list[bytes]]:
        budget = max(deadline - time.monotonic(), 0)
        try:
            return wire.unpack(self._reader(deadline, round(budget, 1)), self.max_reply_bytes)
        except EOFError:
            raise self._died() from None
        except wire.WireError as exc:
            self.broken = "malformed reply"
            raise BadReply(f"the worker sent a malformed reply ({exc}); did the code write to the grader's channel?") from None
        except StudentTimeout:
            self.broken = "timeout"
            raise

    def _died(self) -> WorkerDied:
        self.broken = "died"
        code = None
        if self.launch is not None:
            try:
                code = self.launch.process.wait(timeout=2)
            except Exception:  # noqa: BLE001
                code = None
        return WorkerDied(_describe_exit(code) + " during the call")

    def request(self, header: dict, blobs=(), deadline: float = 0.0) -> tuple[dict, list[bytes]]:
        if self.broken:
            raise WorkerDied(f"the worker is unusable ({self.broken})")
        self.launch.resume()
        try:
            self._send(header, blobs, deadline)
            return self._receive(deadline)
        finally:
            if self.broken is None:
                # Between calls nothing of the submission runs: the worker (with any
                # thread it left) is stopped at once, then what it started is killed.
                self.launch.pause()
                self.strays_killed += self.launch.kill_strays()

    @property
    def alive(self) -> bool:
        return self.broken is None and self.launch is not None and self.launch.process.poll() is None

    def close(self) -> None:
        if self.launch is not None:
            self.launch.kill()
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []
        if hasattr(self, "_drain"):
            self._drain.join(timeout=2)

    def printed(self) -> str:
        text = self.output.decode("utf-8", "replace")
        if self.output_dropped:
            text += f"\n[... {self.output_dropped} more bytes not kept]"
        return text


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
            self.session.note("subclass", f"returned {cls}, a subclass of numpy.ndarray; graded on its values")
        return array

    @staticmethod
    def bad(cls: str, why: str):
        raise BadValue(f"returned {cls}, which is not plain data: {why}")


class StudentSession:
    """Everything the grader knows about one submission's running code."""

    def __init__(self, submission, iso, limits, banned, banned_why: str, seed: int, packages=("numpy",)):
        """`iso` is an Isolation, or a Future of one (sandbox detection still running)."""
        self.submission = submission
        self._iso = iso
        self._starting: threading.Thread | None = None
        self.limits = limits
        self.seed = seed
        self.setup = sandbox.worker_setup(limits, banned, banned_why, packages)
        self.max_reply_bytes = limits.reply_mb * 1024 * 1024
        # One cgroup for all of this submission's workers and what they start (where the host allows).
        self.caps = caps_module.SubmissionCaps(limits.memory_mb, limits.processes)
        # Seconds of student time: per test (only time inside calls counts), and for the whole
        # submission (worker starts, loads and calls: a submission that crashes its worker in
        # every test pays for the restarts).
        self.test_left = limits.test_seconds
        self.spent = 0.0
        self.worker: WorkerProcess | None = None
        self.spare: WorkerProcess | None = None
        self.generation = 0
        self.in_test = False
        self.budget = limits.test_seconds
        self.events: list[dict] = []
        self.events_dropped = 0
        self.event_keys: set = set()
        self.cell_errors: list[dict] = []
        self._cells_recorded = False
        # Notebook cells that timed out or killed the worker: skipped in every later load.
        self.skipped_cells: dict[str, str] = {}
        self.load_error: StudentError | None = None
        self.printed: list[str] = []
        self.restarts = 0
        self.timing = {"worker_start": [], "load": []}
        self.incident: StudentError | None = None
        # Per callable label: calls that ran out of time, and whether one ever returned.
        self._module_names: dict[tuple[int, str], Remote] = {}
        self.timeouts: dict[str, int] = {}
        self.returned: set[str] = set()
        self._call_timed_out = False

    # -- bookkeeping ---------------------------------------------------
    MAX_EVENTS = 200

    def note(self, kind: str, detail: str) -> None:
        key = (kind, detail)
        if key in self.event_keys:
            return
        if len(self.events) >= self.MAX_EVENTS:
            # The worker's bookkeeping is the student's to forge: its volume is bounded here.
            self.events_dropped += 1
            return
        self.event_keys.add(key)
        self.events.append({"kind": kind, "detail": detail})

    def _absorb(self, header: dict) -> None:
        events = header.get("events")
        if isinstance(events, list):
            for e in events[:50]:
                if isinstance(e, dict):
                    raw = wire.clean(str(e.get("kind", "?"))[:40])
                    kind = event(raw)
                    detail = wire.clean(str(e.get("detail", ""))[:300])
                    self.note(kind.value, detail if kind.value == raw else f"kind {raw!r}: {detail}")

    @property
    def iso(self) -> sandbox.Isolation:
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
                pids = [worker.launch.process.pid, *sandbox.descendants(worker.launch.process.pid)]
                if not self.caps.adopt(pids):
                    worker.close()  # it cannot be capped like the others: start a fresh one
                    return None
        return worker

    @property
    def submission_left(self) -> float:
        return self.limits.submission_seconds - self.spent

    def _out_of_time(self) -> NotRun:
        return NotRun(
            f"not run: the submission used up its {self.limits.submission_seconds:g} s for the whole suite "
            "(worker starts, loading and calls together)"
        )

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
        if self.submission_left <= 0:
            raise self._out_of_time()
        started = time.monotonic()
        self._join_prestart()
        if self.worker is not None:
            self._retire(self.worker)
            self.restarts += 1
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
                    self.spent += time.monotonic() - started
                    started = time.monotonic()
                    if self.submission_left <= 0:
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
            self._retire(worker)
            self.worker = None
            raise self.load_error.with_traceback(None) from None
        finally:
            self.spent += time.monotonic() - started

    def _load(self, worker: WorkerProcess) -> None:
        worker.handshake(timeout=max(self.limits.import_seconds, 30))
        self.timing["worker_start"].append(time.monotonic() - worker.started_at)
        loaded = time.monotonic()
        deadline = loaded + max(min(self.limits.import_seconds, self.submission_left), 0.0)
        request = {**self.submission.load_request(), "seed": self.seed}
        notebook = self.submission.kind == "notebook"
        if notebook:
            request["cells"] = []  # the module only: cells follow one request each
        header, blobs = worker.request(request, deadline=deadline)
        self._absorb(header)
        if not header.get("ok"):
            error = header.get("error") or {}
            raise remote_exception(
                wire.clean(str(error.get("type", "Error"))[:100]), False, wire.clean(str(error.get("message", ""))[:2000]),
                wire.clean(str(error.get("where", ""))[:500])
            )
        errors = self._run_cells(worker, deadline) if notebook else []
        self.timing["load"].append(time.monotonic() - loaded)
        if not self._cells_recorded:
            self._cells_recorded = True
            self.cell_errors = errors[:50]

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
            except (StudentTimeout, WorkerDied, BadReply) as exc:
                why = (f"did not finish within the notebook's {self.limits.import_seconds:g} s"
                       if isinstance(exc, StudentTimeout) else str(exc))
                self.skipped_cells[label] = f"{why}; the grader skipped this cell and graded what the others define"
                raise CellSkipped(label) from None
            self._absorb(header)
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
        if worker.strays_killed:
            self.note(Event.LEFT_PROCESSES.value, f"{worker.strays_killed} process(es) still running after calls were killed")
        worker.close()
        text = worker.printed()
        if text:
            self.printed.append(text)

    def close(self) -> None:
        self._join_prestart()
        for worker in (self.worker, self.spare):
            self._retire(worker)
        self.worker = self.spare = None
        self.caps.remove()

    # -- per test ------------------------------------------------------
    def begin_test(self, seconds: float) -> None:
        self.incident = None
        self.budget = seconds
        self.test_left = seconds
        self.in_test = True

    def end_test(self) -> None:
        self.in_test = False
        if self.worker is not None and not self.worker.alive:
            self._retire(self.worker)
            self.worker = None
            self.restarts += 1
            self.prestart()

    # -- requests ------------------------------------------------------
    def _request(self, header: dict, blobs=()):
        if self.load_error is not None:
            # Raised once per test: drop the traceback gathered by earlier raises.
            raise self.load_error.with_traceback(None)
        try:
            self.ensure_worker()
        except NotRun as exc:
            self.incident = self.incident or exc
            raise self.incident.with_traceback(None) from None
        assert self.worker is not None
        # Only time inside student code counts against a test: the reference's work
        # and numerical gradients between calls do not. Outside a test's call
        # (fixture set-up, say) a request still gets one test's budget.
        left = self.test_left if self.in_test else self.budget
        if self.submission_left <= 0:
            self.incident = self.incident or self._out_of_time()
            raise self.incident.with_traceback(None)
        if left <= 0:
            self.incident = self.incident or StudentTimeout(f"timed out after {self.budget:g} s")
            raise self.incident.with_traceback(None)
        started = time.monotonic()
        try:
            reply, reply_blobs = self.worker.request(header, blobs, started + min(left, self.submission_left))
        except StudentTimeout:
            self._call_timed_out = True
            self.incident = StudentTimeout(f"timed out after {self.budget:g} s") if left <= self.submission_left \
                else self._out_of_time()
            raise self.incident from None
        except (WorkerDied, BadReply) as exc:
            self.incident = self.incident or exc
            raise
        finally:
            elapsed = time.monotonic() - started
            self.spent += elapsed
            if self.in_test:
                self.test_left -= elapsed
        self._absorb(reply)
        if not reply.get("ok"):
            error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            raise remote_exception(
                wire.clean(str(error.get("type", "Error"))[:100]),
                bool(error.get("builtin")),
                wire.clean(str(error.get("message", ""))[:2000]),
                wire.clean(str(error.get("where", ""))[:500]),
                wire.clean(str(error.get("base", ""))[:100]),
            )
        try:
            return wire.decode(reply.get("value", {"t": "none"}), reply_blobs, _Decoder(self, self.generation))
        except wire.WireError as exc:
            raise BadReply(f"the worker sent a malformed value ({exc})") from None

    def _encode(self, values):
        encoder = wire.Encoder()
        tagged = [self._tag(v, encoder) for v in values]
        return tagged, encoder.blobs

    def _tag(self, value, encoder):
        if isinstance(value, Remote):
            self._check_generation(value)
            return {"t": "ref", "id": value._id, "cls": value._cls}
        if isinstance(value, (tuple, list)):
            return {"t": type(value).__name__, "items": [self._tag(v, encoder) for v in value]}
        return encoder.encode(value)

    def _check_generation(self, remote: Remote) -> None:
        if remote._generation != self.generation:
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
                raise remote_exception(
                    "AttributeError", True, f"{self.submission.display} does not define {name}", ""
                ) from None
            raise
        if isinstance(value, Remote):
            object.__setattr__(value, "_label", name if remote._id == 0 else f"{remote._cls}.{name}")
            if remote._id == 0 and value._cls in ("function", "type"):
                self._module_names[(value._generation, name)] = value
        return value

    def setattr(self, remote: Remote, name: str, value) -> None:
        self._check_generation(remote)
        (tagged,), blobs = self._encode([value])
        self._request({"op": "setattr", "id": remote._id, "name": name, "value": tagged, "blobs": len(blobs)}, blobs)

    def call(self, remote: Remote, args, kwargs):
        self._check_generation(remote)
        label = remote._label
        limit = self.limits.give_up_after_timeouts
        if limit and label not in self.returned and self.timeouts.get(label, 0) >= limit:
            self.incident = self.incident or NotRun(
                f"not run: {label} was stopped after {self.budget:g} s in {self.timeouts[label]} earlier "
                f"test(s) and never returned, so the grader no longer calls it"
            )
            raise self.incident.with_traceback(None)
        self._call_timed_out = False
        try:
            value = self._call(remote, args, kwargs)
        except StudentTimeout:
            if self._call_timed_out:
                self.timeouts[label] = self.timeouts.get(label, 0) + 1
            raise
        except StudentError as exc:
            if exc.kind == "error":  # it ended by raising: it does return
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

    def remote_copy(self, value) -> Remote:
        """A copy of `value` that lives in the worker; pass it to a call, then read_back it.

        This is how a check sees whether student code modified its inputs.
        """
        return object.__getattribute__(self, "_session").keep(value)

    def read_back(self, remote: Remote):
        return object.__getattribute__(self, "_session").fetch(remote)

    def __repr__(self) -> str:
        return f"<student module {object.__getattribute__(self, '_session').submission.display}>"
