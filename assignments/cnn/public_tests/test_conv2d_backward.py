"""Public checks for conv2d_backward."""

import numpy as np


def _same(actual, expected, err_msg):
    """Fail unless actual equals expected, saying why first (err_msg), then what came back."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    ok = actual.shape == expected.shape and np.allclose(actual, expected, rtol=1e-7, atol=1e-12)
    assert ok, f"{err_msg}\ngot (shape {actual.shape}):\n{actual}\nexpected (shape {expected.shape}):\n{expected}"


def _unpack(result):
    assert isinstance(result, (tuple, list)) and len(result) == 3, (
        f"conv2d_backward returned {type(result).__name__}; expected a tuple (dx, dw, db)"
    )
    for name, grad in zip(("dx", "dw", "db"), result):
        assert isinstance(grad, np.ndarray), (
            f"conv2d_backward returned {name} as {type(grad).__name__}; expected a NumPy array"
        )
    return result


def _check_shape(name, grad, shape, layout):
    assert grad.shape == shape, (
        f"conv2d_backward returned {name} of shape {grad.shape}; expected {shape} = {layout}"
    )


def test_all_ones_kernel_and_gradient(conv2d_backward):
    """With w and dout all ones, dx counts the windows covering each cell and dw sums shifted windows of x."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2))
    dx, dw, db = _unpack(conv2d_backward(np.ones((1, 1, 2, 2)), x, w, np.zeros(1)))
    _check_shape("dx", dx, (1, 1, 3, 3), "x.shape")
    _check_shape("dw", dw, (1, 1, 2, 2), "w.shape")
    _check_shape("db", db, (1,), "(F,)")
    _same(
        dx,
        np.array([[[[1.0, 2.0, 1.0],
                    [2.0, 4.0, 2.0],
                    [1.0, 2.0, 1.0]]]]),
        "dx: the centre cell lies in all 4 windows, a corner in only 1",
    )
    _same(
        dw,
        np.array([[[[8.0, 12.0],
                    [20.0, 24.0]]]]),
        "dw[p, q] should be the sum of x[p:p+2, q:q+2], the cells that weight met",
    )
    _same(db, np.array([4.0]), "db should be the sum of dout")


def test_single_output_position(conv2d_backward):
    """A gradient at one output position puts the unflipped kernel in its window of dx, and x's window in dw."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 2.0],
                    [3.0, 4.0]]]])
    dout = np.array([[[[1.0, 0.0],
                       [0.0, 0.0]]]])
    dx, dw, db = _unpack(conv2d_backward(dout, x, w, np.zeros(1)))
    _check_shape("dx", dx, (1, 1, 3, 3), "x.shape")
    _check_shape("dw", dw, (1, 1, 2, 2), "w.shape")
    _check_shape("db", db, (1,), "(F,)")
    _same(
        dx,
        np.array([[[[1.0, 2.0, 0.0],
                    [3.0, 4.0, 0.0],
                    [0.0, 0.0, 0.0]]]]),
        "dx should hold w in the top-left window (where dout is 1) and zeros elsewhere",
    )
    _same(
        dw,
        np.array([[[[0.0, 1.0],
                    [3.0, 4.0]]]]),
        "dw should equal the top-left 2x2 window of x, the only window with a gradient",
    )
    _same(db, np.array([1.0]), "db should be the sum of dout")


def test_batch_channels_filters_shapes(conv2d_backward):
    """With a batch, channels and filters, dx, dw, db have the shapes of x, w, b; db sums over N, H_out, W_out."""
    x = np.arange(72.0).reshape(2, 3, 4, 3)
    w = np.arange(36.0).reshape(2, 3, 3, 2) - 8.0
    dout = np.arange(16.0).reshape(2, 2, 2, 2)
    dx, dw, db = _unpack(conv2d_backward(dout, x, w, np.zeros(2)))
    _check_shape("dx", dx, (2, 3, 4, 3), "x.shape (N, C, H, W)")
    _check_shape("dw", dw, (2, 3, 3, 2), "w.shape (F, C, KH, KW)")
    _check_shape("db", db, (2,), "(F,)")
    _same(
        db, np.array([44.0, 76.0]), "db[f] should sum dout[:, f] over the batch and all positions"
    )


def test_stride_and_padding(conv2d_backward):
    """With stride 2 and padding 1, dx keeps x's shape: gradients that land in the padding are dropped."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 3, 3))
    dout = np.array([[[[1.0, 2.0],
                       [3.0, 4.0]]]])
    dx, dw, db = _unpack(conv2d_backward(dout, x, w, np.zeros(1), stride=2, padding=1))
    _check_shape("dx", dx, (1, 1, 4, 4), "x.shape, not the padded shape")
    _check_shape("dw", dw, (1, 1, 3, 3), "w.shape")
    _check_shape("db", db, (1,), "(F,)")
    _same(
        dx,
        np.array([[[[1.0, 3.0, 2.0, 2.0],
                    [4.0, 10.0, 6.0, 6.0],
                    [3.0, 7.0, 4.0, 4.0],
                    [3.0, 7.0, 4.0, 4.0]]]]),
        "wrong dx for stride=2, padding=1: each cell collects dout from every window covering it",
    )
    _same(
        dw,
        np.array([[[[20.0, 36.0, 43.0],
                    [38.0, 68.0, 78.0],
                    [62.0, 108.0, 118.0]]]]),
        "wrong dw for stride=2, padding=1: dw[p, q] sums dout times the padded-input cell "
        "that weight met",
    )
    _same(db, np.array([10.0]), "db should be the sum of dout")
