"""The reference, plus work done between calls by a worker of one thread.

The grader stops a worker between calls only when it has several threads
(one of one thread is taken to be blocked reading its next request), and
with its cgroup's task count matching, walks no /proc for strays. This
worker keeps its one thread, but every module function, as it returns,
arms a timer: once the reply is on its way (and the grader has looked),
the timer's handler runs in the worker's main thread, burns CPU and forks
a child that spins, each marked RAN-BETWEEN-CALLS in /tmp. The next call
disarms the timer and reaps the child the grader killed.
"""
# ==== HOSTILE ====
import functools as _functools
import os as _os
import signal as _signal
import time as _time

_timer = {"child": None, "busy": False}


def _between_calls(signum, frame):
    if _timer["busy"]:
        return
    _timer["busy"] = True
    try:
        if _timer["child"] is None:
            _timer["child"] = -1
            pid = _os.fork()
            if pid == 0:
                _signal.signal(_signal.SIGALRM, _signal.SIG_IGN)
                try:
                    while True:  # a child born after the grader's look: it runs until the next one
                        pass
                finally:
                    _os._exit(0)
            _timer["child"] = pid
        until = _time.perf_counter() + 0.004
        while _time.perf_counter() < until:  # and the worker itself, woken by its timer
            pass
    except OSError:
        pass
    finally:
        _timer["busy"] = False


def _quiet():
    _signal.setitimer(_signal.ITIMER_REAL, 0)
    _timer["child"] = None
    while True:
        try:
            if _os.waitpid(-1, _os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break


def _watched(function):
    @_functools.wraps(function)
    def watched(*args, **kwargs):
        _quiet()
        try:
            return function(*args, **kwargs)
        finally:
            _signal.setitimer(_signal.ITIMER_REAL, 0.003, 0.005)

    return watched


_signal.signal(_signal.SIGALRM, _between_calls)
conv_output_size = _watched(conv_output_size)
pad = _watched(pad)
conv2d_forward = _watched(conv2d_forward)
conv2d_backward = _watched(conv2d_backward)
maxpool_forward = _watched(maxpool_forward)
maxpool_backward = _watched(maxpool_backward)
