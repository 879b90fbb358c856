"""The reference, plus a folder crowded with 20,001 empty files, then 320 MB under it (the user level).

The count of the worker's files stopped at 20,000 entries and answered what it
had seen so far: crowding a folder switched the cap off. The grader must stop it.
"""
# ==== HOSTILE ====
import os as _os
import time as _time

_top = f"/tmp/crowd_@MARK@"
_os.makedirs(f"{_top}/zz", exist_ok=True)
for _i in range(20_001):
    open(f"{_top}/e{_i}", "wb").close()
for _i in range(20):
    with open(f"{_top}/zz/f{_i}", "wb") as _f:
        _f.write(b"x" * (16 << 20))
    _time.sleep(0.05)
print("FILLED-ALL")
