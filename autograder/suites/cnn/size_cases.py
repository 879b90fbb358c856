"""conv_output_size's hidden cases, drawn from families with the submission's rng.

The feedback shows a failing case's arguments and the value expected, as it should.
With fixed cases, a student could hard-code each case revealed and resubmit until
every check passed with the bug still in place (issue 22). So each check draws its
cases afresh from the seed, which changes with the submitted code: a case is a
family ("a stride whose division leaves more than half", "a kernel larger than the
input that padding rescues") with its numbers drawn.

A draw must not change a verdict: a check fails a known wrong rounding on every draw
or on none. Each check therefore names the wrong versions it tells apart from the
floor (TELLS), and a draw that tells apart another set is drawn again; so is one
whose paddings are less varied than the fixed cases' were (bench/seeds.py measures
the verdicts of the bundled submissions and the mutants over many seeds). A case is
(size, kernel, stride, padding), OMIT where the argument is left out of the call.
"""

from __future__ import annotations

from . import mistakes
from .cases import OMIT

# The wrong versions of the formula a check may tell apart from the floor, by name.
WRONG = {
    "lesson": mistakes.lesson_output_size,
    "ceil": mistakes.ceil_output_size,
    "round half to even": mistakes.round_output_size,
    "round half up": mistakes.round_half_up_output_size,
    "one side padding": mistakes.one_side_padding,
    "int() truncation": mistakes.int_output_size,
}
ROUNDINGS = {"lesson", "ceil", "round half to even", "round half up"}  # with the lesson's float result
TELLS = {
    "defaults": {"lesson"},  # stride 1: only the lesson's float result differs
    "stride": ROUNDINGS,
    "padding": {"lesson", "one side padding"},
    "stride and padding": ROUNDINGS | {"one side padding"},
    # Below one output position the quotient is under 1: half of it rounds to the even 0.
    "edges": {"lesson", "ceil", "round half up", "one side padding"},
    "keywords": ROUNDINGS,
}
ATTEMPTS = 1000


def _int(rng, low: int, high: int) -> int:
    """An int from low to high, both included."""
    return int(rng.integers(low, high + 1))


def _pick(rng, values):
    return values[_int(rng, 0, len(values) - 1)]


def effective(case):
    size, kernel, stride, padding = case
    return size, kernel, 1 if stride is OMIT else stride, 0 if padding is OMIT else padding


def floor_size(case) -> int:
    size, kernel, stride, padding = effective(case)
    return (size + 2 * padding - kernel) // stride + 1


def told_apart(cases) -> set[str]:
    """The wrong versions some case gives another value (or type) than the floor for."""
    told = set()
    for case in cases:
        want = floor_size(case)
        for name, wrong in WRONG.items():
            got = wrong(*effective(case))
            if got != want or type(got) is not int:
                told.add(name)
    return told


def _varied(cases) -> bool:
    """Paddings above 0 take every value from 1 to 3 where three cases or more have one: a bug that
    is right for one padding only (2 / p for 2 * p is right at p = 1) then fails every draw too."""
    paddings = [p for _, _, _, p in map(effective, cases) if p > 0]
    return len(paddings) < 3 or set(paddings) == {1, 2, 3}


def _draw(rng, families, tells: set[str]) -> list[tuple]:
    for _ in range(ATTEMPTS):
        cases = [family(rng) for family in families]
        if len({effective(c) for c in cases}) == len(cases) and told_apart(cases) == tells and _varied(cases):
            return cases
    raise RuntimeError(f"no draw of {len(families)} cases told apart exactly {sorted(tells)} "
                       f"in {ATTEMPTS} attempts: the families cannot, fix them")


def _with_span(rng, stride: int, remainder: int, quotients, kernels=(2, 7)):
    """size and kernel where (size - kernel) = q * stride + remainder, q drawn from `quotients`."""
    kernel = _int(rng, *kernels)
    return kernel + _pick(rng, quotients) * stride + remainder, kernel


# -- the checks' draws ------------------------------------------------------------
def defaults(rng) -> list[tuple]:
    """stride and padding left out, or passed as 1 and 0."""
    def family(stride, padding):
        def draw(rng):
            size = _int(rng, 6, 40)
            return size, _int(rng, 2, min(size - 1, 12)), stride, padding
        return draw
    return _draw(rng, [family(OMIT, OMIT), family(OMIT, OMIT), family(1, 0), family(1, OMIT), family(OMIT, 0)],
                 TELLS["defaults"])


