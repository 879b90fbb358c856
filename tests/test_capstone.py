"""The capstone (assignments/cnn_capstone): graded by the same engine as the first part.

One batch grades the reference (module and notebook), the untouched handout and
every bundled example except the four-loop one (bench/capstone.py times that).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import golden_outputs

from autograder import assignment as assignments
from autograder import build, cli, commands

ROOT = Path(__file__).resolve().parents[1]
CAPSTONE = assignments.load("cnn_capstone", ROOT)
SOLUTION = ROOT / "solutions" / "cnn_capstone"
EXAMPLES = build.examples(CAPSTONE)
SOURCES = ROOT / "assignments" / "cnn_capstone" / "examples"
ITEMS = [q.item for q in CAPSTONE.questions]
FULL = {q.item: q.points for q in CAPSTONE.questions}


def run_kit(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


def example_meta(name: str) -> tuple[list[str], str, list[str]]:
    """What the example loses on every draw, the phrase its feedback names, and what it loses on some draws."""
    text = (SOURCES / f"{name}.py").read_text()
    affects = re.search(r"^# affects: *(.*)$", text, re.M).group(1).split()
    phrase = re.search(r"^# feedback names: *(.*)$", text, re.M).group(1).strip()
    sometimes = re.search(r"^# on some draws: *(.*)$", text, re.M)
    return affects, phrase, sometimes.group(1).split() if sometimes else []


def submission(folder: Path, files: dict[str, Path]) -> Path:
    folder.mkdir(parents=True)
    for name, source in files.items():
        shutil.copyfile(source, folder / name)
    return folder


GRADED_EXAMPLES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and p.name != "part1_four_loops")


@pytest.fixture(scope="module")
def batch(tmp_path_factory, starts_workers):
    subs = tmp_path_factory.mktemp("capstone-subs")
    layers = SOLUTION / "cnn_layers.py"
    folders = [
        submission(subs / "reference", {"capstone.py": SOLUTION / "capstone.py", "cnn_layers.py": layers}),
        submission(subs / "reference_notebook", {"capstone.ipynb": SOLUTION / "capstone.ipynb", "cnn_layers.py": layers}),
        submission(subs / "untouched_handout", {"capstone.py": ROOT / "student_template/cnn_capstone/capstone.py",
                                                "cnn_layers.py": layers}),
        *[submission(subs / name, {f.name: f for f in (EXAMPLES / name).iterdir()}) for name in GRADED_EXAMPLES],
    ]
    out = tmp_path_factory.mktemp("capstone-grades")
    result = run_kit("grade", *folders, "--assignment", "cnn_capstone", "--out", out, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    grades = {f.name: json.loads((f / "grade.json").read_text()) for f in out.iterdir() if (f / "grade.json").is_file()}
    return out, grades


@pytest.mark.slow
def test_outputs_are_those_of_the_snapshot(batch):
    out = batch[0]  # the class report shows the speed leaderboard's times: left out
    golden_outputs.compare("capstone", golden_outputs.outputs(out, report=False), {str(out): "<out>"})


@pytest.mark.slow
def test_reference_module_and_notebook_score_100(batch):
    _, grades = batch
    for name in ("reference", "reference_notebook"):
        failed = [t for t in grades[name]["tests"] if t["status"] != "passed"]
        assert grades[name]["score"] == 100, (name, failed)


@pytest.mark.slow
def test_reference_reaches_the_reference_accuracy_exactly(batch):
    # Same initial weights, same batches, same code: the same predictions, so the same accuracy.
    measures = batch[1]["reference"]["measures"]
    assert measures["accuracy"] == measures["reference_accuracy"] > 85
    assert measures["unseen_accuracy"] - measures["mlp_unseen_accuracy"] > 40
    assert len(measures["filters"]) == 8 and np.shape(measures["filters"][0]) == (3, 3)


@pytest.mark.slow
def test_untouched_handout_scores_zero_and_says_what_to_write(batch):
    out, grades = batch
    assert grades["untouched_handout"]["score"] == 0
    feedback = (out / "untouched_handout" / "feedback.md").read_text()
    for item in ("ReLU", "Flatten", "GlobalMaxPool2d", "Linear", "softmax_cross_entropy", "Adam", "DigitCNN"):
        assert f"NotImplementedError: {item}" in feedback, item


@pytest.mark.slow
@pytest.mark.parametrize("example", GRADED_EXAMPLES)
def test_example_loses_only_its_items_and_feedback_names_the_mistake(batch, example):
    out, grades = batch
    affects, phrase, sometimes = example_meta(example)
    grade = grades[example]
    for item in ITEMS:
        if item in sometimes:
            continue  # lost or not depending on the student's draw (bench/seeds.py)
        if item in affects:
            assert grade["by_item"][item] < FULL[item], f"{example} should lose points on {item}"
        else:
            assert grade["by_item"][item] == pytest.approx(FULL[item]), f"{example} lost points on {item}"
    if phrase:
        assert phrase.lower() in (out / example / "feedback.md").read_text().lower()


def example_mistake(name: str) -> str:
    """The id of the mistake an example makes (its `# mistake:` header), "" for a correct one."""
    return re.search(r"^# mistake: *(.*)$", (SOURCES / f"{name}.py").read_text(), re.M).group(1).strip()


def test_every_example_names_a_mistake_of_the_registry():
    from autograder.suites.cnn_capstone.mistakes import REGISTRY

    for name in GRADED_EXAMPLES:
        assert example_mistake(name) in REGISTRY, name


@pytest.mark.slow
@pytest.mark.parametrize("example", GRADED_EXAMPLES)
def test_every_check_an_example_fails_names_its_mistake_by_id(batch, example):
    """Each hidden check the example fails (training's included: they name the layer check that explains
    them) carries the example's mistake id, and its phrase is in the feedback."""
    from autograder.suites.cnn_capstone.mistakes import REGISTRY

    out, grades = batch
    ident = example_mistake(example)
    failed = [t for t in grades[example]["tests"] if t["status"] != "passed" and t["visibility"] != "visible"]
    assert failed, example
    assert {t["mistake"] for t in failed} == {ident}, [(t["name"], t["mistake"]) for t in failed]
    assert {t["mistake_phrase"] for t in failed} == {REGISTRY[ident]}
    assert REGISTRY[ident] in (out / example / "feedback.md").read_text()


