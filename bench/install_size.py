"""What installing the kit costs: disk and time of each install, before and after a change.

For each variant a fresh venv is made in a temporary folder and the kit is
installed into it the way that variant is used:

- `grading`: `pip install -e .`, what `./kit` and the Gradescope image install;
- `student`: `pip install -e ".[student]"`, for the notebook (otter-grader, Jupyter);
- `dev`: `pip install -e ".[dev]"`, what `./kit test` installs;
- `before`: `pip install -e .` of the kit with the pyproject.toml of a git revision
  (`--before REV`, default `main`): the old grading install, for comparison.

Every variant installs from pip's cache as far as it can (run the script twice
if the first run had to download), so the times compare installs, not networks.
The size is the venv's size on disk (du), the time the wall time of pip install.

    .venv/bin/python bench/install_size.py [--before REV] [--only grading,before]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

ROOT = benchlib.ROOT
VARIANTS = ("before", "grading", "student", "dev")


def du_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / 1024


def project_copy(into: Path, pyproject: str) -> Path:
    """The kit's package and a pyproject.toml: enough for pip to install it."""
    project = into / "kit"
    project.mkdir()
    shutil.copytree(ROOT / "autograder", project / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "README.md", project / "README.md")
    (project / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return project


def measure(python: str, project: Path, extra: str, work: Path) -> dict:
    venv = work / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True, capture_output=True)
    empty = du_mb(venv)
    target = f"{project}[{extra}]" if extra else str(project)
    started = time.perf_counter()
    done = subprocess.run([*pip, "install", "--quiet", "-e", target], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"pip install -e {target} failed:\n{done.stderr[-2000:]}")
    packages = subprocess.run([*pip, "list", "--format=freeze"], capture_output=True, text=True, check=True).stdout
    return {
        "venv_mb": round(du_mb(venv), 1),
        "installed_mb": round(du_mb(venv) - empty, 1),
        "pip_install_s": round(seconds, 1),
        "packages": len(packages.split()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git revision whose pyproject.toml is 'before' (default main)")
    parser.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants to measure")
    args = parser.parse_args()
    python = sys.executable
    # A venv made from inside a venv uses the base interpreter, as a fresh machine would.
    current = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    old = subprocess.run(["git", "-C", str(ROOT), "show", f"{args.before}:pyproject.toml"],
                         capture_output=True, text=True, check=True).stdout
    results = {}
    for variant in args.only.split(","):
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant}; choose from {', '.join(VARIANTS)}")
        with tempfile.TemporaryDirectory(prefix=f"install-{variant}-") as scratch:
            work = Path(scratch)
            project = project_copy(work, old if variant == "before" else current)
            extra = variant if variant in ("student", "dev") else ""
            results[variant] = measure(python, project, extra, work)
        r = results[variant]
        print(f"{variant:<8} {r['installed_mb']:>7.1f} MB installed ({r['venv_mb']:.0f} MB venv), "
              f"{r['packages']:>3} packages, pip install {r['pip_install_s']:.1f} s", flush=True)
    benchlib.write_json(benchlib.RESULTS_DIR / "install_size.json", {
        "machine": benchlib.machine_info(), "before": args.before, "results": results,
    })


if __name__ == "__main__":
    main()
