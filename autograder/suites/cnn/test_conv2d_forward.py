"""Hidden checks of conv2d_forward: one check per group of cases.py, and a few rules."""

import numpy as np

from autograder.suite import check, checks_over, expect_shape, same, unchanged

from . import mistakes
from .calls import conv_forward
from .cases import CONV


@checks_over("conv2d_forward", [
    # test name, weight, cases, title: one check per group of cases.py
    ("test_defaults", 2, CONV["defaults"], "matches the reference with stride and padding left out, or passed as 1 and 0"),
    ("test_stride", 1, CONV["stride"], "matches the reference with an int stride alone, where the division leaves a remainder"),
    ("test_stride_pair", 1, CONV["stride pair"], "matches the reference with a (height, width) stride pair alone"),
    ("test_padding", 1, CONV["padding"], "matches the reference with an int padding alone"),
    ("test_padding_pair", 1, CONV["padding pair"], "matches the reference with a (height, width) padding pair alone"),
    ("test_non_square_kernel", 1, CONV["kernel"], "matches the reference with a non-square kernel alone"),
    ("test_integer_inputs", 1, CONV["integer"], "returns float64 with the right values for integer x, w and b"),
    ("test_parameters_together", 2, CONV["pairs"], "matches the reference with strides, paddings, kernel shapes and integer inputs combined"),
    ("test_edge_geometries", 2, CONV["edges"], "matches the reference for kernel sides of 1, a single output row, and kernels larger than x"),
])
def _group(student, reference, rng, cases):
    for case in cases:
        conv_forward(student, reference, rng, case)


@check("conv2d_forward")
def test_bias_is_added_per_filter(student, reference, rng):
    """adds b[f] to every output cell of filter f"""
    x = rng.standard_normal((2, 3, 6, 5))
    w = np.zeros((4, 3, 1, 1))
    b = np.array([1.5, -2.0, 7.25, 0.5])
    same(student.conv2d_forward(x, w, b), reference.conv2d_forward(x, w, b),
         f"conv2d_forward(x, w, b) with w all zeros and x of shape {x.shape}",
         mistakes={mistakes.known.no_bias: lambda: np.zeros((2, 4, 6, 5))})


@check("conv2d_forward", depends=["test_defaults", "test_stride", "test_padding"])
def test_inputs_are_not_modified(student, reference, rng):
    """leaves x, w and b unchanged"""
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 5, 1)), rng.standard_normal(4)
    what = "conv2d_forward(x, w, b, stride=2, padding=1)"
    shape = reference.conv2d_forward(x, w, b, 2, 1).shape
    for name, call in (
        ("x", lambda k: student.conv2d_forward(k, w, b, stride=2, padding=1)),
        ("w", lambda k: student.conv2d_forward(x, k, b, stride=2, padding=1)),
        ("b", lambda k: student.conv2d_forward(x, w, k, stride=2, padding=1)),
    ):
        expect_shape(unchanged(student, {"x": x, "w": w, "b": b}[name], call, what, name), shape, what)
