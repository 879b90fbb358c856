"""The trust boundary, unit by unit: what crosses from a submission is bounded and made safe."""

from __future__ import annotations

import json
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder import assignment
from autograder.engine import report, sandbox, submission, wire
from autograder.integrations import exports

CNN = assignment.load("cnn")
REFERENCE_SOURCE = (Path(__file__).resolve().parents[1] / "solutions" / "cnn" / "cnn_layers.py").read_text()


# -- replies from the worker -------------------------------------------------------
def test_a_blob_referred_to_twice_is_refused_not_decoded_twice():
    blob, dtype, shape = wire.array_to_blob(np.zeros(1000))
    value = {"t": "tuple", "items": [{"t": "array", "blob": 0, "dtype": dtype, "shape": shape}] * 1000}
    with pytest.raises(wire.WireError, match="twice"):
        wire.decode(value, [blob])
    assert wire.decode({"t": "tuple", "items": value["items"][:1]}, [blob])[0].shape == (1000,)


def test_a_blob_declaring_more_than_it_carries_is_refused_before_allocating():
    blob, dtype, _ = wire.array_to_blob(np.zeros(10))
    started = time.monotonic()
    with pytest.raises(wire.WireError, match="declares"):
        wire.blob_to_array(blob, dtype, [9999999999])
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("dtype", ["O", "|O", "V8", "[('a', '<f8')]", "<f8,<f8", "S0", "<f8" + "0" * 100, 8])
def test_an_array_of_objects_records_or_nonsense_dtypes_is_refused(dtype):
    with pytest.raises(wire.WireError, match="not plain"):
        wire.blob_to_array(bytes(8), dtype, [1])


@pytest.mark.parametrize("value", [np.arange(6, dtype=np.int32).reshape(2, 3), np.array(True), np.float16(1.5),
                                   np.array(["ab", "c"]), np.array([1 + 2j]), np.zeros((0, 3)),
                                   np.arange(4.0)[::2], np.array([1.0, 2.0]).astype(">f8"),
                                   np.array(["2026-12-02"], dtype="datetime64[D]")])
def test_arrays_cross_the_wire_unchanged_and_writable(value):
    encoder = wire.Encoder()
    got = wire.decode(encoder.encode(value), encoder.blobs)
    assert type(got) is np.ndarray and got.dtype == np.asarray(value).dtype
    assert got.shape == np.shape(value) and np.array_equal(got, value)
    got[...] = got  # the receiver owns it


def test_values_in_one_message_are_counted():
    value = {"t": "list", "items": [{"t": "none"}] * (wire.MAX_ITEMS + 1)}
    with pytest.raises(wire.WireError, match="values"):
        wire.decode(value, [])


@pytest.mark.parametrize("header", [b"[" * 100_000 + b"]" * 100_000, b'{"a": "\xff"}', b"[1, 2]"])
def test_a_header_that_is_not_a_plain_json_object_is_a_wire_error(header):
    frame = struct.pack("<I", len(header)) + header
    chunks = [frame]

    def read(n):
        data, chunks[0] = chunks[0][:n], chunks[0][n:]
        return data

    with pytest.raises(wire.WireError):
        wire.unpack(read, 1 << 20)


def test_text_from_the_worker_can_be_written_anywhere():
    text = wire.decode({"t": "str", "v": "bad \udc80 byte"}, [])
    assert text == "bad \\udc80 byte"  # shown as an escape a reader can see
    text.encode("utf-8")  # would raise on a lone surrogate


# -- names and cells --------------------------------------------------------------------
@pytest.mark.parametrize("file, name", [
    ("...py", "submission"), ("grades.csv.py", "grades_csv"), ("../../x.py", "x"),
    ("=HYPERLINK(1).py", "HYPERLINK_1"), ("José García.ipynb", "Jose_Garcia"), (".hidden.py", "hidden"),
    ("-rf.py", "rf"), ("report.html.zip", "report_html"),
])
def test_submission_names_are_safe_folder_names(file, name):
    assert submission.submission_name(Path("/subs") / file) == name


