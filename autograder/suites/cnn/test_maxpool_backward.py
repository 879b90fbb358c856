"""Hidden checks of maxpool_backward."""

import numpy as np

from autograder.suite import CheckFailed, check, expect_shape, name_mistake, same

from . import pool_mistakes
from .gradients import batch_numerical_gradient, check_gradient


def _call(pool_size, stride):
    return f"maxpool_backward(dout, x, {pool_size!r}, stride={stride!r})"


def _dout(reference, rng, x, pool_size, stride):
    return rng.standard_normal(reference.maxpool_forward(x, pool_size, stride).shape)


def _compare(student, reference, rng, x, pool_size, stride, ties_first=False):
    """Student's dx against the reference's for a random dout, naming known mistakes."""
    dout = _dout(reference, rng, x, pool_size, stride)
    return same(
        student.maxpool_backward(dout, x, pool_size, stride=stride),
        reference.maxpool_backward(dout, x, pool_size, stride),
        f"{_call(pool_size, stride)} with x of shape {x.shape}",
        mistakes=pool_mistakes.backward_mistakes(dout, x, pool_size, stride, ties_first=ties_first),
    )


def _separated(rng, shape, gap=0.25):
    """Random values at least 0.15 apart, so no window has a tie, even after a nudge of 1e-5."""
    size = int(np.prod(shape))
    return rng.permutation(size).reshape(shape) * gap + rng.uniform(-0.05, 0.05, size=shape)


@check("maxpool_backward", weight=2)
def test_non_overlapping_windows(student, reference, rng):
    """matches the reference on random inputs when windows do not overlap"""
    _compare(student, reference, rng, rng.standard_normal((2, 3, 6, 8)), 2, None)
    _compare(student, reference, rng, rng.standard_normal((1, 2, 7, 9)), (2, 3), None)


@check("maxpool_backward", weight=2)
def test_overlapping_2x2_stride_1(student, reference, rng):
    """matches the reference on overlapping windows (2x2, stride 1)"""
    _compare(student, reference, rng, rng.standard_normal((2, 2, 6, 6)), 2, 1)


@check("maxpool_backward", weight=2)
def test_overlapping_3x3_stride_2(student, reference, rng):
    """matches the reference with 3x3 windows and stride 2 (neighbouring windows share a row or column)"""
    _compare(student, reference, rng, rng.standard_normal((1, 3, 9, 7)), 3, 2)


@check("maxpool_backward", weight=2)
def test_non_square_windows_and_strides(student, reference, rng):
    """matches the reference for non-square windows and different strides along H and W"""
    _compare(student, reference, rng, rng.standard_normal((2, 2, 7, 9)), (2, 3), (1, 2))
    _compare(student, reference, rng, rng.standard_normal((1, 2, 8, 6)), (3, 2), (2, 1))


@check("maxpool_backward", weight=2)
def test_numerical_gradient(student, reference, rng):
    """agrees with a numerical gradient of max pooling (central differences)"""
    for shape, pool_size, stride in (((1, 2, 6, 7), (2, 3), (1, 2)), ((2, 1, 7, 7), 3, 1)):
        x = _separated(rng, shape)
        dout = _dout(reference, rng, x, pool_size, stride)
        what = f"{_call(pool_size, stride)} with x of shape {shape}"
        dx = expect_shape(student.maxpool_backward(dout, x, pool_size, stride=stride), shape, what)
        # Each perturbed copy of x is a batch of its own: pooled in one call, reduced per copy.
        expected = batch_numerical_gradient(
            lambda xs: np.einsum("knchw,nchw->k", reference.maxpool_forward(
                xs.reshape(-1, *x.shape[1:]), pool_size, stride).reshape(len(xs), *dout.shape), dout), x)
        try:
            check_gradient(dx, expected, what)
        except AssertionError as failure:
            phrase = name_mistake(dx, pool_mistakes.backward_mistakes(dout, x, pool_size, stride))
            hint = f" It matches what you get if you {phrase}." if phrase else ""
            raise CheckFailed(f"{str(failure).rstrip('.')}.{hint}", phrase) from None


