"""Hidden checks of the softmax cross-entropy loss."""

import numpy as np

from autograder.suite import check, same
from autograder.suites.cnn.gradients import batch_numerical_gradient, check_gradient


def _reference(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return log_p, -log_p[np.arange(len(labels)), labels].mean()


def _call(student, logits, labels):
    result = student.softmax_cross_entropy(logits, labels)
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError("softmax_cross_entropy(logits, labels) should return a tuple (loss, dlogits)")
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
         mistakes={"sum the loss over the batch instead of averaging it": lambda: np.asarray(picked.sum()),
                   "forget the minus sign": lambda: np.asarray(-loss),
                   "return the loss of every example instead of their mean": lambda: picked})


@check("softmax_cross_entropy", weight=3)
def test_gradient(student, reference, rng):
    """dlogits is (softmax(logits) - one_hot(labels)) / N"""
    logits, labels = 3 * rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    log_p, _ = _reference(logits, labels)
    p, one_hot = np.exp(log_p), np.eye(4)[labels]
    _, dlogits = _call(student, logits, labels)
    same(dlogits, (p - one_hot) / 5, "dlogits of softmax_cross_entropy(logits, labels)",
         mistakes={"forget to divide the gradient by the batch size N": lambda: p - one_hot,
                   "return softmax(logits) without subtracting the one-hot labels": lambda: p / 5,
                   "subtract the softmax from the one-hot labels (the sign is flipped)": lambda: (one_hot - p) / 5})


@check("softmax_cross_entropy", weight=2, depends=["test_loss"])
def test_gradient_numerically(student, reference, rng):
    """dlogits agrees with the numerical gradient of the loss"""
    logits, labels = rng.standard_normal((3, 5)), rng.integers(0, 5, 3)
    _, dlogits = _call(student, logits, labels)
    numeric = batch_numerical_gradient(lambda stack: np.array([_reference(s, labels)[1] for s in stack]), logits)
    check_gradient(dlogits, numeric, "dlogits", tolerance=1e-6)


@check("softmax_cross_entropy", weight=2, depends=["test_loss"])
def test_large_scores(student, reference, rng):
    """scores in the thousands give a finite, correct loss and gradient"""
    logits, labels = 1000 * rng.standard_normal((4, 6)), rng.integers(0, 6, 4)
    log_p, loss = _reference(logits, labels)
    got, dlogits = _call(student, logits, labels)
    hint = " It matches what you get if you forget to subtract each row's maximum before exp (exp overflows)."
    got = np.asarray(got, dtype=float) if isinstance(got, (float, np.floating, int)) else got
    if isinstance(got, np.ndarray) and got.shape == () and not np.isfinite(got):
        raise AssertionError(f"softmax_cross_entropy returned a loss of {float(got)} for scores in the thousands.{hint}")
    same(got, np.asarray(loss), "the loss for scores in the thousands")
    same(dlogits, (np.exp(log_p) - np.eye(6)[labels]) / 4, "dlogits for scores in the thousands")
