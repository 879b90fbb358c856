"""Hidden checks of the Conv2d layer: forward and backward on every group of cases.py, and its parameters."""

import numpy as np

from autograder.suite import check, checks_over, expect_shape, fail, kind_of, numeric_array, same

from .calls import conv_backward, conv_forward, conv_layer, parameter
from .cases import CONV, Conv
from .mistakes import known

# Enough combinations for every parameter to meet another one; the functions get them all.
LAYER_PAIRS = [CONV["pairs"][i] for i in (1, 4, 6)]

# A large layer for the statistics of the initial weights: 40 * 96 * 3 * 3 = 34560 weights.
# in_channels != out_channels, so fan-in and fan-out give different scales.
_C, _F, _K = 40, 96, 3
_FAN_IN, _FAN_OUT = _C * _K * _K, _F * _K * _K


def _data(layer, name, made, shape):
    return expect_shape(parameter(layer, name, made).data, shape, f"{made}.{name}.data")


def _std_mistake(got, scales):
    for mistake, wrong in scales.items():
        if abs(got - wrong) <= 0.03 * wrong:
            return mistake
    return None


# One forward and one backward check per group of cases.py: test name's end, weight, cases, what they vary.
GROUPS = [
    ("defaults", 2, CONV["defaults"], "with stride and padding left out, or passed as 1 and 0"),
    ("stride", 1, CONV["stride"], "with an int stride alone, where the division leaves a remainder"),
    ("stride_pair", 1, CONV["stride pair"], "with a (height, width) stride pair alone"),
    ("padding", 1, CONV["padding"], "with an int padding alone"),
    ("padding_pair", 1, CONV["padding pair"], "with a (height, width) padding pair alone, one side possibly 0"),
    ("non_square_kernel", 1, CONV["kernel"], "with a non-square kernel alone"),
    ("integer_inputs", 1, CONV["integer"], "with an integer x (float64 results)"),
    ("parameters_together", 1, LAYER_PAIRS, "with strides, paddings, kernel shapes and integer inputs combined"),
    ("edge_geometries", 1, CONV["edges"], "with kernel sides of 1, a single output row, and kernels larger than x"),
]


@checks_over("Conv2d", [(f"test_forward_{name}", weight, cases, f"forward matches conv2d_forward {what}")
                        for name, weight, cases, what in GROUPS])
def _forward(student, reference, rng, cases):
    for case in cases:
        conv_forward(student, reference, rng, case, layer=True)


@checks_over("Conv2d", [(f"test_backward_{name}", weight, cases,
                         f"backward returns dx and fills W.grad and b.grad as conv2d_backward does, {what}")
                        for name, weight, cases, what in GROUPS])
def _backward(student, reference, rng, cases):
    for case in cases:
        conv_backward(student, reference, rng, case, layer=True)


@check("Conv2d", depends=["test_forward_defaults"])
def test_parameter_shapes_and_zero_starts(student, reference, rng):
    """W has shape (F, C, KH, KW), b is zeros of shape (F,), and both gradients start at zeros"""
    for args, (C, F, kh, kw) in (((2, 5, 4), (2, 5, 4, 4)), ((3, 2, (1, 6)), (3, 2, 1, 6)), ((4, 6, (5, 3)), (4, 6, 5, 3))):
        made = "Conv2d(" + ", ".join(map(repr, args)) + ")"
        layer = student.Conv2d(*args)
        _data(layer, "W", made, (F, C, kh, kw))
        b = _data(layer, "b", made, (F,))
        if not np.all(b == 0):
            fail(f"{made}.b.data should start at zeros; it holds values up to {np.abs(b).max():.3g}")
        for name, shape in (("W", (F, C, kh, kw)), ("b", (F,))):
            same(parameter(layer, name, made).grad, np.zeros(shape), f"{made}.{name}.grad before any backward")


