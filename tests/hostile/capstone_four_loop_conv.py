"""The capstone's conv2d_forward and conv2d_backward written with four loops (an include, not a case).

The names the speed leaderboard times, as in the lesson (the functions of
the capstone's part1_four_loops example): an honest four-loop entry. The
reference Conv2d of cnn_layers still runs training, which stays quick.
"""


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
