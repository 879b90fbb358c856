"""The reference, plus an infinite loop at import time: it never finishes loading.

It renames its process first, so the test can spot it if it outlives the batch.
"""
# ==== HOSTILE ====
try:
    with open("/proc/self/comm", "w") as _comm:
        _comm.write("i" + "@MARK@"[:13])
except OSError:
    pass
while True:
    pass
