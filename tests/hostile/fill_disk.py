"""The reference, plus an attempt to fill the disk and leave a very deep folder, at import.

It writes 8 MB files into /tmp and into its home until a write fails
(at most 400 MB each), tries /dev/shm the same way, and makes a folder
2500 levels deep in /tmp. It prints how much each folder took
(FILLED <folder> <MB>), then the module works as the reference does.
"""
# ==== HOSTILE ====
import os as _os


def _fill(folder, limit_mb=400):
    written = 0
    chunk = b"x" * (8 << 20)
    try:
        for i in range(limit_mb // 8):
            with open(_os.path.join(folder, f"fill_@MARK@_{i}"), "wb") as f:
                f.write(chunk)
            written += 8
    except OSError:
        pass
    print(f"FILLED {folder} {written}")


for _folder in ("/tmp", _os.path.expanduser("~"), "/dev/shm"):
    _fill(_folder)


def _deep(top, levels=2500):
    here = _os.getcwd()
    try:
        _os.chdir(top)
        for _ in range(levels):
            _os.mkdir("deep_@MARK@")
            _os.chdir("deep_@MARK@")
        print("DEEP", levels)
    except OSError as exc:
        print("DEEP-STOPPED", type(exc).__name__)
    finally:
        _os.chdir(here)


_deep(_os.environ.get("TMPDIR") or "/tmp")
