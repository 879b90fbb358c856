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


def conv_numerical_gradients(reference, dout, x, w, b, stride, padding, eps=1e-5):
    """(dx, dw, db) of sum(dout * conv2d_forward(x, w, b, ...)) by central differences.

    The same differences as numerical_gradient, but every perturbed copy goes
    through the reference in one call: copies of x as extra images of the
    batch, copies of w and b as extra filters. One forward pass per
    parameter and sign, instead of one per entry.
    """
    forward = lambda x_, w_, b_: reference.conv2d_forward(x_, w_, b_, stride, padding)  # noqa: E731
    N, F = x.shape[0], w.shape[0]

    def bumps(param, sign):
        """param repeated once per entry, that entry moved by sign * eps: (param.size, *param.shape)."""
        copies = np.repeat(param[None], param.size, axis=0).reshape(param.size, -1)
        copies[np.arange(param.size), np.arange(param.size)] += sign * eps
        return copies.reshape(param.size, *param.shape)

    def loss_x(sign):
        moved = bumps(x, sign)  # (x.size, N, C, H, W)
        out = forward(moved.reshape(-1, *x.shape[1:]), w, b)
        return np.einsum("knfij,nfij->k", out.reshape(x.size, N, *out.shape[1:]), dout)

    def loss_filters(moved_w, moved_b, copies):
        out = forward(x, moved_w.reshape(-1, *w.shape[1:]), moved_b.reshape(-1))  # (N, copies * F, ...)
        return np.einsum("nkfij,nfij->k", out.reshape(N, copies, F, *out.shape[2:]), dout)

    def loss_w(sign):
        return loss_filters(bumps(w, sign), np.repeat(b[None], w.size, axis=0), w.size)

    def loss_b(sign):
        return loss_filters(np.repeat(w[None], b.size, axis=0), bumps(b, sign), b.size)

    return tuple(
        ((loss(+1) - loss(-1)) / (2 * eps)).reshape(param.shape)
        for loss, param in ((loss_x, x), (loss_w, w), (loss_b, b))
    )


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
