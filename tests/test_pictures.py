"""The part-1 notebook's "see it" cells and the given pictures.py they call.

- Run in a real Jupyter kernel from the student's folder, the reference notebook draws a picture
  in every see-it cell; the handout notebook, as handed out, reaches its end and each see-it cell
  prints its one line (what to finish), with no traceback.
- pictures.py turns an unfinished or broken function into one line, and draws what the student's
  function did, wrong or right.
- The grader never runs a picture: the cells are inert where the grader runs them.

Run: .venv/bin/python -m pytest tests/test_pictures.py -q
"""

from __future__ import annotations

import base64
import importlib.util
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import assignment as assignments
from autograder.engine import submission

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", root=ROOT)
HANDOUT = CNN.template_dir
SOLUTION = CNN.solution_dir
SEE_IT = re.compile(r"^if LAB:  # see it: ")
# What each see-it cell of the untouched handout says: the first stub its picture runs into.
HANDOUT_NOTES = [
    "finish `conv_output_size` to see this",
    "finish `pad` to see this",
    "finish `conv2d_forward` to see this",
    "finish `maxpool_forward` to see this",
    "finish `maxpool_forward` to see this",
    "finish `Conv2d.__init__` to see this",
]


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pictures():
    import matplotlib

    matplotlib.use("Agg")
    return _load(HANDOUT / "pictures.py", "pictures_under_test")


@pytest.fixture(scope="module")
def reference():
    return _load(SOLUTION / f"{CNN.module}.py", "cnn_reference_for_pictures")


@pytest.fixture(scope="module")
def stubs():
    return _load(HANDOUT / f"{CNN.module}.py", "cnn_handout_for_pictures")


def _see_it_cells(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and SEE_IT.match(c.source)]


# --------------------------------------------------------------------------
# The notebooks in a real Jupyter kernel
# --------------------------------------------------------------------------


def _run_in_kernel(folder: Path):
    pytest.importorskip("ipykernel", reason="the dev extra (pip install -e '.[dev]') brings a Jupyter kernel")
    import nbclient

    notebook = nbformat.read(folder / CNN.notebook, as_version=4)
    # allow_errors: the untouched handout's example cells call stubs, as a student's first run does.
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def _student_folder(tmp_path: Path, notebook: Path) -> Path:
    folder = tmp_path / "cnn"
    shutil.copytree(HANDOUT, folder, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    shutil.copyfile(notebook, folder / CNN.notebook)
    return folder


@pytest.mark.slow
def test_reference_notebook_draws_a_picture_in_every_see_it_cell_in_a_jupyter_kernel(tmp_path):
    notebook = _run_in_kernel(_student_folder(tmp_path, SOLUTION / CNN.notebook))
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    cells = _see_it_cells(notebook)
    assert len(cells) == len(HANDOUT_NOTES)
    pictures = []
    for cell in cells:
        pngs = [base64.b64decode(o["data"]["image/png"]) for o in cell.outputs if "image/png" in o.get("data", {})]
        printed = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        assert len(pngs) == 1 and printed == "", (cell.source, printed)
        pictures += pngs
    assert len(pictures) >= 5
    assert all(png.startswith(b"\x89PNG") and len(png) > 10_000 for png in pictures)
    assert len(set(pictures)) == len(pictures)  # six different pictures, none blank or repeated
    # The grader.check cells ran too, and passed.
    checks = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("grader.check(")]
    assert checks and all("passed" in str(c.outputs[0].get("data", {}).get("text/plain", "")).lower() for c in checks)


@pytest.mark.slow
def test_handout_notebook_reaches_its_end_with_one_line_per_see_it_cell_in_a_jupyter_kernel(tmp_path):
    notebook = _run_in_kernel(_student_folder(tmp_path, HANDOUT / CNN.notebook))
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)  # every cell ran, to the last one
    assert code[-1] is _see_it_cells(notebook)[-1]
    notes = []
    for cell in _see_it_cells(notebook):
        kinds = [o.get("output_type") for o in cell.outputs]
        assert kinds == ["stream"], (cell.source, cell.outputs)  # no picture, no traceback
        notes.append(cell.outputs[0]["text"])
    assert notes == [note + "\n" for note in HANDOUT_NOTES]
    # The only errors are the example cells that call a stub (as before the pictures came).
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert errors and {e["ename"] for e in errors} == {"NotImplementedError"}


