"""The Gradescope autograder zip, run as Gradescope runs it, in an emulated /autograder tree.

The zip is built with the CLI, unpacked into <tmp>/autograder/source, and its real
run_autograder is run with AUTOGRADER_GRADESCOPE_ROOT pointing at the tree and
AUTOGRADER_PYTHON at this Python (setup.sh, which makes the venv, cannot run here).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder import assignment as assignments
from autograder import build, course_secret
from autograder.engine import grading, sandbox
from autograder.integrations import gradescope

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
NOTEBOOK = ROOT / "solutions" / "cnn" / "cnn.ipynb"
HANDOUT = ROOT / "student_template" / "cnn" / "cnn_layers.py"
FLIPPED = build.examples(CNN) / "flipped_kernel.py"
OURS = ("AUTOGRADER_ISOLATION", "AUTOGRADER_BWRAP", "AUTOGRADER_ROOT", "AUTOGRADER_SECRET",
        "AUTOGRADER_WORKER_PYTHON", "AUTOGRADER_GRADESCOPE_ROOT", "AUTOGRADER_PYTHON", "PYTHONPATH")
BASE_ENV = {k: v for k, v in os.environ.items() if k not in OURS}
NO_NAMESPACE = "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces."


def kit(*args, env=None, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          env={**BASE_ENV, **(env or {})}, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def work():
    """A scratch folder whose parents every user can traverse, as /autograder is in Gradescope.

    (pytest's tmp_path sits under a 0700 folder, which would hide the kit from
    an unprivileged uid whether or not run_autograder protects it.)
    """
    folder = Path(tempfile.mkdtemp(prefix="gradescope-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def zip_path(work):
    out = work / "autograder.zip"
    result = kit("gradescope", "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.is_file() and str(out) in result.stdout
    return out


@pytest.fixture(scope="module")
def fake_bwrap(work):
    path = work / "fake-bwrap"
    path.write_text(f"#!/bin/sh\necho '{NO_NAMESPACE}' >&2\nexit 1\n")
    path.chmod(0o755)
    return path


_trees = iter(range(1_000_000))


def emulate(work: Path, zip_path: Path, files: dict[str, Path | bytes], name: str | None = None) -> Path:
    """A fresh /autograder tree: source/ unpacked (with the zip's modes), submission/, results/."""
    root = work / f"tree{next(_trees)}" / "autograder"
    source = root / "source"
    for sub in (source, root / "submission", root / "results"):
        sub.mkdir(parents=True)
    root.parent.chmod(0o755)
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = source / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            target.chmod(stat.S_IMODE(info.external_attr >> 16))
    shutil.copy2(source / "run_autograder", root / "run_autograder")  # as Gradescope does
    for rel, content in files.items():
        target = root / "submission" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.read_bytes())
    if name:
        meta = {"id": 1, "users": [{"name": name, "email": "student@example.org", "id": 7}], "previous_submissions": []}
        (root / "submission_metadata.json").write_text(json.dumps(meta))
    return root


def kit_secret() -> str:
    """The secret of this checkout's kit commands run here without AUTOGRADER_SECRET (BASE_ENV): its file."""
    saved = os.environ.pop(course_secret.ENV, None)
    try:
        return course_secret.ensure(ROOT)
    finally:
        if saved is not None:
            os.environ[course_secret.ENV] = saved


def gradescope_seed(root: Path, name: str) -> int:
    """The seed `grade` draws for this student's submission folder, with the secret the zip carries."""
    secret = (root / "source" / course_secret.FILE_NAME).read_text().strip()
    return grading.seed_for("cnn", name, grading.code_fingerprint(root / "submission"), secret)


