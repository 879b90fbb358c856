# Example submission, built from assignments/cnn/examples/lesson_output_size.py by `python -m autograder build`: the reference plus the mistake below.
"""Convolution and max-pooling layers written from scratch in NumPy.

Every array is laid out NCHW:

    N  batch size        C  channels
    H  height            W  width

Wherever an argument is described as "int | pair", an int applies to both
spatial axes and a pair is read as (height, width).

Every function and both layers accept integer arrays as well as float
arrays for x, w and b. The convolution and pooling functions and layers then
still return float64, gradients included; only pad keeps the dtype of its
input. An upstream gradient dout is a float array.

Run the public checks with `pytest` from this folder, or with the
`grader.check(...)` cells of the notebook.
"""

import numpy as np

from numpy.lib.stride_tricks import sliding_window_view


def _pair(value, name):
    """Read an int | pair argument as a (height, width) tuple of ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        return int(value[0]), int(value[1])
    raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")


def _pad_widths(padding):
    """Read pad's padding argument as ((top, bottom), (left, right))."""
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
        isinstance(side, (tuple, list)) for side in padding
    ):
        (top, bottom), (left, right) = (_pair(tuple(side), "padding") for side in padding)
    else:
        (top, bottom), (left, right) = ((p, p) for p in _pair(padding, "padding"))
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"padding must not be negative, got {padding!r}")
    return (top, bottom), (left, right)


def _check_4d(name, array):
    if array.ndim != 4:
        raise ValueError(f"{name} must have 4 axes (N, C, H, W), got shape {array.shape}")


def _windows(x, window, stride):
    """All (window) patches of x's last two axes taken every (stride) steps.

    x (N, C, H, W) -> view (N, C, H_out, W_out, KH, KW); no data is copied.
    """
    return sliding_window_view(x, window, axis=(2, 3))[:, :, :: stride[0], :: stride[1]]


