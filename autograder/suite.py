"""What a hidden suite imports: the `check` decorator and result helpers.

A check is a small pytest function:

    @check("conv2d_forward", weight=2)
    def test_bias_is_added(student, reference, rng):
        \"\"\"conv2d_forward adds each filter's bias\"\"\"
        x, w, b = ...
        out = student.conv2d_forward(x, w, b)
        same(out, reference.conv2d_forward(x, w, b), "conv2d_forward(x, w, b)",
             mistakes={"left out the bias": lambda: reference.conv2d_forward(x, w, 0 * b)})

Fixtures the engine provides: `student` (proxies into the sandboxed
worker), `reference` (the reference module, trusted), `rng` (a NumPy
Generator seeded per submission and test). Points come from the
assignment's config: a question's points are shared among its checks by
weight. Failure messages are what the student reads, so they say what was
wrong without quoting the check's code; the engine never shows it.
"""

from __future__ import annotations

from typing import Callable, Mapping, NamedTuple

import numpy as np
import pytest

from .engine.causes import NOT_RAISED, WRONG_ERROR
from .engine.causes import Cause  # noqa: F401  (a suite's crashes.py lists its causes with it)
from .engine.errors import StudentError  # noqa: F401  (what a student's call raises, as a check sees it)
from .engine.plugin import failure_message
from .engine.session import Remote, StudentModule, class_name


def check(item: str, weight: float = 1.0, seconds: float | None = None, depends=()):
    """Mark a test as grading `item` (a question of the config) with a weight.

    `depends` names checks (test functions of the same file, or their names)
    whose passing this one's points wait for, as check50's dependencies do:
    a check of an error path or of a shape alone proves nothing a stub could
    not, so it earns its points only together with a check of real values.
    A check of another file of the suite is named "test_file.py::test_name":
    a question graded on what several others build (a whole network trained
    from its layers) then earns nothing while one of them is wrong.
    """
    names = tuple(d if isinstance(d, str) else d.__name__ for d in depends)
    return pytest.mark.grade(item=item, weight=float(weight), seconds=seconds, depends=names)


def checks_over(item: str, table):
    """One check of `item` per row of `table`, each running the function this decorates on its row's data.

    A family of checks that differ only in their inputs (one per group of
    cases) is then one line per check:

        @checks_over("conv2d_forward", [
            # test name, weight, data, title
            ("test_defaults", 2, CONV["defaults"], "matches the reference with stride and padding left out"),
            ("test_stride", 1, CONV["stride"], "matches the reference with an int stride alone"),
        ])
        def _group(student, reference, rng, cases):
            for case in cases:
                conv_forward(student, reference, rng, case)

    The checks are defined in the decorated function's module, where the
    table stands and in its order, as if written there one by one: each
    keeps its own name (which its rng, `depends`, results and feedback go
    by), title, weight and place among the file's checks.
    """

    def define(run):
        namespace = run.__globals__
        for name, weight, data, title in table:
            if not name.startswith("test_") or name in namespace:
                raise ValueError(f"{run.__module__}: check name {name!r} is not test_... or is already taken")
            one = _one_check(run, data)
            one.__name__ = one.__qualname__ = name
            one.__module__, one.__doc__ = run.__module__, title  # pytest collects a module's own functions only
            namespace[name] = check(item, weight)(one)
        return run

    return define


def _one_check(run, data):
    def one(student, reference, rng):
        return run(student, reference, rng, data)

    return one


class Mistake(NamedTuple):
    """A known wrong approach: a stable id (snake_case, counted in class reports) and the phrase
    the student reads, which completes "It matches what you get if you ..."."""

    id: str
    phrase: str


def record(request, name: str, value) -> None:
    """Keep a measurement (plain JSON data: a number, a list) in the grade, for reports; no points.

    `request` is pytest's fixture of that name. The assignment's [measures]
    table says how reports show it (a leaderboard column, say).
    """
    request.node.user_properties.append((name, value))


class Variants(list):
    """What one mistake gives, made in several ways (a kernel flattened in one order or the other):
    a variant's function may return one, and an output matching any of them matches the mistake."""

    @classmethod
    def of(cls, *makers) -> "Variants":
        """The outputs of those `makers` that apply (do not raise); ValueError when none does."""
        found = cls()
        for make in makers:
            try:
                found.append(make())
            except Exception:  # noqa: BLE001 - a form that does not apply to these inputs
                continue
        if not found:
            raise ValueError("no form of this mistake applies here")
        return found


class Ambiguous(tuple):
    """Several known mistakes (Mistake, in the variants' order) that one output matches alike:
    these inputs cannot tell them apart, so none is named on its own (the engine may, from the
    question's other checks: plugin.resolve_candidates)."""


