# Built from assignments/cnn_capstone/public_tests/test_ReLU.py by `python -m autograder build`; edit that file instead.
from otter.test_files import test_case

OK_FORMAT = False
name = "ReLU"

"""Public checks for the ReLU layer."""

import numpy as np


@test_case(name="test_forward_keeps_positive_values")
def test_forward_keeps_positive_values(ReLU):
    """forward zeroes the negative entries and keeps the positive ones."""
    out = ReLU().forward(np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]]))
    assert isinstance(out, np.ndarray), f"ReLU().forward(x) returned {type(out).__name__}; expected a NumPy array"
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.0, 0.5, 3.0]], err_msg="max(x, 0) element by element")


@test_case(name="test_backward_passes_gradient_where_x_was_positive")
def test_backward_passes_gradient_where_x_was_positive(ReLU):
    """backward lets dout through where x > 0 and blocks it where x <= 0 (at 0 too)."""
    relu = ReLU()
    relu.forward(np.array([[-1.0, 0.0, 2.0], [4.0, -3.0, 0.5]]))
    dx = relu.backward(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    np.testing.assert_allclose(dx, [[0.0, 0.0, 3.0], [4.0, 0.0, 6.0]], err_msg="dout where x > 0, else 0")
