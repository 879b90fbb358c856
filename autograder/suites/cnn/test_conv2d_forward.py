"""Hidden checks of conv2d_forward."""

import numpy as np

from autograder.suite import check, expect_shape, same, unchanged

from . import mistakes


def _inputs(rng, x_shape, w_shape):
    return rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])


def _compare(student, reference, x, w, b, stride=1, padding=0, dtype=None):
    call = f"conv2d_forward(x {x.shape}, w {w.shape}, b, stride={stride!r}, padding={padding!r})"
    out = student.conv2d_forward(x, w, b, stride=stride, padding=padding)
    args = (reference, x, w, b, stride, padding)
    return same(out, reference.conv2d_forward(x, w, b, stride, padding), call, dtype=dtype, mistakes={
        "flip the kernel (deep-learning convolution slides w as it is)": lambda: mistakes.flipped_kernel(*args),
        "leave out the bias": lambda: mistakes.no_bias(*args),
        "read the stride pair as (width, height)": lambda: mistakes.swapped_strides(*args),
        "read the padding pair as (width, height)": lambda: mistakes.swapped_padding(*args),
        "ignore the stride": lambda: mistakes.stride_ignored(*args),
    })


@check("conv2d_forward", weight=3)
def test_values_on_random_inputs(student, reference, rng):
    """matches the reference on random float64 inputs with several channels and filters"""
    _compare(student, reference, *_inputs(rng, (2, 3, 7, 7), (4, 3, 3, 3)))


@check("conv2d_forward", weight=2)
def test_non_square_inputs_and_kernels(student, reference, rng):
    """handles non-square inputs and kernels"""
    _compare(student, reference, *_inputs(rng, (2, 2, 6, 9), (3, 2, 2, 4)))
    _compare(student, reference, *_inputs(rng, (1, 3, 8, 5), (2, 3, 3, 1)), padding=1)


@check("conv2d_forward", weight=2)
def test_unequal_strides_and_paddings(student, reference, rng):
    """uses stride and padding pairs as (height, width)"""
    x, w, b = _inputs(rng, (2, 2, 9, 8), (3, 2, 3, 2))
    _compare(student, reference, x, w, b, stride=(2, 1), padding=(0, 2))
    _compare(student, reference, x, w, b, stride=(1, 3), padding=(2, 1))


@check("conv2d_forward", weight=2)
def test_sizes_that_leave_a_remainder(student, reference, rng):
    """drops the positions where the kernel would hang over the edge when the stride does not divide evenly"""
    x, w, b = _inputs(rng, (1, 2, 10, 11), (2, 2, 3, 3))
    _compare(student, reference, x, w, b, stride=3, padding=1)
    _compare(student, reference, x, w, b, stride=(2, 4), padding=0)


@check("conv2d_forward")
def test_integer_inputs_give_float64(student, reference, rng):
    """returns float64 for integer inputs"""
    x = rng.integers(-5, 6, (2, 2, 5, 5))
    w = rng.integers(-2, 3, (3, 2, 2, 2))
    b = rng.integers(-3, 4, 3)
    _compare(student, reference, x, w, b, stride=1, padding=1, dtype=np.float64)


@check("conv2d_forward")
def test_bias_is_added_per_filter(student, reference, rng):
    """adds b[f] to every output cell of filter f"""
    x = rng.standard_normal((1, 2, 4, 4))
    w = np.zeros((3, 2, 2, 2))
    b = np.array([1.5, -2.0, 7.25])
    _compare(student, reference, x, w, b)


@check("conv2d_forward")
def test_kernel_is_not_flipped(student, reference, rng):
    """slides the kernel as it is (cross-correlation), on an asymmetric kernel"""
    x = rng.standard_normal((1, 1, 5, 6))
    w = np.arange(6.0).reshape(1, 1, 2, 3)
    _compare(student, reference, x, w, np.zeros(1), stride=(1, 2))


@check("conv2d_forward")
def test_inputs_are_not_modified(student, reference, rng):
    """leaves x, w and b unchanged (credited only with an output of the right shape)"""
    x, w, b = _inputs(rng, (1, 2, 5, 5), (2, 2, 3, 3))
    shape = reference.conv2d_forward(x, w, b, 1, 1).shape
    for name, call in (
        ("x", lambda k: student.conv2d_forward(k, w, b, padding=1)),
        ("w", lambda k: student.conv2d_forward(x, k, b, padding=1)),
        ("b", lambda k: student.conv2d_forward(x, w, k, padding=1)),
    ):
        value = {"x": x, "w": w, "b": b}[name]
        out = unchanged(student, value, call, "conv2d_forward(x, w, b, padding=1)", name)
        expect_shape(out, shape, "conv2d_forward(x, w, b, padding=1)")


@check("conv2d_forward")
def test_stride_and_padding_default_to_1_and_0(student, reference, rng):
    """conv2d_forward(x, w, b) without stride or padding slides by 1 over the unpadded input"""
    x, w, b = _inputs(rng, (2, 2, 6, 5), (3, 2, 3, 2))
    same(student.conv2d_forward(x, w, b), reference.conv2d_forward(x, w, b),
         f"conv2d_forward(x {x.shape}, w {w.shape}, b)",
         mistakes={"default the padding to 1": lambda: reference.conv2d_forward(x, w, b, 1, 1)})
