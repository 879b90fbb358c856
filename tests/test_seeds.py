"""Hidden inputs follow the code, and are drawn with the course's secret (issue 22).

- A submission's seed is a hash of the secret, the assignment, the student and the bytes
  handed in: the same file draws the same inputs (a regrade reproduces), a changed one
  draws new ones (hard-coding what one grade's feedback revealed gains nothing).
- The secret is made once, by the first command that needs it, in the kit's folder
  (ignored by git), never in the handout; the Gradescope zip carries it; AUTOGRADER_SECRET
  overrides it; `doctor` says whether there is one without printing it; a regrade that
  finds another secret (or none) than the gradebook's grades used says so.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import assignment as assignments
from autograder import build, cli, course_secret
from autograder.engine import api, grading
from autograder.integrations import gradescope

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
ROUNDS_UP = build.examples(CNN) / "lesson_output_size.py"  # a conv_output_size mistake
OURS = ("AUTOGRADER_ISOLATION", "AUTOGRADER_ROOT")
BASE_ENV = {k: v for k, v in os.environ.items() if k not in OURS}  # AUTOGRADER_SECRET: conftest's


def kit(*args, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**BASE_ENV, **(env or {})}, timeout=300)


@pytest.fixture
def no_env_secret(monkeypatch):
    monkeypatch.delenv(course_secret.ENV, raising=False)


# -- same code, same seed; changed code, new seed -------------------------------------
def seed(path: Path, name: str = "alice", secret: str = "s") -> int:
    return grading.seed_for("cnn", name, grading.code_fingerprint(path), secret)


def test_the_same_file_draws_the_same_seed_and_a_changed_one_a_new_seed(tmp_path):
    first = tmp_path / "first" / "cnn_layers.py"
    first.parent.mkdir()
    shutil.copyfile(REFERENCE, first)
    # The same bytes anywhere, under any file name: the same seed (a regrade, a copy moved).
    again = tmp_path / "again.py"
    shutil.copyfile(REFERENCE, again)
    assert seed(first) == seed(again) == seed(REFERENCE)
    # One byte more, a comment: new inputs.
    changed = tmp_path / "changed.py"
    changed.write_bytes(REFERENCE.read_bytes() + b"#")
    assert seed(changed) != seed(first)
    # Another student or another secret with the same file: other inputs.
    assert seed(first, name="bob") != seed(first) != seed(first, secret="t")


def test_a_folders_seed_follows_its_code_not_the_files_beside_it(tmp_path):
    folder = tmp_path / "alice"
    (folder / "hw").mkdir(parents=True)
    shutil.copyfile(REFERENCE, folder / "hw" / "cnn_layers.py")
    (folder / "notes.txt").write_text("first try")
    before = seed(folder)
    (folder / "notes.txt").write_text("second try")  # never read by the grader
    assert seed(folder) == before
    with open(folder / "hw" / "cnn_layers.py", "a") as f:
        f.write("\n# hard-coded a case\n")
    assert seed(folder) != before


def test_the_gradebooks_seed_is_the_one_the_grader_draws(tmp_path):
    """The CLI computes each seed before grading (for --stale); the grader computes it again."""
    path = tmp_path / "alice.py"
    shutil.copyfile(ROUNDS_UP, path)
    prints = api.prints_of(CNN, [_input("alice", path)], None, "s")
    assert prints["alice"]["seed"] == seed(path) and prints["alice"]["secret"] == course_secret.fingerprint("s")
    assert api.prints_of(CNN, [_input("alice", path)], 7, "s")["alice"]["seed"] == 7  # --seed overrides


def _input(name, path):
    from autograder.engine.batch import Input

    return Input(name, path, 0)


@pytest.mark.slow
def test_a_regrade_reproduces_and_a_change_draws_new_inputs(tmp_path):
    """End to end through `grade`: the hard-coding student's resubmission gets a new seed."""
    path = tmp_path / "alice.py"
    shutil.copyfile(ROUNDS_UP, path)
    out = tmp_path / "out"

    def graded():
        result = kit("grade", path, "--out", out, "--quiet")
        assert result.returncode == 0, result.stderr
        data = json.loads((out / "alice" / "grade.json").read_text())
        return data["seed"], [(t["name"], t["status"], t["output"]) for t in data["tests"]]

    first = graded()
    assert graded() == first  # the same file: the same seed, every test's result and message alike
    assert first[0] == seed(path, secret=course_secret.value(ROOT))
    path.write_text(path.read_text() + "\n# conv_output_size(13, 5, stride=3) is 3\n")
    assert graded()[0] != first[0]
    result = kit("grade", path, "--out", out, "--quiet", "--seed", "42")
    assert result.returncode == 0 and json.loads((out / "alice" / "grade.json").read_text())["seed"] == 42


