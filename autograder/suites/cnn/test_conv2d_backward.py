"""Hidden checks of conv2d_backward: one check per group of cases.py, numerical gradients, and a few rules."""

from autograder.suite import CheckFailed, check, checks_over, expect_shape, fail, name_mistake, same, unchanged

from . import mistakes
from .calls import conv_backward, triple
from .cases import CONV, Conv
from .gradients import check_gradient, conv_numerical_gradients
from .mistakes import known


@checks_over("conv2d_backward", [
    # test name, weight, cases, title: one check per group of cases.py
    ("test_defaults", 2, CONV["defaults"], "dx, dw and db match the reference with stride and padding left out, or passed as 1 and 0"),
    ("test_stride", 1, CONV["stride"], "dx, dw and db match the reference with an int stride alone, where the division leaves a remainder"),
    ("test_stride_pair", 1, CONV["stride pair"], "dx, dw and db match the reference with a (height, width) stride pair alone"),
    ("test_padding", 1, CONV["padding"], "dx, dw and db match the reference with an int padding alone: gradient in the padding is dropped"),
    ("test_padding_pair", 1, CONV["padding pair"], "dx, dw and db match the reference with a (height, width) padding pair alone, one side possibly 0"),
    ("test_non_square_kernel", 1, CONV["kernel"], "dx, dw and db match the reference with a non-square kernel alone"),
    ("test_integer_inputs", 1, CONV["integer"], "returns float64 gradients with the right values for integer x, w and b"),
    ("test_parameters_together", 2, CONV["pairs"], "dx, dw and db match the reference with strides, paddings, kernel shapes and integer inputs combined"),
    ("test_edge_geometries", 2, CONV["edges"], "dx, dw and db match the reference for kernel sides of 1, a single output row, and kernels larger than x"),
])
def _group(student, reference, rng, cases):
    for case in cases:
        conv_backward(student, reference, rng, case)


@check("conv2d_backward", weight=2)
def test_gradients_match_numerical_gradients(student, reference, rng):
    """dx, dw and db agree with numerical gradients (relative error below 1e-7)"""
    for case in (Conv(1, 2, 6, 7, 3, 4, 5, stride=(2, 3), padding=(1, 0)), Conv(3, 1, 4, 7, 2, 5, 6, padding=2)):
        x, w, b = case.arrays(rng)
        stride, padding = case.effective()
        dout = rng.standard_normal(reference.conv2d_forward(x, w, b, stride, padding).shape)
        what = f"conv2d_backward(dout, x, w, b, {case.shown()}) with x of shape {x.shape} and w of shape {w.shape}"
        got = triple(student.conv2d_backward(dout, x, w, b, **case.kwargs()), what)
        numerical = conv_numerical_gradients(reference, dout, x, w, b, stride, padding)
        variants = mistakes.backward_mistakes(reference, dout, x, w, b, stride, padding)
        for index, (name, grad, param, expected) in enumerate(zip(("dx", "dw", "db"), got, (x, w, b), numerical)):
            expect_shape(grad, param.shape, f"{name} of {what}")
            try:
                check_gradient(grad, expected, f"{name} of {what}")
            except CheckFailed as failure:
                fail(failure.rationale, name_mistake(grad, {k: (lambda f=f, i=index: f()[i]) for k, f in variants.items()}))


@check("conv2d_backward")
def test_db_sums_over_batch_and_positions(student, reference, rng):
    """db[f] is the sum of dout[:, f] over the batch and every output position"""
    x, w, b = rng.standard_normal((3, 2, 7, 5)), rng.standard_normal((4, 2, 6, 1)), rng.standard_normal(4)
    dout = rng.standard_normal((3, 4, 2, 5))
    what = f"db of conv2d_backward(dout, x, w, b) with x of shape {x.shape} and w of shape {w.shape}"
    got = triple(student.conv2d_backward(dout, x, w, b), what)[2]
    same(got, dout.sum(axis=(0, 2, 3)), what, mistakes={
        known.batch_mean: lambda: dout.sum(axis=(0, 2, 3)) / 3,
        known.db_batch_only: lambda: dout.sum(axis=0),
    })


@check("conv2d_backward", depends=["test_defaults", "test_padding"])
def test_inputs_are_not_modified(student, reference, rng):
    """leaves dout, x, w and b unchanged"""
    x, w, b = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((4, 3, 1, 7)), rng.standard_normal(4)
    dout = rng.standard_normal(reference.conv2d_forward(x, w, b, 1, 2).shape)
    what = "conv2d_backward(dout, x, w, b, padding=2)"
    values = {"dout": dout, "x": x, "w": w, "b": b}
    for name, call in (
        ("dout", lambda k: student.conv2d_backward(k, x, w, b, padding=2)),
        ("x", lambda k: student.conv2d_backward(dout, k, w, b, padding=2)),
        ("w", lambda k: student.conv2d_backward(dout, x, k, b, padding=2)),
        ("b", lambda k: student.conv2d_backward(dout, x, w, k, padding=2)),
    ):
        result = triple(unchanged(student, values[name], call, what, name), what)
        for part, like, label in zip(result, (x, w, b), ("dx", "dw", "db")):
            expect_shape(part, like.shape, f"{label} of {what}")