def conv_output_size(size, kernel, stride=1, padding=0):
    """Number of positions a kernel takes along one axis.

    The kernel starts flush with the padded input's edge and moves `stride`
    steps at a time for as long as it fits entirely inside:

        out = floor((size + 2 * padding - kernel) / stride) + 1

    The floor covers the whole fraction: positions that would let the kernel
    hang over the edge are not counted.

    Inputs:
    - size: int, length of the input along the axis (H or W).
    - kernel: int, length of the kernel (or pooling window) along the axis.
    - stride: int, step between two neighbouring positions.
    - padding: int, zeros added at each end of the axis.

    Returns:
    - out: int, number of output positions along the axis.

    Raises:
    - ValueError if kernel < 1, stride < 1, padding < 0, or the kernel does
      not fit even once (the result would be below 1).

    Example:
    >>> conv_output_size(5, 2, stride=1, padding=1)
    6
    >>> conv_output_size(7, 3, stride=2)
    3
    >>> conv_output_size(6, 3, stride=2)   # (6 - 3) / 2 = 1.5 floors to 1, plus 1
    2
    """
    if kernel < 1:
        raise ValueError(f"kernel must be at least 1, got {kernel}")
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    if padding < 0:
        raise ValueError(f"padding must not be negative, got {padding}")
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(
            f"a kernel of {kernel} does not fit in an input of {size} padded by {padding}"
        )
    return int(span // stride + 1)


def pad(x, padding, value=0):
    """Pad the two spatial axes (H and W) of a batch with a constant.

    The batch and channel axes are never padded.

    Inputs:
    - x: array of shape (N, C, H, W).
    - padding: one of
        p                            p rows above and below, p columns left and right
        (p_h, p_w)                   p_h rows above and below, p_w columns left and right
        ((top, bottom), (left, right))
      All amounts are ints >= 0.
    - value: the constant written into the new cells (cast to x's dtype,
      so 0.5 becomes 0 in an integer array).

    Returns:
    - out: a new array of shape (N, C, top + H + bottom, left + W + right)
      with x's dtype. x itself is left unchanged.

    Example:
    >>> x = np.arange(4).reshape(1, 1, 2, 2)
    >>> pad(x, ((0, 1), (2, 0)), value=9)[0, 0]
    array([[9, 9, 0, 1],
           [9, 9, 2, 3],
           [9, 9, 9, 9]])
    """
    x = np.asarray(x)
    _check_4d("x", x)
    (top, bottom), (left, right) = _pad_widths(padding)
    return np.pad(
        x,
        ((0, 0), (0, 0), (top, bottom), (left, right)),
        mode="constant",
        constant_values=value,
    )


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 2-D convolution layer.

    Deep-learning "convolution" is a cross-correlation: the kernel is slid
    over the input as it is, without flipping it. For every image n, filter f
    and output position (i, j):

        out[n, f, i, j] = b[f] + sum over c, p, q of
                          w[f, c, p, q] * x_pad[n, c, i*S_h + p, j*S_w + q]

    where x_pad is x padded with zeros on H and W.

    Inputs:
    - x: input of shape (N, C, H, W).
    - w: filters of shape (F, C, KH, KW).
    - b: biases of shape (F,).
    - stride: int | pair, steps between positions (S_h, S_w).
    - padding: int | pair, zeros added on both sides of H and W (P_h, P_w).

    Returns:
    - out: float64 array of shape (N, F, H_out, W_out), also for integer
      inputs, where H_out = conv_output_size(H, KH, S_h, P_h) and
      W_out = conv_output_size(W, KW, S_w, P_w). x, w and b are unchanged.

    Example:
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    >>> conv2d_forward(x, w, np.array([0.5]))
    array([[[[-3.5, -3.5],
             [-3.5, -3.5]]]])
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    _check_4d("x", x)
    _check_4d("w", w)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x has {x.shape[1]} channels but w expects {w.shape[1]}")
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    kernel = w.shape[2:]
    strides, paddings = _pair(stride, "stride"), _pair(padding, "padding")
    for axis in (0, 1):
        conv_output_size(x.shape[2 + axis], kernel[axis], strides[axis], paddings[axis])
    patches = _windows(pad(x, paddings), kernel, strides)
    # Contract channels and kernel cells in one BLAS call: (N, H_out, W_out, F).
    out = np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3]))
    return out.transpose(0, 3, 1, 2) + b[:, None, None]


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    """Backward pass of a 2-D convolution layer.

    Computes the gradients of L = sum(dout * conv2d_forward(x, w, b, stride,
    padding)) with respect to x, w and b.

    Inputs:
    - dout: upstream gradient of shape (N, F, H_out, W_out).
    - x, w, b, stride, padding: exactly as given to conv2d_forward.

    b does not change any gradient; it is passed so the arguments match the
    forward pass.

    Returns a tuple (dx, dw, db) of float64 arrays, also for integer x, w and
    b (an integer dx would truncate every gradient written into it):
    - dx: gradient with respect to x, shape (N, C, H, W).
    - dw: gradient with respect to w, shape (F, C, KH, KW).
    - db: gradient with respect to b, shape (F,).

    Hints: db sums dout over every axis but F. Each input cell receives, from
    every output position whose window covered it, that position's upstream
    gradient times the kernel weight that multiplied it; cells that fall in
    the padding are dropped at the end.

    Example:
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> w = np.ones((1, 1, 2, 2))
    >>> dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), x, w, np.zeros(1))
    >>> dx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> db
    array([4.])
    """
    dout = np.asarray(dout, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    (s_h, s_w), (p_h, p_w) = _pair(stride, "stride"), _pair(padding, "padding")
    H_out, W_out = conv_output_size(H, KH, s_h, p_h), conv_output_size(W, KW, s_w, p_w)
    if dout.shape != (N, F, H_out, W_out):
        raise ValueError(f"dout must have shape {(N, F, H_out, W_out)}, got {dout.shape}")
    x_pad = pad(x, (p_h, p_w))
    patches = _windows(x_pad, (KH, KW), (s_h, s_w))
    db = dout.sum(axis=(0, 2, 3))
    dw = np.tensordot(dout, patches, axes=([0, 2, 3], [0, 2, 3]))
    # Each kernel cell (p, q) touched the input on a strided grid of rows and
    # columns; scatter its share back one cell at a time (KH * KW steps).
    dx_pad = np.zeros_like(x_pad)
    for p in range(KH):
        for q in range(KW):
            share = np.tensordot(w[:, :, p, q], dout, axes=([0], [1]))  # (C, N, H_out, W_out)
            dx_pad[:, :, p : p + s_h * H_out : s_h, q : q + s_w * W_out : s_w] += share.transpose(
                1, 0, 2, 3
            )
    dx = dx_pad[:, :, p_h : p_h + H, p_w : p_w + W]
    return dx.copy(), dw, db


def maxpool_forward(x, pool_size=2, stride=None):
    """Forward pass of 2-D max pooling.

    Each output cell is the largest value of one pool_size window of its
    channel. No padding is added; windows that would cross the right or
    bottom edge are dropped.

    Note: stride=None means "same as pool_size", so windows tile the input
    without overlapping (PyTorch's default). Careful: the MaxPool2d class in
    the lesson used stride 1 by default, where neighbouring windows overlap;
    here the default is pool_size.

    Inputs:
    - x: input of shape (N, C, H, W).
    - pool_size: int | pair, window size (PH, PW).
    - stride: int | pair | None, steps between windows (S_h, S_w).

    Returns:
    - out: float64 array of shape (N, C, H_out, W_out), also for an integer
      x, where H_out = conv_output_size(H, PH, S_h) and
      W_out = conv_output_size(W, PW, S_w). x is unchanged.

    Example:
    >>> x = np.array([[[[1, 5, 2, 0],
    ...                 [3, 4, 8, 1],
    ...                 [0, 2, 6, 7],
    ...                 [9, 1, 3, 2]]]])
    >>> maxpool_forward(x, pool_size=2)
    array([[[[5., 8.],
             [9., 7.]]]])
    """
    x = np.asarray(x)
    _check_4d("x", x)
    window = _pair(pool_size, "pool_size")
    strides = window if stride is None else _pair(stride, "stride")
    for axis in (0, 1):
        conv_output_size(x.shape[2 + axis], window[axis], strides[axis])
    return _windows(x, window, strides).max(axis=(4, 5)).astype(np.float64)


def maxpool_backward(dout, x, pool_size=2, stride=None):
    """Backward pass of 2-D max pooling.

    Each window passes its upstream gradient to the one cell that was its
    maximum. Two rules matter:

    - Ties: when the maximum occurs more than once in a window, only the
      first of them in row-major order (top row first, then left to right)
      gets the gradient.
    - Overlap: when windows overlap (stride smaller than pool_size), one
      cell can be the maximum of several windows; it then receives the sum
      of their gradients. Decide the winner window by window: a cell that
      is the maximum of one window gets nothing from a neighbouring window
      where it is not the maximum.

    Inputs:
    - dout: upstream gradient of shape (N, C, H_out, W_out).
    - x, pool_size, stride: exactly as given to maxpool_forward.

    Returns:
    - dx: float64 array with the shape of x, also for an integer x.

    Example:
    >>> x = np.array([[[[1.0, 3.0, 2.0],
    ...                 [3.0, 0.0, 1.0]]]])
    >>> maxpool_backward(np.array([[[[10.0, 20.0]]]]), x, pool_size=2, stride=1)
    array([[[[ 0., 30.,  0.],
             [ 0.,  0.,  0.]]]])
    """
    x = np.asarray(x)
    dout = np.asarray(dout, dtype=np.float64)
    _check_4d("x", x)
    N, C, H, W = x.shape
    window = _pair(pool_size, "pool_size")
    strides = window if stride is None else _pair(stride, "stride")
    H_out = conv_output_size(H, window[0], strides[0])
    W_out = conv_output_size(W, window[1], strides[1])
    if dout.shape != (N, C, H_out, W_out):
        raise ValueError(f"dout must have shape {(N, C, H_out, W_out)}, got {dout.shape}")
    # argmax returns the first maximum of the flattened (row-major) window.
    flat = _windows(x, window, strides).reshape(N, C, H_out, W_out, -1)
    winner = flat.argmax(axis=-1)
    rows = np.arange(H_out)[:, None] * strides[0] + winner // window[1]
    cols = np.arange(W_out)[None, :] * strides[1] + winner % window[1]
    plane = (np.arange(N)[:, None, None, None] * C + np.arange(C)[None, :, None, None]) * H * W
    # bincount adds the shares of windows that chose the same cell.
    dx = np.bincount((plane + rows * W + cols).ravel(), weights=dout.ravel(), minlength=x.size)
    return dx.reshape(x.shape)


class Parameter:
    """A learnable array and the gradient accumulated for it.

    Attributes:
    - data: the values (float64 array).
    - grad: gradient of the loss with respect to data, same shape; starts at
      zeros. Backward passes add into it; Module.zero_grad() resets it.
    """

    def __init__(self, data):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape})"


