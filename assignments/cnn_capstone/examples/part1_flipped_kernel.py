"""A first part whose conv2d_forward flips the kernel, while its backward does not: training fails."""
# module: cnn_layers
# affects: DigitCNN train
# mistake: flipped_kernel
# feedback names: flip the kernel



def conv2d_forward(x, w, b, stride=1, padding=0):
    return _reference_conv2d_forward(x, np.asarray(w)[:, :, ::-1, ::-1], b, stride, padding)
