# corpus: style=oop; bugs=pad_pair_read_as_before_after; items=pad,conv2d_forward,conv2d_backward,Conv2d
"""Homework 3 - convolutional layers.

I put the bookkeeping (sizes, strides, padding) into small helper classes so the
layer code itself stays short.
"""
from dataclasses import dataclass

import numpy as np


def _check_int(name, v, minimum):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return int(v)


def _as_hw(name, v, minimum):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name} must have two entries")
        return _check_int(name, v[0], minimum), _check_int(name, v[1], minimum)
    v = _check_int(name, v, minimum)
    return v, v


def conv_output_size(size, kernel, stride=1, padding=0):
    kernel = _check_int("kernel", kernel, 1)
    stride = _check_int("stride", stride, 1)
    padding = _check_int("padding", padding, 0)
    room = size + 2 * padding - kernel
    if room < 0:
        raise ValueError(f"kernel {kernel} is larger than the padded input {size + 2 * padding}")
    return room // stride + 1


@dataclass
class Geometry:
    """Everything about how a window walks over an (H, W) plane."""
    H: int
    W: int
    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    ph: int = 0
    pw: int = 0

    @property
    def out_h(self):
        return conv_output_size(self.H, self.kh, self.sh, self.ph)

    @property
    def out_w(self):
        return conv_output_size(self.W, self.kw, self.sw, self.pw)

    def positions(self):
        """Yield (i, j, row slice, col slice) in padded coordinates."""
        for i in range(self.out_h):
            for j in range(self.out_w):
                r, c = i * self.sh, j * self.sw
                yield i, j, slice(r, r + self.kh), slice(c, c + self.kw)


def _pad_amounts(padding):
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and isinstance(padding[0], (tuple, list)):
        top, bottom = _as_hw("padding", padding[0], 0)
        left, right = _as_hw("padding", padding[1], 0)
    else:
        ph, pw = _as_hw("padding", padding, 0)
        top = left = ph
        bottom = right = pw
    return top, bottom, left, right


def pad(x, padding, value=0):
    top, bottom, left, right = _pad_amounts(padding)
    x = np.asarray(x)
    N, C, H, W = x.shape
    out = np.full((N, C, top + H + bottom, left + W + right), value, dtype=x.dtype)
    out[:, :, top:top + H, left:left + W] = x
    return out


def _conv_geometry(x, w, stride, padding):
    sh, sw = _as_hw("stride", stride, 1)
    ph, pw = _as_hw("padding", padding, 0)
    return Geometry(x.shape[2], x.shape[3], w.shape[2], w.shape[3], sh, sw, ph, pw)


def conv2d_forward(x, w, b, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    g = _conv_geometry(x, w, stride, padding)
    xp = pad(x, (g.ph, g.pw))
    out = np.empty((x.shape[0], w.shape[0], g.out_h, g.out_w))
    for i, j, rows, cols in g.positions():
        patch = xp[:, :, rows, cols]                       # N, C, kh, kw
        out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + np.asarray(b, dtype=np.float64)[None, :, None, None]


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    g = _conv_geometry(x, w, stride, padding)
    xp = pad(x, (g.ph, g.pw))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i, j, rows, cols in g.positions():
        d = dout[:, :, i, j]                              # N, F
        dw += np.tensordot(d, xp[:, :, rows, cols], axes=(0, 0))
        dxp[:, :, rows, cols] += np.tensordot(d, w, axes=(1, 0))
    db = np.sum(dout, axis=(0, 2, 3))
    dx = dxp[:, :, g.ph:g.ph + g.H, g.pw:g.pw + g.W]
    return dx, dw, db


def _pool_geometry(x, pool_size, stride):
    kh, kw = _as_hw("pool_size", pool_size, 1)
    sh, sw = (kh, kw) if stride is None else _as_hw("stride", stride, 1)
    return Geometry(x.shape[2], x.shape[3], kh, kw, sh, sw)


def maxpool_forward(x, pool_size=2, stride=None):
    x = np.asarray(x)
    g = _pool_geometry(x, pool_size, stride)
    out = np.empty(x.shape[:2] + (g.out_h, g.out_w))
    for i, j, rows, cols in g.positions():
        out[:, :, i, j] = x[:, :, rows, cols].max(axis=(2, 3))
    return out


def maxpool_backward(dout, x, pool_size=2, stride=None):
    x = np.asarray(x)
    g = _pool_geometry(x, pool_size, stride)
    N, C = x.shape[:2]
    dx = np.zeros(x.shape)
    for i, j, rows, cols in g.positions():
        patch = x[:, :, rows, cols].reshape(N, C, -1)
        first = patch.argmax(axis=2)
        mask = np.zeros_like(patch, dtype=float)
        np.put_along_axis(mask, first[:, :, None], 1.0, axis=2)
        dx[:, :, rows, cols] += mask.reshape(N, C, g.kh, g.kw) * dout[:, :, i, j][:, :, None, None]
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
        kh, kw = _as_hw("kernel_size", kernel_size, 1)
        self.stride = stride
        self.padding = padding
        he_std = np.sqrt(2.0 / (in_channels * kh * kw))
        self.W = Parameter(np.random.randn(out_channels, in_channels, kh, kw) * he_std)
        self.b = Parameter(np.zeros(out_channels))
        self._cache = None

    def forward(self, x):
        self._cache = np.asarray(x)
        return conv2d_forward(self._cache, self.W.data, self.b.data, self.stride, self.padding)

    def backward(self, dout):
        if self._cache is None:
            raise RuntimeError("call forward first")
        dx, dw, db = conv2d_backward(dout, self._cache, self.W.data, self.b.data, self.stride, self.padding)
        self.W.grad += dw
        self.b.grad += db
        return dx


class MaxPool2d(Module):
    def __init__(self, pool_size=2, stride=None):
        self.pool_size = pool_size
        self.stride = stride
        self._cache = None

    def forward(self, x):
        self._cache = np.asarray(x)
        return maxpool_forward(self._cache, self.pool_size, self.stride)

    def backward(self, dout):
        if self._cache is None:
            raise RuntimeError("call forward first")
        return maxpool_backward(dout, self._cache, self.pool_size, self.stride)
