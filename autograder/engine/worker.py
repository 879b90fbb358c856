"""The sandboxed side: holds a student's code and answers the grader's requests.

Nothing this process says is trusted. The grader sends requests (load the
submission, get or set an attribute, call something) and reads back plain
data (see wire.py); it decides every grade itself. What this process adds
is bookkeeping for the instructor: imports it refused, files written,
processes started, library functions replaced. A submission can silence
that bookkeeping but cannot gain points by it.

It is started by sandbox/start.py as `python -I worker.py REQUEST_FD REPLY_FD`, with the
request and reply channels on those inherited pipe ends; stdout and stderr carry the
student's prints. Standard library and NumPy only.
"""

import builtins
import importlib
import linecache
import os
import resource
import sys
import traceback
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if len(sys.argv) > 3:  # in the namespace sandbox: the allowed packages' folder (python runs with -S)
    sys.path.append(sys.argv[3])

import numpy as np  # noqa: E402  (before privileges drop: it may live where others cannot read)
import numpy.fft  # noqa: E402,F401
import numpy.lib.stride_tricks  # noqa: E402,F401
import numpy.linalg  # noqa: E402,F401
import numpy.random  # noqa: E402,F401
import numpy.testing  # noqa: E402,F401

import wire  # noqa: E402

# Library functions a submission might replace to fool an in-process grader.
WATCHED = [
    ("numpy", "allclose"), ("numpy", "isclose"), ("numpy", "array_equal"), ("numpy", "all"),
    ("numpy.testing", "assert_allclose"), ("numpy.testing", "assert_array_equal"),
    ("numpy.testing", "assert_array_almost_equal"), ("numpy.testing", "assert_equal"),
    ("builtins", "isinstance"), ("builtins", "print"), ("builtins", "open"), ("builtins", "__import__"),
    ("os", "_exit"), ("sys", "exit"),
]
SPAWN_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "pty.spawn"}


class Bookkeeping:
    def __init__(self, banned, why):
        self.banned = tuple(banned)
        self.why = why
        self.events = []
        self.seen = set()
        self.watched = {}
        # Reading these is what Python and NumPy do by themselves.
        roots = {sys.prefix, sys.base_prefix, os.path.dirname(np.__file__), os.getcwd(), os.path.dirname(os.path.abspath(__file__))}
        self.ordinary = tuple(os.path.realpath(r) + "/" for r in roots) + ("/proc/", "/sys/", "/dev/", "/usr/", "/lib", "/etc/")

    def note(self, kind, detail):
        key = (kind, detail)
        if key not in self.seen and len(self.events) < 50:
            self.seen.add(key)
            self.events.append({"kind": kind, "detail": str(detail)[:300]})

    def drain(self):
        self.check_patches()
        events, self.events = self.events, []
        return events

    def is_banned(self, module):
        return any(module == b or module.startswith(b + ".") for b in self.banned)

    def audit(self, event, args):
        if event == "import":
            module = args[0] or ""
            if self.is_banned(module):
                self.note("refused-import", module)
                raise ImportError(f"importing {module} is not allowed: {self.why}")
        elif event in SPAWN_EVENTS:
            self.note("spawn", f"{event} {args[0]!r}" if args else event)
        elif event == "open" and len(args) >= 2:
            path, mode = args[0], args[1]
            writing = isinstance(mode, str) and any(c in mode for c in "wax+")
            if isinstance(mode, int):
                writing = bool(mode & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if isinstance(path, (str, bytes)):
                path = os.fsdecode(path)
                if writing:
                    self.note("write-file", path)
                elif self.foreign(path):
                    self.note("read-file", path)
        elif event in ("socket.connect", "socket.bind"):
            self.note("network", event)
        elif event == "ctypes.dlopen":
            self.note("ctypes", args[0] if args else "")

    def foreign(self, path):
        """A path outside the Python install, the system and the worker's own folder."""
        full = os.path.realpath(path)
        return not full.startswith(self.ordinary)

    def snapshot(self):
        for module, name in WATCHED:
            owner = sys.modules.get(module)
            self.watched[(module, name)] = getattr(owner, name, None)

    def check_patches(self):
        for (module, name), original in self.watched.items():
            owner = sys.modules.get(module)
            if getattr(owner, name, None) is not original:
                self.note("patched", f"{module}.{name}")


def drop_privileges(uid, gid):
    if os.geteuid() == 0 and uid:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    if os.geteuid() == 0 and uid:
        raise SystemExit("worker could not drop root privileges")


def install_filter(program):
    """Install the grader's seccomp filter (BPF built with libseccomp) on this process and all it starts.

    Outside bubblewrap, which installs it itself. Before any student code runs;
    the kernel keeps it from then on, and no process may remove it.
    """
    import ctypes

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    code = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(code, ctypes.c_void_p))
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0 or \
            libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0) != 0:
        # The grader sees from outside that no filter holds, and says so in the grade.
        print(f"worker: seccomp filter not installed (errno {ctypes.get_errno()})", file=sys.stderr)