ADAM_EXAMPLES = ["adam_correction_without_t", "adam_eps_inside_sqrt", "adam_step_count_ahead", "adam_step_count_zero",
                 "adam_without_bias_correction"]


@pytest.mark.slow
@pytest.mark.parametrize("example", ADAM_EXAMPLES)
def test_a_wrong_adam_update_loses_the_updates_points_not_the_settings_nor_zero_grad(batch, example):
    grade = batch[1][example]
    adam = [t for t in grade["tests"] if t["item"] == "Adam" and t["visibility"] != "visible"]
    assert {t["name"] for t in adam if t["status"] != "passed"} == {
        "Adam: four steps with the default settings move each parameter as the formulas say"}
    assert grade["by_item"]["Adam"] == pytest.approx(FULL["Adam"] * 3 / 7, abs=0.01)  # settings (2) and zero_grad (1) of 7
    trained = next(t for t in grade["tests"] if "ends at the reference's parameters" in t["name"])
    # The check that training builds on, and its mistake, are named as what to fix first.
    assert "Adam: four steps with the default settings" in trained["output"], trained["output"]
    assert trained["mistake"] == next(t["mistake"] for t in adam if t["status"] != "passed")


@pytest.mark.slow
def test_relu_passing_at_zero_loses_the_networks_backward(batch):
    grade = batch[1]["relu_passes_at_zero"]
    network = [t for t in grade["tests"] if t["item"] == "DigitCNN" and t["status"] != "passed"]
    assert [t["name"] for t in network] == [
        "DigitCNN: backward returns dx and fills every parameter's grad as the reference network does, "
        "at the initial weights and noisy ones"]
    assert "the grader's initial weights (zero biases)" in network[0]["output"]
    assert grade["by_item"]["DigitCNN"] == pytest.approx(FULL["DigitCNN"] * 9 / 14, abs=0.01)  # backward's 5 of 14


