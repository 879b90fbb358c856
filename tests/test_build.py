"""The handout builder: `python -m autograder build [--check]`, its parts, and config validation.

The end-to-end tests run the command in a subprocess on a copy of the kit
(AUTOGRADER_ROOT points at the copy), so the committed tree is never touched.

Run: .venv/bin/python -m pytest tests/test_build.py -q
"""

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from otter.test_files import ExceptionTestFile

from autograder import assignment as assignments
from autograder.build import (
    SOURCES_STAMP,
    BuildError,
    examples,
    check_public_test_parameters,
    otter_check_file,
    render_examples,
    split_solution,
)

ROOT = Path(__file__).resolve().parents[1]
KIT_PARTS = ("assignments", "solutions", "student_template", "autograder")


def run_build(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "autograder", "build", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def kit(tmp_path):
    """A copy of the kit's sources and built outputs, with no caches or venv."""
    copy = tmp_path / "kit"
    ignore = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", "*.pyc")
    for part in KIT_PARTS:
        shutil.copytree(ROOT / part, copy / part, ignore=ignore)
    return copy


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur exactly once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# --------------------------------------------------------------------------
# build --check on the committed tree and on edited copies
# --------------------------------------------------------------------------


def test_check_passes_on_committed_tree():
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_ROOT"}
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "build", "--check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, (
        "solutions/ or student_template/ are stale; run `python -m autograder build`\n" + result.stderr
    )
    assert "up to date" in result.stdout


def test_copy_of_kit_starts_up_to_date(kit):
    # Guards the tests below: their failures must come from their edits.
    result = run_build(kit, "--check")
    assert result.returncode == 0, result.stderr
    # The example submissions are not committed: --check neither wants nor makes them.
    assert not (kit / "build").exists()
    assert not list((kit / "solutions").glob("*/examples"))


@pytest.mark.slow
def test_edited_solution_region_makes_reference_stale_and_build_fixes_it(kit):
    module = kit / "assignments" / "cnn" / "cnn_layers.py"
    old = "    out = np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3]))\n"
    new = "    out = np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3]))  # edited\n"
    # The edited line really is inside conv2d_forward's solution region.
    source = module.read_text(encoding="utf-8")
    body = source[source.index("def conv2d_forward(") : source.index("def conv2d_backward(")]
    region = body[body.index("### BEGIN SOLUTION") : body.index("### END SOLUTION")]
    assert old in region
    replace_once(module, old, new)

    result = run_build(kit, "--check")
    assert result.returncode == 1
    assert "out of date: solutions/cnn/cnn_layers.py" in result.stderr
    assert "out of date: solutions/cnn/cnn.ipynb" in result.stderr  # the notebook pulls the def in
    # Solution code never reaches the handout, so the handout is still current.
    assert "student_template/cnn/cnn_layers.py" not in result.stderr
    assert "student_template/cnn/cnn.ipynb" not in result.stderr
    assert "run `python -m autograder build`" in result.stderr

    built = run_build(kit)
    assert built.returncode == 0, built.stderr
    assert "# edited" in (kit / "solutions" / "cnn" / "cnn_layers.py").read_text(encoding="utf-8")
    # build makes the examples too, each the edited reference plus its mistake.
    assert "# edited" in (kit / "build" / "examples" / "cnn" / "flipped_kernel.py").read_text(encoding="utf-8")
    assert "# edited" not in (kit / "student_template" / "cnn" / "cnn_layers.py").read_text(encoding="utf-8")
    again = run_build(kit, "--check")
    assert again.returncode == 0, again.stderr


@pytest.mark.slow
def test_edited_stub_makes_handout_stale_but_not_reference(kit):
    module = kit / "assignments" / "cnn" / "cnn_layers.py"
    replace_once(module, '"MaxPool2d.__init__: store pool_size and stride."', '"MaxPool2d.__init__: keep both."')
    result = run_build(kit, "--check")
    assert result.returncode == 1
    assert "out of date: student_template/cnn/cnn_layers.py" in result.stderr
    assert "out of date: student_template/cnn/cnn.ipynb" in result.stderr
    assert "solutions/cnn/cnn_layers.py" not in result.stderr

    assert run_build(kit).returncode == 0
    handout = (kit / "student_template" / "cnn" / "cnn_layers.py").read_text(encoding="utf-8")
    assert 'raise NotImplementedError("MaxPool2d.__init__: keep both.")' in handout
    assert run_build(kit, "--check").returncode == 0


