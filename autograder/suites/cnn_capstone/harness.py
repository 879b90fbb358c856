"""What the capstone's checks share: its settings, the data, initial weights, training runs.

Everything here runs in the trusted grading process. The digits are read from
the assignment's folder, which the sandbox never shows; the worker receives
training images and labels, and test images without their labels.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np

from autograder import assignment as assignments
from autograder.suite import kind_of, numeric_array

NAME = "cnn_capstone"
# DigitCNN's parameters: conv1.W, conv1.b, conv2.W, conv2.b, fc.W, fc.b.
SHAPES = [(8, 1, 3, 3), (8,), (32, 8, 3, 3), (32,), (32, 10), (10,)]


@functools.lru_cache(maxsize=1)
def config() -> dict:
    """The [training] table of the assignment's config, every setting present."""
    a = assignments.load(NAME)
    table = a.extra.get("training", {})
    wanted = ("epochs", "batch_size", "lr", "seconds", "margin", "gap_over_mlp", "speed_seconds")
    missing = [k for k in wanted if not isinstance(table.get(k), (int, float)) or isinstance(table.get(k), bool)]
    if missing:
        raise assignments.ConfigError(f"{a.folder / 'assignment.toml'}: [training] needs numbers for {missing}")
    return table


@functools.lru_cache(maxsize=1)
def digits(reference):
    """(images (1797, 8, 8), labels (1797,)) from the assignment's copy of the data."""
    return reference.load_digits(assignments.load(NAME).folder / "handout_files" / "digits.csv.gz")


def initial_weights(shapes, rng) -> list[np.ndarray]:
    """He-normal weights and zero biases for parameters of these shapes."""
    weights = []
    for shape in shapes:
        if len(shape) == 1:
            weights.append(np.zeros(shape))
        else:
            fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
            weights.append(rng.standard_normal(shape) * np.sqrt(2.0 / fan_in))
    return weights


def parameters_of(model, made: str) -> list:
    """model.parameters() of a student's model: a list of Parameter handles."""
    params = model.parameters()
    if not isinstance(params, list):
        raise AssertionError(f"{made}.parameters() returned {kind_of(params)}; expected a list of Parameters")
    return params


def shapes_of(params, made: str) -> list[tuple]:
    return [tuple(numeric_array(p.data, f"{made}.parameters()[{i}].data").shape) for i, p in enumerate(params)]


ARCHITECTURE_MISTAKES = {
    "use Flatten where GlobalMaxPool2d belongs (the last layer then sees 32 * 6 = 192 inputs)":
        [(8, 1, 3, 3), (8,), (32, 8, 3, 3), (32,), (192, 10), (10,)],
    "store Linear's W as (out_features, in_features)": [(8, 1, 3, 3), (8,), (32, 8, 3, 3), (32,), (10, 32), (10,)],
}


def expect_architecture(model, made: str = "DigitCNN()") -> list:
    """The model's parameter handles, after checking they have DigitCNN's shapes in order."""
    params = parameters_of(model, made)
    shapes = shapes_of(params, made)
    if shapes != SHAPES:
        hint = next((f" It matches what you get if you {p}." for p, s in ARCHITECTURE_MISTAKES.items() if s == shapes), "")
        raise AssertionError(f"{made}.parameters() has shapes {shapes}; expected {SHAPES} "
                             f"(conv1.W, conv1.b, conv2.W, conv2.b, fc.W, fc.b).{hint}")
    return params


def set_weights(params, weights) -> None:
    for p, w in zip(params, weights):
        p.data = w


def reference_model(reference, weights, kind: str = "DigitCNN"):
    model = getattr(reference, kind)()
    for p, w in zip(model.parameters(), weights):
        p.data = np.array(w, dtype=np.float64)
    return model


@functools.lru_cache(maxsize=8)
def split(reference, seed: int) -> dict:
    """The submission's train/test split and offsets, drawn from its seed."""
    images, labels = digits(reference)
    return reference.split_digits(images, labels, seed=seed)


@functools.lru_cache(maxsize=8)
def reference_run(reference, seed: int, kind: str = "DigitCNN") -> dict:
    """The reference network trained in this process exactly as the student's is in the worker."""
    data, settings = split(reference, seed), config()
    model = reference_model(reference, initial_weights([p.data.shape for p in getattr(reference, kind)().parameters()],
                                                       np.random.default_rng([seed, 1])), kind)
    reference.train(model, data["x_train"], data["y_train"], int(settings["epochs"]), int(settings["batch_size"]),
                    float(settings["lr"]), seed)
    return scores(reference.predict(model, data["x_test"]), data)


def scores(predictions: np.ndarray, data: dict) -> dict:
    """Accuracy in %, overall, at offsets seen in training and at the others, and per offset."""
    right = predictions == data["y_test"]
    seen = np.isin(data["offsets_test"], np.unique(data["offsets_train"]))
    return {
        "accuracy": round(100 * float(right.mean()), 2),
        "seen_accuracy": round(100 * float(right[seen].mean()), 2),
        "unseen_accuracy": round(100 * float(right[~seen].mean()), 2),
        "by_offset": {int(o): round(100 * float(right[data["offsets_test"] == o].mean()), 2)
                      for o in np.unique(data["offsets_test"])},
    }


# One training per submission, shared by the checks that grade it (or the failure it met).
_runs: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def student_run(student, reference, rng) -> dict:
    """Train the student's DigitCNN in the worker (once per submission) and score its predictions here."""
    if student in _runs:
        outcome = _runs[student]
        if isinstance(outcome, BaseException):
            raise outcome.with_traceback(None)
        return outcome
    try:
        _runs[student] = outcome = _train_student(student, reference, int(rng.integers(2**31)))
    except BaseException as exc:
        _runs[student] = exc
        raise
    return outcome


def _train_student(student, reference, seed: int) -> dict:
    settings, data = config(), split(reference, seed)
    model = student.DigitCNN()
    params = expect_architecture(model)
    set_weights(params, initial_weights(SHAPES, np.random.default_rng([seed, 1])))
    losses = student.train(model, data["x_train"], data["y_train"], int(settings["epochs"]),
                           int(settings["batch_size"]), float(settings["lr"]), seed)
    predictions = numeric_array(student.predict(model, data["x_test"]), "predict(model, x_test)")
    if predictions.shape != data["y_test"].shape:
        raise AssertionError(f"predict(model, x_test) returned shape {predictions.shape}; expected {data['y_test'].shape}")
    run = scores(predictions, data)
    run["seed"] = seed
    run["losses"] = [float(v) for v in losses] if isinstance(losses, (list, tuple)) else []
    filters = numeric_array(params[0].data, "conv1.W.data after training")
    run["filters"] = np.round(filters.reshape(-1, 3, 3), 4).tolist() if filters.size == 72 else []
    return run
