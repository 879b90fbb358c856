"""Public checks for maxpool_backward."""

import numpy as np


def _same(actual, expected, err_msg):
    """Fail unless actual equals expected, saying why first (err_msg), then what came back."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    ok = actual.shape == expected.shape and np.allclose(actual, expected, rtol=1e-7, atol=1e-12)
    assert ok, f"{err_msg}\ngot (shape {actual.shape}):\n{actual}\nexpected (shape {expected.shape}):\n{expected}"


def _check_array(dx, shape):
    assert isinstance(dx, np.ndarray), (
        f"maxpool_backward returned {type(dx).__name__}; expected a NumPy array"
    )
    assert dx.shape == shape, (
        f"maxpool_backward returned shape {dx.shape}; expected {shape}, the shape of x"
    )


def test_non_overlapping_2x2(maxpool_backward):
    """Each 2x2 block sends its upstream gradient to its maximum; every other cell gets 0."""
    x = np.array([[[[1.0, 5.0, 2.0, 0.0],
                    [3.0, 4.0, 8.0, 1.0],
                    [0.0, 2.0, 6.0, 7.0],
                    [9.0, 1.0, 3.0, 2.0]]]])
    dout = np.array([[[[1.0, 2.0],
                       [3.0, 4.0]]]])
    dx = maxpool_backward(dout, x, pool_size=2)
    _check_array(dx, (1, 1, 4, 4))
    _same(
        dx,
        np.array([[[[0.0, 1.0, 0.0, 0.0],
                    [0.0, 0.0, 2.0, 0.0],
                    [0.0, 0.0, 0.0, 4.0],
                    [3.0, 0.0, 0.0, 0.0]]]]),
        "the gradients should sit where the maxima 5, 8, 9 and 7 are",
    )


def test_tie_goes_to_first_maximum(maxpool_backward):
    """When a window's maximum appears more than once, only the first in row-major order gets the gradient."""
    x = np.array([[[[3.0, 3.0, 1.0, 7.0],
                    [3.0, 3.0, 7.0, 7.0]]]])
    dout = np.array([[[[5.0, 6.0]]]])
    dx = maxpool_backward(dout, x, pool_size=2)
    _check_array(dx, (1, 1, 2, 4))
    _same(
        dx,
        np.array([[[[5.0, 0.0, 0.0, 6.0],
                    [0.0, 0.0, 0.0, 0.0]]]]),
        "the all-3 window should give all of 5 to its top-left cell, and the other window "
        "all of 6 to the 7 in its top row",
    )


def test_overlapping_windows(maxpool_backward):
    """With stride 1, each window routes its gradient to its own maximum, and a cell sums what it receives.

    Overlap is where a mask of "cells that are a maximum somewhere" goes wrong: 5 wins the
    top-left window, yet must get nothing from the window to its right, where 9 wins.
    """
    x = np.array([[[[1.0, 5.0, 9.0],
                    [2.0, 3.0, 4.0],
                    [0.0, 8.0, 6.0]]]])
    dout = np.array([[[[1.0, 2.0],
                       [3.0, 4.0]]]])
    dx = maxpool_backward(dout, x, pool_size=2, stride=1)
    _check_array(dx, (1, 1, 3, 3))
    _same(
        dx,
        np.array([[[[0.0, 1.0, 2.0],
                    [0.0, 0.0, 0.0],
                    [0.0, 7.0, 0.0]]]]),
        "5 should get 1 (it is not the maximum of the window where 9 wins), 9 should get 2, "
        "and 8 should get 3 + 4",
    )


def test_each_channel_separately(maxpool_backward):
    """Every image and channel routes its own gradients; the shape of dx is the shape of x."""
    x = np.arange(64.0).reshape(2, 2, 4, 4)
    dx = maxpool_backward(np.ones((2, 2, 2, 2)), x, pool_size=2)
    _check_array(dx, (2, 2, 4, 4))
    one_plane = np.array([[0.0, 0.0, 0.0, 0.0],
                          [0.0, 1.0, 0.0, 1.0],
                          [0.0, 0.0, 0.0, 0.0],
                          [0.0, 1.0, 0.0, 1.0]])
    _same(
        dx,
        np.broadcast_to(one_plane, (2, 2, 4, 4)),
        "in every channel the bottom-right cell of each 2x2 block is the maximum and gets the 1",
    )
