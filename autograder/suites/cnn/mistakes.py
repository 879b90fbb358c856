"""Known wrong versions of the reference, so a failed check can name the mistake.

Each function takes the reference module and a call's arguments and returns
what a typical wrong solution returns. They run in the trusted process.
"""

import math

import numpy as np


def swap(pair):
    """(h, w) -> (w, h); an int stays as it is."""
    return (pair[1], pair[0]) if isinstance(pair, (tuple, list)) else pair


# conv_output_size -------------------------------------------------------
def lesson_output_size(size, kernel, stride=1, padding=0):
    """The lesson's printed formula: floor around the numerator only."""
    return math.floor(size + 2 * padding - kernel) / stride + 1


def ceil_output_size(size, kernel, stride=1, padding=0):
    return math.ceil((size + 2 * padding - kernel) / stride) + 1


def one_side_padding(size, kernel, stride=1, padding=0):
    return (size + padding - kernel) // stride + 1


# pad --------------------------------------------------------------------
def pad_every_axis(x, padding, value=0):
    return np.pad(x, padding if isinstance(padding, int) else 0, constant_values=value)


def pad_swapped(ref, x, padding, value=0):
    return ref.pad(x, swap(padding), value)


# conv2d -----------------------------------------------------------------
def flipped_kernel(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w[:, :, ::-1, ::-1], b, stride, padding)


def no_bias(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, np.zeros_like(b), stride, padding)


def swapped_strides(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, b, swap(stride), padding)


def swapped_padding(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, b, stride, swap(padding))


def stride_ignored(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, b, 1, padding)


def backward_of(forward_variant, ref, dout, x, w, b, stride=1, padding=0):
    """Gradients a student gets by differentiating a wrong forward pass correctly."""
    return forward_variant(ref, dout, x, w, b, stride, padding)


def flipped_backward(ref, dout, x, w, b, stride=1, padding=0):
    dx, dw, db = ref.conv2d_backward(dout, x, w[:, :, ::-1, ::-1], b, stride, padding)
    return dx, dw[:, :, ::-1, ::-1], db


def batch_mean_backward(ref, dout, x, w, b, stride=1, padding=0):
    dx, dw, db = ref.conv2d_backward(dout, x, w, b, stride, padding)
    return dx, dw / x.shape[0], db / x.shape[0]
