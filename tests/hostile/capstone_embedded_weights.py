"""The capstone with correct layers whose train loads weights trained elsewhere.

Honest part: none (the reference capstone: correct layers). Hostile part:
DigitCNN weights trained before grading on all 1,797 digits at every offset
(@WEIGHTS@, the base64 of an .npz the test makes with the reference), which
train puts in place of the grader's initial weights, ignoring its data;
its losses look like training's. Before issue 16 this earned the whole
training question (a network trained on the test digits too).
"""
# ==== HOSTILE ====
import base64 as _base64
import io as _io

_EMBEDDED = np.load(_io.BytesIO(_base64.b64decode("@WEIGHTS@")), allow_pickle=False)


def train(model, x, y, epochs=3, batch_size=8, lr=1e-2, seed=0):
    for index, parameter in enumerate(model.parameters()):
        parameter.data = np.array(_EMBEDDED[f"p{index}"])
    return [2.3 * 0.99 ** step for step in range(epochs * -(-len(x) // batch_size))]
