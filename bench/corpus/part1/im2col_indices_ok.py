# corpus: style=im2col; bugs=; items=
"""Vectorised conv / pool layers with im2col (index arrays, no python loops over positions)."""
import numpy as np


def to_pair(v):
    if isinstance(v, int):
        return (v, v)
    return tuple(v)


def conv_output_size(size, kernel, stride=1, padding=0):
    if kernel < 1:
        raise ValueError("kernel must be >= 1")
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if padding < 0:
        raise ValueError("padding must be >= 0")
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError("no output position")
    return out


def pad(x, padding, value=0):
    if isinstance(padding, int):
        widths = ((padding, padding), (padding, padding))
    elif isinstance(padding[0], int):
        widths = ((padding[0], padding[0]), (padding[1], padding[1]))
    else:
        widths = (tuple(padding[0]), tuple(padding[1]))
    return np.pad(x, ((0, 0), (0, 0)) + widths, constant_values=value)


def get_im2col_indices(x_shape, field_height, field_width, padding=(0, 0), stride=(1, 1)):
    N, C, H, W = x_shape
    out_height = conv_output_size(H, field_height, stride[0], padding[0])
    out_width = conv_output_size(W, field_width, stride[1], padding[1])

    i0 = np.repeat(np.arange(field_height), field_width)
    i0 = np.tile(i0, C)
    i1 = stride[0] * np.repeat(np.arange(out_height), out_width)
    j0 = np.tile(np.arange(field_width), field_height * C)
    j1 = stride[1] * np.tile(np.arange(out_width), out_height)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    k = np.repeat(np.arange(C), field_height * field_width).reshape(-1, 1)
    return (k, i, j)


def im2col_indices(x, field_height, field_width, padding=(0, 0), stride=(1, 1)):
    p_h, p_w = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)), mode='constant')
    k, i, j = get_im2col_indices(x.shape, field_height, field_width, padding, stride)
    cols = x_padded[:, k, i, j]
    C = x.shape[1]
    cols = cols.transpose(1, 2, 0).reshape(field_height * field_width * C, -1)
    return cols


def col2im_indices(cols, x_shape, field_height, field_width, padding=(0, 0), stride=(1, 1)):
    N, C, H, W = x_shape
    p_h, p_w = padding
    H_padded, W_padded = H + 2 * p_h, W + 2 * p_w
    x_padded = np.zeros((N, C, H_padded, W_padded), dtype=cols.dtype)
    k, i, j = get_im2col_indices(x_shape, field_height, field_width, padding, stride)
    cols_reshaped = cols.reshape(C * field_height * field_width, -1, N)
    cols_reshaped = cols_reshaped.transpose(2, 0, 1)
    np.add.at(x_padded, (slice(None), k, i, j), cols_reshaped)
    return x_padded[:, :, p_h:p_h + H, p_w:p_w + W]


def conv2d_forward(x, w, b, stride=1, padding=0):
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    b = np.asarray(b, dtype=float)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, padding = to_pair(stride), to_pair(padding)
    out_h = conv_output_size(H, HH, stride[0], padding[0])
    out_w = conv_output_size(W, WW, stride[1], padding[1])
    x_cols = im2col_indices(x, HH, WW, padding, stride)
    res = w.reshape(F, -1) @ x_cols + b.reshape(-1, 1)
    out = res.reshape(F, out_h, out_w, N).transpose(3, 0, 1, 2)
    return out


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, padding = to_pair(stride), to_pair(padding)
    x_cols = im2col_indices(x, HH, WW, padding, stride)
    db = np.sum(dout, axis=(0, 2, 3))
    dout_reshaped = dout.transpose(1, 2, 3, 0).reshape(F, -1)
    dw = (dout_reshaped @ x_cols.T).reshape(w.shape)
    dx_cols = w.reshape(F, -1).T @ dout_reshaped
    dx = col2im_indices(dx_cols, x.shape, HH, WW, padding, stride)
    return dx, dw, db


def maxpool_forward(x, pool_size=2, stride=None):
    ph, pw = to_pair(pool_size)
    sh, sw = to_pair(pool_size if stride is None else stride)
    N, C, H, W = x.shape
    out_h = conv_output_size(H, ph, sh)
    out_w = conv_output_size(W, pw, sw)
    x_reshaped = np.asarray(x, dtype=float).reshape(N * C, 1, H, W)
    x_cols = im2col_indices(x_reshaped, ph, pw, (0, 0), (sh, sw))
    out = np.max(x_cols, axis=0)
    return out.reshape(out_h, out_w, N, C).transpose(2, 3, 0, 1)


def maxpool_backward(dout, x, pool_size=2, stride=None):
    ph, pw = to_pair(pool_size)
    sh, sw = to_pair(pool_size if stride is None else stride)
    N, C, H, W = x.shape
    x_reshaped = np.asarray(x, dtype=float).reshape(N * C, 1, H, W)
    x_cols = im2col_indices(x_reshaped, ph, pw, (0, 0), (sh, sw))
    max_idx = np.argmax(x_cols, axis=0)
    dx_cols = np.zeros_like(x_cols)
    dout_flat = dout.transpose(2, 3, 0, 1).ravel()
    dx_cols[max_idx, np.arange(max_idx.size)] = dout_flat
    dx = col2im_indices(dx_cols, (N * C, 1, H, W), ph, pw, (0, 0), (sh, sw))
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
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        kh, kw = to_pair(kernel_size)
        self.stride, self.padding = stride, padding
        std = np.sqrt(2.0 / (in_channels * kh * kw))
        self.W = Parameter(np.random.normal(0.0, std, size=(out_channels, in_channels, kh, kw)))
        self.b = Parameter(np.zeros(out_channels))
        self.x = None

    def forward(self, x):
        self.x = x
        return conv2d_forward(x, self.W.data, self.b.data, stride=self.stride, padding=self.padding)

    def backward(self, dout):
        dx, dw, db = conv2d_backward(dout, self.x, self.W.data, self.b.data, stride=self.stride, padding=self.padding)
        self.W.grad += dw
        self.b.grad += db
        return dx


class MaxPool2d(Module):
    def __init__(self, pool_size=2, stride=None):
        self.pool_size, self.stride = pool_size, stride

    def forward(self, x):
        self.x = x
        return maxpool_forward(x, self.pool_size, self.stride)

    def backward(self, dout):
        return maxpool_backward(dout, self.x, self.pool_size, self.stride)
