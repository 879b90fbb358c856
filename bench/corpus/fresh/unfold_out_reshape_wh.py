# corpus: style=unfold; bugs=output_reshaped_width_height_then_transposed; items=conv2d_forward,Conv2d
"""NumPy port of torch.nn.functional.unfold / fold, then conv = matmul (im2col)."""
import numpy as np


def _tup(v):
    if isinstance(v, int):
        return (v, v)
    return tuple(int(a) for a in v)


def conv_output_size(size, kernel, stride=1, padding=0):
    # same formula as the torch docs (dilation = 1)
    if kernel < 1:
        raise ValueError("kernel_size must be >= 1")
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if padding < 0:
        raise ValueError("padding must be >= 0")
    if size + 2 * padding < kernel:
        raise ValueError("input too small for kernel")
    return (size + 2 * padding - (kernel - 1) - 1) // stride + 1


def pad(x, padding, value=0):
    # torch.nn.functional.pad order would be (left, right, top, bottom); here NCHW pairs
    if isinstance(padding, int):
        top = bottom = left = right = padding
    elif isinstance(padding[0], int):
        top = bottom = padding[0]
        left = right = padding[1]
    else:
        (top, bottom), (left, right) = padding
    N, C, H, W = x.shape
    out = np.empty((N, C, H + top + bottom, W + left + right), dtype=x.dtype)
    out[...] = value
    out[:, :, top:top + H, left:left + W] = x
    return out


def unfold(x, kernel_size, stride=1, padding=0):
    """Like F.unfold: (N, C, H, W) -> (N, C*kh*kw, L), L = Ho*Wo, channel-major rows."""
    kh, kw = _tup(kernel_size)
    sh, sw = _tup(stride)
    ph, pw = _tup(padding)
    N, C, H, W = x.shape
    Ho = conv_output_size(H, kh, sh, ph)
    Wo = conv_output_size(W, kw, sw, pw)
    xp = pad(x, (ph, pw))
    cols = np.empty((N, C, kh, kw, Ho, Wo), dtype=xp.dtype)
    for p in range(kh):
        for q in range(kw):
            cols[:, :, p, q] = xp[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw]
    return cols.reshape(N, C * kh * kw, Ho * Wo), (Ho, Wo)


def fold(cols, output_size, kernel_size, stride=1, padding=0):
    """Like F.fold: sums overlapping values back. cols (N, C*kh*kw, L)."""
    H, W = output_size
    kh, kw = _tup(kernel_size)
    sh, sw = _tup(stride)
    ph, pw = _tup(padding)
    N = cols.shape[0]
    C = cols.shape[1] // (kh * kw)
    Ho = conv_output_size(H, kh, sh, ph)
    Wo = conv_output_size(W, kw, sw, pw)
    cols = cols.reshape(N, C, kh, kw, Ho, Wo)
    out = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            out[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw] += cols[:, :, p, q]
    return out[:, :, ph:ph + H, pw:pw + W]


def conv2d_forward(x, w, b, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    F = w.shape[0]
    cols, (Ho, Wo) = unfold(x, w.shape[2:], stride, padding)    # N, CKK, L
    wmat = w.reshape(F, -1).astype(np.float64)                  # F, CKK
    out = wmat @ cols                                            # N, F, L
    out = out + np.asarray(b, dtype=np.float64).reshape(1, F, 1)
    return out.reshape(x.shape[0], F, Wo, Ho).transpose(0, 1, 3, 2)


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    N, C, H, W = x.shape
    F = w.shape[0]
    cols, (Ho, Wo) = unfold(x, w.shape[2:], stride, padding)
    d = dout.reshape(N, F, Ho * Wo)
    db = d.sum(axis=(0, 2))
    dw = np.einsum('nfl,nkl->fk', d, cols).reshape(w.shape)
    dcols = np.einsum('fk,nfl->nkl', w.reshape(F, -1), d)
    dx = fold(dcols, (H, W), w.shape[2:], stride, padding)
    return dx, dw, db


def maxpool_forward(x, pool_size=2, stride=None):
    if stride is None:
        stride = pool_size
    N, C, H, W = x.shape
    kh, kw = _tup(pool_size)
    cols, (Ho, Wo) = unfold(np.asarray(x, dtype=np.float64), pool_size, stride)
    cols = cols.reshape(N, C, kh * kw, Ho * Wo)
    return cols.max(axis=2).reshape(N, C, Ho, Wo)


def maxpool_backward(dout, x, pool_size=2, stride=None):
    if stride is None:
        stride = pool_size
    N, C, H, W = x.shape
    kh, kw = _tup(pool_size)
    cols, (Ho, Wo) = unfold(np.asarray(x, dtype=np.float64), pool_size, stride)
    cols = cols.reshape(N, C, kh * kw, Ho * Wo)
    arg = cols.argmax(axis=2)                                   # N, C, L
    dcols = np.zeros_like(cols)
    n, c, l = np.indices(arg.shape)
    dcols[n, c, arg, l] = dout.reshape(N, C, Ho * Wo)
    return fold(dcols.reshape(N, C * kh * kw, Ho * Wo), (H, W), pool_size, stride)


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
        self.kernel_size = _tup(kernel_size)
        self.stride = stride
        self.padding = padding
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        gain = np.sqrt(2.0)
        std = gain / np.sqrt(fan_in)       # kaiming_normal_, mode='fan_in'
        self.W = Parameter(np.random.randn(out_channels, in_channels, *self.kernel_size) * std)
        self.b = Parameter(np.zeros(out_channels))

    def forward(self, x):
        self._input = x
        return conv2d_forward(x, self.W.data, self.b.data, self.stride, self.padding)

    def backward(self, dout):
        dx, dw, db = conv2d_backward(dout, self._input, self.W.data, self.b.data, self.stride, self.padding)
        self.W.grad += dw
        self.b.grad += db
        return dx


class MaxPool2d(Module):
    def __init__(self, pool_size=2, stride=None):
        self.pool_size = pool_size
        self.stride = stride

    def forward(self, x):
        self._input = x
        return maxpool_forward(x, self.pool_size, self.stride)

    def backward(self, dout):
        return maxpool_backward(dout, self._input, self.pool_size, self.stride)