@check("Conv2d", weight=2)
def test_he_initialisation_scale(student, reference, rng):
    """W's standard deviation is sqrt(2 / (in_channels * KH * KW)) (He initialisation)"""
    made = f"Conv2d({_C}, {_F}, {_K})"
    w = _data(student.Conv2d(_C, _F, _K), "W", made, (_F, _C, _K, _K))
    want, got = np.sqrt(2 / _FAN_IN), float(np.std(w))
    if abs(got - want) > 0.03 * want:
        fail(f"{made}.W.data has standard deviation {got:.4g}; expected sqrt(2 / ({_C} * {_K} * {_K})) = {want:.4g}",
             _std_mistake(got, {
                 known.he_fan_out: np.sqrt(2 / _FAN_OUT), known.he_lecun: np.sqrt(1 / _FAN_IN),
                 known.he_xavier: np.sqrt(2 / (_FAN_IN + _FAN_OUT)), known.he_std_as_variance: 2 / _FAN_IN,
                 known.he_unscaled: 1.0, known.he_no_kernel: np.sqrt(2 / _C)}))


@check("Conv2d")
def test_he_initialisation_with_a_non_square_kernel(student, reference, rng):
    """For a (3, 1) kernel, fan-in is in_channels * 3 * 1: both kernel sides count"""
    C, F, kernel = 128, 64, (3, 1)
    made = f"Conv2d({C}, {F}, {kernel!r})"
    w = _data(student.Conv2d(C, F, kernel), "W", made, (F, C, *kernel))
    want, got = np.sqrt(2 / (C * 3 * 1)), float(np.std(w))
    if abs(got - want) > 0.03 * want:
        fail(f"{made}.W.data has standard deviation {got:.4g}; expected sqrt(2 / ({C} * 3 * 1)) = {want:.4g}",
             _std_mistake(got, {known.he_kernel_height_twice: np.sqrt(2 / (C * 3 * 3)),
                                known.he_kernel_width_twice: np.sqrt(2 / (C * 1 * 1))}))


@check("Conv2d")
def test_he_initialisation_is_normal_around_zero(student, reference, rng):
    """W is drawn from a normal distribution with mean 0"""
    made = f"Conv2d({_C}, {_F}, {_K})"
    w = _data(student.Conv2d(_C, _F, _K), "W", made, (_F, _C, _K, _K))
    std, mean = float(np.std(w)), float(np.mean(w))
    if not std > 0:
        fail(f"{made}.W.data holds the same value everywhere; draw it at random")
    if abs(mean) > 0.05 * std:
        fail(f"{made}.W.data has mean {mean:.4g}; expected about 0 (its std is {std:.4g})")
    within = float(np.mean(np.abs(w - mean) < std))
    if abs(within - 0.6827) > 0.03:
        uniform = abs(within - 0.5774) <= 0.03
        fail(f"{100 * within:.1f}% of {made}.W.data lies within one standard deviation of the mean; "
             f"a normal distribution puts 68.3% there",
             help="That looks uniform; He initialisation draws from a normal distribution" if uniform else "")


@check("Conv2d")
def test_gradients_accumulate_over_batches(student, reference, rng):
    """gradients of two batches add up in W.grad and b.grad"""
    case = Conv(2, 3, 7, 5, 4, 6, 1, padding=(0, 2))
    x_first, w, b = case.arrays(rng)
    layer, made, _ = conv_layer(student, case, w, b)
    total, last = [0, 0], None
    for x in (x_first, rng.standard_normal(x_first.shape)):
        dout = rng.standard_normal(reference.conv2d_forward(x, w, b, 1, (0, 2)).shape)
        layer.forward(x)
        layer.backward(dout)
        _, dw, db = reference.conv2d_backward(dout, x, w, b, 1, (0, 2))
        total, last = [total[0] + dw, total[1] + db], (dw, db)
    n = x_first.shape[0]
    same(parameter(layer, "W", made).grad, total[0], f"{made}.W.grad after two forward/backward passes",
         mistakes={known.grads_overwritten: lambda: last[0], known.batch_mean: lambda: total[0] / n})
    same(parameter(layer, "b", made).grad, total[1], f"{made}.b.grad after two forward/backward passes",
         mistakes={known.grads_overwritten: lambda: last[1], known.batch_mean: lambda: total[1] / n})


