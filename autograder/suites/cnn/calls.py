"""One case of cases.py run through one entry point and compared with the reference.

Entry points: the function (conv2d_forward, conv2d_backward, maxpool_forward,
maxpool_backward) and the layer's forward and backward (Conv2d, MaxPool2d).
Every comparison names the known mistakes its output matches; on integer
inputs the dtype is checked first.
"""

import numpy as np

from autograder.suite import StudentError, Variants, chain_of, fail, kind_of, matches, numeric_array, same

from . import mistakes, pool_mistakes
from .cases import OMIT, Conv, Pool
from .mistakes import known

FLOAT64 = dict(dtype=np.float64, dtype_mistake=known.kept_integer_dtype)  # named only for an integer dtype


def _floats(case):
    """dtype check for integer cases only: float inputs may keep any float dtype the contract allows."""
    return FLOAT64 if case.integer else {}


def _kind(case):
    return "integer " if case.integer else ""


def triple(result, what):
    """(dx, dw, db) from conv2d_backward; a list of three is accepted as the public checks accept it."""
    if type(result) not in (tuple, list) or len(result) != 3:
        got = kind_of(result) + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        fail(f"{what} returned {got}; expected a tuple (dx, dw, db)")
    return [numeric_array(part, f"{what}[{i}]") for i, part in enumerate(result)]


def parameter(layer, name, made):
    """layer.<name>, which must be a Parameter (a handle), not a bare array."""
    return _a_parameter(getattr(layer, name), name, made)


def _a_parameter(value, name, made):
    if value is None or isinstance(value, (np.ndarray, np.generic, int, float, str, bool, tuple, list, dict)):
        fail(f"{made}.{name} is {kind_of(value)}; expected a Parameter (wrap the array: Parameter(...))")
    return value


def _run_layer(chain, made, params):
    """Run a chain that made a layer and set its (W, b): a W or b that is no Parameter is named first,
    as when it is read alone, whatever the chain raised after it (setting .data on an array, say)."""
    try:
        chain.run()
    finally:
        for name, step in zip(("W", "b"), params):
            if step.ran:
                _a_parameter(step.value, name, made)


# Convolution -------------------------------------------------------------
def _conv_call(case: Conv, x, w):
    shown = case.shown()
    return (f"conv2d_forward(x, w, b{', ' + shown if shown else ''}) with {_kind(case)}x of shape {x.shape} "
            f"and w of shape {w.shape}")


def _conv_steps(chain, case: Conv, w, b):
    """Steps that make a student Conv2d for `case` and set W and b to w and b (as float64): the
    layer's step, how it was made, and its (W, b) steps."""
    kwargs = case.kwargs()
    made = f"Conv2d({case.C}, {case.F}, {case.kernel_size!r}" + "".join(f", {k}={v!r}" for k, v in kwargs.items()) + ")"
    layer = chain.Conv2d(case.C, case.F, case.kernel_size, **kwargs)
    params = layer.W, layer.b
    params[0].data = np.asarray(w, dtype=np.float64)
    params[1].data = np.asarray(b, dtype=np.float64)
    return layer, made, params


def conv_layer(student, case: Conv, w, b):
    """A student Conv2d made for `case`, with W and b set to w and b (as float64); returns it, how
    it was made, and its (W, b) Parameters. One request to the worker."""
    chain = chain_of(student)
    layer, made, params = _conv_steps(chain, case, w, b)
    _run_layer(chain, made, params)
    return layer.value, made, tuple(p.value for p in params)


def _conv_shape_first(out, expected, what, case, x, w):
    if type(out) is np.ndarray and out.shape != expected.shape:
        stride, padding = case.effective()
        found = mistakes.conv_shape_mistake(out.shape, x.shape, w.shape, stride, padding)
        if found:
            fail(f"{what} returned shape {out.shape}; expected {expected.shape}", found)


def _raises(call) -> bool:
    try:
        call()
    except ValueError:
        return True
    return False


def _returns(call) -> bool:
    """The student's call returns (whatever it returns) instead of raising."""
    try:
        call()
    except StudentError:
        return False
    return True


def conv_forward(student, reference, rng, case: Conv, layer=False):
    x, w, b = case.arrays(rng)
    stride, padding = case.effective()
    expected = reference.conv2d_forward(x, w, b, stride, padding)
    variants = mistakes.forward_mistakes(reference, x, w, b, stride, padding)
    if case.padding is OMIT:
        variants[known.default_padding_1] = lambda: reference.conv2d_forward(x, w, b, stride, 1)
    if case.stride is OMIT:
        variants[known.default_stride_2] = lambda: reference.conv2d_forward(x, w, b, 2, padding)
    if layer:
        chain = chain_of(student)  # made, set and run forward in one request
        module, made, params = _conv_steps(chain, case, w, b)
        out = module.forward(x)
        what = f"{made}.forward(x) with {_kind(case)}x of shape {x.shape}"
        if case.kwargs():
            variants = {known.layer_arguments_ignored: lambda: reference.conv2d_forward(x, w, b), **variants}
            variants[known.layer_arguments_swapped] = lambda: reference.conv2d_forward(x, w, b, padding, stride)
        try:
            _run_layer(chain, made, params)
        except StudentError as exc:
            # Stride and padding handed on swapped: a padding of 0 becomes a stride of 0, which raises.
            # Only named when the student's own conv2d_forward, given them the right way, does not raise.
            if (chain.failed is out and exc.type_name and isinstance(exc, ValueError) and stride != padding
                    and _raises(lambda: reference.conv2d_forward(x, w, b, padding, stride))
                    and _returns(lambda: student.conv2d_forward(x, w, b, stride=stride, padding=padding))):
                fail(f"{what} raised {exc}", known.layer_arguments_swapped)
            raise
        out = out.value
    else:
        what = _conv_call(case, x, w)
        out = student.conv2d_forward(x, w, b, **case.kwargs())
    _conv_shape_first(out, expected, what, case, x, w)
    return same(out, expected, what, mistakes={**variants, **mistakes.axis_variants(expected)}, **_floats(case))


