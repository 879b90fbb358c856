"""The reference, plus files in /var/tmp deleted but kept open at import (the user level).

A deleted file that is still open holds its space and has no name to walk to:
320 MB went by the cap unseen. The grader must count what the worker's
processes hold open, and stop it past disk_mb.
"""
# ==== HOSTILE ====
import os as _os
import time as _time

_held = []
for _i in range(20):
    try:
        _f = open(f"/var/tmp/unlinked_@MARK@_{_i}", "wb")
        _f.write(b"x" * (16 << 20))
        _f.flush()
        _os.unlink(_f.name)
        _held.append(_f)
    except OSError:
        break
    _time.sleep(0.05)
print("HELD-ALL" if len(_held) == 20 else f"HELD-{len(_held)}")
