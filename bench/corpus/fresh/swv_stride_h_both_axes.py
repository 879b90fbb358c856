# corpus: style=swv; bugs=stride_h_used_for_width; items=conv2d_forward,conv2d_backward,maxpool_forward,maxpool_backward,Conv2d,MaxPool2d
"""Vectorised conv / max-pool with sliding_window_view and einsum."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def pair(v):
    return (v, v) if isinstance(v, (int, np.integer)) else (v[0], v[1])


def conv_output_size(size, kernel, stride=1, padding=0):
    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(f"invalid arguments kernel={kernel} stride={stride} padding={padding}")
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError("kernel does not fit")
    return span // stride + 1


def pad(x, padding, value=0):
    if isinstance(padding, (int, np.integer)):
        widths = [(padding, padding)] * 2
    elif isinstance(padding[0], (int, np.integer)):
        widths = [(padding[0], padding[0]), (padding[1], padding[1])]
    else:
        widths = [tuple(padding[0]), tuple(padding[1])]
    return np.pad(x, [(0, 0), (0, 0)] + widths, constant_values=value)


def windows(x, kh, kw, sh, sw):
    # (N, C, Ho, Wo, kh, kw)
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sh]


def conv2d_forward(x, w, b, stride=1, padding=0):
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    F, C, kh, kw = w.shape
    conv_output_size(x.shape[2], kh, sh, ph)
    conv_output_size(x.shape[3], kw, sw, pw)
    xp = pad(np.asarray(x, dtype=np.float64), (ph, pw))
    win = windows(xp, kh, kw, sh, sw)
    out = np.einsum('nchwpq,fcpq->nfhw', win, w.astype(np.float64))
    return out + b.astype(np.float64)[None, :, None, None]


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    F, C, kh, kw = w.shape
    N, _, H, W = x.shape
    w = w.astype(np.float64)
    xp = pad(np.asarray(x, dtype=np.float64), (ph, pw))
    win = windows(xp, kh, kw, sh, sw)
    Ho, Wo = dout.shape[2:]
    db = np.einsum('nfhw->f', dout)
    dw = np.einsum('nfhw,nchwpq->fcpq', dout, win)
    dxp = np.zeros_like(xp)
    dwin = np.einsum('nfhw,fcpq->nchwpq', dout, w)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw] += dwin[:, :, :, :, p, q]
    return dxp[:, :, ph:ph + H, pw:pw + W], dw, db


def maxpool_forward(x, pool_size=2, stride=None):
    kh, kw = pair(pool_size)
    sh, sw = (kh, kw) if stride is None else pair(stride)
    conv_output_size(x.shape[2], kh, sh)
    conv_output_size(x.shape[3], kw, sw)
    return windows(x, kh, kw, sh, sw).max(axis=(-2, -1)).astype(np.float64)


def maxpool_backward(dout, x, pool_size=2, stride=None):
    kh, kw = pair(pool_size)
    sh, sw = (kh, kw) if stride is None else pair(stride)
    N, C, H, W = x.shape
    win = windows(x, kh, kw, sh, sw)
    Ho, Wo = win.shape[2:4]
    arg = win.reshape(N, C, Ho, Wo, kh * kw).argmax(axis=-1)
    r, s = np.divmod(arg, kw)
    rows = r + (np.arange(Ho) * sh)[:, None]
    cols = s + (np.arange(Wo) * sw)[None, :]
    n_idx = np.arange(N)[:, None, None, None]
    c_idx = np.arange(C)[None, :, None, None]
    dx = np.zeros(x.shape, dtype=np.float64)
    np.add.at(dx, (n_idx, c_idx, rows, cols), dout)
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
        kh, kw = pair(kernel_size)
        self.stride, self.padding = stride, padding
        std = (2.0 / (in_channels * kh * kw)) ** 0.5
        self.W = Parameter(np.random.randn(out_channels, in_channels, kh, kw) * std)
        self.b = Parameter(np.zeros(out_channels))

    def forward(self, x):
        self.x = x
        return conv2d_forward(x, self.W.data, self.b.data, self.stride, self.padding)

    def backward(self, dout):
        dx, dw, db = conv2d_backward(dout, self.x, self.W.data, self.b.data, self.stride, self.padding)
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
