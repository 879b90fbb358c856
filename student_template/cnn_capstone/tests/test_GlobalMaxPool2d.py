"""Public checks for global max pooling."""

import numpy as np

_X = np.array([[[[1.0, 7.0, 2.0], [3.0, 0.0, 5.0]],
                [[-4.0, -1.0, -2.0], [-3.0, -9.0, -8.0]]]])


def test_forward_takes_each_channels_maximum(GlobalMaxPool2d):
    """forward returns the largest value of every channel, shape (N, C)."""
    out = GlobalMaxPool2d().forward(_X)
    assert isinstance(out, np.ndarray) and out.shape == (1, 2), "forward should return shape (N, C) = (1, 2)"
    np.testing.assert_allclose(out, [[7.0, -1.0]], err_msg="the maximum of each channel")


def test_backward_sends_the_gradient_to_the_maximum(GlobalMaxPool2d):
    """backward puts each channel's gradient where its maximum was."""
    pool = GlobalMaxPool2d()
    pool.forward(_X)
    dx = pool.backward(np.array([[10.0, 20.0]]))
    expected = np.zeros_like(_X)
    expected[0, 0, 0, 1], expected[0, 1, 0, 1] = 10.0, 20.0
    np.testing.assert_allclose(dx, expected, err_msg="the gradient belongs at the maxima 7 and -1")
