"""Every function and class of the contract kills its worker, after a short wait.

The grader restarts a worker (and loads the module again) for every test;
those restarts, like the calls, are charged to the submission's total time
(submission_seconds), so past that budget the remaining checks are not run
and the submission costs the batch a bounded time, not a restart per test.
"""
# ==== HOSTILE ====
import time as _time
import os as _os


def _die(*args, **kwargs):
    _time.sleep(0.3)
    _os._exit(1)


conv_output_size = pad = conv2d_forward = conv2d_backward = maxpool_forward = maxpool_backward = _die


class Parameter:
    def __init__(self, data):
        _die()


class Module:
    pass


class Conv2d(Module):
    def __init__(self, *args, **kwargs):
        _die()


class MaxPool2d(Module):
    def __init__(self, *args, **kwargs):
        _die()
