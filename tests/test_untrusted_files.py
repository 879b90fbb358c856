"""No student file runs, or is read through a link, outside the sandbox.

Issue 26. Every entry point is started from a folder of planted modules, as
an unzipped submission may leave them where the instructor works: a package
named `autograder/`, `numpy.py`, `pytest.py`, a `conftest.py`, a
`sitecustomize.py`... Each plant writes a marker file when it is imported;
none may be, and the reference must still score 100. Files found inside a
student's folder are never read through a symbolic or hard link to a file
outside it, and their size is checked before anything is read or copied.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from autograder import assignment as assignments
from autograder.engine import batch, fingerprints, submission
from autograder.integrations import check, gradescope

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "kit"
CNN = assignments.load("cnn", ROOT)
CAPSTONE = assignments.load("cnn_capstone", ROOT)
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
SECRET_TEXT = "TOP-SECRET-LINE-0123456789"
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "PYTEST_")) and k != "PYTHONPATH"}

# Modules and files that Python, pytest or the kit's own steps would pick up from the current
# folder if it were on the import path or consulted for configuration.
PLANTED_MODULES = ["numpy", "pytest", "conftest", "sitecustomize", "usercustomize", "nbformat", "tqdm", "yaml",
                   "matplotlib", "runpy", "planted_plugin"]
PLANTED_PACKAGES = ["autograder", "pip", "venv", "compileall"]


def plant(folder: Path, marks: Path) -> None:
    """Fill `folder` with modules that leave a file in `marks` (named after them) when imported."""
    marks.mkdir(parents=True, exist_ok=True)

    def body(name: str) -> str:
        return (f"open({str(marks / name)!r}, 'w').write('imported')\n"
                f"print('PLANTED {name} RAN')\n")

    for name in PLANTED_MODULES:
        (folder / f"{name}.py").write_text(body(name))
    for name in PLANTED_PACKAGES:
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(body(name))
        (folder / name / "__main__.py").write_text(body(f"{name}.__main__"))
    # pytest reads its configuration from the folder it is started in when nothing else decides.
    (folder / "pytest.ini").write_text("[pytest]\naddopts = -p planted_plugin\n")


@pytest.fixture
def planted(tmp_path):
    folder, marks = tmp_path / "unzipped", tmp_path / "marks"
    folder.mkdir()
    plant(folder, marks)
    return folder, marks


def run_kit(args, cwd: Path, env=None, timeout=600):
    return subprocess.run(["bash", str(KIT), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env={**BASE_ENV, **(env or {})}, timeout=timeout)


# -- every entry point, started from a folder of planted modules ----------------------------

@pytest.mark.slow
def test_kit_grade_from_a_planted_folder_runs_none_of_it(planted, tmp_path):
    folder, marks = planted
    shutil.copyfile(REFERENCE, folder / "cnn_layers.py")
    out = tmp_path / "out"
    done = run_kit(["grade", folder / "cnn_layers.py", "--out", out, "--quiet"], cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in marks.iterdir()) == []
    assert "PLANTED" not in done.stdout + done.stderr
    grade = json.loads((out / "cnn_layers" / "grade.json").read_text())
    assert grade["score"] == 100


@pytest.mark.slow
def test_kit_check_from_a_planted_folder_runs_none_of_it(planted):
    folder, marks = planted
    shutil.copyfile(REFERENCE, folder / "cnn_layers.py")
    done = run_kit(["check", "cnn_layers.py"], cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in marks.iterdir()) == []
    assert "PLANTED" not in done.stdout + done.stderr
    assert "Public checks passed: 33 of 33" in done.stdout


@pytest.mark.slow
def test_run_autograder_from_a_planted_folder_runs_none_of_it(planted, tmp_path):
    """Gradescope's runner, with the planted modules in the folder it is started from and in
    the submission itself."""
    folder, marks = planted
    work = Path(tempfile.mkdtemp(prefix="gradescope-planted-"))
    try:
        work.chmod(0o755)
        zip_path = work / "autograder.zip"
        built = subprocess.run([sys.executable, "-I", "-m", "autograder", "gradescope", "--out", str(zip_path)],
                               cwd=ROOT, capture_output=True, text=True, env=BASE_ENV, timeout=300)
        assert built.returncode == 0, built.stderr
        root = work / "autograder"
        gradescope._unpack(zip_path, root / "source")
        (root / "results").mkdir()
        (root / "submission").mkdir()
        shutil.copyfile(REFERENCE, root / "submission" / "cnn_layers.py")
        plant(root / "submission", marks)
        (root / "submission_metadata.json").write_text(json.dumps({"users": [{"name": "Ada"}]}))
        shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
        done = subprocess.run([str(root / "run_autograder")], cwd=folder, capture_output=True, text=True, timeout=300,
                              env={**BASE_ENV, gradescope.ROOT_ENV: str(root), "AUTOGRADER_PYTHON": sys.executable,
                                   "PYTHONPATH": str(folder)})
        results = json.loads((root / "results" / "results.json").read_text())
        assert results["score"] == 100, done.stdout + done.stderr
        assert sorted(p.name for p in marks.iterdir()) == []
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_every_python_the_launchers_start_is_isolated():
    """./kit, setup.sh and run_autograder start Python only in isolated mode (-I), where the
    current folder, PYTHONPATH and the user's site-packages are not on the import path.
    (`./kit test` alone runs pytest in the kit's own folder, on the kit's own tests.)"""
    import re

    scripts = {"kit": KIT.read_text(), "setup.sh": gradescope.SETUP_SH, "run_autograder": gradescope.RUN_AUTOGRADER}
    for name, text in scripts.items():
        code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        starts = [line for line in code if re.search(r'(python\w*"?|\$PYTHON\w*"?)\s+-', line)]
        assert starts, name
        for line in starts:
            if "-m pytest" in line:
                assert 'cd "$kit"' in line, line
                continue
            assert re.search(r'(python\w*"?|\$PYTHON\w*"?)\s+-I\b', line), (name, line)


# -- links and sizes in a student's folder --------------------------------------------------

@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "private" / "secret.txt"
    path.parent.mkdir()
    path.write_text(f"x = 1\n# {SECRET_TEXT}\n")
    return path


def test_check_refuses_a_linked_module_without_reading_it(tmp_path, secret, capsys):
    from autograder.errors import UsageError

    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "cnn_layers.py").symlink_to(secret)
    with pytest.raises(UsageError, match="symbolic link") as caught:
        check.run_check(CNN, folder)
    assert SECRET_TEXT not in str(caught.value) + capsys.readouterr().out


def test_check_refuses_a_linked_capstone_module(tmp_path, secret, capsys):
    from autograder.errors import UsageError

    folder = tmp_path / "student"
    folder.mkdir()
    (folder / f"{CAPSTONE.module}.py").symlink_to(secret)
    shutil.copyfile(REFERENCE, folder / "cnn_layers.py")
    with pytest.raises(UsageError, match="symbolic link"):
        check.run_check(CAPSTONE, folder)
    assert SECRET_TEXT not in capsys.readouterr().out


def test_check_refuses_a_huge_file_before_copying_it(tmp_path):
    """A 4 GiB sparse file is refused by its size, before a byte is copied."""
    from autograder.errors import UsageError

    folder = tmp_path / "student"
    folder.mkdir()
    with open(folder / "cnn_layers.py", "wb") as f:
        f.truncate(4 << 30)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(UsageError, match="larger than 512 KB"):
        check._target(CNN, folder, scratch)
    assert sum(p.stat().st_size for p in scratch.rglob("*") if p.is_file()) == 0


def test_a_folder_submission_never_reads_through_a_link(tmp_path, secret):
    # A symbolic link: ignored and named.
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "cnn_layers.py").symlink_to(secret)
    sub = submission.resolve(linked, CNN.module, CNN.notebook)
    assert sub.problem and SECRET_TEXT not in sub.source
    assert any("follows no link" in n and "cnn_layers.py (a symbolic link)" in n for n in sub.notes), sub.notes
    # A hard link to a file with a name outside the folder: ignored and named too.
    hard = tmp_path / "hard"
    hard.mkdir()
    os.link(secret, hard / "cnn_layers.py")
    sub = submission.resolve(hard, CNN.module, CNN.notebook)
    assert sub.problem and SECRET_TEXT not in sub.source
    assert any("hard link to a file outside the folder" in n for n in sub.notes)
    # Two names of one file, both inside the folder, are the student's own: read.
    both = tmp_path / "both"
    (both / "backup").mkdir(parents=True)
    shutil.copyfile(REFERENCE, both / "cnn_layers.py")
    os.link(both / "cnn_layers.py", both / "backup" / "old.py")
    sub = submission.resolve(both, CNN.module, CNN.notebook)
    assert sub.problem is None and "def conv2d_forward" in sub.source


def test_a_fifo_or_device_in_a_folder_is_refused_at_once(tmp_path):
    folder = tmp_path / "fifo"
    folder.mkdir()
    os.mkfifo(folder / "cnn_layers.py")
    sub = submission.resolve(folder, CNN.module, CNN.notebook)  # would block forever if opened for reading
    assert sub.problem
    with pytest.raises(ValueError, match="not a regular file"):
        submission.read_regular(Path("/dev/zero"), 1024, follow=True)


def test_a_linked_file_of_a_class_folder_is_named_and_not_graded(tmp_path, secret, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copyfile(REFERENCE, folder / "alice.py")
    shutil.copyfile(REFERENCE, folder / "bob.py")
    (folder / "mallory.py").symlink_to(secret)
    files = batch.class_files(folder, CNN)
    assert [p.name for p in files] == ["alice.py", "bob.py"]
    err = capsys.readouterr().err
    assert "mallory.py" in err and "follows no link" in err


def test_gradescope_never_unpacks_a_linked_zip(tmp_path):
    inner = tmp_path / "elsewhere.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("cnn_layers.py", REFERENCE.read_text())
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "hw.zip").symlink_to(inner)
    assert gradescope._target(folder) == folder
    sub = submission.resolve(gradescope._target(folder), CNN.module, CNN.notebook)
    assert sub.problem and any("hw.zip" in n for n in sub.notes)


def test_a_hard_linked_or_special_file_of_a_class_folder_is_named_and_not_graded(tmp_path, secret, capsys):
    """Red team: alice.py hard-linked to a private reference scored 100; a FIFO was dropped unnamed."""
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copyfile(REFERENCE, folder / "bob.py")
    shutil.copyfile(REFERENCE, folder / "carol.py")
    os.link(secret, folder / "alice.py")
    os.mkfifo(folder / "dave.py")
    files = batch.class_files(folder, CNN)
    assert [p.name for p in files] == ["bob.py", "carol.py"]
    err = capsys.readouterr().err
    assert "alice.py" in err and "dave.py" in err


def test_a_named_path_that_is_a_link_is_refused(tmp_path, secret):
    """Red team: `grade cls/*` named a student's link to a private folder, which scored 100."""
    private = secret.parent
    shutil.copyfile(REFERENCE, private / "cnn_layers.py")
    (tmp_path / "mallory").symlink_to(private)
    sub = submission.resolve(tmp_path / "mallory", CNN.module, CNN.notebook)
    assert sub.problem and "symbolic link" in sub.problem and not sub.source
    (tmp_path / "mallory.py").symlink_to(private / "cnn_layers.py")
    sub = submission.resolve(tmp_path / "mallory.py", CNN.module, CNN.notebook)
    assert sub.problem and "symbolic link" in sub.problem and not sub.source


