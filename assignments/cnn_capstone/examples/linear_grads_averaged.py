"""Linear.backward averages W.grad and b.grad over the batch, on top of the loss's own division by N."""
# affects: Linear DigitCNN train
# mistake: batch_mean
# feedback names: average the gradient over the batch



class Linear(_reference_Linear):
    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        self.W.grad += self._x.T @ dout / len(dout)
        self.b.grad += dout.mean(axis=0)
        return dout @ self.W.data.T
