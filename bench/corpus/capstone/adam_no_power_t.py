# corpus: style=cs231n; bugs=adam_no_power_t; items=Adam,train
# Reference solution, built from assignments/cnn_capstone/capstone.py by `python -m autograder build`; edit that file instead.
"""Capstone: a small CNN from your own layers, trained on real handwritten digits.

Your layers from the first part (cnn_layers.py, in this folder) do the
convolution and the pooling. Here you write the remaining pieces of a
network, assemble it, and train it:

    ReLU, Flatten, GlobalMaxPool2d, Linear   layers with forward and backward
    softmax_cross_entropy                    the loss and its gradient
    Adam                                     the optimiser
    DigitCNN                                 the network, built from your layers

The data loading, the training loop and the two networks it is compared
with (an MLP and a CNN that flattens its features) are given.

Arrays are laid out NCHW as in the first part: N images, C channels,
H rows, W columns. Labels are ints 0..9 of shape (N,).
"""

import gzip
from pathlib import Path

import numpy as np

# Your first part. Keep cnn_layers.py beside this file.
from cnn_layers import MaxPool2d, Conv2d, Module, Parameter, conv2d_backward, conv2d_forward

# ---------------------------------------------------------------------------
# Given: the data
# ---------------------------------------------------------------------------

DIGITS_FILE = "digits.csv.gz"
STRIP_WIDTH = 12  # an 8x8 digit sits somewhere on an 8x12 strip


def load_digits(path=None):
    """The 1,797 handwritten digits of the UCI "Optical Recognition of Handwritten Digits" data.

    Each row of digits.csv.gz holds 64 pixel counts (0..16, an 8x8 image
    read row by row) followed by the label. Source: E. Alpaydin and C. Kaynak,
    UCI Machine Learning Repository, CC BY 4.0 (the copy scikit-learn ships).

    Inputs:
    - path: the .csv.gz file; by default digits.csv.gz beside this module
      (or in the current folder, in a notebook).

    Returns:
    - images: float64 array of shape (1797, 8, 8), scaled to [0, 1].
    - labels: int64 array of shape (1797,).
    """
    if path is None:
        here = Path(globals().get("__file__", DIGITS_FILE)).resolve().parent
        path = here / DIGITS_FILE if (here / DIGITS_FILE).is_file() else Path(DIGITS_FILE)
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    return table[:, :64].reshape(-1, 8, 8) / 16.0, table[:, 64].astype(np.int64)


def place_on_strip(images, offsets, width=STRIP_WIDTH):
    """Put each 8x8 digit on a blank 8 x width strip, `offsets` columns from the left.

    Inputs:
    - images: array of shape (N, 8, 8).
    - offsets: ints of shape (N,), each in 0 .. width - 8.

    Returns:
    - strips: float64 array of shape (N, 1, 8, width): one channel, as the
      first convolution expects.
    """
    images = np.asarray(images, dtype=np.float64)
    offsets = np.asarray(offsets)
    strips = np.zeros((len(images), 1, 8, width))
    for index, (image, offset) in enumerate(zip(images, offsets)):
        strips[index, 0, :, offset : offset + 8] = image
    return strips