def test_a_huge_file_beside_the_code_is_never_read(tmp_path, monkeypatch):
    """Red team: a 1 GiB sparse data.bin beside cnn_layers.py was read whole for its fingerprint."""
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copyfile(REFERENCE, folder / "cnn_layers.py")
    with open(folder / "data.bin", "wb") as f:
        f.truncate(1 << 30)
    with open(folder / "huge.py", "wb") as f:
        f.truncate(1 << 30)
    read = []
    real_read = submission.read_regular
    monkeypatch.setattr(fingerprints, "read_regular", lambda path, *a, **k: read.append(Path(path).name) or real_read(path, *a, **k))
    fingerprints.submission_fingerprint(folder)
    assert "data.bin" not in read
    sub = submission.resolve(folder, CNN.module, CNN.notebook)
    assert sub.problem is None and any("huge.py (too large" in n for n in sub.notes), sub.notes


def test_a_folder_swapped_for_a_link_while_it_is_read_leads_nowhere(tmp_path, secret):
    """Red team: swapping a subfolder and a link to a private folder (renameat2 RENAME_EXCHANGE)
    while it was read made the grader read the reference. The snapshot walks descriptors: a
    folder opened is read whatever its path comes to name, and a link is never opened."""
    import ctypes
    import threading

    private = secret.parent
    shutil.copyfile(REFERENCE, private / "cnn_layers.py")
    student = tmp_path / "alice"
    (student / "sub").mkdir(parents=True)
    (student / "sub" / "cnn_layers.py").write_text("DECOY = 1\n")
    (student / "evil").symlink_to(private)
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, exchange = -100, 2
    stop = threading.Event()

    def swap():
        a, b = str(student / "sub").encode(), str(student / "evil").encode()
        while not stop.is_set():
            libc.renameat2(at_fdcwd, a, at_fdcwd, b, exchange)

    thread = threading.Thread(target=swap, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            scratch = tmp_path / "snap"
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            submission.snapshot(student, scratch)
            for copied in scratch.rglob("*.py"):
                assert "def conv2d_forward" not in copied.read_text(), "read through the swapped link"
    finally:
        stop.set()
        thread.join()


def _plain_isolation():
    from autograder.engine import sandbox
    from autograder.engine.kinds import Level

    return sandbox.Isolation(level=Level.NONE, python=sys.executable)


def test_a_worker_that_cannot_start_leaves_no_folder(tmp_path, monkeypatch):
    """Red team: empty /tmp/autograder-worker-* folders stayed behind after user-level runs."""
    from autograder.engine import sandbox

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def refuse(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")  # a full process cap

    monkeypatch.setattr(subprocess, "Popen", refuse)
    read, write = os.pipe()
    try:
        with pytest.raises(OSError):
            sandbox.spawn(_plain_isolation(), read, write, write)
    finally:
        os.close(read)
        os.close(write)
    assert not list(tmp_path.glob("autograder-worker-*"))


def test_workers_still_running_at_exit_are_ended_with_their_folders(tmp_path, monkeypatch):
    """A spare worker started for a next submission that never came: the process leaves with
    os._exit, which cleans nothing; sandbox.shutdown() (called first) ends it and its folder."""
    from autograder.engine import sandbox

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    read, write = os.pipe()
    try:
        launch = sandbox.spawn(_plain_isolation(), read, write, write)
    finally:
        os.close(read)
        os.close(write)
    assert launch.workdir and Path(launch.workdir).is_dir()
    sandbox.shutdown()
    assert not Path(launch.workdir).exists() and launch.process.poll() is not None
    assert launch.process.pid not in sandbox.live_workers()
