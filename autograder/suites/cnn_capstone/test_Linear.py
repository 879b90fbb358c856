"""Hidden checks of the Linear layer."""

import numpy as np

from autograder.suite import CheckFailed, check, expect_shape, fail, same
from autograder.suites.cnn.gradients import batch_numerical_gradient, check_gradient

from . import harness
from .mistakes import known

_D, _M = 400, 300  # large enough for the statistics of the initial weights


def _layer(student, rng, D=5, M=3):
    layer = student.Linear(D, M)
    w, b = rng.standard_normal((D, M)), rng.standard_normal(M)
    layer.W.data = w
    layer.b.data = b
    return layer, w, b


@check("Linear")
def test_parameter_shapes_and_zero_bias(student, reference, rng):
    """W has shape (in_features, out_features); b is zeros of shape (out_features,)"""
    for D, M in ((7, 3), (2, 9)):
        layer = student.Linear(D, M)
        expect_shape(layer.W.data, (D, M), f"Linear({D}, {M}).W.data")
        b = expect_shape(layer.b.data, (M,), f"Linear({D}, {M}).b.data")
        if np.any(b != 0):
            raise CheckFailed(f"Linear({D}, {M}).b.data should start at zeros")


@check("Linear", depends=["test_parameter_shapes_and_zero_bias"])
def test_he_initialisation(student, reference, rng):
    """W's standard deviation is sqrt(2 / in_features)"""
    w = expect_shape(student.Linear(_D, _M).W.data, (_D, _M), f"Linear({_D}, {_M}).W.data")
    want, got = np.sqrt(2 / _D), float(np.std(w))
    if abs(got - want) > 0.03 * want:
        found = None
        for mistake, wrong in ((known.he_fan_out, np.sqrt(2 / _M)), (known.he_lecun, np.sqrt(1 / _D)), (known.he_unscaled, 1.0)):
            if abs(got - wrong) <= 0.03 * wrong:
                found = mistake
        fail(f"Linear({_D}, {_M}).W.data has standard deviation {got:.4g}; expected sqrt(2 / {_D}) = {want:.4g}", found)


@check("Linear", weight=3)
def test_forward(student, reference, rng):
    """forward is x @ W + b"""
    layer, w, b = _layer(student, rng)
    x = rng.standard_normal((4, 5))
    same(layer.forward(x), x @ w + b, "Linear(5, 3).forward(x) with W and b set",
         mistakes={known.no_bias: lambda: x @ w})


@check("Linear", weight=4)
def test_backward(student, reference, rng):
    """backward returns dout @ W.T and adds x.T @ dout and dout's column sums into W.grad and b.grad"""
    layer, w, b = _layer(student, rng)
    x, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    layer.forward(x)
    same(layer.backward(dout), dout @ w.T, "Linear.backward(dout)")
    same(layer.W.grad, x.T @ dout, "W.grad after backward", mistakes={
        known.batch_mean: lambda: x.T @ dout / 4})
    same(layer.b.grad, dout.sum(axis=0), "b.grad after backward", mistakes={
        known.batch_mean: lambda: dout.mean(axis=0),
        known.linear_b_grad_over_features: lambda: dout.sum(axis=1)})


@check("Linear", weight=2, depends=["test_backward"])
def test_gradients_accumulate(student, reference, rng):
    """a second backward adds to W.grad and b.grad instead of replacing them"""
    layer, w, b = _layer(student, rng)
    x, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    layer.forward(x)
    layer.backward(dout)
    layer.backward(dout)
    same(layer.W.grad, 2 * x.T @ dout, "W.grad after two backward passes",
         mistakes={known.grads_overwritten: lambda: x.T @ dout, known.batch_mean: lambda: 2 * x.T @ dout / 4})
    same(layer.b.grad, 2 * dout.sum(axis=0), "b.grad after two backward passes",
         mistakes={known.grads_overwritten: lambda: dout.sum(axis=0), known.batch_mean: lambda: 2 * dout.mean(axis=0)})


@check("Linear", weight=2, depends=["test_forward"])
def test_backward_numerically(student, reference, rng):
    """dx, W.grad and b.grad agree with numerical gradients of sum(dout * forward(x))"""
    layer, w, b = _layer(student, rng, 4, 3)
    x, dout = rng.standard_normal((2, 4)), rng.standard_normal((2, 3))
    layer.forward(x)
    dx = layer.backward(dout)
    check_gradient(dx, batch_numerical_gradient(lambda xs: np.einsum("knm,nm->k", xs @ w + b, dout), x), "Linear.backward(dout)")
    harness.numerically(layer.W.grad, batch_numerical_gradient(lambda ws: np.einsum("knm,nm->k", x @ ws + b, dout), w), "W.grad",
                        {known.batch_mean: lambda: x.T @ dout / 2})
    harness.numerically(layer.b.grad, batch_numerical_gradient(lambda bs: np.einsum("km,nm->k", bs, dout) + 0 * bs[:, 0], b),
                        "b.grad", {known.batch_mean: lambda: dout.mean(axis=0)})
