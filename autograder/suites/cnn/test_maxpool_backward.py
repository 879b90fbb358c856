"""Hidden checks of maxpool_backward: one check per group of cases.py, ties, numerical gradients, and a few rules."""

import numpy as np

from autograder.suite import CheckFailed, check, checks_over, expect_shape, fail, name_mistake

from . import pool_mistakes
from .calls import pool_backward
from .cases import POOL, Pool, distinct_floats
from .gradients import batch_numerical_gradient, check_gradient


@checks_over("maxpool_backward", [
    # test name, weight, cases, title: one check per group of cases.py
    ("test_defaults", 2, POOL["defaults"], "matches the reference with pool_size and stride left out, or passed as 2 and None"),
    ("test_window", 1, POOL["window"], "matches the reference with an int window other than 2 alone (stride left to default)"),
    ("test_non_square_window", 1, POOL["window shape"], "matches the reference with a non-square window alone (stride left to default)"),
    ("test_stride", 1, POOL["stride"], "matches the reference with an int stride alone, with and without overlap"),
    ("test_stride_pair", 1, POOL["stride pair"], "matches the reference with a (height, width) stride pair alone"),
    ("test_integer_input", 1, POOL["integer"], "returns a float64 dx with the right values for an integer x"),
    ("test_parameters_together", 1, POOL["pairs"], "matches the reference with windows, strides and integer inputs combined"),
    ("test_edge_geometries", 1, POOL["edges"], "matches the reference with window sides of 1, a single output row, strides and windows longer than x"),
])
def _group(student, reference, rng, cases):
    for case in cases:
        pool_backward(student, reference, rng, case)


@check("maxpool_backward", weight=2)
def test_ties_go_to_the_first_maximum(student, reference, rng):
    """gives a window's whole gradient to its first maximum in row-major order when several cells tie"""
    # Mixed ties first: on all-equal windows several wrong versions agree (every cell is every
    # window's maximum), so a failure there could not name which one the code is.
    for case, x in (
        (Pool(2, 4, 9, 7, pool_size=3, stride=2), rng.integers(0, 3, (2, 4, 9, 7)).astype(np.float64)),
        (Pool(3, 4, 5, 6, stride=1), np.full((3, 4, 5, 6), 3.0)),                       # all equal, overlapping
        (Pool(4, 1, 6, 13, pool_size=(2, 3)), np.full((4, 1, 6, 13), -7.0)),               # all equal, tiling
    ):
        pool_backward(student, reference, rng, case, x=x, ties_first=True)


@check("maxpool_backward", weight=2)
def test_numerical_gradient(student, reference, rng):
    """agrees with a numerical gradient of max pooling (central differences)"""
    # Columns: windows 4 wide every 3, so windows moved by 1 instead (the stride ignored) meet cells the
    # right ones never do, whatever is drawn (with a stride of 2 they shared most cells, and on some draws
    # every maximum: the check passed that mistake now and then).
    for case in (Pool(1, 2, 6, 10, pool_size=(3, 4), stride=(1, 3)), Pool(2, 1, 7, 5, pool_size=3, stride=1)):
        x = distinct_floats(rng, (case.N, case.C, case.H, case.W))
        pool_size, stride = case.effective()
        dout = rng.standard_normal(reference.maxpool_forward(x, pool_size, stride).shape)
        what = f"maxpool_backward(dout, x, {case.shown()}) with x of shape {x.shape}"
        dx = expect_shape(student.maxpool_backward(dout, x, *case.args(), **case.kwargs()), x.shape, what)
        # Each perturbed copy of x is a batch of its own: pooled in one call, reduced per copy.
        expected = batch_numerical_gradient(
            lambda xs: np.einsum("knchw,nchw->k", reference.maxpool_forward(
                xs.reshape(-1, *x.shape[1:]), pool_size, stride).reshape(len(xs), *dout.shape), dout), x)
        try:
            check_gradient(dx, expected, what)
        except CheckFailed as failure:
            fail(failure.rationale, name_mistake(dx, pool_mistakes.backward_mistakes(dout, x, pool_size, stride)))


# A property a trivial dx satisfies (dx.flat[0] = dout.sum()): it earns its points only
# together with the checks of dx's values.
@check("maxpool_backward", depends=["test_defaults", "test_stride"])
def test_sum_of_dx_equals_sum_of_dout(student, reference, rng):
    """passes on each window's gradient exactly once, ties and overlaps included: sum(dx) equals sum(dout)"""
    x = rng.integers(0, 4, size=(2, 3, 7, 8)).astype(np.float64)
    pool_size, stride = 4, 1
    dout = rng.standard_normal(reference.maxpool_forward(x, pool_size, stride).shape)
    what = f"maxpool_backward(dout, x, {pool_size}, stride={stride}) with x of shape {x.shape}"
    dx = expect_shape(student.maxpool_backward(dout, x, pool_size, stride=stride), x.shape, what)
    got, want = float(np.sum(dx)), float(np.sum(dout))
    if not np.isclose(got, want, rtol=1e-9, atol=1e-9):
        fail(f"{what} returned a dx that sums to {got:.6g}, but dout sums to {want:.6g}; every window "
             f"should pass its gradient to exactly one cell",
             name_mistake(dx, pool_mistakes.backward_mistakes(dout, x, pool_size, stride, ties_first=True)))


@check("maxpool_backward", depends=["test_defaults", "test_stride"])
def test_inputs_are_not_modified(student, reference, rng):
    """leaves dout and x unchanged"""
    x = rng.standard_normal((3, 4, 5, 7))
    dout = rng.standard_normal(reference.maxpool_forward(x, 2, 1).shape)
    what = "maxpool_backward(dout, x, 2, stride=1)"
    kept = {"dout": student.remote_copy(dout), "x": student.remote_copy(x)}
    dx = student.maxpool_backward(kept["dout"], kept["x"], 2, stride=1)
    for name, value in (("dout", dout), ("x", x)):
        after = student.read_back(kept[name])
        if type(after) is not np.ndarray or after.shape != value.shape or not np.array_equal(after, value):
            fail(f"{what} modified {name} in place; work on a copy (or on new arrays) instead")
    expect_shape(dx, x.shape, what)
