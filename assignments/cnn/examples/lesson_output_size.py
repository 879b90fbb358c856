"""Uses the lesson's printed output-size formula, which floors only the numerator."""
# affects: conv_output_size conv2d_backward maxpool_backward Conv2d MaxPool2d
# (the other functions call conv_output_size, so its float result breaks their shapes too)
# feedback names: its floor applies to the numerator only


import math


def conv_output_size(size, kernel, stride=1, padding=0):
    if kernel < 1 or stride < 1 or padding < 0 or size + 2 * padding < kernel:
        raise ValueError("impossible settings")
    return math.floor(size + 2 * padding - kernel) / stride + 1
