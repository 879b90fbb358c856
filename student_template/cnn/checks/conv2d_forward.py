# Built from assignments/cnn/public_tests/test_conv2d_forward.py by `python -m autograder build`; edit that file instead.
from otter.test_files import test_case

OK_FORMAT = False
name = "conv2d_forward"

"""Public checks for conv2d_forward."""

import numpy as np


def _same(actual, expected, err_msg):
    """Fail unless actual equals expected, saying why first (err_msg), then what came back."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    ok = actual.shape == expected.shape and np.allclose(actual, expected, rtol=1e-7, atol=1e-12)
    assert ok, f"{err_msg}\ngot (shape {actual.shape}):\n{actual}\nexpected (shape {expected.shape}):\n{expected}"


def _check_array(out, shape):
    assert isinstance(out, np.ndarray), (
        f"conv2d_forward returned {type(out).__name__}; expected a NumPy array"
    )
    assert out.shape == shape, (
        f"conv2d_forward returned shape {out.shape}; expected {shape} = (N, F, H_out, W_out)"
    )


@test_case(name="test_two_channels_two_filters")
def test_two_channels_two_filters(conv2d_forward):
    """Each filter sums its products over all input channels and gives one output channel."""
    x = np.arange(18.0).reshape(1, 2, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]],    # filter 0, channel 0
                   [[0.0, 1.0], [1.0, 0.0]]],   # filter 0, channel 1
                  [[[1.0, 1.0], [1.0, 1.0]],    # filter 1, channel 0
                   [[0.0, 0.0], [0.0, 2.0]]]])  # filter 1, channel 1
    out = conv2d_forward(x, w, np.zeros(2))
    _check_array(out, (1, 2, 2, 2))
    expected = np.array([[[[18.0, 20.0],
                           [24.0, 26.0]],
                          [[34.0, 40.0],
                           [52.0, 58.0]]]])
    _same(
        out, expected, "wrong values for 2 channels and 2 filters (2x2 kernels, stride 1, no padding)"
    )


@test_case(name="test_kernel_is_not_flipped")
def test_kernel_is_not_flipped(conv2d_forward):
    """The kernel is applied as written: [[0, 1], [0, 0]] picks the top-right cell of each window."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[0.0, 1.0],
                    [0.0, 0.0]]]])
    out = conv2d_forward(x, w, np.zeros(1))
    _check_array(out, (1, 1, 2, 2))
    expected = np.array([[[[1.0, 2.0],
                           [4.0, 5.0]]]])
    _same(
        out,
        expected,
        "out[i, j] should be x[i, j + 1], the window's top-right cell (a kernel flipped, or transposed, or an "
        "output with its axes swapped picks another cell)",
    )


@test_case(name="test_bias_is_added")
def test_bias_is_added(conv2d_forward):
    """Filter f adds b[f] to every one of its output cells."""
    x = np.zeros((1, 1, 3, 3))
    w = np.ones((2, 1, 2, 2))
    out = conv2d_forward(x, w, np.array([1.5, -2.0]))
    _check_array(out, (1, 2, 2, 2))
    expected = np.array([[[[1.5, 1.5],
                           [1.5, 1.5]],
                          [[-2.0, -2.0],
                           [-2.0, -2.0]]]])
    _same(
        out, expected, "with x all zeros, output channel f should be filled with b[f]"
    )


@test_case(name="test_integer_inputs_give_float64")
def test_integer_inputs_give_float64(conv2d_forward):
    """Integer x, w and b still give a float64 result."""
    x = np.arange(9).reshape(1, 1, 3, 3)
    w = np.array([[[[1, 2],
                    [3, 4]]]])
    out = conv2d_forward(x, w, np.array([1]))
    _check_array(out, (1, 1, 2, 2))
    assert out.dtype == np.float64, f"conv2d_forward returned dtype {out.dtype}; expected float64"
    expected = np.array([[[[28.0, 38.0],
                           [58.0, 68.0]]]])
    _same(out, expected, "wrong values for integer inputs")


@test_case(name="test_stride_and_padding")
def test_stride_and_padding(conv2d_forward):
    """With padding 1 and stride 2, a 3x3 kernel on a 4x4 input stops at 2x2 positions."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 3, 3))
    out = conv2d_forward(x, w, np.zeros(1), stride=2, padding=1)
    _check_array(out, (1, 1, 2, 2))
    expected = np.array([[[[10.0, 24.0],
                           [51.0, 90.0]]]])
    _same(
        out,
        expected,
        "with stride=2, padding=1, each value should be the sum of a 3x3 window of the "
        "zero-padded input, windows starting 2 cells apart",
    )
