"""The reference, plus a chain of processes meant to outlive the kill after each call.

On its first call, pad forks a child that forks again and exits, over and
over (its pid keeps changing, so a kill aimed at the pids seen a moment ago
can miss the newest one), each generation writing the time into
/tmp/alive-<mark>. Every later call of a module function reads that file:
were a generation left running after the previous call, the time it wrote
is later than that call's end, and the call prints RAN-BETWEEN-CALLS.
"""
# ==== HOSTILE ====
import functools
import os
import time

_ALIVE = "/tmp/alive-@MARK@"
_calls = {"started": False, "last_end": None}


def _chain():
    while True:
        try:
            with open(_ALIVE + ".tmp", "w") as f:
                f.write(repr(time.monotonic()))
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
        elif _calls["last_end"] is not None:
            try:
                with open(_ALIVE) as f:
                    written = float(f.read())
                if written > _calls["last_end"] + 0.002:
                    print(f"RAN-BETWEEN-CALLS {written - _calls['last_end']:.3f}")
            except (OSError, ValueError):
                pass
        try:
            return function(*args, **kwargs)
        finally:
            _calls["last_end"] = time.monotonic()

    return watched


conv_output_size = _watched(conv_output_size)
pad = _watched(pad)
conv2d_forward = _watched(conv2d_forward)
maxpool_forward = _watched(maxpool_forward)
