"""conv2d_forward raises with a lone surrogate in its message, and prints bytes that are not UTF-8.

Honest part: conv2d_forward raises RuntimeError. The hostile part raises
the same error with a lone surrogate (no UTF-8 file can hold one) and
writes invalid UTF-8 to stdout; its grade must be the same, and every
file of the batch must still be written.
"""
import sys as _sys


def conv2d_forward(x, w, b, stride=1, padding=0):
    raise RuntimeError("not written yet")
# ==== HOSTILE ====


def conv2d_forward(x, w, b, stride=1, padding=0):
    _sys.stdout.flush()
    _sys.stdout.buffer.write(b"\xff\xfe broken \xed\xa0\x80\n")
    raise RuntimeError("not written yet \udcff\ud800")
