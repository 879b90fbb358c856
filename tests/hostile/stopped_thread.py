"""A thread that spins forever, started at import; maxpool_forward returns 20 MB of zeros.

Between two requests of the grader the worker must be stopped, and the
thread with it. Honest part: maxpool_forward returns a large wrong array,
so after each of its calls the grader spends a while reading it (the
worker is stopped by then). To see that from inside, the hostile part
wraps the worker's own request loop (found with gc). The thread notes the
longest time it went without running since the last reply; before
handling a request that comes more than 20 ms after the last reply, the
worker prints `GAP <seconds since the reply> <longest stall>`. Stopped,
the thread stalls for most of the pause in one piece; left running, only
for a scheduler's time slice now and then.
"""

def maxpool_forward(x, pool_size=2, stride=None):
    return np.zeros(2_500_000)
# ==== HOSTILE ====
import gc as _gc
import threading as _threading
import time as _time

_state = {"last": _time.monotonic(), "stall": 0.0, "since": None}


def _spin():
    while True:
        now = _time.monotonic()
        if now - _state["last"] > _state["stall"]:
            _state["stall"] = now - _state["last"]
        _state["last"] = now


_threading.Thread(target=_spin, daemon=True).start()


def _wrap(worker):
    handle, reply = worker.handle, worker.reply

    def handled(*args):
        since, now = _state["since"], _time.monotonic()
        if since is not None and now - since > 0.02:
            stall = max(_state["stall"], now - _state["last"])  # a stall still going on counts too
            print(f"GAP {now - since:.4f} {stall:.4f}")
        return handle(*args)

    def replied(*args):
        try:
            return reply(*args)
        finally:
            _state["since"], _state["stall"] = _time.monotonic(), 0.0

    worker.handle, worker.reply = handled, replied


for _obj in _gc.get_objects():
    if type(_obj).__name__ == "Worker" and hasattr(_obj, "books"):
        _wrap(_obj)
