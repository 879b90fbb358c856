"""A first part with the lesson's max-pool backward (a global mask: every tied maximum gets the gradient)."""
# module: cnn_layers
# affects: DigitCNN train
# mistake: global_mask
# feedback names: every tied maximum



def maxpool_backward(dout, x, pool_size=2, stride=None):
    x = np.asarray(x)
    ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    stride = (ph, pw) if stride is None else stride
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    N, C, H, W = x.shape
    H_out, W_out = (H - ph) // sh + 1, (W - pw) // sw + 1
    mask = np.zeros(x.shape)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * sh:i * sh + ph, j * sw:j * sw + pw]
            mask[:, :, i * sh:i * sh + ph, j * sw:j * sw + pw] += window == window.max(axis=(2, 3), keepdims=True)
    dx = np.zeros(x.shape)
    for i in range(H_out):
        for j in range(W_out):
            cells = (slice(None), slice(None), slice(i * sh, i * sh + ph), slice(j * sw, j * sw + pw))
            dx[cells] += mask[cells] * dout[:, :, i:i + 1, j:j + 1]
    return dx
