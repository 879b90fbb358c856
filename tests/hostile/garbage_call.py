"""maxpool_backward writes garbage into the grader's reply channel, then answers correctly."""
# ==== HOSTILE ====
import os


def _reply_fd():
    with open("/proc/self/cmdline", "rb") as f:
        args = [a for a in f.read().split(b"\0") if a]
    return int([a for a in args if a.isdigit()][-1])  # the reply channel's fd: the worker's last number


_reference_maxpool_backward = maxpool_backward


def maxpool_backward(dout, x, pool_size=2, stride=None):
    try:
        os.write(_reply_fd(), b"\x10\x00\x00\x00{\"ok\": true, garbage")
    except (OSError, ValueError):
        pass
    return _reference_maxpool_backward(dout, x, pool_size, stride)
