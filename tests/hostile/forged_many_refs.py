"""The reference, plus a forged reply that names one large array many times.

When maxpool_forward is called it writes its own frame straight to the
grader's reply channel (the fd after worker.py in its command line): one
48 MB array blob (raw float64 bytes, as wire.py sends arrays), and a value that is a list of that blob 30 times, then
exits. Decoded naively, that is 30 arrays of 48 MB in the grading process
(1.4 GB); the grader must refuse it and stay small. Honest part:
maxpool_forward is not written.
"""


def maxpool_forward(x, pool_size=2, stride=None):
    raise NotImplementedError("maxpool_forward is not written yet")
# ==== HOSTILE ====
import json as _json
import os as _os
import struct as _struct

_COPIES = 30


def _reply_fd():
    with open("/proc/self/cmdline", "rb") as f:
        argv = f.read().split(b"\0")
    at = next(i for i, a in enumerate(argv) if a.endswith(b"worker.py"))
    return int(argv[at + 2])


def _forge():
    blob = np.zeros(6 * 1024 * 1024).tobytes()  # 48 MB
    item = {"t": "array", "blob": 0, "dtype": "<f8", "shape": [6 * 1024 * 1024], "cls": "numpy.ndarray",
            "scalar": False}
    header = _json.dumps({"ok": True, "value": {"t": "list", "items": [item] * _COPIES}, "blobs": 1, "events": []})
    data = header.encode()
    frame = _struct.pack("<I", len(data)) + data + _struct.pack("<Q", len(blob)) + blob
    fd = _reply_fd()
    view = memoryview(frame)
    while view:
        view = view[_os.write(fd, view):]
    _os._exit(0)


def maxpool_forward(x, pool_size=2, stride=None):
    _forge()
