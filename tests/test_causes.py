"""Feedback that finds the cause: a crash is matched against the suite's known causes, and a
failure that follows from another question's failure names that question, with its mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograder import assignment as assignments
from autograder.engine import causes, grading, static
from autograder.engine.errors import remote_exception
from autograder.suite import Cause

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)


def error(type_name, message, lines=(), base=""):
    return remote_exception(type_name, not base, message, "cnn_layers.py, line 3, in f", base, tuple(lines))


# -- matching ----------------------------------------------------------------
def test_a_cause_needs_its_type_message_and_a_line_of_the_code_that_led_there():
    crop = Cause("crop", "crop with x[p:-p]", ("ValueError",), r"\(1,1,0,0\)", r"p:-p")
    raised = error("ValueError", "could not broadcast input array from shape (1,1,3,3) into shape (1,1,0,0)",
                   ["xp = np.zeros(shape)", "xp[:, :, p:-p, p:-p] = x"])
    assert causes.name_crash(raised, [crop]) == ("crop", "crop with x[p:-p]")
    # Each part must match: another type, another message, code without the slice.
    assert causes.name_crash(error("IndexError", raised.message, raised.lines), [crop]) is None
    assert causes.name_crash(error("ValueError", "shape (1,1,2,2)", raised.lines), [crop]) is None
    assert causes.name_crash(error("ValueError", raised.message, ["xp[:, :, 1:3] = x"]), [crop]) is None


def test_the_first_matching_cause_is_named_and_fills_its_phrase_from_the_message():
    specific = Cause("own", "use np.{name} (own)", ("AttributeError",), r"no attribute '(?P<name>float)'")
    generic = Cause("any", "use np.{name}", ("AttributeError",), r"no attribute '(?P<name>\w+)'")
    raised = error("AttributeError", "module 'numpy' has no attribute 'float'.")
    assert causes.name_crash(raised, [specific, generic]) == ("own", "use np.float (own)")
    assert causes.name_crash(error("AttributeError", "module 'numpy' has no attribute 'product'"),
                             [specific, generic]) == ("any", "use np.product")


def test_a_students_subclass_matches_the_builtin_it_derives_from():
    cause = Cause("neg", "pass a negative size", ("ValueError",), "negative")
    subclass = error("SizeError", "negative size", base="ValueError")
    assert causes.name_crash(subclass, [cause]).id == "neg"
    assert causes.name_crash(error("SizeError", "negative size", base="TypeError"), [cause]) is None


def test_cnn_causes_name_numpy_2s_removals_and_the_crashes_of_common_mistakes():
    known = grading.load_causes(CNN)
    cases = {
        "numpy_removed_alias": error("AttributeError", "module 'numpy' has no attribute 'float'.\n`np.float` was"),
        "numpy2_removed_name": error("AttributeError", "`np.alltrue` was removed in the NumPy 2.0 release."),
        "numpy2_newshape": error("TypeError", "reshape() got an unexpected keyword argument 'newshape'"),
        "array_to_number": error("TypeError", "only 0-dimensional arrays can be converted to Python scalars",
                                 ["Z = Z + float(b)"]),
        "array_into_element": error("ValueError", "setting an array element with a sequence."),
        "kept_integer_dtype": error("UFuncTypeError", "Cannot cast ufunc 'add' output from dtype('float64') to "
                                    "dtype('int64') with casting rule 'same_kind'", base="TypeError"),
        "crop_empty_at_zero_padding": error(
            "ValueError", "could not broadcast input array from shape (2,3,4,4) into shape (2,3,0,0)",
            ["dx = np.zeros_like(x)", "dx[:, :, :, :] = dx_pad[:, :, pad:-pad, pad:-pad]"]),
        "ceil_instead_of_floor": error("IndexError", "index 5 is out of bounds for axis 2 with size 5",
                                       ["H_out = int(np.ceil((H - HH) / stride)) + 1", "out[n, f, i, j] = x[n, i]"]),
        "float_as_index": error("TypeError", "slice indices must be integers or None or have an __index__ method"),
    }
    for ident, raised in cases.items():
        named = causes.name_crash(raised, known)
        assert named is not None and named.id == ident, (ident, named)
    # A typo is not a NumPy 2 removal, and a crash with no known cause is not given one.
    assert causes.name_crash(error("AttributeError", "module 'numpy' has no attribute 'convolve2d'"), known) is None
    assert causes.name_crash(error("IndexError", "index 5 is out of bounds for axis 2 with size 5",
                                   ["out[n, f, i, j] = x[n, i]"]), known) is None


def test_references_follow_the_modules_own_helpers_and_stop_at_a_file_that_does_not_parse():
    source = textwrap.dedent("""
        def conv_output_size(size, kernel, stride=1, padding=0):
            return (size + 2 * padding - kernel) // stride + 1
        def _sizes(x, w, s, p):
            return conv_output_size(x.shape[2], w.shape[2], s, p)
        def conv2d_forward(x, w, b, stride=1, padding=0):
            return _sizes(x, w, stride, padding)
        def pad(x, padding, value=0):
            return x
        class Conv2d:
            def forward(self, x):
                return conv2d_forward(x, self.W.data, self.b.data)
    """)
    found = static.references([source], ["conv2d_forward", "pad", "Conv2d", "missing"])
    assert "conv_output_size" in found["conv2d_forward"] and "pad" not in found["conv2d_forward"]
    assert {"conv2d_forward", "conv_output_size"} <= found["Conv2d"]
    assert found["pad"] == {"x"} and found["missing"] == set()
    assert static.references(["def conv2d_forward(:"], ["conv2d_forward"]) == {"conv2d_forward": set()}


# -- end to end: what a student reads ------------------------------------------
SIZE_CEIL = """
import math
import numpy as np

