"""Ignores the polite signals at import; MaxPool2d.backward then sleeps forever.

The sleep loop swallows every exception (KeyboardInterrupt too), so only
SIGKILL or the end of its namespace can stop it. It renames its process
first, so the test can spot it if it outlives the batch.
"""


class MaxPool2d(MaxPool2d):
    def backward(self, dout):
        raise NotImplementedError("MaxPool2d.backward is not written yet")


# ==== HOSTILE ====
import signal
import time

for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
             signal.SIGPIPE, signal.SIGALRM, signal.SIGXCPU):
    try:
        signal.signal(_sig, signal.SIG_IGN)
    except (OSError, ValueError):
        pass


class MaxPool2d(MaxPool2d):
    def backward(self, dout):
        try:
            with open("/proc/self/comm", "w") as comm:
                comm.write("t" + "@MARK@"[:13])
        except OSError:
            pass
        while True:
            try:
                time.sleep(0.05)
            except BaseException:  # noqa: BLE001
                pass
