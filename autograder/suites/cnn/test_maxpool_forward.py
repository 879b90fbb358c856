"""Hidden checks of maxpool_forward: one check per group of cases.py, and a few rules."""

from autograder.suite import check, checks_over, expect_shape, unchanged

from .calls import pool_forward
from .cases import POOL


@checks_over("maxpool_forward", [
    # test name, weight, cases, title: one check per group of cases.py
    ("test_defaults", 2, POOL["defaults"], "matches the reference with pool_size and stride left out, or passed as 2 and None"),
    ("test_window", 1, POOL["window"], "matches the reference with an int window other than 2 alone (stride left to default)"),
    ("test_non_square_window", 1, POOL["window shape"], "matches the reference with a non-square window alone (stride left to default)"),
    ("test_stride", 1, POOL["stride"], "matches the reference with an int stride alone, with and without overlap"),
    ("test_stride_pair", 1, POOL["stride pair"], "matches the reference with a (height, width) stride pair alone"),
    ("test_integer_input", 1, POOL["integer"], "returns float64 with the right maxima for an integer x"),
    ("test_parameters_together", 1, POOL["pairs"], "matches the reference with windows, strides and integer inputs combined"),
    ("test_edge_geometries", 1, POOL["edges"], "matches the reference with window sides of 1, a single output row, strides and windows longer than x"),
])
def _group(student, reference, rng, cases):
    for case in cases:
        pool_forward(student, reference, rng, case)


@check("maxpool_forward", depends=["test_defaults", "test_stride"])
def test_input_is_not_modified(student, reference, rng):
    """leaves x unchanged"""
    x = rng.standard_normal((3, 4, 5, 7))
    what = "maxpool_forward(x, 2, stride=1)"
    out = unchanged(student, x, lambda kept: student.maxpool_forward(kept, 2, stride=1), what, "x")
    expect_shape(out, reference.maxpool_forward(x, 2, stride=1).shape, what)
