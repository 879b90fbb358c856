# corpus: style=dlai; bugs=numpy2_removed_alias; items=conv_output_size,conv2d_forward,conv2d_backward,maxpool_forward,Conv2d,MaxPool2d
"""Convolution model - step by step, adapted to the NCHW contract of this kit.

My code from the Coursera assignment works channels-last (m, n_H, n_W, n_C),
so every public function transposes at the boundaries.
"""
import numpy as np


def _hw(v):
    if type(v) == tuple or type(v) == list:
        return v[0], v[1]
    return v, v


def conv_output_size(size, kernel, stride=1, padding=0):
    if kernel <= 0 or stride <= 0 or padding < 0:
        raise ValueError("invalid hyperparameters")
    if size + 2 * padding < kernel:
        raise ValueError("filter larger than padded input")
    return np.int((size - kernel + 2 * padding) / stride) + 1


def pad(x, padding, value=0):
    if type(padding) in (tuple, list) and type(padding[0]) in (tuple, list):
        pads = ((0, 0), (0, 0), tuple(padding[0]), tuple(padding[1]))
    else:
        p_h, p_w = _hw(padding)
        pads = ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w))
    X_pad = np.pad(x, pads, mode='constant', constant_values=(value, value))
    return X_pad


def zero_pad(X, pad_h, pad_w):
    """X channels-last (m, n_H, n_W, n_C)"""
    X_pad = np.pad(X, ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)), mode='constant', constant_values=(0, 0))
    return X_pad


def conv_single_step(a_slice_prev, W, b):
    s = np.multiply(a_slice_prev, W)
    Z = np.sum(s)
    Z = Z + b.item()
    return Z


def conv_forward(A_prev, W, b, hparameters):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f_h, f_w, n_C_prev, n_C) = W.shape
    stride_h, stride_w = hparameters["stride"]
    pad_h, pad_w = hparameters["pad"]
    n_H = int((n_H_prev - f_h + 2 * pad_h) / stride_h) + 1
    n_W = int((n_W_prev - f_w + 2 * pad_w) / stride_w) + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad_h, pad_w)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            vert_start = h * stride_h
            vert_end = vert_start + f_h
            for w in range(n_W):
                horiz_start = w * stride_w
                horiz_end = horiz_start + f_w
                for c in range(n_C):
                    a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    weights = W[:, :, :, c]
                    biases = b[:, :, :, c]
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, weights, biases)
    cache = (A_prev, W, b, hparameters)
    return Z, cache


def conv_backward(dZ, cache):
    (A_prev, W, b, hparameters) = cache
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f_h, f_w, n_C_prev, n_C) = W.shape
    stride_h, stride_w = hparameters["stride"]
    pad_h, pad_w = hparameters["pad"]
    (m, n_H, n_W, n_C) = dZ.shape
    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))
    dW = np.zeros((f_h, f_w, n_C_prev, n_C))
    db = np.zeros((1, 1, 1, n_C))
    A_prev_pad = zero_pad(A_prev, pad_h, pad_w)
    dA_prev_pad = zero_pad(dA_prev, pad_h, pad_w)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride_h
                    vert_end = vert_start + f_h
                    horiz_start = w * stride_w
                    horiz_end = horiz_start + f_w
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
        dA_prev[i, :, :, :] = da_prev_pad[pad_h:pad_h + n_H_prev, pad_w:pad_w + n_W_prev, :]
    return dA_prev, dW, db


def create_mask_from_window(x):
    # only the first maximum (row-major) is the one that was picked
    mask = np.zeros(x.shape, dtype=bool)
    mask[np.unravel_index(np.argmax(x), x.shape)] = True
    return mask


def pool_forward(A_prev, hparameters):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    f_h, f_w = hparameters["f"]
    stride_h, stride_w = hparameters["stride"]
    n_H = int(1 + (n_H_prev - f_h) / stride_h)
    n_W = int(1 + (n_W_prev - f_w) / stride_w)
    n_C = n_C_prev
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride_h
            vert_end = vert_start + f_h
            for w in range(n_W):
                horiz_start = w * stride_w
                horiz_end = horiz_start + f_w
                for c in range(n_C):
                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                    A[i, h, w, c] = np.max(a_prev_slice)
    cache = (A_prev, hparameters)
    return A, cache


def pool_backward(dA, cache):
    (A_prev, hparameters) = cache
    stride_h, stride_w = hparameters["stride"]
    f_h, f_w = hparameters["f"]
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        a_prev = A_prev[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride_h
                    vert_end = vert_start + f_h
                    horiz_start = w * stride_w
                    horiz_end = horiz_start + f_w
                    a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                    mask = create_mask_from_window(a_prev_slice)
                    dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += np.multiply(mask, dA[i, h, w, c])
    return dA_prev


def _check(x, w, stride, padding):
    f_h, f_w = w.shape[2], w.shape[3]
    s_h, s_w = _hw(stride)
    p_h, p_w = _hw(padding)
    conv_output_size(x.shape[2], f_h, s_h, p_h)
    conv_output_size(x.shape[3], f_w, s_w, p_w)
    return {"stride": (s_h, s_w), "pad": (p_h, p_w)}


def conv2d_forward(x, w, b, stride=1, padding=0):
    hparameters = _check(x, w, stride, padding)
    A_prev = np.transpose(x, (0, 2, 3, 1)).astype(np.float64)
    W = np.transpose(w, (2, 3, 1, 0)).astype(np.float64)
    B = np.reshape(b, (1, 1, 1, -1)).astype(np.float64)
    Z, _ = conv_forward(A_prev, W, B, hparameters)
    return np.transpose(Z, (0, 3, 1, 2))


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    hparameters = _check(x, w, stride, padding)
    A_prev = np.transpose(x, (0, 2, 3, 1)).astype(np.float64)
    W = np.transpose(w, (2, 3, 1, 0)).astype(np.float64)
    B = np.reshape(b, (1, 1, 1, -1)).astype(np.float64)
    dZ = np.transpose(dout, (0, 2, 3, 1))
    dA_prev, dW, db = conv_backward(dZ, (A_prev, W, B, hparameters))
    dx = np.transpose(dA_prev, (0, 3, 1, 2))
    dw = np.transpose(dW, (3, 2, 0, 1))
    return dx, dw, db.reshape(-1)


def _pool_hparameters(pool_size, stride):
    if stride is None:
        stride = pool_size
    return {"f": _hw(pool_size), "stride": _hw(stride)}


def maxpool_forward(x, pool_size=2, stride=None):
    hparameters = _pool_hparameters(pool_size, stride)
    conv_output_size(x.shape[2], hparameters["f"][0], hparameters["stride"][0])
    conv_output_size(x.shape[3], hparameters["f"][1], hparameters["stride"][1])
    A, _ = pool_forward(np.transpose(x, (0, 2, 3, 1)).astype(np.float64), hparameters)
    return np.transpose(A, (0, 3, 1, 2))


def maxpool_backward(dout, x, pool_size=2, stride=None):
    hparameters = _pool_hparameters(pool_size, stride)
    A_prev = np.transpose(x, (0, 2, 3, 1)).astype(np.float64)
    dA = np.transpose(dout, (0, 2, 3, 1))
    dA_prev = pool_backward(dA, (A_prev, hparameters))
    return np.transpose(dA_prev, (0, 3, 1, 2))


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
        f_h, f_w = _hw(kernel_size)
        self.stride = stride
        self.padding = padding
        self.W = Parameter(np.random.randn(out_channels, in_channels, f_h, f_w) * np.sqrt(2 / (in_channels * f_h * f_w)))
        self.b = Parameter(np.zeros((out_channels,)))

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
