"""Hidden checks of maxpool_forward."""

import numpy as np

from autograder.suite import check, expect_shape, same, unchanged

from . import pool_mistakes

_DEFAULT = object()  # stride left out of the call


def _compare(student, reference, x, pool_size=_DEFAULT, stride=_DEFAULT):
    """Call student and reference alike and compare, naming known mistakes."""
    args = () if pool_size is _DEFAULT else (pool_size,)
    kwargs = {} if stride is _DEFAULT else {"stride": stride}
    shown = ", ".join(["x", *map(repr, args), *(f"stride={v!r}" for v in kwargs.values())])
    what = f"maxpool_forward({shown}) with x of shape {x.shape}"
    expected = reference.maxpool_forward(x, *args, **kwargs)
    pool = 2 if pool_size is _DEFAULT else pool_size
    return same(
        student.maxpool_forward(x, *args, **kwargs), expected, what,
        mistakes=pool_mistakes.forward_mistakes(reference, x, pool, kwargs.get("stride")),
    )


@check("maxpool_forward", weight=2)
def test_default_stride_on_random_inputs(student, reference, rng):
    """matches the reference on random inputs with 2x2 windows and the default stride"""
    x = rng.standard_normal((2, 3, 8, 6))
    _compare(student, reference, x)
    _compare(student, reference, x, 2)


@check("maxpool_forward", weight=2)
def test_overlapping_2x2_stride_1(student, reference, rng):
    """matches the reference on overlapping windows (2x2, stride 1)"""
    _compare(student, reference, rng.standard_normal((2, 2, 6, 7)), 2, stride=1)


@check("maxpool_forward", weight=2)
def test_3x3_stride_2(student, reference, rng):
    """matches the reference with 3x3 windows and stride 2 (neighbouring windows share a row or column)"""
    _compare(student, reference, rng.standard_normal((1, 3, 9, 9)), 3, stride=2)
    _compare(student, reference, rng.standard_normal((2, 1, 7, 11)), 3, stride=2)


@check("maxpool_forward", weight=2)
def test_non_square_window_and_unequal_strides(student, reference, rng):
    """matches the reference for non-square windows and different strides along H and W"""
    _compare(student, reference, rng.standard_normal((2, 2, 7, 10)), (2, 3), stride=(1, 2))
    _compare(student, reference, rng.standard_normal((1, 3, 9, 6)), (3, 1), stride=(2, 1))


@check("maxpool_forward")
def test_non_square_inputs(student, reference, rng):
    """handles inputs whose height and width differ"""
    _compare(student, reference, rng.standard_normal((1, 2, 6, 10)), 2)
    _compare(student, reference, rng.standard_normal((2, 1, 11, 4)), 3, stride=1)


@check("maxpool_forward")
def test_windows_that_do_not_fit_are_dropped(student, reference, rng):
    """drops windows that would cross the bottom or right edge"""
    _compare(student, reference, rng.standard_normal((1, 2, 7, 9)), 2)
    _compare(student, reference, rng.standard_normal((2, 1, 8, 10)), 3, stride=2)
    _compare(student, reference, rng.standard_normal((1, 1, 12, 5)), (3, 2), stride=(4, 2))


@check("maxpool_forward")
def test_stride_none_means_pool_size(student, reference, rng):
    """stride=None makes windows move by pool_size, so they do not overlap"""
    _compare(student, reference, rng.standard_normal((1, 2, 9, 9)), 3, stride=None)
    _compare(student, reference, rng.standard_normal((2, 1, 8, 9)), (2, 3), stride=None)


@check("maxpool_forward")
def test_pairs_are_height_then_width(student, reference, rng):
    """reads pool_size and stride pairs as (height, width)"""
    _compare(student, reference, rng.standard_normal((1, 2, 9, 8)), (3, 2))
    _compare(student, reference, rng.standard_normal((1, 1, 10, 7)), (1, 2), stride=(3, 1))


@check("maxpool_forward")
def test_input_is_not_modified(student, reference, rng):
    """leaves x unchanged"""
    x = rng.standard_normal((2, 2, 6, 5))
    what = "maxpool_forward(x, 2, stride=1)"
    out = unchanged(student, x, lambda kept: student.maxpool_forward(kept, 2, stride=1), what)
    expect_shape(out, reference.maxpool_forward(x, 2, stride=1).shape, what)


@check("maxpool_forward")
def test_integer_input(student, reference, rng):
    """gives the right maxima for an integer x"""
    _compare(student, reference, rng.integers(-50, 50, size=(2, 2, 6, 7)), 2)
    _compare(student, reference, rng.integers(0, 1000, size=(1, 3, 7, 7)).astype(np.int32), 3, stride=2)
