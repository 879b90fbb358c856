"""The coverage table of the CNN suites, generated from the suites themselves.

    .venv/bin/python -I bench/suite_coverage.py           # rewrite autograder/suites/cnn/COVERAGE.md
    .venv/bin/python -I bench/suite_coverage.py --check   # exit 1 if it is stale, has an empty cell or a rule is broken

A tool for whoever changes the suite, kept out of it: the Gradescope zip
ships the suite folder, and grading never runs this.

The hidden suite runs in this process against the reference, with every
call into "student" code recorded: which entry point (the function, or the
layer's forward or backward), with which arguments, from which check. Each
call is then classified. For every item and entry point and every
parameter, the table counts the calls where the parameter is at its
default (left out, and passed explicitly), varied alone (every other
argument at its default), and varied together with another argument. A
second table counts edge geometries, a third the wrong roundings of the
output size that some call tells apart from the floor. Rules every call
must keep (pairwise distinct sizes, ...) are listed with their breaches.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the suite's modules import autograder (run as a script, with -I)
SUITE = ROOT / "autograder" / "suites" / "cnn"
DOC = SUITE / "COVERAGE.md"
COMMAND = ".venv/bin/python -I bench/suite_coverage.py"
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
OMITTED = "omitted"

# Per entry point: the arguments and, for each, the parameters (features) it carries.
CONV_ARGS = {"stride": ("stride", "stride pair"), "padding": ("padding", "padding pair"),
             "kernel": ("non-square kernel",), "dtype": ("integer input",)}
POOL_ARGS = {"pool_size": ("window", "non-square window"), "stride": ("stride", "stride pair"),
             "dtype": ("integer input",)}
PAD_ARGS = {"padding": ("padding pair", "per-side padding"), "value": ("value",), "dtype": ("integer input",)}
SIZE_ARGS = {"stride": ("stride",), "padding": ("padding",)}
# Arguments with a default value in the signature (pad's padding has none): their "default" cell
# needs the default both left out and passed.
HAS_DEFAULT = {"stride", "padding", "pool_size", "value"}


def _has_default(entry, arg):
    return arg in HAS_DEFAULT and not (entry == "pad" and arg == "padding")

ENTRIES = {
    "conv_output_size": [("conv_output_size", SIZE_ARGS)],
    "pad": [("pad", PAD_ARGS)],
    "conv2d_forward": [("conv2d_forward", CONV_ARGS)],
    "conv2d_backward": [("conv2d_backward", CONV_ARGS)],
    "maxpool_forward": [("maxpool_forward", POOL_ARGS)],
    "maxpool_backward": [("maxpool_backward", POOL_ARGS)],
    "Conv2d": [("Conv2d.forward", CONV_ARGS), ("Conv2d.backward", CONV_ARGS)],
    "MaxPool2d": [("MaxPool2d.forward", POOL_ARGS), ("MaxPool2d.backward", POOL_ARGS)],
}
EDGES = {
    "conv": ("kernel side 1", "one output position", "kernel larger than x (fits by padding)",
             "kernel exactly as long as padded x", "stride longer than x",
             "non-square kernel longer than x's other side", "padding 0 on one axis only"),
    "pool": ("window side 1", "one output position", "window exactly as long as x", "stride longer than x",
             "non-square window longer than x's other side"),
    "conv_output_size": ("kernel 1", "one output position", "kernel larger than size (fits by padding)",
                         "kernel exactly as long as padded size", "stride longer than size",
                         "raises: kernel one longer than padded size", "raises: kernel 0", "raises: stride 0",
                         "raises: padding -1"),
    "pad": ("zero padding", "one side only"),
}
ROUNDINGS = {
    "ceil": math.ceil,
    "round half to even": round,
    "round half up": lambda q: math.floor(q + 0.5),
    "int() truncation": int,
}


def _pair(value):
    return (int(value), int(value)) if np.isscalar(value) else (int(value[0]), int(value[1]))


def _given(value):
    return "omitted" if value is OMITTED else "passed"


# -- recording ------------------------------------------------------------
class Recorder:
    """Stands in for the `student` fixture: the reference module, with every call recorded."""

    def __init__(self, reference, calls, test):
        self._reference, self._calls, self._test = reference, calls, test

    def _record(self, entry, **arguments):
        self._calls.append({"entry": entry, "test": self._test(), **arguments})

    def __getattr__(self, name):
        target = getattr(self._reference, name)
        if name in ("Conv2d", "MaxPool2d"):
            return lambda *args, **kwargs: LayerRecorder(self, name, target(*args, **kwargs), args, kwargs)
        if not callable(target) or name in ("Parameter", "Module"):
            return target

        def call(*args, **kwargs):
            self._record(name, args=args, kwargs=kwargs)
            return target(*args, **kwargs)

        return call

    def remote_copy(self, value):
        return np.array(value, copy=True)

    def read_back(self, kept):
        return kept


class LayerRecorder:
    def __init__(self, recorder, cls, layer, args, kwargs):
        object.__setattr__(self, "_state", (recorder, cls, layer, args, kwargs, {}))

    def __getattr__(self, name):
        recorder, cls, layer, args, kwargs, seen = object.__getattribute__(self, "_state")
        if name in ("forward", "backward"):
            def call(value):
                if name == "forward":
                    seen["x"] = value
                recorder._record(f"{cls}.{name}", args=args, kwargs=kwargs, x=seen.get("x"), value=value)
                return getattr(layer, name)(value)

            return call
        return getattr(layer, name)

    def __setattr__(self, name, value):
        setattr(object.__getattribute__(self, "_state")[2], name, value)

    def __call__(self, value):
        return self.forward(value)


def _load_reference():
    spec = importlib.util.spec_from_file_location("cnn_layers_coverage_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def record() -> list[dict]:
    """Run the hidden suite against the reference in this process; every recorded call."""
    import pytest

    reference, calls, current = _load_reference(), [], {}

    class Plugin:
        @pytest.fixture(name="student")
        def student(self):
            return Recorder(reference, calls, lambda: current["test"])

        @pytest.fixture(name="reference")
        def reference_fixture(self):
            return reference

        @pytest.fixture(name="rng")
        def rng(self, request):
            return np.random.default_rng(0)

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_setup(self, item):
            marker = item.get_closest_marker("grade")
            current["test"] = (marker.kwargs["item"] if marker else "?", item.name)

    failures = []

    class Outcome:
        def pytest_runtest_logreport(self, report):
            if report.failed:
                failures.append(report.nodeid)

    code = pytest.main([str(SUITE), "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore",
                        "--no-header", "-o", "addopts=", "--tb=line"], plugins=[Plugin(), Outcome()])
    if code != 0 or failures:
        raise SystemExit(f"the hidden suite fails on the reference: {failures}")
    return calls


# -- classifying ------------------------------------------------------------
def _conv_call(call):
    """(x, w shape, stride, padding, kernel_int) of a convolution call, stride/padding OMITTED when left out."""
    entry, args, kwargs = call["entry"], call["args"], call["kwargs"]
    names = ("stride", "padding")
    if entry.startswith("Conv2d"):
        C, F, kernel = args[:3]
        given = dict(zip(names, args[3:]), **kwargs)
        x = np.asarray(call["x"])
        kh, kw = _pair(kernel)
        return x, (F, C, kh, kw), given.get("stride", OMITTED), given.get("padding", OMITTED), np.isscalar(kernel)
    first = 0 if entry == "conv2d_forward" else 1  # conv2d_backward takes dout first
    x, w = np.asarray(args[first]), np.asarray(args[first + 1])
    given = dict(zip(names, args[first + 3:]), **kwargs)
    return x, w.shape, given.get("stride", OMITTED), given.get("padding", OMITTED), False


def _pool_call(call):
    entry, args, kwargs = call["entry"], call["args"], call["kwargs"]
    names = ("pool_size", "stride")
    if entry.startswith("MaxPool2d"):
        given = dict(zip(names, args), **kwargs)
        x = np.asarray(call["x"])
    else:
        offset = 1 if entry == "maxpool_forward" else 2
        x = np.asarray(args[offset - 1])
        given = dict(zip(names, args[offset:]), **kwargs)
    return x, given.get("pool_size", OMITTED), given.get("stride", OMITTED)


def _state(default_value, value, equal_sides, features):
    """{feature: "default" | "on" | None} for one argument whose forms are `features` (plain, pair)."""
    if value is OMITTED:
        return {f: "default" for f in features}
    sides = _pair(value)
    if sides == default_value:
        return {f: "default" for f in features}
    plain, pair = features
    if sides[0] == sides[1]:
        return {plain: "on", pair: "default"}
    return {plain: None, pair: "on"}


def _distinct(sizes: dict, allowed=()) -> list[str]:
    """Names of sizes that coincide ("N = KH"), except pairs in `allowed`."""
    names = list(sizes)
    return [f"{a} = {b}" for i, a in enumerate(names) for b in names[i + 1:]
            if sizes[a] == sizes[b] and {a, b} not in [set(p) for p in allowed]]


def classify(call) -> dict:
    """What one call exercises: parameter states by argument, edges, roundings told apart, rule breaches."""
    entry = call["entry"]
    out = {"entry": entry, "item": call["test"][0], "test": call["test"][1], "args": {}, "given": {},
           "edges": set(), "roundings": set(), "breaches": []}

    def roundings(quotients):
        for name, rounding in ROUNDINGS.items():
            if any(rounding(q) != math.floor(q) for q in quotients):
                out["roundings"].add(name)

    if entry in ("conv2d_forward", "conv2d_backward", "Conv2d.forward", "Conv2d.backward"):
        x, (F, C, kh, kw), stride, padding, kernel_int = _conv_call(call)
        (sh, sw), (ph, pw) = _pair(1 if stride is OMITTED else stride), _pair(0 if padding is OMITTED else padding)
        N, _, H, W = x.shape
        out["args"]["stride"] = _state((1, 1), stride, None, CONV_ARGS["stride"])
        out["args"]["padding"] = _state((0, 0), padding, None, CONV_ARGS["padding"])
        out["args"]["kernel"] = {"non-square kernel": "on" if kh != kw else "default"}
        integer = x.dtype.kind in "iu"
        out["args"]["dtype"] = {"integer input": "on" if integer else "default"}
        out["given"] = {"stride": _given(stride), "padding": _given(padding)}
        H_out, W_out = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
        flags = {"kernel side 1": 1 in (kh, kw), "one output position": 1 in (H_out, W_out),
                 "kernel larger than x (fits by padding)": kh > H or kw > W,
                 "kernel exactly as long as padded x": (kh == H + 2 * ph and ph > 0) or (kw == W + 2 * pw and pw > 0),
                 "stride longer than x": sh > H or sw > W,
                 "non-square kernel longer than x's other side": kh != kw and (kh > W or kw > H),
                 "padding 0 on one axis only": (ph == 0) != (pw == 0)}
        out["edges"] = {name for name, on in flags.items() if on}
        roundings([(H + 2 * ph - kh) / sh] * (sh > 1) + [(W + 2 * pw - kw) / sw] * (sw > 1))
        sizes = {"N": N, "C": C, "F": F, "H": H, "W": W, "KH": kh, "KW": kw}
        out["breaches"] = _distinct(sizes, allowed=[("KH", "KW")])
        if H_out == W_out:
            out["breaches"].append("H_out = W_out")
        steps = {"S_h": sh, "S_w": sw, "P_h": ph, "P_w": pw}
        same_sides = [("S_h", "S_w")] * (sh == sw) + [("P_h", "P_w")] * (ph == pw)
        out["breaches"] += _distinct(steps, allowed=same_sides)
    elif entry in ("maxpool_forward", "maxpool_backward", "MaxPool2d.forward", "MaxPool2d.backward"):
        x, pool_size, stride = _pool_call(call)
        kh, kw = _pair(2 if pool_size is OMITTED else pool_size)
        sh, sw = (kh, kw) if stride in (OMITTED, None) else _pair(stride)
        N, C, H, W = x.shape
        out["args"]["pool_size"] = _state((2, 2), pool_size, None, POOL_ARGS["pool_size"])
        out["args"]["stride"] = ({f: "default" for f in POOL_ARGS["stride"]} if stride in (OMITTED, None)
                                 else _state((None, None), stride, None, POOL_ARGS["stride"]))
        out["args"]["dtype"] = {"integer input": "on" if x.dtype.kind in "iu" else "default"}
        out["given"] = {"pool_size": _given(pool_size), "stride": _given(stride)}
        H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
        flags = {"window side 1": 1 in (kh, kw), "one output position": 1 in (H_out, W_out),
                 "window exactly as long as x": kh == H or kw == W,
                 "stride longer than x": sh > H or sw > W,
                 "non-square window longer than x's other side": kh != kw and (kh > W or kw > H)}
        out["edges"] = {name for name, on in flags.items() if on}
        roundings([(H - kh) / sh] * (sh > 1) + [(W - kw) / sw] * (sw > 1))
        # A window exactly as long as x's side is an edge tested on purpose.
        exact = [("H", "PH")] * (kh == H) + [("W", "PW")] * (kw == W)
        out["breaches"] = _distinct({"N": N, "C": C, "H": H, "W": W, "PH": kh, "PW": kw},
                                    allowed=[("PH", "PW"), *exact])
        if H_out == W_out:
            out["breaches"].append("H_out = W_out")
        if stride not in (OMITTED, None) and (sh, sw) == (kh, kw):
            out["breaches"].append("stride = pool_size")
    elif entry == "pad":
        args, kwargs = call["args"], call["kwargs"]
        x, padding = np.asarray(args[0]), args[1]
        value = args[2] if len(args) > 2 else kwargs.get("value", OMITTED)
        nested = not np.isscalar(padding) and not np.isscalar(padding[0])
        pair = not np.isscalar(padding) and not nested
        sides = (list(padding[0]) + list(padding[1]) if nested else
                 [padding[0]] * 2 + [padding[1]] * 2 if pair else [padding] * 4)
        out["args"]["padding"] = {"padding pair": "on" if pair and padding[0] != padding[1] else
                                  (None if pair or nested else "default"),
                                  "per-side padding": "on" if nested else (None if pair else "default")}
        out["args"]["value"] = {"value": "default" if value is OMITTED or value == 0 else "on"}
        out["args"]["dtype"] = {"integer input": "on" if x.dtype.kind in "iu" else "default"}
        out["given"] = {"value": _given(value)}
        out["edges"] = {name for name, on in {"zero padding": max(sides) == 0,
                                              "one side only": 0 < sum(s > 0 for s in sides) < 4}.items() if on}
        N, C, H, W = x.shape
        out["breaches"] = _distinct({"N": N, "C": C, "H": H, "W": W})
    elif entry == "conv_output_size":
        args, kwargs = call["args"], call["kwargs"]
        given = dict(zip(("size", "kernel", "stride", "padding"), args), **kwargs)
        size, kernel = given["size"], given["kernel"]
        stride, padding = given.get("stride", OMITTED), given.get("padding", OMITTED)
        s, p = (1 if stride is OMITTED else stride), (0 if padding is OMITTED else padding)
        out["args"]["stride"] = {"stride": "default" if s == 1 else "on"}
        out["args"]["padding"] = {"padding": "default" if p == 0 else "on"}
        out["given"] = {"stride": _given(stride), "padding": _given(padding)}
        span = size + 2 * p - kernel
        if s >= 1 and kernel >= 1 and p >= 0:
            out["edges"] = {name for name, on in {"kernel 1": kernel == 1, "one output position": 0 <= span < s,
                                                  "kernel larger than size (fits by padding)": kernel > size >= 0 <= span,
                                                  "kernel exactly as long as padded size": span == 0 and p > 0,
                                                  "stride longer than size": s > size and span >= 0,
                                                  "raises: kernel one longer than padded size": span == -1,
                                                  }.items() if on}
            if s > 1:
                roundings([span / s])
        else:
            # One step past a limit, everything else valid: the call must raise for that one reason.
            valid = {"kernel": kernel >= 1, "stride": s >= 1, "padding": p >= 0, "fit": span >= 0}
            alone = lambda name: not valid[name] and all(v for k, v in valid.items() if k != name)  # noqa: E731
            out["edges"] = {name for name, on in {"raises: kernel 0": kernel == 0 and alone("kernel"),
                                                  "raises: stride 0": s == 0 and alone("stride"),
                                                  "raises: padding -1": p == -1 and alone("padding"),
                                                  }.items() if on}
    return out


# -- the table ------------------------------------------------------------
def tabulate(calls: list[dict]) -> dict:
    """{"cells": {(item, entry, parameter): {"default": n, "omitted": n, "passed": n, "alone": n, "paired": n}},
        "edges": {(item, entry, edge): n}, "roundings": {(item, entry, rounding): n}, "breaches": [...]}"""
    cells = defaultdict(lambda: {"default": 0, "omitted": 0, "passed": 0, "alone": 0, "paired": 0})
    edges, rounded, breaches = defaultdict(int), defaultdict(int), []
    for raw in calls:
        c = classify(raw)
        item, entry = c["item"], c["entry"]
        valid = {e for e, _ in ENTRIES.get(item, [])}
        if entry not in valid:
            continue  # a call made by a check of another item (none today) is not that item's coverage
        on_args = {arg for arg, states in c["args"].items() if "on" in states.values()}
        for arg, states in c["args"].items():
            for feature, state in states.items():
                cell = cells[(item, entry, feature)]
                if state == "default":
                    cell["default"] += 1
                    if arg in c["given"]:
                        cell[c["given"][arg]] += 1
                elif state == "on":
                    cell["alone" if on_args == {arg} else "paired"] += 1
        for edge in c["edges"]:
            edges[(item, entry, edge)] += 1
        for name in c["roundings"]:
            rounded[(item, entry, name)] += 1
        breaches += [f"{item}/{c['test']} ({entry}): {b}" for b in c["breaches"]]
    return {"cells": cells, "edges": edges, "roundings": rounded, "breaches": breaches}


def _edge_kind(entry):
    if entry.startswith(("conv2d", "Conv2d")):
        return "conv"
    if entry.startswith(("maxpool", "MaxPool2d")):
        return "pool"
    return entry


def _roundings_for(entry):
    """Wrong roundings that valid input can tell apart from the floor (int() differs only below 0)."""
    names = list(ROUNDINGS)
    return names if entry == "conv_output_size" else [] if entry == "pad" else names[:3]


def empty_cells(table) -> list[str]:
    """Every cell of the three tables that no call fills, named item / entry / column."""
    empty = []
    for item, entries in ENTRIES.items():
        for entry, arguments in entries:
            for arg, features in arguments.items():
                for feature in features:
                    cell = table["cells"].get((item, entry, feature), {})
                    for column in ("default", "alone", "paired"):
                        if not cell.get(column):
                            empty.append(f"{item} / {entry} / {feature} / {column}")
                    if _has_default(entry, arg) and cell.get("default") and not (cell.get("omitted") and cell.get("passed")):
                        empty.append(f"{item} / {entry} / {feature} / default left out and passed")
            for edge in EDGES[_edge_kind(entry)]:
                if not table["edges"].get((item, entry, edge)):
                    empty.append(f"{item} / {entry} / edge: {edge}")
            for name in _roundings_for(entry):
                if not table["roundings"].get((item, entry, name)):
                    empty.append(f"{item} / {entry} / rounding: {name}")
    return empty


def render(table) -> str:
    lines = [
        "# Coverage of the CNN hidden suite",
        "",
        f"Generated by `{COMMAND}` from the suite itself: the suite is run against",
        "the reference and every call into the submission is recorded and classified. Do not edit by hand;",
        "`tests/test_coverage.py` fails when this file is stale, when a cell is empty, or when a rule is broken.",
        "",
        "Numbers count calls. **default**: the parameter at its default (for an argument with a default value:",
        "left out / passed explicitly). **alone**: the parameter varied with every other argument at its",
        "default. **paired**: varied together with another argument. A pair with equal sides counts as the",
        "plain parameter (stride (2, 2) is a stride of 2); a pair with unequal sides as the pair parameter.",
        "",
        "conv_output_size's cases are drawn afresh for each submission's seed (`size_cases.py`); its counts",
        "here are those of one draw (the rng seeded 0). Every draw has the same forms, edges and wrong",
        "roundings told apart; the numbers of calls per rounding vary a little between draws.",
        "",
        "## Parameters",
        "",
        "| item | entry point | parameter | default | alone | paired |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for item, entries in ENTRIES.items():
        for entry, arguments in entries:
            for arg, features in arguments.items():
                for feature in features:
                    cell = table["cells"].get((item, entry, feature), {})
                    default = str(cell.get("default", 0))
                    if _has_default(entry, arg):
                        default += f" ({cell.get('omitted', 0)} left out / {cell.get('passed', 0)} passed)"
                    lines.append(f"| {item} | `{entry}` | {feature} | {default} | {cell.get('alone', 0)} | "
                                 f"{cell.get('paired', 0)} |")
    lines += ["", "## Edge geometries", "", "| item | entry point | edge | calls |", "| --- | --- | --- | --- |"]
    for item, entries in ENTRIES.items():
        for entry, _ in entries:
            for edge in EDGES[_edge_kind(entry)]:
                lines.append(f"| {item} | `{entry}` | {edge} | {table['edges'].get((item, entry, edge), 0)} |")
    lines += ["", "Error paths, by design: only conv_output_size's docstring promises an exception (ValueError for a",
              "kernel below 1, a stride below 1, a negative padding, or a kernel that does not fit), and its check",
              "meets each limit one step past it on every draw (kernel 0, stride 0, padding -1, a kernel one longer",
              "than the padded size), together with the valid side of the same limits among the values (kernel 1,",
              "a kernel exactly as long as the padded size, a stride longer than the size). It earns its points",
              "only with the value checks. The other entry points promise nothing for arguments outside their",
              "range (pad's amounts are >= 0; the layers' output sizes are conv_output_size's), so no check",
              "requires them to raise; their edges above check the valid side of each limit, where raising is",
              "wrong: a kernel exactly as long as the padded x, a stride longer than x, a window as long as x."]
    lines += ["", "## Wrong roundings told apart from the floor",
              "", "Calls where the rounding of (size + 2p - k) / s gives another output size than the floor. int()",
              "differs from the floor only below 0, where no position fits: conv_output_size must raise there.", "",
              "| item | entry point | rounding | calls |", "| --- | --- | --- | --- |"]
    for item, entries in ENTRIES.items():
        for entry, _ in entries:
            for name in _roundings_for(entry):
                lines.append(f"| {item} | `{entry}` | {name} | {table['roundings'].get((item, entry, name), 0)} |")
    lines += ["", "## Rules every call keeps", "",
              "- Convolution: N, C, F, H, W, KH, KW pairwise distinct (KH = KW only for a square kernel), H_out != W_out,",
              "  and S_h, S_w, P_h, P_w pairwise distinct (equal sides only for an int or equal pair).",
              "- Pooling: N, C, H, W, PH, PW pairwise distinct (PH = PW only for a square window, PH = H or PW = W",
              "  only for a window exactly as long as x), H_out != W_out, and a given stride differs from the window.",
              "- pad: N, C, H, W pairwise distinct.", "",
              f"Breaches: {len(table['breaches'])}."]
    lines += [f"- {b}" for b in table["breaches"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    table = tabulate(record())
    text = render(table)
    problems = [f"empty: {e}" for e in empty_cells(table)] + [f"rule broken: {b}" for b in table["breaches"]]
    if "--check" in argv:
        if not DOC.is_file() or DOC.read_text(encoding="utf-8") != text:
            problems.append(f"{DOC.relative_to(ROOT)} is stale: run {COMMAND}")
        print("\n".join(problems) if problems else "coverage: no empty cell, no broken rule, table up to date")
        return 1 if problems else 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}" + (":\n" + "\n".join(problems) if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