@pytest.mark.slow
def test_the_lessons_pool_backward_costs_the_network_check_and_so_training(batch):
    # Its accuracy is as good (bench/capstone.py), but its gradients are not the contract's: training
    # ends elsewhere than the reference's, and the training points wait for the network's backward.
    grade = batch[1]["part1_lesson_pool_backward"]
    lost = {t["name"]: t for t in grade["tests"] if t["status"] != "passed"}
    assert {t["item"] for t in lost.values()} == {"DigitCNN", "train"}
    assert [t["output"] for t in lost.values() if t["item"] == "DigitCNN" and "global mask" in t["output"]]
    trained = next(t for t in lost.values() if "ends at the reference's parameters" in t["name"])
    assert "away from the reference's" in trained["output"]
    # Each training check names the network's failed check, and its mistake, as the cause to fix first.
    training = [t for t in lost.values() if t["item"] == "train"]
    assert len(training) == 3 and all(t["mistake"] == "global_mask" for t in training)
    assert all("DigitCNN: backward returns dx" in t["output"] and "global mask" in t["output"] for t in training)
    assert grade["by_item"]["train"] == 0
    assert "accuracy" not in grade["measures"] and "filters" not in grade["measures"]


@pytest.mark.slow
def test_speed_is_measured_only_for_correct_code(batch):
    _, grades = batch
    assert grades["reference"]["measures"]["conv2d_forward_ms"] > 0
    assert "conv2d_forward_ms" not in grades["part1_flipped_kernel"]["measures"]


@pytest.mark.slow
def test_class_report_shows_the_accuracy_distribution_filters_and_speed(batch):
    out, _ = batch
    html = (out / "report.html").read_text()
    section = html[html.index('id="measures"'):]
    assert "Distribution of Test accuracy" in section and "Learned conv1 filters of the most accurate network" in section
    assert "conv2d_forward (ms)" in section and "reference conv2d_forward (ms)" in section
    assert section.count("<svg ") >= 2  # the accuracy histogram and the filters, drawn inline


def test_commands_without_assignment_still_mean_the_first_part():
    assert commands.one_assignment(None).name == "cnn"
    assert commands.one_assignment("cnn_capstone").name == "cnn_capstone"


def test_examples_are_folders_with_the_mistake_in_the_module_it_names():
    reference_layers = (SOLUTION / "cnn_layers.py").read_text()
    assert reference_layers.split("\n", 1)[1] == (ROOT / "solutions/cnn/cnn_layers.py").read_text().split("\n", 1)[1]
    pool = EXAMPLES / "part1_lesson_pool_backward"
    assert (pool / "capstone.py").read_text() == (SOLUTION / "capstone.py").read_text()
    assert "---- The mistake" in (pool / "cnn_layers.py").read_text()
    relu = EXAMPLES / "relu_passes_at_zero"
    assert (relu / "cnn_layers.py").read_text() == reference_layers
    assert "---- The mistake" in (relu / "capstone.py").read_text()


def _load(capstone: Path, layers: Path):
    """The capstone module with `layers` as its cnn_layers, loaded here for an in-process run."""
    saved = sys.modules.get("cnn_layers")
    try:
        spec = importlib.util.spec_from_file_location("cnn_layers", layers)
        sys.modules["cnn_layers"] = part = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(part)
        spec = importlib.util.spec_from_file_location(f"capstone_{layers.parent.name}", capstone)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.modules.pop("cnn_layers")
        if saved is not None:
            sys.modules["cnn_layers"] = saved


def test_four_loop_first_part_trains_to_the_same_weights():
    """A short training run: a correct four-loop cnn_layers ends where the vectorised one does."""
    loops = _load(SOLUTION / "capstone.py", EXAMPLES / "part1_four_loops" / "cnn_layers.py")
    fast = _load(SOLUTION / "capstone.py", SOLUTION / "cnn_layers.py")
    images, labels = fast.load_digits(ROOT / "assignments/cnn_capstone/handout_files/digits.csv.gz")
    data = fast.split_digits(images, labels, seed=3, n_train=96)
    weights = None
    for module in (fast, loops):
        model = module.DigitCNN()
        if weights is None:
            weights = [p.data.copy() for p in model.parameters()]
        for p, w in zip(model.parameters(), weights):
            p.data = w.copy()
        module.train(model, data["x_train"], data["y_train"], epochs=1, seed=3)
        module.trained = [p.data for p in model.parameters()]
    for a, b in zip(fast.trained, loops.trained):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert not np.allclose(fast.trained[0], weights[0])  # it did train


