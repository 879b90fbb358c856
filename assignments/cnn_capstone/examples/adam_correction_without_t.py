"""Adam whose bias correction divides by (1 - beta1) and (1 - beta2), without ** t."""
# affects: Adam train
# mistake: adam_correction_without_t
# feedback names: the bias correction needs ** t



class Adam(_reference_Adam):
    def step(self):
        self.t += 1
        for p, m, v in zip(self.parameters, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * p.grad
            v *= self.beta2
            v += (1 - self.beta2) * p.grad**2
            m_hat = m / (1 - self.beta1)
            v_hat = v / (1 - self.beta2)
            p.data = p.data - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
