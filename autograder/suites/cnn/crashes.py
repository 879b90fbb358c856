"""Known causes of crashes in part 1: when a student's call raises, the first cause whose error
type, message and lines (the student's code that led there) match is named, with its fix.

Causes of this assignment first, then those any NumPy code meets
(numpy_causes.py). A cause names a mistake of mistakes.py's registry when
it is one of them: a crash and a wrong value from the same mistake carry
the same id.
"""

from autograder.suite import Cause
from autograder.suites import numpy_causes
from autograder.suites.cnn.mistakes import known

# A shape with a dimension of 0 in NumPy's message: "(2,3,0,0)", "(0,)".
_EMPTY_SHAPE = r"\(\s*(?:\d+\s*,\s*)*0\s*(?:,\s*\d+\s*)*,?\s*\)"
# A slice that ends at minus a name: x[p:-p], dx_pad[:, :, pad:-pad].
_MINUS_NAME_END = r"\w\s*:\s*-\s*[A-Za-z_][\w.\[\]]*\s*[,\]]"
# What running past the end of an axis looks like: an index out of range, or a window cut short.
_PAST_THE_EDGE = (r"out of bounds|could not broadcast|operands could not be broadcast|zero-size array to reduction"
                  r"|setting an array element with a sequence")


# What an empty crop leads to a few lines later: an array of size 0 reshaped, or met by a broadcast.
_EMPTY = rf"array of size 0 |{_EMPTY_SHAPE}"


def _cause(mistake, types, message="", line="", source=""):
    return Cause(mistake.id, mistake.phrase, types, message, line, source=source)


CAUSES = (
    _cause(known.crop_empty_at_zero_padding, ("ValueError", "IndexError"), _EMPTY, _MINUS_NAME_END),
    # The crop ran in a helper that has returned (col2im, say): it is not on the way to the error.
    _cause(known.crop_empty_at_zero_padding, ("ValueError", "IndexError"), _EMPTY, source=_MINUS_NAME_END),
    # `out + b` with b of shape (F,): NumPy lines b up with the last axis (the width), not the channels.
    _cause(known.bias_on_last_axis, ("ValueError",),
           r"operands could not be broadcast together with shapes \(\d+,\s*\d+,\s*\d+,\s*\d+\)\s*\(\d+,\)",
           r"[+]\s*b\b(?!\s*\[)|\bb\s*[+]"),
    _cause(known.kept_integer_dtype, ("UFuncTypeError", "TypeError"),
           r"Cannot cast ufunc '\w+' output from dtype\('(?:float|complex)\d*'\) to dtype\('u?int\d*'\)"),
    _cause(known.ceil_instead_of_floor, ("IndexError", "ValueError"), _PAST_THE_EDGE, r"\bceil\("),
    _cause(known.round_instead_of_floor, ("IndexError", "ValueError"), _PAST_THE_EDGE, r"(?<![\w.])round\("),
    # for i in range(0, H - k + 1, stride): out[..., i] = ...: the input's position indexes the output.
    _cause(known.output_indexed_by_input_position, ("IndexError",), r"out of bounds",
           r"\brange\(\s*0\s*,[^,()]*(?:\([^()]*\)[^,()]*)*,\s*[A-Za-z_][\w.\[\]]*\s*\)"),
    *numpy_causes.CAUSES,
)
