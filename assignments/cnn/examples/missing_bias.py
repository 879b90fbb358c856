"""Forgets to add the bias in the forward pass."""
# affects: conv2d_forward Conv2d
# feedback names: leave out the bias



def conv2d_forward(x, w, b, stride=1, padding=0):
    return _reference_conv2d_forward(x, w, np.zeros_like(np.asarray(b, dtype=float)), stride, padding)
