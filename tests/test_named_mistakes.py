"""Every check a known mistake fails names it (issue 17): the hidden checks of part 1 run in this process
against the reference with one function replaced by a typical wrong version.

A wrong version here returns values wherever the checks call it (it never crashes), so each of its
failures must carry the mistake's id: a check that misses it would leave the student with a bare
"wrong values". Checks that pass are fine (a stride-ignoring backward is right for stride=None).
"""

from __future__ import annotations

import importlib.util
import zlib
from pathlib import Path

import numpy as np
import pytest

from autograder.suite import CheckFailed
from autograder.suites.cnn import mistakes, pool_mistakes
from autograder.suites.cnn import test_conv2d_backward, test_Conv2d, test_maxpool_backward, test_MaxPool2d

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_PATH = ROOT / "solutions" / "cnn" / "cnn_layers.py"
SEEDS = range(3)


def _load(name):
    spec = importlib.util.spec_from_file_location(name, REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCE = _load("reference_for_named_mistakes")


class Student:
    """The reference module with some functions replaced (its layers call the replacements), behind
    the `student` fixture's interface."""

    def __init__(self, **replaced):
        self._module = _load("student_for_named_mistakes")
        for name, function in replaced.items():
            setattr(self._module, name, function)

    def __getattr__(self, name):
        return getattr(self._module, name)

    def remote_copy(self, value):
        return np.array(value, copy=True)

    def read_back(self, kept):
        return kept


def checks(*suites):
    return [getattr(suite, name) for suite in suites for name in dir(suite) if name.startswith("test_")]


def outcomes(student, suites, seed):
    """{check name: None (passed) | the id its failure names ("" for none, "crash" when the wrong
    version raised, a frozenset of ids when it matched several alike)}."""
    found = {}
    for check in checks(*suites):
        name = f"{check.__module__.rsplit('.', 1)[-1]}::{check.__name__}"
        rng = np.random.default_rng([seed, zlib.crc32(check.__name__.encode())])
        try:
            check(student, REFERENCE, rng)
        except CheckFailed as failure:
            # Several mistakes matched alike: their ids (the engine names one from the other checks).
            found[name] = failure.mistake or frozenset(ident for ident, _ in failure.candidates) or ""
        except AssertionError:
            found[name] = ""
        except (ValueError, IndexError):
            found[name] = "crash"
        else:
            found[name] = None
    return found


def names(found, ident) -> bool:
    """The failure names `ident`, or lists it among the mistakes it matched alike."""
    return found == ident or (isinstance(found, frozenset) and ident in found)


def batch_mean_backward(dout, x, w, b, stride=1, padding=0):
    """dw and db averaged over the batch (as a mean loss would), dx right."""
    return mistakes.batch_mean_backward(REFERENCE, dout, x, w, b, stride, padding)


def stride_ignored(**how):
    def maxpool_backward(dout, x, pool_size=2, stride=None):
        try:
            return pool_mistakes.stride_ignored_backward(dout, x, pool_size, stride, **how)
        except ValueError as exc:
            if "nothing is ignored" in str(exc):  # the stride is the step: the right dx
                return REFERENCE.maxpool_backward(dout, x, pool_size, stride)
            raise
    return maxpool_backward


@pytest.mark.parametrize("seed", SEEDS)
def test_every_backward_check_that_batch_mean_fails_names_it(seed):
    found = outcomes(Student(conv2d_backward=batch_mean_backward), (test_conv2d_backward, test_Conv2d), seed)
    failed = {name: mistake for name, mistake in found.items() if mistake is not None}
    unnamed = sorted(name for name, mistake in failed.items() if not names(mistake, "batch_mean"))
    assert unnamed == [], f"these checks fail batch_mean without naming it: {unnamed}"
    # Every gradient check with a batch of more than one image fails it: the function's and the layer's
    # groups, the numerical gradients, db's sum, and the accumulation over two batches.
    assert len(failed) >= 20, sorted(failed)
    for name in ("test_conv2d_backward::test_gradients_match_numerical_gradients",
                 "test_conv2d_backward::test_db_sums_over_batch_and_positions",
                 "test_Conv2d::test_gradients_accumulate_over_batches"):
        assert name in failed, name


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("how, ident", [({"step_one": True}, "pool_backward_step_is_one")])
def test_every_pool_check_that_a_stride_ignoring_backward_fails_names_it(seed, how, ident):
    """Windows moved by 1 never leave x, so this form never crashes: every failure must name it."""
    found = outcomes(Student(maxpool_backward=stride_ignored(**how)), (test_maxpool_backward, test_MaxPool2d), seed)
    failed = {name: mistake for name, mistake in found.items() if mistake is not None}
    unnamed = sorted(name for name, mistake in failed.items() if not names(mistake, ident))
    assert unnamed == [], f"these checks fail '{ident}' without naming it: {unnamed}"
    assert len(failed) >= 15, sorted(failed)


@pytest.mark.parametrize("how, ident", [({}, "pool_backward_step_is_window"),
                                        ({"own_count": True}, "pool_backward_stride_ignored")])
def test_windows_moved_by_pool_size_are_named_where_they_do_not_crash(how, ident):
    """Windows moved by pool_size run past x (or past dout) on most overlapping strides, where the
    student's code crashes (naming a crash is the engine's); every failure that is a wrong value names it,
    and some are, on the function and on the layer."""
    found = outcomes(Student(maxpool_backward=stride_ignored(**how)), (test_maxpool_backward, test_MaxPool2d), 0)
    failed = {name: mistake for name, mistake in found.items() if mistake is not None}
    wrong_values = {name: mistake for name, mistake in failed.items() if mistake != "crash"}
    assert all(names(mistake, ident) for mistake in wrong_values.values()), wrong_values
    assert {name.split("::")[0] for name in wrong_values} == {"test_maxpool_backward", "test_MaxPool2d"}
