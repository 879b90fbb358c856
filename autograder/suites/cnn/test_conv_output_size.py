"""Hidden checks of conv_output_size."""

import numpy as np

from autograder.suite import check, raises

from . import mistakes

# (size, kernel, stride, padding): the last five leave a remainder when divided.
CASES = [(28, 5, 1, 0), (32, 3, 1, 1), (10, 4, 3, 0), (11, 3, 2, 1), (9, 2, 4, 2), (13, 5, 3, 1), (7, 7, 5, 0)]


def _is_int(value):
    return type(value) is int or isinstance(value, np.integer)


def _equals(got, value):
    """got is a number equal to value (not an array, None or an object, whose == could be anything)."""
    return isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool) and got == value


VARIANTS = (
    ("apply the lesson's printed formula, which floors only the numerator", mistakes.lesson_output_size),
    ("round up instead of down", mistakes.ceil_output_size),
    ("add the padding to one side only", mistakes.one_side_padding),
)


def _diagnose(results):
    """Name a known mistake only if it explains the answer to every case, not one by chance."""
    for phrase, wrong in VARIANTS:
        if all(_equals(got, wrong(*case)) for case, got in results):
            return f" It matches what you get if you {phrase}."
    return ""


@check("conv_output_size", weight=3)
def test_sizes_including_remainders(student, reference, rng):
    """gives floor((size + 2*padding - kernel) / stride) + 1, also when the division leaves a remainder"""
    results = [(case, student.conv_output_size(*case)) for case in CASES]
    for (size, kernel, stride, padding), got in results:
        want = reference.conv_output_size(size, kernel, stride, padding)
        call = f"conv_output_size({size}, {kernel}, stride={stride}, padding={padding})"
        if not _equals(got, want):
            raise AssertionError(f"{call} returned {got!r}; expected {want}." + _diagnose(results))
    for (size, kernel, stride, padding), got in results:
        if not _is_int(got):
            raise AssertionError(
                f"conv_output_size({size}, {kernel}, stride={stride}, padding={padding}) returned {got!r} "
                f"({type(got).__name__}); the value is right, but it must be an int (floor division // keeps "
                "integers whole)"
            )


@check("conv_output_size")
def test_keyword_arguments(student, reference, rng):
    """accepts stride and padding as keywords and defaults them to 1 and 0"""
    size, kernel = int(rng.integers(8, 20)), int(rng.integers(2, 5))
    got = student.conv_output_size(size, kernel)
    if not _is_int(got) or got != size - kernel + 1:
        raise AssertionError(f"conv_output_size({size}, {kernel}) returned {got!r}; expected {size - kernel + 1}")
    got = student.conv_output_size(size=size, kernel=kernel, padding=2, stride=3)
    want = reference.conv_output_size(size, kernel, 3, 2)
    if not _is_int(got) or got != want:
        raise AssertionError(f"conv_output_size(size={size}, kernel={kernel}, padding=2, stride=3) returned {got!r}; expected {want}")


@check("conv_output_size")
def test_padding_can_make_a_kernel_fit(student, reference, rng):
    """counts positions in the padded input, so a kernel wider than the input can fit"""
    got = student.conv_output_size(2, 4, 1, 1)
    if not _is_int(got) or got != 1:
        raise AssertionError(f"conv_output_size(2, 4, stride=1, padding=1) returned {got!r}; expected 1 (padded size 4)")


@check("conv_output_size")
def test_no_position_raises(student, reference, rng):
    """raises ValueError when even padding leaves no room (also when the stride would hide it), and for a negative padding"""
    raises(ValueError, lambda: student.conv_output_size(3, 6, 1, 1), "conv_output_size(3, 6, stride=1, padding=1)")
    # (3 - 4) / 2 = -0.5: int() rounds it to 0 and 1 position appears; the floor gives -1, so none.
    raises(ValueError, lambda: student.conv_output_size(3, 4, 2, 0), "conv_output_size(3, 4, stride=2)")
    raises(ValueError, lambda: student.conv_output_size(8, 3, 2, -2), "conv_output_size(8, 3, stride=2, padding=-2)")
    raises(ValueError, lambda: student.conv_output_size(8, 3, -1, 0), "conv_output_size(8, 3, stride=-1)")