def test_test_images_never_reach_the_worker_and_accuracy_is_the_graders():
    """Everything the harness sends to student code, recorded by a fake student: no test image nor
    label among it; the accuracy is that of the reference network holding what training made."""
    from autograder.engine.grading import load_reference
    from autograder.suites.cnn_capstone import harness

    reference = load_reference(CAPSTONE)
    sent = []

    class Student:
        """Stands in for the worker's proxy: runs the reference, keeping every argument it is sent."""

        def DigitCNN(self):
            return reference.DigitCNN()

        def train(self, *args):
            sent.extend(args)
            return reference.train(*args)

        def predict(self, *args):
            raise AssertionError("the training check asked the student's predict")

    run = harness._train_student(Student(), reference, 7)
    data = harness.split(reference, 7)
    ours = harness.reference_run(reference, 7)
    assert run["scores"]["accuracy"] == ours["accuracy"] > 80
    assert harness.distance_from(run, ours)[0] < 1e-12
    arrays = [a for a in sent if isinstance(a, np.ndarray)]
    assert any(np.array_equal(a, data["x_train"]) for a in arrays)  # the training images go
    for secret in ("x_test", "y_test", "offsets_test"):
        assert not any(a.shape == data[secret].shape and np.array_equal(a, data[secret]) for a in arrays), secret


def test_parameters_trained_elsewhere_are_told_apart_and_scored_by_the_grader():
    """The same network's parameters, moved a little or trained from another start: the distance
    the training check compares with its tolerance, and the scores it computes from them."""
    from autograder.engine.grading import load_reference
    from autograder.suites.cnn_capstone import harness

    reference = load_reference(CAPSTONE)
    ours = harness.reference_run(reference, 7)
    start = harness.initial_weights(harness.SHAPES, np.random.default_rng([7, 1]))
    # A tenth of the tolerance of the way back to the start, in fc.b alone, then everywhere.
    tolerance = float(harness.config()["parameter_tolerance"])
    back = [p + tolerance / 10 * (w - p) for p, w in zip(ours["parameters"], start)]
    one = {"seed": 7, "parameters": [*ours["parameters"][:5], back[5]]}
    distance, worst = harness.distance_from(one, ours)
    assert 0 < distance < tolerance / 10 and worst == 5
    assert harness.distance_from({"seed": 7, "parameters": back}, ours)[0] == pytest.approx(tolerance / 10)
    other = harness.reference_run(reference, 8)  # trained from seed 8's weights, on seed 8's split
    elsewhere = {"seed": 7, "parameters": list(other["parameters"])}
    assert harness.distance_from(elsewhere, ours)[0] > 5 * tolerance
    untrained = {"seed": 7, "parameters": start}
    assert harness.distance_from(untrained, ours)[0] == pytest.approx(1.0)
    assert harness.unchanged_by_training(untrained) and not harness.unchanged_by_training(one)
    broken = {"seed": 7, "parameters": [*ours["parameters"][:2], ours["parameters"][2] * np.nan, *ours["parameters"][3:]]}
    assert harness.distance_from(broken, ours) == (float("inf"), 2)
    # Scored here: the reference network holding seed 8's weights, on seed 7's test images.
    scored = harness.trusted_scores(reference, elsewhere["parameters"], harness.split(reference, 7))
    assert scored["accuracy"] != ours["accuracy"] or scored["by_offset"] != ours["by_offset"]


@pytest.mark.slow
def test_notebook_runs_in_a_jupyter_kernel_and_draws_its_figures(tmp_path):
    pytest.importorskip("ipykernel", reason="the dev extra (pip install -e '.[dev]') brings a Jupyter kernel")
    import nbclient
    import nbformat

    for name in ("capstone.ipynb", "cnn_layers.py"):
        shutil.copyfile(SOLUTION / name, tmp_path / name)
    shutil.copyfile(ROOT / "student_template/cnn_capstone/digits.csv.gz", tmp_path / "digits.csv.gz")
    shutil.copytree(ROOT / "student_template/cnn_capstone/checks", tmp_path / "checks")
    notebook = nbformat.read(tmp_path / "capstone.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    figures = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output
            png = output.get("data", {}).get("image/png")
            if png:
                figures[cell.source.split("\n", 2)[1] if "\n" in cell.source else cell.source] = base64.b64decode(png)
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for title in ("Training curves", "Accuracy by offset", "Learned filters of conv1", "feature maps move with the digit"):
        assert title in text
    assert len(figures) >= 5 and all(png.startswith(b"\x89PNG") and len(png) > 5000 for png in figures.values())
    # The grader.check cells ran in the kernel and passed with the reference.
    checks = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("grader.check")]
    assert len(checks) == 7
    for cell in checks:
        shown = "".join(str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)
        assert "passed" in shown.lower(), (cell.source, shown)


