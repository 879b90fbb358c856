"""Hidden checks of the assembled network, with weights the grader sets.

These run the student's whole stack, their part-one Conv2d and MaxPool2d
included, so a mistake there shows here (and is named when it is a known one).
The handout's predict() is checked here, on strips the grader makes: the
training checks never ask it (they score the trained parameters themselves).
"""

import numpy as np

from autograder.suite import check, same
from autograder.suites.cnn.gradients import batch_numerical_gradient, relative_error

from . import harness
from .mistakes import known


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


def _relu_at_zero(model):
    """ReLU.backward that lets the gradient through where x == 0 (mask x >= 0)."""
    for relu in (model.relu1, model.relu2):
        relu.backward = (lambda layer: lambda dout: dout * (layer._x >= 0))(relu)


def _averaged(*names):
    """The named layers' parameter gradients averaged over the batch (divided by N) instead of summed."""

    def change(model):
        for name in names:
            layer = getattr(model, name)
            backward = layer.backward

            def averaged(dout, layer=layer, backward=backward):
                before = [layer.W.grad.copy(), layer.b.grad.copy()]
                dx = backward(dout)
                for p, old in zip((layer.W, layer.b), before):
                    p.grad = old + (p.grad - old) / len(dout)
                return dx

            layer.backward = averaged

    return change


def _forward_flipped(model):
    """conv2d_forward flips the kernel, conv2d_backward does not (the backward of another forward)."""
    for conv in (model.conv1, model.conv2):
        forward = conv.forward

        def flipped(x, conv=conv, forward=forward):
            kept = conv.W.data
            conv.W.data = kept[:, :, ::-1, ::-1].copy()
            try:
                return forward(x)
            finally:
                conv.W.data = kept

        conv.forward = flipped


BACKWARD_VARIANTS = {
    known.relu_grad_at_zero: _relu_at_zero,
    known.flipped_kernel: _forward_flipped,
    known.global_mask: _lesson_mask,
    known.batch_mean: _averaged("fc"),
    known.conv_batch_mean: _averaged("conv1", "conv2"),
}


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
        known.flipped_kernel: lambda: run(flipped),
        known.digitcnn_unpadded: lambda: run(unpadded),
        known.digitcnn_no_relu: lambda: run(no_relu),
    }


# The two states the network is checked in: the weights training starts from (He-normal, zero biases: every
# ReLU input over a strip's blank columns is exactly 0), and the same moved by noise, biases too.
STATES = ((False, "the grader's initial weights (zero biases)"), (True, "the grader's weights (noisy, biases too)"))


@check("DigitCNN", weight=2)
def test_architecture(student, reference, rng):
    """parameters() lists conv1.W, conv1.b, conv2.W, conv2.b, fc.W and fc.b with DigitCNN's shapes"""
    harness.expect_architecture(student.DigitCNN())


@check("DigitCNN", weight=4, depends=["test_architecture"])
def test_forward(student, reference, rng):
    """forward computes the reference network's logits from the same weights, at the initial weights and noisy ones"""
    for noisy, weighed in STATES:
        model, params, weights = harness.graders_model(student, rng, noisy)
        x = harness.digit_strips(rng)
        same(model.forward(x), harness.reference_model(reference, weights).forward(x),
             f"DigitCNN.forward(x) with x of shape (4, 1, 8, 12) and {weighed}",
             mistakes=_variants(reference, weights, x))


def _gradients(reference, weights, x, dlogits, change=None):
    net = harness.reference_model(reference, weights)
    if change:
        change(net)
    net.forward(x)
    return [net.backward(dlogits)] + [p.grad for p in net.parameters()]


def _apart(one, other) -> bool:
    """Two lists of gradients that a check tells apart (some entry differs well beyond its tolerance)."""
    return any(not np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(one, other))


