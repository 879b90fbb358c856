"""The reference, plus garbage written into the grader's reply channel at import.

The reply pipe's number is argv[2] of the worker; the worker resets
sys.argv, so it also reads /proc/self/cmdline, and then tries every open
descriptor in /proc/self/fd.
"""
# ==== HOSTILE ====
import os
import sys


def _channel_candidates():
    fds = []
    try:
        fds.append(int(sys.argv[2]))
    except (IndexError, ValueError):
        pass
    try:
        with open("/proc/self/cmdline", "rb") as f:
            args = f.read().split(b"\0")
        fds += [int(a) for a in args if a.isdigit()]
    except OSError:
        pass
    try:
        fds += [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        pass
    return [fd for fd in dict.fromkeys(fds) if fd > 2]


for _fd in _channel_candidates():
    try:
        os.write(_fd, b"garbage\xff\xff\xff\xff not a frame")
    except OSError:
        pass
