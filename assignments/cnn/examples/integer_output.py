"""Returns the input's dtype from the convolution, so integer inputs give integers."""
# affects: conv2d_forward
# feedback names: dtype



def conv2d_forward(x, w, b, stride=1, padding=0):
    out = _reference_conv2d_forward(x, w, b, stride, padding)
    return out.astype(np.result_type(np.asarray(x), np.asarray(w), np.asarray(b)))
