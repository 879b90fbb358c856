"""Public checks for the Conv2d layer."""

import numpy as np

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
    np.testing.assert_allclose(layer.b.data, np.zeros(8), err_msg="b should start at zeros")
    _check_array("layer.W.grad", layer.W.grad, (8, 3, 3, 3), "the shape of W")
    np.testing.assert_allclose(layer.W.grad, np.zeros((8, 3, 3, 3)), err_msg="W.grad should start at zeros")
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
    np.testing.assert_allclose(
        out, expected, err_msg="layer(x) should equal conv2d_forward(x, W, b, stride=1, padding=1)"
    )
    np.testing.assert_allclose(
        layer.forward(_X), expected, err_msg="layer.forward(x) should give the same result as layer(x)"
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
    np.testing.assert_allclose(
        dx,
        np.full((1, 1, 2, 2), 9.0),
        err_msg="dx should be the sum of all weights of W (10 - 1) in every cell",
    )
    np.testing.assert_allclose(
        layer.W.grad,
        np.full((2, 1, 2, 2), 6.0),
        err_msg="W.grad should be the sum of x (0+1+2+3) in every cell",
    )
    np.testing.assert_allclose(
        layer.b.grad, np.array([9.0, 9.0]), err_msg="b.grad should be the sum of dout for each filter"
    )


def test_backward_accumulates(Conv2d):
    """A second backward adds to W.grad and b.grad instead of overwriting them, so they double."""
    layer = _known_layer(Conv2d)
    layer(_X)
    layer.backward(np.ones((1, 2, 3, 3)))
    layer.backward(np.ones((1, 2, 3, 3)))
    _check_array("layer.W.grad", layer.W.grad, (2, 1, 2, 2), "the shape of W")
    _check_array("layer.b.grad", layer.b.grad, (2,), "the shape of b")
    np.testing.assert_allclose(
        layer.W.grad,
        np.full((2, 1, 2, 2), 12.0),
        err_msg="after two backward calls W.grad should be twice one call's (6)",
    )
    np.testing.assert_allclose(
        layer.b.grad,
        np.array([18.0, 18.0]),
        err_msg="after two backward calls b.grad should be twice one call's (9)",
    )
