"""Adam with eps inside the square root: sqrt(v_hat + eps)."""
# affects: Adam train
# mistake: adam_eps_inside_sqrt
# feedback names: add eps inside the square root



class Adam(_reference_Adam):
    def step(self):
        self.t += 1
        for p, m, v in zip(self.parameters, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * p.grad
            v *= self.beta2
            v += (1 - self.beta2) * p.grad**2
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            p.data = p.data - self.lr * m_hat / np.sqrt(v_hat + self.eps)
