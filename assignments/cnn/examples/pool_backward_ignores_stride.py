"""Max-pool backward that ignores the stride: window (i, j) is taken at (i * PH, j * PW), as if stride were pool_size."""
# affects: maxpool_backward MaxPool2d
# feedback names: instead of the stride



def maxpool_backward(dout, x, pool_size=2, stride=None):
    x = np.asarray(x)
    ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    dx = np.zeros(x.shape)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * ph:i * ph + ph, j * pw:j * pw + pw]
                    r, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * ph + r, j * pw + q] += dout[n, c, i, j]
    return dx
