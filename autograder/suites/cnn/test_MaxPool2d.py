"""Hidden checks of the MaxPool2d layer."""

from autograder.suite import check, kind_of, same

from . import pool_mistakes

_STRIDE_ONE = "use stride 1 when no stride is given (the lesson's default)"


def _made(pool_size, stride):
    return f"MaxPool2d({pool_size!r})" if stride is None else f"MaxPool2d({pool_size!r}, stride={stride!r})"


def _layer(student, pool_size, stride):
    return student.MaxPool2d(pool_size) if stride is None else student.MaxPool2d(pool_size, stride=stride)


def _forward_mistakes(reference, x, pool_size, stride):
    return {
        _STRIDE_ONE: lambda: pool_mistakes.stride_one_when_none(reference, x, pool_size, stride),
        "read the pairs as (width, height)": lambda: pool_mistakes.swapped_forward(reference, x, pool_size, stride),
    }


def _forward(student, reference, x, pool_size, stride):
    made = _made(pool_size, stride)
    same(_layer(student, pool_size, stride).forward(x), reference.maxpool_forward(x, pool_size, stride),
         f"{made}.forward(x) with x of shape {x.shape}", mistakes=_forward_mistakes(reference, x, pool_size, stride))


def _backward(student, reference, rng, x, pool_size, stride):
    made = _made(pool_size, stride)
    layer = _layer(student, pool_size, stride)
    layer.forward(x)
    dout = rng.standard_normal(reference.maxpool_forward(x, pool_size, stride).shape)
    same(layer.backward(dout), reference.maxpool_backward(dout, x, pool_size, stride),
         f"{made}.backward(dout) after forward(x) with x of shape {x.shape}",
         mistakes=pool_mistakes.backward_mistakes(dout, x, pool_size, stride))


@check("MaxPool2d", weight=2)
def test_forward_default_stride(student, reference, rng):
    """forward matches maxpool_forward when no stride is given (windows move by pool_size)"""
    _forward(student, reference, rng.standard_normal((2, 2, 6, 7)), 2, None)
    _forward(student, reference, rng.standard_normal((1, 3, 9, 8)), (3, 2), None)


@check("MaxPool2d")
def test_forward_overlapping(student, reference, rng):
    """forward matches maxpool_forward for overlapping windows (stride 1)"""
    _forward(student, reference, rng.standard_normal((2, 2, 6, 5)), 2, 1)
    _forward(student, reference, rng.standard_normal((1, 2, 7, 7)), 3, 1)


@check("MaxPool2d", weight=2)
def test_backward_default_stride(student, reference, rng):
    """backward matches maxpool_backward when no stride is given"""
    _backward(student, reference, rng, rng.standard_normal((2, 2, 6, 7)), 2, None)
    _backward(student, reference, rng, rng.standard_normal((1, 2, 9, 8)), (3, 2), None)


@check("MaxPool2d", weight=2)
def test_backward_overlapping(student, reference, rng):
    """backward matches maxpool_backward for overlapping windows (stride 1)"""
    _backward(student, reference, rng, rng.standard_normal((2, 2, 6, 6)), 2, 1)
    _backward(student, reference, rng, rng.standard_normal((1, 2, 7, 6)), 3, 1)


@check("MaxPool2d")
def test_has_no_parameters(student, reference, rng):
    """parameters() returns an empty list: max pooling learns nothing"""
    found = student.MaxPool2d(2).parameters()
    if not isinstance(found, (list, tuple)):
        got = kind_of(found)
        raise AssertionError(f"MaxPool2d(2).parameters() returned {got}; expected an empty list")
    if len(found) != 0:
        raise AssertionError(f"MaxPool2d(2).parameters() returned {len(found)} items; expected none")


@check("MaxPool2d")
def test_calling_the_layer_runs_forward(student, reference, rng):
    """calling the layer, layer(x), returns layer.forward(x) (Module's __call__ calls forward)"""
    x = rng.standard_normal((2, 1, 7, 6))
    layer = student.MaxPool2d(3, stride=(2, 1))
    same(layer(x), reference.maxpool_forward(x, 3, (2, 1)), f"{_made(3, (2, 1))}(x) with x of shape {x.shape}",
         mistakes=_forward_mistakes(reference, x, 3, (2, 1)))


@check("MaxPool2d")
def test_defaults_are_2x2_windows_with_stride_2(student, reference, rng):
    """MaxPool2d() pools 2x2 windows that tile the input, forward and backward"""
    x = rng.standard_normal((2, 3, 6, 7))
    layer = student.MaxPool2d()
    same(layer.forward(x), reference.maxpool_forward(x), f"MaxPool2d().forward(x) with x of shape {x.shape}",
         mistakes={"default the stride to 1 (the lesson's layer did)": lambda: reference.maxpool_forward(x, 2, 1),
                   "default the window to 3x3": lambda: reference.maxpool_forward(x, 3)})
    dout = rng.standard_normal(reference.maxpool_forward(x).shape)
    same(layer.backward(dout), reference.maxpool_backward(dout, x), "MaxPool2d().backward(dout)")