@check("maxpool_backward", weight=2)
def test_ties_go_to_the_first_maximum(student, reference, rng):
    """gives a window's whole gradient to its first maximum in row-major order when several cells tie"""
    flat = np.full((1, 2, 4, 5), 3.0)
    flat[0, 1] = -1.5
    _compare(student, reference, rng, flat, 2, 1, ties_first=True)
    _compare(student, reference, rng, np.full((2, 1, 4, 6), 7.0), (2, 3), None, ties_first=True)
    few_values = rng.integers(0, 3, size=(2, 2, 7, 7)).astype(np.float64)
    _compare(student, reference, rng, few_values, 3, 2, ties_first=True)


@check("maxpool_backward")
def test_sum_of_dx_equals_sum_of_dout(student, reference, rng):
    """passes on each window's gradient exactly once: sum(dx) equals sum(dout)"""
    x = rng.integers(0, 4, size=(2, 2, 7, 8)).astype(np.float64)
    pool_size, stride = 3, 1
    dout = _dout(reference, rng, x, pool_size, stride)
    what = f"{_call(pool_size, stride)} with x of shape {x.shape}"
    dx = expect_shape(student.maxpool_backward(dout, x, pool_size, stride=stride), x.shape, what)
    got, want = float(np.sum(dx)), float(np.sum(dout))
    if not np.isclose(got, want, rtol=1e-9, atol=1e-9):
        phrase = name_mistake(dx, pool_mistakes.backward_mistakes(dout, x, pool_size, stride, ties_first=True))
        hint = f" It matches what you get if you {phrase}." if phrase else ""
        raise CheckFailed(
            f"{what} returned a dx that sums to {got:.6g}, but dout sums to {want:.6g}; every window "
            f"should pass its gradient to exactly one cell.{hint}", phrase
        )


@check("maxpool_backward")
def test_dx_has_the_shape_of_x(student, reference, rng):
    """returns dx with the shape of x, also when windows leave the last rows and columns out"""
    for shape, pool_size, stride in (((1, 2, 7, 9), 2, None), ((2, 1, 8, 11), 3, 2)):
        x = rng.standard_normal(shape)
        dout = _dout(reference, rng, x, pool_size, stride)
        expect_shape(student.maxpool_backward(dout, x, pool_size, stride=stride), shape,
                     f"{_call(pool_size, stride)} with x of shape {shape}")


@check("maxpool_backward")
def test_integer_x(student, reference, rng):
    """returns float64 gradients with the right values for an integer x"""
    x = rng.permutation(2 * 6 * 6).reshape(1, 2, 6, 6)
    dout = rng.standard_normal(reference.maxpool_forward(x, 2, 1).shape)
    same(student.maxpool_backward(dout, x, 2, stride=1), reference.maxpool_backward(dout, x, 2, 1),
         f"{_call(2, 1)} with an integer x", dtype=np.float64,
         mistakes=pool_mistakes.backward_mistakes(dout, x, 2, 1))


@check("maxpool_backward")
def test_inputs_are_not_modified(student, reference, rng):
    """leaves dout and x unchanged"""
    x = rng.standard_normal((2, 2, 5, 6))
    dout = _dout(reference, rng, x, 2, 1)
    what = _call(2, 1)
    kept = {"dout": student.remote_copy(dout), "x": student.remote_copy(x)}
    dx = student.maxpool_backward(kept["dout"], kept["x"], 2, stride=1)
    for name, value in (("dout", dout), ("x", x)):
        after = student.read_back(kept[name])
        if type(after) is not np.ndarray or after.shape != value.shape or not np.array_equal(after, value):
            raise AssertionError(f"{what} modified {name} in place; work on a copy (or on new arrays) instead")
    expect_shape(dx, x.shape, what)


@check("maxpool_backward")
def test_defaults_are_2x2_windows_with_stride_2(student, reference, rng):
    """maxpool_backward(dout, x) uses pool_size 2 and stride equal to it"""
    x = rng.standard_normal((2, 2, 6, 5))
    dout = rng.standard_normal(reference.maxpool_forward(x).shape)
    dx = expect_shape(student.maxpool_backward(dout, x), x.shape, f"maxpool_backward(dout, x) with x of shape {x.shape}")
    same(dx, reference.maxpool_backward(dout, x), f"maxpool_backward(dout, x) with x of shape {x.shape}")