class Module:
    """Base class of layers: collects parameters and makes a layer callable.

    Subclasses implement forward(x) and usually backward(dout).
    """

    def parameters(self):
        """Every Parameter of this module and of its sub-modules, in the order they were assigned."""
        found = []
        for value in vars(self).values():
            if isinstance(value, Parameter):
                found.append(value)
            elif isinstance(value, Module):
                found.extend(value.parameters())
        return found

    def zero_grad(self):
        """Reset the gradient of every parameter to zeros."""
        for parameter in self.parameters():
            parameter.grad = np.zeros_like(parameter.data)

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define forward(x)")

    def __call__(self, x):
        return self.forward(x)


class Conv2d(Module):
    """A convolution layer that owns its filters and biases.

    Construction:
    - in_channels: int, C of the inputs it will receive.
    - out_channels: int, F, the number of filters.
    - kernel_size: int | pair, (KH, KW).
    - stride, padding: int | pair, as in conv2d_forward.

    Attributes:
    - W: Parameter of shape (F, C, KH, KW), drawn from a normal distribution
      with mean 0 and standard deviation sqrt(2 / (C * KH * KW)) (He
      initialisation, which keeps activations at a steady scale through ReLU
      layers).
    - b: Parameter of zeros, shape (F,).

    Methods:
    - forward(x): x (N, C, H, W) -> (N, F, H_out, W_out), float64 also for
      an integer x; remembers x.
    - backward(dout): dout (N, F, H_out, W_out) -> dx (N, C, H, W), float64
      also when x was an integer array; adds the
      gradients of W and b into W.grad and b.grad (it does not overwrite
      them, so gradients from several batches accumulate until zero_grad()).

    Example:
    >>> layer = Conv2d(3, 8, kernel_size=3, padding=1)
    >>> layer.W.data.shape, layer.b.data.shape
    ((8, 3, 3, 3), (8,))
    >>> layer(np.zeros((2, 3, 5, 5))).shape
    (2, 8, 5, 5)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        kernel_h, kernel_w = _pair(kernel_size, "kernel_size")
        self.stride = stride
        self.padding = padding
        std = np.sqrt(2.0 / (in_channels * kernel_h * kernel_w))
        self.W = Parameter(std * np.random.randn(out_channels, in_channels, kernel_h, kernel_w))
        self.b = Parameter(np.zeros(out_channels))
        self._x = None

    def forward(self, x):
        self._x = np.array(x, dtype=np.float64)
        return conv2d_forward(self._x, self.W.data, self.b.data, self.stride, self.padding)

    def backward(self, dout):
        if self._x is None:
            raise RuntimeError("Conv2d.backward was called before forward")
        dx, dw, db = conv2d_backward(
            dout, self._x, self.W.data, self.b.data, self.stride, self.padding
        )
        self.W.grad += dw
        self.b.grad += db
        return dx


class MaxPool2d(Module):
    """A max-pooling layer (it has no parameters).

    Construction:
    - pool_size: int | pair, window size.
    - stride: int | pair | None; None means equal to pool_size.

    Methods:
    - forward(x): x (N, C, H, W) -> (N, C, H_out, W_out), float64 also for
      an integer x; remembers x.
    - backward(dout): dout (N, C, H_out, W_out) -> dx (N, C, H, W), float64
      also when x was an integer array.

    Example:
    >>> pool = MaxPool2d(2)
    >>> pool(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """

    def __init__(self, pool_size=2, stride=None):
        self.pool_size = pool_size
        self.stride = stride
        self._x = None

    def forward(self, x):
        self._x = np.array(x)
        return maxpool_forward(self._x, self.pool_size, self.stride)

    def backward(self, dout):
        if self._x is None:
            raise RuntimeError("MaxPool2d.backward was called before forward")
        return maxpool_backward(dout, self._x, self.pool_size, self.stride)


# ---- The mistake (from assignments/cnn/examples/lesson_output_size.py) ----
_reference_conv_output_size = conv_output_size

"""Uses the lesson's printed output-size formula, which floors only the numerator."""
# affects: conv_output_size conv2d_backward maxpool_backward Conv2d MaxPool2d
# (the other functions call conv_output_size, so its float result breaks their shapes too)
# feedback names: its floor applies to the numerator only


import math


def conv_output_size(size, kernel, stride=1, padding=0):
    if kernel < 1 or stride < 1 or padding < 0 or size + 2 * padding < kernel:
        raise ValueError("impossible settings")
    return math.floor(size + 2 * padding - kernel) / stride + 1
