"""Adam whose step count starts at 1 and is incremented before it is used: t is 2 at the first step."""
# affects: Adam train
# mistake: adam_step_count_ahead
# feedback names: count the steps from 2



class Adam(_reference_Adam):
    def __init__(self, parameters, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(parameters, lr, beta1, beta2, eps)
        self.t = 1

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