def run_autograder(root: Path, env=None) -> dict:
    result = subprocess.run(
        [str(root / "run_autograder")], capture_output=True, text=True, timeout=300, cwd=root,
        env={**BASE_ENV, "AUTOGRADER_GRADESCOPE_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable, **(env or {})},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    path = root / "results" / "results.json"
    assert path.is_file(), result.stdout + result.stderr
    data = json.loads(path.read_text())
    data["_log"] = result.stdout + result.stderr
    return data


def per_test(results: dict) -> list[tuple]:
    return [(t["name"], t["score"], t["max_score"], t["status"]) for t in results["tests"]]


def steal_source(target: Path) -> bytes:
    """The flipped-kernel mistake, plus a load-time grab of the reference at `target`."""
    hostile = f'''

# ---- hunting for the reference ----
def _steal():
    try:
        with open({str(target)!r}, encoding="utf-8") as f:
            code = f.read()
    except OSError as exc:
        print("DENIED", type(exc).__name__, flush=True)
        return
    namespace = {{"__name__": "stolen"}}
    exec(compile(code, "stolen", "exec"), namespace)
    for name in ("conv2d_forward", "conv2d_backward", "Conv2d"):
        globals()[name] = namespace[name]
    print("FOUND", flush=True)


_steal()
'''
    return FLIPPED.read_bytes() + hostile.encode()


# -- the zip ----------------------------------------------------------------------------
def test_zip_holds_scripts_engine_suites_and_reference_only(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        names = set(infos)
        for script in ("setup.sh", "run_autograder"):
            assert script in names
            mode = infos[script].external_attr >> 16
            assert stat.S_ISREG(mode) and mode & 0o111 == 0o111, (script, oct(mode))
        assert infos["README.md"].external_attr >> 16 & 0o111 == 0
        run_script = zf.read("run_autograder").decode()
        setup = zf.read("setup.sh").decode()
    expected = {
        "pyproject.toml", "README.md", "autograder/__main__.py", "autograder/cli.py",
        "autograder/engine/grading.py", "autograder/engine/sandbox/start.py", "autograder/engine/worker.py",
        "autograder/integrations/gradescope.py", "assignments/cnn/assignment.toml", "solutions/cnn/cnn_layers.py",
        "solutions/cnn/cnn.ipynb", "student_template/cnn/cnn_layers.py",
    }
    expected |= {f"autograder/suites/cnn/{p.name}" for p in (ROOT / "autograder/suites/cnn").glob("test_*.py")}
    expected |= {f"assignments/cnn/public_tests/{p.name}" for p in (ROOT / "assignments/cnn/public_tests").glob("test_*.py")}
    assert expected <= names, sorted(expected - names)
    tops = {n.split("/")[0] for n in names}
    assert tops == {"setup.sh", "run_autograder", "pyproject.toml", "README.md", "autograder", "assignments",
                    "solutions", "student_template", ".course-secret"}
    # The course's secret, which the kit made on the first command that needed it, so the zip grades with it.
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.read(".course-secret").decode().strip() == kit_secret() != ""
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or ".venv" in n or n.startswith("tests/")]
    assert [n for n in names if n.startswith("student_template/")] == ["student_template/cnn/cnn_layers.py"]
    # The zip's copies are the kit's files, byte for byte.
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.read("solutions/cnn/cnn_layers.py") == REFERENCE.read_bytes()
        assert zf.read("autograder/engine/worker.py") == (ROOT / "autograder/engine/worker.py").read_bytes()
    assert "apt-get install" in setup and "bubblewrap" in setup and "python3-venv" in setup
    assert "pip install" in setup and "venv" in setup
    assert 'chmod -R go-rwx "$entry"' in run_script and "gradescope-run --root" in run_script


def test_zip_ships_no_dev_tool_of_the_suites(zip_path):
    """A suite's Python files in the zip are what grading loads: its check files, its crashes.py and what
    they import. A dev tool (bench/suite_coverage.py, which writes COVERAGE.md) lives in bench/, left out."""
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
    shipped = {n for n in names if n.startswith("autograder/suites/") and n.endswith(".py")}
    suites = ROOT / "autograder" / "suites"
    for path in [*suites.glob("*/test_*.py"), *suites.glob("*/crashes.py")]:
        importlib.import_module(f"autograder.suites.{path.parent.name}.{path.stem}")
    loaded = {Path(m.__file__).resolve().relative_to(ROOT).as_posix() for name, m in list(sys.modules.items())
              if name.startswith("autograder.suites") and getattr(m, "__file__", None)}
    assert any(n.endswith("/test_Conv2d.py") for n in shipped) and sorted(shipped - loaded) == []
    assert not [n for n in names if n.startswith("bench/")]


def test_zip_is_refused_when_the_built_files_are_stale(work):
    # A kit copy whose reference differs from what assignments/ builds.
    copy = work / "stale-kit"
    for rel in ("assignments", "autograder", "solutions", "student_template"):
        shutil.copytree(ROOT / rel, copy / rel, ignore=shutil.ignore_patterns("__pycache__"))
    for rel in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / rel, copy / rel)
    (copy / "solutions/cnn/cnn_layers.py").write_text(REFERENCE.read_text() + "\n# edited by hand\n")
    result = kit("gradescope", "--out", copy / "autograder.zip", env={"AUTOGRADER_ROOT": str(copy)})
    assert result.returncode == 2
    assert "stale" in result.stderr and "solutions/cnn/cnn_layers.py" in result.stderr
    assert not (copy / "autograder.zip").exists()


# -- grading in the emulated Gradescope tree ----------------------------------------
@pytest.mark.slow
def test_reference_scores_full_marks_and_the_kit_is_hidden(work, zip_path):
    root = emulate(work, zip_path, {"cnn_layers.py": REFERENCE})
    results = run_autograder(root)
    assert results["score"] == 100, [t for t in results["tests"] if t["status"] != "passed"]
    assert len(results["tests"]) > 20 and all(t["status"] == "passed" for t in results["tests"])
    # No metadata: named "submission", seeded from that name, the folder's files and the zip's secret.
    assert results["extra_data"]["submission"] == "submission"
    assert results["extra_data"]["seed"] == gradescope_seed(root, "submission")
    # The text shown at once counts only the public checks: the total includes hidden ones.
    public = [t for t in results["tests"] if t["visibility"] == "visible"]
    assert public and f"Public checks: {len(public)} of {len(public)} passed" in results["output"]
    assert "Score" not in results["output"]
    assert (root / "results" / "feedback.md").read_text().count("Every check passed") == 1
    # run_autograder took every permission for others off the unpacked kit.
    for path in [root / "source", *(root / "source").rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path


@pytest.mark.slow
def test_untouched_handout_scores_zero_with_exit_code_zero(work, zip_path):
    results = run_autograder(emulate(work, zip_path, {"cnn_layers.py": HANDOUT}))
    assert results["score"] == 0
    assert results["tests"] and all(t["score"] == 0 for t in results["tests"])
    assert any("NotImplementedError" in t["output"] for t in results["tests"])


@pytest.mark.slow
def test_mistake_gets_the_same_per_test_scores_as_the_grade_command(work, zip_path):
    student = "Ada Lovelace"
    root = emulate(work, zip_path, {"cnn_layers.py": FLIPPED}, name=student)
    results = run_autograder(root)
    assert results["extra_data"]["submission"] == student
    assert results["extra_data"]["seed"] == gradescope_seed(root, "ada_lovelace")
    # The same files under the name `grade` gives her in an export (a folder of what she handed
    # in), graded by `python -m autograder grade`.
    local = work / "local" / "ada_lovelace"
    local.mkdir(parents=True)
    shutil.copy(FLIPPED, local / "cnn_layers.py")
    out = work / "local-out"
    graded = kit("grade", local, "--out", out, "--quiet")
    assert graded.returncode == 0, graded.stderr
    expected = json.loads((out / "ada_lovelace" / "results.json").read_text())
    assert expected["extra_data"]["seed"] == results["extra_data"]["seed"]
    assert 0 < results["score"] < 100
    assert results["score"] == expected["score"]
    assert per_test(results) == per_test(expected)
    assert results["extra_data"]["by_item"] == expected["extra_data"]["by_item"]
    assert any("flip" in t["output"].lower() for t in results["tests"] if t["status"] == "failed")


@pytest.mark.slow
def test_submission_forms_gradescope_may_hand_over(work, zip_path):
    # The worked notebook beside the untouched handout module: the notebook is graded
    # (needs the handout inside the zip to recognise it).
    both = run_autograder(emulate(work, zip_path, {"cnn_layers.py": HANDOUT, "cnn.ipynb": NOTEBOOK}))
    assert both["score"] == 100, both["output"]
    assert "graded cnn.ipynb" in both["output"]
    # Files in a nested folder.
    nested = run_autograder(emulate(work, zip_path, {"my work/hw3/cnn_layers.py": REFERENCE}))
    assert nested["score"] == 100, nested["output"]
    # A zip uploaded on its own.
    packed = work / "upload.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        zf.write(REFERENCE, "hw/cnn_layers.py")
    zipped = run_autograder(emulate(work, zip_path, {"hw.zip": packed}))
    assert zipped["score"] == 100, zipped["output"]
    # Nothing gradable: 0 with the reason shown.
    empty = run_autograder(emulate(work, zip_path, {"notes.txt": b"I ran out of time"}))
    assert empty["score"] == 0 and empty["tests"]
    assert "no cnn_layers.py or cnn.ipynb found" in empty["output"]


@pytest.mark.slow
def test_a_grader_crash_still_gives_gradescope_a_result(work, zip_path):
    root = emulate(work, zip_path, {"cnn_layers.py": REFERENCE}, name="Grace Hopper")
    (root / "source" / "solutions" / "cnn" / "cnn_layers.py").unlink()
    results = run_autograder(root)
    assert results["score"] == 0 and results["tests"] == []
    assert "could not grade" in results["output"] and "reference" in results["output"]
    assert results["extra_data"]["submission"] == "Grace Hopper"


@pytest.mark.slow
def test_inputs_are_seeded_as_in_a_regrade_of_the_export(work, zip_path):
    # grade names an export's student by the slug of their name (exports.py) and seeds them from the
    # files of their submission folder, as Gradescope's run does: the same seed in both.
    files = {"hw3/cnn_layers.py": REFERENCE, "hw3/notes.txt": b"not code"}
    results = run_autograder(emulate(work, zip_path, files, name="Grace B. Hopper"))
    assert results["extra_data"]["submission"] == "Grace B. Hopper"
    export = work / "export"
    for rel, source in files.items():
        (export / "submission_7" / rel).parent.mkdir(parents=True, exist_ok=True)
        (export / "submission_7" / rel).write_bytes(source if isinstance(source, bytes) else source.read_bytes())
    (export / "submission_metadata.yml").write_text("submission_7:\n  :submitters:\n  - :name: Grace B. Hopper\n")
    out = work / "export-out"
    graded = kit("grade", export, "--export", "gradescope", "--out", out, "--quiet")
    assert graded.returncode == 0, graded.stderr
    regraded = json.loads((out / "grace_b_hopper" / "results.json").read_text())
    assert regraded["extra_data"]["seed"] == results["extra_data"]["seed"]
    assert per_test(regraded) == per_test(results)


@pytest.mark.slow
def test_two_fresh_kits_reveal_different_hidden_cases_for_the_same_submission(work):
    """Each kit checkout makes its own course secret on its first `gradescope`, and its zip grades with
    it: nobody holding another copy of the kit can predict the cases its feedback reveals."""
    rounds_up = (REFERENCE.read_text() + (
        "\n\ndef conv_output_size(size, kernel, stride=1, padding=0):\n"
        "    import math\n"
        "    if kernel < 1 or stride < 1 or padding < 0 or size + 2 * padding < kernel:\n"
        "        raise ValueError('does not fit')\n"
        "    return math.ceil((size + 2 * padding - kernel) / stride) + 1\n")).encode()
    revealed, secrets = [], []
    for n in (1, 2):
        copy = work / f"fresh-kit-{n}"
        for rel in ("assignments", "autograder", "solutions", "student_template"):
            shutil.copytree(ROOT / rel, copy / rel, ignore=shutil.ignore_patterns("__pycache__"))
        for rel in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / rel, copy / rel)
        made = kit("gradescope", "--out", copy / "autograder.zip", env={"AUTOGRADER_ROOT": str(copy)})
        assert made.returncode == 0, made.stderr
        assert "made the course secret" in made.stderr
        secrets.append(course_secret.path(copy).read_text().strip())
        results = run_autograder(emulate(work, copy / "autograder.zip", {"cnn_layers.py": rounds_up}, name="Ada"))
        # The failing cases the hidden feedback names (a check whose points wait on others names none;
        # the public checks' cases are fixed, they ship with the handout).
        revealed.append([t["output"] for t in results["tests"] if t["name"].startswith("conv_output_size")
                         and t["visibility"] != "visible" and t["status"] == "failed"
                         and "conv_output_size(" in t["output"]])
    assert secrets[0] != secrets[1] and kit_secret() not in secrets
    assert len(revealed[0]) >= 3 and len(revealed[1]) >= 3, revealed
    # Drawn from families of small integers, a case may come up in both by chance (one in six did
    # once); what the fixed cases gave was the same list twice.
    common = set(revealed[0]) & set(revealed[1])
    assert set(revealed[0]) != set(revealed[1]) and len(common) <= min(map(len, revealed)) // 2, revealed


def test_the_kit_runs_from_the_unpacked_source_and_a_dead_python_still_gives_a_result(work, zip_path):
    # Remove the runner from the unpacked kit: if run_autograder imported the kit from
    # anywhere but source/ (this checkout is installed in the venv), grading would succeed.
    root = emulate(work, zip_path, {"cnn_layers.py": REFERENCE})
    (root / "source" / "autograder" / "integrations" / "gradescope.py").unlink()
    results = run_autograder(root)
    assert results["score"] == 0
    assert "could not run (exit code 1)" in results["output"]
    assert "gradescope" in results["_log"]  # the ImportError, in the autograder's log


# -- Gradescope's containers refuse namespaces: the unprivileged-user fallback ---------
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the user level needs root")


@pytest.mark.slow
@needs_root
def test_refused_namespaces_fall_back_to_the_user_level_with_identical_grades(work, zip_path, fake_bwrap, public_python):
    # Gradescope's Python lives under /usr, readable by the worker's uid.
    fallback = {"AUTOGRADER_BWRAP": str(fake_bwrap), "AUTOGRADER_WORKER_PYTHON": public_python}
    for source, name in ((REFERENCE, "Alan Turing"), (FLIPPED, "Ada Lovelace")):
        auto = run_autograder(emulate(work, zip_path, {"cnn_layers.py": source}, name=name))
        user = run_autograder(emulate(work, zip_path, {"cnn_layers.py": source}, name=name), env=fallback)
        isolation = user["extra_data"]["isolation"]
        assert isolation.startswith("Unprivileged user"), isolation
        # run_autograder's chmod left nothing of the kit readable: no warning about it.
        assert "Warning" not in isolation and "could read" not in isolation, isolation
        assert user["score"] == auto["score"]
        assert per_test(user) == per_test(auto)
    assert user["score"] < 100


@pytest.mark.slow
@needs_root
def test_student_code_under_the_user_level_cannot_read_the_reference(work, zip_path, fake_bwrap, public_python):
    fallback = {"AUTOGRADER_BWRAP": str(fake_bwrap), "AUTOGRADER_WORKER_PYTHON": public_python}
    root = emulate(work, zip_path, {}, name="Mallory")
    target = root / "source" / "solutions" / "cnn" / "cnn_layers.py"
    thief = steal_source(target)
    (root / "submission" / "cnn_layers.py").write_bytes(thief)

    # Control: before run_autograder's chmod the unpacked reference is readable by others,
    # and the uid level refuses to grade at all (one line, with the chmod that fixes it)
    # rather than let student code read it.
    control_dir = work / "control"
    control_dir.mkdir()
    (control_dir / "Mallory.py").write_bytes(thief)
    assert sandbox.readable_by_others([target]) == [str(target)]
    graded = kit("grade", control_dir / "Mallory.py", "--out", work / "control-out", "--quiet",
                 env={**fallback, "AUTOGRADER_ROOT": str(root / "source"), "AUTOGRADER_ISOLATION": "user"},
                 cwd=root / "source")
    assert graded.returncode == 2, graded.stderr
    assert "chmod -R o-rwx" in graded.stderr and str(root / "source") in graded.stderr
    assert len(graded.stderr.strip().splitlines()) == 1
    assert not (work / "control-out" / "Mallory").exists()

    # In Gradescope's flow: the read is refused and the grade is its honest work's.
    results = run_autograder(root, env=fallback)
    assert results["extra_data"]["isolation"].startswith("Unprivileged user")
    assert sandbox.readable_by_others([target]) == []
    honest = run_autograder(emulate(work, zip_path, {"cnn_layers.py": FLIPPED}, name="Mallory"), env=fallback)
    assert results["score"] == honest["score"] < 100
    assert per_test(results) == per_test(honest)
    assert "reads files" in results["extra_data"]["flags"]
    assert any(f["kind"] == "read-file" for f in results["extra_data"]["static_findings"])


@pytest.mark.slow
@needs_root
def test_student_code_under_the_user_level_reads_nothing_gradescope_keeps(work, zip_path, fake_bwrap, public_python):
    """Before: submission_metadata.json stayed readable, and with it earlier results' hidden checks."""
    fallback = {"AUTOGRADER_BWRAP": str(fake_bwrap), "AUTOGRADER_WORKER_PYTHON": public_python}
    root = emulate(work, zip_path, {}, name="Mallory")
    meta = json.loads((root / "submission_metadata.json").read_text())
    meta["previous_submissions"] = [{"submission_time": "2024-03-01T09:00:00-07:00", "score": 50.0,
                                     "results": {"tests": [{"name": "hidden check", "output": "HIDDEN-FAILURE-TEXT"}]}}]
    (root / "submission_metadata.json").write_text(json.dumps(meta))
    (root / "submission_metadata.json").chmod(0o644)
    # Every file Gradescope keeps beside the kit: the student's code may read none (it loses its
    # conv_output_size the moment it reads one, so a leak shows in the score).
    targets = [root / "submission_metadata.json", root / "run_autograder", root / "results"]
    probe = f"""

def _peek():
    for path in {[str(t) for t in targets]!r}:
        try:
            with open(path, "rb") as f:
                f.read(1)
        except IsADirectoryError:
            import os
            try:
                os.listdir(path)
            except OSError:
                continue
        except OSError:
            continue
        print("READ", path, flush=True)
        global conv_output_size
        conv_output_size = lambda *a, **k: -1
        return


_peek()
"""
    (root / "submission" / "cnn_layers.py").write_bytes(REFERENCE.read_bytes() + probe.encode())
    assert sandbox.readable_by_others([root / "submission_metadata.json"])  # the control: readable before
    results = run_autograder(root, env=fallback)
    assert results["extra_data"]["isolation"].startswith("Unprivileged user"), results["extra_data"]["isolation"]
    assert results["score"] == 100, [t["output"] for t in results["tests"] if t["status"] != "passed"][:3]
    assert not sandbox.readable_by_others([root / "submission_metadata.json"])


def test_gradescope_refuses_the_user_level_while_its_metadata_is_readable(tmp_path, monkeypatch):
    """run() protects every entry of /autograder but the venv: the grader refuses, not the student's grade."""
    from autograder.engine import detection

    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "venv").mkdir()
    (root / "submission_metadata.json").write_text("{}")
    seen = {}

    class Spy(grading.Grader):
        def __init__(self, assignment, **kw):
            seen["protect"] = [Path(p) for p in kw.get("protect", [])]
            raise RuntimeError("stop here")

    monkeypatch.setattr(grading, "Grader", Spy)
    gradescope.run(CNN, root)
    assert root / "submission_metadata.json" in seen["protect"] and root / "submission" in seen["protect"]
    assert root / "venv" not in seen["protect"]


