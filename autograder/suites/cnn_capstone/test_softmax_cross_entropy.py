"""Hidden checks of the softmax cross-entropy loss."""

import numpy as np

from autograder.suite import CheckFailed, check, fail, same
from autograder.suites.cnn.gradients import batch_numerical_gradient

from . import harness
from .mistakes import known, softmax_log_of_probabilities, softmax_without_max_shift


def _reference(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return log_p, -log_p[np.arange(len(labels)), labels].mean()


def _call(student, logits, labels):
    result = student.softmax_cross_entropy(logits, labels)
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailed("softmax_cross_entropy(logits, labels) should return a tuple (loss, dlogits)")
    return result


@check("softmax_cross_entropy", weight=3)
def test_loss(student, reference, rng):
    """the loss is the mean over the batch of -log softmax(logits)[label]"""
    logits, labels = 3 * rng.standard_normal((6, 10)), rng.integers(0, 10, 6)
    log_p, loss = _reference(logits, labels)
    got, _ = _call(student, logits, labels)
    picked = -log_p[np.arange(6), labels]
    same(np.asarray(got, dtype=float) if isinstance(got, (float, np.floating)) else got, np.asarray(loss),
         "the loss of softmax_cross_entropy(logits, labels)",
         mistakes={known.loss_summed: lambda: np.asarray(picked.sum()),
                   known.loss_sign_flipped: lambda: np.asarray(-loss),
                   known.loss_per_example: lambda: picked,
                   known.loss_over_classes: lambda: np.asarray(loss / 10)})


@check("softmax_cross_entropy", weight=3)
def test_gradient(student, reference, rng):
    """dlogits is (softmax(logits) - one_hot(labels)) / N"""
    logits, labels = 3 * rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    log_p, _ = _reference(logits, labels)
    p, one_hot = np.exp(log_p), np.eye(4)[labels]
    _, dlogits = _call(student, logits, labels)
    same(dlogits, (p - one_hot) / 5, "dlogits of softmax_cross_entropy(logits, labels)",
         mistakes={known.loss_grad_not_averaged: lambda: p - one_hot,
                   known.loss_grad_over_classes: lambda: (p - one_hot) / 4,
                   known.loss_grad_no_one_hot: lambda: p / 5,
                   known.loss_grad_sign_flipped: lambda: (one_hot - p) / 5})


@check("softmax_cross_entropy", weight=2, depends=["test_loss"])
def test_gradient_numerically(student, reference, rng):
    """dlogits agrees with the numerical gradient of the loss"""
    logits, labels = rng.standard_normal((3, 5)), rng.integers(0, 5, 3)
    _, dlogits = _call(student, logits, labels)
    numeric = batch_numerical_gradient(lambda stack: np.array([_reference(s, labels)[1] for s in stack]), logits)
    p, one_hot = np.exp(_reference(logits, labels)[0]), np.eye(5)[labels]
    harness.numerically(dlogits, numeric, "dlogits", {known.loss_grad_not_averaged: lambda: p - one_hot,
                                                      known.loss_grad_over_classes: lambda: (p - one_hot) / 5,
                                                      known.loss_grad_sign_flipped: lambda: (one_hot - p) / 3},
                        tolerance=1e-6)


def _loss_array(got):
    return np.asarray(got, dtype=float) if isinstance(got, (float, np.floating, int)) else got


@check("softmax_cross_entropy", weight=2, depends=["test_loss"])
def test_large_scores(student, reference, rng):
    """scores in the thousands, and a label's score far below its row's maximum, give a finite, correct loss and gradient"""
    # Scores in the thousands, close together: exp overflows unless each row's maximum is subtracted first;
    # once it is, nothing here can underflow (no score is more than ~100 below its row's maximum).
    logits, labels = 1000 + 10 * rng.standard_normal((4, 6)), rng.integers(0, 6, 4)
    _check_large(student, logits, labels, "scores in the thousands",
                 {known.softmax_no_max_shift: softmax_without_max_shift}, known.softmax_no_max_shift)
    # Moderate scores (no exp overflows, shifted or not), but two labels' scores 800 below their row's maximum:
    # their softmax underflows to 0, and log(0) is -inf, unless the log is taken as log-sum-exp.
    logits, labels = np.clip(100 * rng.standard_normal((4, 6)), -300, 300), rng.integers(0, 6, 4)
    for row in (0, 2):
        others = np.delete(logits[row], labels[row])
        logits[row, labels[row]] = others.max() - 800
    _check_large(student, logits, labels, "a label's score 800 below its row's maximum",
                 {known.softmax_log_of_underflow: softmax_log_of_probabilities}, known.softmax_log_of_underflow)


def _check_large(student, logits, labels, what, variants, cause):
    """The loss and gradient for these logits; a loss that is not finite names `cause`, the only way such
    a loss comes from these scores (as its variant, run here, shows)."""
    log_p, loss = _reference(logits, labels)
    assert np.isfinite(loss) and all(not np.isfinite(v(logits, labels)[0]) for v in variants.values())
    got, dlogits = _call(student, logits, labels)
    got = _loss_array(got)
    if isinstance(got, np.ndarray) and got.shape == () and not np.isfinite(got):
        fail(f"softmax_cross_entropy returned a loss of {float(got)} for {what}", cause)
    same(got, np.asarray(loss), f"the loss for {what}",
         mistakes={m: (lambda v=v: v(logits, labels)[0]) for m, v in variants.items()})
    p, one_hot = np.exp(log_p), np.eye(logits.shape[1])[labels]
    same(dlogits, (p - one_hot) / len(labels), f"dlogits for {what}",
         mistakes={**{m: (lambda v=v: v(logits, labels)[1]) for m, v in variants.items()},
                   known.loss_grad_not_averaged: lambda: p - one_hot,
                   known.loss_grad_over_classes: lambda: (p - one_hot) / logits.shape[1],
                   known.loss_grad_no_one_hot: lambda: p / len(labels),
                   known.loss_grad_sign_flipped: lambda: (one_hot - p) / len(labels)})