# -- the course's secret ------------------------------------------------------------------
def test_the_secret_is_made_once_private_and_kept(tmp_path, no_env_secret, capsys):
    assert course_secret.value(tmp_path) == ""  # reading never makes one
    assert not course_secret.path(tmp_path).exists()
    made = course_secret.ensure(tmp_path)
    assert "made the course secret" in capsys.readouterr().err
    file = course_secret.path(tmp_path)
    assert len(made) == 64 and file.read_text().strip() == made
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # the owner's alone
    assert course_secret.ensure(tmp_path) == made == course_secret.value(tmp_path)
    assert capsys.readouterr().err == ""  # said once, when it was made
    # Another kit checkout makes its own.
    other = tmp_path / "other"
    other.mkdir()
    assert course_secret.ensure(other) != made


def test_an_explicit_secret_overrides_the_file_and_makes_none(tmp_path, monkeypatch):
    monkeypatch.setenv(course_secret.ENV, "from-the-environment")
    assert course_secret.ensure(tmp_path) == "from-the-environment"
    assert not course_secret.path(tmp_path).exists()
    monkeypatch.delenv(course_secret.ENV)
    course_secret.path(tmp_path).write_text("from-the-file\n")
    assert course_secret.value(tmp_path) == "from-the-file"
    monkeypatch.setenv(course_secret.ENV, "from-the-environment")
    assert course_secret.value(tmp_path) == "from-the-environment"


def test_an_empty_secret_file_is_a_one_line_error_naming_the_fix(tmp_path, no_env_secret):
    course_secret.path(tmp_path).write_text("\n")
    with pytest.raises(course_secret.SecretError) as caught:
        course_secret.ensure(tmp_path)
    message = str(caught.value)
    assert "\n" not in message and "empty" in message and "restore it" in message


def test_git_ignores_the_secret():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", course_secret.FILE_NAME], cwd=ROOT)
    assert ignored.returncode == 0, f"{course_secret.FILE_NAME} is not in .gitignore"


