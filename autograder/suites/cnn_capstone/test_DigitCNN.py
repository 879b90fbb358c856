"""Hidden checks of the assembled network, with weights the grader sets.

These run the student's whole stack, their part-one Conv2d and MaxPool2d
included, so a mistake there shows here (and is named when it is a known one).
The handout's predict() is checked here, on strips the grader makes: the
training checks never ask it (they score the trained parameters themselves).
"""

import numpy as np

from autograder.suite import check, same
from autograder.suites.cnn.gradients import batch_numerical_gradient, check_gradient

from . import harness


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
    model, params, weights = harness.graders_model(student, rng)
    x = harness.digit_strips(rng)
    same(model.forward(x), harness.reference_model(reference, weights).forward(x),
         "DigitCNN.forward(x) with x of shape (4, 1, 8, 12) and the grader's weights",
         mistakes=_variants(reference, weights, x))


@check("DigitCNN", weight=5, depends=["test_architecture"])
def test_backward(student, reference, rng):
    """backward returns dx and fills every parameter's grad as the reference network does"""
    model, params, weights = harness.graders_model(student, rng)
    x, dlogits = harness.digit_strips(rng), rng.standard_normal((4, 10))

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
    model, params, weights = harness.graders_model(student, rng)
    x, dlogits = rng.random((2, 1, 8, 12)), rng.standard_normal((2, 10))  # no blank cells: no ties, smooth
    model.forward(x)
    dx = model.backward(dlogits)
    net = harness.reference_model(reference, weights)
    numeric = batch_numerical_gradient(
        lambda xs: np.einsum("knm,nm->k", net.forward(xs.reshape(-1, 1, 8, 12)).reshape(len(xs), 2, 10), dlogits), x)
    check_gradient(dx, numeric, "DigitCNN.backward(dlogits)", tolerance=1e-6)


@check("DigitCNN", weight=1)
def test_predict(student, reference, rng):
    """predict(model, x) gives the class of the highest score, for strips and weights the grader makes"""
    model, _, weights = harness.graders_model(student, rng)
    x = harness.digit_strips(rng, 150)  # more than predict's batches of 100
    same(student.predict(model, x), reference.predict(harness.reference_model(reference, weights), x),
         "predict(model, x) with x of shape (150, 1, 8, 12) and the grader's weights")
