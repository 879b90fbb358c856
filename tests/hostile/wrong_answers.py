"""Honest but wrong work, shared by several cases: two functions off by one.

conv2d_forward and maxpool_forward return the right shape and dtype with
every value one too large, so their checks (and the layers' forward checks)
fail; everything else is the reference's.
"""

_reference_conv2d_forward = conv2d_forward
_reference_maxpool_forward = maxpool_forward


def conv2d_forward(x, w, b, stride=1, padding=0):
    return _reference_conv2d_forward(x, w, b, stride, padding) + 1.0


def maxpool_forward(x, pool_size=2, stride=None):
    return _reference_maxpool_forward(x, pool_size, stride) + 1
