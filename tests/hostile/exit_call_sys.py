"""conv2d_forward raises SystemExit(0) instead of answering."""


def conv2d_forward(x, w, b, stride=1, padding=0):
    raise NotImplementedError("conv2d_forward is not written yet")


# ==== HOSTILE ====
import sys


def conv2d_forward(x, w, b, stride=1, padding=0):
    sys.exit(0)
