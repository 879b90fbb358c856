"""Gradescope: an autograder zip whose run_autograder grades with this engine.

Gradescope unpacks the zip into /autograder/source and runs `setup.sh` there
once, as root, while it builds the autograder's image (Ubuntu). For each
submission it copies `run_autograder` to /autograder/run_autograder and runs
it with the student's files in /autograder/submission; whatever is in
/autograder/results/results.json then is the grade.

Our `run_autograder` hides the kit from other users (`chmod -R go-rwx` on the
source: Gradescope's containers usually refuse namespaces, so the engine falls
back to running student code as an unprivileged uid, which could otherwise
read the reference and the hidden suites) and calls `gradescope-run`, which is
`run()` below: the same Grader as `python -m autograder grade`, so a
submission gets the same grade in both places.

The zip carries the course's secret (course_secret.py) at its top, where the
unpacked kit looks for it: Gradescope draws a submission's hidden inputs as
`grade` does with this kit, from the secret, the student's name and the files
handed in, so a regrade of the course's export reproduces every grade.

The /autograder folder can be moved with AUTOGRADER_GRADESCOPE_ROOT and the
Python that runs the kit chosen with AUTOGRADER_PYTHON, so the kit's tests
can emulate Gradescope in a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from .. import build, course_secret
from ..engine import api, fingerprints, report
from ..engine.results import failed_grade, seed_for
from ..engine.submission import ZIP_MAX_BYTES, read_regular, snapshot
from . import ratelimit
from .exports import slug

ROOT_ENV = "AUTOGRADER_GRADESCOPE_ROOT"
DEFAULT_ROOT = "/autograder"
# Zip entries get this fixed date, so the same kit always makes the same zip.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".git"}

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image.
# It installs Python and bubblewrap (the namespace sandbox, used when the
# container allows namespaces; otherwise the engine falls back to an
# unprivileged uid), libseccomp (the workers' system call filter, at every
# level) and installs the kit, from this folder, into a venv.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_GRADESCOPE_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
# Every Python here runs in isolated mode (-I): nothing is imported from the
# current folder, PYTHONPATH or the user's site-packages.
# `./kit gradescope --try` runs this script on the instructor's machine: it
# sets AUTOGRADER_SETUP_NO_APT and AUTOGRADER_SETUP_PYTHON, so the host's
# packages are left alone and its Python builds the venv.
PYTHON3="${AUTOGRADER_SETUP_PYTHON:-python3}"
if [ -z "${AUTOGRADER_SETUP_NO_APT:-}" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: setup.sh needs apt-get; choose an Ubuntu base image (22.04 or newer) for this autograder" >&2
    exit 1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip bubblewrap libseccomp2
fi
if ! "$PYTHON3" -I -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "error: the grader needs Python 3.10 or newer, this image has $("$PYTHON3" -I --version 2>&1); choose the Ubuntu 22.04 base image" >&2
  exit 1
fi
"$PYTHON3" -I -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -I -m pip install --quiet --upgrade pip
# Editable: the venv only points at this folder, which run_autograder makes
# unreadable to other users. A regular install would copy the hidden suites
# into the venv's site-packages, readable by everyone. No extras: the image
# gets what grading imports (no otter-grader, no Jupyter).
"$ROOT/venv/bin/python" -I -m pip install --quiet -e "$SOURCE"
# Bytecode now, so no submission pays for compiling the engine and the suites.
"$ROOT/venv/bin/python" -I -m compileall -q -x '/examples/' "$SOURCE/autograder" "$SOURCE/assignments" "$SOURCE/solutions" || true
"$ROOT/venv/bin/python" -I -c "import autograder, numpy, pytest, nbformat; print('autograder environment ready')"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission: the student's files are in
# $ROOT/submission, the grade goes to $ROOT/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_GRADESCOPE_ROOT:-/autograder}"
SOURCE="$ROOT/source"
RESULTS="$ROOT/results"

# Student code may run as an unprivileged uid (when the container refuses
# namespaces): it must not be able to read anything Gradescope keeps here but
# the venv its Python runs from. That is the reference and the hidden suites,
# the submission's files (the grader sends their text itself), the results, and
# submission_metadata.json, which holds the student's earlier results, hidden
# checks and all. The grader refuses to run student code as another uid until
# this holds.
mkdir -p "$RESULTS"
shopt -s dotglob nullglob
for entry in "$ROOT"/*; do
  [ "$entry" = "$ROOT/venv" ] || chmod -R go-rwx "$entry"
done
shopt -u dotglob nullglob
# What the grader writes from now on (Python's __pycache__ among it) is ours alone too.
umask 077

# The venv setup.sh made (NumPy, pytest, ...).
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"

rm -f "$RESULTS/results.json"
cd "$SOURCE"
export AUTOGRADER_ROOT="$SOURCE"
# Isolated mode (-I): nothing is imported from the current folder, PYTHONPATH or
# the user's site-packages; the kit comes from $SOURCE, put first by hand.
"$PYTHON" -I -c 'import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); runpy.run_module("autograder", run_name="__main__", alter_sys=True)' \\
  "$SOURCE" gradescope-run --root "$ROOT"
status=$?

# The grader writes results.json even when grading fails; if Python itself
# could not start, say so rather than leave Gradescope without a result.
if [ ! -s "$RESULTS/results.json" ]; then
  printf '{"score": 0, "output": "The autograder could not run (exit code %s); please tell your instructor.", "visibility": "visible", "stdout_visibility": "hidden", "extra_data": {"status": "autograder failed to start", "rate_limit": {"graded": []}}}\\n' "$status" > "$RESULTS/results.json"
fi
exit 0
"""


