"""Public checks for maxpool_forward."""

import numpy as np


def _same(actual, expected, err_msg):
    """Fail unless actual equals expected, saying why first (err_msg), then what came back."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    ok = actual.shape == expected.shape and np.allclose(actual, expected, rtol=1e-7, atol=1e-12)
    assert ok, f"{err_msg}\ngot (shape {actual.shape}):\n{actual}\nexpected (shape {expected.shape}):\n{expected}"

_X = np.array([[[[1, 5, 2, 0],
                 [3, 4, 8, 1],
                 [0, 2, 6, 7],
                 [9, 1, 3, 2]]]])


def _check_array(out, shape):
    assert isinstance(out, np.ndarray), (
        f"maxpool_forward returned {type(out).__name__}; expected a NumPy array"
    )
    assert out.shape == shape, (
        f"maxpool_forward returned shape {out.shape}; expected {shape} = (N, C, H_out, W_out)"
    )


def test_non_overlapping_2x2(maxpool_forward):
    """With the default stride (equal to pool_size), each 2x2 block is replaced by its maximum."""
    out = maxpool_forward(_X, pool_size=2)
    _check_array(out, (1, 1, 2, 2))
    _same(
        out,
        np.array([[[[5, 8],
                    [9, 7]]]]),
        "each output cell should be the maximum of one 2x2 block of x",
    )


def test_stride_one_overlaps(maxpool_forward):
    """With stride 1, 2x2 windows start at every cell where they fit, so they overlap."""
    out = maxpool_forward(_X, pool_size=2, stride=1)
    _check_array(out, (1, 1, 3, 3))
    _same(
        out,
        np.array([[[[5, 8, 8],
                    [4, 8, 8],
                    [9, 6, 7]]]]),
        "wrong maxima for pool_size=2, stride=1",
    )


def test_each_channel_pooled_separately(maxpool_forward):
    """Every image and channel is pooled on its own: windows never mix channels."""
    x = np.arange(64).reshape(2, 2, 4, 4)
    out = maxpool_forward(x, pool_size=2)
    _check_array(out, (2, 2, 2, 2))
    _same(
        out,
        np.array([[[[5, 7], [13, 15]],
                   [[21, 23], [29, 31]]],
                  [[[37, 39], [45, 47]],
                   [[53, 55], [61, 63]]]]),
        "wrong maxima for a batch of 2 images with 2 channels each",
    )


def test_windows_that_do_not_fit_are_dropped(maxpool_forward):
    """On a 5x5 input, 2x2 windows with stride 2 fit twice per axis; the last row and column are left out."""
    x = np.arange(25).reshape(1, 1, 5, 5)
    out = maxpool_forward(x, pool_size=2)
    _check_array(out, (1, 1, 2, 2))
    _same(
        out,
        np.array([[[[6, 8],
                    [16, 18]]]]),
        "wrong maxima on a 5x5 input with pool_size=2",
    )
