"""The reference, plus filling a world-writable folder other than /tmp at import (the user level).

Outside a namespace sandbox the worker's uid can write wherever any user
may: not only its own folder, /tmp, /var/tmp and /dev/shm, but /run/lock
(/var/lock) and any other world-writable folder of the host. At import this
writes 8 MB files (names carry the run's marker) into /run/lock, slowly
enough to be seen, up to 400 MB. The grader must stop it once it has written
more than disk_mb (the submission then cannot be loaded) and remove its files.
"""
# ==== HOSTILE ====
import os as _os
import time as _time


def _fill_lock():
    chunk = b"x" * (8 << 20)
    for folder in ("/run/lock", "/var/lock"):
        if _os.path.isdir(folder) and _os.access(folder, _os.W_OK):
            break
    else:
        print("NO-LOCK-FOLDER")
        return
    for i in range(50):
        try:
            with open(_os.path.join(folder, f"fill_@MARK@_{i}"), "wb") as f:
                f.write(chunk)
        except OSError:
            pass
        _time.sleep(0.02)
    print("FILLED-ALL")


_fill_lock()
