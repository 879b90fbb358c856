"""conv2d_forward ends the worker with os._exit(0) instead of answering."""


def conv2d_forward(x, w, b, stride=1, padding=0):
    raise NotImplementedError("conv2d_forward is not written yet")


# ==== HOSTILE ====
import os


def conv2d_forward(x, w, b, stride=1, padding=0):
    os._exit(0)
