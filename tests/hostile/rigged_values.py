"""Returns objects that claim to equal anything, instead of arrays.

Honest part: conv2d_forward, maxpool_forward and maxpool_backward return
zeros of the right shape (wrong values, but plain arrays). Hostile part:
- conv2d_forward returns an object whose __eq__ is always True (and whose
  __ne__ is always False, __bool__ True, with a plausible .shape);
- maxpool_forward returns an object whose __array__ gives zeros of the right
  shape;
- maxpool_backward returns an ndarray subclass whose __eq__ says "all equal"
  while it carries zeros.
"""


def _conv_shape(x, w, stride, padding):
    x, w = np.asarray(x), np.asarray(w)
    (s_h, s_w), (p_h, p_w) = _pair(stride, "stride"), _pair(padding, "padding")
    return (x.shape[0], w.shape[0],
            conv_output_size(x.shape[2], w.shape[2], s_h, p_h), conv_output_size(x.shape[3], w.shape[3], s_w, p_w))


def _pool_shape(x, pool_size, stride):
    x = np.asarray(x)
    window = _pair(pool_size, "pool_size")
    strides = window if stride is None else _pair(stride, "stride")
    return x.shape[:2] + (conv_output_size(x.shape[2], window[0], strides[0]),
                          conv_output_size(x.shape[3], window[1], strides[1]))


def conv2d_forward(x, w, b, stride=1, padding=0):
    return np.zeros(_conv_shape(x, w, stride, padding))


def maxpool_forward(x, pool_size=2, stride=None):
    return np.zeros(_pool_shape(x, pool_size, stride), dtype=np.asarray(x).dtype)


def maxpool_backward(dout, x, pool_size=2, stride=None):
    return np.zeros(np.shape(x))


# ==== HOSTILE ====
class AlwaysEqual:
    def __init__(self, shape):
        self.shape = tuple(shape)
        self.dtype = np.dtype(np.float64)
        self.ndim = len(self.shape)

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __bool__(self):
        return True

    def all(self):
        return True

    __hash__ = object.__hash__


class ArrayOfZeros:
    def __init__(self, shape):
        self.shape = tuple(shape)

    def __array__(self, dtype=None, copy=None):
        return np.zeros(self.shape, dtype=dtype)


class RiggedArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    def __ne__(self, other):
        return np.zeros(self.shape, dtype=bool)

    __hash__ = None


def conv2d_forward(x, w, b, stride=1, padding=0):
    return AlwaysEqual(_conv_shape(x, w, stride, padding))


def maxpool_forward(x, pool_size=2, stride=None):
    return ArrayOfZeros(_pool_shape(x, pool_size, stride))


def maxpool_backward(dout, x, pool_size=2, stride=None):
    return np.zeros(np.shape(x)).view(RiggedArray)
