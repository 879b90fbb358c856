"""Which capstone items of a capstone.py are really wrong, judged against the reference.

Like judge.py for part 1, and for the same reason (the bench measures the kit, so the truth must
not come from it): the student's pieces run beside solutions/cnn_capstone/capstone.py on inputs of
this script's own, exact zeros and extreme scores included, and an item is wrong when any result
differs or raises. `train` is wrong when the student's DigitCNN, trained by the student's train()
from the reference's initial weights on the same digits and batches, ends farther from the
reference's trained parameters than 1% of the way training moved them.

The student's capstone.py is loaded beside a correct first part (LAYERS below), so only the
capstone's pieces are judged.

    .venv/bin/python bench/corpus/judge_capstone.py [--check] [--why] bench/corpus/capstone/*.py
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from judge import read_header  # noqa: E402

REFERENCE = ROOT / "solutions" / "cnn_capstone"
LAYERS = HERE / "part1" / "as_strided_einsum_ok.py"
DIGITS = ROOT / "assignments" / "cnn_capstone" / "handout_files" / "digits.csv.gz"
ITEMS = ("ReLU", "Flatten", "GlobalMaxPool2d", "Linear", "softmax_cross_entropy", "Adam", "DigitCNN", "train")


class Wrong(Exception):
    pass


def _load(path, name, layers_path):
    """Load a capstone module with `cnn_layers` taken from layers_path."""
    for stale in ("cnn_layers",):
        sys.modules.pop(stale, None)
    spec = importlib.util.spec_from_file_location("cnn_layers", layers_path)
    layers = importlib.util.module_from_spec(spec)
    sys.modules["cnn_layers"] = layers
    spec.loader.exec_module(layers)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
    return module


def _battery(student, ref):
    import numpy as np

    rng = np.random.default_rng(2024)

    def same(got, want, what):
        got = np.asarray(got)
        want = np.asarray(want)
        if got.shape != want.shape:
            raise Wrong(f"{what}: shape {got.shape}, expected {want.shape}")
        if not np.allclose(got, want, rtol=1e-6, atol=1e-9, equal_nan=False):
            raise Wrong(f"{what}: values differ (got {got.ravel()[:3]}, expected {want.ravel()[:3]})")

    def with_zeros(shape):
        x = rng.standard_normal(shape)
        x[rng.random(shape) < 0.3] = 0.0
        return x

    def check_ReLU():
        for shape in ((3, 5), (2, 3, 4, 5)):
            x = with_zeros(shape)
            s, r = student.ReLU(), ref.ReLU()
            same(s.forward(x), r.forward(x), "ReLU forward")
            dout = rng.standard_normal(shape)
            same(s.backward(dout), r.backward(dout), "ReLU backward (x has exact zeros)")

    def check_Flatten():
        x = rng.standard_normal((3, 4, 2, 5))
        s, r = student.Flatten(), ref.Flatten()
        same(s.forward(x), r.forward(x), "Flatten forward")
        dout = rng.standard_normal((3, 40))
        same(s.backward(dout), r.backward(dout), "Flatten backward")

    def check_GlobalMaxPool2d():
        for ties in (False, True):
            x = rng.integers(0, 3, size=(3, 4, 5, 6)).astype(float) if ties else rng.standard_normal((3, 4, 5, 6))
            s, r = student.GlobalMaxPool2d(), ref.GlobalMaxPool2d()
            same(s.forward(x), r.forward(x), "GlobalMaxPool2d forward")
            dout = rng.standard_normal((3, 4))
            same(s.backward(dout), r.backward(dout), f"GlobalMaxPool2d backward ties={ties}")

    def check_Linear():
        for d, m in ((30, 7), (96, 25)):
            stds = [np.std(student.Linear(d, m).W.data) for _ in range(5)]
            if not 0.85 < np.mean(stds) / np.sqrt(2.0 / d) < 1.15:
                raise Wrong("Linear W is not He-initialised")
            s = student.Linear(d, m)
            if np.asarray(s.W.data).shape != (d, m) or np.any(np.asarray(s.b.data) != 0):
                raise Wrong("Linear parameter shapes or non-zero b")
            w, b = rng.standard_normal((d, m)), rng.standard_normal(m)
            s.W.data, s.b.data = w.copy(), b.copy()
            dw_sum, db_sum = np.zeros_like(w), np.zeros_like(b)
            for _ in range(2):
                x = rng.standard_normal((4, d))
                same(s.forward(x), x @ w + b, "Linear forward")
                dout = rng.standard_normal((4, m))
                same(s.backward(dout), dout @ w.T, "Linear backward dx")
                dw_sum += x.T @ dout
                db_sum += dout.sum(axis=0)
                same(s.W.grad, dw_sum, "Linear W.grad (accumulated)")
                same(s.b.grad, db_sum, "Linear b.grad (accumulated)")

    def check_softmax_cross_entropy():
        cases = [rng.standard_normal((5, 10)), 50 * rng.standard_normal((6, 10)), np.zeros((2, 4)),
                 np.array([[0.0, -800.0, 3.0], [1000.0, 0.0, -1000.0]]), 1000 + rng.standard_normal((3, 10))]
        for logits in cases:
            labels = rng.integers(0, logits.shape[1], size=len(logits))
            if logits.shape == (2, 3):
                labels = np.array([1, 2])
            loss, dl = student.softmax_cross_entropy(logits.copy(), labels)
            want_loss, want_dl = ref.softmax_cross_entropy(logits, labels)
            if not np.isfinite(loss) or not np.isclose(float(loss), want_loss, rtol=1e-6, atol=1e-9):
                raise Wrong(f"softmax_cross_entropy loss {loss} expected {want_loss}")
            same(dl, want_dl, "softmax_cross_entropy dlogits")

    def check_Adam():
        for kw in ({}, {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3}):
            shapes = [(3, 4), (5,)]
            start = [rng.standard_normal(s) for s in shapes]
            sp = [student.Parameter(a.copy()) for a in start]
            rp = [ref.Parameter(a.copy()) for a in start]
            so, ro = student.Adam(sp, **kw), ref.Adam(rp, **kw)
            for step in range(5):
                so.zero_grad()
                ro.zero_grad()
                for a, b in zip(sp, rp):
                    if np.any(a.grad != 0):
                        raise Wrong("Adam.zero_grad leaves gradients")
                    g = rng.standard_normal(a.data.shape) * (10.0 ** rng.integers(-3, 2))
                    a.grad = g.copy()
                    b.grad = g.copy()
                so.step()
                ro.step()
                for a, b in zip(sp, rp):
                    same(a.data, b.data, f"Adam step {step + 1} {kw}")

    def copy_weights(s_model, r_model):
        for a, b in zip(s_model.parameters(), r_model.parameters()):
            if np.asarray(a.data).shape != b.data.shape:
                raise Wrong("DigitCNN parameters differ in shape")
            a.data = b.data.copy()

    def check_DigitCNN():
        if len(student.DigitCNN().parameters()) != 6:
            raise Wrong("DigitCNN has not 6 parameters")
        for start in ("random", "zero biases, blank strips"):
            s, r = student.DigitCNN(), ref.DigitCNN()
            if start == "random":
                for p in r.parameters():
                    p.data = p.data + 0.1 * rng.standard_normal(p.data.shape)
            copy_weights(s, r)
            x = rng.random((4, 1, 8, 12))
            if start != "random":
                x[:, :, :, 8:] = 0.0
                x[0] = 0.0
            same(s.forward(x), r.forward(x), f"DigitCNN forward ({start})")
            dl = rng.standard_normal((4, 10))
            same(s.backward(dl), r.backward(dl), f"DigitCNN backward dx ({start})")
            for a, b in zip(s.parameters(), r.parameters()):
                same(a.grad, b.grad, f"DigitCNN gradients ({start})")

    def check_train():
        images, labels = ref.load_digits(DIGITS)
        data = ref.split_digits(images, labels, seed=3, n_train=400)
        np.random.seed(5)
        r = ref.DigitCNN()
        s = student.DigitCNN()
        copy_weights(s, r)
        start = np.concatenate([p.data.ravel() for p in r.parameters()])
        ref.train(r, data["x_train"], data["y_train"], epochs=2, seed=7)
        student.train(s, data["x_train"], data["y_train"], epochs=2, seed=7)
        want = np.concatenate([p.data.ravel() for p in r.parameters()])
        got = np.concatenate([np.asarray(p.data).ravel() for p in s.parameters()])
        moved = np.linalg.norm(want - start)
        off = np.linalg.norm(got - want) / moved
        if not np.isfinite(off) or off > 0.01:
            raise Wrong(f"training ends {off:.3g} of the way training moves away from the reference's parameters")

    checks = {name: fn for name, fn in locals().items() if name.startswith("check_")}
    verdicts = {}
    for item in ITEMS:
        np.random.seed(0)
        try:
            with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
                checks[f"check_{item}"]()
            verdicts[item] = None
        except Wrong as why:
            verdicts[item] = str(why)
        except Exception as error:  # noqa: BLE001
            verdicts[item] = f"raised {type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
    return verdicts


def judge_here(path):
    ref = _load(REFERENCE / "capstone.py", "judge_ref_capstone", REFERENCE / "cnn_layers.py")
    try:
        student = _load(path, "judge_student_capstone", LAYERS)
    except BaseException as error:  # noqa: BLE001
        return {item: f"does not load: {type(error).__name__}: {error}" for item in ITEMS}
    return _battery(student, ref)


def judge(path, timeout=600) -> dict:
    try:
        done = subprocess.run([sys.executable, __file__, "--one", str(path)], capture_output=True, text=True,
                              timeout=timeout)
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
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--why", action="store_true")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(judge_here(args.files[0])))
        return 0
    mismatches = 0
    for path in args.files:
        verdicts = judge(path)
        wrong = wrong_items(verdicts)
        line = f"{path.name:45s} items={','.join(wrong)}"
        if args.check and sorted(read_header(path).get("items", [])) != sorted(wrong):
            mismatches += 1
            line += "   MISMATCH with the header"
        print(line)
        if args.why:
            for item in wrong:
                print(f"    {item}: {verdicts[item]}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
