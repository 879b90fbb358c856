"""The capstone's training: how long it takes, against the budget, and what part-one mistakes cost.

Three measurements, all with BLAS pinned to one thread (as the sandboxed worker runs):

1. Training time in this process, side by side: the reference capstone on the
   vectorised first part and on a correct four-loop first part
   (solutions/cnn_capstone/examples/part1_four_loops), same seeds, same initial
   weights. Also: their predictions agree, and the largest parameter difference.
2. The four-loop submission graded by the real engine (worker, sandbox, proxy):
   the training check's duration against the budget in assignment.toml.
3. Test accuracy of first parts with known mistakes minus the reference's, same
   seed, over several seeds: which mistakes really hurt training.

    .venv/bin/python bench/capstone.py [--seeds 10] [--loop-seeds 2]

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

CAPSTONE = assignments.load("cnn_capstone", ROOT)
SOLUTION = ROOT / "solutions" / "cnn_capstone"
FIRST_PART_EXAMPLES = ROOT / "solutions" / "cnn" / "examples"
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
        shutil.copytree(SOLUTION / "examples" / "part1_four_loops", folder)
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
    args = parser.parse_args()
    settings = CAPSTONE.extra["training"]
    fast = load(SOLUTION / "cnn_layers.py")
    loops = load(SOLUTION / "examples" / "part1_four_loops" / "cnn_layers.py")

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
        deltas = [round(train_once(module, seed, settings)["accuracy"] - runs[seed]["accuracy"], 2) for seed in range(args.seeds)]
        effects[name] = {"deltas": deltas, "worst": min(deltas), "mean": round(statistics.fmean(deltas), 2),
                         "below_margin": sum(d < -float(settings["margin"]) for d in deltas)}
        print(f"   {name:<26} mean {effects[name]['mean']:+6.1f}, worst {effects[name]['worst']:+6.1f}; "
              f"{effects[name]['below_margin']} of {args.seeds} seeds below the margin (-{settings['margin']})")

    benchlib.write_json(benchlib.RESULTS_DIR / "capstone.json", {
        "machine": benchlib.machine_info(),
        "settings": settings, "vectorised": {str(s): {"seconds": r["seconds"], "accuracy": r["accuracy"],
                                                      "unseen": r["unseen"]} for s, r in runs.items()},
        "four_loops": side_by_side, "graded_four_loops": graded, "mistakes": effects,
    })


def load_example(name: str):
    """A first part with one of the first part's example mistakes (the reference plus the snippet)."""
    return load(FIRST_PART_EXAMPLES / f"{name}.py")


if __name__ == "__main__":
    main()
