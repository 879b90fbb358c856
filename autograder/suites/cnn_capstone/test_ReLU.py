"""Hidden checks of the ReLU layer."""

import numpy as np

from autograder.suite import check, same, unchanged
from autograder.suites.cnn.gradients import batch_numerical_gradient, check_gradient

from .mistakes import known


def _with_zeros(rng, shape):
    x = rng.standard_normal(shape)
    x.reshape(-1)[:: 5] = 0.0  # exact zeros: where the slope rule matters
    return x


@check("ReLU", weight=2)
def test_forward(student, reference, rng):
    """forward is max(x, 0) for 2-D and 4-D inputs"""
    for shape in ((3, 7), (2, 3, 4, 5)):
        x = _with_zeros(rng, shape)
        same(student.ReLU().forward(x), np.maximum(x, 0), f"ReLU().forward(x) with x of shape {shape}",
             mistakes={known.relu_identity: lambda: x, known.relu_returns_mask: lambda: (x > 0) * 1.0,
                       known.relu_abs: lambda: np.abs(x)})


@check("ReLU", weight=3)
def test_backward(student, reference, rng):
    """backward passes dout where x > 0 and nothing where x <= 0 (nothing at exactly 0)"""
    x = _with_zeros(rng, (2, 3, 4, 5))
    dout = rng.standard_normal(x.shape)
    layer = student.ReLU()
    layer.forward(x)
    same(layer.backward(dout), dout * (x > 0), "ReLU.backward(dout) after forward(x)",
         mistakes={known.relu_grad_at_zero: lambda: dout * (x >= 0),
                   known.relu_backward_identity: lambda: dout,
                   known.relu_backward_times_output: lambda: dout * np.maximum(x, 0),
                   known.relu_backward_sign_of_dout: lambda: np.maximum(dout, 0)})


@check("ReLU", weight=2, depends=["test_forward"])
def test_backward_numerically(student, reference, rng):
    """backward agrees with the numerical gradient of sum(dout * forward(x))"""
    x = rng.standard_normal((3, 2, 3, 4))
    x = np.where(np.abs(x) < 0.05, 0.5, x)  # away from the kink
    dout = rng.standard_normal(x.shape)
    layer = student.ReLU()
    layer.forward(x)
    dx = layer.backward(dout)
    numeric = batch_numerical_gradient(lambda xs: (np.maximum(xs, 0) * dout).reshape(len(xs), -1).sum(axis=1), x)
    check_gradient(dx, numeric, "ReLU.backward(dout)")


@check("ReLU", depends=["test_forward"])
def test_leaves_its_input_unchanged(student, reference, rng):
    """forward does not write into the array it is given"""
    x = rng.standard_normal((2, 3, 4))
    layer = student.ReLU()
    unchanged(student, x, lambda kept: layer.forward(kept), "ReLU().forward(x)", "x")
