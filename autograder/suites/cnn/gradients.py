"""Numerical gradients by central differences, computed with the reference."""

import numpy as np

from autograder.suite import CheckFailed


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


def batch_numerical_gradient(losses, x, eps=1e-5):
    """numerical_gradient of a batched loss: losses(stack) gives the loss of each x in stack.

    Every entry of x is moved up and down in its own copy, and all copies go
    through `losses` in two calls: the same central differences, far fewer calls.
    """
    copies = np.repeat(x[None].astype(np.float64), x.size, axis=0).reshape(x.size, -1)
    entries = np.arange(x.size)
    copies[entries, entries] += eps
    up = losses(copies.reshape(x.size, *x.shape))
    copies[entries, entries] -= 2 * eps
    down = losses(copies.reshape(x.size, *x.shape))
    return ((up - down) / (2 * eps)).reshape(x.shape)


def conv_numerical_gradients(reference, dout, x, w, b, stride, padding, eps=1e-5):
    """(dx, dw, db) of sum(dout * conv2d_forward(x, w, b, ...)) by central differences.

    Perturbed copies of x go through the reference as extra images of one
    batch; copies of w and b as extra filters of one layer.
    """
    forward = lambda x_, w_, b_: reference.conv2d_forward(x_, w_, b_, stride, padding)  # noqa: E731
    N, F = x.shape[0], w.shape[0]

    def images(xs):  # (k, N, C, H, W) -> k losses
        out = forward(xs.reshape(-1, *x.shape[1:]), w, b)
        return np.einsum("knfij,nfij->k", out.reshape(len(xs), N, *out.shape[1:]), dout)

    def filters(ws, bs):  # k copies of (w, b) -> k losses
        out = forward(x, ws.reshape(-1, *w.shape[1:]), bs.reshape(-1))  # (N, k * F, H_out, W_out)
        return np.einsum("nkfij,nfij->k", out.reshape(N, len(ws), F, *out.shape[2:]), dout)

    dx = batch_numerical_gradient(images, x, eps)
    dw = batch_numerical_gradient(lambda ws: filters(ws, np.repeat(b[None], len(ws), axis=0)), w, eps)
    db = batch_numerical_gradient(lambda bs: filters(np.repeat(w[None], len(bs), axis=0), bs), b, eps)
    return dx, dw, db


def relative_error(a, b):
    """max |a - b| relative to the scale of both; 0 when both are 0."""
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))
    return 0.0 if scale == 0 else float(np.abs(a - b).max() / scale)


def check_gradient(actual, expected, what, tolerance=1e-7):
    err = relative_error(np.asarray(actual, dtype=np.float64), expected)
    if not err < tolerance:
        raise CheckFailed(
            f"{what} differs from the numerical gradient: relative error {err:.2e} (must be below {tolerance:g})"
        )
