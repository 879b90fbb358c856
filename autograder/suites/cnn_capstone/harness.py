"""What the capstone's checks share: its settings, the data, initial weights, training runs.

Everything here runs in the trusted grading process. The digits are read from
the assignment's folder, which the sandbox never shows; the worker receives
the training images and labels only. What training made comes back as
arrays (the network's parameters), and every number graded is computed
here from them: the reference network holding them classifies the test
images, and the reference's own training from the same start says where
correct layers end.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np

from autograder import assignment as assignments
from autograder.suite import CheckFailed, chain_of, fail, kind_of, name_mistake, numeric_array
from autograder.suites.cnn.gradients import check_gradient

from .mistakes import known

NAME = "cnn_capstone"
# DigitCNN's parameters: conv1.W, conv1.b, conv2.W, conv2.b, fc.W, fc.b.
SHAPES = [(8, 1, 3, 3), (8,), (32, 8, 3, 3), (32,), (32, 10), (10,)]
NAMES = ("conv1.W", "conv1.b", "conv2.W", "conv2.b", "fc.W", "fc.b")


@functools.lru_cache(maxsize=1)
def config() -> dict:
    """The [training] table of the assignment's config, every setting present."""
    a = assignments.load(NAME)
    table = a.extra.get("training", {})
    wanted = ("epochs", "batch_size", "lr", "seconds", "parameter_tolerance", "margin", "gap_over_mlp", "speed_seconds")
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


def digit_strips(rng, n: int = 4) -> np.ndarray:
    """Digit-like inputs the grader makes (nothing of the test set): an 8x8 patch of ink at
    offset 0..4, blank elsewhere. Blank columns make equal values in a pooling window (the
    bias, after ReLU), as real digits do."""
    x = np.zeros((n, 1, 8, 12))
    for i, offset in enumerate(rng.integers(0, 5, n)):
        x[i, 0, :, offset:offset + 8] = rng.random((8, 8)) * (rng.random((8, 8)) < 0.6)
    return x


def graders_model(student, rng, noisy: bool = True):
    """A student's DigitCNN holding weights the grader drew: (model, its parameter handles, the weights).

    noisy: every parameter moved by noise, biases too (no ReLU input is then exactly 0); else the
    weights training starts from (He-normal, zero biases: on a strip's blank columns every ReLU
    input is exactly 0, where the slope rule matters)."""
    weights = graders_weights(rng, noisy)
    model, params = holding(student, weights)
    return model, params, weights


def holding(student, weights, made: str = "DigitCNN()"):
    """A student's DigitCNN made, its architecture checked and `weights` set, in one request to the
    worker: (model, its parameter handles). What fails is named as expect_architecture names it."""
    chain = chain_of(student)
    model = chain.DigitCNN()
    listed = model.parameters()
    params = [listed[i] for i in range(len(SHAPES))]
    data = [p.data for p in params]
    for p, w in zip(params, weights):
        p.data = w
    try:
        chain.run()
    finally:
        if listed.ran:
            found = parameters_of_value(listed.value, made)
            if len(found) != len(SHAPES) or not all(step.ran for step in data):
                expect_shapes(shapes_of(found, made), made)  # read one by one, as without the chain
            else:
                expect_shapes(_shapes([step.value for step in data], made), made)
    return model.value, [p.value for p in params]


def graders_weights(rng, noisy: bool = True) -> list[np.ndarray]:
    """The weights graders_model draws (see there)."""
    weights = initial_weights(SHAPES, rng)
    if noisy:
        weights = [w + 0.1 * rng.standard_normal(w.shape) for w in weights]  # non-zero biases too
    return weights


def parameters_of(model, made: str) -> list:
    """model.parameters() of a student's model: a list of Parameter handles."""
    return parameters_of_value(model.parameters(), made)


def parameters_of_value(params, made: str) -> list:
    if not isinstance(params, list):
        raise CheckFailed(f"{made}.parameters() returned {kind_of(params)}; expected a list of Parameters")
    return params


def shapes_of(params, made: str) -> list[tuple]:
    return _shapes((p.data for p in params), made)  # read one at a time, each checked before the next


def _shapes(data, made: str) -> list[tuple]:
    """The shapes of the parameters' data, each checked to be a numeric array."""
    return [tuple(numeric_array(d, f"{made}.parameters()[{i}].data").shape) for i, d in enumerate(data)]


ARCHITECTURE_MISTAKES = {
    known.digitcnn_flatten_not_global_pool: [(8, 1, 3, 3), (8,), (32, 8, 3, 3), (32,), (192, 10), (10,)],
    known.digitcnn_linear_w_transposed: [(8, 1, 3, 3), (8,), (32, 8, 3, 3), (32,), (10, 32), (10,)],
}


