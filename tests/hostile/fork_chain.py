"""The reference, plus a chain of processes meant to outlive the kill after each call.

On its first call, pad forks a child that forks again and exits, over and
over (its pid keeps changing, so a kill aimed at the pids seen a moment ago
can miss the newest one), each generation writing a count into
/tmp/alive-<mark>. The next calls of a module function (a few dozen: each
costs a wait) read that file, wait 10 ms, and read it again: were a
generation still running, the grader's clean-up after the previous call
missed it, the count moves meanwhile, and the call prints RAN-BETWEEN-CALLS.
(Comparing with the time the previous call returned would also count the
moment between its reply and the grader's clean-up, when the chain may
still legitimately run.)
"""
# ==== HOSTILE ====
import functools
import os
import time

_ALIVE = "/tmp/alive-@MARK@"
_calls = {"started": False, "checks_left": 30}


def _read():
    try:
        with open(_ALIVE) as f:
            return f.read()
    except OSError:
        return None


def _chain():
    count = 0
    while True:
        count += 1
        try:
            with open(_ALIVE + ".tmp", "w") as f:
                f.write(str(count))
            os.replace(_ALIVE + ".tmp", _ALIVE)
        except OSError:
            pass
        try:
            if os.fork() != 0:
                os._exit(0)
        except OSError:
            time.sleep(0.001)


def _watched(function):
    @functools.wraps(function)
    def watched(*args, **kwargs):
        if not _calls["started"]:
            _calls["started"] = True
            if os.fork() == 0:
                _chain()
        elif _calls["checks_left"] > 0:
            _calls["checks_left"] -= 1
            before = _read()
            time.sleep(0.01)
            after = _read()
            if before != after:
                print(f"RAN-BETWEEN-CALLS {before} -> {after}")
        return function(*args, **kwargs)

    return watched


conv_output_size = _watched(conv_output_size)
pad = _watched(pad)
conv2d_forward = _watched(conv2d_forward)
maxpool_forward = _watched(maxpool_forward)