# --------------------------------------------------------------------------
# pictures.py with the reference, the stubs and broken functions
# --------------------------------------------------------------------------


PICTURES = [
    ("make_output_size", ("conv_output_size",)),
    ("make_padding", ("pad",)),
    ("make_convolution", ("conv2d_forward",)),
    ("make_pooling", ("maxpool_forward", "maxpool_backward")),
    ("make_layers", ("Conv2d", "MaxPool2d")),
]


@pytest.mark.parametrize("make, names", PICTURES, ids=[p[0] for p in PICTURES])
def test_reference_draws_and_stubs_say_what_to_finish(pictures, reference, stubs, make, names):
    import matplotlib.pyplot as plt

    fig = getattr(pictures, make)(*(getattr(reference, n) for n in names))
    assert fig.axes and any(ax.images or ax.patches for ax in fig.axes)
    plt.close(fig)
    with pytest.raises(pictures.Unfinished, match=r"^finish `[\w.]+` to see this$"):
        getattr(pictures, make)(*(getattr(stubs, n) for n in names))


def test_a_note_is_one_line_without_traceback(pictures, stubs, reference, capsys):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    pictures.padding(stubs.pad)
    assert capsys.readouterr() == ("finish `pad` to see this\n", "")

    def crashes(x, padding, value=0):
        return x[:, :, 99]

    pictures.padding(crashes)
    out, err = capsys.readouterr()
    assert err == "" and out.count("\n") == 1
    assert out.startswith("`pad` raised IndexError: ") and out.endswith("; fix it to see this\n")

    def every_axis(x, padding, value=0):  # a classic: pads N and C too
        return np.pad(x, padding, constant_values=value)

    pictures.padding(every_axis)
    assert capsys.readouterr().out == ("`pad` returned shape (5, 5, 79, 68) for pad(x, 2, value=nan), "
                                       "expected (1, 1, 79, 68); fix it to see this\n")

    def unfinished(x, w, b, stride=1, padding=0):
        pass

    pictures.convolution(unfinished)
    assert "returned None" in capsys.readouterr().out
    assert plt.get_fignums() == before  # no half-drawn figure left to show


