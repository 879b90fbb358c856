"""MaxPool2d.backward spins forever (pure CPU) instead of answering.

Each check that calls it costs its full time limit; it is the method with
the fewest checks (a loop in maxpool_backward would cost 5 s for each of its
many checks). It renames its process first, so the test can spot it if it
outlives the batch.
"""


class MaxPool2d(MaxPool2d):
    def backward(self, dout):
        raise NotImplementedError("MaxPool2d.backward is not written yet")


# ==== HOSTILE ====
class MaxPool2d(MaxPool2d):
    def backward(self, dout):
        try:
            with open("/proc/self/comm", "w") as comm:
                comm.write("m" + "@MARK@"[:13])
        except OSError:
            pass
        while True:
            pass
