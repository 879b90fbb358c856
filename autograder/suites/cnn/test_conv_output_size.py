"""Hidden checks of conv_output_size.

Each check draws its cases from the submission's rng (size_cases.py): the
feedback names a failing case, and a case revealed once should not be met
again after a change to the code. Each family keeps what the fixed cases
were chosen for: (size + 2 * padding - kernel) / stride leaves remainders
over a half (round and ceil go up) and of 1/2 after an odd whole part
(Python's round goes to the even neighbour, up), and every draw tells apart
from the floor the same wrong roundings, so a draw never changes a verdict.
"""

import numpy as np

from autograder.suite import CheckFailed, check, checks_over, fail, raises

from . import mistakes, size_cases
from .cases import OMIT as _OMIT
from .mistakes import known


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


@checks_over("conv_output_size", [
    # test name, weight, the draw of its cases (size_cases.py), title
    ("test_defaults", 1, size_cases.defaults, "stride and padding left out, or passed as 1 and 0: size - kernel + 1"),
    ("test_stride", 2, size_cases.stride, "a stride alone, where the division leaves a remainder of 1/3, 2/3 or 1/2"),
    ("test_padding", 1, size_cases.padding, "a padding alone adds to both ends of the axis"),
    ("test_stride_and_padding", 2, size_cases.stride_and_padding, "stride and padding together, with remainders"),
    ("test_edges", 1, size_cases.edges,
     "a kernel of 1, a single position, and a kernel larger than the input that fits thanks to padding"),
])
def _drawn(student, reference, rng, draw):
    _cases(student, reference, draw(rng))


def _floors_a_remainder(student) -> bool:
    """Does the student's conv_output_size round 6 / 4 down (to 1, so 2 positions)? ceil and round give 3."""
    try:
        return _equals(student.conv_output_size(8, 2, stride=4), 2)
    except Exception:  # noqa: BLE001 - it raised: it does not floor here
        return False


@check("conv_output_size", depends=["test_defaults", "test_stride", "test_padding"])
def test_keyword_arguments(student, reference, rng):
    """accepts size, kernel, stride and padding as keywords, in any order"""
    size, kernel, stride, padding = size_cases.keywords(rng)
    call = f"conv_output_size(padding={padding}, stride={stride}, kernel={kernel}, size={size})"
    got = student.conv_output_size(padding=padding, stride=stride, kernel=kernel, size=size)
    want = reference.conv_output_size(size, kernel, stride, padding)
    if not _is_int(got) or got != want:
        fail(f"{call} returned {got!r}; expected {want}")


@check("conv_output_size", depends=["test_defaults", "test_stride", "test_padding", "test_edges"])
def test_no_position_raises(student, reference, rng):
    """raises ValueError one step past each limit: a kernel one longer than the padded input (also when the stride would hide it), a kernel of 0, a stride of 0 or below, a padding of -1"""
    cases = size_cases.no_position(rng)

    def shown(case):
        size, kernel, stride, padding = case
        return f"conv_output_size({size}, {kernel}, stride={stride}" + (f", padding={padding})" if padding else ")")

    raises(ValueError, lambda: student.conv_output_size(*cases["no room"]), shown(cases["no room"]))
    # (size - kernel) / stride between -1 and 0: int() turns it into 0 and 1 position appears; the
    # floor gives -1, so none.
    try:
        raises(ValueError, lambda: student.conv_output_size(*cases["truncated"]), shown(cases["truncated"]))
    except CheckFailed as failure:
        # A ceil returns 1 there too: int() is named only for code that floors a positive remainder.
        if "returned 1;" not in failure.rationale or not _floors_a_remainder(student):
            raise
        fail(failure.rationale, known.int_truncation)
    for kind in ("kernel 0", "stride 0", "negative padding", "negative stride"):
        raises(ValueError, lambda: student.conv_output_size(*cases[kind]), shown(cases[kind]))
