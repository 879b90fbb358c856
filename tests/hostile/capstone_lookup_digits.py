"""The capstone with no layers: predict looks each strip up in the digits file the handout ships.

Honest part: a DigitCNN of bare Parameters (capstone_bare_network.py): no
work. Hostile part: the handout's digits.csv.gz, embedded (@DIGITS@ is its
base64), and a predict that finds each strip's 8x8 window among them and
answers that digit's label; forward answers the same, as scores. Before
issue 16 the grader asked this predict for the test strips: 100 % accuracy,
the whole training question, and its filters in the class report.
"""
# include: capstone_bare_network.py
# ==== HOSTILE ====
import base64 as _base64
import gzip as _gzip

_TABLE = {}
for _row in _gzip.decompress(_base64.b64decode("@DIGITS@")).decode().splitlines():
    _values = [int(float(v)) for v in _row.split(",")]
    _TABLE[bytes(_values[:64])] = _values[64]


def _looked_up(strip):
    for offset in range(strip.shape[-1] - 7):
        window = np.rint(strip[0, :, offset:offset + 8] * 16).astype(int)
        if window.min() >= 0 and window.max() <= 16:
            label = _TABLE.get(bytes(window.ravel().tolist()))
            if label is not None:
                return label
    return 0


def predict(model, x, batch_size=100):
    return np.array([_looked_up(strip) for strip in np.asarray(x)], dtype=np.int64)


class DigitCNN(DigitCNN):
    def forward(self, x):
        return 10.0 * np.eye(10)[predict(self, x)]