def test_a_name_two_submissions_make_is_kept_by_neither():
    """Issue 25: `honest!.py` sorted first took `honest`, its row and its seed; the classmate became honest_2."""
    said = []
    paths = [Path("subs/honest!.py"), Path("subs/honest.py"), Path("subs/ann.py"), Path("b/X.ipynb"), Path("a/x.py")]
    names = submission.unique_names(paths, warn=said.append)
    assert names[Path("subs/ann.py")] == "ann"
    assert len(set(names.values())) == 5 and not {"honest", "x", "X"} & set(names.values())
    assert names[Path("subs/honest.py")].startswith("honest_") and names[Path("subs/honest!.py")].startswith("honest_")
    # The same names whatever the order, and each file named in the warning.
    assert submission.unique_names(list(reversed(paths))) == names
    assert len(said) == 2 and "subs/honest!.py" in said[0] + said[1] and "a/x.py" in said[0] + said[1]


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("@SUM(A1)", "'@SUM(A1)"), ("-x", "'-x"), ("-3", "-3"),
    ("4.5", "4.5"), ("graded", "graded"), ("\t=1", "\\t=1"),
])
def test_csv_cells_never_start_a_formula(value, cell):
    assert report.csv_cell(value) == cell


# -- exports -------------------------------------------------------------------------------
def _export(folder: Path, metadata: str, with_module: bool = False) -> Path:
    folder.mkdir()
    (folder / "submission_metadata.yml").write_text(metadata)
    (folder / "submission_1").mkdir()
    (folder / "submission_1" / "cnn_layers.py").write_text("x = 1\n")
    if with_module:
        (folder / "cnn_layers.py").write_text("x = 2\n")
    return folder


def test_a_students_folder_with_a_metadata_file_is_the_students_folder(tmp_path):
    folder = _export(tmp_path / "mallory", "submission_1:\n  :submitters:\n  - :name: Honest\n", with_module=True)
    assert exports.export_kind(folder, CNN) is None


def test_metadata_keys_name_only_submission_folders_of_the_export(tmp_path, capsys):
    reference = CNN.solution_dir
    folder = _export(tmp_path / "export",
                     f"{reference}:\n  :submitters:\n  - :name: Mallory\n"
                     "submission_1:\n  :submitters:\n  - :name: Ann\n")
    assert exports.export_kind(folder, CNN) == "gradescope"
    paths, roster = exports.expand([folder], CNN, tmp_path / "scratch", "gradescope")
    assert list(roster) == ["ann"]
    assert all(reference not in p.parents and p != reference for p in paths)
    assert "not a submission_<id> entry" in capsys.readouterr().err


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(9))}]\n" for i in range(8))
    bomb += "submission_1:\n  :submitters:\n  - :name: *i\n"
    folder = _export(tmp_path / "export", bomb)
    started = time.monotonic()
    with pytest.raises(exports.ExportError, match="not readable YAML"):
        exports.read_metadata(folder / "submission_metadata.yml")
    assert time.monotonic() - started < 2


def test_an_unreadable_export_among_other_submissions_does_not_stop_the_batch(tmp_path):
    folder = _export(tmp_path / "export", "submission_1: [unclosed\n")
    other = tmp_path / "ann.py"
    other.write_text("x = 1\n")
    paths, roster = exports.expand([other, folder], CNN, tmp_path / "scratch", "gradescope")
    assert paths == [other, folder] and roster == {}
    with pytest.raises(exports.ExportError):
        exports.expand([folder], CNN, tmp_path / "scratch2", "gradescope")  # alone, it is the instructor's error


def test_an_export_student_named_like_a_classmate_is_renamed_not_refused(tmp_path):
    folder = _export(tmp_path / "export", "submission_1:\n  :submitters:\n  - :name: Ann\n")
    classmate = tmp_path / "ann.py"
    classmate.write_text("x = 1\n")
    paths, roster = exports.expand([classmate, folder], CNN, tmp_path / "scratch", "gradescope")
    assert list(roster) == ["ann_2"] and paths[0] == classmate and paths[1].name == "ann_2"


