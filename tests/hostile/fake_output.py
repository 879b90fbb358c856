"""Wrong answers, plus fake pytest and JSON output and 10 MB of noise.

At import it prints a fake pytest summary ("34 passed", "=== 100 passed ===")
and a fake Gradescope results JSON to stdout and stderr, then 10 MB of
filler; every call of its (wrong) conv2d_forward prints more of the same.
"""
# include: wrong_answers.py
# ==== HOSTILE ====
import json
import sys

_FAKE = "\n".join([
    "============================= test session starts ==============================",
    "collected 34 items",
    "tests/test_cnn.py .................................. [100%]",
    "============================== 34 passed in 0.12s ==============================",
    "=== 100 passed ===",
    json.dumps({"score": 100.0, "max_score": 100.0, "output": "All tests passed", "tests": []}),
])
print(_FAKE, flush=True)
sys.stderr.write(_FAKE + "\n" + json.dumps({"score": 100.0}) + "\n")
sys.stdout.write(("=== 100 passed === " + "x" * 81 + "\n") * 100_000)  # 10 MB
sys.stdout.flush()

_quiet_conv2d_forward = conv2d_forward


def conv2d_forward(x, w, b, stride=1, padding=0):
    print(_FAKE, flush=True)
    sys.stderr.write('{"score": 100.0, "status": "passed"}\n' * 1000)
    sys.stdout.write("y" * 1_000_000)
    return _quiet_conv2d_forward(x, w, b, stride, padding)
