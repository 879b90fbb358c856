# corpus: style=cs231n; bugs=no_bias; items=conv2d_forward,Conv2d
"""CNN layers assignment -- my implementation.

Started from my CS231n conv_forward_naive / max_pool_forward_naive code and
changed the interface to the one in the handout (stride/padding as int or pair,
NCHW, bias of shape (F,)).
"""
import numpy as np


def _two(v):
    # int -> (v, v), pair -> tuple
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv_output_size(size, kernel, stride=1, padding=0):
    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError("bad kernel/stride/padding")
    if size + 2 * padding - kernel < 0:
        raise ValueError("kernel does not fit")
    return (size + 2 * padding - kernel) // stride + 1


def pad(x, padding, value=0):
    if isinstance(padding, (tuple, list)) and isinstance(padding[0], (tuple, list)):
        (top, bottom), (left, right) = padding
    else:
        ph, pw = _two(padding)
        top, bottom, left, right = ph, ph, pw, pw
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode='constant', constant_values=value)


def conv2d_forward(x, w, b, stride=1, padding=0):
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    b = b.astype(np.float64)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    sh, sw = _two(stride)
    ph, pw = _two(padding)
    H_out = conv_output_size(H, HH, sh, ph)
    W_out = conv_output_size(W, WW, sw, pw)
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode='constant')
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * sh:i * sh + HH, j * sw:j * sw + WW]
                    out[n, f, i, j] = np.sum(window * w[f])
    return out


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    sh, sw = _two(stride)
    ph, pw = _two(padding)
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode='constant')
    dx_pad = np.zeros(x_pad.shape)
    dw = np.zeros(w.shape)
    db = np.sum(dout, axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * sh:i * sh + HH, j * sw:j * sw + WW]
                    dw[f] += window * dout[n, f, i, j]
                    dx_pad[n, :, i * sh:i * sh + HH, j * sw:j * sw + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, ph:ph + H, pw:pw + W]
    return dx, dw, db


def maxpool_forward(x, pool_size=2, stride=None):
    if stride is None:
        stride = pool_size
    N, C, H, W = x.shape
    HH, WW = _two(pool_size)
    sh, sw = _two(stride)
    H_out = conv_output_size(H, HH, sh)
    W_out = conv_output_size(W, WW, sw)
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * sh:i * sh + HH, j * sw:j * sw + WW]
                    out[n, c, i, j] = np.max(window)
    return out


def maxpool_backward(dout, x, pool_size=2, stride=None):
    if stride is None:
        stride = pool_size
    N, C, H, W = x.shape
    HH, WW = _two(pool_size)
    sh, sw = _two(stride)
    H_out = conv_output_size(H, HH, sh)
    W_out = conv_output_size(W, WW, sw)
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * sh:i * sh + HH, j * sw:j * sw + WW]
                    # only the first max gets the gradient (ties)
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * sh + r, j * sw + s] += dout[n, c, i, j]
    return dx


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
        kh, kw = _two(kernel_size)
        self.stride = stride
        self.padding = padding
        fan_in = in_channels * kh * kw
        self.W = Parameter(np.random.randn(out_channels, in_channels, kh, kw) * np.sqrt(2.0 / fan_in))
        self.b = Parameter(np.zeros(out_channels))
        self.cache = None

    def forward(self, x):
        self.cache = x
        return conv2d_forward(x, self.W.data, self.b.data, self.stride, self.padding)

    def backward(self, dout):
        x = self.cache
        dx, dw, db = conv2d_backward(dout, x, self.W.data, self.b.data, self.stride, self.padding)
        self.W.grad += dw
        self.b.grad += db
        return dx


class MaxPool2d(Module):
    def __init__(self, pool_size=2, stride=None):
        self.pool_size = pool_size
        self.stride = stride
        self.cache = None

    def forward(self, x):
        self.cache = x
        return maxpool_forward(x, self.pool_size, self.stride)

    def backward(self, dout):
        return maxpool_backward(dout, self.cache, self.pool_size, self.stride)