# -- the sandbox's view -------------------------------------------------------------------
def test_the_namespace_sandbox_mounts_an_allow_list_not_usr(tmp_path):
    layout = sandbox.python_layout(sandbox.worker_python())
    iso = sandbox.Isolation(level="namespace", python=sandbox.worker_python(), layout=layout)
    cmd = sandbox.bwrap_command(iso, as_root=True)
    binds = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--ro-bind"]
    assert "/usr" not in binds and "/" not in binds
    assert not any(str(CNN.root) == b or b.startswith(str(CNN.root) + "/") for b in binds
                   if not b.startswith(layout["packages"]["numpy"]) and b not in layout["packages"].values()
                   and b not in {str(sandbox.ENGINE_DIR / name) for name in sandbox.WORKER_FILES})
    assert f"{sandbox.SANDBOX_SITE}/numpy" in cmd
    at = cmd.index("/tmp")
    assert cmd[at - 3: at] == ["--size", str(iso.disk_mb * 1024 * 1024), "--tmpfs"]


def test_a_folder_of_student_subfolders_is_refused_with_the_way_to_grade_it(tmp_path):
    for student in ("alice", "bob"):
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "cnn_layers.py").write_text("x = 1\n")
    sub = submission.resolve(tmp_path / "class", "cnn_layers", "cnn.ipynb")
    assert sub.problem and "2 files named cnn_layers.py" in sub.problem and "FOLDER/*" in sub.problem
    (tmp_path / "class" / "cnn_layers.py").write_text("y = 2\n")  # one at the top: that is the submission
    sub = submission.resolve(tmp_path / "class", "cnn_layers", "cnn.ipynb")
    assert sub.problem is None and sub.source == "y = 2\n"


def test_the_current_folder_is_named_after_itself(tmp_path, monkeypatch):
    (tmp_path / "dana").mkdir()
    monkeypatch.chdir(tmp_path / "dana")
    assert submission.submission_name(Path(".")) == "dana"


# -- zips and folders: every reader is total and bounded (issue 25) -----------------------
def _zip_bytes(entries: dict[str, bytes]) -> bytearray:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return bytearray(buffer.getvalue())


def _central(data: bytearray, offset: int, value: int, size: int = 2) -> bytearray:
    """Set a field of the (last) central directory entry."""
    at = data.rfind(b"PK\x01\x02")
    data[at + offset:at + offset + size] = value.to_bytes(size, "little")
    return data


def _broken_zips() -> dict[str, bytearray]:
    code = REFERENCE_SOURCE.encode()
    bad_name = _central(_zip_bytes({"cnn_layers.py": code}), 8, 0x800)  # says UTF-8...
    bad_name[bad_name.rfind(b"PK\x01\x02") + 46] = 0xFF  # ...and is not
    return {
        "version_200": _central(_zip_bytes({"cnn_layers.py": code}), 6, 200),
        "encrypted": _central(_zip_bytes({"cnn_layers.py": code}), 8, 0x1),
        "bad_method": _central(_zip_bytes({"cnn_layers.py": code}), 10, 99),
        "truncated": _zip_bytes({"cnn_layers.py": code})[:300],
        "not_utf8_name": bad_name,
        "deep": _zip_bytes({"/".join(["d"] * 1200) + "/cnn_layers.py": code}),
    }


@pytest.mark.parametrize("case", sorted(_broken_zips()))
def test_a_broken_zip_is_that_submissions_problem_named(case, tmp_path):
    path = tmp_path / f"{case}.zip"
    path.write_bytes(bytes(_broken_zips()[case]))
    sub = submission.resolve(path, CNN.module, CNN.notebook)
    assert sub.problem and path.name in sub.problem, sub.problem
    assert exports.export_kind(path, CNN) is None  # and never mistaken for, nor crashing, an export check
    assert not list(tmp_path.glob("autograder-zip-*"))


