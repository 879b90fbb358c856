"""Hidden checks of the Conv2d layer."""

import numpy as np

from autograder.suite import check, expect_shape, kind_of, numeric_array, same

from . import mistakes

# A large layer for the statistics of the initial weights: 40 * 96 * 3 * 3 = 34560 weights.
# in_channels != out_channels, so fan-in and fan-out give different scales.
_C, _F, _K = 40, 96, 3
_FAN_IN, _FAN_OUT = _C * _K * _K, _F * _K * _K


def _parameter(layer, name, made):
    """layer.<name>, which must be a Parameter (a handle), not a bare array."""
    value = getattr(layer, name)
    if value is None or isinstance(value, (np.ndarray, np.generic, int, float, str, bool, tuple, list, dict)):
        got = kind_of(value)
        raise AssertionError(f"{made}.{name} is {got}; expected a Parameter (wrap the array: Parameter(...))")
    return value


def _data(layer, name, made, shape):
    return expect_shape(_parameter(layer, name, made).data, shape, f"{made}.{name}.data")


def _layer_with_weights(student, rng, C=3, F=4, kernel=(3, 2), stride=(2, 1), padding=(1, 2)):
    """A student layer whose W and b we set to random values; returns the layer, W, b and how it was made."""
    made = f"Conv2d({C}, {F}, kernel_size={kernel!r}, stride={stride!r}, padding={padding!r})"
    layer = student.Conv2d(C, F, kernel, stride=stride, padding=padding)
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    w, b = rng.standard_normal((F, C, kh, kw)), rng.standard_normal(F)
    _parameter(layer, "W", made).data = w
    _parameter(layer, "b", made).data = b
    return layer, w, b, made


def _forward_mistakes(reference, x, w, b, stride, padding):
    return {
        "ignore the stride and padding given to the constructor": lambda: reference.conv2d_forward(x, w, b),
        "read the stride pair as (width, height)": lambda: mistakes.swapped_strides(reference, x, w, b, stride, padding),
        "read the padding pair as (width, height)": lambda: mistakes.swapped_padding(reference, x, w, b, stride, padding),
        "flip the kernel (deep-learning convolution slides w as it is)":
            lambda: mistakes.flipped_kernel(reference, x, w, b, stride, padding),
        "leave out the bias": lambda: mistakes.no_bias(reference, x, w, b, stride, padding),
    }


def _std_mistakes():
    return {
        "use fan-out (out_channels * KH * KW) instead of fan-in (in_channels * KH * KW)": np.sqrt(2 / _FAN_OUT),
        "use variance 1 / fan_in (LeCun) instead of 2 / fan_in (He)": np.sqrt(1 / _FAN_IN),
        "use Xavier's 2 / (fan_in + fan_out) instead of He's 2 / fan_in": np.sqrt(2 / (_FAN_IN + _FAN_OUT)),
        "use 2 / fan_in as the standard deviation; it is the variance, so take its square root": 2 / _FAN_IN,
        "draw from a standard normal without scaling it (std 1)": 1.0,
        "use fan-in without the kernel size (in_channels only)": np.sqrt(2 / _C),
    }


@check("Conv2d")
def test_parameter_shapes_and_zero_bias(student, reference, rng):
    """W has shape (F, C, KH, KW) and b is zeros of shape (F,), for int and pair kernel sizes"""
    for args, (C, F, kh, kw) in (((2, 5, 4), (2, 5, 4, 4)), ((3, 2, (1, 3)), (3, 2, 1, 3)), ((1, 6, (3, 2)), (1, 6, 3, 2))):
        made = "Conv2d(" + ", ".join(map(repr, args)) + ")"
        layer = student.Conv2d(*args)
        _data(layer, "W", made, (F, C, kh, kw))
        b = _data(layer, "b", made, (F,))
        if not np.all(b == 0):
            raise AssertionError(f"{made}.b.data should start at zeros; it holds values up to {np.abs(b).max():.3g}")


@check("Conv2d", weight=2)
def test_he_initialisation_scale(student, reference, rng):
    """W's standard deviation is sqrt(2 / (in_channels * KH * KW)) (He initialisation)"""
    made = f"Conv2d({_C}, {_F}, {_K})"
    w = _data(student.Conv2d(_C, _F, _K), "W", made, (_F, _C, _K, _K))
    want, got = np.sqrt(2 / _FAN_IN), float(np.std(w))
    if abs(got - want) > 0.03 * want:
        hint = ""
        for phrase, wrong in _std_mistakes().items():
            if abs(got - wrong) <= 0.03 * wrong:
                hint = f" It matches what you get if you {phrase}."
                break
        raise AssertionError(
            f"{made}.W.data has standard deviation {got:.4g}; expected sqrt(2 / ({_C} * {_K} * {_K})) = {want:.4g}.{hint}"
        )


