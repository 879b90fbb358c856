"""Adam without the bias correction of m and v."""
# affects: Adam
# on some draws: train
# feedback names: leave out the bias correction
# Training with it lands anywhere from the reference's accuracy to chance, depending on the draw
# (below the training question's margin on 22 of 40 seeds, BENCHMARKS.md section 10): which draw a
# student gets follows them, not their code, so resubmitting does not redraw it.



class Adam(_reference_Adam):
    def step(self):
        self.t += 1
        for p, m, v in zip(self.parameters, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * p.grad
            v *= self.beta2
            v += (1 - self.beta2) * p.grad**2
            p.data = p.data - self.lr * m / (np.sqrt(v) + self.eps)