def _kit_files(assignment) -> list[tuple[str, Path]]:
    """(name in the zip, file on disk) for the kit's part of the zip."""
    root = Path(assignment.root)
    folders = [
        root / "autograder",
        root / "assignments" / assignment.name,
        root / "solutions" / assignment.name,
    ]
    files: list[tuple[str, Path]] = [("pyproject.toml", root / "pyproject.toml"), ("README.md", root / "README.md")]
    # The handout module: the grader needs it to tell an untouched cnn_layers.py
    # submitted beside a worked notebook (then the notebook is graded).
    handout = root / "student_template" / assignment.name / f"{assignment.module}.py"
    if handout.is_file():
        files.append((handout.relative_to(root).as_posix(), handout))
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(root)
            if (
                not path.is_file()
                or SKIPPED_PARTS.intersection(rel.parts)
                or any(part.startswith(".") or part.endswith(".egg-info") for part in rel.parts)
                or path.suffix in (".pyc", ".pyo")
            ):
                continue
            files.append((rel.as_posix(), path))
    return files


def _add(zf: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_zip(assignment, out: Path, secret: str | None = None) -> Path:
    """Write the autograder zip for `assignment` to `out`; returns its path.

    The zip carries the course's `secret` (None: the kit's, made if there is none yet), so
    Gradescope draws the inputs a regrade with this kit draws, and nobody without it can.
    """
    problems = build.stale(assignment)
    if problems:
        raise build.BuildError(
            f"{assignment.name}: solutions/ or student_template/ are stale ({problems[0]}"
            + (f", and {len(problems) - 1} more" if len(problems) > 1 else "")
            + "); run `python -m autograder build` first, so Gradescope grades with the current reference"
        )
    if not assignment.reference_module.is_file():
        raise build.BuildError(f"the reference {assignment.reference_module} is missing; run `python -m autograder build`")
    ratelimit.policy(assignment)  # a [rate_limit] typo is an error now, not a failure for every student
    secret = course_secret.ensure(assignment.root) if secret is None else secret
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.encode(), 0o755)
        # The kit may hold several assignments: this zip grades this one.
        run = RUN_AUTOGRADER.replace('gradescope-run --root "$ROOT"', f'gradescope-run --root "$ROOT" --assignment {assignment.name}')
        _add(zf, "run_autograder", run.encode(), 0o755)
        for name, path in _kit_files(assignment):
            _add(zf, name, path.read_bytes(), 0o755 if os.access(path, os.X_OK) else 0o644)
        # Where the unpacked kit (AUTOGRADER_ROOT, /autograder/source) looks for it; run_autograder
        # makes it unreadable to the student's uid with the rest of the kit.
        _add(zf, course_secret.FILE_NAME, (secret + "\n").encode(), 0o600)
    tmp.replace(out)
    return out


