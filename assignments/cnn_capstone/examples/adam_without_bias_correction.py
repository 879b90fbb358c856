"""Adam without the bias correction of m and v."""
# affects: Adam train
# mistake: adam_no_bias_correction
# feedback names: leave out the bias correction



class Adam(_reference_Adam):
    def step(self):
        self.t += 1
        for p, m, v in zip(self.parameters, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * p.grad
            v *= self.beta2
            v += (1 - self.beta2) * p.grad**2
            p.data = p.data - self.lr * m / (np.sqrt(v) + self.eps)