@pytest.mark.slow
def test_edited_public_test_flags_handout_test_and_check_file(kit):
    public = kit / "assignments" / "cnn" / "public_tests" / "test_pad.py"
    with public.open("a", encoding="utf-8") as f:
        f.write("\n\ndef test_added_later(pad):\n    assert pad is not None\n")

    result = run_build(kit, "--check")
    assert result.returncode == 1
    assert "out of date: student_template/cnn/tests/test_pad.py" in result.stderr
    assert "out of date: student_template/cnn/checks/pad.py" in result.stderr
    assert "test_maxpool_forward.py" not in result.stderr  # only what changed is named

    assert run_build(kit).returncode == 0
    check = (kit / "student_template" / "cnn" / "checks" / "pad.py").read_text(encoding="utf-8")
    assert '@test_case(name="test_added_later")\ndef test_added_later(pad):' in check
    assert run_build(kit, "--check").returncode == 0


@pytest.mark.slow
def test_stray_file_in_handout_is_flagged_and_removed_by_build(kit):
    stray = kit / "student_template" / "cnn" / "my_notes.txt"
    stray.write_text("not built from anything\n", encoding="utf-8")

    result = run_build(kit, "--check")
    assert result.returncode == 1
    assert "not built from assignments/" in result.stderr
    assert "student_template/cnn/my_notes.txt" in result.stderr

    assert run_build(kit).returncode == 0
    assert not stray.exists()
    assert run_build(kit, "--check").returncode == 0


@pytest.mark.slow
def test_deleted_built_file_is_reported_missing_and_rebuilt(kit):
    target = kit / "student_template" / "cnn" / "checks" / "conv2d_backward.py"
    target.unlink()
    result = run_build(kit, "--check")
    assert result.returncode == 1
    assert "missing: student_template/cnn/checks/conv2d_backward.py" in result.stderr
    assert run_build(kit).returncode == 0
    assert target.is_file()
    assert run_build(kit, "--check").returncode == 0


def built_examples(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != SOURCES_STAMP}


def test_examples_are_made_when_asked_and_remade_after_an_edit_of_what_they_are_built_from(kit):
    cnn, capstone = assignments.load("cnn", kit), assignments.load("cnn_capstone", kit)
    folder = examples(cnn)
    assert folder == kit / "build" / "examples" / "cnn"
    snippets = sorted(p.name for p in (kit / "assignments" / "cnn" / "examples").glob("*.py"))
    assert sorted(p.name for p in folder.glob("*.py")) == snippets
    assert built_examples(folder) == render_examples(cnn)
    capstone_folder = examples(capstone)
    assert (capstone_folder / "relu_passes_at_zero" / "cnn_layers.py").read_bytes() == \
        (kit / "solutions" / "cnn" / "cnn_layers.py").read_bytes()

    # Asked again with nothing changed: the same folder, not remade.
    stamp = (folder / SOURCES_STAMP).stat().st_ino
    assert examples(cnn) == folder and (folder / SOURCES_STAMP).stat().st_ino == stamp

    # An example's own patch.
    with (kit / "assignments" / "cnn" / "examples" / "flipped_kernel.py").open("a", encoding="utf-8") as f:
        f.write("\n# patch edited\n")
    assert (examples(cnn) / "flipped_kernel.py").read_text(encoding="utf-8").endswith("# patch edited\n")
    # The reference an example is built on, here the first part's, which the capstone's examples carry.
    replace_once(kit / "assignments" / "cnn" / "cnn_layers.py",
                 "    out = np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3]))\n",
                 "    out = np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3]))  # edited\n")
    assert "# edited" in (examples(capstone) / "relu_passes_at_zero" / "cnn_layers.py").read_text(encoding="utf-8")
    assert "# edited" in (examples(cnn) / "missing_bias.py").read_text(encoding="utf-8")
    # A removed example goes with the folder it was in.
    (kit / "assignments" / "cnn" / "examples" / "missing_bias.py").unlink()
    assert not (examples(cnn) / "missing_bias.py").exists()


