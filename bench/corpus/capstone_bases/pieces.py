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
            mt = self.m[i] / (1 - self.beta1 ** self.t)
            vt = self.v[i] / (1 - self.beta2 ** self.t)
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


