"""Hidden checks of the Flatten layer."""

from autograder.suite import check, same

from .mistakes import known


@check("Flatten", weight=2)
def test_forward(student, reference, rng):
    """forward makes one row per example, in NumPy's row-major order, for 3-D to 5-D inputs"""
    for shape in ((4, 3, 5), (2, 3, 4, 5), (2, 1, 2, 3, 2)):
        x = rng.standard_normal(shape)
        same(student.Flatten().forward(x), x.reshape(shape[0], -1), f"Flatten().forward(x) with x of shape {shape}",
             mistakes={known.flatten_column_major: lambda: x.reshape(shape[0], -1, order="F"),
                       known.flatten_batch_axis: lambda: x.reshape(-1),
                       known.flatten_channels_last:
                           lambda: x.transpose(0, *range(2, x.ndim), 1).reshape(shape[0], -1)})


@check("Flatten", weight=2)
def test_backward(student, reference, rng):
    """backward reshapes the gradient to the shape forward was given"""
    shape = (3, 4, 2, 5)
    layer = student.Flatten()
    layer.forward(rng.standard_normal(shape))
    dout = rng.standard_normal((3, 40))
    same(layer.backward(dout), dout.reshape(shape), "Flatten.backward(dout) after forward(x) of shape (3, 4, 2, 5)",
         mistakes={known.unflatten_column_major:
                   lambda: dout.reshape(shape, order="F")})