@pytest.mark.parametrize("start", ["missing", "outdated"])
def test_makers_asking_at_once_each_get_the_whole_folder(kit, start):
    cnn = assignments.load("cnn_capstone", kit)
    folder = kit / "build" / "examples" / "cnn_capstone"
    if start == "outdated":
        (folder / "relu_passes_at_zero").mkdir(parents=True)
        (folder / "relu_passes_at_zero" / "capstone.py").write_text("old\n", encoding="utf-8")
        (folder / SOURCES_STAMP).write_text("old\n", encoding="utf-8")
    wanted = render_examples(cnn)
    makers = 8
    together = threading.Barrier(makers)

    def ask(_):
        together.wait()
        return built_examples(examples(cnn))

    with ThreadPoolExecutor(makers) as pool:
        seen = list(pool.map(ask, range(makers)))
    assert all(files == wanted for files in seen)
    # No maker's scratch folder is left behind.
    assert [p.name for p in folder.parent.iterdir()] == ["cnn_capstone"]


def test_an_example_naming_an_unknown_module_is_a_build_error(kit):
    example = kit / "assignments" / "cnn_capstone" / "examples" / "relu_passes_at_zero.py"
    example.write_text("# module: numpy_layers\n" + example.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_build(kit, "--check")
    assert result.returncode == 2
    assert "error: assignments/cnn_capstone/examples/relu_passes_at_zero.py: '# module: numpy_layers'" in result.stderr
    assert run_build(kit).returncode == 2
    assert not (kit / "build" / "examples" / "cnn_capstone").exists()


def test_public_test_not_named_after_an_item_is_a_build_error(kit):
    public = kit / "assignments" / "cnn" / "public_tests"
    (public / "test_relu.py").write_text("def test_relu(pad):\n    pass\n", encoding="utf-8")
    result = run_build(kit, "--check")
    assert result.returncode == 2
    assert "error: assignments/cnn/public_tests/test_relu.py" in result.stderr
    assert "test_<item>.py" in result.stderr


def test_malformed_markers_stop_the_build_with_file_and_line(kit):
    module = kit / "assignments" / "cnn" / "cnn_layers.py"
    lines = module.read_text(encoding="utf-8").splitlines(keepends=True)
    # Drop the END marker of conv_output_size's region: the region never closes.
    start = next(i for i, l in enumerate(lines) if l.startswith("def conv_output_size("))
    begin = next(i for i in range(start, len(lines)) if lines[i].strip() == "### BEGIN SOLUTION")
    end = next(i for i in range(begin, len(lines)) if lines[i].strip() == "### END SOLUTION")
    del lines[end]
    module.write_text("".join(lines), encoding="utf-8")
    before = {p: p.read_bytes() for p in (kit / "solutions").rglob("*") if p.is_file()}
    result = run_build(kit)
    assert result.returncode == 2
    # The next region's BEGIN is found nested inside the unclosed one.
    assert "error: assignments/cnn/cnn_layers.py:" in result.stderr
    assert f"inside the region opened at line {begin + 1}" in result.stderr
    # Nothing was written: the build renders everything before it writes.
    assert {p: p.read_bytes() for p in (kit / "solutions").rglob("*") if p.is_file()} == before
    assert run_build(kit, "--check").returncode == 2


# --------------------------------------------------------------------------
# split_solution
# --------------------------------------------------------------------------


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_stub_lines_replace_the_region_with_their_own_indentation():
    source = dedent(
        """
        def f(x):
            \"\"\"Doc.\"\"\"
            ### BEGIN SOLUTION
            ### STUB raise NotImplementedError("f: do it")
            y = x + 1
            return y
            ### END SOLUTION


        class A:
            def g(self):
                ### BEGIN SOLUTION
                ### STUB # your code here
                ### STUB raise NotImplementedError("A.g")
                return 2
                ### END SOLUTION
        """
    )
    solution, handout = split_solution(source, "m.py")
    assert handout == dedent(
        """
        def f(x):
            \"\"\"Doc.\"\"\"
            raise NotImplementedError("f: do it")


        class A:
            def g(self):
                # your code here
                raise NotImplementedError("A.g")
        """
    )
    assert solution == dedent(
        """
        def f(x):
            \"\"\"Doc.\"\"\"
            y = x + 1
            return y


        class A:
            def g(self):
                return 2
        """
    )
    ast.parse(handout)
    ast.parse(solution)


def test_region_without_stub_vanishes_and_blank_lines_are_tidied():
    source = dedent(
        """
        import numpy as np

        ### BEGIN SOLUTION
        def _helper(v):
            return v * 2


        ### END SOLUTION


        def public(v):
            return v
        """
    )
    solution, handout = split_solution(source, "m.py")
    assert "_helper" not in handout
    assert "###" not in handout and "###" not in solution
    assert handout == "import numpy as np\n\n\ndef public(v):\n    return v\n"
    assert "def _helper(v):\n    return v * 2\n" in solution
    assert solution.startswith("import numpy as np\n") and solution.endswith("def public(v):\n    return v\n")
    assert "\n\n\n\n" not in solution  # runs of blank lines are collapsed


def test_text_without_markers_is_the_same_in_both_versions():
    source = "x = 1\n\n\ndef f():\n    return x\n"
    assert split_solution(source, "m.py") == (source, source)


@pytest.mark.parametrize(
    "source, line, words",
    [
        (
            "a = 1\n### BEGIN SOLUTION\nb = 2\n    ### BEGIN SOLUTION\nc = 3\n### END SOLUTION\n",
            4,
            "inside the region opened at line 2",
        ),
        ("a = 1\n### BEGIN SOLUTION\nb = 2\n", 2, "never closed"),
        ("a = 1\nb = 2\n    ### END SOLUTION\n", 3, "without a '### BEGIN SOLUTION'"),
    ],
    ids=["nested", "unclosed", "unopened"],
)
def test_malformed_markers_raise_build_error_with_file_and_line(source, line, words):
    with pytest.raises(BuildError) as info:
        split_solution(source, "assignments/x/mod.py")
    message = str(info.value)
    assert message.startswith(f"assignments/x/mod.py:{line}: ")
    assert words in message


# --------------------------------------------------------------------------
# otter check files and public-test parameters
# --------------------------------------------------------------------------

PUBLIC = dedent(
    '''
    """Public checks for add."""

    import math


    def _close(a, b):
        return math.isclose(a, b)


    def test_small(add):
        """Small numbers."""
        assert add(1, 2) == 3, "add(1, 2) should be 3"


    def test_floats(add):
        assert _close(add(0.1, 0.2), 0.3)


    def test_twice(add, double):
        assert double(add(1, 1)) == 4
    '''
)


def test_otter_check_file_parses_and_decorates_every_test():
    out = otter_check_file(PUBLIC, "add", "assignments/x/public_tests/test_add.py")
    tree = ast.parse(out)
    assert out.startswith("# Built from assignments/x/public_tests/test_add.py by `python -m autograder build`")
    assert "from otter.test_files import test_case" in out
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    tests = [n for n in functions if n.name.startswith("test_")]
    assert [t.name for t in tests] == ["test_small", "test_floats", "test_twice"]
    for test in tests:
        (decorator,) = test.decorator_list
        assert isinstance(decorator, ast.Call) and decorator.func.id == "test_case"
        assert [(k.arg, k.value.value) for k in decorator.keywords] == [("name", test.name)]
        assert f'@test_case(name="{test.name}")\ndef {test.name}(' in out
    helper = next(n for n in functions if n.name == "_close")
    assert helper.decorator_list == []
    assignments_ = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
    assert assignments_["name"] == "add" and assignments_["OK_FORMAT"] is False


def test_otter_runs_the_built_check_file():
    out = otter_check_file(PUBLIC, "add", "test_add.py")
    right = ExceptionTestFile.from_string(out, path="add.py")
    assert right.name == "add"
    assert [tc.name for tc in right.test_cases] == ["test_small", "test_floats", "test_twice"]
    right.run({"add": lambda a, b: a + b, "double": lambda v: 2 * v})
    assert right.passed_all and right.grade == 1

    wrong = ExceptionTestFile.from_string(out, path="add.py")
    wrong.run({"add": lambda a, b: a - b, "double": lambda v: 2 * v})
    assert [r.passed for r in wrong.test_case_results] == [False, False, False]
    assert "add(1, 2) should be 3" in wrong.test_case_results[0].message


def test_otter_check_file_refuses_decorated_or_empty_test_files():
    decorated = "import pytest\n\n\n@pytest.mark.slow\ndef test_a(add):\n    pass\n"
    with pytest.raises(BuildError, match=r"^t\.py:5: public tests cannot be decorated"):
        otter_check_file(decorated, "add", "t.py")
    with pytest.raises(BuildError, match=r"^t\.py: no test functions"):
        otter_check_file("def helper(add):\n    pass\n", "add", "t.py")


def test_committed_check_files_decorate_every_public_test():
    public = ROOT / "assignments" / "cnn" / "public_tests"
    checks = ROOT / "student_template" / "cnn" / "checks"
    for path in sorted(public.glob("test_*.py")):
        source_tests = [
            n.name for n in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        ]
        check = checks / f"{path.stem[len('test_'):]}.py"
        parsed = ExceptionTestFile.from_file(str(check))
        assert [tc.name for tc in parsed.test_cases] == source_tests, check.name


def test_public_test_parameters_must_be_contract_names():
    contract = ("add", "double")
    check_public_test_parameters(PUBLIC, contract, "t.py")  # helpers may take anything
    bad = "def test_a(add):\n    pass\n\n\ndef test_b(add, tmp_path):\n    pass\n"
    with pytest.raises(BuildError) as info:
        check_public_test_parameters(bad, contract, "public_tests/test_add.py")
    message = str(info.value)
    assert message.startswith("public_tests/test_add.py:5: test_b takes 'tmp_path'")
    assert "not a contract name" in message and "['add', 'double']" in message


# --------------------------------------------------------------------------
# assignment.toml validation
# --------------------------------------------------------------------------

VALID_CONFIG = dedent(
    """
    [assignment]
    name = "toy"
    title = "A toy assignment"
    module = "toy"
    notebook = "toy.ipynb"
    contract = ["add", "double"]
    suite = "autograder/suites/toy"

    [limits]
    test_seconds = 2

    [[questions]]
    item = "add"
    points = 60

    [[questions]]
    item = "double"
    points = 40
    """
)


def write_config(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "assignments" / "toy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "assignment.toml").write_text(text, encoding="utf-8")
    return folder


def load_error(tmp_path: Path, text: str) -> str:
    folder = write_config(tmp_path, text)
    with pytest.raises(assignments.ConfigError) as info:
        assignments.load(folder, root=tmp_path)
    message = str(info.value)
    assert str(folder / "assignment.toml") in message  # says which file
    return message


def test_valid_config_loads(tmp_path):
    folder = write_config(tmp_path, VALID_CONFIG)
    a = assignments.load(folder, root=tmp_path)
    assert a.name == "toy" and a.contract == ("add", "double")
    assert [(q.item, q.points) for q in a.questions] == [("add", 60.0), ("double", 40.0)]
    assert a.limits.test_seconds == 2 and a.limits.memory_mb == assignments.Limits().memory_mb
    assert a.suite == tmp_path / "autograder" / "suites" / "toy"
    assert assignments.load("toy", root=tmp_path).folder == folder.resolve()


def test_points_must_sum_to_100(tmp_path):
    message = load_error(tmp_path, VALID_CONFIG.replace("points = 40", "points = 30"))
    assert "question points add up to 90, not 100" in message


def test_question_must_be_in_contract(tmp_path):
    message = load_error(tmp_path, VALID_CONFIG.replace('item = "double"', 'item = "triple"'))
    assert "question 'triple' is not in the contract ['add', 'double']" in message


def test_unknown_limit_keys_are_refused(tmp_path):
    message = load_error(tmp_path, VALID_CONFIG.replace("test_seconds = 2", "test_second = 2\nmemory = 10"))
    assert "unknown limits ['memory', 'test_second']" in message
    assert "known ones are" in message and "'test_seconds'" in message


def test_limits_must_be_non_negative_numbers(tmp_path):
    assert "limit 'test_seconds' must be a number >= 0, got -1" in load_error(
        tmp_path, VALID_CONFIG.replace("test_seconds = 2", "test_seconds = -1"))
    assert "limit 'give_up_after_timeouts' must be a number >= 0, got 'two'" in load_error(
        tmp_path, VALID_CONFIG.replace("test_seconds = 2", "test_seconds = 2\ngive_up_after_timeouts = \"two\""))


def test_other_config_mistakes_are_one_line_errors(tmp_path):
    assert "missing 'contract'" in load_error(tmp_path, VALID_CONFIG.replace('contract = ["add", "double"]\n', ""))
    assert "a question item appears twice" in load_error(
        tmp_path, VALID_CONFIG.replace('item = "double"\npoints = 40', 'item = "add"\npoints = 40')
    )
    assert "has negative points" in load_error(tmp_path, VALID_CONFIG.replace("points = 40", "points = -40"))
    assert "not valid TOML" in load_error(tmp_path, VALID_CONFIG + "\n[[questions]\n")
    assert "'points' should be" in load_error(tmp_path, VALID_CONFIG.replace("points = 40", 'points = "40"'))


def test_missing_assignment_names_the_available_ones(tmp_path):
    write_config(tmp_path, VALID_CONFIG)
    with pytest.raises(assignments.ConfigError, match=r"no assignment 'nope'.*\(available: toy\)"):
        assignments.load("nope", root=tmp_path)