def apply_limits(limits):
    mb = 1024 * 1024
    wanted = {
        resource.RLIMIT_AS: limits["memory_mb"] * mb,
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * mb,
        resource.RLIMIT_CORE: 0,
    }
    if limits.get("processes"):
        wanted[resource.RLIMIT_NPROC] = limits["processes"]
    for which, value in wanted.items():
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


class Kept:
    """Marks a value to be sent back as an object id rather than as data."""

    def __init__(self, value):
        self.value = value


class Objects:
    """Objects that stay here; the grader holds only their ids."""

    def __init__(self):
        self.table = {}
        # The current chain's results so far: a step's argument -1 - k is step k's result (see serve).
        self.steps = None

    def add(self, obj):
        key = len(self.table)
        self.table[key] = obj
        return key

    def __call__(self, key, cls):
        if self.steps is not None and isinstance(key, int) and key < 0 and -1 - key < len(self.steps):
            return self.steps[-1 - key]
        if key not in self.table:
            raise wire.WireError(f"unknown object id {key}")
        return self.table[key]

    @staticmethod
    def array(array, cls, scalar):
        return array[()] if scalar else array

    @staticmethod
    def bad(cls, why):
        raise wire.WireError("the grader never sends unsendable values")


def describe_error(exc, files):
    """Type, message, the student's line where it happened, and the student's lines that led there.

    `lines` are the lines of the (at most two) innermost student functions on
    the way, from each one's first line to the line it was at: the grader
    names a crash's cause from the code that led to it (`x_pad[:, :, p:-p]`
    a few lines before the one that raised). Hints only: the grader bounds them.
    """
    where = ""
    frames = [(f, tb) for f, tb in zip(traceback.extract_tb(exc.__traceback__), _tracebacks(exc.__traceback__))
              if f.filename in files]
    for frame, _ in reversed(frames):
        where = f"{frame.filename}, line {frame.lineno}, in {frame.name}"
        line = (frame.line or "").strip()
        if line and not line.startswith("raise "):  # a raise line only repeats the message
            where += f": {line[:120]}"
        break
    lines = []
    for frame, tb in frames[-2:]:
        first = tb.tb_frame.f_code.co_firstlineno
        source = linecache.getlines(frame.filename)[max(first, frame.lineno - 80) - 1:frame.lineno]
        lines += [text.strip()[:160] for text in source if text.strip()]
    if isinstance(exc, SyntaxError) and exc.filename in files:
        where = f"{exc.filename}, line {exc.lineno}: {(exc.text or '').strip()}"
    kind = type(exc)
    message = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    # The closest built-in class it derives from: a student's `class SizeError(ValueError)`
    # (or NumPy's AxisError) is still a ValueError to the checks.
    base = next((c.__name__ for c in kind.__mro__ if c.__module__ == "builtins"), "")
    return {
        "type": kind.__name__,
        "builtin": kind.__module__ == "builtins",
        "base": base,
        "message": message[:2000],
        "where": where[:500],
        "lines": lines[-120:],
    }


def _tracebacks(tb):
    """Each level of a traceback, outermost first (as traceback.extract_tb lists its frames)."""
    while tb is not None:
        yield tb
        tb = tb.tb_next