# -- trying the zip before uploading it ------------------------------------------------
@pytest.mark.slow
def test_try_runs_setup_and_run_autograder_and_shows_what_the_student_sees(tmp_path):
    student = tmp_path / "student"
    student.mkdir()
    shutil.copyfile(FLIPPED, student / "cnn_layers.py")
    # --try names its student "Trial Student" and puts the file in its submission folder: inputs
    # seeded as Gradescope would seed them, with the secret the zip carries (the kit's).
    placed = tmp_path / "placed"
    placed.mkdir()
    shutil.copyfile(FLIPPED, placed / "cnn_layers.py")
    seed = grading.seed_for("cnn", "trial_student", grading.code_fingerprint(placed), kit_secret())
    direct = kit("grade", student / "cnn_layers.py", "--out", tmp_path / "direct", "--quiet", "--seed", seed)
    assert direct.returncode == 0, direct.stderr
    expected = json.loads((tmp_path / "direct" / "cnn_layers" / "results.json").read_text())["score"]
    before = set(Path(tempfile.gettempdir()).glob("autograder-gradescope-try-*"))
    # Relative paths, from the student's folder, as an instructor would type them.
    result = kit("gradescope", "--out", "autograder.zip", "--try", "cnn_layers.py", cwd=student)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (student / "autograder.zip").is_file()
    out = result.stdout
    assert "setup.sh: done" in out and "apt-get skipped" in out
    now, later = out.split("At once, the student sees:")[1].split("After you publish the grades, also:")
    # At once: the public checks only, never the total.
    assert "Public checks:" in now and "Score:" not in now
    assert "FAILED  conv2d_forward" in now and "It matches what you get if you flip the kernel" in out
    # After publishing: the score Gradescope would record, the grade command's.
    shown = float(re.search(r"Score: ([\d.]+) / 100", later)[1])
    assert shown == pytest.approx(expected) and 0 < shown < 100
    assert set(Path(tempfile.gettempdir()).glob("autograder-gradescope-try-*")) == before


