"""Hidden checks of the MaxPool2d layer: forward and backward on every group of cases.py."""

import numpy as np

from autograder.suite import check, checks_over, fail, kind_of, same

from . import pool_mistakes
from .calls import pool_backward, pool_forward
from .cases import POOL, Pool
from .mistakes import known

# Enough combinations for every parameter to meet another one; the functions get them all.
LAYER_PAIRS = [POOL["pairs"][i] for i in (0, 4)]


# One forward and one backward check per group of cases.py: test name's end, weight, cases, what they vary.
GROUPS = [
    ("defaults", 2, POOL["defaults"], "with pool_size and stride left out, or passed as 2 and None"),
    ("window", 1, POOL["window"], "with an int window other than 2 alone (stride left to default)"),
    ("non_square_window", 1, POOL["window shape"], "with a non-square window alone (stride left to default)"),
    ("stride", 1, POOL["stride"], "with an int stride alone, with and without overlap"),
    ("stride_pair", 1, POOL["stride pair"], "with a (height, width) stride pair alone"),
    ("integer_input", 1, POOL["integer"], "with an integer x (float64 results)"),
    ("parameters_together", 1, LAYER_PAIRS, "with windows, strides and integer inputs combined"),
    ("edge_geometries", 1, POOL["edges"], "with window sides of 1, a single output row, strides and windows longer than x"),
]


@checks_over("MaxPool2d", [(f"test_forward_{name}", weight, cases, f"forward matches maxpool_forward {what}")
                           for name, weight, cases, what in GROUPS])
def _forward(student, reference, rng, cases):
    for case in cases:
        pool_forward(student, reference, rng, case, layer=True)


@checks_over("MaxPool2d", [(f"test_backward_{name}", weight, cases, f"backward matches maxpool_backward {what}")
                           for name, weight, cases, what in GROUPS])
def _backward(student, reference, rng, cases):
    for case in cases:
        pool_backward(student, reference, rng, case, layer=True)


@check("MaxPool2d")
def test_backward_ties_go_to_the_first_maximum(student, reference, rng):
    """backward gives a window's whole gradient to its first maximum when several cells tie, as maxpool_backward does"""
    for case, x in (  # mixed ties first: on all-equal windows several wrong versions agree
        (Pool(2, 4, 9, 7, pool_size=3, stride=2), rng.integers(0, 3, (2, 4, 9, 7)).astype(np.float64)),
        (Pool(3, 4, 5, 6, stride=1), np.full((3, 4, 5, 6), 2.0)),                               # all equal, overlapping
    ):
        pool_backward(student, reference, rng, case, layer=True, x=x, ties_first=True)


@check("MaxPool2d", depends=["test_forward_defaults"])
def test_has_no_parameters(student, reference, rng):
    """parameters() returns an empty list: max pooling learns nothing"""
    found = student.MaxPool2d(3).parameters()
    if not isinstance(found, (list, tuple)):
        fail(f"MaxPool2d(3).parameters() returned {kind_of(found)}; expected an empty list")
    if len(found) != 0:
        fail(f"MaxPool2d(3).parameters() returned {len(found)} items; expected none")


@check("MaxPool2d")
def test_calling_the_layer_runs_forward(student, reference, rng):
    """calling the layer, layer(x), returns layer.forward(x) (Module's __call__ calls forward)"""
    x = Pool(2, 4, 7, 9, pool_size=3).x(rng)
    layer = student.MaxPool2d(3)
    same(layer(x), reference.maxpool_forward(x, 3), f"MaxPool2d(3)(x) with x of shape {x.shape}")


@check("MaxPool2d")
def test_defaults_are_2x2_windows_with_stride_2(student, reference, rng):
    """MaxPool2d() pools 2x2 windows that tile the input, forward and backward"""
    x = Pool(3, 4, 6, 9).x(rng)
    layer = student.MaxPool2d()
    same(layer.forward(x), reference.maxpool_forward(x), f"MaxPool2d().forward(x) with x of shape {x.shape}",
         mistakes={known.pool_stride_one_when_none: lambda: reference.maxpool_forward(x, 2, 1),
                   known.default_window_3: lambda: reference.maxpool_forward(x, 3)})
    dout = rng.standard_normal(reference.maxpool_forward(x).shape)
    same(layer.backward(dout), reference.maxpool_backward(dout, x), "MaxPool2d().backward(dout)",
         mistakes=pool_mistakes.backward_mistakes(dout, x))
