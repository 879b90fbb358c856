"""Builds maxpool_backward's dx with np.zeros_like(x), so an integer x truncates every gradient."""
# affects: maxpool_backward MaxPool2d
# feedback names: keep the integer dtype



def maxpool_backward(dout, x, pool_size=2, stride=None):
    x = np.asarray(x)
    dx = np.zeros_like(x)
    dx[...] = _reference_maxpool_backward(dout, x, pool_size, stride)
    return dx
