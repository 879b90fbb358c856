"""Hidden checks of global max pooling."""

import numpy as np

from autograder.suite import check, same
from autograder.suites.cnn.cases import distinct_floats
from autograder.suites.cnn.gradients import batch_numerical_gradient, check_gradient

from .mistakes import known


def _every_tie(x, dout):
    """The lesson's mask: every cell equal to its channel's maximum gets the gradient."""
    return (x == x.max(axis=(2, 3), keepdims=True)) * dout[:, :, None, None]


def _last_tie(x, dout):
    N, C, H, W = x.shape
    flat = x.reshape(N * C, H * W)[:, ::-1]
    mask = np.zeros_like(flat)
    mask[np.arange(len(flat)), flat.argmax(axis=1)] = 1
    return (mask[:, ::-1] * dout.reshape(-1, 1)).reshape(x.shape)


def _mistakes(x, dout):
    N, C, H, W = x.shape
    return {
        known.global_pool_every_tie: lambda: _every_tie(x, dout),
        known.global_pool_last_tie: lambda: _last_tie(x, dout),
        known.global_pool_spread: lambda: np.broadcast_to(dout[:, :, None, None] / (H * W), x.shape),
    }


@check("GlobalMaxPool2d", weight=2)
def test_forward(student, reference, rng):
    """forward returns each channel's maximum, shape (N, C), for square and oblong maps"""
    for shape in ((2, 3, 4, 4), (3, 5, 1, 6), (1, 2, 5, 3)):
        x = rng.standard_normal(shape)
        same(student.GlobalMaxPool2d().forward(x), x.max(axis=(2, 3)), f"GlobalMaxPool2d().forward(x) with x of shape {shape}",
             mistakes={known.global_pool_average: lambda: x.mean(axis=(2, 3)),
                       known.global_pool_keepdims:
                           lambda: x.max(axis=(2, 3), keepdims=True),
                       known.global_pool_over_channels: lambda: x.max(axis=1)})


@check("GlobalMaxPool2d", weight=3)
def test_backward(student, reference, rng):
    """backward sends each channel's gradient to the cell that was its maximum"""
    x = rng.standard_normal((3, 4, 3, 5))
    dout = rng.standard_normal((3, 4))
    layer = student.GlobalMaxPool2d()
    layer.forward(x)
    expected = reference.GlobalMaxPool2d()
    expected.forward(x)
    same(layer.backward(dout), expected.backward(dout), "GlobalMaxPool2d.backward(dout) after forward(x)",
         mistakes=_mistakes(x, dout))


@check("GlobalMaxPool2d", weight=3, depends=["test_backward"])
def test_backward_with_ties(student, reference, rng):
    """When a channel's maximum occurs more than once, only the first in row-major order gets the gradient"""
    x = rng.integers(0, 3, size=(4, 3, 2, 6)).astype(np.float64)  # small integers: many ties
    x[0, 0] = 0.0  # a whole map of zeros, as after a ReLU
    dout = rng.standard_normal((4, 3))
    layer = student.GlobalMaxPool2d()
    layer.forward(x)
    expected = reference.GlobalMaxPool2d()
    expected.forward(x)
    same(layer.backward(dout), expected.backward(dout), "GlobalMaxPool2d.backward(dout) after forward(x) with tied maxima",
         mistakes=_mistakes(x, dout))


@check("GlobalMaxPool2d", weight=2, depends=["test_forward"])
def test_backward_numerically(student, reference, rng):
    """backward agrees with the numerical gradient of sum(dout * forward(x))"""
    x = distinct_floats(rng, (2, 3, 3, 4)) - 3  # no two values within a step of the central difference
    dout = rng.standard_normal((2, 3))
    layer = student.GlobalMaxPool2d()
    layer.forward(x)
    dx = layer.backward(dout)
    numeric = batch_numerical_gradient(lambda xs: np.einsum("knc,nc->k", xs.max(axis=(3, 4)), dout), x)
    check_gradient(dx, numeric, "GlobalMaxPool2d.backward(dout)")