def stride(rng) -> list[tuple]:
    """A stride alone, each division leaving a remainder: over a half, a half after an odd quotient
    (half to even goes up), under a half, a half after an even quotient, any."""
    def over_half(rng):
        s = _int(rng, 3, 5)
        return (*_with_span(rng, s, _int(rng, s // 2 + 1, s - 1), range(1, 6)), s, OMIT)

    def half(odd):
        def draw(rng):
            s = _pick(rng, (2, 4, 6))
            return (*_with_span(rng, s, s // 2, (1, 3, 5) if odd else (2, 4)), s, OMIT)
        return draw

    def under_half(rng):
        s = _int(rng, 3, 5)
        return (*_with_span(rng, s, _int(rng, 1, (s - 1) // 2), range(1, 6)), s, OMIT)

    def any_remainder(rng):
        s = _int(rng, 2, 5)
        return (*_with_span(rng, s, _int(rng, 1, s - 1), range(1, 6)), s, OMIT)

    return _draw(rng, [over_half, half(odd=True), under_half, half(odd=False), any_remainder], TELLS["stride"])


def padding(rng) -> list[tuple]:
    """A padding alone (stride left out or 1), the kernel no longer than the input."""
    def family(stride):
        def draw(rng):
            size = _int(rng, 4, 32)
            return size, _int(rng, 2, min(size, 9)), stride, _int(rng, 1, 3)
        return draw
    return _draw(rng, [family(OMIT), family(1), family(OMIT)], TELLS["padding"])


def _padded(rng, strides, remainder, quotients=range(1, 6)):
    """A case with stride and padding (different values), the kernel shorter than the input."""
    for _ in range(ATTEMPTS):
        s, p = _pick(rng, strides), _int(rng, 1, 3)
        r = remainder(rng, s)
        size, kernel = _with_span(rng, s, r, quotients, kernels=(2, 6))
        size -= 2 * p
        if s != p and size > kernel:
            return size, kernel, s, p
    raise RuntimeError("no padded case fits: fix the family")


def stride_and_padding(rng) -> list[tuple]:
    """Stride and padding together: no remainder, over a half, under a half, a half after an odd
    quotient, any."""
    return _draw(rng, [
        lambda rng: _padded(rng, (2, 3, 4), lambda rng, s: 0),
        lambda rng: _padded(rng, (3, 4), lambda rng, s: _int(rng, s // 2 + 1, s - 1)),
        lambda rng: _padded(rng, (3, 4), lambda rng, s: 1),
        lambda rng: _padded(rng, (2, 4), lambda rng, s: s // 2, quotients=(1, 3, 5)),
        lambda rng: _padded(rng, (2, 3, 4), lambda rng, s: _int(rng, 0, s - 1)),
    ], TELLS["stride and padding"])


def edges(rng) -> list[tuple]:
    """A kernel of 1 (alone, and with a stride), one output position (exact, and with half a stride
    left over), a kernel larger than the input that padding rescues (exactly, and with half a
    stride left over), and a stride longer than the input (one position, not an error)."""
    def kernel_one(rng):
        return _int(rng, 2, 12), 1, OMIT, OMIT

    def kernel_one_strided(rng):
        s = _int(rng, 2, 5)
        return 1 + _int(rng, 1, 4) * s + _int(rng, 0, (s - 1) // 2), 1, s, OMIT

    def one_position(rng):
        size = _int(rng, 3, 9)
        return size, size, _int(rng, 2, 6), OMIT

    def one_position_and_a_half(rng):
        s, kernel = _pick(rng, (2, 4, 6)), _int(rng, 2, 6)
        return kernel + s // 2, kernel, s, OMIT

    def rescued(rng):
        size, p = _int(rng, 1, 5), _int(rng, 1, 3)
        return size, size + 2 * p, 1, p

    def rescued_and_a_half(rng):
        s = _pick(rng, (2, 4))
        p = _int(rng, 2 if s == 4 else 1, 3)  # 2p over half the stride: the kernel is longer than the input
        size = _int(rng, 2, 6)
        return size, size + 2 * p - s // 2, s, p

    def stride_longer(rng):
        # Longer than the whole input: a check that refuses such a stride raises where one position
        # fits. A draw that leaves over half a stride (which round half to even tells apart, unlike
        # this check's other cases) is drawn again.
        size = _int(rng, 2, 7)
        kernel = _int(rng, 1, size)
        return size, kernel, size + _int(rng, 1, 4), OMIT

    return _draw(rng, [kernel_one, kernel_one_strided, one_position, one_position_and_a_half, rescued,
                       rescued_and_a_half, stride_longer], TELLS["edges"])


def keywords(rng) -> tuple:
    """One case with stride and padding, for a call with keywords in another order."""
    return _draw(rng, [lambda rng: _padded(rng, (3, 4), lambda rng, s: _int(rng, s // 2 + 1, s - 1))],
                 TELLS["keywords"])[0]


def no_position(rng) -> dict[str, tuple]:
    """Cases where the reference raises ValueError, each drawn so that no wrong version raises by luck,
    and each at its boundary, one step past the last valid value: a kernel one longer than the padded
    input; a span above minus one stride (int() turns it into 0 positions + 1, the floor into none); a
    kernel of 0, a stride of 0 and a padding of -1 where everything else fits; and a negative stride.
    A check made one step too late (kernel < 0, padding < -1, the padding left out of the fit) passes
    every case but its boundary's, so each boundary is met on every draw."""
    size, p = _int(rng, 2, 8), _int(rng, 1, 2)
    no_room = (size, size + 2 * p + 1, 1, p)
    s = _int(rng, 2, 4)
    size = _int(rng, 2, 8)
    truncated = (size, size + _int(rng, 1, s - 1), s, 0)
    kernel = _int(rng, 2, 5)
    negative_padding = (kernel + 2 + _int(rng, 0, 4), kernel, _int(rng, 2, 4), -1)
    kernel = _int(rng, 2, 5)
    negative_stride = (kernel + _int(rng, 1, 6), kernel, -_int(rng, 1, 3), 0)
    kernel_zero = (_int(rng, 2, 9), 0, _int(rng, 1, 3), _int(rng, 0, 2))
    kernel = _int(rng, 2, 5)
    stride_zero = (kernel + _int(rng, 0, 6), kernel, 0, _int(rng, 0, 2))
    return {"no room": no_room, "truncated": truncated, "negative padding": negative_padding,
            "negative stride": negative_stride, "kernel 0": kernel_zero, "stride 0": stride_zero}