@check("DigitCNN", weight=5, depends=["test_architecture"])
def test_backward(student, reference, rng):
    """backward returns dx and fills every parameter's grad as the reference network does, at the initial weights and noisy ones"""
    names = ("dx of DigitCNN.backward(dlogits)", "conv1.W.grad", "conv1.b.grad", "conv2.W.grad", "conv2.b.grad",
             "fc.W.grad", "fc.b.grad")
    for noisy, weighed in STATES:
        model, params, weights = harness.graders_model(student, rng, noisy)
        # Strips and dlogits on which each known wrong backward differs from the reference's (drawn again
        # until they do: a draw on which a mistake changes nothing would pass it on some seeds only). At the
        # initial weights a ReLU input is exactly 0 over blank columns, but a tie of a pooling window is 0 too,
        # where the ReLU blocks the gradient anyway; with noisy biases, ties are positive and no input is 0.
        shows = [m for m in BACKWARD_VARIANTS if m is not (known.relu_grad_at_zero if noisy else known.global_mask)]
        for _ in range(50):
            x, dlogits = harness.digit_strips(rng), rng.standard_normal((4, 10))
            expected = _gradients(reference, weights, x, dlogits)
            wrong = {m: _gradients(reference, weights, x, dlogits, change) for m, change in BACKWARD_VARIANTS.items()}
            if all(_apart(wrong[m], expected) for m in shows):
                break
        model.forward(x)
        got = [model.backward(dlogits)] + [p.grad for p in params]
        for index, (name, mine, want) in enumerate(zip(names, got, expected)):
            same(mine, want, f"{name} after forward(x) on digit-like strips, with {weighed}",
                 mistakes={m: (lambda w=w: w[index]) for m, w in wrong.items()})
@check("DigitCNN", weight=2, depends=["test_forward"])
def test_backward_numerically(student, reference, rng):
    """dx agrees with the numerical gradient of sum(dlogits * forward(x))"""
    model, params, weights = harness.graders_model(student, rng)
    net = harness.reference_model(reference, weights)
    # The network is piecewise linear: a ReLU input or a pooling near-tie within a step of the central
    # difference bends the numerical gradient on some draws. Strips are drawn again until the reference's
    # own dx agrees with it far inside the tolerance, so a right backward passes on every seed.
    for _ in range(50):
        x, dlogits = rng.random((2, 1, 8, 12)), rng.standard_normal((2, 10))  # no blank cells: no exact ties
        numeric = batch_numerical_gradient(
            lambda xs: np.einsum("knm,nm->k", net.forward(xs.reshape(-1, 1, 8, 12)).reshape(len(xs), 2, 10), dlogits), x)
        if relative_error(_gradients(reference, weights, x, dlogits)[0], numeric) < 1e-9:
            break
    model.forward(x)
    dx = model.backward(dlogits)
    harness.numerically(dx, numeric, "DigitCNN.backward(dlogits)", {
        m: (lambda change=change: _gradients(reference, weights, x, dlogits, change)[0])
        for m, change in BACKWARD_VARIANTS.items()}, tolerance=1e-6)


@check("DigitCNN", weight=1)
def test_predict(student, reference, rng):
    """predict(model, x) gives the class of the highest score, for strips and weights the grader makes"""
    # Weights and strips on which the reference's classes vary (on a fifth of draws a network this
    # size answers one class for every strip): a predict that answers a constant never passes.
    for _ in range(50):
        weights, x = harness.graders_weights(rng), harness.digit_strips(rng, 150)  # more than predict's batches of 100
        counts = np.bincount(reference.predict(harness.reference_model(reference, weights), x), minlength=10)
        if (counts > 0).sum() >= 3 and counts.max() <= 0.6 * len(x):
            break
    model, _ = harness.holding(student, weights)
    same(student.predict(model, x), reference.predict(harness.reference_model(reference, weights), x),
         "predict(model, x) with x of shape (150, 1, 8, 12) and the grader's weights",
         mistakes={m: (lambda run=run: run().argmax(axis=1)) for m, run in _variants(reference, weights, x).items()})
