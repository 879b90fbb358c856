"""Hidden checks of pad."""

import numpy as np

from autograder.suite import check, same, unchanged

from . import mistakes


def _x(rng, dtype=np.float64, shape=(2, 3, 4, 5)):
    return rng.integers(-9, 10, size=shape).astype(dtype)


def _mistakes(reference, x, padding, value=0):
    return {
        "pad the batch and channel axes too": lambda: mistakes.pad_every_axis(x, padding, value),
        "read the pairs as (width, height)": lambda: mistakes.pad_swapped(reference, x, padding, value),
    }


@check("pad", weight=2)
def test_every_form_of_padding(student, reference, rng):
    """pads H and W for an int, a (p_h, p_w) pair and ((top, bottom), (left, right))"""
    x = _x(rng)
    for padding in (2, (1, 3), (0, 2), ((1, 0), (2, 3)), ((0, 2), (3, 0))):
        same(student.pad(x, padding), reference.pad(x, padding), f"pad(x, {padding!r})",
             mistakes=_mistakes(reference, x, padding))


@check("pad")
def test_fill_value(student, reference, rng):
    """writes `value` into the new cells and leaves x's cells as they were"""
    x = _x(rng, shape=(1, 2, 3, 3))
    same(student.pad(x, ((2, 1), (0, 1)), value=-7.5), reference.pad(x, ((2, 1), (0, 1)), value=-7.5),
         "pad(x, ((2, 1), (0, 1)), value=-7.5)", mistakes=_mistakes(reference, x, ((2, 1), (0, 1)), -7.5))


@check("pad")
def test_dtype_is_kept(student, reference, rng):
    """returns an array of x's dtype (int32 stays int32, float32 stays float32)"""
    for dtype in (np.int32, np.float32, np.uint8):
        x = _x(rng, dtype=np.float64, shape=(1, 1, 3, 2)).clip(0, None).astype(dtype)
        same(student.pad(x, 1), reference.pad(x, 1), f"pad(x, 1) on a {np.dtype(dtype)} x", dtype=dtype)


@check("pad")
def test_zero_padding_and_non_square(student, reference, rng):
    """padding 0 returns an equal array; non-square inputs keep their aspect"""
    x = _x(rng, shape=(3, 1, 2, 7))
    same(student.pad(x, 0), x, "pad(x, 0)")
    same(student.pad(x, (3, 0)), reference.pad(x, (3, 0)), "pad(x, (3, 0))", mistakes=_mistakes(reference, x, (3, 0)))


@check("pad")
def test_input_is_not_modified(student, reference, rng):
    """leaves x unchanged and returns a new array"""
    x = _x(rng)
    out = unchanged(student, x, lambda kept: student.pad(kept, (1, 2)), "pad(x, (1, 2))", "x")
    same(out, reference.pad(x, (1, 2)), "pad(x, (1, 2))")
