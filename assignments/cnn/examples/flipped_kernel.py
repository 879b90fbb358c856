"""Flips the kernel: true convolution instead of the cross-correlation CNNs use."""
# affects: conv2d_forward Conv2d
# feedback names: flip the kernel



def conv2d_forward(x, w, b, stride=1, padding=0):
    return _reference_conv2d_forward(x, np.asarray(w)[:, :, ::-1, ::-1], b, stride, padding)
