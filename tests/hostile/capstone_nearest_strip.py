"""The capstone with no layers: predict answers the label of the nearest training strip.

Honest part: a DigitCNN of bare Parameters (capstone_bare_network.py).
Hostile part: train keeps the training strips the grader sends and changes
no parameter; predict moves each strip's ink to the left edge (so the
position does not count) and answers the label of the nearest training
strip moved the same way. Before issue 16 this scored 97.7 % on the test
strips the grader sent to predict, unseen offsets included.
"""
# include: capstone_bare_network.py
# ==== HOSTILE ====


def _to_left(x):
    x = np.asarray(x, dtype=np.float64).reshape(len(x), 8, -1)
    moved = np.zeros_like(x)
    for index, strip in enumerate(x):
        columns = np.flatnonzero(strip.any(axis=0))
        start = columns[0] if len(columns) else 0
        moved[index, :, : x.shape[2] - start] = strip[:, start:]
    return moved.reshape(len(x), -1)


def train(model, x, y, epochs=3, batch_size=8, lr=1e-2, seed=0):
    model.memory = (_to_left(x), np.asarray(y))
    return [2.3 * 0.99 ** step for step in range(epochs * -(-len(x) // batch_size))]


def predict(model, x, batch_size=100):
    seen, labels = getattr(model, "memory", (np.zeros((1, 96)), np.zeros(1, dtype=np.int64)))
    moved = _to_left(x)
    distances = (moved ** 2).sum(1)[:, None] - 2 * moved @ seen.T + (seen ** 2).sum(1)[None, :]
    return labels[distances.argmin(axis=1)].astype(np.int64)
