"""Public checks for the Conv2d layer."""

import numpy as np


def _same(actual, expected, err_msg):
    """Fail unless actual equals expected, saying why first (err_msg), then what came back."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    ok = actual.shape == expected.shape and np.allclose(actual, expected, rtol=1e-7, atol=1e-12)
    assert ok, f"{err_msg}\ngot (shape {actual.shape}):\n{actual}\nexpected (shape {expected.shape}):\n{expected}"

_W = np.array([[[[1.0, 2.0],
                 [3.0, 4.0]]],
               [[[0.0, 0.0],
                 [0.0, -1.0]]]])
_B = np.array([0.5, -1.0])
_X = np.arange(4.0).reshape(1, 1, 2, 2)


def _known_layer(Conv2d):
    layer = Conv2d(1, 2, kernel_size=2, padding=1)
    layer.W.data = _W.copy()
    layer.b.data = _B.copy()
    return layer


def _check_array(what, out, shape, layout):
    assert isinstance(out, np.ndarray), f"{what} is {type(out).__name__}; expected a NumPy array"
    assert out.shape == shape, f"{what} has shape {out.shape}; expected {shape} = {layout}"


def test_parameter_shapes(Conv2d):
    """W has shape (F, C, KH, KW), b has shape (F,) and starts at zeros, and both gradients start at zeros."""
    layer = Conv2d(3, 8, kernel_size=3, padding=1)
    _check_array("layer.W.data", layer.W.data, (8, 3, 3, 3), "(out_channels, in_channels, KH, KW)")
    _check_array("layer.b.data", layer.b.data, (8,), "(out_channels,)")
    _same(layer.b.data, np.zeros(8), "b should start at zeros")
    _check_array("layer.W.grad", layer.W.grad, (8, 3, 3, 3), "the shape of W")
    _same(layer.W.grad, np.zeros((8, 3, 3, 3)), "W.grad should start at zeros")
    rect = Conv2d(2, 4, kernel_size=(2, 3))
    _check_array("W.data for kernel_size=(2, 3)", rect.W.data, (4, 2, 2, 3), "(F, C, KH, KW)")


def test_forward_with_known_weights(Conv2d):
    """forward (and calling the layer) convolves with the layer's own W, b and padding."""
    layer = _known_layer(Conv2d)
    out = layer(_X)
    _check_array("layer(x)", out, (1, 2, 3, 3), "(N, F, H_out, W_out) with padding 1")
    expected = np.array([[[[0.5, 4.5, 3.5],
                           [8.5, 20.5, 10.5],
                           [4.5, 8.5, 3.5]],
                          [[-1.0, -2.0, -1.0],
                           [-3.0, -4.0, -1.0],
                           [-1.0, -1.0, -1.0]]]])
    _same(
        out, expected, "layer(x) should equal conv2d_forward(x, W, b, stride=1, padding=1)"
    )
    _same(
        layer.forward(_X), expected, "layer.forward(x) should give the same result as layer(x)"
    )


def test_backward_returns_dx_and_fills_grads(Conv2d):
    """backward returns dx with the shape of x and adds the gradients into W.grad and b.grad."""
    layer = _known_layer(Conv2d)
    layer(_X)
    dx = layer.backward(np.ones((1, 2, 3, 3)))
    _check_array("layer.backward(dout)", dx, (1, 1, 2, 2), "the shape of x")
    _check_array("layer.W.grad", layer.W.grad, (2, 1, 2, 2), "the shape of W")
    _check_array("layer.b.grad", layer.b.grad, (2,), "the shape of b")
    # With dout all ones and padding 1, every x cell meets every kernel weight exactly once.
    _same(
        dx,
        np.full((1, 1, 2, 2), 9.0),
        "dx should be the sum of all weights of W (10 - 1) in every cell",
    )
    _same(
        layer.W.grad,
        np.full((2, 1, 2, 2), 6.0),
        "W.grad should be the sum of x (0+1+2+3) in every cell",
    )
    _same(
        layer.b.grad, np.array([9.0, 9.0]), "b.grad should be the sum of dout for each filter"
    )


def test_backward_accumulates(Conv2d):
    """A second backward adds to W.grad and b.grad instead of overwriting them, so they double."""
    layer = _known_layer(Conv2d)
    layer(_X)
    layer.backward(np.ones((1, 2, 3, 3)))
    layer.backward(np.ones((1, 2, 3, 3)))
    _check_array("layer.W.grad", layer.W.grad, (2, 1, 2, 2), "the shape of W")
    _check_array("layer.b.grad", layer.b.grad, (2,), "the shape of b")
    _same(
        layer.W.grad,
        np.full((2, 1, 2, 2), 12.0),
        "after two backward calls W.grad should be twice one call's (6)",
    )
    _same(
        layer.b.grad,
        np.array([18.0, 18.0]),
        "after two backward calls b.grad should be twice one call's (9)",
    )
