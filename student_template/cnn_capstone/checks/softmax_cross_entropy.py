# Built from assignments/cnn_capstone/public_tests/test_softmax_cross_entropy.py by `python -m autograder build`; edit that file instead.
from otter.test_files import test_case

OK_FORMAT = False
name = "softmax_cross_entropy"

"""Public checks for the softmax cross-entropy loss."""

import numpy as np


@test_case(name="test_uniform_scores")
def test_uniform_scores(softmax_cross_entropy):
    """Equal scores give loss log(K) and gradient (1/K - one_hot) / N."""
    loss, dlogits = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    np.testing.assert_allclose(loss, np.log(4), err_msg="the loss of equal scores over 4 classes is log(4)")
    np.testing.assert_allclose(dlogits, [[-0.375, 0.125, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]],
                               err_msg="(softmax - one_hot) / N")


@test_case(name="test_large_scores_do_not_overflow")
def test_large_scores_do_not_overflow(softmax_cross_entropy):
    """Scores of 1000 are fine: subtract each row's maximum before exp."""
    loss, dlogits = softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits)), "the loss overflowed; subtract each row's maximum first"
    np.testing.assert_allclose(loss, 0.0, atol=1e-12, err_msg="the right class is certain: loss 0")