# -- Gradescope's results format ----------------------------------------------------
def results_json(grade) -> dict:
    """Gradescope's autograder results format, with our details under extra_data."""
    # Gradescope shows this text at once, hidden tests or not: it must not
    # reveal the total, which counts the hidden checks. Public checks only.
    public = [t for t in grade.tests if t.visibility == "visible"]
    output = []
    if public:
        output.append(
            f"Public checks: {sum(t.status == 'passed' for t in public)} of {len(public)} passed "
            "(they earn no points; the hidden checks decide the grade)."
        )
    output.append(f"Seed for this submission's inputs: {grade.seed}.")
    if not grade.graded:
        output.append(grade.status)
    output += grade.notes
    return {
        "score": grade.score,
        "execution_time": grade.execution_time,
        "output": "\n".join(output),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": t.name,
                "number": t.number,
                "score": t.score,
                "max_score": t.max_score,
                "status": t.status,
                "visibility": t.visibility,
                "tags": [t.item],
                "output": t.output,
            }
            for t in grade.tests
        ],
        "extra_data": {
            "submission": grade.name,
            "status": grade.status,
            "seed": grade.seed,
            "isolation": grade.isolation,
            "isolation_level": grade.isolation_level,
            "caps": grade.cap_texts,
            "cap_scopes": {limit: scope.value for limit, scope in grade.cap_scopes.items()},
            "flags": report.flags(grade),
            "static_findings": grade.findings,
            "runtime_events": grade.events,
            "notebook_cell_errors": grade.cell_errors,
            "by_item": grade.by_item,
            "timing": grade.timing,
            "measures": grade.measures,
        },
    }



class ResultsFile:
    """A batch's sink that writes each student's results.json (this format) beside their feedback.md."""

    def __init__(self, out: Path):
        self.out = Path(out)

    def __call__(self, grade) -> None:
        _write_json(self.out / grade.name / "results.json", results_json(grade))


# -- inside Gradescope -----------------------------------------------------------
def _users(root: Path) -> list[dict]:
    try:
        meta = json.loads((Path(root) / "submission_metadata.json").read_text(encoding="utf-8"))
        users = meta.get("users") if isinstance(meta, dict) else None
        return [u for u in users or [] if isinstance(u, dict)]
    except (OSError, ValueError):
        return []


def submitter_name(root: Path) -> str:
    """The student's name from Gradescope's submission_metadata.json, else "submission"."""
    for user in _users(root)[:1]:
        for key in ("name", "email"):
            value = user.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return "submission"


def seed_name(root: Path) -> str:
    """What the inputs are seeded from: the name `grade` gives the same students in an export.

    A Gradescope export becomes one submission per group, named by its
    members' slugged names joined by "-" (exports.py); using that here too
    gives a submission the same inputs on Gradescope and in a re-grade of
    the export.
    """
    names = [slug(str(u.get("name") or "")) or slug(str(u.get("sid") or "")) or slug(str(u.get("email") or ""))
             for u in _users(root)]
    return "-".join(n for n in names if n)[:80] or "submission"


def _target(folder: Path) -> Path:
    """What to grade in the submission folder: the folder, or the one zip uploaded alone."""
    if not folder.is_dir():
        return folder
    # A link is never followed (a zip linked to the reference would be unpacked as root); the
    # folder's grading names every link it ignored.
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()
             and not any(s.startswith(".") for s in p.relative_to(folder).parts)]
    if not any(p.suffix in (".py", ".ipynb") for p in files):
        zips = [p for p in files if p.suffix.lower() == ".zip"]
        if len(zips) == 1:
            return zips[0]
    return folder


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _failure(assignment, reason: str, name: str, seed: int, started: float) -> dict:
    """results.json for a submission the grader could not grade (failed_grade, as a batch writes it)."""
    grade = failed_grade(assignment, Path("submission"), f"The autograder could not grade this submission: {reason}",
                                 seed, name)
    grade.execution_time = round(time.monotonic() - started, 3)
    data = results_json(grade)
    # A submission the grader could not grade does not count against the student's budget.
    data["extra_data"]["rate_limit"] = {"graded": []}
    return data