def split_digits(images, labels, seed=0, n_train=1200, train_offsets=(0, 1), test_offsets=(0, 1, 2, 3, 4)):
    """A random train/test split, each digit placed at a random offset.

    Training digits sit only at `train_offsets`; test digits at any of
    `test_offsets`, so some test digits sit where no training digit ever did.

    Returns a dict of arrays:
    - x_train (n_train, 1, 8, 12), y_train (n_train,), offsets_train (n_train,)
    - x_test (N - n_train, 1, 8, 12), y_test, offsets_test
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    train, test = order[:n_train], order[n_train:]
    offsets_train = rng.choice(np.asarray(train_offsets), size=len(train))
    offsets_test = rng.choice(np.asarray(test_offsets), size=len(test))
    return {
        "x_train": place_on_strip(images[train], offsets_train),
        "y_train": labels[train],
        "offsets_train": offsets_train,
        "x_test": place_on_strip(images[test], offsets_test),
        "y_test": labels[test],
        "offsets_test": offsets_test,
    }


# ---------------------------------------------------------------------------
# You write: the layers
# ---------------------------------------------------------------------------

class ReLU(Module):
    def forward(self, x):
        self.x = x
        return np.maximum(0, x).astype(np.float64)

    def backward(self, dout):
        dx = np.array(dout, dtype=np.float64, copy=True)
        dx[self.x <= 0] = 0
        return dx


class Flatten(Module):
    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.in_shape)


class GlobalMaxPool2d(Module):
    def forward(self, x):
        self.x = x
        return np.max(x, axis=(2, 3)).astype(np.float64)

    def backward(self, dout):
        N, C, H, W = self.x.shape
        flat = self.x.reshape(N, C, H * W)
        idx = np.argmax(flat, axis=2)          # first max in row-major order
        dx = np.zeros((N, C, H * W))
        n_idx, c_idx = np.meshgrid(np.arange(N), np.arange(C), indexing='ij')
        dx[n_idx, c_idx, idx] = dout
        return dx.reshape(N, C, H, W)


class Linear(Module):
    def __init__(self, in_features, out_features):
        self.W = Parameter(np.random.randn(in_features, out_features) * np.sqrt(2.0 / in_features))
        self.b = Parameter(np.zeros(out_features))

    def forward(self, x):
        self.x = x
        return x.dot(self.W.data) + self.b.data

    def backward(self, dout):
        dx = dout.dot(self.W.data.T)
        self.W.grad += self.x.T.dot(dout)
        self.b.grad += np.sum(dout, axis=0)
        return dx


# ---------------------------------------------------------------------------
# You write: the loss and the optimiser
# ---------------------------------------------------------------------------

def softmax_cross_entropy(logits, labels):
    N = logits.shape[0]
    shifted_logits = logits - np.max(logits, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    loss = -np.sum(log_probs[np.arange(N), labels]) / N
    dx = probs.copy()
    dx[np.arange(N), labels] -= 1
    dx /= N
    return float(loss), dx


class Adam:
    def __init__(self, parameters, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = list(parameters)
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self):
        self.t += 1
        for i, p in enumerate(self.params):
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * p.grad
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * (p.grad ** 2)
            mt = self.m[i] / (1 - self.beta1)
            vt = self.v[i] / (1 - self.beta2)
            p.data = p.data - self.lr * mt / (np.sqrt(vt) + self.eps)

    def zero_grad(self):
        for p in self.params:
            p.grad = np.zeros_like(p.data)


# ---------------------------------------------------------------------------
# You write: the network
# ---------------------------------------------------------------------------

class DigitCNN(Module):
    def __init__(self):
        self.conv1 = Conv2d(1, 8, 3, padding=(0, 1))
        self.relu1 = ReLU()
        self.pool1 = MaxPool2d(2)
        self.conv2 = Conv2d(8, 32, 3, padding=(0, 1))
        self.relu2 = ReLU()
        self.pool2 = GlobalMaxPool2d()
        self.fc = Linear(32, 10)
        self.layers = [self.conv1, self.relu1, self.pool1, self.conv2, self.relu2, self.pool2, self.fc]

    def forward(self, x):
        out = x
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def backward(self, dlogits):
        grad = dlogits
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad


# ---------------------------------------------------------------------------
# Given: the networks DigitCNN is compared with, and the training loop
# ---------------------------------------------------------------------------

class MLP(Module):
    """The lesson's fully connected network, as large as DigitCNN (2,685 numbers).

    Flatten -> Linear(96, 25) -> ReLU -> Linear(25, 10). Each pixel of the
    strip has its own weights, so a digit moved by one column meets other weights.
    """

    def __init__(self, hidden=25):
        self.flat = Flatten()
        self.fc1 = Linear(8 * STRIP_WIDTH, hidden)
        self.relu = ReLU()
        self.fc2 = Linear(hidden, 10)

    def forward(self, x):
        for layer in (self.flat, self.fc1, self.relu, self.fc2):
            x = layer.forward(x)
        return x

    def backward(self, dlogits):
        for layer in (self.fc2, self.relu, self.fc1, self.flat):
            dlogits = layer.backward(dlogits)
        return dlogits


class FlattenCNN(DigitCNN):
    """DigitCNN with its global pooling replaced by Flatten: the convolutions
    keep the map, but the last layer gives each of the 6 positions its own weights.

    conv1 .. relu2 as in DigitCNN -> (N, 32, 1, 6); Flatten -> (N, 192); Linear(192, 10).
    """

    def __init__(self):
        super().__init__()
        self.pool2 = Flatten()
        self.fc = Linear(32 * 6, 10)


def train(model, x, y, epochs=3, batch_size=8, lr=1e-2, seed=0):
    """Train `model` with Adam on mini-batches in a random order; returns the loss of every step.

    Inputs:
    - model: a Module with forward(x) -> logits and backward(dlogits).
    - x: images of shape (N, 1, 8, 12); y: labels of shape (N,).
    - epochs, batch_size, lr: ints and a float.
    - seed: the order of the batches comes from np.random.default_rng(seed).

    Returns:
    - losses: list of floats, one per step (epochs * ceil(N / batch_size) of them).
    """
    rng = np.random.default_rng(seed)
    optimiser = Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            optimiser.zero_grad()
            loss, dlogits = softmax_cross_entropy(model.forward(x[batch]), y[batch])
            model.backward(dlogits)
            optimiser.step()
            losses.append(float(loss))
    return losses


def predict(model, x, batch_size=100):
    """The class with the highest score for each image: ints of shape (N,)."""
    scores = [model.forward(x[start : start + batch_size]) for start in range(0, len(x), batch_size)]
    return np.concatenate(scores).argmax(axis=1)
