"""Adam that uses its step count before incrementing it: t is 0 at the first step, and 1 - beta1 ** 0 divides by zero."""
# affects: Adam train
# mistake: adam_step_count_zero
# feedback names: use t = 0 at the first step



class Adam(_reference_Adam):
    def step(self):
        for p, m, v in zip(self.parameters, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * p.grad
            v *= self.beta2
            v += (1 - self.beta2) * p.grad**2
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            p.data = p.data - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        self.t += 1