def conv_backward(student, reference, rng, case: Conv, layer=False):
    """Student gradients against the reference's: dx (and dw, db, or W.grad and b.grad for the layer)."""
    x, w, b = case.arrays(rng)
    stride, padding = case.effective()
    dout = rng.standard_normal(reference.conv2d_forward(x, w, b, stride, padding).shape)
    want = reference.conv2d_backward(dout, x, w, b, stride, padding)
    variants = mistakes.backward_mistakes(reference, dout, x, w, b, stride, padding)
    if layer:
        chain = chain_of(student)  # made, set, forward, backward and both grads read in one request
        module, made, params = _conv_steps(chain, case, w, b)
        module.forward(x)
        steps = [module.backward(dout), params[0].grad, params[1].grad]
        _run_layer(chain, made, params)
        what = f"{made}.backward(dout) after forward(x) with {_kind(case)}x of shape {x.shape}"
        got = [step.value for step in steps]
        names = (f"dx returned by {what}", f"{made}.W.grad after forward(x) and backward(dout)",
                 f"{made}.b.grad after forward(x) and backward(dout)")
    else:
        shown = case.shown()
        what = (f"conv2d_backward(dout, x, w, b{', ' + shown if shown else ''}) with {_kind(case)}x of shape "
                f"{x.shape} and w of shape {w.shape}")
        got = triple(student.conv2d_backward(dout, x, w, b, **case.kwargs()), what)
        names = tuple(f"{name} of {what}" for name in ("dx", "dw", "db"))
    # dx first: an integer dtype or a bad crop shows there, and explains dw and db.
    for index, name in enumerate(names):
        if index == 2 and not matches(got[2], want[2]) and any(
                matches(got[2], wrong) for wrong in mistakes.db_axes_variants(dout).values()):
            fail(f"{name} returned the wrong {'shape' if np.shape(got[2]) != np.shape(want[2]) else 'values'}",
                 known.db_wrong_axes)
        same(got[index], want[index], name, **_floats(case),
             mistakes={k: (lambda f=f, i=index: f()[i]) for k, f in variants.items()})
    return got


# Pooling -----------------------------------------------------------------
def _pool_call(name, case: Pool, x, backward=False):
    shown = case.shown()
    first = "dout, x" if backward else "x"
    return f"{name}({first}{', ' + shown if shown else ''}) with {_kind(case)}x of shape {x.shape}"


def _pool_steps(chain, case: Pool):
    """The step that makes a student MaxPool2d for `case`, and how it was made."""
    args, kwargs = case.args(), case.kwargs()
    made = "MaxPool2d(" + ", ".join([*map(repr, args), *(f"stride={v!r}" for v in kwargs.values())]) + ")"
    return chain.MaxPool2d(*args, **kwargs), made


def pool_forward(student, reference, rng, case: Pool, layer=False, x=None):
    x = case.x(rng) if x is None else x
    pool_size, stride = case.effective()
    expected = reference.maxpool_forward(x, pool_size, stride)
    variants = pool_mistakes.forward_mistakes(reference, x, pool_size, stride)
    if layer:
        chain = chain_of(student)  # made and run forward in one request
        module, made = _pool_steps(chain, case)
        what = f"{made}.forward(x) with {_kind(case)}x of shape {x.shape}"
        if stride is not None and case.kwargs():
            variants = {known.layer_stride_ignored: lambda: reference.maxpool_forward(x, pool_size), **variants}
        out = module.forward(x)
        chain.run()
        out = out.value
    else:
        what = _pool_call("maxpool_forward", case, x)
        out = student.maxpool_forward(x, *case.args(), **case.kwargs())
    return same(out, expected, what, mistakes={**variants, **mistakes.axis_variants(expected)}, **_floats(case))


def pool_backward(student, reference, rng, case: Pool, layer=False, x=None, ties_first=False):
    x = case.x(rng) if x is None else x
    pool_size, stride = case.effective()
    shape = reference.maxpool_forward(x, pool_size, stride).shape
    dout = rng.standard_normal(shape)
    expected = reference.maxpool_backward(dout, x, pool_size, stride)
    variants = pool_mistakes.backward_mistakes(dout, x, pool_size, stride, ties_first=ties_first)
    if layer:
        chain = chain_of(student)  # made, forward and backward in one request
        module, made = _pool_steps(chain, case)
        module.forward(x)
        what = f"{made}.backward(dout) after forward(x) with {_kind(case)}x of shape {x.shape}"
        if stride is not None and case.kwargs():  # the layer hands no stride on: windows step by pool_size
            variants[known.layer_stride_ignored] = lambda: Variants.of(*(
                lambda own=own: pool_mistakes.stride_ignored_backward(dout, x, pool_size, stride, own_count=own)
                for own in (False, True)))
        out = module.backward(dout)
        chain.run()
        out = out.value
    else:
        what = _pool_call("maxpool_backward", case, x, backward=True)
        out = student.maxpool_backward(dout, x, *case.args(), **case.kwargs())
    return same(out, expected, what, mistakes=variants, **_floats(case))
