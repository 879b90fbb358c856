"""Public checks for conv_output_size."""

import numpy as np


def _check_size(conv_output_size, args, kwargs, expected):
    out = conv_output_size(*args, **kwargs)
    call = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    assert isinstance(out, (int, np.integer)) and not isinstance(out, bool), (
        f"conv_output_size({call}) returned {out!r} of type {type(out).__name__}; "
        "expected an int (floor division // keeps integers whole)"
    )
    assert out == expected, f"conv_output_size({call}) returned {out}; expected {expected}"


def test_stride_one_no_padding(conv_output_size):
    """Without padding and stride 1, a kernel of k fits size - k + 1 times."""
    _check_size(conv_output_size, (5, 3), {}, 3)
    _check_size(conv_output_size, (4, 4), {}, 1)
    _check_size(conv_output_size, (28, 1), {}, 28)


def test_padding_and_stride(conv_output_size):
    """Padding adds to both ends of the axis, and the stride divides the distance travelled."""
    _check_size(conv_output_size, (5, 2), {"stride": 1, "padding": 1}, 6)
    _check_size(conv_output_size, (7, 3), {"stride": 2}, 3)
    _check_size(conv_output_size, (5, 3), {"stride": 2, "padding": 1}, 3)
    _check_size(conv_output_size, (28, 5), {"stride": 1, "padding": 2}, 28)


def test_partial_positions_are_dropped(conv_output_size):
    """A position where the kernel would hang over the edge is not counted (the division is floored)."""
    _check_size(conv_output_size, (6, 3), {"stride": 2}, 2)
    _check_size(conv_output_size, (10, 4), {"stride": 3}, 3)


def test_impossible_settings_raise(conv_output_size):
    """Settings that give no valid position raise ValueError instead of returning a number."""
    bad = [
        ((5, 0), {}, "kernel 0"),
        ((5, 3), {"stride": 0}, "stride 0"),
        ((5, 3), {"padding": -1}, "padding -1"),
        ((3, 5), {}, "a kernel of 5 on an input of 3 with no padding"),
    ]
    for args, kwargs, why in bad:
        # Not pytest.raises: its "did not raise" signal is not an Exception, so grader.check
        # in the notebook would crash on it instead of reporting a failed check.
        try:
            out = conv_output_size(*args, **kwargs)
        except ValueError:
            continue
        raise AssertionError(
            f"conv_output_size returned {out!r} for {why}; expected it to raise ValueError"
        )
