"""Writes (=) each window's gradient instead of adding (+=), losing it where windows overlap."""
# affects: maxpool_backward MaxPool2d
# feedback names: instead of adding



def maxpool_backward(dout, x, pool_size=2, stride=None):
    x = np.asarray(x)
    ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    stride = (ph, pw) if stride is None else stride
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    N, C, H, W = x.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    window = x[n, c, i * sh:i * sh + ph, j * sw:j * sw + pw]
                    r, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * sh + r, j * sw + q] = dout[n, c, i, j]
    return dx