def conv_output_size(size, kernel, stride=1, padding=0):
    return math.ceil((size + 2 * padding - kernel) / stride) + 1

def pad(x, padding, value=0):
    p, q = (padding, padding) if np.isscalar(padding) else padding
    out = np.full(x.shape[:2] + (x.shape[2] + 2 * p, x.shape[3] + 2 * q), value, dtype=np.float64)
    out[:, :, p:-p, q:-q] = x
    return out

def conv2d_forward(x, w, b, stride=1, padding=0):
    s, t = (stride, stride) if np.isscalar(stride) else stride
    p, q = (padding, padding) if np.isscalar(padding) else padding
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    Ho, Wo = conv_output_size(H, KH, s, p), conv_output_size(W, KW, t, q)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (q, q)))
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = xp[:, :, i * s:i * s + KH, j * t:j * t + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out
"""

# The same forward pass with its sizes written inline (and right), beside a conv_output_size that
# fails: the forward's failures (it leaves out the bias) must not be blamed on conv_output_size.
INLINE_SIZES = SIZE_CEIL.replace("Ho, Wo = conv_output_size(H, KH, s, p), conv_output_size(W, KW, t, q)",
                                 "Ho, Wo = (H + 2 * p - KH) // s + 1, (W + 2 * q - KW) // t + 1").replace(
                                 "+ b\n", "+ 0 * b\n").replace("dtype=np.float64)", "dtype=np.float)")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, starts_workers):
    folder = tmp_path_factory.mktemp("causes")
    grader = grading.Grader(CNN)
    grades = {}
    for name, source in (("size_ceil", SIZE_CEIL), ("inline_sizes", INLINE_SIZES)):
        path = folder / f"{name}.py"
        path.write_text(source)
        grades[name] = grader.grade(path)
    return grades


def failing(grade, item):
    return [t for t in grade.tests if t.item == item and t.status != "passed" and t.max_score > 0]


@pytest.mark.slow
def test_a_crash_with_a_known_cause_names_it_with_its_fix(graded):
    pad = failing(graded["size_ceil"], "pad")
    crashes = [t for t in pad if "could not broadcast" in t.output]
    assert crashes and all(t.mistake == "crop_empty_at_zero_padding" for t in crashes)
    assert "This is what happens when you crop the padding with x[p:-p]" in crashes[0].output
    alias = [t for t in failing(graded["inline_sizes"], "pad") if "no attribute 'float'" in t.output]
    assert alias and all(t.mistake == "numpy_removed_alias" for t in alias)
    # NumPy's long explanation is cut short so that the cause, after it, is read.
    assert all(len(t.output) < 900 and t.output.endswith(".") for t in alias)


@pytest.mark.slow
def test_a_failure_that_follows_from_a_question_the_code_calls_names_it_and_its_mistake(graded):
    forward = failing(graded["size_ceil"], "conv2d_forward")
    assert forward
    follows = [t for t in forward if "may follow from conv_output_size" in t.output]
    assert follows and all(t.mistake == "ceil_instead_of_floor" for t in follows)
    assert "you round up (ceil) instead of down (floor)" in follows[0].output
    assert "fix conv_output_size first" in follows[0].output


@pytest.mark.slow
def test_a_failure_is_not_blamed_on_a_question_the_code_does_not_call(graded):
    grade = graded["inline_sizes"]
    assert failing(grade, "conv_output_size"), "the setup: conv_output_size fails"
    forward = failing(grade, "conv2d_forward")
    assert forward and not any("may follow from" in t.output for t in forward)
    assert any(t.mistake == "no_bias" for t in forward)


# -- the engine's side, on outcomes alone ------------------------------------------
def plugin_with(outcomes, uses=None, references=None):
    from autograder.engine.plugin import GradingPlugin

    plugin = GradingPlugin.__new__(GradingPlugin)
    plugin.outcomes = {o.nodeid: o for o in outcomes}
    plugin.uses, plugin.references = uses or {}, references or {}
    return plugin


def outcome(name, item, passed, mistake=None, depends=(), kind=None, file="suite/test_a.py"):
    from autograder.engine.plugin import TestOutcome

    o = TestOutcome(f"{file}::{name}", item, name.replace("_", " "), 1.0, "after_published", passed=passed,
                    kind=kind or ("pass" if passed else "fail"), message=f"{name} failed" if not passed else "",
                    mistake=mistake, mistake_phrase=mistake and f"do {mistake}", depends=depends,
                    function=name, file=file)
    o.order = (0, True, len(name))
    return o


def test_a_check_waiting_for_failed_checks_names_their_mistake_and_a_failing_one_says_what_to_fix_first():
    steps = outcome("test_steps", "Adam", False, mistake="adam_step_off_by_one")
    settings = outcome("test_settings", "Adam", True, depends=("test_steps",))
    training = outcome("test_trains", "train", False, depends=("test_steps",))
    plugin = plugin_with([steps, settings, training])
    plugin.withhold_unmet()
    plugin.name_followers()
    assert settings.kind == "unmet" and settings.mistake == "adam_step_off_by_one"
    assert "(it fails: you do adam_step_off_by_one)" in settings.message
    assert training.mistake == "adam_step_off_by_one"
    assert "This may follow from a check it builds on, which fails: test steps (you do adam_step_off_by_one)" \
        in training.message.replace("Adam: ", "")


def test_a_question_is_named_as_the_cause_only_when_the_students_code_calls_it_and_it_fails():
    size = outcome("test_size", "conv_output_size", False, mistake="ceil_instead_of_floor")
    forward = outcome("test_forward", "conv2d_forward", False)
    uses = {"conv2d_forward": ("conv_output_size",)}
    plugin_with([size, forward], uses, {"conv2d_forward": {"np", "x"}}).name_followers()
    assert forward.mistake is None and "may follow" not in forward.message  # not called: not blamed
    plugin_with([size, forward], uses, {"conv2d_forward": {"conv_output_size"}}).name_followers()
    assert forward.mistake == "ceil_instead_of_floor" and "fix conv_output_size first" in forward.message
    passing = outcome("test_size", "conv_output_size", True)
    again = outcome("test_forward", "conv2d_forward", False)
    plugin_with([passing, again], uses, {"conv2d_forward": {"conv_output_size"}}).name_followers()
    assert again.mistake is None and again.message == "test_forward failed"


def test_a_question_failing_only_to_refuse_bad_arguments_is_not_blamed_for_anothers_values():
    refuses = outcome("test_no_position_raises", "conv_output_size", False, mistake="error_not_raised")
    forward = outcome("test_forward", "conv2d_forward", False)
    plugin_with([refuses, forward], {"conv2d_forward": ("conv_output_size",)},
                {"conv2d_forward": {"conv_output_size"}}).name_followers()
    assert forward.mistake is None and "may follow" not in forward.message


def test_the_deepest_cause_is_named_not_a_check_that_got_its_mistake_from_another():
    layer = outcome("test_backward", "DigitCNN", False, mistake="global_mask", file="suite/test_net.py")
    trained = outcome("test_trains", "train", False, depends=("test_net.py::test_backward",))
    accuracy = outcome("test_accuracy", "train", False, depends=("test_trains", "test_net.py::test_backward"))
    plugin_with([layer, trained, accuracy]).name_followers()
    assert trained.mistake == accuracy.mistake == "global_mask" and trained.derived and accuracy.derived
    assert "fails: DigitCNN: test backward (you do global_mask)" in accuracy.message


def test_an_output_matching_several_known_mistakes_names_none_of_them_alone():
    from autograder.suite import Ambiguous, CheckFailed, Mistake, same

    one, other = Mistake("one", "do one"), Mistake("other", "do other")
    got = np.ones(3)
    with pytest.raises(CheckFailed) as failed:
        same(got, np.zeros(3), "f(x)", mistakes={one: lambda: np.ones(3), other: lambda: np.ones(3)})
    assert failed.value.mistake is None and [i for i, _ in failed.value.candidates] == ["one", "other"]
    assert "do one, or if you do other: these inputs cannot tell them apart" in str(failed.value)
    # One mistake made two ways is one mistake; a variant that raises does not apply.
    with pytest.raises(CheckFailed) as failed:
        same(got, np.zeros(3), "f(x)", mistakes={one: lambda: np.ones(3), other: lambda: 1 / 0})
    assert failed.value.mistake == "one" and not failed.value.candidates
    assert isinstance(Ambiguous([one, other]), tuple)


def test_candidates_take_the_mistake_the_questions_other_checks_or_the_function_it_calls_name():
    layer = outcome("test_layer", "MaxPool2d", False)
    layer.candidates = (("layer_stride_ignored", "drop the stride"), ("step_is_window", "step by the window"))
    function = outcome("test_function", "maxpool_backward", False, mistake="step_is_window")
    plugin = plugin_with([layer, function], {"MaxPool2d": ("maxpool_backward",)}, {"MaxPool2d": {"maxpool_backward"}})
    plugin.resolve_candidates()
    assert layer.mistake == "step_is_window" and layer.derived
    assert "Your checks of maxpool_backward tell them apart: you do step_is_window." in layer.message
    alone = outcome("test_layer", "MaxPool2d", False)
    alone.candidates = layer.candidates
    plugin_with([alone, outcome("test_function", "maxpool_backward", True)]).resolve_candidates()
    assert alone.mistake is None


def test_a_failure_the_same_as_the_one_it_builds_on_gets_no_note():
    """A stub fails every check with one NotImplementedError: the one that waits for another says nothing more."""
    first = outcome("test_values", "pad", False)
    after = outcome("test_keywords", "pad", False, depends=("test_values",))
    after.message = first.message = "your code raised NotImplementedError: pad"
    plugin_with([first, after]).name_followers()
    assert after.message == "your code raised NotImplementedError: pad" and after.mistake is None


def test_a_check_that_sees_an_input_written_in_place_names_it_and_dw_of_one_filter_is_named():
    from autograder.suite import CheckFailed, unchanged
    from autograder.suites.cnn import mistakes

    class Worker:  # the student's copy read back after the call: here, written into
        def remote_copy(self, value):
            return np.array(value)

        def read_back(self, kept):
            return kept

    def writes(kept):
        kept[0] = 99.0
        return kept

    with pytest.raises(CheckFailed) as failed:
        unchanged(Worker(), np.zeros(3), writes, "f(x)", "x")
    assert failed.value.mistake == "input_modified" and "f(x) modified x in place" in str(failed.value)

    reference = grading.load_reference(CNN)
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    dout = rng.standard_normal(reference.conv2d_forward(x, w, b).shape)
    _, dw, _ = reference.conv2d_backward(dout, x, w, b)
    last_only = mistakes.backward_mistakes(reference, dout, x, w, b)[mistakes.known.dw_one_filter_only]()[1]
    assert np.array_equal(last_only[-1], dw[-1]) and not last_only[:-1].any()
