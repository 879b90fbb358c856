"""Crops the padding off dx with dx_pad[:, :, p:-p, q:-q], which is empty along an axis whose padding is 0."""
# affects: conv2d_backward Conv2d
# feedback names: empty when p = 0



def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x_pad = pad(np.asarray(x, dtype=np.float64), (ph, pw))
    _, dw, db = _reference_conv2d_backward(dout, x, w, b, stride, padding)
    dx_pad, _, _ = _reference_conv2d_backward(dout, x_pad, w, b, stride, 0)
    return dx_pad[:, :, ph:-ph, pw:-pw], dw, db