# -- what the image installs ----------------------------------------------------------
# Import name -> distribution, for every third-party module the engine imports.
DISTRIBUTIONS = {"numpy": "numpy", "pytest": "pytest", "_pytest": "pytest", "nbformat": "nbformat", "tqdm": "tqdm",
                 "jinja2": "jinja2", "markupsafe": "markupsafe", "yaml": "pyyaml",
                 "tomli": "tomli", "pyseccomp": "pyseccomp"}


def _imported_top_level_names() -> dict[str, set[str]]:
    """{top-level module: files of autograder/ that import it}, imports inside functions too."""
    import ast

    names: dict[str, set[str]] = {}
    for path in (ROOT / "autograder").rglob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
        for name in found:
            names.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
    return names


def test_grading_installs_exactly_what_grading_imports():
    import sys as _sys

    if _sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = {re.split(r"[<>=;\[ ]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    ours = {"autograder"} | {path.stem for path in (ROOT / "autograder").rglob("*.py")}  # worker.py imports wire
    imported = _imported_top_level_names()
    # The instructors' similarity step (the [similarity] extra) is the one module that imports
    # copydetect, and grading never imports that module.
    assert imported.pop("copydetect") == {"autograder/integrations/similarity.py"}
    # The grading service (the [service] extra) is one module too, which grading never imports.
    for name in ("starlette", "uvicorn", "sqlalchemy", "huey"):
        assert imported.pop(name) == {"autograder/integrations/service.py"}, name
    grading_files = [*(ROOT / "autograder" / "engine").glob("*.py"), ROOT / "autograder" / "integrations" / "gradescope.py"]
    for path in grading_files:
        imports = [line for line in path.read_text(encoding="utf-8").splitlines() if re.match(r"\s*(from|import)\s", line)]
        assert not [line for line in imports if "similarity" in line or "service" in line], path
    third_party = set(imported) - set(_sys.stdlib_module_names) - ours
    # Suites import the engine's helpers and numpy only; otter and Jupyter are never imported.
    assert third_party <= set(DISTRIBUTIONS), third_party - set(DISTRIBUTIONS)
    assert {DISTRIBUTIONS[name] for name in third_party} | {"tomli"} == required
    assert "otter-grader" not in required and not any("jupyter" in d or "notebook" in d for d in required)
    # The student extra and the handout's requirements carry the notebook's tools.
    assert {"otter-grader", "notebook"} <= {re.split(r"[<>=]", d)[0] for d in project["optional-dependencies"]["student"]}
    handout = (ROOT / "student_template" / "cnn" / "requirements.txt").read_text().split()
    assert {"numpy", "pytest", "otter-grader", "notebook"} <= set(handout)
    # The image installs the kit with no extra.
    assert 'pip install --quiet -e "$SOURCE"\n' in gradescope.SETUP_SH