@pytest.mark.slow
def test_gradescope_results_carry_the_leaderboard(tmp_path):
    from test_gradescope import emulate, run_autograder

    work = Path(__import__("tempfile").mkdtemp(prefix="gradescope-capstone-"))
    try:
        work.chmod(0o755)
        zip_path = work / "capstone.zip"
        result = run_kit("gradescope", "--assignment", "cnn_capstone", "--out", zip_path)
        assert result.returncode == 0, result.stderr
        root = emulate(work, zip_path, {"capstone.py": SOLUTION / "capstone.py", "cnn_layers.py": SOLUTION / "cnn_layers.py"})
        results = run_autograder(root)
        assert results["score"] == 100, [t for t in results["tests"] if t["status"] != "passed"]
        board = {entry["name"]: entry for entry in results["leaderboard"]}
        assert set(board) == {"conv2d_forward (ms)", "conv2d_backward (ms)"}
        assert all(entry["order"] == "asc" and entry["value"] > 0 for entry in board.values())
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
def test_check_runs_the_public_checks_with_the_first_part_beside(tmp_path):
    result = run_kit("check", SOLUTION, "--assignment", "cnn_capstone")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Public checks passed: 13 of 13" in result.stdout
    alone = submission(tmp_path / "alone", {"capstone.py": SOLUTION / "capstone.py"})
    result = run_kit("check", alone, "--assignment", "cnn_capstone")
    assert result.returncode == 1 and "No module named 'cnn_layers'" in result.stdout
    assert "no cnn_layers.py was submitted beside capstone.py" in result.stdout


def test_the_demo_hands_in_each_bundled_submission_with_its_first_part(tmp_path):
    """`./kit demo --assignment cnn_capstone`: each pick is a folder with the part-1 module beside
    it, as a student hands it in (before, the bare capstone.py could not import cnn_layers)."""
    paths = cli.demo_submissions(CAPSTONE, tmp_path)
    names = {p.name for p in paths}
    assert {"reference", "reference_notebook", "untouched_handout"} <= names
    assert set(GRADED_EXAMPLES) <= names
    for path in paths:
        assert path.is_dir(), path
        files = {p.name for p in path.iterdir()}
        assert "cnn_layers.py" in files and files & {"capstone.py", "capstone.ipynb"}, (path.name, files)
    handout = (tmp_path / "untouched_handout" / "capstone.py").read_text()
    assert handout == (CAPSTONE.template_dir / "capstone.py").read_text()


# -- the checks in this process, over many draws: each wrong variant is told apart on every one ----------
def _example_module(name: str):
    folder = EXAMPLES / name
    return _load(folder / "capstone.py", folder / "cnn_layers.py")


def _student(example: str):
    return _load(SOLUTION / "capstone.py", SOLUTION / "cnn_layers.py") if example == "reference" else _example_module(example)


def _verdict(check, student, reference, seed):
    """None if the check passes for `student` with the rng of this seed, else the id of the mistake it names
    ("" when it names none)."""
    from autograder.suite import CheckFailed

    try:
        with np.errstate(all="ignore"):  # the wrong code's own overflows and divisions by zero
            check(student=student, reference=reference, rng=np.random.default_rng([seed, 17]))
    except CheckFailed as exc:
        return exc.mistake or ""
    except AssertionError:
        return ""
    return None


@pytest.fixture(scope="module")
def trusted_reference():
    from autograder.engine.grading import load_reference

    return load_reference(CAPSTONE)


SEEDS = range(25)


@pytest.mark.parametrize("example", ADAM_EXAMPLES + ["reference"])
def test_adam_checks_give_each_variant_one_verdict_on_every_draw(trusted_reference, example):
    from autograder.suites.cnn_capstone import test_Adam as checks

    student = _student(example)
    ident = None if example == "reference" else example_mistake(example)
    for seed in SEEDS:
        assert _verdict(checks.test_steps, student, trusted_reference, seed) == ident, seed
        assert _verdict(checks.test_settings, student, trusted_reference, seed) is None, seed
        assert _verdict(checks.test_zero_grad, student, trusted_reference, seed) is None, seed


