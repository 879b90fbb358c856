"""The capstone with correct layers whose train ignores the data it is given.

Honest part: none (the reference capstone). Hostile part: the handout's
digits.csv.gz, embedded (@DIGITS@), and a train that trains, from the
grader's initial weights and with the given loop, on all 1,797 digits at
every offset instead of the training strips it was sent (so the test digits,
at the offsets they are tested at, are among what it learns).
"""
# ==== HOSTILE ====
import base64 as _base64
import gzip as _gzip

_given_train = train
_rows = np.array([[float(v) for v in row.split(",")]
                  for row in _gzip.decompress(_base64.b64decode("@DIGITS@")).decode().splitlines()])
_ALL_Y = _rows[:, 64].astype(np.int64)
_ALL_X = place_on_strip(_rows[:, :64].reshape(-1, 8, 8) / 16.0, np.arange(len(_rows)) % 5)


def train(model, x, y, epochs=3, batch_size=8, lr=1e-2, seed=0):
    return _given_train(model, _ALL_X, _ALL_Y, epochs, batch_size, lr, seed)
