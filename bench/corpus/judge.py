"""Which contract items of a part-1 submission are really wrong, judged against the reference.

The kit's own verdict is what the feedback bench measures, so the truth about a
corpus file must not come from the kit: this script runs the submission's
functions and layers beside solutions/cnn/cnn_layers.py on a battery of inputs
of its own (every parameter form, padding 0 and above, stride pairs, integer
inputs, overlapping and tied pooling windows, inputs left unchanged, the error
cases of conv_output_size, He initialisation statistics, accumulation of
gradients) and calls an item wrong when any of them differs or raises.

Each file is judged in its own subprocess (a crash, an exit or an endless loop
costs only that file), with NumPy as installed (the kit's .venv: NumPy 2).

    .venv/bin/python bench/corpus/judge.py bench/corpus/part1/*.py            # verdicts
    .venv/bin/python bench/corpus/judge.py --check bench/corpus/part1/*.py    # against each header

A corpus file starts with a header line

    # corpus: style=cs231n; bugs=crop_empty_at_zero_padding; items=conv2d_backward,Conv2d

where `items` must be the judge's verdict (`items=` empty for a correct file).
--check exits 1 when a header disagrees with the judge.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
ITEMS = (
    "conv_output_size", "pad", "conv2d_forward", "conv2d_backward",
    "maxpool_forward", "maxpool_backward", "Conv2d", "MaxPool2d",
)
HEADER = re.compile(r"^# corpus:\s*(.*)$", re.M)


def read_header(path: Path) -> dict:
    """{key: value} of the file's `# corpus:` line (items and bugs as lists)."""
    match = HEADER.search(Path(path).read_text())
    if not match:
        return {}
    fields = {}
    for part in match.group(1).split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            fields[key.strip()] = value.strip()
    for key in ("items", "bugs"):
        fields[key] = [v.strip() for v in fields.get(key, "").split(",") if v.strip()]
    return fields