@check("Conv2d")
def test_zero_grad_resets_gradients(student, reference, rng):
    """zero_grad() resets W.grad and b.grad to zeros, and the next backward starts from there"""
    case = Conv(1, 2, 5, 7, 3, 4, 4)
    x, w, b = case.arrays(rng)
    layer, made, _ = conv_layer(student, case, w, b)
    dout = rng.standard_normal((1, 3, 2, 4))
    layer.forward(x)
    layer.backward(dout)
    _, dw, db = reference.conv2d_backward(dout, x, w, b)
    layer.zero_grad()
    # A grad that zero_grad left as it was (one backward's): the parameter was skipped.
    same(parameter(layer, "W", made).grad, np.zeros(w.shape), f"{made}.W.grad after zero_grad()",
         mistakes={known.zero_grad_skips_a_parameter: lambda: dw})
    same(parameter(layer, "b", made).grad, np.zeros(3), f"{made}.b.grad after zero_grad()",
         mistakes={known.zero_grad_skips_a_parameter: lambda: db})
    layer.backward(dout)
    same(parameter(layer, "W", made).grad, dw, f"{made}.W.grad after zero_grad() and one backward")
    same(parameter(layer, "b", made).grad, db, f"{made}.b.grad after zero_grad() and one backward")


@check("Conv2d", depends=["test_forward_defaults"])
def test_parameters_are_W_and_b(student, reference, rng):
    """parameters() returns the layer's own W and b (the given Module does this)"""
    case = Conv(1, 2, 5, 7, 3, 4, 4)
    x, w, b = case.arrays(rng)
    layer, made, _ = conv_layer(student, case, w, b)
    found = layer.parameters()
    if not isinstance(found, (list, tuple)):
        fail(f"{made}.parameters() returned {kind_of(found)}; expected a list of the layer's Parameters")
    if len(found) != 2:
        fail(f"{made}.parameters() returned {len(found)} items; expected 2, W and b")
    shapes = {w.shape: ("W", w), b.shape: ("b", b)}
    seen = set()
    for position, handle in enumerate(found):
        if handle is None or isinstance(handle, (np.ndarray, np.generic, int, float, str, bool, tuple, list, dict)):
            fail(f"{made}.parameters()[{position}] is {type(handle).__name__}; expected a Parameter")
        data = numeric_array(handle.data, f"{made}.parameters()[{position}].data")
        name, value = shapes.get(data.shape, ("?", None))
        if value is None or name in seen:
            fail(f"{made}.parameters() should hold W (shape {w.shape}) and b (shape {b.shape}); "
                 f"item {position} has data of shape {data.shape}")
        seen.add(name)
        same(data, value, f"{made}.parameters()[{position}].data")
        # It must be the layer's own Parameter, so an optimizer's update reaches the layer.
        handle.data = value + 1.0
        after = numeric_array(parameter(layer, name, made).data, f"{made}.{name}.data")
        if after.shape != value.shape or not np.allclose(after, value + 1.0):
            fail(f"changing {made}.parameters()[{position}].data did not change {made}.{name}.data: parameters() "
                 f"should return the layer's own Parameters, not copies (an optimizer updates them in place)")


@check("Conv2d")
def test_calling_the_layer_runs_forward(student, reference, rng):
    """calling the layer, layer(x), returns layer.forward(x) (Module's __call__ calls forward)"""
    case = Conv(1, 2, 5, 8, 3, 4, 4)
    x, w, b = case.arrays(rng)
    layer, made, _ = conv_layer(student, case, w, b)
    same(layer(x), reference.conv2d_forward(x, w, b), f"{made}(x) with x of shape {x.shape}")
