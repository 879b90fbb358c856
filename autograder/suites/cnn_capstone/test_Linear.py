"""Hidden checks of the Linear layer."""

import numpy as np

from autograder.suite import check, expect_shape, same
from autograder.suites.cnn.gradients import batch_numerical_gradient, check_gradient

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
            raise AssertionError(f"Linear({D}, {M}).b.data should start at zeros")


@check("Linear", depends=["test_parameter_shapes_and_zero_bias"])
def test_he_initialisation(student, reference, rng):
    """W's standard deviation is sqrt(2 / in_features)"""
    w = expect_shape(student.Linear(_D, _M).W.data, (_D, _M), f"Linear({_D}, {_M}).W.data")
    want, got = np.sqrt(2 / _D), float(np.std(w))
    if abs(got - want) > 0.03 * want:
        hint = ""
        for phrase, wrong in (("use out_features as the fan-in", np.sqrt(2 / _M)), ("use variance 1 / in_features", np.sqrt(1 / _D)),
                              ("draw from a standard normal without scaling it", 1.0)):
            if abs(got - wrong) <= 0.03 * wrong:
                hint = f" It matches what you get if you {phrase}."
        raise AssertionError(f"Linear({_D}, {_M}).W.data has standard deviation {got:.4g}; expected sqrt(2 / {_D}) = {want:.4g}.{hint}")


@check("Linear", weight=3)
def test_forward(student, reference, rng):
    """forward is x @ W + b"""
    layer, w, b = _layer(student, rng)
    x = rng.standard_normal((4, 5))
    same(layer.forward(x), x @ w + b, "Linear(5, 3).forward(x) with W and b set",
         mistakes={"leave out the bias": lambda: x @ w})


@check("Linear", weight=4)
def test_backward(student, reference, rng):
    """backward returns dout @ W.T and adds x.T @ dout and dout's column sums into W.grad and b.grad"""
    layer, w, b = _layer(student, rng)
    x, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    layer.forward(x)
    same(layer.backward(dout), dout @ w.T, "Linear.backward(dout)")
    same(layer.W.grad, x.T @ dout, "W.grad after backward", mistakes={
        "divide the weight gradient by the batch size (the loss's gradient already does)": lambda: x.T @ dout / 4})
    same(layer.b.grad, dout.sum(axis=0), "b.grad after backward", mistakes={
        "average dout over the batch instead of summing it": lambda: dout.mean(axis=0),
        "sum dout over the features instead of over the batch": lambda: dout.sum(axis=1)})


@check("Linear", weight=2, depends=["test_backward"])
def test_gradients_accumulate(student, reference, rng):
    """a second backward adds to W.grad and b.grad instead of replacing them"""
    layer, w, b = _layer(student, rng)
    x, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    layer.forward(x)
    layer.backward(dout)
    layer.backward(dout)
    same(layer.W.grad, 2 * x.T @ dout, "W.grad after two backward passes",
         mistakes={"overwrite W.grad instead of adding to it": lambda: x.T @ dout})
    same(layer.b.grad, 2 * dout.sum(axis=0), "b.grad after two backward passes",
         mistakes={"overwrite b.grad instead of adding to it": lambda: dout.sum(axis=0)})


@check("Linear", weight=2, depends=["test_forward"])
def test_backward_numerically(student, reference, rng):
    """dx, W.grad and b.grad agree with numerical gradients of sum(dout * forward(x))"""
    layer, w, b = _layer(student, rng, 4, 3)
    x, dout = rng.standard_normal((2, 4)), rng.standard_normal((2, 3))
    layer.forward(x)
    dx = layer.backward(dout)
    check_gradient(dx, batch_numerical_gradient(lambda xs: np.einsum("knm,nm->k", xs @ w + b, dout), x), "Linear.backward(dout)")
    check_gradient(layer.W.grad, batch_numerical_gradient(lambda ws: np.einsum("knm,nm->k", x @ ws + b, dout), w), "W.grad")
    check_gradient(layer.b.grad, batch_numerical_gradient(lambda bs: np.einsum("km,nm->k", bs, dout) + 0 * bs[:, 0], b), "b.grad")
