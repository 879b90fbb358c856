"""conv_output_size's hidden cases are drawn per seed, and no draw changes a verdict (issue 22).

The checks of autograder/suites/cnn/test_conv_output_size.py are called here
directly, in this process, with the reference and with each known wrong version
of the formula as the "student", over many seeds: each must pass or fail on every
draw alike. Then a student who hard-codes every case the feedback reveals, round
after round, through the real grader: each change draws new cases, so it gains
(almost) nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from autograder.suite import CheckFailed
from autograder.suites.cnn import size_cases
from autograder.suites.cnn import test_conv_output_size as suite

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_PATH = ROOT / "solutions" / "cnn" / "cnn_layers.py"
CHECKS = [getattr(suite, name) for name in dir(suite) if name.startswith("test_")]
SEEDS = range(200)


def _load_reference():
    spec = importlib.util.spec_from_file_location("reference_for_size_cases", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCE = _load_reference()


def _validated(wrong):
    """A wrong formula behind the reference's checks of its arguments (a student who got only the rounding wrong)."""
    def conv_output_size(size, kernel, stride=1, padding=0):
        if kernel < 1 or stride < 1 or padding < 0 or size + 2 * padding < kernel:
            raise ValueError("does not fit")
        return wrong(size, kernel, stride, padding)
    return conv_output_size


def _checked(kernel_ok, stride_ok, padding_ok, fits):
    """The floor behind checks of the arguments, each given as a test of what passes."""
    def conv_output_size(size, kernel, stride=1, padding=0):
        if not (kernel_ok(kernel) and stride_ok(stride) and padding_ok(padding) and fits(size, kernel, stride, padding)):
            raise ValueError("does not fit")
        return (size + 2 * padding - kernel) // stride + 1
    return conv_output_size


_KERNEL, _STRIDE, _PADDING = (lambda k: k >= 1), (lambda s: s >= 1), (lambda p: p >= 0)
_FITS = lambda size, k, s, p: size + 2 * p >= k  # noqa: E731
# Issue 17's last mutants: each check of an argument made one step too late, or at the wrong place,
# so it is right everywhere but at one boundary. The check named beside it meets that boundary on
# every draw (other checks may meet it on some draws too: they only add to what is lost).
BOUNDARIES = {
    "kernel 0 accepted": (_checked(lambda k: k >= 0, _STRIDE, _PADDING, _FITS), "test_no_position_raises"),
    "kernel unchecked": (_checked(lambda k: True, _STRIDE, _PADDING, _FITS), "test_no_position_raises"),
    "stride 0 accepted (divides by zero)": (_checked(_KERNEL, lambda s: s >= 0, _PADDING, _FITS),
                                            "test_no_position_raises"),
    "padding -1 accepted": (_checked(_KERNEL, _STRIDE, lambda p: p >= -1, _FITS), "test_no_position_raises"),
    "padding unchecked": (_checked(_KERNEL, _STRIDE, lambda p: True, _FITS), "test_no_position_raises"),
    "one too short accepted": (_checked(_KERNEL, _STRIDE, _PADDING, lambda size, k, s, p: size + 2 * p >= k - 1),
                               "test_no_position_raises"),
    "fit checked before the padding": (_checked(_KERNEL, _STRIDE, _PADDING, lambda size, k, s, p: size >= k),
                                       "test_edges"),
    "fit checked with one side's padding": (_checked(_KERNEL, _STRIDE, _PADDING,
                                                     lambda size, k, s, p: size + p >= k), "test_edges"),
    "exact fit refused": (_checked(_KERNEL, _STRIDE, _PADDING, lambda size, k, s, p: size + 2 * p > k), "test_edges"),
    "stride longer than the input refused": (_checked(_KERNEL, _STRIDE, _PADDING,
                                                      lambda size, k, s, p: size + 2 * p >= k and s <= size),
                                             "test_edges"),
    "stride longer than the padded input refused": (_checked(
        _KERNEL, _STRIDE, _PADDING, lambda size, k, s, p: size + 2 * p >= k and s <= size + 2 * p), "test_edges"),
}

STUDENTS = {
    "reference": REFERENCE.conv_output_size,
    **{f"{name} (unchecked)": wrong for name, wrong in size_cases.WRONG.items()},
    **{f"{name} (arguments checked)": _validated(wrong) for name, wrong in size_cases.WRONG.items()},
}


def verdict(check, student, seed) -> bool:
    rng = np.random.default_rng([seed, zlib.crc32(check.__name__.encode())])  # as the grader's rng fixture
    try:
        check(SimpleNamespace(conv_output_size=student), REFERENCE, rng)
    except (CheckFailed, AssertionError):
        return False
    except ValueError:  # the student's own error, where a value was due: the grader fails the check
        return False
    return True


