"""The capstone's training: how long it takes, against the budget, and what part-one mistakes cost.

Three measurements, all with BLAS pinned to one thread (as the sandboxed worker runs):

1. Training time in this process, side by side: the reference capstone on the
   vectorised first part and on a correct four-loop first part
   (build/examples/cnn_capstone/part1_four_loops), same seeds, same initial
   weights. Also: their predictions agree, and the largest parameter difference.
2. The four-loop submission graded by the real engine (worker, sandbox, proxy):
   the training check's duration against the budget in assignment.toml.
3. Test accuracy of first parts with known mistakes minus the reference's, same
   seed, over several seeds: which mistakes really hurt training; and how far
   from the reference's parameters their training ends.
4. How far from the reference's trained network training ends, as the
   training check measures it (harness.distance_from: the distance between
   the two networks' parameters over the distance training moved the
   reference's; the check allows `parameter_tolerance`), over more seeds: for
   honest variants (every Adam step off by a relative 1e-12 to 1e-6, noisy or
   systematic; the same formulas written otherwise), for mistakes that train
   about as well, and for networks that did not come out of the grader's
   training (other batch order, other data, all digits, partly other data,
   another start, no training).

    .venv/bin/python bench/capstone.py [--seeds 10] [--loop-seeds 2] [--distance-seeds 30]

Writes bench/results/capstone.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import benchlib  # noqa: F401  (pins BLAS to one thread before NumPy loads)

import numpy as np  # noqa: E402

ROOT = benchlib.ROOT
sys.path.insert(0, str(ROOT))

from autograder import assignment as assignments  # noqa: E402
from autograder import build  # noqa: E402

CAPSTONE = assignments.load("cnn_capstone", ROOT)
SOLUTION = ROOT / "solutions" / "cnn_capstone"
EXAMPLES = build.examples(CAPSTONE)
FIRST_PART_EXAMPLES = build.examples(assignments.load("cnn", ROOT))
MISTAKES = ["lesson_pool_backward", "missing_bias", "grads_overwritten", "flipped_kernel", "pool_overwrites_overlap"]


def load(layers: Path):
    """The reference capstone with `layers` as its cnn_layers."""
    spec = importlib.util.spec_from_file_location("cnn_layers", layers)
    part = importlib.util.module_from_spec(spec)
    sys.modules["cnn_layers"] = part
    try:
        spec.loader.exec_module(part)
        spec = importlib.util.spec_from_file_location(f"capstone_{layers.stem}", SOLUTION / "capstone.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        del sys.modules["cnn_layers"]
    return module


def train_once(module, seed: int, settings: dict) -> dict:
    """Train DigitCNN as the grader does (its split, its initial weights); time only the training."""
    from autograder.suites.cnn_capstone import harness

    images, labels = module.load_digits(CAPSTONE.folder / "handout_files" / "digits.csv.gz")
    data = module.split_digits(images, labels, seed=seed)
    model = module.DigitCNN()
    for p, w in zip(model.parameters(), harness.initial_weights(harness.SHAPES, np.random.default_rng([seed, 1]))):
        p.data = w
    started = time.perf_counter()
    module.train(model, data["x_train"], data["y_train"], int(settings["epochs"]), int(settings["batch_size"]),
                 float(settings["lr"]), seed)
    seconds = time.perf_counter() - started
    predictions = module.predict(model, data["x_test"])
    right = predictions == data["y_test"]
    unseen = ~np.isin(data["offsets_test"], np.unique(data["offsets_train"]))
    return {"seconds": seconds, "accuracy": 100 * float(right.mean()), "unseen": 100 * float(right[unseen].mean()),
            "predictions": predictions, "parameters": [p.data.copy() for p in model.parameters()]}


def grade_four_loops(budget: float) -> dict:
    """The four-loop submission through `autograder grade`: the training check's own duration."""
    with tempfile.TemporaryDirectory(prefix="bench-capstone-") as scratch:
        folder = Path(scratch) / "four_loops"
        shutil.copytree(EXAMPLES / "part1_four_loops", folder)
        out = Path(scratch) / "out"
        seconds, _ = benchlib.timed_run([benchlib.kit_python(), "-I", "-m", "autograder", "grade", str(folder),
                                         "--assignment", "cnn_capstone", "--out", str(out), "--no-report"], cwd=ROOT)
        grade = json.loads((out / "four_loops" / "grade.json").read_text())
    train = [t for t in grade["tests"] if t["item"] == "train"]
    return {"score": grade["score"], "grade_seconds": round(seconds, 2),
            "train_check_seconds": round(max(t["duration"] for t in train), 2), "budget": budget,
            "accuracy": grade["measures"].get("accuracy"), "reference_accuracy": grade["measures"].get("reference_accuracy")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds for the vectorised runs and the mistakes")
    parser.add_argument("--loop-seeds", type=int, default=2, help="seeds for the four-loop runs (~30 s each)")
    parser.add_argument("--distance-seeds", type=int, default=30, help="seeds for the distances of part 4 (~10 s each)")
    args = parser.parse_args()
    settings = CAPSTONE.extra["training"]
    fast = load(SOLUTION / "cnn_layers.py")
    loops = load(EXAMPLES / "part1_four_loops" / "cnn_layers.py")

    print("1. training time, vectorised vs four loops (same seeds, in this process)")
    runs = {seed: train_once(fast, seed, settings) for seed in range(args.seeds)}
    side_by_side = []
    for seed in range(args.loop_seeds):
        slow = train_once(loops, seed, settings)
        gap = max(float(np.abs(a - b).max()) for a, b in zip(runs[seed]["parameters"], slow["parameters"]))
        row = {"seed": seed, "vectorised_s": round(runs[seed]["seconds"], 3), "four_loops_s": round(slow["seconds"], 2),
               "ratio": round(slow["seconds"] / runs[seed]["seconds"], 1),
               "same_predictions": bool(np.array_equal(runs[seed]["predictions"], slow["predictions"])),
               "accuracy": round(runs[seed]["accuracy"], 2), "four_loops_accuracy": round(slow["accuracy"], 2),
               "max_parameter_difference": gap}
        side_by_side.append(row)
        print(f"   seed {seed}: vectorised {row['vectorised_s']:.2f} s, four loops {row['four_loops_s']:.1f} s "
              f"({row['ratio']}x); same predictions: {row['same_predictions']}; accuracy {row['accuracy']:.1f}% both; "
              f"parameters agree to {gap:.1e}")
    accuracies = [r["accuracy"] for r in runs.values()]
    print(f"   vectorised over {args.seeds} seeds: {statistics.median(r['seconds'] for r in runs.values()):.2f} s median; "
          f"accuracy mean {statistics.fmean(accuracies):.1f}%, min {min(accuracies):.1f}%")

    print("2. the four-loop submission graded by the engine")
    graded = grade_four_loops(float(settings["seconds"]))
    print(f"   score {graded['score']}, training check {graded['train_check_seconds']} s of a {graded['budget']:g} s "
          f"budget ({100 * graded['train_check_seconds'] / graded['budget']:.0f}%); whole grade {graded['grade_seconds']} s")

    print("3. first parts with known mistakes: test accuracy minus the reference's, same seed")
    effects = {}
    for name in MISTAKES:
        module = load_example(name)
        deltas, gaps = [], []
        for seed in range(args.seeds):
            run = train_once(module, seed, settings)
            deltas.append(round(run["accuracy"] - runs[seed]["accuracy"], 2))
            gaps.append(distance(run["parameters"], runs[seed]["parameters"], seed))
        effects[name] = {"deltas": deltas, "worst": min(deltas), "mean": round(statistics.fmean(deltas), 2),
                         "below_margin": sum(d < -float(settings["margin"]) for d in deltas),
                         "distance_smallest": min(gaps), "distance_largest": max(gaps)}
        print(f"   {name:<26} mean {effects[name]['mean']:+6.1f}, worst {effects[name]['worst']:+6.1f}; "
              f"{effects[name]['below_margin']} of {args.seeds} seeds below the margin (-{settings['margin']}); "
              f"ends {min(gaps):.1e} to {max(gaps):.1e} from the reference's network")

    print(f"4. distance from the reference's trained network, same seed and start, over {args.distance_seeds} seeds "
          f"(the check allows {settings['parameter_tolerance']})")
    for seed in range(args.seeds, args.distance_seeds):
        runs[seed] = train_once(fast, seed, settings)
    distances = parameter_distances(fast, {s: runs[s] for s in range(args.distance_seeds)}, settings)
    for name, row in distances.items():
        print(f"   {name:<58} {row['kind']:<8} smallest {row['smallest']:.1e}, largest {row['largest']:.1e}; "
              f"{row['above_tolerance']} above the tolerance; accuracy {row['accuracy_mean']:+.1f} on average, "
              f"{row['accuracy_farthest']:+.1f} at most")

    benchlib.write_json(benchlib.RESULTS_DIR / "capstone.json", {
        "machine": benchlib.machine_info(),
        "settings": settings, "vectorised": {str(s): {"seconds": r["seconds"], "accuracy": r["accuracy"],
                                                      "unseen": r["unseen"]} for s, r in runs.items()},
        "four_loops": side_by_side, "graded_four_loops": graded, "mistakes": effects,
        "parameter_distances": distances,
    })


def variants(fast, settings: dict) -> dict:
    """{name: (kind, run)}: run(seed) -> (parameters, the seed's split), DigitCNN trained as the
    grader does (its split, its start, its settings) but with one thing changed."""
    from autograder.suites.cnn_capstone import harness

    images, labels = fast.load_digits(CAPSTONE.folder / "handout_files" / "digits.csv.gz")

    def module_with(**names):
        module = load(SOLUTION / "cnn_layers.py")
        for name, value in names.items():
            setattr(module, name, value)
        return module

    def adam_off_by(relative: float, systematic: bool):
        class OffAdam(fast.Adam):
            def step(self):
                before = [p.data.copy() for p in self.parameters]
                super().step()
                noise = np.random.default_rng(self.t)
                for p, b in zip(self.parameters, before):
                    factor = 1 + relative if systematic else 1 + relative * noise.standard_normal(b.shape)
                    p.data = b + (p.data - b) * factor
        return module_with(Adam=OffAdam)

    class RewrittenAdam(fast.Adam):
        def step(self):
            self.t += 1
            for i, p in enumerate(self.parameters):
                self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * p.grad
                self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * p.grad * p.grad
                p.data -= self.lr * (self.m[i] / (1 - self.beta1 ** self.t)) / (
                    (self.v[i] / (1 - self.beta2 ** self.t)) ** 0.5 + self.eps)

    def rewritten_loss(logits, y):
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        n = len(y)
        g = p.copy()
        g[np.arange(n), y] -= 1
        return float(-np.log(p[np.arange(n), y]).sum() / n), g * (1.0 / n)

    class ReluAtZero(fast.ReLU):
        def backward(self, dout):
            return np.asarray(dout, dtype=np.float64) * (self._x >= 0)

    def unaveraged_loss(logits, y):
        loss, dlogits = fast.softmax_cross_entropy(logits, y)
        return loss, dlogits * len(y)

    def trainer(module, data_of=None, train_seed=None, start_seed=None, train=True):
        def run(seed):
            data = fast.split_digits(images, labels, seed=seed)
            start = harness.initial_weights(harness.SHAPES, np.random.default_rng([seed if start_seed is None else
                                                                                  seed + start_seed, 1]))
            model = module.DigitCNN()
            for p, w in zip(model.parameters(), start):
                p.data = w
            x, y = data_of(seed) if data_of else (data["x_train"], data["y_train"])
            if train:
                module.train(model, x, y, int(settings["epochs"]), int(settings["batch_size"]), float(settings["lr"]),
                             seed if train_seed is None else seed + train_seed)
            return [p.data.copy() for p in model.parameters()], data
        return run

    def other_split(seed):
        data = fast.split_digits(images, labels, seed=seed + 1000)
        return data["x_train"], data["y_train"]

    def all_digits(seed):
        return fast.place_on_strip(images, np.arange(len(images)) % 5), labels

    def partly_other(module):
        """Two of the three epochs on the training strips, as given; the last on every digit (the test digits too)."""
        def train(model, x, y, epochs, batch_size, lr, seed):
            module.train(model, x, y, epochs - 1, batch_size, lr, seed)
            return module.train(model, fast.place_on_strip(images, np.arange(len(images)) % 5), labels, 1, batch_size,
                                lr, seed)
        return type("PartlyOther", (), {"DigitCNN": module.DigitCNN, "train": staticmethod(train)})

    return {
        "Adam steps off by a relative 1e-12 (systematic)": ("honest", trainer(adam_off_by(1e-12, True))),
        "Adam steps off by a relative 1e-9 (systematic)": ("honest", trainer(adam_off_by(1e-9, True))),
        "Adam steps off by a relative 1e-7 (systematic)": ("honest", trainer(adam_off_by(1e-7, True))),
        "Adam steps off by a relative 1e-6 (noise)": ("honest", trainer(adam_off_by(1e-6, False))),
        "Adam steps off by a relative 1e-6 (systematic)": ("honest", trainer(adam_off_by(1e-6, True))),
        "Adam and the loss written otherwise (same formulas)":
            ("honest", trainer(module_with(Adam=RewrittenAdam, softmax_cross_entropy=rewritten_loss))),
        "loss gradient not divided by the batch size": ("mistake", trainer(module_with(softmax_cross_entropy=unaveraged_loss))),
        "ReLU passes the gradient at 0": ("mistake", trainer(module_with(ReLU=ReluAtZero))),
        "the lesson's global-mask pooling backward": ("mistake", trainer(load_example("lesson_pool_backward"))),
        "other batch order (train ignores its seed)": ("tampered", trainer(fast, train_seed=1000)),
        "other training data, same start": ("tampered", trainer(fast, data_of=other_split)),
        "all 1,797 digits at every offset, same start": ("tampered", trainer(fast, data_of=all_digits)),
        "two epochs as given, then one on every digit": ("tampered", trainer(partly_other(fast))),
        "trained from another start": ("tampered", trainer(fast, start_seed=1000)),
        "not trained (the grader's initial weights)": ("tampered", trainer(fast, train=False)),
    }


def distance(parameters, reference_parameters, seed: int) -> float:
    """The training check's measure: how far these parameters are from the reference's trained ones."""
    from autograder.suites.cnn_capstone import harness

    return harness.distance_from({"seed": seed, "parameters": parameters}, {"parameters": reference_parameters})[0]


def parameter_distances(fast, runs: dict, settings: dict) -> dict:
    """Per variant: its distance from the reference's trained network (`runs`, by seed), and the accuracy it costs."""
    rows = {}
    found = variants(fast, settings)
    for name, (kind, run) in found.items():
        gaps, accuracies = [], []
        for seed, ours in runs.items():
            parameters, data = run(seed)
            gaps.append(distance(parameters, ours["parameters"], seed))
            model = fast.DigitCNN()
            for p, w in zip(model.parameters(), parameters):
                p.data = w
            accuracies.append(100 * float((fast.predict(model, data["x_test"]) == data["y_test"]).mean()) - ours["accuracy"])
        rows[name] = {"kind": kind, "smallest": min(gaps), "largest": max(gaps), "distances": gaps,
                      "above_tolerance": sum(g > float(settings["parameter_tolerance"]) for g in gaps),
                      "accuracy_mean": round(statistics.fmean(accuracies), 2),
                      "accuracy_farthest": round(max(accuracies, key=abs), 2)}
    return rows


def load_example(name: str):
    """A first part with one of the first part's example mistakes (the reference plus the snippet)."""
    return load(FIRST_PART_EXAMPLES / f"{name}.py")


if __name__ == "__main__":
    main()