def test_the_handout_never_holds_the_secret(tmp_path, no_env_secret):
    copy = tmp_path / "kit"
    for part in ("assignments", "solutions", "student_template"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    secret = course_secret.ensure(copy)
    build.write(assignments.load("cnn", copy))
    files = [p for p in (copy / "student_template").rglob("*") if p.is_file()]
    assert files and not [p for p in files if p.name == course_secret.FILE_NAME]
    assert not [p for p in files if secret.encode() in p.read_bytes()]


def test_the_gradescope_zip_carries_the_secret(tmp_path, no_env_secret):
    path = gradescope.build_zip(CNN, tmp_path / "autograder.zip", secret="the-course-secret")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(course_secret.FILE_NAME)
        assert zf.read(info).decode().strip() == "the-course-secret"
        assert stat.S_IMODE(info.external_attr >> 16) == 0o600
    # Unpacked, the kit finds it where it looks for its own (gradescope.run's Grader reads it there).
    with zipfile.ZipFile(path) as zf:
        zf.extract(course_secret.FILE_NAME, tmp_path / "source")
    assert course_secret.value(tmp_path / "source") == "the-course-secret"


def test_doctor_says_whether_there_is_a_secret_without_printing_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(course_secret.ENV, raising=False)
    monkeypatch.setenv("AUTOGRADER_ROOT", str(tmp_path))
    assert cli.main(["doctor"]) == 0
    assert "course secret: none yet" in capsys.readouterr().out
    secret = course_secret.ensure(tmp_path)
    capsys.readouterr()
    assert cli.main(["doctor"]) == 0
    said = capsys.readouterr().out
    assert "course secret: yes" in said and course_secret.fingerprint(secret) in said and secret not in said


def test_a_regrade_without_the_secret_its_grades_used_warns_that_inputs_differ(tmp_path, monkeypatch):
    from autograder.engine import batch
    from autograder.engine.results import Grade

    monkeypatch.delenv(course_secret.ENV, raising=False)
    monkeypatch.setenv("AUTOGRADER_ROOT", str(tmp_path / "kit"))
    (tmp_path / "kit").mkdir()
    out = tmp_path / "out"
    book = batch.open_gradebook(CNN, out)
    earlier = course_secret.fingerprint("the-old-secret")
    book.add(Grade(name="alice", origin="alice.py", score=1, max_score=100, seed=1),
             {"suite": "s", "reference": "r", "submission": "x", "secret": earlier, "seed": 1})
    warning = str(api.secret_mismatch(batch.open_gradebook(CNN, out)))
    assert f"earlier grades in {out} were drawn" in warning
    assert f"drawn with a course secret of id {earlier}, and there is none here" in warning
    assert "other hidden inputs" in warning and "the-old-secret" not in warning
    # With that secret back, nothing to say.
    monkeypatch.setenv(course_secret.ENV, "the-old-secret")
    assert api.secret_mismatch(batch.open_gradebook(CNN, out)) is None


def test_commands_started_at_once_share_one_secret(tmp_path, no_env_secret):
    """A job array's shards may all start on a fresh kit: one makes the secret, every other reads it whole."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: course_secret.ensure(tmp_path), range(32)))
    assert len(set(made)) == 1 and made[0] == course_secret.value(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [course_secret.FILE_NAME]  # no temporary file left


@pytest.mark.slow
def test_the_capstones_training_follows_the_student_not_the_code(tmp_path):
    """A resubmission draws new cases but trains from the same split and weights: a network that
    trains erratically could not be resubmitted until a lucky draw. (The reference here: a
    training run's measures are kept only when its checks earn their points.)"""
    reference = ROOT / "solutions" / "cnn_capstone"
    graded = {}
    for n, comment in enumerate(("", "\n# a cosmetic change\n")):
        folder = tmp_path / f"try{n}" / "ada"
        folder.mkdir(parents=True)
        for name in ("capstone.py", "cnn_layers.py"):
            shutil.copyfile(reference / name, folder / name)
        with open(folder / "capstone.py", "a") as f:
            f.write(comment)
        out = tmp_path / f"out{n}"
        result = kit("grade", folder, "--assignment", "cnn_capstone", "--out", out, "--quiet")
        assert result.returncode == 0, result.stderr
        graded[n] = json.loads((out / "ada" / "grade.json").read_text())
    assert graded[0]["seed"] != graded[1]["seed"]  # other cases for every other check
    for measure in ("accuracy", "reference_accuracy", "unseen_accuracy"):
        assert graded[0]["measures"][measure] == graded[1]["measures"][measure], measure
    assert graded[0]["by_item"]["train"] == graded[1]["by_item"]["train"]
    assert grading.student_seed_for("cnn_capstone", "ada", "s") == grading.student_seed_for("cnn_capstone", "ada", "s")
    assert grading.student_seed_for("cnn_capstone", "ada", "s") != grading.student_seed_for("cnn_capstone", "bob", "s")
