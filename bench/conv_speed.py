"""How much faster the reference convolution is than the lesson's four loops.

Times solutions/cnn/cnn_layers.py's conv2d_forward and conv2d_backward
against a plain four-loop NumPy version (loops over image, filter, output
row and output column, NumPy inside, as the lesson first writes it) and,
when `import torch` works, against torch.nn.functional.conv2d in float64 and
float32. Everything runs on one thread so the numbers compare algorithms,
not core counts.

Usage (from the repository root):

    .venv/bin/python bench/conv_speed.py            # full cases; the loops take a while
    .venv/bin/python bench/conv_speed.py --quick    # small case, seconds, for smoke tests

Add torch rows by running it with an interpreter that has torch, e.g. a
scratch venv (`pip install numpy torch==2.13.0`); torch is not a dependency
of the kit.

Prints a table (case, operation, implementation, median seconds, speed-up
vs loops) and writes the numbers with the machine's description to
bench/results/conv_speed.json (conv_speed_quick.json with --quick, so a
smoke test never overwrites the full results).
"""

import os

# BLAS reads these when NumPy is imported, so they must be set before; one
# thread for every implementation keeps the comparison fair and stops a
# 2-core machine from oversubscribing.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_PATH = ROOT / "solutions" / "cnn" / "cnn_layers.py"
RESULTS_DIR = ROOT / "bench" / "results"

# name -> (N, C, H, W, F, K, stride, padding); all float64, square kernels.
FULL_CASES = {
    "main": (32, 16, 32, 32, 32, 3, 1, 1),
    "strided": (32, 16, 32, 32, 32, 3, 2, 1),
}
QUICK_CASES = {
    "quick": (4, 3, 12, 12, 4, 3, 1, 1),
}


