"""Hidden checks that train the student's whole network on real digits.

The grader draws a split, offsets and initial weights from the student's seed
(student_rng: the course secret, the assignment and the name, not the code: a
training run reveals no case to hard-code, so a student's resubmissions train
alike), sets the weights on the student's DigitCNN and runs the handout's
train() in the worker on the training images and labels. The trained
parameters come back as arrays, and every number graded is computed here:

- training is deterministic, so the reference, trained here from the same
  weights on the same batches, says where correct layers end (to about
  1e-14, bench/capstone.py); a network that did not come out of this
  training (weights trained elsewhere, a train() that ignores its data or
  does nothing) ends far from there (a third to twice the way training
  moves the parameters), and earns no training point;
- the test accuracy is that of the reference network holding the student's
  parameters, on test images that never leave the grader;
- the student's forward and predict() are checked on strips the grader
  makes, by the network's checks (test_DigitCNN.py).

The training points also wait for the checks of the layers the network is
made of: its points say the student's layers trained it. When one of them
failed, the engine names it, with its mistake, as the first thing to fix: in
a training check that fails (a training that ends far from the reference's
is then explained), and in one that passes but waits (one that ends near it
still earns nothing).
"""

from autograder.suite import check, fail, record

from . import harness

_SETTINGS = harness.config()

# The value checks of what train() runs: DigitCNN's forward and backward (through the
# first part's Conv2d and MaxPool2d), its ReLU, GlobalMaxPool2d and Linear, the loss and Adam.
LAYERS = (
    "test_ReLU.py::test_forward", "test_ReLU.py::test_backward",
    "test_GlobalMaxPool2d.py::test_forward", "test_GlobalMaxPool2d.py::test_backward",
    "test_Linear.py::test_forward", "test_Linear.py::test_backward",
    "test_softmax_cross_entropy.py::test_loss", "test_softmax_cross_entropy.py::test_gradient",
    "test_Adam.py::test_steps", "test_Adam.py::test_zero_grad",
    "test_DigitCNN.py::test_forward", "test_DigitCNN.py::test_backward",
)
TRAINED = "test_trains_to_the_references_parameters"


@check("train", weight=2, seconds=_SETTINGS["seconds"], depends=LAYERS)
def test_trains_to_the_references_parameters(student, reference, student_rng):
    """Trained from the grader's initial weights on the batches it sent, DigitCNN ends at the reference's parameters"""
    run = harness.student_run(student, reference, student_rng)
    ours = harness.reference_run(reference, run["seed"])
    distance, worst = harness.distance_from(run, ours)
    tolerance = float(_SETTINGS["parameter_tolerance"])
    if distance <= tolerance:
        return
    losses = run["losses"]
    if harness.unchanged_by_training(run):
        why = ("train() changed none of them: Adam.step() should update the data of the Parameters that "
               "model.parameters() lists.")
    elif distance == float("inf") or (losses and not all(v == v for v in losses)):
        why = "Some became nan or infinite: look for an overflow (softmax) or a division by zero."
    elif len(losses) >= 100 and sum(losses[-50:]) / 50 > 0.9 * sum(losses[:50]) / 50:
        why = "The training loss hardly went down: check the gradients of each layer and Adam's update."
    else:
        why = ("Where your layers differ from the reference, their own checks say so; train() and predict() "
               "are given: keep them as the handout has them.")
    apart = "infinitely far" if distance == float("inf") else f"{100 * distance:.3g}% of the way training moved them"
    fail(f"after train() from the grader's initial weights, your DigitCNN's parameters end {apart} away from the "
         f"reference's, trained from the same weights on the same batches (up to {100 * tolerance:g}% counts as the "
         f"same network; correct layers end where the reference does, to about 1e-14), most of all in "
         f"{harness.NAMES[worst]}", help=why)


@check("train", weight=1, seconds=_SETTINGS["seconds"], depends=(TRAINED, *LAYERS))
def test_reaches_the_reference_accuracy(student, reference, student_rng, request):
    """The trained network classifies held-out digits about as well as the reference (computed by the grader)"""
    run = harness.student_run(student, reference, student_rng)
    ours, mine = harness.reference_run(reference, run["seed"]), run["scores"]
    # Recorded here, kept only when this check earns its points (with the training it depends on).
    record(request, "accuracy", mine["accuracy"])
    record(request, "unseen_accuracy", mine["unseen_accuracy"])
    record(request, "accuracy_by_offset", mine["by_offset"])
    record(request, "reference_accuracy", ours["accuracy"])
    record(request, "filters", run["filters"])
    if run["losses"]:
        record(request, "final_loss", round(sum(run["losses"][-50:]) / len(run["losses"][-50:]), 4))
    floor = ours["accuracy"] - float(_SETTINGS["margin"])
    if mine["accuracy"] < floor:
        fail(f"the reference network holding your trained parameters classifies {mine['accuracy']:.1f}% of the "
             f"held-out digits; the reference, trained from the same initial weights on the same batches, "
             f"{ours['accuracy']:.1f}% (from {floor:.1f}% on gets full points)")


@check("train", weight=1, seconds=_SETTINGS["seconds"], depends=(TRAINED, *LAYERS))
def test_tolerates_positions_it_never_saw(student, reference, student_rng, request):
    """At offsets no training digit had, DigitCNN beats an MLP of its size by a wide margin (the lesson's claim)"""
    run = harness.student_run(student, reference, student_rng)
    mine = run["scores"]
    mlp = harness.reference_run(reference, run["seed"], "MLP")
    record(request, "mlp_unseen_accuracy", mlp["unseen_accuracy"])
    gap = mine["unseen_accuracy"] - mlp["unseen_accuracy"]
    wanted = float(_SETTINGS["gap_over_mlp"])
    if gap < wanted:
        fail(f"on test digits placed where no training digit was, your trained DigitCNN is right "
             f"{mine['unseen_accuracy']:.1f}% of the time and an MLP of the same size {mlp['unseen_accuracy']:.1f}%: "
             f"{gap:.1f} points apart, fewer than {wanted:g}",
             help="Tolerance of shifts comes from pooling over the whole map (GlobalMaxPool2d) after convolutions")
