# Built from assignments/cnn/public_tests/test_MaxPool2d.py by `python -m autograder build`; edit that file instead.
from otter.test_files import test_case

OK_FORMAT = False
name = "MaxPool2d"

"""Public checks for the MaxPool2d layer."""

import numpy as np


def _same(actual, expected, err_msg):
    """Fail unless actual equals expected, saying why first (err_msg), then what came back."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    ok = actual.shape == expected.shape and np.allclose(actual, expected, rtol=1e-7, atol=1e-12)
    assert ok, f"{err_msg}\ngot (shape {actual.shape}):\n{actual}\nexpected (shape {expected.shape}):\n{expected}"

_X = np.array([[[[1.0, 5.0, 2.0, 0.0],
                 [3.0, 4.0, 8.0, 1.0],
                 [0.0, 2.0, 6.0, 7.0],
                 [9.0, 1.0, 3.0, 2.0]]]])


def _check_array(what, out, shape, layout):
    assert isinstance(out, np.ndarray), f"{what} returned {type(out).__name__}; expected a NumPy array"
    assert out.shape == shape, f"{what} returned shape {out.shape}; expected {shape} = {layout}"


@test_case(name="test_forward")
def test_forward(MaxPool2d):
    """Calling the layer max-pools its input like maxpool_forward."""
    pool = MaxPool2d(2)
    out = pool(_X)
    _check_array("MaxPool2d(2)(x)", out, (1, 1, 2, 2), "(N, C, H_out, W_out)")
    _same(
        out,
        np.array([[[[5.0, 8.0],
                    [9.0, 7.0]]]]),
        "each output should be the maximum of a 2x2 block",
    )


@test_case(name="test_default_stride_is_pool_size")
def test_default_stride_is_pool_size(MaxPool2d):
    """Without a stride, windows move by pool_size, so they tile the input without overlapping."""
    out = MaxPool2d(3)(np.arange(36.0).reshape(1, 1, 6, 6))
    _check_array("MaxPool2d(3)(x) on a 6x6 input", out, (1, 1, 2, 2), "(N, C, 6 // 3, 6 // 3)")
    _same(
        out,
        np.array([[[[14.0, 17.0],
                    [32.0, 35.0]]]]),
        "each output should be the maximum of a 3x3 block",
    )


@test_case(name="test_explicit_stride")
def test_explicit_stride(MaxPool2d):
    """A stride given to the constructor is used: stride 1 makes 2x2 windows overlap."""
    out = MaxPool2d(2, stride=1)(_X)
    _check_array("MaxPool2d(2, stride=1)(x)", out, (1, 1, 3, 3), "(N, C, H_out, W_out)")
    _same(
        out,
        np.array([[[[5.0, 8.0, 8.0],
                    [4.0, 8.0, 8.0],
                    [9.0, 6.0, 7.0]]]]),
        "wrong maxima for pool size 2 with stride 1",
    )


@test_case(name="test_backward")
def test_backward(MaxPool2d):
    """backward sends each upstream gradient to the maximum of its window in the input seen by forward."""
    pool = MaxPool2d(2)
    pool(_X)
    dx = pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    _check_array("pool.backward(dout)", dx, (1, 1, 4, 4), "the shape of x")
    _same(
        dx,
        np.array([[[[0.0, 1.0, 0.0, 0.0],
                    [0.0, 0.0, 2.0, 0.0],
                    [0.0, 0.0, 0.0, 4.0],
                    [3.0, 0.0, 0.0, 0.0]]]]),
        "the gradients should sit where the maxima 5, 8, 9 and 7 are",
    )
