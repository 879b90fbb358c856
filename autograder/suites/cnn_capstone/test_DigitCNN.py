"""Hidden checks of the assembled network, with weights the grader sets.

These run the student's whole stack, their part-one Conv2d and MaxPool2d
included, so a mistake there shows here (and is named when it is a known one).
"""

import numpy as np

from autograder.suite import check, same
from autograder.suites.cnn.gradients import batch_numerical_gradient, check_gradient

from . import harness


def _model(student, rng):
    model = student.DigitCNN()
    params = harness.expect_architecture(model)
    weights = harness.initial_weights(harness.SHAPES, rng)
    weights = [w + 0.1 * rng.standard_normal(w.shape) for w in weights]  # non-zero biases too
    harness.set_weights(params, weights)
    return model, params, weights


def _strips(rng, n=4):
    """Digit-like inputs: an 8x8 patch of ink at offset 0..4, blank elsewhere. Blank columns
    make equal values in a pooling window (the bias, after ReLU), as real digits do."""
    x = np.zeros((n, 1, 8, 12))
    for i, offset in enumerate(rng.integers(0, 5, n)):
        x[i, 0, :, offset:offset + 8] = rng.random((8, 8)) * (rng.random((8, 8)) < 0.6)
    return x


def _lesson_mask(model):
    """The lesson's MaxPool2d.backward: one mask, every tied maximum of a window gets its gradient."""
    pool = model.pool1

    def backward(dout):
        x = pool._x
        N, C, H, W = x.shape
        windows = x[:, :, : H // 2 * 2, : W // 2 * 2].reshape(N, C, H // 2, 2, W // 2, 2)
        mask = windows == windows.max(axis=(3, 5), keepdims=True)
        dx = np.zeros(x.shape)
        dx[:, :, : H // 2 * 2, : W // 2 * 2] = (mask * dout[:, :, :, None, :, None]).reshape(N, C, H // 2 * 2, W // 2 * 2)
        return dx

    pool.backward = backward


def _variants(reference, weights, x):
    """What known wrong networks compute from the same weights."""

    def run(change):
        model = harness.reference_model(reference, weights)
        change(model)
        return model.forward(x)

    def flipped(model):
        for conv in (model.conv1, model.conv2):
            conv.W.data = conv.W.data[:, :, ::-1, ::-1].copy()

    def unpadded(model):
        model.conv1.padding = model.conv2.padding = 0

    def no_relu(model):
        identity = type("Identity", (), {"forward": staticmethod(lambda v: v), "backward": staticmethod(lambda v: v)})
        model.relu1 = model.relu2 = identity()

    return {
        "flip the kernel in conv2d_forward (your first part: deep-learning convolution slides w as it is)":
            lambda: run(flipped),
        "leave out padding=(0, 1) in the convolutions": lambda: run(unpadded),
        "leave out the ReLU layers": lambda: run(no_relu),
    }


@check("DigitCNN", weight=2)
def test_architecture(student, reference, rng):
    """parameters() lists conv1.W, conv1.b, conv2.W, conv2.b, fc.W and fc.b with DigitCNN's shapes"""
    harness.expect_architecture(student.DigitCNN())


@check("DigitCNN", weight=4, depends=["test_architecture"])
def test_forward(student, reference, rng):
    """forward computes the reference network's logits from the same weights"""
    model, params, weights = _model(student, rng)
    x = _strips(rng)
    same(model.forward(x), harness.reference_model(reference, weights).forward(x),
         "DigitCNN.forward(x) with x of shape (4, 1, 8, 12) and the grader's weights",
         mistakes=_variants(reference, weights, x))


@check("DigitCNN", weight=5, depends=["test_architecture"])
def test_backward(student, reference, rng):
    """backward returns dx and fills every parameter's grad as the reference network does"""
    model, params, weights = _model(student, rng)
    x, dlogits = _strips(rng), rng.standard_normal((4, 10))

    def gradients(change=None):
        net = harness.reference_model(reference, weights)
        if change:
            change(net)
        net.forward(x)
        return [net.backward(dlogits)] + [p.grad for p in net.parameters()]

    expected = gradients()
    lesson = "give every tied maximum of a MaxPool2d window the gradient (the lesson's global mask, in your first part)"
    model.forward(x)
    names = ("dx of DigitCNN.backward(dlogits)", "conv1.W.grad", "conv1.b.grad", "conv2.W.grad", "conv2.b.grad",
             "fc.W.grad", "fc.b.grad")
    got = [model.backward(dlogits)] + [p.grad for p in params]
    for index, (name, mine, want) in enumerate(zip(names, got, expected)):
        same(mine, want, f"{name} after forward(x) on digit-like strips",
             mistakes={lesson: lambda: gradients(_lesson_mask)[index]})


@check("DigitCNN", weight=2, depends=["test_forward"])
def test_backward_numerically(student, reference, rng):
    """dx agrees with the numerical gradient of sum(dlogits * forward(x))"""
    model, params, weights = _model(student, rng)
    x, dlogits = rng.random((2, 1, 8, 12)), rng.standard_normal((2, 10))  # no blank cells: no ties, smooth
    model.forward(x)
    dx = model.backward(dlogits)
    net = harness.reference_model(reference, weights)
    numeric = batch_numerical_gradient(
        lambda xs: np.einsum("knm,nm->k", net.forward(xs.reshape(-1, 1, 8, 12)).reshape(len(xs), 2, 10), dlogits), x)
    check_gradient(dx, numeric, "DigitCNN.backward(dlogits)", tolerance=1e-6)
