"""Hidden checks of conv2d_forward."""

import numpy as np

from autograder.suite import check, same

from . import mistakes


@check("conv2d_forward", weight=2)
def test_values_on_random_inputs(student, reference, rng):
    """matches the reference on random float64 inputs"""
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    same(
        student.conv2d_forward(x, w, b), reference.conv2d_forward(x, w, b), "conv2d_forward(x, w, b)",
        mistakes={
            "flip the kernel (deep-learning convolution slides w as it is)": lambda: mistakes.flipped_kernel(reference, x, w, b),
            "leave out the bias": lambda: mistakes.no_bias(reference, x, w, b),
        },
    )
