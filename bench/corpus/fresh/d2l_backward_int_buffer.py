# corpus: style=d2l; bugs=dx_buffer_integer_for_integer_x; items=conv2d_backward,Conv2d
"""CNN layers, following the Dive into Deep Learning chapter (corr2d, pool2d), in NCHW."""
import numpy as np


def _hw(v):
    # int or (h, w)
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv_output_size(size, kernel, stride=1, padding=0):
    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError("bad kernel/stride/padding")
    n = (size + 2 * padding - kernel) // stride + 1
    if size + 2 * padding < kernel:
        raise ValueError("kernel larger than padded input")
    return int(n)


def pad(x, padding, value=0):
    if isinstance(padding, (tuple, list)) and isinstance(padding[0], (tuple, list)):
        (t, bt), (l, r) = padding
    else:
        ph, pw = _hw(padding)
        t, bt, l, r = ph, ph, pw, pw
    N, C, H, W = x.shape
    out = np.full((N, C, H + t + bt, W + l + r), value, dtype=x.dtype)
    out[:, :, t:t + H, l:l + W] = x
    return out


def corr2d(X, K, sh=1, sw=1):
    """2-D cross-correlation of one channel X with kernel K (d2l 6.2)."""
    h, w = K.shape
    Y = np.zeros(((X.shape[0] - h) // sh + 1, (X.shape[1] - w) // sw + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i * sh:i * sh + h, j * sw:j * sw + w] * K).sum()
    return Y


def corr2d_multi_in(X, K, sh=1, sw=1):
    # sum over input channels
    return sum(corr2d(x, k, sh, sw) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K, sh=1, sw=1):
    return np.stack([corr2d_multi_in(X, k, sh, sw) for k in K], 0)


def conv2d_forward(x, w, b, stride=1, padding=0):
    sh, sw = _hw(stride)
    ph, pw = _hw(padding)
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    b = np.asarray(b, dtype=float)
    conv_output_size(x.shape[2], w.shape[2], sh, ph)
    conv_output_size(x.shape[3], w.shape[3], sw, pw)
    xp = pad(x, (ph, pw))
    Y = np.stack([corr2d_multi_in_out(xi, w, sh, sw) for xi in xp], 0)
    return Y + b.reshape(1, -1, 1, 1)


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    sh, sw = _hw(stride)
    ph, pw = _hw(padding)
    w = np.asarray(w, dtype=float)
    dout = np.asarray(dout, dtype=float)
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = pad(x, (ph, pw))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    Ho, Wo = dout.shape[2], dout.shape[3]
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]      # N C kh kw
            g = dout[:, :, i, j]                                       # N F
            dw += np.tensordot(g, win, axes=([0], [0]))                # F C kh kw
            dxp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += np.tensordot(g, w, axes=([1], [0]))
    db = dout.sum(axis=(0, 2, 3))
    dx = dxp[:, :, ph:ph + H, pw:pw + W]
    return dx, dw, db


def pool2d(X, pool_size, sh, sw):
    """Max pooling of one channel (d2l 6.5)."""
    p_h, p_w = pool_size
    Y = np.zeros(((X.shape[0] - p_h) // sh + 1, (X.shape[1] - p_w) // sw + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = X[i * sh:i * sh + p_h, j * sw:j * sw + p_w].max()
    return Y


def maxpool_forward(x, pool_size=2, stride=None):
    p = _hw(pool_size)
    sh, sw = p if stride is None else _hw(stride)
    conv_output_size(x.shape[2], p[0], sh)
    conv_output_size(x.shape[3], p[1], sw)
    return np.array([[pool2d(ch, p, sh, sw) for ch in img] for img in x], dtype=float)


def maxpool_backward(dout, x, pool_size=2, stride=None):
    p_h, p_w = _hw(pool_size)
    sh, sw = (p_h, p_w) if stride is None else _hw(stride)
    dx = np.zeros(x.shape)
    N, C, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i * sh:i * sh + p_h, j * sw:j * sw + p_w]
                    r, s = np.unravel_index(np.argmax(win), win.shape)
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
        kh, kw = _hw(kernel_size)
        self.stride, self.padding = stride, padding
        fan_in = in_channels * kh * kw
        self.W = Parameter(np.random.normal(0.0, np.sqrt(2.0 / fan_in), size=(out_channels, in_channels, kh, kw)))
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
        self.pool_size = pool_size
        self.stride = stride

    def forward(self, x):
        self.x = x
        return maxpool_forward(x, self.pool_size, self.stride)

    def backward(self, dout):
        return maxpool_backward(dout, self.x, self.pool_size, self.stride)
