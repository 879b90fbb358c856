"""Hidden checks of the Adam optimiser.

Partial credit follows the mistake: a known wrong update (a step count off by
one, the bias correction left out, ...) loses the update's points (test_steps)
but not those of the settings and of zero_grad, which it does not touch. The
settings are checked against the same update the student's default steps
match, so they earn points only for code that runs Adam or a known variant of
it; code that matches neither (a stub) earns none of the three. A step count
of 0 at the first step makes every value nan, which says nothing of the
settings (a stub could write nan): that update is run again with its step
count set to 1 first (the handout's Adam keeps it in `t`), where it must make
Adam's update.
"""

import numpy as np

from autograder.suite import chain_of, check, fail, matches, numeric_array, same

from .mistakes import ADAM_VARIANTS, adam, known

_WRONG = [variant for variant in ADAM_VARIANTS if variant is not None]


def _draw(rng, steps):
    """Two parameters' values and `steps` steps of gradients of very different sizes (eps matters for the small)."""
    values = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    grads = [[rng.standard_normal((3, 2)) * 10.0 ** rng.integers(-6, 1, (3, 2)), rng.standard_normal(4)]
             for _ in range(steps)]
    return values, grads


def _run(student, values, grads, start_t=None, **settings):
    """Step a student's Adam over the parameters: yields (t, the parameters' data after step t).
    start_t: the step count the optimiser is given before its first step (its attribute t), if not None."""
    chain = chain_of(student)  # one request to make them, one per step
    made = [chain.Parameter(v) for v in values]
    optimiser = chain.Adam(made, **settings)
    if start_t is not None:
        optimiser.t = start_t
    chain.run()
    params, optimiser = [p.value for p in made], optimiser.value
    for t, step_grads in enumerate(grads, start=1):
        chain = chain_of(student)
        for p, g in zip(params, step_grads):
            chain.on(p).grad = g
        chain.on(optimiser).step()
        data = [chain.on(p).data for p in params]
        chain.run()
        yield t, [d.value for d in data]


def _same_as(got, want) -> bool:
    """got equals want, nan where want is nan (a step count of 0 divides by zero)."""
    return (type(got) is np.ndarray and got.dtype.kind in "biuf" and got.shape == np.shape(want)
            and (matches(got, want) or np.array_equal(got, want, equal_nan=True)))


def _follows(student, rng, settings=None):
    """Which update the student's Adam makes over 4 steps with default settings: None (Adam's), a known wrong
    variant's Mistake, or False (neither)."""
    values, grads = _draw(rng, 4)
    candidates = [None, *_WRONG]
    for t, got in _run(student, values, grads):
        candidates = [c for c in candidates
                      if all(_same_as(g, w) for g, w in zip(got, adam(values, grads[:t], c)))]
        if not candidates:
            return False
    return candidates[0]


def _gate(student, rng):
    """(the update the student's step() makes (None: Adam's), the step count to start it from): fail unless
    it is Adam's or a known variant's, with finite values."""
    follows = _follows(student, rng)
    if follows is False:
        fail("counts only once step() moves the parameters as Adam does (or as a known wrong version of it "
             "does; the check of four steps says where it differs)")
    if follows is known.adam_step_count_zero:
        # nan says nothing: started from t = 1, the same code must make Adam's update.
        values, grads = _draw(rng, 4)
        for t, got in _run(student, values, grads, start_t=1):
            if not all(_same_as(g, w) for g, w in zip(got, adam(values, grads[:t]))):
                fail("counts only once step() moves the parameters as Adam does: it makes every value nan at the "
                     "first step, and started from Adam(params).t = 1 it does not make Adam's update either",
                     known.adam_step_count_zero)
        return None, 1
    return follows, None


@check("Adam", weight=4)
def test_steps(student, reference, rng):
    """four steps with the default settings move each parameter as the formulas say"""
    values, grads = _draw(rng, 4)
    for t, got in _run(student, values, grads):
        want = adam(values, grads[:t])
        for i, (g, w) in enumerate(zip(got, want)):
            what = f"parameter {i}'s data after {t} step(s) of Adam(params)"
            if _same_as(g, w):
                continue
            g = numeric_array(g, what)
            for variant in _WRONG:  # nan-aware: a step count of 0 gives nan, as its variant does
                if g.shape == w.shape and not np.isfinite(g).all() and _same_as(g, adam(values, grads[:t], variant)[i]):
                    fail(f"{what} returned values that are not finite (nan or inf)", variant)
            same(g, w, what, mistakes={variant: lambda v=variant: adam(values, grads[:t], v)[i] for variant in _WRONG})


@check("Adam", weight=2)
def test_settings(student, reference, rng):
    """lr, beta1, beta2 and eps given to the constructor are used (in the update step() makes)"""
    follows, start_t = _gate(student, rng)
    settings = {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3}
    values, grads = _draw(rng, 3)
    for t, got in _run(student, values, grads, start_t, **settings):
        want = adam(values, grads[:t], follows, **settings)
        for i, (g, w) in enumerate(zip(got, want)):
            what = f"parameter {i}'s data after {t} step(s) of Adam(params, lr=0.05, beta1=0.5, beta2=0.9, eps=1e-3)"
            if not _same_as(g, w):
                same(g, w, what, mistakes={known.adam_settings_ignored: lambda: adam(values, grads[:t], follows)[i]})


@check("Adam", weight=1)
def test_zero_grad(student, reference, rng):
    """zero_grad sets every parameter's grad to zeros"""
    _gate(student, rng)
    params = [student.Parameter(rng.standard_normal((2, 3))), student.Parameter(rng.standard_normal(5))]
    for p in params:
        p.grad = rng.standard_normal(p.data.shape)
    student.Adam(params).zero_grad()
    for i, p in enumerate(params):
        same(p.grad, np.zeros(p.data.shape), f"parameter {i}'s grad after zero_grad()")