def expect_architecture(model, made: str = "DigitCNN()") -> list:
    """The model's parameter handles, after checking they have DigitCNN's shapes in order."""
    params = parameters_of(model, made)
    expect_shapes(shapes_of(params, made), made)
    return params


def expect_shapes(shapes: list, made: str) -> None:
    if shapes != SHAPES:
        fail(f"{made}.parameters() has shapes {shapes}; expected {SHAPES} (conv1.W, conv1.b, conv2.W, conv2.b, fc.W, "
             f"fc.b)", next((m for m, s in ARCHITECTURE_MISTAKES.items() if s == shapes), None))


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
    """The reference network trained in this process exactly as the student's is in the worker:
    its scores, and its trained parameters (read-only arrays)."""
    data, settings = split(reference, seed), config()
    model = reference_model(reference, initial_weights([p.data.shape for p in getattr(reference, kind)().parameters()],
                                                       np.random.default_rng([seed, 1])), kind)
    reference.train(model, data["x_train"], data["y_train"], int(settings["epochs"]), int(settings["batch_size"]),
                    float(settings["lr"]), seed)
    run = scores(reference.predict(model, data["x_test"]), data)
    run["parameters"] = tuple(_frozen(p.data) for p in model.parameters())
    return run


def _frozen(array) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False  # shared by every check of this seed: none may change it
    return array


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


def trusted_scores(reference, parameters, data: dict) -> dict:
    """The scores of the reference network holding these parameters, run here on the test images.

    The student's own forward and predict are checked elsewhere, on inputs the grader makes: code
    the student controls never sees a test image, so it cannot answer from anything but the network.
    """
    with np.errstate(all="ignore"):  # parameters that became nan score as they score, silently
        return scores(reference.predict(reference_model(reference, parameters), data["x_test"]), data)


# One training per submission, shared by the checks that grade it (or the failure it met).
_runs: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def student_run(student, reference, rng) -> dict:
    """Train the student's DigitCNN in the worker (once per submission); its parameters come back."""
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
    # What the network holds now, as arrays: asked again, as train() may have replaced a Parameter.
    made = "DigitCNN() after train()"
    trained = [numeric_array(p.data, f"{made}.parameters()[{i}].data") for i, p in enumerate(parameters_of(model, made))]
    expect_shapes([t.shape for t in trained], made)
    run = {"seed": seed, "parameters": [np.array(t, dtype=np.float64) for t in trained]}
    run["scores"] = trusted_scores(reference, run["parameters"], data)
    run["losses"] = [float(v) for v in losses] if isinstance(losses, (list, tuple)) else []
    run["filters"] = np.round(run["parameters"][0].reshape(-1, 3, 3), 4).tolist()
    return run


def distance_from(run: dict, ours: dict) -> tuple[float, int]:
    """How far the trained parameters ended from the reference's, as a fraction of how far training
    moved the reference's from the same start (the whole network's Euclidean norms): 0 is the
    same network, about 1 a network trained on other batches or data; inf where not finite. Also
    the index of the parameter whose own such fraction is largest, to name it."""
    start = initial_weights(SHAPES, np.random.default_rng([run["seed"], 1]))
    with np.errstate(all="ignore"):
        apart = [float(((mine - theirs) ** 2).sum()) for mine, theirs in zip(run["parameters"], ours["parameters"])]
        travel = [float(((theirs - w) ** 2).sum()) for theirs, w in zip(ours["parameters"], start)]
    if not all(np.isfinite(apart)):
        return float("inf"), next(i for i, a in enumerate(apart) if not np.isfinite(a))
    worst = int(np.argmax([a / t if t else a for a, t in zip(apart, travel)]))
    return float(np.sqrt(sum(apart) / sum(travel))), worst


def unchanged_by_training(run: dict) -> bool:
    """The trained parameters are exactly the grader's initial weights: train() changed nothing."""
    start = initial_weights(SHAPES, np.random.default_rng([run["seed"], 1]))
    return all(np.array_equal(mine, w) for mine, w in zip(run["parameters"], start))


def numerically(actual, numeric, what: str, mistakes=None, tolerance: float = 1e-7) -> None:
    """check_gradient, naming the known mistake (computed exactly, here) that `actual` matches when it fails."""
    try:
        check_gradient(actual, numeric, what, tolerance)
    except CheckFailed as failure:
        found = name_mistake(actual, mistakes)
        if found is None:
            raise
        fail(failure.rationale, found)
