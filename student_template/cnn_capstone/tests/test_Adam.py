"""Public checks for the Adam optimiser."""

import numpy as np


def test_first_step_moves_by_lr(Adam, Parameter):
    """With bias correction, the first step moves every entry by about lr against its gradient's sign."""
    p = Parameter(np.array([1.0, -1.0, 0.0]))
    p.grad = np.array([0.5, -2.0, 1e-3])
    Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.9, -0.9, -0.1], rtol=1e-4, err_msg="data - lr * sign(grad) on the first step")


def test_zero_grad(Adam, Parameter):
    """zero_grad resets every parameter's gradient."""
    p = Parameter(np.ones(3))
    p.grad = np.ones(3)
    Adam([p]).zero_grad()
    np.testing.assert_allclose(p.grad, np.zeros(3), err_msg="grad should be zeros")