def test_a_zip_with_too_many_entries_is_refused_before_its_directory_is_read(tmp_path, monkeypatch):
    path = tmp_path / "many.zip"
    path.write_bytes(bytes(_zip_bytes({f"f{i}.py": b"" for i in range(30)})))
    assert submission.zip_entry_count(path) == 30
    read = []
    monkeypatch.setattr(zipfile.ZipFile, "__init__", lambda *a, **k: read.append(1) or (_ for _ in ()).throw(AssertionError))
    with pytest.raises(ValueError, match="holds more than 20 files"):
        submission.safe_extract(path, tmp_path / "out", max_files=20)
    assert read == []
    # The end record's count can lie (red team: it said 1 over 2,000,000 records, and zipfile
    # parsed them all, 843 MB): the records are counted.
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8:end + 12] = (1).to_bytes(2, "little") * 2
    path.write_bytes(bytes(data))
    assert submission.zip_entry_count(path) == 30
    with pytest.raises(ValueError, match="holds more than 20 files"):
        submission.safe_extract(path, tmp_path / "out", max_files=20)
    assert read == []


def test_a_folder_too_deep_for_recursion_is_read_and_removed(tmp_path):
    import os

    folder = tmp_path / "deep"
    folder.mkdir()
    here = str(folder)
    for _ in range(1200):  # one level at a time: Path.mkdir(parents=True) itself recurses
        here = os.path.join(here, "d")
        os.mkdir(here)
    (folder / "cnn_layers.py").write_text(REFERENCE_SOURCE)
    try:
        sub = submission.resolve(folder, CNN.module, CNN.notebook)
        assert sub.problem and "more than 32 deep" in sub.problem
        assert exports.export_kind(folder, CNN) is None
    finally:
        sandbox.remove_tree(str(folder))
    assert not folder.exists()


def test_a_notebook_with_a_huge_cell_is_refused_before_any_cell_is_parsed(tmp_path, monkeypatch):
    """Issue 25: a 9 MB notebook of one long cell peaked at 5.2 GB; its size is checked before parsing."""
    import json as _json

    path = tmp_path / "cnn.ipynb"
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "x = 1\n" * (1_500_000)}
    path.write_text(_json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))
    parsed = []
    monkeypatch.setattr(submission, "cell_label", lambda *a: parsed.append(1) or "cell")
    sub = submission.resolve(path, CNN.module, CNN.notebook)
    assert sub.problem and "more than 512 KB of code" in sub.problem
    assert parsed == []


def test_an_export_is_an_export_only_when_the_instructor_says_so(tmp_path, capsys):
    """Issue 25: a student's zip laid out like an export got the export's limits and wrote LMS rows."""
    folder = _export(tmp_path / "export", "submission_1:\n  :submitters:\n  - :name: Ann\n")
    paths, roster = exports.expand([folder], CNN, tmp_path / "scratch")
    assert paths == [folder] and roster == {}  # one student's submission
    note = capsys.readouterr().err
    assert "laid out like a Gradescope download" in note and "--export gradescope" in note
    paths, roster = exports.expand([folder], CNN, tmp_path / "scratch2", "canvas")  # not this kind: a submission
    assert paths == [folder] and roster == {}
    with pytest.raises(exports.ExportError, match="--export moodle"):
        exports.expand([folder], CNN, tmp_path / "scratch3", "moodle")


def test_a_notebook_of_many_tiny_json_values_is_refused_before_parsing(tmp_path, monkeypatch):
    """Red team: 20 MB of empty objects in a notebook's metadata took 577 MB to parse."""
    import json as _json

    path = tmp_path / "cnn.ipynb"
    path.write_text('{"nbformat": 4, "nbformat_minor": 5, "cells": [], "metadata": [' + "{}," * 2_000_000 + '{}]}')
    loads = []
    monkeypatch.setattr(submission.json, "loads", lambda *a, **k: loads.append(1) or _json.loads(*a, **k))
    sub = submission.resolve(path, CNN.module, CNN.notebook)
    assert sub.problem and "JSON values" in sub.problem and loads == []


def test_a_large_notebook_of_an_old_format_is_not_upgraded(tmp_path):
    """Red team: nbformat's upgrade of a 20 MB v3 notebook took 675 MB and 45 s."""
    import json as _json

    cells = [{"cell_type": "markdown", "source": "x" * 100}] * 40_000
    path = tmp_path / "cnn.ipynb"
    path.write_text(_json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                 "worksheets": [{"cells": cells}]}))
    sub = submission.resolve(path, CNN.module, CNN.notebook)
    assert sub.problem and "old notebook format" in sub.problem
