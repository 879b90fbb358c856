"""The speed leaderboard (no points): the student's convolution timed from the grader's side.

Each timing is the median of several calls through the worker's channel, so
it includes sending the arrays (well under a millisecond at this size).
Every call, the untimed first one included, gets inputs of its own, drawn
fresh, and its answer is checked against the reference's: code that
remembers an earlier answer has nothing to remember, and a time counts only
when every call it comes from returned the right answer. The reference is
timed once per grading process, in a process of its own with one BLAS
thread, as the worker has (the grader's own NumPy may use several threads,
which on a busy machine makes its timings meaningless), on fresh inputs too.
"""

import functools
import json
import os
import statistics
import subprocess
import sys
import time

from autograder import assignment as assignments
from autograder.suite import CheckFailed, check, record, same
from autograder.suites.cnn import mistakes as first_part

from .mistakes import known

from . import harness

_SHAPE_X, _SHAPE_W, _PADDING = (16, 8, 16, 16), (16, 8, 3, 3), 1
_SHAPE_OUT = (_SHAPE_X[0], _SHAPE_W[0], *_SHAPE_X[2:])
_CALLS = 5

_TIME_REFERENCE = """
import importlib.util, json, statistics, sys, time
import numpy as np
spec = importlib.util.spec_from_file_location("reference_conv", sys.argv[1])
ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
rng = np.random.default_rng(0)
def inputs():
    return (rng.standard_normal({out}), rng.standard_normal({x}), rng.standard_normal({w}), rng.standard_normal({w}[0]))
def median_ms(call):
    times = []
    for index in range({calls} + 1):
        dout, x, w, b = inputs()
        started = time.perf_counter(); call(dout, x, w, b); elapsed = time.perf_counter() - started
        if index:
            times.append(elapsed)
    return round(1000 * statistics.median(times), 3)
print(json.dumps([median_ms(lambda dout, x, w, b: ref.conv2d_forward(x, w, b, 1, {p})),
                  median_ms(lambda dout, x, w, b: ref.conv2d_backward(dout, x, w, b, 1, {p}))]))
"""


def _ours(mistakes: dict) -> dict:
    """Part 1's wrong convolutions, each named as this registry names the same id (flipped_kernel), if it does."""
    return {getattr(known, m.id, m): compute for m, compute in mistakes.items()}


def _checked_median_ms(rng, call, expect) -> float:
    """The median time of `_CALLS` calls, each on fresh inputs and checked, after one untimed call
    (which warms caches up, and is checked too). A wrong answer fails the check: nothing is timed."""
    times = []
    for index in range(_CALLS + 1):
        dout, x, w, b = (rng.standard_normal(_SHAPE_OUT), rng.standard_normal(_SHAPE_X),
                         rng.standard_normal(_SHAPE_W), rng.standard_normal(_SHAPE_W[0]))
        started = time.perf_counter()
        got = call(dout, x, w, b)
        elapsed = time.perf_counter() - started
        expect(got, dout, x, w, b)  # the grader's own work, after the clock stopped
        if index:
            times.append(elapsed)
    return round(1000 * statistics.median(times), 3)


@functools.lru_cache(maxsize=1)
def _reference_ms() -> tuple[float, float] | None:
    """(forward, backward) of the reference convolution, in ms; None if it could not be timed."""
    first_part = assignments.load(harness.NAME).solution_dir / "cnn_layers.py"  # the build copies it there
    code = _TIME_REFERENCE.format(out=_SHAPE_OUT, x=_SHAPE_X, w=_SHAPE_W, p=_PADDING, calls=_CALLS)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, "-I", "-c", code, str(first_part)], env=env,
                              capture_output=True, text=True, timeout=60)
        forward, backward = json.loads(done.stdout)
        return float(forward), float(backward)
    except (OSError, ValueError, TypeError, subprocess.SubprocessError):
        return None


@check("conv2d_forward", seconds=harness.config()["speed_seconds"])
def test_speed_of_the_convolution(student, reference, rng, request):
    """conv2d_forward and conv2d_backward at (16, 8, 16, 16) with 16 filters of 3x3, timed for the leaderboard"""
    what = f"conv2d_forward(x, w, b, 1, {_PADDING}) with x of shape {_SHAPE_X}"

    def forward_right(out, dout, x, w, b):
        same(out, reference.conv2d_forward(x, w, b, 1, _PADDING), what,
             mistakes=_ours(first_part.forward_mistakes(reference, x, w, b, 1, _PADDING)))

    def backward_right(grads, dout, x, w, b):
        if not isinstance(grads, tuple) or len(grads) != 3:
            raise CheckFailed("conv2d_backward should return a tuple (dx, dw, db)")
        wrong = _ours(first_part.backward_mistakes(reference, dout, x, w, b, 1, _PADDING))
        for index, (name, got, want) in enumerate(zip(("dx", "dw", "db"), grads,
                                                      reference.conv2d_backward(dout, x, w, b, 1, _PADDING))):
            same(got, want, f"{name} of conv2d_backward at this size",
                 mistakes={m: (lambda run=run: run()[index]) for m, run in wrong.items()})

    forward_ms = _checked_median_ms(rng, lambda dout, x, w, b: student.conv2d_forward(x, w, b, 1, _PADDING),
                                    forward_right)
    backward_ms = _checked_median_ms(rng, lambda dout, x, w, b: student.conv2d_backward(dout, x, w, b, 1, _PADDING),
                                     backward_right)
    # Only correct code is timed for the leaderboard: returning zeros, or a remembered answer, fast wins nothing.
    record(request, "conv2d_forward_ms", forward_ms)
    record(request, "conv2d_backward_ms", backward_ms)
    timed = _reference_ms()
    if timed is not None:
        record(request, "reference_conv2d_forward_ms", timed[0])
        record(request, "reference_conv2d_backward_ms", timed[1])