class CheckFailed(AssertionError):
    """A failed check, as check50's Failure: its parts are data, which the engine puts together
    into what the student reads (plugin.failure_message); nothing is parsed back out of a text.

    `rationale` says what was wrong; `help` what to do about it, when the check knows ("" else);
    `mistake` is the id (in the suite's registry) of the known mistake the output matches, if any,
    and `phrase` how the student reads it ("flip the kernel"); `candidates`: (id, phrase) of each
    mistake it matches alike, when it matches several (then `mistake` is None).
    """

    def __init__(self, rationale: str, help: str = "", mistake: str | None = None, phrase: str | None = None,
                 candidates: tuple = ()):
        super().__init__(rationale)
        self.rationale = rationale
        self.help = help
        self.mistake = mistake
        self.phrase = phrase or mistake
        self.candidates = tuple(candidates)

    def __str__(self) -> str:
        return failure_message(self)


def _id_phrase(mistake) -> tuple[str, str]:
    return (mistake.id, mistake.phrase) if isinstance(mistake, Mistake) else (mistake, mistake)


def _sentence(text: str) -> str:
    return text.rstrip(".") + "." if text else ""


def fail(rationale: str, mistake: "Mistake | str | Ambiguous | None" = None, help: str = ""):
    """Raise CheckFailed saying `rationale` (and `help`, what to do, if given), naming `mistake`
    (a Mistake, or a bare phrase) if given; an Ambiguous names its candidates as such, and none
    of them as the mistake."""
    rationale, help = _sentence(rationale), _sentence(help)
    if mistake is None:
        raise CheckFailed(rationale, help)
    if isinstance(mistake, Ambiguous):
        raise CheckFailed(rationale, help, candidates=tuple(_id_phrase(m) for m in mistake))
    raise CheckFailed(rationale, help, *_id_phrase(mistake))


def kind_of(value) -> str:
    """What a student's call returned, in the student's terms: "None", "list", "a Box object"."""
    if value is None:
        return "None"
    if isinstance(value, Remote):  # a handle to an object left in the worker: name its class
        return f"a {class_name(value)} object"
    return type(value).__name__


def numeric_array(value, what: str) -> np.ndarray:
    """`value` if it is a plain numeric ndarray, else fail saying what it was."""
    if type(value) is not np.ndarray:
        raise CheckFailed(f"{what} returned {kind_of(value)}; expected a numpy.ndarray")
    if value.dtype.kind not in "biuf":
        raise CheckFailed(f"{what} returned an array of dtype {value.dtype}; expected numbers")
    return value


def expect_shape(value, shape: tuple, what: str) -> np.ndarray:
    value = numeric_array(value, what)
    if value.shape != tuple(shape):
        raise CheckFailed(f"{what} returned shape {value.shape}; expected {tuple(shape)}")
    return value


def first_difference(actual: np.ndarray, expected: np.ndarray) -> str:
    gap = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    gap = np.where(np.isnan(gap), np.inf, gap)
    index = np.unravel_index(int(np.argmax(gap)), gap.shape) if gap.size else ()
    where = "[" + ", ".join(str(int(i)) for i in index) + "]"
    return f"largest difference at {where}: got {_number(actual[index])}, expected {_number(expected[index])}"


def _number(value) -> str:
    return f"{float(value):.6g}" if np.issubdtype(type(value), np.floating) else str(value)


def matches(actual, expected, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    return (
        type(actual) is np.ndarray
        and actual.dtype.kind in "biuf"
        and actual.shape == np.shape(expected)
        and bool(np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=False))
    )


def same(
    actual,
    expected: np.ndarray,
    what: str,
    mistakes: Mapping[Mistake | str, Callable[[], np.ndarray]] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    dtype=None,
    dtype_mistake: Mistake | None = None,
) -> np.ndarray:
    """Fail unless `actual` equals `expected` in type, shape and values (and dtype, if given).

    `mistakes` maps a known wrong approach (a Mistake, or a bare phrase) to
    a function computing what that approach returns; when the student's
    output matches one, the failure names it. The dtype is checked before
    the values: a wrong dtype (an integer array truncates every value written
    into it) explains wrong values, so it is what the student should fix first.
    """
    expected = np.asarray(expected)
    actual = numeric_array(actual, what)
    if dtype is not None and actual.dtype != np.dtype(dtype):
        values = ("they are right" if matches(actual, expected, rtol, atol)
                  else "they were not compared: fix the dtype first")
        # dtype_mistake is the one of an integer array; a float of another precision (float32) is a cast.
        named = (dtype_mistake if actual.dtype.kind in "biu" else
                 _OTHER_DTYPE if actual.dtype.kind == "f" and np.dtype(dtype).kind == "f" else None)
        fail(f"{what} returned an array of dtype {actual.dtype}; expected {np.dtype(dtype)}", named,
             help=f"The dtype is checked before the values ({values})")
    if matches(actual, expected, rtol, atol):
        return actual
    found = name_mistake(actual, mistakes, rtol, atol)
    if actual.shape != expected.shape:
        fail(f"{what} returned shape {actual.shape}; expected {expected.shape}", found)
    fail(f"{what} returned wrong values: {first_difference(actual, expected)}", found)


