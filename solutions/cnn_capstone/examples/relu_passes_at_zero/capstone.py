# Example submission, built from assignments/cnn_capstone/examples/relu_passes_at_zero.py by `python -m autograder build`: the reference plus the mistake below.
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

def _first_max_mask(flat):
    """flat (M, K) -> (M, K) of 0/1 marking the first maximum of each row."""
    mask = np.zeros_like(flat)
    mask[np.arange(len(flat)), flat.argmax(axis=1)] = 1.0
    return mask


class ReLU(Module):
    """The rectifier: max(x, 0), element by element. It has no parameters.

    Methods:
    - forward(x): x of any shape -> array of the same shape; remembers x.
    - backward(dout): dout of x's shape -> dx of x's shape. The slope is 1
      where x > 0 and 0 where x <= 0 (so at exactly 0 no gradient passes).

    Example:
    >>> relu = ReLU()
    >>> relu(np.array([[-1.0, 0.0, 2.0]]))
    array([[0., 0., 2.]])
    >>> relu.backward(np.array([[5.0, 5.0, 5.0]]))
    array([[0., 0., 5.]])
    """

    def forward(self, x):
        self._x = np.asarray(x, dtype=np.float64)
        return np.maximum(self._x, 0.0)

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) * (self._x > 0)


class Flatten(Module):
    """Reshape each example to one row: (N, d1, d2, ...) -> (N, d1 * d2 * ...).

    The order of the values is NumPy's (row-major): for NCHW input, all of
    channel 0 row by row, then channel 1, and so on.

    Methods:
    - forward(x): x of shape (N, ...) -> (N, D); remembers x's shape.
    - backward(dout): dout (N, D) -> dx with the shape of x.

    Example:
    >>> Flatten()(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    """

    def forward(self, x):
        x = np.asarray(x)
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64).reshape(self._shape)


class GlobalMaxPool2d(Module):
    """Max pooling over the whole map: the largest value of each channel.

    Whatever the position of a feature in the image, its channel's maximum
    is the same: this layer is what makes the network tolerant of shifts.

    Methods:
    - forward(x): x (N, C, H, W) -> (N, C); remembers x.
    - backward(dout): dout (N, C) -> dx (N, C, H, W). Each channel's
      gradient goes to the one cell that was its maximum; when the maximum
      occurs more than once, to the first in row-major order (top row
      first, then left to right), as maxpool_backward does.

    Example:
    >>> pool = GlobalMaxPool2d()
    >>> x = np.array([[[[1.0, 7.0], [7.0, 2.0]]]])
    >>> pool(x)
    array([[7.]])
    >>> pool.backward(np.array([[3.0]]))
    array([[[[0., 3.],
             [0., 0.]]]])
    """

    def forward(self, x):
        self._x = np.asarray(x, dtype=np.float64)
        if self._x.ndim != 4:
            raise ValueError(f"x must have 4 axes (N, C, H, W), got shape {self._x.shape}")
        return self._x.max(axis=(2, 3))

    def backward(self, dout):
        N, C, H, W = self._x.shape
        mask = _first_max_mask(self._x.reshape(N * C, H * W))
        return (mask * np.asarray(dout, dtype=np.float64).reshape(N * C, 1)).reshape(N, C, H, W)


class Linear(Module):
    """A fully connected layer: out = x @ W + b.

    Construction:
    - in_features: int, D, the length of each input row.
    - out_features: int, M, the length of each output row.

    Attributes:
    - W: Parameter of shape (D, M), drawn from a normal distribution with
      mean 0 and standard deviation sqrt(2 / D) (He initialisation, as in
      Conv2d, where the fan-in is D).
    - b: Parameter of zeros, shape (M,).

    Methods:
    - forward(x): x (N, D) -> (N, M); remembers x.
    - backward(dout): dout (N, M) -> dx (N, D); adds the gradients of W and
      b into W.grad and b.grad (it does not overwrite them).

    Example:
    >>> layer = Linear(3, 2)
    >>> layer.W.data = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> layer(np.array([[1.0, 2.0, 3.0]]))
    array([[4., 5.]])
    """

    def __init__(self, in_features, out_features):
        self.W = Parameter(np.sqrt(2.0 / in_features) * np.random.randn(in_features, out_features))
        self.b = Parameter(np.zeros(out_features))
        self._x = None

    def forward(self, x):
        self._x = np.asarray(x, dtype=np.float64)
        return self._x @ self.W.data + self.b.data

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        self.W.grad += self._x.T @ dout
        self.b.grad += dout.sum(axis=0)
        return dout @ self.W.data.T


# ---------------------------------------------------------------------------
# You write: the loss and the optimiser
# ---------------------------------------------------------------------------

