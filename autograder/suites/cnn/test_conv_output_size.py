"""Hidden checks of conv_output_size.

Each case's (size + 2 * padding - kernel) / stride is chosen so that the
floor differs from the wrong roundings: remainders of 2/3 (round and ceil
go up) and of 1/2 after an odd whole part (Python's round goes to the even
neighbour, up).
"""

import numpy as np

from autograder.suite import check, fail, raises

from . import mistakes
from .mistakes import known

_OMIT = object()


def _is_int(value):
    return type(value) is int or isinstance(value, np.integer)


def _equals(got, value):
    """got is a number equal to value (not an array, None or an object, whose == could be anything)."""
    return isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool) and got == value


def _call(student, size, kernel, stride=_OMIT, padding=_OMIT):
    kwargs = {k: v for k, v in (("stride", stride), ("padding", padding)) if v is not _OMIT}
    shown = ", ".join([str(size), str(kernel), *(f"{k}={v}" for k, v in kwargs.items())])
    return f"conv_output_size({shown})", student.conv_output_size(size, kernel, **kwargs), kwargs


def _cases(student, reference, cases):
    """Every case must give the reference's int; a mistake is named only if it explains every case."""
    results = [(case, *_call(student, *case)) for case in cases]
    for case, call, got, kwargs in results:
        want = reference.conv_output_size(case[0], case[1], **kwargs)
        if not _equals(got, want):
            explained = next((mistake for mistake, wrong in mistakes.OUTPUT_SIZE_VARIANTS if all(
                _equals(g, wrong(c[0], c[1], **k)) for c, _, g, k in results)), None)
            fail(f"{call} returned {got!r}; expected {want}", explained)
    for case, call, got, kwargs in results:
        if not _is_int(got):
            fail(f"{call} returned {got!r} ({type(got).__name__}); the value is right, but it must be an int "
                 "(floor division // keeps integers whole)")


@check("conv_output_size")
def test_defaults(student, reference, rng):
    """stride and padding left out, or passed as 1 and 0: size - kernel + 1"""
    _cases(student, reference, [(28, 5), (13, 4), (9, 3, 1, 0), (12, 7, 1, _OMIT), (10, 6, _OMIT, 0)])


@check("conv_output_size", weight=2)
def test_stride(student, reference, rng):
    """a stride alone, where the division leaves a remainder of 1/3, 2/3 or 1/2"""
    _cases(student, reference, [(13, 5, 3), (12, 5, 2), (10, 3, 3), (11, 2, 2), (16, 3, 4, _OMIT)])


@check("conv_output_size")
def test_padding(student, reference, rng):
    """a padding alone adds to both ends of the axis"""
    _cases(student, reference, [(32, 3, _OMIT, 1), (7, 5, 1, 2), (6, 4, _OMIT, 3)])


@check("conv_output_size", weight=2)
def test_stride_and_padding(student, reference, rng):
    """stride and padding together, with remainders"""
    _cases(student, reference, [(11, 3, 2, 1), (9, 2, 4, 2), (13, 5, 3, 1), (10, 4, 3, 2), (8, 3, 2, 3)])


@check("conv_output_size")
def test_edges(student, reference, rng):
    """a kernel of 1, a single position, and a kernel larger than the input that fits thanks to padding"""
    _cases(student, reference, [(7, 1), (9, 1, 4), (7, 7, 5), (5, 3, 4), (2, 4, 1, 1), (3, 6, 2, 2)])


@check("conv_output_size", depends=[test_defaults, test_stride, test_padding])
def test_keyword_arguments(student, reference, rng):
    """accepts size, kernel, stride and padding as keywords, in any order"""
    got = student.conv_output_size(padding=2, stride=3, kernel=4, size=14)
    if not _is_int(got) or got != 5:
        fail(f"conv_output_size(padding=2, stride=3, kernel=4, size=14) returned {got!r}; expected 5")


@check("conv_output_size", depends=[test_defaults, test_stride, test_padding])
def test_no_position_raises(student, reference, rng):
    """raises ValueError when even padding leaves no room (also when the stride would hide it), and for a negative padding"""
    raises(ValueError, lambda: student.conv_output_size(3, 6, 1, 1), "conv_output_size(3, 6, stride=1, padding=1)")
    # (3 - 4) / 2 = -0.5: int() turns it into 0 and 1 position appears; the floor gives -1, so none.
    call = "conv_output_size(3, 4, stride=2)"
    try:
        raises(ValueError, lambda: student.conv_output_size(3, 4, 2, 0), call)
    except AssertionError as failure:
        fail(str(failure), known.int_truncation if "returned 1;" in str(failure) else None)
    raises(ValueError, lambda: student.conv_output_size(8, 3, 2, -2), "conv_output_size(8, 3, stride=2, padding=-2)")
    raises(ValueError, lambda: student.conv_output_size(8, 3, -1, 0), "conv_output_size(8, 3, stride=-1)")