# Seen from outside (the worker's copy read back after the call): the mistake is certain.
_INPUT_MODIFIED = Mistake("input_modified", "write into an input (x itself, or a view of it such as a window "
                                            "or a reshape): leave inputs as they are and write results to new "
                                            "arrays (x.copy() first where you must change one)")


# A float result of another precision than asked (float32, float16): the cast, not an integer dtype kept.
_OTHER_DTYPE = Mistake("other_float_dtype", "compute in another float precision (np.float32, say) than the "
                                            "float64 asked for: make the arrays float64 (astype(np.float64))")


def name_mistake(actual, mistakes, rtol: float = 1e-6, atol: float = 1e-8) -> "Mistake | str | Ambiguous | None":
    """The key (a Mistake, or a phrase) of the variant in `mistakes` that `actual` matches, else None;
    an Ambiguous of them when it matches variants of several mistakes alike (one mistake listed
    under several variants is one)."""
    found = []
    for known, compute in (mistakes or {}).items():
        if any(_id_phrase(known)[0] == _id_phrase(f)[0] for f in found):
            continue
        try:
            variant = compute()
        except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
            continue
        if any(matches(actual, v, rtol, atol) for v in (variant if isinstance(variant, Variants) else [variant])):
            found.append(known)
    if not found:
        return None
    return found[0] if len(found) == 1 else Ambiguous(found)


def unchanged(student, value, call: Callable[[object], object], what: str, argument: str = "its input"):
    """Run `call(kept)` on a worker-side copy of `value`; fail if the call changed it.

    Returns the call's result. The student's copy is read back from the
    worker, so this sees in-place writes that a copy sent per call would hide.
    """
    kept = student.remote_copy(value)
    result = call(kept)
    after = student.read_back(kept)
    if type(after) is not np.ndarray or after.shape != np.shape(value) or not np.array_equal(after, value):
        fail(f"{what} modified {argument} in place", _INPUT_MODIFIED)
    return result


def raises(kind: type[BaseException], call: Callable[[], object], what: str) -> None:
    """Fail unless `call()` raises `kind` (a student's exception arrives as the same builtin type)."""
    try:
        result = call()
    except kind:
        return
    except Exception as exc:  # noqa: BLE001
        if isinstance(exc, StudentError) and not exc.type_name:
            raise  # not an exception of the student's code (it did not load, timed out, crashed): say that
        name = getattr(exc, "type_name", "") or type(exc).__name__  # a student's error keeps its own name
        fail(f"{what} raised {name}; expected {kind.__name__}",
             Mistake(WRONG_ERROR, f"raise {name} where the docstring asks for {kind.__name__}"))
    shown = repr(result)
    shown = shown if len(shown) <= 80 else shown[:80] + "..."
    fail(f"{what} returned {shown}; expected it to raise {kind.__name__}",
         Mistake(NOT_RAISED, f"return a result for arguments the docstring says to refuse: check them "
                                     f"first and raise {kind.__name__}"))


def chain_of(student):
    """Requests to `student` gathered and sent to its worker as one (engine.session.Chain):

        steps = chain_of(student)
        layer = steps.Conv2d(3, 4, 3)
        out = layer.forward(x)
        steps.run()            # raises what the first failing step raised; steps.failed is that step
        out.value

    On a plain module (the reference checked in this process) each step runs as it is added."""
    if isinstance(student, StudentModule):
        return student.chain()
    return _LocalChain(student)


class _LocalChain:
    """A chain over plain Python objects: each step runs when added; after one raises, none runs."""

    def __init__(self, module):
        self._module, self.failed, self._error = module, None, None

    def __getattr__(self, name):
        return self._step(lambda: getattr(self._module, name))

    def on(self, handle):
        return _LocalStep(self, handle, True)

    def _step(self, compute):
        step = _LocalStep(self, None, False)
        if self._error is None:
            try:
                object.__setattr__(step, "value", compute())
                object.__setattr__(step, "ran", True)
            except Exception as exc:  # noqa: BLE001 - raised again by run(), as a worker's chain does
                self.failed, self._error = step, exc
        return step

    def run(self) -> None:
        if self._error is not None:
            raise self._error


class _LocalStep:
    __slots__ = ("_chain", "value", "ran")

    def __init__(self, chain, value, ran):
        for slot, v in (("_chain", chain), ("value", value), ("ran", ran)):
            object.__setattr__(self, slot, v)

    def __getattr__(self, name):
        return self._chain._step(lambda: getattr(self.value, name))

    def __setattr__(self, name, value):
        self._chain._step(lambda: setattr(self.value, name, _plain(value)))

    def __call__(self, *args, **kwargs):
        return self._chain._step(lambda: self.value(*map(_plain, args), **{k: _plain(v) for k, v in kwargs.items()}))

    def __getitem__(self, key):
        return self._chain._step(lambda: self.value[key])


def _plain(value):
    """A step's value in place of the step, inside lists and tuples too."""
    if isinstance(value, _LocalStep):
        return value.value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value
