"""Hidden checks of pad: each form of padding alone, with `value`, with integer x, together, and at the edges.

pad keeps x's dtype (its docstring says so; np.pad does the same), so an
integer x gives an integer result; `value` is cast to that dtype.
"""

import numpy as np

from autograder.suite import check, same, unchanged

from . import mistakes
from .mistakes import known

_OMIT = object()


def _x(rng, shape, integer=False):
    values = rng.integers(-9, 10, size=shape)
    return values if integer else values + rng.uniform(-0.4, 0.4, size=shape)


def _compare(student, reference, x, padding, value=_OMIT):
    args = () if value is _OMIT else (value,)
    shown = f"pad(x, {padding!r}" + (f", value={value!r})" if args else ")")
    kind = "integer " if x.dtype.kind in "iu" else ""
    fill = 0 if value is _OMIT else value
    same(student.pad(x, padding, *args), reference.pad(x, padding, *args), f"{shown} with {kind}x of shape {x.shape}",
         dtype=x.dtype, mistakes={
             known.pad_every_axis: lambda: mistakes.pad_every_axis(x, padding, fill),
             known.pad_pair_swapped: lambda: mistakes.pad_swapped(reference, x, padding, fill),
             known.pad_value_ignored: lambda: mistakes.pad_value_ignored(reference, x, padding, fill),
             known.pad_pair_as_before_after: lambda: mistakes.pad_before_after(x, padding, fill),
         })


@check("pad", weight=2)
def test_int_padding(student, reference, rng):
    """an int p pads H and W by p on both sides, with value left out or passed as 0"""
    _compare(student, reference, _x(rng, (2, 3, 4, 5)), 2)
    _compare(student, reference, _x(rng, (3, 2, 5, 4)), 1, value=0)


@check("pad")
def test_pair_padding(student, reference, rng):
    """a pair (p_h, p_w) pads H by p_h and W by p_w on both sides"""
    _compare(student, reference, _x(rng, (2, 3, 4, 5)), (1, 3))
    _compare(student, reference, _x(rng, (3, 4, 6, 5)), (2, 0))


@check("pad")
def test_per_side_padding(student, reference, rng):
    """((top, bottom), (left, right)) pads each side by its own amount"""
    _compare(student, reference, _x(rng, (2, 3, 4, 5)), ((1, 0), (2, 3)))
    _compare(student, reference, _x(rng, (3, 2, 5, 4)), ((0, 2), (3, 1)))


@check("pad")
def test_fill_value(student, reference, rng):
    """writes `value` into the new cells"""
    _compare(student, reference, _x(rng, (2, 3, 4, 5)), 1, value=-7.5)


@check("pad")
def test_integer_x(student, reference, rng):
    """an integer x gives an integer result with the same dtype"""
    _compare(student, reference, _x(rng, (2, 3, 5, 4), integer=True), 1)
    _compare(student, reference, _x(rng, (3, 2, 4, 5), integer=True).astype(np.int32), 3)


@check("pad", weight=2)
def test_forms_together(student, reference, rng):
    """pairs and per-side amounts with `value` and integer x combined"""
    _compare(student, reference, _x(rng, (2, 3, 4, 5)), (3, 1), value=2.5)
    _compare(student, reference, _x(rng, (3, 2, 5, 4), integer=True), ((2, 0), (1, 3)), value=7)
    _compare(student, reference, _x(rng, (2, 4, 3, 5), integer=True).astype(np.uint8) % 9, (1, 2))
    _compare(student, reference, _x(rng, (4, 3, 2, 5)).astype(np.float32), ((0, 3), (2, 1)), value=-1.5)


@check("pad")
def test_edges(student, reference, rng):
    """zero padding returns an equal array; padding one side only; a single row; a value cast to int"""
    _compare(student, reference, _x(rng, (3, 2, 4, 5)), 0)
    _compare(student, reference, _x(rng, (2, 3, 5, 4)), ((0, 0), (0, 0)))
    _compare(student, reference, _x(rng, (3, 4, 2, 5)), ((0, 0), (0, 3)))
    _compare(student, reference, _x(rng, (2, 3, 1, 4)), (2, 1), value=1.5)
    _compare(student, reference, _x(rng, (2, 3, 4, 5), integer=True), (1, 2), value=0.5)


@check("pad", depends=[test_int_padding, test_pair_padding])
def test_input_is_not_modified(student, reference, rng):
    """leaves x unchanged and returns a new array"""
    x = _x(rng, (2, 3, 4, 5))
    out = unchanged(student, x, lambda kept: student.pad(kept, (1, 2)), "pad(x, (1, 2))", "x")
    same(out, reference.pad(x, (1, 2)), "pad(x, (1, 2))")
