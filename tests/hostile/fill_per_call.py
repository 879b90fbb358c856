"""The reference, plus 16 MB written to /run/lock (or /var/tmp) in every call of conv_output_size,
which returns at once with the right answer (the user level).

The disk cap was looked at only while a call was slow: calls that write and return
at once wrote 400 MB and scored 100. The grader must stop the worker once it has
written more than disk_mb, and leave no file behind.
"""
# ==== HOSTILE ====
import os as _os

_reference_conv_output_size = conv_output_size
_calls = [0]


def conv_output_size(*args, **kwargs):
    for folder in ("/run/lock", "/var/lock", "/var/tmp"):
        if _os.path.isdir(folder) and _os.access(folder, _os.W_OK):
            break
    _calls[0] += 1
    try:
        with open(_os.path.join(folder, f"percall_@MARK@_{_os.getpid()}_{_calls[0]}"), "wb") as f:
            f.write(b"x" * (16 << 20))
    except OSError:
        pass
    return _reference_conv_output_size(*args, **kwargs)