def test_adam_settings_and_zero_grad_earn_nothing_for_a_step_that_does_no_work(trusted_reference):
    """Stubs: zero_grad is right, step() leaves the parameters alone, or writes nan (which a step count of 0
    does too: the check then starts the count at 1); and an Adam that ignores its settings."""
    from autograder.suites.cnn_capstone import test_Adam as checks

    student = _student("reference")
    stub, deaf = types.ModuleType("stub"), types.ModuleType("deaf")  # modules: the suite keys its records by student
    stub.Parameter = deaf.Parameter = student.Parameter
    stub.Adam = type("Adam", (student.Adam,), {"step": lambda self: None})
    nan = types.ModuleType("nan")  # a step that writes nan, as a step count of 0 does
    nan.Parameter = student.Parameter

    def step(self):
        for p in self.parameters:
            p.data = p.data * np.nan

    nan.Adam = type("Adam", (student.Adam,), {"step": step})
    deaf.Adam = type("Adam", (student.Adam,), {"__init__": lambda self, params, **settings: student.Adam.__init__(self, params)})
    for seed in range(5):
        assert _verdict(checks.test_steps, stub, trusted_reference, seed) == ""
        assert _verdict(checks.test_settings, stub, trusted_reference, seed) == ""
        assert _verdict(checks.test_zero_grad, stub, trusted_reference, seed) == ""
        assert _verdict(checks.test_steps, nan, trusted_reference, seed) == "adam_step_count_zero"
        assert _verdict(checks.test_settings, nan, trusted_reference, seed) == "adam_step_count_zero"
        assert _verdict(checks.test_zero_grad, nan, trusted_reference, seed) == "adam_step_count_zero"
        assert _verdict(checks.test_steps, deaf, trusted_reference, seed) is None
        assert _verdict(checks.test_settings, deaf, trusted_reference, seed) == "adam_settings_ignored"


@pytest.mark.parametrize("example", ["softmax_no_max_shift", "softmax_log_of_underflow", "reference"])
def test_large_scores_tell_overflow_from_underflow_on_every_draw(trusted_reference, example):
    from autograder.suites.cnn_capstone import test_softmax_cross_entropy as checks

    student = _student(example)
    ident = None if example == "reference" else example_mistake(example)
    for seed in SEEDS:
        assert _verdict(checks.test_large_scores, student, trusted_reference, seed) == ident, seed
        assert _verdict(checks.test_loss, student, trusted_reference, seed) is None, seed


@pytest.mark.parametrize("example", ["relu_passes_at_zero", "linear_grads_averaged", "part1_lesson_pool_backward",
                                     "part1_flipped_kernel", "reference"])
def test_the_networks_backward_names_each_layer_mistake_on_every_draw(trusted_reference, example):
    from autograder.suites.cnn_capstone import test_DigitCNN as checks

    student = _student(example)
    ident = None if example == "reference" else example_mistake(example)
    for seed in SEEDS:
        assert _verdict(checks.test_backward, student, trusted_reference, seed) == ident, seed


def test_coverage_lists_every_check_and_every_mistake_of_the_suite():
    """autograder/suites/cnn_capstone/COVERAGE.md is written by hand: it must name each check and each id."""
    import ast

    from autograder.suites.cnn_capstone.mistakes import REGISTRY

    suite = ROOT / "autograder" / "suites" / "cnn_capstone"
    text = (suite / "COVERAGE.md").read_text()
    for path in sorted(suite.glob("test_*.py")):
        item = path.stem.removeprefix("test_")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                assert f"{item} `{node.name}`" in text or f"`{node.name}`" in text and item == "speed", (item, node.name)
    for ident in REGISTRY:
        assert f"`{ident}`" in text, ident


def test_a_predict_that_answers_one_class_never_passes_on_any_seed():
    """On a fifth of draws the grader's network answers one class for all strips: those draws are
    skipped, so a constant predict (a bare network's argmax of zeros) fails on every seed."""
    from autograder.suite import CheckFailed
    from autograder.suites.cnn_capstone import test_DigitCNN

    reference = _load(SOLUTION / "capstone.py", SOLUTION / "cnn_layers.py")
    constant = types.SimpleNamespace(DigitCNN=reference.DigitCNN,
                                     predict=lambda model, x, batch_size=100: np.zeros(len(x), dtype=np.int64))
    for seed in range(40):
        test_DigitCNN.test_predict(reference, reference, np.random.default_rng(seed))  # the reference passes
        with pytest.raises(CheckFailed):
            test_DigitCNN.test_predict(constant, reference, np.random.default_rng(seed))
