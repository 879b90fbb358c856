"""ReLU.backward lets the gradient through at x == 0 (x >= 0): wrong by the contract, and training ends elsewhere."""
# affects: ReLU DigitCNN train
# mistake: relu_grad_at_zero
# feedback names: pass the gradient where x == 0 too



class ReLU(_reference_ReLU):
    def backward(self, dout):
        return np.asarray(dout, dtype=np.float64) * (self._x >= 0)
