"""Small helpers shared by the grading benchmarks (per_submission, batch, breakdown).

Importing this module pins BLAS to one thread in this process's environment,
so every process a benchmark starts inherits the pin: on a 2-core machine a
multi-threaded BLAS would oversubscribe and make the numbers noisy.
"""

import os

PINNED = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
for _variable in PINNED:
    os.environ[_variable] = "1"

import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
KIT_PYTHON = ROOT / ".venv" / "bin" / "python"
REFERENCE_MODULE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
REFERENCE_NOTEBOOK = ROOT / "solutions" / "cnn" / "cnn.ipynb"


def kit_python() -> str:
    """The kit's interpreter: .venv's if there is one, else the one running this script."""
    return str(KIT_PYTHON) if KIT_PYTHON.exists() else sys.executable


def env() -> dict:
    """This process's environment with BLAS pinned (it already is, once this module is imported)."""
    return dict(os.environ)


def timed_run(cmd, cwd=None, check=True, timeout=None):
    """(wall seconds, CompletedProcess) of one command, output captured."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - start
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} exited with {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return elapsed, done


def median(values):
    return statistics.median(values) if values else None


def numpy_version(python: str) -> str | None:
    done = subprocess.run([python, "-c", "import numpy; print(numpy.__version__)"], capture_output=True, text=True)
    return done.stdout.strip() or None


def machine_info() -> dict:
    python = kit_python()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": numpy_version(python),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "threads": {v: os.environ[v] for v in PINNED},
    }


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def write_json(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def fmt(seconds) -> str:
    return "-" if seconds is None else f"{seconds:.3f}"
