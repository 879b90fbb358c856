# Built from assignments/cnn/public_tests/test_pad.py by `python -m autograder build`; edit that file instead.
from otter.test_files import test_case

OK_FORMAT = False
name = "pad"

"""Public checks for pad."""

import numpy as np


def _same(actual, expected, err_msg):
    """Fail unless actual equals expected, saying why first (err_msg), then what came back."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    ok = actual.shape == expected.shape and np.allclose(actual, expected, rtol=1e-7, atol=1e-12)
    assert ok, f"{err_msg}\ngot (shape {actual.shape}):\n{actual}\nexpected (shape {expected.shape}):\n{expected}"


def _check_array(out, shape, layout):
    assert isinstance(out, np.ndarray), (
        f"pad returned {type(out).__name__}; expected a NumPy array"
    )
    assert out.shape == shape, f"pad returned shape {out.shape}; expected {shape} = {layout}"


@test_case(name="test_int_padding")
def test_int_padding(pad):
    """An int p adds p zero rows above and below and p zero columns left and right of every channel."""
    x = np.arange(8).reshape(1, 2, 2, 2)
    out = pad(x, 1)
    _check_array(out, (1, 2, 4, 4), "(N, C, H + 2, W + 2); N and C are never padded")
    expected = np.array([[[[0, 0, 0, 0],
                           [0, 0, 1, 0],
                           [0, 2, 3, 0],
                           [0, 0, 0, 0]],
                          [[0, 0, 0, 0],
                           [0, 4, 5, 0],
                           [0, 6, 7, 0],
                           [0, 0, 0, 0]]]])
    _same(
        out, expected, "pad(x, 1): x should sit in the middle, framed by zeros"
    )


@test_case(name="test_pair_padding")
def test_pair_padding(pad):
    """A pair (p_h, p_w) pads rows by p_h on both sides and columns by p_w on both sides."""
    x = np.arange(6).reshape(1, 1, 2, 3)
    out = pad(x, (1, 0))
    _check_array(out, (1, 1, 4, 3), "(N, C, H + 2*1, W + 2*0)")
    expected = np.array([[[[0, 0, 0],
                           [0, 1, 2],
                           [3, 4, 5],
                           [0, 0, 0]]]])
    _same(
        out, expected, "pad(x, (1, 0)) should add one row above and below and no columns"
    )


@test_case(name="test_per_side_padding_and_value")
def test_per_side_padding_and_value(pad):
    """((top, bottom), (left, right)) pads each side by its own amount, filling with `value`."""
    x = np.arange(6).reshape(1, 1, 2, 3)
    out = pad(x, ((0, 1), (2, 0)), value=9)
    _check_array(out, (1, 1, 3, 5), "(N, C, 0 + H + 1, 2 + W + 0)")
    expected = np.array([[[[9, 9, 0, 1, 2],
                           [9, 9, 3, 4, 5],
                           [9, 9, 9, 9, 9]]]])
    _same(
        out,
        expected,
        "pad(x, ((0, 1), (2, 0)), value=9) should add one row of 9s below and two columns "
        "of 9s on the left",
    )


@test_case(name="test_dtype_is_kept")
def test_dtype_is_kept(pad):
    """The result has the same dtype as x (integers stay integers, float32 stays float32)."""
    for dtype in (np.int64, np.float32):
        x = np.ones((1, 1, 2, 2), dtype=dtype)
        out = pad(x, 1)
        _check_array(out, (1, 1, 4, 4), "(N, C, H + 2, W + 2)")
        assert out.dtype == dtype, (
            f"pad turned a {np.dtype(dtype).name} input into {out.dtype}; keep x's dtype"
        )