def strip_header(text: str) -> str:
    """The file's text without its `# corpus:` line: what a student would hand in."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("# corpus:"))


# ---------------------------------------------------------------- in the subprocess
def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
    return module


class Wrong(Exception):
    pass


def _battery(student, ref):
    import numpy as np

    rng = np.random.default_rng(12345)

    def same(got, want, what, dtype=np.float64):
        got_arr = np.asarray(got)
        if got_arr.shape != want.shape:
            raise Wrong(f"{what}: shape {got_arr.shape}, expected {want.shape}")
        if dtype is not None and got_arr.dtype != dtype:
            raise Wrong(f"{what}: dtype {got_arr.dtype}, expected {dtype}")
        if not np.allclose(got_arr, want, rtol=1e-6, atol=1e-8):
            raise Wrong(f"{what}: values differ (max error {np.max(np.abs(got_arr - want)):.3g})")

    def unchanged(before, after, what):
        for b, a in zip(before, after):
            if not np.array_equal(b, a):
                raise Wrong(f"{what}: modified its input")

    def arrays(shape, integer):
        if integer:
            return rng.integers(-4, 5, size=shape)
        return rng.standard_normal(shape)

    def kwargs(stride, padding):
        out = {}
        if stride is not None:
            out["stride"] = stride
        if padding is not None:
            out["padding"] = padding
        return out

    # (N, C, H, W, F, KH, KW, stride, padding); None = left out (default)
    conv_cases = [
        (2, 3, 7, 6, 4, 3, 3, None, None),
        (2, 3, 7, 6, 4, 3, 2, 1, 0),
        (1, 2, 8, 9, 3, 3, 3, 2, None),
        (2, 2, 9, 7, 3, 3, 2, 3, 0),
        (2, 3, 7, 8, 2, 2, 3, (2, 1), 0),
        (1, 2, 8, 7, 3, 3, 2, (1, 3), None),
        (2, 3, 5, 6, 4, 3, 3, None, 1),
        (2, 2, 5, 7, 3, 3, 2, 1, 2),
        (1, 3, 6, 5, 2, 3, 3, 1, (1, 0)),
        (2, 2, 6, 5, 3, 2, 3, 1, (0, 2)),
        (2, 3, 7, 9, 4, 3, 2, (2, 3), (1, 0)),
        (1, 2, 9, 8, 3, 4, 3, (3, 2), (2, 1)),
        (2, 2, 6, 7, 3, 3, 3, 2, 1),
        (1, 1, 1, 1, 2, 1, 1, None, None),
        (1, 2, 2, 3, 3, 4, 5, 1, 2),          # kernel larger than x, padding rescues it
        (2, 1, 5, 1, 2, 2, 1, 2, (0, 0)),
        (1, 2, 4, 4, 1, 4, 4, None, None),    # one output position
    ]

    def check_conv_output_size():
        for size in range(1, 10):
            for kernel in range(0, 8):
                for stride in range(0, 5):
                    for padding in range(-1, 4):
                        try:
                            want = ref.conv_output_size(size, kernel, stride, padding)
                        except ValueError:
                            want = None
                        call = f"conv_output_size({size}, {kernel}, {stride}, {padding})"
                        if want is None:
                            try:
                                got = student.conv_output_size(size, kernel, stride, padding)
                            except ValueError:
                                continue
                            except Exception as error:
                                raise Wrong(f"{call} raised {type(error).__name__}, expected ValueError")
                            raise Wrong(f"{call} returned {got!r}, expected ValueError")
                        got = student.conv_output_size(size, kernel, stride, padding)
                        if isinstance(got, bool) or not isinstance(got, (int, np.integer)) or got != want:
                            raise Wrong(f"{call} returned {got!r}, expected {want}")
        if student.conv_output_size(7, 3) != 5 or student.conv_output_size(size=7, kernel=3, padding=1, stride=2) != 4:
            raise Wrong("conv_output_size: defaults or keywords")

    def check_pad():
        forms = [0, 1, 2, (1, 0), (0, 2), (2, 1), ((0, 1), (2, 0)), ((1, 2), (0, 3)), [1, 2], ((0, 0), (0, 0))]
        for integer in (False, True):
            for padding in forms:
                for value in (None, 0, 3, -1.5, 0.5):
                    x = arrays((2, 3, 4, 5), integer)
                    before = x.copy()
                    call = f"pad(x, {padding!r}" + ("" if value is None else f", value={value}") + ")"
                    if value is None:
                        got, want = student.pad(x, padding), ref.pad(x, padding)
                    else:
                        got, want = student.pad(x, padding, value), ref.pad(x, padding, value)
                    same(got, want, call, dtype=want.dtype)
                    unchanged([before], [x], call)
                    if np.shares_memory(np.asarray(got), x):
                        raise Wrong(f"{call}: returns x itself, not a new array")

    def conv_args(case, integer=False):
        n, c, h, w_, f, kh, kw, stride, padding = case
        x = arrays((n, c, h, w_), integer)
        w = arrays((f, c, kh, kw), integer)
        b = arrays((f,), integer)
        return x, w, b, kwargs(stride, padding)

    def check_conv2d_forward():
        for integer in (False, True):
            for case in conv_cases:
                x, w, b, kw = conv_args(case, integer)
                before = [x.copy(), w.copy(), b.copy()]
                want = ref.conv2d_forward(x, w, b, **kw)
                got = student.conv2d_forward(x, w, b, **kw)
                same(got, want, f"conv2d_forward {case} integer={integer}")
                unchanged(before, [x, w, b], "conv2d_forward")

    def check_conv2d_backward():
        for integer in (False, True):
            for case in conv_cases:
                x, w, b, kw = conv_args(case, integer)
                out_shape = ref.conv2d_forward(x, w, b, **kw).shape
                dout = rng.standard_normal(out_shape)
                before = [dout.copy(), x.copy(), w.copy(), b.copy()]
                want = ref.conv2d_backward(dout, x, w, b, **kw)
                got = student.conv2d_backward(dout, x, w, b, **kw)
                if not isinstance(got, (tuple, list)) or len(got) != 3:
                    raise Wrong("conv2d_backward: does not return (dx, dw, db)")
                for name, g, e in zip(("dx", "dw", "db"), got, want):
                    same(g, e, f"conv2d_backward {name} {case} integer={integer}")
                unchanged(before, [dout, x, w, b], "conv2d_backward")

    # (N, C, H, W, pool_size, stride); None = left out
    pool_cases = [
        (2, 3, 6, 8, None, None),
        (2, 3, 7, 9, 2, None),
        (1, 2, 9, 7, 3, None),
        (2, 2, 7, 8, (2, 3), None),
        (2, 3, 8, 7, 2, 1),
        (1, 2, 9, 8, 3, 2),
        (2, 2, 8, 9, 2, 3),
        (2, 2, 9, 8, (3, 2), (1, 2)),
        (1, 3, 8, 9, 3, (2, 1)),
        (2, 1, 7, 7, (2, 2), (2, 2)),
        (1, 1, 3, 5, 3, 1),
        (1, 2, 2, 1, (2, 1), None),
    ]

    def pool_args(case, mode):
        n, c, h, w_, size, stride = case
        if mode == "ties":
            x = rng.integers(0, 3, size=(n, c, h, w_)).astype(np.float64)
        else:
            x = arrays((n, c, h, w_), mode == "integer")
        kw = {}
        if size is not None:
            kw["pool_size"] = size
        if stride is not None:
            kw["stride"] = stride
        return x, kw

    def check_maxpool_forward():
        for mode in ("float", "integer", "ties"):
            for case in pool_cases:
                x, kw = pool_args(case, mode)
                before = x.copy()
                same(student.maxpool_forward(x, **kw), ref.maxpool_forward(x, **kw), f"maxpool_forward {case} {mode}")
                unchanged([before], [x], "maxpool_forward")
            x, _ = pool_args((2, 2, 6, 5, 2, 2), mode)
            same(student.maxpool_forward(x, 2, None), ref.maxpool_forward(x, 2, None), "maxpool_forward stride=None")

    def check_maxpool_backward():
        for mode in ("float", "integer", "ties"):
            for case in pool_cases:
                x, kw = pool_args(case, mode)
                dout = rng.standard_normal(ref.maxpool_forward(x, **kw).shape)
                before = [dout.copy(), x.copy()]
                got = student.maxpool_backward(dout, x, **kw)
                same(got, ref.maxpool_backward(dout, x, **kw), f"maxpool_backward {case} {mode}")
                unchanged(before, [dout, x], "maxpool_backward")

    def check_Conv2d():
        for c, f, k in ((3, 8, 3), (5, 12, (3, 5)), (16, 4, 2), (2, 40, (5, 2))):
            stds = []
            for _ in range(3):
                layer = student.Conv2d(c, f, k)
                kh, kw_ = (k, k) if isinstance(k, int) else k
                if np.asarray(layer.W.data).shape != (f, c, kh, kw_):
                    raise Wrong(f"Conv2d({c}, {f}, {k}).W has shape {np.asarray(layer.W.data).shape}")
                if np.asarray(layer.b.data).shape != (f,) or np.any(np.asarray(layer.b.data) != 0):
                    raise Wrong("Conv2d.b is not zeros of shape (F,)")
                if np.any(np.asarray(layer.W.grad) != 0) or np.any(np.asarray(layer.b.grad) != 0):
                    raise Wrong("Conv2d grads do not start at zero")
                if [id(p) for p in layer.parameters()] != [id(layer.W), id(layer.b)]:
                    raise Wrong("Conv2d.parameters() is not [W, b]")
                stds.append(np.std(layer.W.data))
                if abs(np.mean(layer.W.data)) > 0.2 * np.sqrt(2.0 / (c * kh * kw_)):
                    raise Wrong("Conv2d.W not centred on 0")
            ratio = np.mean(stds) / np.sqrt(2.0 / (c * kh * kw_))
            if not 0.85 < ratio < 1.15:
                raise Wrong(f"Conv2d({c}, {f}, {k}).W std is {ratio:.2f} x He's")
        for integer in (False, True):
            for case in conv_cases:
                n, c, h, w_, f, kh, kw_, stride, padding = case
                k = kh if kh == kw_ else (kh, kw_)
                layer = student.Conv2d(c, f, k, **kwargs(stride, padding))
                w = rng.standard_normal((f, c, kh, kw_))
                b = rng.standard_normal(f)
                layer.W.data = w.copy()
                layer.b.data = b.copy()
                x = arrays((n, c, h, w_), integer)
                kw = kwargs(stride, padding)
                want = ref.conv2d_forward(x, w, b, **kw)
                same(layer(x), want, f"Conv2d forward {case} integer={integer}")
                same(layer.forward(x), want, f"Conv2d forward {case}")
                dw_sum = np.zeros_like(w)
                db_sum = np.zeros_like(b)
                for _ in range(2):
                    x = arrays((n, c, h, w_), integer)
                    layer.forward(x)
                    dout = rng.standard_normal(want.shape)
                    dx, dw, db = ref.conv2d_backward(dout, x, w, b, **kw)
                    dw_sum += dw
                    db_sum += db
                    same(layer.backward(dout), dx, f"Conv2d backward dx {case} integer={integer}")
                    same(layer.W.grad, dw_sum, f"Conv2d W.grad {case}")
                    same(layer.b.grad, db_sum, f"Conv2d b.grad {case}")
                layer.zero_grad()
                if np.any(layer.W.grad != 0) or np.any(layer.b.grad != 0):
                    raise Wrong("Conv2d.zero_grad")

    def check_MaxPool2d():
        for mode in ("float", "integer", "ties"):
            for case in pool_cases:
                x, kw = pool_args(case, mode)
                args = []
                if "pool_size" in kw:
                    args.append(kw["pool_size"])
                layer = student.MaxPool2d(*args, **({"stride": kw["stride"]} if "stride" in kw else {}))
                if layer.parameters() != []:
                    raise Wrong("MaxPool2d has parameters")
                want = ref.maxpool_forward(x, **kw)
                same(layer(x), want, f"MaxPool2d forward {case} {mode}")
                dout = rng.standard_normal(want.shape)
                same(layer.backward(dout), ref.maxpool_backward(dout, x, **kw), f"MaxPool2d backward {case} {mode}")

    checks = {
        "conv_output_size": check_conv_output_size, "pad": check_pad,
        "conv2d_forward": check_conv2d_forward, "conv2d_backward": check_conv2d_backward,
        "maxpool_forward": check_maxpool_forward, "maxpool_backward": check_maxpool_backward,
        "Conv2d": check_Conv2d, "MaxPool2d": check_MaxPool2d,
    }
    verdicts = {}
    for item, run in checks.items():
        np.random.seed(0)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                run()
            verdicts[item] = None
        except Wrong as why:
            verdicts[item] = str(why)
        except Exception as error:  # noqa: BLE001 - any crash on valid input is a wrong item
            verdicts[item] = f"raised {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return verdicts


def judge_here(path):
    ref = _load(REFERENCE, "judge_reference")
    try:
        student = _load(path, "judge_student")
    except BaseException as error:  # noqa: BLE001
        return {item: f"does not load: {type(error).__name__}: {error}" for item in ITEMS}
    return _battery(student, ref)


# ---------------------------------------------------------------- driver
def judge(path, timeout=300) -> dict:
    """{item: reason it is wrong, or None} for one file, run in a subprocess."""
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(path)],
            capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {item: f"judge timed out after {timeout}s" for item in ITEMS}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {item: f"judge failed: {why}" for item in ITEMS}
    return json.loads(lines[-1])


def wrong_items(verdicts: dict) -> list:
    return [item for item in ITEMS if verdicts.get(item)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help="compare with each file's header; exit 1 on a mismatch")
    parser.add_argument("--why", action="store_true", help="print the reason for each wrong item")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(judge_here(args.files[0])))
        return 0
    mismatches = 0
    for path in args.files:
        verdicts = judge(path)
        wrong = wrong_items(verdicts)
        line = f"{path.name:45s} items={','.join(wrong)}"
        if args.check:
            claimed = read_header(path).get("items", [])
            if sorted(claimed) != sorted(wrong):
                mismatches += 1
                line += f"   MISMATCH: header says {','.join(claimed) or '(none)'}"
        print(line)
        if args.why:
            for item in wrong:
                print(f"    {item}: {verdicts[item]}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
