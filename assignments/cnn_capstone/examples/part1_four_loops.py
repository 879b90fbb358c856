"""A correct first part written with four nested loops, as in the lesson: slow, and inside the training budget."""
# module: cnn_layers
# affects:
# mistake:
# feedback names:



def conv2d_forward(x, w, b, stride=1, padding=0):
    x, w, b = (np.asarray(a, dtype=np.float64) for a in (x, w, b))
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, F, KH, KW = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    H_out = (xp.shape[2] - KH) // sh + 1
    W_out = (xp.shape[3] - KW) // sw + 1
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    patch = xp[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    return out


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    N, F, H_out, W_out = dout.shape
    KH, KW = w.shape[2], w.shape[3]
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    cells = (n, slice(None), slice(i * sh, i * sh + KH), slice(j * sw, j * sw + KW))
                    dw[f] += dout[n, f, i, j] * xp[cells]
                    dxp[cells] += dout[n, f, i, j] * w[f]
    dx = dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def maxpool_forward(x, pool_size=2, stride=None):
    x = np.asarray(x)
    ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    sh, sw = (ph, pw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    N, C, H, W = x.shape
    out = np.zeros((N, C, (H - ph) // sh + 1, (W - pw) // sw + 1), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, c, i, j] = x[n, c, i * sh:i * sh + ph, j * sw:j * sw + pw].max()
    return out


def maxpool_backward(dout, x, pool_size=2, stride=None):
    x = np.asarray(x)
    ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    sh, sw = (ph, pw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    dx = np.zeros(x.shape)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * sh:i * sh + ph, j * sw:j * sw + pw]
                    p, q = divmod(int(np.argmax(window)), pw)  # the first maximum, row by row
                    dx[n, c, i * sh + p, j * sw + q] += dout[n, c, i, j]
    return dx
