"""Hidden checks that train the student's whole network on real digits.

The grader draws a split, offsets and initial weights from the student's seed
(student_rng: their name and the course secret, not their code), trains the
student's DigitCNN in the worker with the handout's train(),
and asks predict() for the test images' classes; their labels never leave the
grader, which computes the accuracy. The reference trains here from the same
weights on the same batches, so a correct network reaches the same accuracy.

Why not the code's seed, as every other check: a network that trains erratically
(Adam without its bias correction) lands anywhere from the reference's accuracy
to chance, depending on the draw (bench/seeds.py, BENCHMARKS.md). With a new draw
for each change to the code, a student could resubmit cosmetic edits until a
lucky one; a training run reveals no case to hard-code, so it keeps the student's.
"""

from autograder.suite import check, record

from . import harness

_SETTINGS = harness.config()


def _record(request, run, reference_run):
    record(request, "accuracy", run["accuracy"])
    record(request, "unseen_accuracy", run["unseen_accuracy"])
    record(request, "accuracy_by_offset", run["by_offset"])
    record(request, "reference_accuracy", reference_run["accuracy"])
    record(request, "filters", run["filters"])
    if run["losses"]:
        record(request, "final_loss", round(sum(run["losses"][-50:]) / len(run["losses"][-50:]), 4))


@check("train", weight=2, seconds=_SETTINGS["seconds"])
def test_reaches_the_reference_accuracy(student, reference, student_rng, request):
    """Trained from the grader's initial weights, DigitCNN classifies held-out digits about as well as the reference"""
    run = harness.student_run(student, reference, student_rng)
    ours = harness.reference_run(reference, run["seed"])
    _record(request, run, ours)
    floor = ours["accuracy"] - float(_SETTINGS["margin"])
    if run["accuracy"] < floor:
        losses = run["losses"]
        why = ""
        if losses and not all(v == v for v in losses):
            why = " The training loss became nan: look for an overflow (softmax) or a division by zero."
        elif losses and sum(losses[-50:]) / 50 > 0.9 * sum(losses[:50]) / 50:
            why = " The training loss hardly went down: check the gradients of each layer and Adam's update."
        raise AssertionError(
            f"your DigitCNN reached {run['accuracy']:.1f}% test accuracy after training; the reference, trained from "
            f"the same initial weights on the same batches, reached {ours['accuracy']:.1f}% "
            f"(from {floor:.1f}% on gets full points).{why}"
        )


@check("train", weight=1, seconds=_SETTINGS["seconds"])
def test_tolerates_positions_it_never_saw(student, reference, student_rng, request):
    """At offsets no training digit had, DigitCNN beats an MLP of its size by a wide margin (the lesson's claim)"""
    run = harness.student_run(student, reference, student_rng)
    mlp = harness.reference_run(reference, run["seed"], "MLP")
    record(request, "mlp_unseen_accuracy", mlp["unseen_accuracy"])
    gap = run["unseen_accuracy"] - mlp["unseen_accuracy"]
    wanted = float(_SETTINGS["gap_over_mlp"])
    if gap < wanted:
        raise AssertionError(
            f"on test digits placed where no training digit was, your DigitCNN is right {run['unseen_accuracy']:.1f}% of "
            f"the time and an MLP of the same size {mlp['unseen_accuracy']:.1f}%: {gap:.1f} points apart, fewer than "
            f"{wanted:g}. Tolerance of shifts comes from pooling over the whole map (GlobalMaxPool2d) after convolutions."
        )
