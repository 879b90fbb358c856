"""Causes of crashes any NumPy assignment meets: names NumPy 2 removed, and its stricter conversions.

Each suite's crashes.py lists these after its own (the first cause that
matches is named). A phrase completes "This is what happens when you ...";
`{name}` is filled from the message.
"""

from autograder.suite import Cause

# Aliases of Python's own types, removed in NumPy 1.24.
_ALIASES = "float|int|bool|object|complex|str|long|unicode"
# Names NumPy 2.0 removed (the NumPy 2 migration guide lists each one's replacement).
_REMOVED = (
    "product|cumproduct|sometrue|alltrue|asscalar|NaN|NAN|Inf|Infinity|PINF|NINF|infty|float_|complex_|"
    "round_|in1d|row_stack|trapz|msort|find_common_type|int0|uint0|string_|unicode_|mat|asfarray|issubclass_|"
    "cast|source|lookfor|who|safe_eval|set_string_function|NZERO|PZERO|longfloat|singlecomplex|cfloat|"
    "longcomplex|clongfloat|deprecate|disp|recfromcsv|recfromtxt"
)

CAUSES = (
    Cause(
        "numpy_removed_alias",
        "use np.{name}, which NumPy removed (it was only another name of Python's {name}): write {name}, or "
        "a NumPy type such as np.float64 or np.int64 for a dtype",
        ("AttributeError",),
        message=rf"module 'numpy' has no attribute '(?P<name>{_ALIASES})'",
    ),
    Cause(
        "numpy2_removed_name",
        "use np.{name}, which NumPy 2 removed: the error message or NumPy 2's migration guide names what "
        "replaces it (np.prod for np.product, .item() for np.asscalar, np.nan for np.NaN)",
        ("AttributeError",),
        message=rf"(?:module 'numpy' has no attribute '|`np\.)(?P<name>{_REMOVED})\b",
    ),
    Cause(
        "numpy2_newshape",
        "pass newshape= to reshape, a keyword NumPy 2 removed: give the shape by position (x.reshape(N, -1))",
        ("TypeError",),
        message=r"'newshape'",
    ),
    Cause(
        "array_to_number",
        "convert an array to a number with float() or int() (float(b) with b of shape (1, 1, 1), say): "
        "NumPy 2 converts only 0-dimensional arrays; take one element first (b[f], or b.item())",
        ("TypeError",),
        message=r"only (?:0-dimensional|length-1|size-1|integer scalar) arrays can be converted to Python scalars",
    ),
    Cause(
        "array_into_element",
        "store an array in a single element (out[n, f, i, j] = Z + b while Z + b is still an array: b of shape "
        "(1, 1, 1), or a sum over too few axes); NumPy 2 refuses it: store a number (b[f], np.sum over every "
        "axis of the window, or .item())",
        ("ValueError", "TypeError"),
        message=r"setting an array element with a sequence",
    ),
    Cause(
        "integer_array_accumulates_floats",
        "add floats into an integer array in place (+=, np.add.at): an array made with np.zeros_like(x) or "
        "x.copy() of an integer x is integer; make it float64 (np.zeros(x.shape), or x.astype(np.float64))",
        ("UFuncTypeError", "TypeError"),
        message=r"Cannot cast ufunc '\w+' output from dtype\('(?:float|complex)\d*'\) to dtype\('u?int\d*'\)",
    ),
    Cause(
        "shape_as_separate_arguments",
        "give np.{name} the shape as separate arguments: it takes one tuple, np.{name}((N, C, H, W))",
        ("TypeError",),
        message=r"(?P<name>zeros|ones|empty|full)\(\) takes from \d+ to \d+ positional arguments but \d+ were given",
    ),
    Cause(
        "shape_as_tuple_to_randn",
        "give np.random.randn (or rand) the shape as one tuple: unlike np.zeros it takes the sizes as separate "
        "arguments, randn(F, C, KH, KW), or use rng.standard_normal((F, C, KH, KW))",
        ("TypeError",),
        message=r"'tuple' object cannot be interpreted as an integer",
        line=r"\brandn?\(\s*\(",
    ),
    Cause(
        "float_as_index",
        "use a float where NumPy needs an integer (an index, a slice's bound, a shape, a range): `/` always "
        "gives a float in Python 3; use `//`, or int(...) of the result",
        ("TypeError", "IndexError"),
        message=(r"slice indices must be integers|'(?:numpy\.)?float(?:64|32)?' object cannot be interpreted as an "
                 r"integer|only integers, slices \(`:`\), ellipsis|expected a sequence of integers or a single "
                 r"integer, got '[\d.]+'|float(?:64)? object cannot be interpreted"),
    ),
)
