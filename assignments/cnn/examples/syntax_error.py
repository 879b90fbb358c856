"""A file that does not parse: graded 0 with the reason, and the batch goes on."""
# affects: *
# feedback names: could not be loaded


def conv2d_forward(x, w, b, stride=1, padding=0)
    return x