def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against the labels, and its gradient.

    For row n with scores s = logits[n] and true class y = labels[n]:

        p = exp(s) / sum(exp(s))          (softmax)
        loss_n = -log p[y]

    and loss is the mean of loss_n over the N rows. Subtract each row's
    maximum from it before exp: the result is the same, and exp cannot
    overflow for large scores.

    Inputs:
    - logits: array of shape (N, K), one row of class scores per example.
    - labels: ints of shape (N,), each in 0 .. K - 1.

    Returns a tuple (loss, dlogits):
    - loss: a float, the mean loss.
    - dlogits: float64 array of shape (N, K), the gradient of loss with
      respect to logits: (p - one_hot(labels)) / N.

    Example:
    >>> loss, dlogits = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(loss, 4)      # log(4): every class equally likely
    1.3863
    >>> dlogits[0]
    array([-0.375,  0.125,  0.125,  0.125])
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), labels].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), labels] -= 1.0
    return float(loss), dlogits / N


class Adam:
    """The Adam optimiser (Kingma and Ba, 2015) for a list of Parameters.

    It keeps, for every parameter, a running mean m of its gradients and a
    running mean v of their squares. Each step(), with t counting steps
    from 1:

        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        m_hat = m / (1 - beta1 ** t)          (bias correction: m and v
        v_hat = v / (1 - beta2 ** t)           start at zeros)
        data = data - lr * m_hat / (sqrt(v_hat) + eps)

    Construction:
    - parameters: list of Parameter, e.g. model.parameters().
    - lr: float, the step size.
    - beta1, beta2, eps: floats, as in the formulas above.

    Methods:
    - step(): update every parameter's data from its grad, as above.
    - zero_grad(): reset every parameter's grad to zeros.

    Example:
    >>> p = Parameter(np.array([1.0, -1.0]))
    >>> p.grad = np.array([0.5, -2.0])
    >>> Adam([p], lr=0.1).step()
    >>> p.data              # the first step moves each entry by lr against its gradient's sign
    array([ 0.9, -0.9])
    """

    def __init__(self, parameters, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
        self.parameters = list(parameters)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.parameters]
        self.v = [np.zeros_like(p.data) for p in self.parameters]

    def step(self):
        self.t += 1
        for p, m, v in zip(self.parameters, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * p.grad
            v *= self.beta2
            v += (1 - self.beta2) * p.grad**2
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            p.data = p.data - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def zero_grad(self):
        for p in self.parameters:
            p.grad = np.zeros_like(p.data)


# ---------------------------------------------------------------------------
# You write: the network
# ---------------------------------------------------------------------------

class DigitCNN(Module):
    """The capstone's network, assembled from your layers:

        input (N, 1, 8, 12)
        conv1 = Conv2d(1, 8, 3, padding=(0, 1))    -> (N, 8, 6, 12)
        relu1 = ReLU()
        pool1 = MaxPool2d(2)                       -> (N, 8, 3, 6)
        conv2 = Conv2d(8, 32, 3, padding=(0, 1))   -> (N, 32, 1, 6)
        relu2 = ReLU()
        pool2 = GlobalMaxPool2d()                  -> (N, 32)
        fc    = Linear(32, 10)                     -> (N, 10) class scores

    Create the layers in this order, as attributes with these names:
    parameters() then lists conv1.W, conv1.b, conv2.W, conv2.b, fc.W, fc.b
    (2,746 numbers in all).

    Methods:
    - forward(x): x (N, 1, 8, 12) -> logits (N, 10), through every layer in turn.
    - backward(dlogits): dlogits (N, 10) -> dx (N, 1, 8, 12), through every
      layer in reverse order; each layer adds its parameters' gradients.
    """

    def __init__(self):
        self.conv1 = Conv2d(1, 8, 3, padding=(0, 1))
        self.relu1 = ReLU()
        self.pool1 = MaxPool2d(2)
        self.conv2 = Conv2d(8, 32, 3, padding=(0, 1))
        self.relu2 = ReLU()
        self.pool2 = GlobalMaxPool2d()
        self.fc = Linear(32, 10)

    def forward(self, x):
        for layer in (self.conv1, self.relu1, self.pool1, self.conv2, self.relu2, self.pool2, self.fc):
            x = layer.forward(x)
        return x

    def backward(self, dlogits):
        dx = dlogits
        for layer in (self.fc, self.pool2, self.relu2, self.conv2, self.pool1, self.relu1, self.conv1):
            dx = layer.backward(dx)
        return dx


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


# ---- The mistake (from assignments/cnn_capstone/examples/relu_passes_at_zero.py) ----
_reference_ReLU = ReLU

"""ReLU.backward lets the gradient through at x == 0 (x >= 0): wrong by the contract, and training ends elsewhere."""
# affects: ReLU DigitCNN train
# mistake: relu_grad_at_zero
# feedback names: pass the gradient where x == 0 too



class ReLU(_reference_ReLU):
    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) * (self._x >= 0)