def test_conv_output_size_picture_shows_a_count_that_runs_past_the_edge(pictures, reference):
    import matplotlib.pyplot as plt

    def texts(fig):
        return [t.get_text() for ax in fig.axes for t in ax.texts]

    fig = pictures.make_output_size(reference.conv_output_size)
    assert not any("past the edge" in t or "not counted" in t for t in texts(fig))
    assert sum("(last that fits)" in t for t in texts(fig)) == 2
    plt.close(fig)

    def ceil(size, kernel, stride=1, padding=0):  # rounds up: one position too many at stride 3
        return -(-(size + 2 * padding - kernel) // stride) + 1

    fig = pictures.make_output_size(ceil)
    assert "position 2: cells 6..8  runs past the edge!" in texts(fig)
    plt.close(fig)

    def one_short(size, kernel, stride=1, padding=0):
        return (size + 2 * padding - kernel) // stride

    fig = pictures.make_output_size(one_short)
    assert "next start 6: fits, yet is not counted!" in texts(fig)
    plt.close(fig)


def test_pooling_picture_shows_where_the_students_gradient_went(pictures, reference):
    import matplotlib.pyplot as plt

    def numbers(ax):
        return [t.get_text() for t in ax.texts]

    fig = pictures.make_pooling(reference.maxpool_forward, reference.maxpool_backward)
    overlapping_dx = fig.axes[5]
    assert numbers(overlapping_dx).count("4") == 1  # the 9 is the maximum of four windows
    plt.close(fig)

    def last_wins(dout, x, pool_size=2, stride=None):  # assigns instead of adding where windows overlap
        dx = reference.maxpool_backward(dout, x, pool_size, stride)
        return np.minimum(dx, 1.0) if (stride or pool_size) < pool_size else dx

    fig = pictures.make_pooling(reference.maxpool_forward, last_wins)
    assert "4" not in numbers(fig.axes[5])
    plt.close(fig)
    fig = pictures.make_pooling(reference.maxpool_forward)  # after the forward pass only: no gradient column
    assert len(fig.axes) == 4
    plt.close(fig)


def test_the_photo_ships_with_the_handout_and_is_small(pictures):
    photo = pictures.photo()
    assert photo.shape == (1, 1, 75, 64) and photo.dtype == np.float64
    assert 0.0 <= photo.min() < 0.1 and 0.9 < photo.max() <= 1.0 and photo.std() > 0.15  # a picture, not a blank
    assert (HANDOUT / "grace_hopper.npy").stat().st_size < 8 * 1024
    assert "grace_hopper.npy" not in (SOLUTION / CNN.notebook).read_text(encoding="utf-8")  # loaded by pictures.py


def test_layers_picture_leaves_the_students_random_state_alone(pictures, reference):
    import matplotlib.pyplot as plt

    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    plt.close(pictures.make_layers(reference.Conv2d, reference.MaxPool2d))
    assert np.random.rand() == expected


@pytest.mark.slow
def test_the_command_line_saves_every_picture_or_says_what_to_finish(tmp_path):
    assert "\n  python pictures.py\n" in (HANDOUT / "README.md").read_text(encoding="utf-8")  # what students are told
    folder = tmp_path / "cnn"
    shutil.copytree(HANDOUT, folder, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    run = lambda: subprocess.run([sys.executable, "pictures.py"], cwd=folder, capture_output=True,  # noqa: E731
                                 text=True, timeout=120)
    untouched = run()
    assert untouched.returncode == 0 and "Traceback" not in untouched.stderr
    assert untouched.stdout.splitlines() == [
        f"{name}: {note}" for name, note in zip(
            ["1_output_size", "2_padding", "3_convolution", "4_pooling", "5_layers"],
            [HANDOUT_NOTES[i] for i in (0, 1, 2, 3, 5)])]
    assert not (folder / "pictures").exists() or not list((folder / "pictures").iterdir())
    shutil.copyfile(SOLUTION / f"{CNN.module}.py", folder / f"{CNN.module}.py")
    done = run()
    assert done.returncode == 0, done.stderr
    saved = sorted(p.name for p in (folder / "pictures").iterdir())
    assert saved == ["1_output_size.png", "2_padding.png", "3_convolution.png", "4_pooling.png", "5_layers.png"]
    assert all((folder / "pictures" / name).read_bytes().startswith(b"\x89PNG") for name in saved)
    assert done.stdout.count("saved pictures/") == 5


# --------------------------------------------------------------------------
# The grader never runs a picture
# --------------------------------------------------------------------------


class _Spy(types.ModuleType):
    """Stands in for pictures.py: records every picture asked for."""

    def __init__(self):
        super().__init__("pictures")
        self.calls = []

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args: self.calls.append(name)


@pytest.mark.parametrize("name, drawn", [(CNN.module, []), ("__main__", ["output_size", "padding", "convolution",
                                                                          "pooling", "pooling", "layers"])])
def test_the_cells_the_grader_runs_draw_nothing(tmp_path, monkeypatch, name, drawn):
    # The grader's own reading of the notebook (otter's lines dropped), run as its worker runs
    # it: in a module named after the assignment's module. In Jupyter (__main__) the same
    # cells ask for every picture.
    spy = _Spy()
    monkeypatch.setitem(sys.modules, "pictures", spy)
    cells = submission.notebook_cells(SOLUTION / CNN.notebook)
    assert sum(bool(re.search(r"pictures\.\w+\(", source)) for _, source in cells) == 6  # kept, as every code cell is
    module = types.ModuleType(name)
    for label, source in cells:
        exec(compile(source, label, "exec"), module.__dict__)
    assert spy.calls == drawn


def test_the_given_modules_bytecode_is_not_handed_out():
    # Importing pictures.py (or ./kit's compileall) writes handout_files/__pycache__/: build copied
    # it into the handout, and `build --check` then failed on a file nobody wrote.
    import py_compile

    from autograder import build

    source = CNN.folder / "handout_files" / "pictures.py"
    py_compile.compile(str(source), cfile=str(importlib.util.cache_from_source(str(source))), doraise=True)
    assert list((source.parent / "__pycache__").glob("pictures.*.pyc"))
    built = build.render(CNN)
    handed_out = {p.relative_to(HANDOUT.relative_to(ROOT)).as_posix() for p in built if p.is_relative_to(HANDOUT.relative_to(ROOT))}
    assert {"pictures.py", "grace_hopper.npy"} <= handed_out
    assert not [p for p in handed_out if "__pycache__" in p or p.endswith(".pyc")]
