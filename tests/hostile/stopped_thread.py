"""A thread that spins forever, started at import; maxpool_forward returns 20 MB of zeros.

Between two requests of the grader the worker must be stopped, and the
thread with it. Honest part: maxpool_forward returns a large wrong array,
so after each of its calls the grader spends a while reading it (the
worker is stopped by then). To see that from inside, the hostile part
wraps the worker's own request loop (found with gc): after each reply it
notes the wall clock and the thread's CPU time, and before handling the
next request, if more than 20 ms passed, it prints `GAP <seconds>
<seconds the thread ran>`. Stopped, the thread runs only from the reply
until the grader gets to stop it; left running, as much as the machine
gives it.
"""


def maxpool_forward(x, pool_size=2, stride=None):
    return np.zeros(2_500_000)
# ==== HOSTILE ====
import gc as _gc
import threading as _threading
import time as _time

_spun = [0.0]
_gaps = {"since": None}


def _spin():
    while True:
        _spun[0] = _time.thread_time()


_threading.Thread(target=_spin, daemon=True).start()


def _wrap(worker):
    handle, reply = worker.handle, worker.reply

    def handled(*args):
        since = _gaps["since"]
        if since is not None and _time.monotonic() - since[0] > 0.02:
            print(f"GAP {_time.monotonic() - since[0]:.4f} {_spun[0] - since[1]:.4f}")
        return handle(*args)

    def replied(*args):
        try:
            return reply(*args)
        finally:
            _gaps["since"] = (_time.monotonic(), _spun[0])

    worker.handle, worker.reply = handled, replied


for _obj in _gc.get_objects():
    if type(_obj).__name__ == "Worker" and hasattr(_obj, "books"):
        _wrap(_obj)
