"""One sandboxed worker seen from the grader: start, handshake, request and reply within deadlines.

It knows nothing of tests or submissions: the session decides what to ask
and how long a call may take; this module only moves bounded plain data
through two pipes and keeps what the worker printed (capped).
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time

from . import affinity, sandbox, syscalls, wire
from .errors import BadReply, StudentTimeout, WorkerDied
from .kinds import Level

OUTPUT_LIMIT = 64 * 1024


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
        # Whether the seccomp filter was seen holding, from outside, once it said "ready" (None: never ready).
        self.filtered: bool | None = None

    def start(self) -> None:
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        out_r, out_w = os.pipe()
        for fd in (self.req_w, self.rep_r, out_r):
            os.set_inheritable(fd, False)
        self.started_at = time.monotonic()
        try:
            with affinity.unpinned():  # the spawner thread, if this makes it, gets every CPU (affinity.unpinned)
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
        if self.iso.seccomp and self.iso.level != Level.NAMESPACE:
            setup["seccomp"] = self.iso.seccomp.hex()  # bubblewrap installs it at the namespace level
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
        self.filtered = syscalls.mode(self.launch._read_proc("status")) == syscalls.FILTER_MODE

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
        watch_disk = self.launch is not None and self.launch.level != Level.NAMESPACE

        def read(n: int) -> bytes:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StudentTimeout(f"timed out after {budget:g} s")
                ready, _, _ = select.select([self.rep_r], [], [], min(left, 0.25) if watch_disk else left)
                if ready:
                    return os.read(self.rep_r, min(n, 1 << 20))
                if watch_disk and self.launch.disk_exceeded():
                    self._stopped_for_disk()

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
        return self.exchange(header, blobs, deadline, 1)[0]

    def exchange(self, header: dict, blobs=(), deadline: float = 0.0, replies: int = 1) -> list[tuple[dict, list[bytes]]]:
        """Send one request and read up to `replies` frames (a chain's steps), stopping at a failed one.

        A timeout or a death mid-way carries the frames that did arrive (`.frames`): the steps
        that ended before it."""
        if self.broken:
            raise WorkerDied(f"the worker is unusable ({self.broken})")
        self.launch.resume()
        frames: list[tuple[dict, list[bytes]]] = []
        try:
            self._send(header, blobs, deadline)
            while len(frames) < replies:
                frames.append(self._receive(deadline))
                if not frames[-1][0].get("ok"):
                    break
        except (StudentTimeout, WorkerDied, BadReply) as exc:
            exc.frames = frames
            raise
        finally:
            if self.broken is None:
                # Between calls nothing of the submission runs: the worker (with any
                # thread it left) is stopped at once, then what it started is killed.
                self.strays_killed += self.launch.after_call()
        # Also after every call, not only while one is slow: a call that writes and returns at
        # once would otherwise never be looked at (statvfs, then a walk only if space dropped).
        if self.launch.level != Level.NAMESPACE and self.launch.disk_exceeded():
            self._stopped_for_disk()
        return frames

    def _stopped_for_disk(self):
        self.broken = "disk"
        self.launch.kill()
        raise WorkerDied(f"the worker wrote more than {self.launch.disk_mb} MB to disk and was stopped")

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
        text = wire.clean(self.output.decode("utf-8", "replace"))  # the student's bytes: inert from here on
        if self.output_dropped:
            text += f"\n[... {self.output_dropped} more bytes not kept]"
        return text
