"""Numerical gradients by central differences, computed with the reference."""

import numpy as np


def numerical_gradient(f, x, eps=1e-5):
    """d f() / d x for scalar f(), perturbing x in place one entry at a time."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, out = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        out[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b):
    """max |a - b| relative to the scale of both; 0 when both are 0."""
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


def check_gradient(actual, expected, what, tolerance=1e-7):
    err = relative_error(np.asarray(actual, dtype=np.float64), expected)
    if not err < tolerance:
        raise AssertionError(
            f"{what} differs from the numerical gradient: relative error {err:.2e} (must be below {tolerance:g})"
        )
