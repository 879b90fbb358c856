"""Hidden checks of conv2d_backward."""

import numpy as np

from autograder.suite import check, expect_shape, kind_of, numeric_array, same, unchanged

from . import mistakes
from .gradients import check_gradient, conv_numerical_gradients

# (x shape, w shape, stride, padding): non-square, unequal strides and paddings, remainders.
CONFIGS = [
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 1),
    ((1, 2, 7, 6), (3, 2, 3, 2), (2, 1), (1, 0)),
    ((2, 2, 8, 7), (2, 2, 2, 3), 3, (0, 2)),
]


def _setup(rng, x_shape, w_shape, stride, padding, reference):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    dout = rng.standard_normal(reference.conv2d_forward(x, w, b, stride, padding).shape)
    return dout, x, w, b


def _triple(result, what):
    # A list of three is accepted as the public checks accept it; only the contents are graded.
    if type(result) not in (tuple, list) or len(result) != 3:
        got = kind_of(result) + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise AssertionError(f"{what} returned {got}; expected a tuple (dx, dw, db)")
    return [numeric_array(part, f"{what}[{i}]") for i, part in enumerate(result)]


def _compare(student, reference, dout, x, w, b, stride, padding):
    what = f"conv2d_backward(dout, x {x.shape}, w {w.shape}, b, stride={stride!r}, padding={padding!r})"
    got = _triple(student.conv2d_backward(dout, x, w, b, stride=stride, padding=padding), what)
    want = reference.conv2d_backward(dout, x, w, b, stride, padding)
    args = (reference, dout, x, w, b, stride, padding)
    variants = {
        "flip the kernel": lambda: mistakes.flipped_backward(*args),
        "average over the batch instead of summing": lambda: mistakes.batch_mean_backward(*args),
    }
    for index, name in enumerate(("dx", "dw", "db")):
        same(got[index], want[index], f"{name} of {what}",
             mistakes={k: (lambda f=f, i=index: f()[i]) for k, f in variants.items()})
    return got


@check("conv2d_backward", weight=3)
def test_gradients_match_numerical_gradients(student, reference, rng):
    """dx, dw and db agree with numerical gradients (relative error below 1e-7)"""
    for x_shape, w_shape, stride, padding in CONFIGS:
        dout, x, w, b = _setup(rng, x_shape, w_shape, stride, padding, reference)
        what = f"conv2d_backward with x {x_shape}, w {w_shape}, stride={stride!r}, padding={padding!r}"
        dx, dw, db = _triple(student.conv2d_backward(dout, x, w, b, stride=stride, padding=padding), what)
        numerical = conv_numerical_gradients(reference, dout, x, w, b, stride, padding)
        for name, got, param, expected in zip(("dx", "dw", "db"), (dx, dw, db), (x, w, b), numerical):
            if got.shape != param.shape:
                raise AssertionError(f"{name} of {what} has shape {got.shape}; expected {param.shape}")
            check_gradient(got, expected, f"{name} of {what}")


@check("conv2d_backward", weight=2)
def test_values_with_strides_and_padding(student, reference, rng):
    """matches the reference with unequal strides and paddings, naming known mistakes"""
    for config in CONFIGS[1:]:
        _compare(student, reference, *_setup(rng, *config, reference), *config[2:])


@check("conv2d_backward")
def test_padding_gradient_is_dropped(student, reference, rng):
    """returns dx with x's shape: gradient that falls in the padding is dropped"""
    dout, x, w, b = _setup(rng, (1, 1, 4, 5), (1, 1, 3, 3), 1, 2, reference)
    _compare(student, reference, dout, x, w, b, 1, 2)


@check("conv2d_backward")
def test_db_sums_over_batch_and_positions(student, reference, rng):
    """db[f] is the sum of dout[:, f] over the batch and every output position"""
    dout, x, w, b = _setup(rng, (3, 2, 5, 5), (4, 2, 2, 2), 1, 0, reference)
    what = "db of conv2d_backward with a batch of 3"
    got = _triple(student.conv2d_backward(dout, x, w, b), "conv2d_backward(dout, x, w, b)")[2]
    same(got, dout.sum(axis=(0, 2, 3)), what, mistakes={
        "average over the batch instead of summing": lambda: dout.sum(axis=(0, 2, 3)) / 3,
        "sum over the batch only": lambda: dout.sum(axis=0),
    })


@check("conv2d_backward")
def test_inputs_are_not_modified(student, reference, rng):
    """leaves dout, x and w unchanged (credited only with gradients of the right shapes)"""
    dout, x, w, b = _setup(rng, (1, 2, 5, 4), (2, 2, 2, 2), 1, 1, reference)
    for name, call in (
        ("dout", lambda k: student.conv2d_backward(k, x, w, b, padding=1)),
        ("x", lambda k: student.conv2d_backward(dout, k, w, b, padding=1)),
        ("w", lambda k: student.conv2d_backward(dout, x, k, b, padding=1)),
    ):
        value = {"dout": dout, "x": x, "w": w}[name]
        result = _triple(unchanged(student, value, call, "conv2d_backward(dout, x, w, b, padding=1)", name), "conv2d_backward")
        for part, like, label in zip(result, (x, w, b), ("dx", "dw", "db")):
            expect_shape(part, like.shape, f"{label} of conv2d_backward")


@check("conv2d_backward")
def test_stride_and_padding_default_to_1_and_0(student, reference, rng):
    """conv2d_backward(dout, x, w, b) without stride or padding matches the forward pass's defaults"""
    dout, x, w, b = _setup(rng, (2, 2, 6, 5), (3, 2, 3, 2), 1, 0, reference)
    what = f"conv2d_backward(dout, x {x.shape}, w {w.shape}, b)"
    got = _triple(student.conv2d_backward(dout, x, w, b), what)
    for name, part, want in zip(("dx", "dw", "db"), got, reference.conv2d_backward(dout, x, w, b)):
        same(part, want, f"{name} of {what}")
