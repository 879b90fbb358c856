# Built from assignments/cnn_capstone/public_tests/test_Linear.py by `python -m autograder build`; edit that file instead.
from otter.test_files import test_case

OK_FORMAT = False
name = "Linear"

"""Public checks for the Linear layer."""

import numpy as np


@test_case(name="test_parameters")
def test_parameters(Linear):
    """W has shape (in_features, out_features) and b is zeros of shape (out_features,)."""
    layer = Linear(4, 3)
    assert layer.W.data.shape == (4, 3), f"Linear(4, 3).W.data has shape {layer.W.data.shape}; expected (4, 3)"
    assert layer.b.data.shape == (3,) and not layer.b.data.any(), "Linear(4, 3).b.data should be zeros of shape (3,)"


@test_case(name="test_forward_and_backward")
def test_forward_and_backward(Linear):
    """forward is x @ W + b; backward adds x.T @ dout and dout's column sums to the gradients."""
    layer = Linear(2, 2)
    layer.W.data = np.array([[1.0, 2.0], [3.0, 4.0]])
    layer.b.data = np.array([0.5, -0.5])
    x = np.array([[1.0, 1.0], [0.0, 2.0]])
    np.testing.assert_allclose(layer.forward(x), [[4.5, 5.5], [6.5, 7.5]], err_msg="x @ W + b")
    dx = layer.backward(np.array([[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_allclose(dx, [[1.0, 3.0], [2.0, 4.0]], err_msg="dx = dout @ W.T")
    np.testing.assert_allclose(layer.W.grad, [[1.0, 0.0], [1.0, 2.0]], err_msg="W.grad = x.T @ dout")
    np.testing.assert_allclose(layer.b.grad, [1.0, 1.0], err_msg="b.grad = dout summed over the batch")