@check("Conv2d")
def test_he_initialisation_with_a_non_square_kernel(student, reference, rng):
    """For a (3, 1) kernel, fan-in is in_channels * 3 * 1: both kernel sides count"""
    C, F, kernel = 128, 64, (3, 1)
    made = f"Conv2d({C}, {F}, {kernel!r})"
    w = _data(student.Conv2d(C, F, kernel), "W", made, (F, C, *kernel))
    want, got = np.sqrt(2 / (C * 3 * 1)), float(np.std(w))
    if abs(got - want) > 0.03 * want:
        hint = ""
        for phrase, wrong in (("use KH * KH (the height twice) for the kernel's size", np.sqrt(2 / (C * 3 * 3))),
                              ("use KW * KW (the width twice) for the kernel's size", np.sqrt(2 / (C * 1 * 1)))):
            if abs(got - wrong) <= 0.03 * wrong:
                hint = f" It matches what you get if you {phrase}."
        raise AssertionError(
            f"{made}.W.data has standard deviation {got:.4g}; expected sqrt(2 / ({C} * 3 * 1)) = {want:.4g}.{hint}"
        )


@check("Conv2d")
def test_stride_and_padding_default_to_1_and_0(student, reference, rng):
    """Conv2d(C, F, k) without stride or padding convolves with stride 1 and no padding"""
    C, F, k = 2, 3, 3
    made = f"Conv2d({C}, {F}, {k})"
    layer = student.Conv2d(C, F, k)
    w, b = rng.standard_normal((F, C, k, k)), rng.standard_normal(F)
    _parameter(layer, "W", made).data = w
    _parameter(layer, "b", made).data = b
    x = rng.standard_normal((2, C, 6, 5))
    same(layer.forward(x), reference.conv2d_forward(x, w, b), f"{made}.forward(x) with x of shape {x.shape}",
         mistakes={"default the padding to 1": lambda: reference.conv2d_forward(x, w, b, 1, 1),
                   "default the stride to 2": lambda: reference.conv2d_forward(x, w, b, 2, 0)})


@check("Conv2d")
def test_he_initialisation_is_normal_around_zero(student, reference, rng):
    """W is drawn from a normal distribution with mean 0"""
    made = f"Conv2d({_C}, {_F}, {_K})"
    w = _data(student.Conv2d(_C, _F, _K), "W", made, (_F, _C, _K, _K))
    std, mean = float(np.std(w)), float(np.mean(w))
    if not std > 0:
        raise AssertionError(f"{made}.W.data holds the same value everywhere; draw it at random")
    if abs(mean) > 0.05 * std:
        raise AssertionError(f"{made}.W.data has mean {mean:.4g}; expected about 0 (its std is {std:.4g})")
    within = float(np.mean(np.abs(w - mean) < std))
    if abs(within - 0.6827) > 0.03:
        hint = (" That looks uniform; He initialisation draws from a normal distribution."
                if abs(within - 0.5774) <= 0.03 else "")
        raise AssertionError(
            f"{100 * within:.1f}% of {made}.W.data lies within one standard deviation of the mean; "
            f"a normal distribution puts 68.3% there.{hint}"
        )


@check("Conv2d", weight=2)
def test_forward_uses_weights_stride_and_padding(student, reference, rng):
    """forward convolves with the layer's W and b and its (non-square) stride and padding"""
    layer, w, b, made = _layer_with_weights(student, rng)
    x = rng.standard_normal((2, 3, 7, 6))
    same(layer.forward(x), reference.conv2d_forward(x, w, b, (2, 1), (1, 2)), f"{made}.forward(x)",
         mistakes=_forward_mistakes(reference, x, w, b, (2, 1), (1, 2)))


@check("Conv2d", weight=2)
def test_backward_returns_dx(student, reference, rng):
    """backward returns the reference's dx for the input seen by forward"""
    layer, w, b, made = _layer_with_weights(student, rng, C=2, F=3, kernel=(2, 3), stride=(1, 2), padding=(2, 1))
    x = rng.standard_normal((2, 2, 6, 7))
    layer.forward(x)
    dout = rng.standard_normal(reference.conv2d_forward(x, w, b, (1, 2), (2, 1)).shape)
    dx, _, _ = reference.conv2d_backward(dout, x, w, b, (1, 2), (2, 1))
    same(layer.backward(dout), dx, f"{made}.backward(dout)")


@check("Conv2d", weight=2)
def test_backward_sets_parameter_gradients(student, reference, rng):
    """backward puts the reference's dW and db into W.grad and b.grad"""
    layer, w, b, made = _layer_with_weights(student, rng, C=2, F=3, kernel=3, stride=2, padding=1)
    x = rng.standard_normal((2, 2, 7, 6))
    layer.forward(x)
    dout = rng.standard_normal(reference.conv2d_forward(x, w, b, 2, 1).shape)
    layer.backward(dout)
    _, dw, db = reference.conv2d_backward(dout, x, w, b, 2, 1)
    batch_mean = mistakes.batch_mean_backward(reference, dout, x, w, b, 2, 1)
    same(_parameter(layer, "W", made).grad, dw, f"{made}.W.grad after one backward",
         mistakes={"divide by the batch size (the gradient of a sum is not averaged)": lambda: batch_mean[1]})
    same(_parameter(layer, "b", made).grad, db, f"{made}.b.grad after one backward",
         mistakes={"divide by the batch size (the gradient of a sum is not averaged)": lambda: batch_mean[2]})


