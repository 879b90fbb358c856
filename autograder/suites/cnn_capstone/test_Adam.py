"""Hidden checks of the Adam optimiser."""

import numpy as np

from autograder.suite import check, same


def _adam(values, grads, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, correct=True, eps_inside=False):
    """Every parameter's values after each step: a list per step, of arrays per parameter."""
    data = [v.copy() for v in values]
    m = [np.zeros_like(v) for v in values]
    v2 = [np.zeros_like(v) for v in values]
    history = []
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v2[i] = beta2 * v2[i] + (1 - beta2) * g**2
            m_hat = m[i] / (1 - beta1**t) if correct else m[i]
            v_hat = v2[i] / (1 - beta2**t) if correct else v2[i]
            scale = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
            data[i] = data[i] - lr * m_hat / scale
        history.append([d.copy() for d in data])
    return history


def _run(student, rng, steps=4, **settings):
    """Step a student's Adam over two parameters with gradients of very different sizes."""
    values = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    grads = [[rng.standard_normal((3, 2)) * 10.0 ** rng.integers(-6, 1, (3, 2)), rng.standard_normal(4)]
             for _ in range(steps)]
    params = [student.Parameter(v) for v in values]
    optimiser = student.Adam(params, **settings)
    for t, step_grads in enumerate(grads):
        for p, g in zip(params, step_grads):
            p.grad = g
        optimiser.step()
        yield t + 1, values, grads, [p.data for p in params]


@check("Adam", weight=4)
def test_steps(student, reference, rng):
    """four steps with the default settings move each parameter as the formulas say"""
    for t, values, grads, got in _run(student, rng):
        want = _adam(values, grads[:t])[-1]
        for i, (g, w) in enumerate(zip(got, want)):
            same(g, w, f"parameter {i}'s data after {t} step(s) of Adam(params)", mistakes={
                "leave out the bias correction (m_hat = m / (1 - beta1 ** t), and v likewise)":
                    lambda: _adam(values, grads[:t], correct=False)[-1][i],
                "add eps inside the square root (sqrt(v_hat + eps)) instead of after it":
                    lambda: _adam(values, grads[:t], eps_inside=True)[-1][i],
            })


@check("Adam", weight=2, depends=["test_steps"])
def test_settings(student, reference, rng):
    """lr, beta1, beta2 and eps given to the constructor are used"""
    settings = {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3}
    for t, values, grads, got in _run(student, rng, steps=3, **settings):
        want = _adam(values, grads[:t], **settings)[-1]
        for i, (g, w) in enumerate(zip(got, want)):
            same(g, w, f"parameter {i}'s data after {t} step(s) of Adam(params, lr=0.05, beta1=0.5, beta2=0.9, eps=1e-3)",
                 mistakes={"ignore the settings given to the constructor": lambda: _adam(values, grads[:t])[-1][i]})


@check("Adam", weight=1, depends=["test_steps"])
def test_zero_grad(student, reference, rng):
    """zero_grad sets every parameter's grad to zeros"""
    params = [student.Parameter(rng.standard_normal((2, 3))), student.Parameter(rng.standard_normal(5))]
    for p in params:
        p.grad = rng.standard_normal(p.data.shape)
    student.Adam(params).zero_grad()
    for i, p in enumerate(params):
        same(p.grad, np.zeros(p.data.shape), f"parameter {i}'s grad after zero_grad()")
