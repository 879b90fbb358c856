# Built from assignments/cnn_capstone/public_tests/test_DigitCNN.py by `python -m autograder build`; edit that file instead.
from otter.test_files import test_case

OK_FORMAT = False
name = "DigitCNN"

"""Public checks for the assembled network."""

import numpy as np


@test_case(name="test_shapes")
def test_shapes(DigitCNN):
    """forward maps (N, 1, 8, 12) to (N, 10); backward returns the input's shape; 2,746 parameters."""
    model = DigitCNN()
    logits = model.forward(np.random.default_rng(0).random((3, 1, 8, 12)))
    assert isinstance(logits, np.ndarray) and logits.shape == (3, 10), "forward should return logits of shape (3, 10)"
    dx = model.backward(np.ones((3, 10)))
    assert dx.shape == (3, 1, 8, 12), f"backward returned shape {dx.shape}; expected (3, 1, 8, 12)"
    shapes = [p.data.shape for p in model.parameters()]
    assert shapes == [(8, 1, 3, 3), (8,), (32, 8, 3, 3), (32,), (32, 10), (10,)], f"parameters() has shapes {shapes}"
    assert sum(int(np.prod(s)) for s in shapes) == 2746