@check("Conv2d")
def test_gradients_accumulate_over_batches(student, reference, rng):
    """gradients of two batches add up in W.grad and b.grad"""
    layer, w, b, made = _layer_with_weights(student, rng, C=2, F=2, kernel=(2, 2), stride=1, padding=(0, 1))
    total, last = [0, 0], None
    for _ in range(2):
        x = rng.standard_normal((2, 2, 5, 4))
        dout = rng.standard_normal(reference.conv2d_forward(x, w, b, 1, (0, 1)).shape)
        layer.forward(x)
        layer.backward(dout)
        _, dw, db = reference.conv2d_backward(dout, x, w, b, 1, (0, 1))
        total, last = [total[0] + dw, total[1] + db], (dw, db)
    overwrite = "overwrite W.grad/b.grad (=) instead of adding (+=)"
    same(_parameter(layer, "W", made).grad, total[0], f"{made}.W.grad after two forward/backward passes",
         mistakes={overwrite: lambda: last[0]})
    same(_parameter(layer, "b", made).grad, total[1], f"{made}.b.grad after two forward/backward passes",
         mistakes={overwrite: lambda: last[1]})


@check("Conv2d")
def test_zero_grad_resets_gradients(student, reference, rng):
    """zero_grad() resets W.grad and b.grad to zeros, and the next backward starts from there"""
    layer, w, b, made = _layer_with_weights(student, rng, C=1, F=2, kernel=2, stride=1, padding=0)
    x = rng.standard_normal((1, 1, 4, 5))
    dout = rng.standard_normal((1, 2, 3, 4))
    layer.forward(x)
    layer.backward(dout)
    layer.zero_grad()
    same(_parameter(layer, "W", made).grad, np.zeros((2, 1, 2, 2)), f"{made}.W.grad after zero_grad()")
    same(_parameter(layer, "b", made).grad, np.zeros(2), f"{made}.b.grad after zero_grad()")
    layer.backward(dout)
    _, dw, db = reference.conv2d_backward(dout, x, w, b, 1, 0)
    same(_parameter(layer, "W", made).grad, dw, f"{made}.W.grad after zero_grad() and one backward")
    same(_parameter(layer, "b", made).grad, db, f"{made}.b.grad after zero_grad() and one backward")


@check("Conv2d")
def test_parameters_are_W_and_b(student, reference, rng):
    """parameters() returns the layer's own W and b (the given Module does this)"""
    layer, w, b, made = _layer_with_weights(student, rng, C=2, F=3, kernel=2, stride=1, padding=0)
    found = layer.parameters()
    if not isinstance(found, (list, tuple)):
        got = kind_of(found)
        raise AssertionError(f"{made}.parameters() returned {got}; expected a list of the layer's Parameters")
    if len(found) != 2:
        raise AssertionError(f"{made}.parameters() returned {len(found)} items; expected 2, W and b")
    shapes = {w.shape: ("W", w), b.shape: ("b", b)}
    seen = set()
    for position, handle in enumerate(found):
        if handle is None or isinstance(handle, (np.ndarray, np.generic, int, float, str, bool, tuple, list, dict)):
            raise AssertionError(f"{made}.parameters()[{position}] is {type(handle).__name__}; expected a Parameter")
        data = numeric_array(handle.data, f"{made}.parameters()[{position}].data")
        name, value = shapes.get(data.shape, ("?", None))
        if value is None or name in seen:
            raise AssertionError(f"{made}.parameters() should hold W (shape {w.shape}) and b (shape {b.shape}); "
                                 f"item {position} has data of shape {data.shape}")
        seen.add(name)
        same(data, value, f"{made}.parameters()[{position}].data")
        # It must be the layer's own Parameter, so an optimizer's update reaches the layer.
        handle.data = value + 1.0
        after = numeric_array(_parameter(layer, name, made).data, f"{made}.{name}.data")
        if after.shape != value.shape or not np.allclose(after, value + 1.0):
            raise AssertionError(
                f"changing {made}.parameters()[{position}].data did not change {made}.{name}.data: parameters() "
                f"should return the layer's own Parameters, not copies (an optimizer updates them in place)"
            )


@check("Conv2d")
def test_calling_the_layer_runs_forward(student, reference, rng):
    """calling the layer, layer(x), returns layer.forward(x) (Module's __call__ calls forward)"""
    layer, w, b, made = _layer_with_weights(student, rng, C=2, F=2, kernel=(3, 3), stride=(1, 2), padding=(1, 0))
    x = rng.standard_normal((1, 2, 5, 7))
    same(layer(x), reference.conv2d_forward(x, w, b, (1, 2), (1, 0)), f"{made}(x)",
         mistakes=_forward_mistakes(reference, x, w, b, (1, 2), (1, 0)))