class Worker:
    def __init__(self, setup):
        self.setup = setup
        self.objects = Objects()
        self.books = Bookkeeping(setup["banned"], setup["banned_why"])
        self.files = set()
        self.module = None

    def run_code(self, source, filename, namespace):
        self.files.add(filename)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - this is the sandbox

    def load(self, request):
        if "seed" in request:  # a submission's random draws (layer weights, say) follow its seed
            np.random.seed(int(request["seed"]) % (2**32))
        # Modules of earlier parts come first, importable by name, as beside the file on a laptop.
        for required, filename, source in request.get("modules", []):
            part = types.ModuleType(required)
            part.__file__ = filename
            sys.modules[required] = part
            self.run_code(source, filename, part.__dict__)
        name = request["name"]
        module = types.ModuleType(name)
        module.__file__ = request["filename"]
        sys.modules[name] = module
        self.module = module
        self.objects.table[0] = module
        cell_errors = []
        if request["kind"] == "module":
            self.run_code(request["source"], request["filename"], module.__dict__)
        else:
            # A notebook runs cell by cell; like "run all" that carries on, a
            # failing cell is reported and the next cells still run.
            for label, cell in request["cells"]:
                try:
                    self.run_code(cell, f"{request['filename']}, {label}", module.__dict__)
                except Exception as exc:  # noqa: BLE001
                    error = describe_error(exc, self.files)
                    cell_errors.append((error["type"], error["message"], error["where"]))
        return cell_errors  # plain strings: dicts would travel as object references

    def handle(self, header, blobs):
        op = header.get("op")
        decode = lambda v: wire.decode(v, blobs, self.objects)  # noqa: E731
        if op == "load":
            return self.load(header)
        if op == "ping":
            return "pong"
        if op == "cell":  # one notebook cell, run in the module's namespace
            try:
                self.run_code(header["source"], f"{self.module.__file__}, {header['label']}", self.module.__dict__)
            except Exception as exc:  # noqa: BLE001 - reported, and the next cell runs
                error = describe_error(exc, self.files)
                return (error["type"], error["message"], error["where"])
            return None
        if op == "probe":  # the grader checking this sandbox: can code import what is not preloaded?
            for module in header.get("modules", []):
                importlib.import_module(str(module))
            return "ok"
        if op == "keep":  # hold a value here so a check can read it back after a call
            return Kept(decode(header["value"]))
        target = self.objects(header.get("id"), "")
        if op == "fetch":
            return target
        if op == "getattr":
            return getattr(target, header["name"])
        if op == "setattr":
            setattr(target, header["name"], decode(header["value"]))
            return None
        if op == "call":
            args = [decode(v) for v in header.get("args", [])]
            kwargs = {k: decode(v) for k, v in header.get("kwargs", {}).items()}
            return target(*args, **kwargs)
        raise wire.WireError(f"unknown request {op!r}")

    def reply(self, out, header):
        # The worker is killed, not exited, at the end: prints must not wait in a buffer.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a submission may have replaced or closed them
                pass
        encoder = wire.Encoder(remember=self.objects.add)
        header["events"] = self.books.drain()
        if isinstance(header.get("value"), Kept):
            header["value"] = {"t": "ref", "id": self.objects.add(header["value"].value), "cls": "kept"}
        elif "value" in header:
            try:
                header["value"] = encoder.encode(header["value"])
            except Exception as exc:  # noqa: BLE001 - e.g. a rigged __array__ raising
                header["value"] = {"t": "bad", "cls": wire.qualname(header["value"]), "why": f"could not be read: {exc}"[:300]}
        header["blobs"] = len(encoder.blobs)
        out.write(wire.pack(header, encoder.blobs))

    def serve(self, read, out):
        while True:
            try:
                # Requests come from the grader: a submission's whole source rides in one header.
                header, blobs = wire.unpack(read, 1 << 34, max_header=64 << 20)
            except EOFError:
                return
            if header.get("op") == "chain":
                # Several requests in one (a layer made, its parameters set, forward, backward): each
                # step's reply is its own frame, sent as it ends, so the grader knows which step a
                # timeout stopped; the first that raises ends the chain. Steps name earlier results.
                self.objects.steps = []
                try:
                    for step in header.get("steps", []):
                        if not self.answer(step, blobs, out):
                            break
                finally:
                    self.objects.steps = None
            else:
                self.answer(header, blobs, out)

    def answer(self, header, blobs, out):
        """Handle one request and send its reply; whether it succeeded."""
        try:
            value = self.handle(header, blobs)
            if self.objects.steps is not None:
                self.objects.steps.append(value.value if isinstance(value, Kept) else value)
            self.reply(out, {"ok": True, "value": value})
            return True
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: a student's exit is an answer
            if isinstance(exc, SystemExit):
                self.books.note("exit", f"sys.exit({exc.code!r})")
            error = describe_error(exc, self.files)
            if isinstance(exc, SystemExit):
                error["message"] = f"the code called sys.exit({exc.code!r})"
            self.reply(out, {"ok": False, "error": error})
            return False


def main():
    request_fd, reply_fd = (int(fd) for fd in sys.argv[1:3])
    requests = os.fdopen(request_fd, "rb", buffering=0)
    replies = os.fdopen(reply_fd, "wb", buffering=0)
    setup, _ = wire.unpack(requests.read, 0)
    drop_privileges(setup.get("uid"), setup.get("gid"))
    if setup.get("limits"):
        apply_limits(setup["limits"])
    if setup.get("seccomp"):
        install_filter(bytes.fromhex(setup["seccomp"]))
    np.random.seed(setup.get("seed", 0) % (2**32))
    worker = Worker(setup)
    worker.books.snapshot()
    sys.addaudithook(worker.books.audit)
    # Only what student code may rely on: its home and its scratch folder (outside a
    # sandbox, a private one rather than the host's shared /tmp).
    for name in list(os.environ):
        if name not in ("HOME", "TMPDIR", "PATH", "LANG"):
            del os.environ[name]
    sys.argv = ["submission"]
    builtins.input = _no_input
    worker.reply(replies, {"ok": True, "value": "ready"})
    worker.serve(requests.read, replies)


def _no_input(*args):
    raise EOFError("input() is not available while grading")


if __name__ == "__main__":
    main()