def _seed_anyway(assignment, root: Path) -> int:
    """The seed a failed grade records: the grader's, or 0 if even the secret could not be read."""
    try:
        return seed_for(assignment.name, seed_name(root), fingerprints.submission_fingerprint(root / "submission"),
                                course_secret.value(assignment.root))
    except Exception:  # noqa: BLE001 - the failure's results.json must still be written
        return 0


def leaderboard(grade, assignment) -> list[dict]:
    """Gradescope's leaderboard entries: the measures the assignment's [measures] table gives an order.

    Each is {"name", "value", "order"}; "asc" ranks the smallest first (a time),
    "desc" the largest. A measure the suite did not record (the code was wrong,
    say) is left out, so nobody ranks on a speed their code did not earn.
    """
    entries = []
    for name, spec in assignment.extra.get("measures", {}).items():
        value = grade.measures.get(name)
        order = spec.get("leaderboard") if isinstance(spec, dict) else None
        if order in ("asc", "desc") and isinstance(value, (int, float)) and not isinstance(value, bool):
            entries.append({"name": str(spec.get("title", name)), "value": value, "order": order})
    return entries


def run(assignment, root: Path) -> int:
    """Grade root/submission into root/results/results.json; 0 whenever results.json was written."""
    started = time.monotonic()
    root = Path(root)
    results = root / "results"
    name = submitter_name(root)
    try:
        # The budget is decided from Gradescope's own record of earlier submissions, before any
        # student code runs: a spent budget costs no grading and reveals nothing new.
        gate = ratelimit.gradescope_gate(assignment, root / "submission_metadata.json")
        if gate is not None and gate.refused_whole:
            data = gate.refused_results()
            _write_json(results / "results.json", data)
            (results / "feedback.md").write_text(gate.refused_message() + "\n", encoding="utf-8")
            print(f"{name}: not graded (rate limit); kept the best earlier score {data.get('score', 0):g}")
            return 0
        # At the user level the student's uid must read nothing Gradescope keeps here but the venv:
        # submission_metadata.json holds earlier results, hidden checks included (run_autograder
        # makes them private; the grader refuses to run student code while one is readable).
        private = [p for p in sorted(root.iterdir()) if p.name != "venv"] if root.is_dir() else []
        # Seeded as `grade` seeds this student in a regrade of the course's export: their name there,
        # and the submission folder's files (the export holds that folder's files as they are).
        grade = api.grade_one(assignment, _target(root / "submission"), name=name, protect=[results, *private],
                              seed_as=(seed_name(root), root / "submission"))
        data = results_json(grade)
        board = leaderboard(grade, assignment)
        if board:
            data["leaderboard"] = board
        if gate is not None:
            data = gate.apply(data)
        _write_json(results / "results.json", data)
        (results / "feedback.md").write_text(report.feedback_markdown(grade, assignment.title), encoding="utf-8")
        print(f"{name}: {grade.score:g} / {grade.max_score:g} ({grade.status}); isolation: {grade.isolation}")
    except Exception as exc:  # noqa: BLE001 - Gradescope must get a result whatever happened
        traceback.print_exc()
        reason = f"grader error: {type(exc).__name__}: {exc}"
        seed = _seed_anyway(assignment, root)
        _write_json(results / "results.json", _failure(assignment, reason, name, seed, started))
        print(f"{name}: not graded ({reason})", file=sys.stderr)
    return 0


