"""Wrong answers, plus an attempt to copy another submission of the same batch.

It knows where the batch's files are (the test bakes the paths in: a
classmate could guess them just as well), looks through the submissions'
folder, and through /proc for the grader's command line, which names every
submission. Whatever complete solution it finds, it runs and uses. (It
only takes files named like its victim, so as not to run the other hostile
submissions of the test's batch.)
"""
# include: wrong_answers.py
# ==== HOSTILE ====
import os

_VICTIM = "@VICTIM@"
_SUBS = "@SUBS@"
_CONTRACT = ("conv_output_size", "pad", "conv2d_forward", "conv2d_backward", "maxpool_forward",
             "maxpool_backward", "Parameter", "Module", "Conv2d", "MaxPool2d")


def _candidates():
    try:
        paths = [_VICTIM] + sorted(os.path.join(_SUBS, name) for name in os.listdir(_SUBS))
    except OSError:
        paths = [_VICTIM]
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        pids = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        paths += [a for a in args if a.endswith(".py")]
    return [p for p in dict.fromkeys(paths) if os.path.basename(p).startswith("victim")]


def _copy():
    for path in _candidates():
        try:
            with open(path, encoding="utf-8") as f:
                source = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        namespace = {"__name__": "copied"}
        try:
            exec(compile(source, path, "exec"), namespace)
        except BaseException:  # noqa: BLE001 - a neighbour may exit or loop; skip it
            continue
        if all(name in namespace for name in _CONTRACT):
            for name in _CONTRACT:
                globals()[name] = namespace[name]
            print("FOUND-NEIGHBOUR " + path, flush=True)
            return
    print("SEARCHED-NEIGHBOUR nothing found", flush=True)


_copy()