@pytest.mark.parametrize("name", list(STUDENTS))
def test_every_check_gives_a_student_the_same_verdict_on_every_draw(name):
    student = STUDENTS[name]
    for check in CHECKS:
        verdicts = {verdict(check, student, seed) for seed in SEEDS}
        assert len(verdicts) == 1, f"{check.__name__} passes {name} on some draws and fails it on others"
    if name == "reference":
        assert all(verdict(check, student, 0) for check in CHECKS)
    elif name != "int() truncation (arguments checked)":  # right wherever a position fits: its check raises
        assert not all(verdict(check, student, 0) for check in CHECKS), f"no check catches {name}"


@pytest.mark.parametrize("name", list(BOUNDARIES))
def test_every_draw_meets_each_boundary_of_the_arguments(name):
    """A check one step off at a boundary (kernel 0, stride 0, padding -1, an exact fit thanks to the
    padding, a stride longer than the input) fails its check on every draw: never a lucky seed."""
    student, check = BOUNDARIES[name][0], getattr(suite, BOUNDARIES[name][1])
    passed = [seed for seed in SEEDS if verdict(check, student, seed)]
    assert passed == [], f"{check.__name__} passes '{name}' on the draws of seeds {passed[:10]}"


def test_every_draw_tells_apart_what_its_check_is_for_and_keeps_the_edges():
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        for draw, tells in ((size_cases.stride, size_cases.TELLS["stride"]),
                            (size_cases.stride_and_padding, size_cases.TELLS["stride and padding"]),
                            (size_cases.edges, size_cases.TELLS["edges"])):
            cases = draw(rng)
            assert size_cases.told_apart(cases) == tells
        spans = [(s + 2 * p - k, st) for s, k, st, p in map(size_cases.effective, size_cases.edges(rng))]
        assert sum(0 <= span < stride for span, stride in spans) == 5  # one output position
        for kind, case in size_cases.no_position(rng).items():
            with pytest.raises(ValueError):
                REFERENCE.conv_output_size(*case)


def test_no_hidden_case_is_fixed():
    """Two seeds share a case only by chance: across 200 draws, every case of every check varies."""
    def all_cases(seed):
        rng = np.random.default_rng(seed)
        return [size_cases.defaults(rng), size_cases.stride(rng), size_cases.padding(rng),
                size_cases.stride_and_padding(rng), size_cases.edges(rng), [size_cases.keywords(rng)],
                list(size_cases.no_position(rng).values())]

    draws = [all_cases(seed) for seed in SEEDS]
    for check in range(len(draws[0])):
        for position in range(len(draws[0][check])):
            seen = {draws[seed][check][position] for seed in SEEDS}
            assert len(seen) > 10, (check, position, seen)


# -- the hard-coding student, through the grader -------------------------------------------
HARD_CODED = '''

# ---- round {round}: every case the feedback revealed, hard-coded ----
import math as _math

_KNOWN = {known!r}


def conv_output_size(size, kernel, stride=1, padding=0):
    key = (size, kernel, stride, padding)
    if key in _KNOWN:
        if _KNOWN[key] is None:
            raise ValueError("hard-coded")
        return _KNOWN[key]
    if kernel < 1 or stride < 1 or padding < 0 or size + 2 * padding < kernel:
        raise ValueError("does not fit")
    return _math.ceil((size + 2 * padding - kernel) / stride) + 1
'''
REVEALED = re.compile(r"conv_output_size\(([^)]*)\) returned [^;]*; expected (it to raise ValueError|-?\d+)")


def revealed(message: str) -> dict:
    """{(size, kernel, stride, padding): the answer (None: raise)} of the cases a message names."""
    found = {}
    for arguments, expected in REVEALED.findall(message):
        given = {"stride": 1, "padding": 0}
        positional = []
        for part in (a.strip() for a in arguments.split(",")):
            name, _, value = part.rpartition("=")
            if name:
                given[name] = int(value)
            else:
                positional.append(int(value))
        given.update(zip(("size", "kernel"), positional))
        key = (given["size"], given["kernel"], given["stride"], given["padding"])
        found[key] = None if expected.startswith("it") else int(expected)
    return found


@pytest.mark.slow
def test_hard_coding_every_revealed_case_gains_nothing(tmp_path):
    """Issue 22's student: conv_output_size rounds up; each round hard-codes what the hidden feedback
    showed and resubmits. Eight rounds gain at most 0.6 of the question's 5 points."""
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_ISOLATION", "AUTOGRADER_ROOT")}
    path = tmp_path / "ceil.py"
    known: dict = {}
    scores, seeds = [], set()
    for round_ in range(9):
        path.write_text(REFERENCE_PATH.read_text() + HARD_CODED.format(round=round_, known=known))
        out = tmp_path / "out"
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", path, "--out", out, "--quiet"],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        grade = json.loads((out / "ceil" / "grade.json").read_text())
        scores.append(grade["by_item"]["conv_output_size"])
        seeds.add(grade["seed"])
        for test in grade["tests"]:
            if test["item"] == "conv_output_size" and test["status"] != "passed":
                known.update(revealed(test["output"]))
    assert len(seeds) == 9  # every resubmission drew new inputs
    assert len(known) >= 8, known  # the feedback did reveal cases, and they were hard-coded
    assert scores[0] < 5 and max(scores[1:]) - scores[0] <= 0.6, scores
