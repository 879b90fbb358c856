"""Wrong answers, plus well-formed but forged replies pushed into the grader's channel.

Its conv2d_forward writes, before its real (wrong) reply, complete frames
built with the grader's own wire module (importable in the sandbox): one
saying the call succeeded with no events to report, and one carrying an
array of zeros. The grader then reads replies out of step with its requests.
"""
# include: wrong_answers.py
# ==== HOSTILE ====
import os

try:
    import wire
except ImportError:
    wire = None


def _reply_fd():
    with open("/proc/self/cmdline", "rb") as f:
        args = [a for a in f.read().split(b"\0") if a]
    return int(args[-1])


_wrong_conv2d_forward = conv2d_forward


def conv2d_forward(x, w, b, stride=1, padding=0):
    out = _wrong_conv2d_forward(x, w, b, stride, padding)
    if wire is not None:
        encoder = wire.Encoder()
        frames = [
            wire.pack({"ok": True, "value": {"t": "bool", "v": True}, "events": [], "blobs": 0}),
            wire.pack({"ok": True, "value": encoder.encode(np.zeros_like(out)), "events": [], "blobs": len(encoder.blobs)},
                      encoder.blobs),
        ]
        try:
            os.write(_reply_fd(), b"".join(frames))
        except (OSError, ValueError):
            pass
    return out
