"""Hidden checks of conv2d_forward: one check per group of cases.py, and a few rules."""

import numpy as np

from autograder.suite import check, expect_shape, same, unchanged

from . import mistakes
from .calls import conv_forward
from .cases import CONV


def _group(student, reference, rng, group):
    for case in CONV[group]:
        conv_forward(student, reference, rng, case)


@check("conv2d_forward", weight=2)
def test_defaults(student, reference, rng):
    """matches the reference with stride and padding left out, or passed as 1 and 0"""
    _group(student, reference, rng, "defaults")


@check("conv2d_forward")
def test_stride(student, reference, rng):
    """matches the reference with an int stride alone, where the division leaves a remainder"""
    _group(student, reference, rng, "stride")


@check("conv2d_forward")
def test_stride_pair(student, reference, rng):
    """matches the reference with a (height, width) stride pair alone"""
    _group(student, reference, rng, "stride pair")


@check("conv2d_forward")
def test_padding(student, reference, rng):
    """matches the reference with an int padding alone"""
    _group(student, reference, rng, "padding")


@check("conv2d_forward")
def test_padding_pair(student, reference, rng):
    """matches the reference with a (height, width) padding pair alone"""
    _group(student, reference, rng, "padding pair")


@check("conv2d_forward")
def test_non_square_kernel(student, reference, rng):
    """matches the reference with a non-square kernel alone"""
    _group(student, reference, rng, "kernel")


@check("conv2d_forward")
def test_integer_inputs(student, reference, rng):
    """returns float64 with the right values for integer x, w and b"""
    _group(student, reference, rng, "integer")


@check("conv2d_forward", weight=2)
def test_parameters_together(student, reference, rng):
    """matches the reference with strides, paddings, kernel shapes and integer inputs combined"""
    _group(student, reference, rng, "pairs")


@check("conv2d_forward", weight=2)
def test_edge_geometries(student, reference, rng):
    """matches the reference for kernel sides of 1, a single output row, and kernels larger than x"""
    _group(student, reference, rng, "edges")


@check("conv2d_forward")
def test_bias_is_added_per_filter(student, reference, rng):
    """adds b[f] to every output cell of filter f"""
    x = rng.standard_normal((2, 3, 6, 5))
    w = np.zeros((4, 3, 1, 1))
    b = np.array([1.5, -2.0, 7.25, 0.5])
    same(student.conv2d_forward(x, w, b), reference.conv2d_forward(x, w, b),
         f"conv2d_forward(x, w, b) with w all zeros and x of shape {x.shape}",
         mistakes={mistakes.known.no_bias: lambda: np.zeros((2, 4, 6, 5))})


@check("conv2d_forward", depends=[test_defaults, test_stride, test_padding])
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
