"""Public checks for the Flatten layer."""

import numpy as np


def test_forward_makes_one_row_per_example(Flatten):
    """forward reshapes (N, C, H, W) to (N, C * H * W), channel 0 first, row by row."""
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    out = Flatten().forward(x)
    assert isinstance(out, np.ndarray) and out.shape == (2, 12), "Flatten().forward(x) should return shape (2, 12)"
    np.testing.assert_allclose(out[1], np.arange(12.0, 24.0), err_msg="the second example's values in NumPy's order")


def test_backward_restores_the_shape(Flatten):
    """backward reshapes the gradient to the input's shape."""
    flat = Flatten()
    flat.forward(np.zeros((2, 3, 2, 2)))
    dx = flat.backward(np.arange(24.0).reshape(2, 12))
    np.testing.assert_allclose(dx, np.arange(24.0).reshape(2, 3, 2, 2), err_msg="the gradient reshaped back")
