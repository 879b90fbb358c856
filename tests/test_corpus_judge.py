"""The corpus judge's verdicts are themselves checked: the feedback bench (bench/feedback.py) takes
the truth about each corpus file from it, so a judge that calls a correct file wrong, or misses a
known bug, would skew every number the bench reports."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "bench" / "corpus" / "part1"
sys.path.insert(0, str(ROOT / "bench" / "corpus"))
import judge  # noqa: E402


_VERDICTS = {}


def verdict(name):
    """The judge's verdict on one corpus file (a subprocess each; judged once per test run)."""
    if name not in _VERDICTS:
        _VERDICTS[name] = judge.judge(CORPUS / f"{name}.py")
    return _VERDICTS[name]


def test_a_correct_file_has_no_wrong_item():
    assert judge.wrong_items(verdict("im2col_indices_ok")) == []


@pytest.mark.parametrize("name, items, why", [
    # x[p:-p] crashes at padding 0 inside the channels-last backward: a crash is a wrong item too
    ("dlai_crop_empty_at_zero_padding", ["conv2d_backward", "Conv2d"], "could not broadcast"),
    # a mask of every tied maximum: only tied windows show it
    ("cs231n_mask_all_ties", ["maxpool_backward", "MaxPool2d"], "values differ"),
])
def test_a_known_wrong_file_has_its_items(name, items, why):
    found = verdict(name)
    assert judge.wrong_items(found) == items
    assert why in found[items[0]]


def test_the_headers_say_what_the_judge_says_for_these_files():
    for name in ("im2col_indices_ok", "dlai_crop_empty_at_zero_padding", "cs231n_mask_all_ties"):
        path = CORPUS / f"{name}.py"
        assert judge.read_header(path)["items"] == judge.wrong_items(verdict(name)), name


@pytest.mark.slow  # trains two networks (~2 s)
def test_the_capstone_judge_finds_a_relu_gradient_at_zero_and_passes_a_correct_capstone():
    import judge_capstone

    capstone = ROOT / "bench" / "corpus" / "capstone"
    assert judge_capstone.wrong_items(judge_capstone.judge(capstone / "capstone_ok.py")) == []
    found = judge_capstone.judge(capstone / "relu_gradient_at_zero.py")
    # DigitCNN too: from zero biases on blank strip columns, ReLU inputs are exactly 0
    assert judge_capstone.wrong_items(found) == ["ReLU", "DigitCNN", "train"]