# -- trying the zip on this machine ---------------------------------------------
def _unpack(zip_path: Path, source: Path) -> None:
    """Unpack as Gradescope does, keeping each file's mode (setup.sh and run_autograder are executable)."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = source / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            target.chmod(stat.S_IMODE(info.external_attr >> 16) or 0o644)


def _place_submission(submission: Path, folder: Path) -> None:
    """The student's upload in /autograder/submission: the files of a folder, else the file itself,
    read as the grader reads any (no link followed, no FIFO, sizes first)."""
    folder.mkdir(parents=True)
    try:
        if submission.is_dir() and not submission.is_symlink():
            left_out = snapshot(submission, folder)
            if left_out:
                print(f"not copied: {', '.join(left_out[:5])}", file=sys.stderr)
        else:
            (folder / submission.name).write_bytes(read_regular(submission, ZIP_MAX_BYTES))
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None


def student_view(results: dict) -> list[str]:
    """What Gradescope shows the student: at once, and once the instructor publishes grades."""
    ok, bad = "passed", "FAILED"
    now = [line for line in str(results.get("output", "")).splitlines()]
    later = []
    for test in results.get("tests", []):
        line = f"  {ok if test.get('status') == 'passed' else bad}  {test.get('name')}"
        detail = str(test.get("output") or "").strip().splitlines()
        if test.get("status") != "passed" and detail:
            line += f"\n            {detail[0][:300]}"
        (now if test.get("visibility") == "visible" else later).append(line)
    lines = ["At once, the student sees:", *[x if x.startswith("  ") else f"  {x}" for x in now]]
    lines += ["", "After you publish the grades, also:",
              f"  Score: {results.get('score', 0):g}" + (f" / {sum(t.get('max_score', 0) for t in results.get('tests', [])):g}" if results.get("tests") else "")]
    lines += later
    return lines


def try_zip(assignment, zip_path: Path, submission: Path) -> int:
    """Run the zip's setup.sh and run_autograder on `submission` in an emulated /autograder; print the result.

    A temporary folder plays /autograder: source/ (the zip unpacked), submission/,
    results/ and submission_metadata.json. setup.sh runs without apt-get (this
    machine's packages are left alone) and builds its venv from this Python, then
    run_autograder grades the submission exactly as Gradescope would. 0 when
    results.json was written, 1 otherwise.
    """
    scratch = Path(tempfile.mkdtemp(prefix="autograder-gradescope-try-"))
    try:
        scratch.chmod(0o755)  # as /autograder: an unprivileged grading uid must reach the venv's Python
        root = scratch / "autograder"
        source, results = root / "source", root / "results"
        _unpack(zip_path, source)
        results.mkdir(parents=True)
        _place_submission(submission, root / "submission")
        meta = {"id": 0, "users": [{"name": "Trial Student", "email": "trial@example.org", "id": 0}],
                "previous_submissions": []}
        (root / "submission_metadata.json").write_text(json.dumps(meta), encoding="utf-8")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AUTOGRADER_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update({ROOT_ENV: str(root), "AUTOGRADER_SETUP_NO_APT": "1",
                    "AUTOGRADER_SETUP_PYTHON": getattr(sys, "_base_executable", sys.executable)})
        print(f"trying {zip_path.name} on {submission} in {root} (as /autograder)", flush=True)
        print("setup.sh: installing the kit into a fresh venv, as Gradescope does when it builds the image "
              "(apt-get skipped here)...", flush=True)
        started = time.monotonic()
        setup = subprocess.run(["bash", str(source / "setup.sh")], cwd=source, env=env, capture_output=True, text=True)
        if setup.returncode != 0:
            print("\n".join((setup.stdout + setup.stderr).strip().splitlines()[-15:]), file=sys.stderr)
            print(f"error: setup.sh failed (exit code {setup.returncode}); Gradescope's image build would fail the same way",
                  file=sys.stderr)
            return 1
        print(f"setup.sh: done in {time.monotonic() - started:.0f} s; venv {_size_mb(root / 'venv'):.0f} MB", flush=True)
        shutil.copy2(source / "run_autograder", root / "run_autograder")  # as Gradescope does
        started = time.monotonic()
        run = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True)
        path = results / "results.json"
        if not path.is_file():
            print((run.stdout + run.stderr)[-3000:], file=sys.stderr)
            print("error: run_autograder wrote no results.json; Gradescope would show the student an error", file=sys.stderr)
            return 1
        print(f"run_autograder: done in {time.monotonic() - started:.1f} s (exit code {run.returncode})\n")
        print("\n".join(student_view(json.loads(path.read_text(encoding="utf-8")))))
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _size_mb(folder: Path) -> float:
    total = 0
    for p in folder.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            pass
    return total / 1024 / 1024
