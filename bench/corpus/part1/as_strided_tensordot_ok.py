# corpus: style=as_strided; bugs=; items=
"""Conv and max pool with np.lib.stride_tricks.as_strided + einsum."""
import numpy as np
from numpy.lib.stride_tricks import as_strided


def _pair(v):
    return (v, v) if np.isscalar(v) else (v[0], v[1])


def conv_output_size(size, kernel, stride=1, padding=0):
    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(f"invalid kernel={kernel}, stride={stride}, padding={padding}")
    n = size + 2 * padding - kernel
    if n < 0:
        raise ValueError("kernel does not fit")
    return n // stride + 1


def pad(x, padding, value=0):
    if np.ndim(padding) == 2:
        (t, bo), (l, r) = padding
    else:
        ph, pw = _pair(padding)
        t = bo = ph
        l = r = pw
    out = np.full((x.shape[0], x.shape[1], x.shape[2] + t + bo, x.shape[3] + l + r), value, dtype=x.dtype)
    out[:, :, t:t + x.shape[2], l:l + x.shape[3]] = x
    return out


def _windows(x, kh, kw, sh, sw):
    N, C, H, W = x.shape
    oh = (H - kh) // sh + 1
    ow = (W - kw) // sw + 1
    s0, s1, s2, s3 = x.strides
    return as_strided(x, shape=(N, C, oh, ow, kh, kw),
                      strides=(s0, s1, s2 * sh, s3 * sw, s2, s3), writeable=False)


def conv2d_forward(x, w, b, stride=1, padding=0):
    x = np.ascontiguousarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    F, C, kh, kw = w.shape
    conv_output_size(x.shape[2], kh, sh, ph)
    conv_output_size(x.shape[3], kw, sw, pw)
    xp = pad(x, (ph, pw))
    win = _windows(xp, kh, kw, sh, sw)
    out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    return out + b[None, :, None, None]


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    x = np.ascontiguousarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    F, C, kh, kw = w.shape
    N, _, H, W = x.shape
    xp = pad(x, (ph, pw))
    win = _windows(xp, kh, kw, sh, sw)
    oh, ow = win.shape[2], win.shape[3]
    db = dout.sum(axis=(0, 2, 3))
    dw = np.einsum('nchwij,nfhw->fcij', win, dout)
    dxp = np.zeros(xp.shape)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += np.einsum('nfhw,fc->nchw', dout, w[:, :, i, j])
    dx = dxp[:, :, ph:ph + H, pw:pw + W]
    return dx, dw, db


def maxpool_forward(x, pool_size=2, stride=None):
    kh, kw = _pair(pool_size)
    sh, sw = _pair(pool_size if stride is None else stride)
    conv_output_size(x.shape[2], kh, sh)
    conv_output_size(x.shape[3], kw, sw)
    x = np.ascontiguousarray(x, dtype=np.float64)
    return _windows(x, kh, kw, sh, sw).max(axis=(4, 5))


def maxpool_backward(dout, x, pool_size=2, stride=None):
    kh, kw = _pair(pool_size)
    sh, sw = _pair(pool_size if stride is None else stride)
    x = np.ascontiguousarray(x, dtype=np.float64)
    N, C, H, W = x.shape
    win = _windows(x, kh, kw, sh, sw)
    oh, ow = win.shape[2], win.shape[3]
    idx = win.reshape(N, C, oh, ow, kh * kw).argmax(axis=-1)
    r = np.arange(oh)[:, None] * sh + idx // kw
    c = np.arange(ow)[None, :] * sw + idx % kw
    n = np.arange(N)[:, None, None, None]
    ch = np.arange(C)[None, :, None, None]
    dx = np.zeros(x.shape)
    np.add.at(dx, (n, ch, r, c), dout)
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
        kh, kw = _pair(kernel_size)
        self.stride = stride
        self.padding = padding
        self.W = Parameter(np.random.randn(out_channels, in_channels, kh, kw) * (2.0 / (in_channels * kh * kw)) ** 0.5)
        self.b = Parameter(np.zeros(out_channels))

    def forward(self, x):
        self._x = x
        return conv2d_forward(x, self.W.data, self.b.data, self.stride, self.padding)

    def backward(self, dout):
        dx, dw, db = conv2d_backward(dout, self._x, self.W.data, self.b.data, self.stride, self.padding)
        self.W.grad += dw
        self.b.grad += db
        return dx


class MaxPool2d(Module):
    def __init__(self, pool_size=2, stride=None):
        self.pool_size = pool_size
        self.stride = stride

    def forward(self, x):
        self._x = x
        return maxpool_forward(x, self.pool_size, self.stride)

    def backward(self, dout):
        return maxpool_backward(dout, self._x, self.pool_size, self.stride)
