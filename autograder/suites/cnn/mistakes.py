"""Known wrong versions of the reference, so a failed check can name the mistake.

Each function takes the reference module and the call's arguments and
returns what a typical wrong solution would return.
"""

import numpy as np


def flipped_kernel(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w[:, :, ::-1, ::-1], b, stride, padding)


def no_bias(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, np.zeros_like(b), stride, padding)


def swapped(pair):
    if isinstance(pair, (tuple, list)):
        return (pair[1], pair[0])
    return pair
