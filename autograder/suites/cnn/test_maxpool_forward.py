"""Hidden checks of maxpool_forward: one check per group of cases.py, and a few rules."""

from autograder.suite import check, expect_shape, unchanged

from .calls import pool_forward
from .cases import POOL


@check("maxpool_forward", weight=2)
def test_defaults(student, reference, rng):
    """matches the reference with pool_size and stride left out, or passed as 2 and None"""
    for case in POOL["defaults"]:
        pool_forward(student, reference, rng, case)


@check("maxpool_forward")
def test_window(student, reference, rng):
    """matches the reference with an int window other than 2 alone (stride left to default)"""
    for case in POOL["window"]:
        pool_forward(student, reference, rng, case)


@check("maxpool_forward")
def test_non_square_window(student, reference, rng):
    """matches the reference with a non-square window alone (stride left to default)"""
    for case in POOL["window shape"]:
        pool_forward(student, reference, rng, case)


@check("maxpool_forward")
def test_stride(student, reference, rng):
    """matches the reference with an int stride alone, with and without overlap"""
    for case in POOL["stride"]:
        pool_forward(student, reference, rng, case)


@check("maxpool_forward")
def test_stride_pair(student, reference, rng):
    """matches the reference with a (height, width) stride pair alone"""
    for case in POOL["stride pair"]:
        pool_forward(student, reference, rng, case)


@check("maxpool_forward")
def test_integer_input(student, reference, rng):
    """returns float64 with the right maxima for an integer x"""
    for case in POOL["integer"]:
        pool_forward(student, reference, rng, case)


@check("maxpool_forward")
def test_parameters_together(student, reference, rng):
    """matches the reference with windows, strides and integer inputs combined"""
    for case in POOL["pairs"]:
        pool_forward(student, reference, rng, case)


@check("maxpool_forward")
def test_edge_geometries(student, reference, rng):
    """matches the reference with window sides of 1, a single output row, strides and windows longer than x"""
    for case in POOL["edges"]:
        pool_forward(student, reference, rng, case)


@check("maxpool_forward", depends=[test_defaults, test_stride])
def test_input_is_not_modified(student, reference, rng):
    """leaves x unchanged"""
    x = rng.standard_normal((3, 4, 5, 7))
    what = "maxpool_forward(x, 2, stride=1)"
    out = unchanged(student, x, lambda kept: student.maxpool_forward(kept, 2, stride=1), what, "x")
    expect_shape(out, reference.maxpool_forward(x, 2, stride=1).shape, what)
