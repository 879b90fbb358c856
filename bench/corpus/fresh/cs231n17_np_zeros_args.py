# corpus: style=cs231n17; bugs=np_zeros_shape_not_a_tuple; items=maxpool_forward,MaxPool2d
"""Assignment: conv layers. Ported from my CS231n assignment 2 (conv_forward_naive & co)."""
import numpy as np


def _to_pair(a):
    if np.isscalar(a):
        return (a, a)
    return tuple(a)


def conv_output_size(size, kernel, stride=1, padding=0):
    if kernel <= 0:
        raise ValueError("kernel must be positive")
    if stride <= 0:
        raise ValueError("stride must be positive")
    if padding < 0:
        raise ValueError("padding must be >= 0")
    out = 1 + (size + 2 * padding - kernel) // stride
    if out < 1:
        raise ValueError("kernel does not fit")
    return out


def pad(x, padding, value=0):
    if np.isscalar(padding):
        pw = ((padding, padding), (padding, padding))
    elif np.isscalar(padding[0]):
        pw = ((padding[0], padding[0]), (padding[1], padding[1]))
    else:
        pw = tuple(tuple(p) for p in padding)
    return np.pad(x, ((0, 0), (0, 0)) + pw, 'constant', constant_values=value)


def conv_forward_naive(x, w, b, conv_param):
    out = None
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    sh, sw = conv_param['stride']
    ph, pw = conv_param['pad']
    H_out = conv_output_size(H, HH, sh, ph)
    W_out = conv_output_size(W, WW, sw, pw)
    x_pad = pad(x, (ph, pw))
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * sh, j * sw
                    out[n, f, i, j] = np.sum(x_pad[n, :, hs:hs + HH, ws:ws + WW] * w[f]) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    sh, sw = conv_param['stride']
    ph, pw = conv_param['pad']
    _, _, H_out, W_out = dout.shape
    x_pad = pad(x, (ph, pw)).astype(np.float64)
    dx_pad = np.zeros(x_pad.shape)
    dw = np.zeros(w.shape)
    db = np.zeros(F)
    for n in range(N):
        for f in range(F):
            db[f] += np.sum(dout[n, f])
            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * sh, j * sw
                    dw[f] += x_pad[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]
                    dx_pad[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, ph:ph + H, pw:pw + W]
    return dx, dw, db


def conv2d_forward(x, w, b, stride=1, padding=0):
    conv_param = {'stride': _to_pair(stride), 'pad': _to_pair(padding)}
    out, _ = conv_forward_naive(x, w, b, conv_param)
    return out


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    conv_param = {'stride': _to_pair(stride), 'pad': _to_pair(padding)}
    return conv_backward_naive(dout, (x, w, b, conv_param))


def max_pool_forward_naive(x, pool_param):
    N, C, H, W = x.shape
    ph, pw = pool_param['pool_height'], pool_param['pool_width']
    sh, sw = pool_param['stride']
    H_out = conv_output_size(H, ph, sh)
    W_out = conv_output_size(W, pw, sw)
    out = np.zeros(N, C, H_out, W_out)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * sh:i * sh + ph, j * sw:j * sw + pw])
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    N, C, H, W = x.shape
    ph, pw = pool_param['pool_height'], pool_param['pool_width']
    sh, sw = pool_param['stride']
    _, _, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * sh:i * sh + ph, j * sw:j * sw + pw]
                    idx = np.argmax(window)
                    r, s = idx // pw, idx % pw
                    dx[n, c, i * sh + r, j * sw + s] += dout[n, c, i, j]
    return dx


def _pool_param(pool_size, stride):
    ph, pw = _to_pair(pool_size)
    stride = (ph, pw) if stride is None else _to_pair(stride)
    return {'pool_height': ph, 'pool_width': pw, 'stride': stride}


def maxpool_forward(x, pool_size=2, stride=None):
    out, _ = max_pool_forward_naive(x, _pool_param(pool_size, stride))
    return out


def maxpool_backward(dout, x, pool_size=2, stride=None):
    return max_pool_backward_naive(dout, (x, _pool_param(pool_size, stride)))


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
        KH, KW = _to_pair(kernel_size)
        self.stride = stride
        self.padding = padding
        scale = np.sqrt(2.0 / (in_channels * KH * KW))
        self.W = Parameter(scale * np.random.randn(out_channels, in_channels, KH, KW))
        self.b = Parameter(np.zeros(out_channels))
        self.cache = None

    def forward(self, x):
        self.cache = x
        return conv2d_forward(x, self.W.data, self.b.data, self.stride, self.padding)

    def backward(self, dout):
        dx, dw, db = conv2d_backward(dout, self.cache, self.W.data, self.b.data, self.stride, self.padding)
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