def load_reference():
    spec = importlib.util.spec_from_file_location("cnn_layers_reference", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loop_conv2d_forward(x, w, b, stride, padding):
    """The lesson's first convolution: x (N, C, H, W), w (F, C, K, K), b (F,) -> (N, F, H_out, W_out)."""
    N, C, H, W = x.shape
    F, _, K, _ = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    H_out = (H + 2 * padding - K) // stride + 1
    W_out = (W + 2 * padding - K) // stride + 1
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    r, c = i * stride, j * stride
                    out[n, f, i, j] = np.sum(x_pad[n, :, r : r + K, c : c + K] * w[f]) + b[f]
    return out


def loop_conv2d_backward(dout, x, w, b, stride, padding):
    """The lesson's first backward pass: dout (N, F, H_out, W_out) -> (dx, dw, db) shaped like x, w, b."""
    N, C, H, W = x.shape
    F, _, K, _ = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    H_out, W_out = dout.shape[2:]
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    r, c = i * stride, j * stride
                    grad = dout[n, f, i, j]
                    dw[f] += x_pad[n, :, r : r + K, c : c + K] * grad
                    dx_pad[n, :, r : r + K, c : c + K] += w[f] * grad
    db = dout.sum(axis=(0, 2, 3))
    dx = dx_pad[:, :, padding : padding + H, padding : padding + W]
    return dx, dw, db


def time_runs(run, repeats, warmup=0, setup=None):
    """(seconds of each of `repeats` calls of run(setup()), last result).

    setup's own time is not counted. The result is returned so that the slow
    loop version, run once, is also the one checked for correctness.
    """
    times = []
    for attempt in range(warmup + repeats):
        argument = setup() if setup else None
        start = time.perf_counter()
        result = run(argument)
        elapsed = time.perf_counter() - start
        if attempt >= warmup:
            times.append(elapsed)
    return times, result


def import_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only allowed before torch starts parallel work
        pass
    return torch


def torch_implementations(torch, x, w, b, dout, stride, padding, dtype_name):
    """(forward, backward setup, backward) closures for torch in one dtype."""
    dtype = getattr(torch, dtype_name)
    xt, wt, bt = (torch.tensor(a, dtype=dtype) for a in (x, w, b))
    dout_t = torch.tensor(dout, dtype=dtype)
    conv = torch.nn.functional.conv2d

    def forward(_):
        with torch.no_grad():
            return conv(xt, wt, bt, stride=stride, padding=padding)

    def backward_setup():
        # A fresh graph per run: the forward pass is not part of the timing.
        leaves = [t.detach().requires_grad_() for t in (xt, wt, bt)]
        return leaves, conv(*leaves, stride=stride, padding=padding)

    def backward(prepared):
        leaves, out = prepared
        return torch.autograd.grad(out, leaves, grad_outputs=dout_t)

    return forward, backward_setup, backward


def to_numpy(array):
    return array.detach().numpy() if hasattr(array, "detach") else array


def check_close(name, got, expected, rtol):
    got = np.asarray(got, dtype=np.float64)
    if not np.allclose(got, expected, rtol=rtol, atol=rtol):
        raise AssertionError(f"{name} disagrees with the reference: max diff {np.abs(got - expected).max()}")


def bench_case(name, config, reference, torch, repeats, loop_repeats):
    """Rows of results for one case: every implementation, forward and backward."""
    N, C, H, W, F, K, stride, padding = config
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, K, K)) * np.sqrt(2.0 / (C * K * K))
    b = rng.standard_normal(F)
    expected_out = reference.conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(expected_out.shape)
    expected_grads = reference.conv2d_backward(dout, x, w, b, stride, padding)

    implementations = [
        ("loops (numpy)", "float64", loop_repeats, 0,
         lambda _: loop_conv2d_forward(x, w, b, stride, padding), None,
         lambda _: loop_conv2d_backward(dout, x, w, b, stride, padding)),
        ("reference (numpy)", "float64", repeats, 1,
         lambda _: reference.conv2d_forward(x, w, b, stride, padding), None,
         lambda _: reference.conv2d_backward(dout, x, w, b, stride, padding)),
    ]
    if torch is not None:
        for dtype_name in ("float64", "float32"):
            forward, backward_setup, backward = torch_implementations(
                torch, x, w, b, dout, stride, padding, dtype_name
            )
            implementations.append(("torch F.conv2d", dtype_name, repeats, 1, forward, backward_setup, backward))

    rows = []
    for implementation, dtype, runs, warmup, forward, backward_setup, backward in implementations:
        # A benchmark of a wrong answer is worthless: every result is checked
        # against the reference (float32 only to float32 precision).
        rtol = 1e-3 if dtype == "float32" else 1e-10
        for op, run, setup in (("forward", forward, None), ("backward", backward, backward_setup)):
            times, result = time_runs(run, runs, warmup, setup)
            if op == "forward":
                check_close(f"{implementation} {dtype} forward", to_numpy(result), expected_out, rtol)
            else:
                for label, got, want in zip(("dx", "dw", "db"), result, expected_grads):
                    check_close(f"{implementation} {dtype} backward {label}", to_numpy(got), want, rtol)
            rows.append(
                {
                    "case": name,
                    "shape": {"N": N, "C": C, "H": H, "W": W, "F": F, "K": K, "stride": stride, "padding": padding},
                    "op": op,
                    "implementation": implementation,
                    "dtype": dtype,
                    "runs": len(times),
                    "median_seconds": statistics.median(times),
                    "times": times,
                }
            )
            print(f"  {name} {op:8s} {implementation} {dtype}: {rows[-1]['median_seconds']:.4f} s", file=sys.stderr)
    loops = {row["op"]: row["median_seconds"] for row in rows if row["implementation"] == "loops (numpy)"}
    for row in rows:
        row["speedup_vs_loops"] = loops[row["op"]] / row["median_seconds"]
    return rows


def machine_info(torch):
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": None if torch is None else torch.__version__,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "threads": {v: os.environ[v] for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
    }


def print_table(rows):
    header = f"{'case':8s} {'op':8s} {'implementation':18s} {'dtype':7s} {'median s':>11s} {'speed-up':>9s}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['case']:8s} {row['op']:8s} {row['implementation']:18s} {row['dtype']:7s} "
            f"{row['median_seconds']:11.6f} {row['speedup_vs_loops']:8.1f}x"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small case for everything (smoke test)")
    parser.add_argument("--repeats", type=int, default=7, help="runs of each fast implementation (median taken)")
    parser.add_argument("--loop-repeats", type=int, default=None, help="runs of the loop version (default 1, 3 with --quick)")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)

    cases = QUICK_CASES if args.quick else FULL_CASES
    loop_repeats = args.loop_repeats or (3 if args.quick else 1)
    output = args.output or RESULTS_DIR / ("conv_speed_quick.json" if args.quick else "conv_speed.json")
    torch = import_torch()
    reference = load_reference()

    rows = []
    for name, config in cases.items():
        rows.extend(bench_case(name, config, reference, torch, args.repeats, loop_repeats))
    print_table(rows)

    output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "mode": "quick" if args.quick else "full",
        "reference": str(REFERENCE_PATH.relative_to(ROOT)),
        "machine": machine_info(torch),
        "notes": "speedup_vs_loops divides the loop version's median (float64) by the row's median, same case and op",
        "results": rows,
    }
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {output}")


if __name__ == "__main__":
    main()
