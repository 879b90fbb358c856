"""A grade that cannot be forged: hostile submissions against the engine's defences (issue 8).

Each class of attack is graded by the real command line in a batch
(`python -m autograder grade ... --jobs 2 --quiet`, see run_batch in
test_hostile.py) beside an honest classmate, whose grade and flags must
not move, and, where there is one, beside the hostile case's honest twin:

1. student data parsed in the grading process: a student's zip laid out
   like a Gradescope export (metadata keys that are paths to the
   reference, a submitter named like a classmate), a forged reply naming
   one large array many times (peak memory measured);
2. enforcement inside the worker: the import ban switched off, then
   packages beside NumPy imported; a notebook whose broken cell would hide
   a banned import from the static scan; NumPy patched through vars();
3. weaker levels: the kit under /usr/src, the instructor's secret, planting
   files in the grader's Python, student code as root, and the user level
   refusing to run while something is readable by others;
4. limits per submission: a spinning thread between calls, a chain of
   processes outliving each call, disks filled, a deep folder, a worker
   that dies in every test (the submission's time budget);
5. bad data: a lone surrogate, file names made for CSV formulas or for the
   grader's own files, a Canvas export with such names;
6. points without work: the public checks' answers looked up, stubs of the
   right shape or raising ValueError elsewhere;
7. the capstone (issue 16): a network without layers whose predict looks the
   test strips up, weights trained elsewhere, a train that ignores its data,
   and a leaderboard convolution that answers from a cache, beside an honest
   vectorised and an honest four-loop classmate.

The cases are in tests/hostile/ (see its README). Run:
    .venv/bin/python -m pytest tests/test_integrity.py -q   (about 3 minutes)
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import inspect
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder import assignment as _assignment
from autograder.build import examples as bundled_examples

CNN = _assignment.load("cnn")

from test_hostile import (  # noqa: E402
    ROOT,
    Batch,
    case_parts,
    assert_full,
    assert_not_above,
    assert_same_grade,
    checks_of,
    items_except,
    needs_bwrap,
    private_kit,
    reference_source,
    run_batch,
)

pytestmark = pytest.mark.slow

HANDOUT = ROOT / "student_template" / "cnn" / "cnn_layers.py"
PUBLIC_TESTS = ROOT / "assignments" / "cnn" / "public_tests"
SECRET = "RT-SECRET-" + os.urandom(6).hex()
# A submission's whole time in the namespace batch (the kit's copy is changed to it):
# far above what an honest submission spends, far below a restart in every test.
SUBMISSION_SECONDS = 30

FORMULA_NAMES = ['=HYPERLINK("http-evil")', "+SUM(1)", "@cmd", "-2+3"]


# -- class 6: the public checks' answers, looked up -----------------------------
# The same key on both sides: this test builds the table with it, the submission looks up with it.
KEY_SOURCE = '''
def _key(name, args, kwargs):
    import hashlib
    import numpy as np
    digest = hashlib.sha256(name.encode())
    for value in list(args) + sorted(kwargs.items()):
        if isinstance(value, np.ndarray):
            digest.update(b"A" + repr((value.shape, value.dtype.str)).encode() + value.tobytes())
        else:
            digest.update(b"V" + repr(value).encode())
    return digest.hexdigest()
'''


def _encode(value):
    if isinstance(value, np.ndarray):
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return ("a", base64.b64encode(buffer.getvalue()).decode())
    if isinstance(value, tuple):
        return ("t", [_encode(v) for v in value])
    return ("v", value)


def public_answers(kit: Path) -> dict:
    """{key: encoded output} for every call the public checks make of the reference's functions."""
    namespace: dict = {}
    exec(KEY_SOURCE, namespace)  # noqa: S102 - our own code
    key = namespace["_key"]
    spec = importlib.util.spec_from_file_location("reference_for_lookup", kit / "solutions" / "cnn" / "cnn_layers.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    table = {}

    def recorded(name):
        function = getattr(reference, name)

        def record(*args, **kwargs):
            out = function(*args, **kwargs)
            table[key(name, args, kwargs)] = _encode(out)
            return out

        return record

    for path in sorted(PUBLIC_TESTS.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"public_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for test_name, test in inspect.getmembers(module, inspect.isfunction):
            if not test_name.startswith("test_"):
                continue
            kwargs = {p: (recorded(p) if inspect.isfunction(getattr(reference, p)) else getattr(reference, p))
                      for p in inspect.signature(test).parameters}
            try:
                test(**kwargs)
            except Exception:  # noqa: BLE001 - a check of the reference may raise on purpose (pytest.raises)
                pass
    assert len(table) >= 15, f"only {len(table)} public calls recorded"
    return table


LOOKUP_STUBS = '''

# ---- no work: the public checks' answers, and stubs of the right shape ----
import base64 as _b64
import io as _io

_TABLE = {table!r}
{key_source}

def _decode(entry):
    kind, value = entry
    if kind == "a":
        return np.load(_io.BytesIO(_b64.b64decode(value)), allow_pickle=False)
    if kind == "t":
        return tuple(_decode(v) for v in value)
    return value


def _looked_up(name, stub):
    def answer(*args, **kwargs):
        entry = _TABLE.get(_key(name, args, kwargs))
        return _decode(entry) if entry is not None else stub(*args, **kwargs)
    answer.__name__ = name
    return answer


def _size(n, k, s, p):
    if k < 1 or s < 1 or p < 0 or k > n + 2 * p:
        raise ValueError("impossible settings")
    return (n + 2 * p - k) // s + 1


def _pairs(padding):
    if np.isscalar(padding):
        padding = (padding, padding)
    padding = [(p, p) if np.isscalar(p) else tuple(p) for p in padding]
    if any(v < 0 for pair in padding for v in pair):
        raise ValueError("negative padding")
    return padding


def _four(x):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError("need 4 axes")
    return x


def _stub_size(size, kernel, stride=1, padding=0):
    _size(size, kernel, stride, padding)
    return size  # right type, wrong value


def _stub_pad(x, padding, value=0):
    x = _four(x)
    (t, b), (l, r) = _pairs(padding)
    return np.zeros((x.shape[0], x.shape[1], x.shape[2] + t + b, x.shape[3] + l + r), dtype=x.dtype)


def _stub_conv(x, w, b, stride=1, padding=0):
    x, w = _four(x), _four(w)
    if x.shape[1] != w.shape[1] or np.shape(b) != (w.shape[0],):
        raise ValueError("shapes do not match")
    (t, _), (l, _) = _pairs(padding)
    return np.zeros((x.shape[0], w.shape[0], _size(x.shape[2], w.shape[2], stride, t),
                     _size(x.shape[3], w.shape[3], stride, l)))


def _stub_conv_back(dout, x, w, b, stride=1, padding=0):
    if np.shape(dout) != _stub_conv(x, w, b, stride, padding).shape:
        raise ValueError("dout has the wrong shape")
    return np.zeros(np.shape(x)), np.zeros(np.shape(w)), np.zeros(np.shape(b))


def _stub_pool(x, pool_size=2, stride=None):
    x = _four(x)
    stride = stride or pool_size
    return np.zeros((x.shape[0], x.shape[1], _size(x.shape[2], pool_size, stride, 0),
                     _size(x.shape[3], pool_size, stride, 0)))


def _stub_pool_back(dout, x, pool_size=2, stride=None):
    if np.shape(dout) != _stub_pool(x, pool_size, stride).shape:
        raise ValueError("dout has the wrong shape")
    return np.zeros(np.shape(x))


conv_output_size = _looked_up("conv_output_size", _stub_size)
pad = _looked_up("pad", _stub_pad)
conv2d_forward = _looked_up("conv2d_forward", _stub_conv)
conv2d_backward = _looked_up("conv2d_backward", _stub_conv_back)
maxpool_forward = _looked_up("maxpool_forward", _stub_pool)
maxpool_backward = _looked_up("maxpool_backward", _stub_pool_back)


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.W = Parameter(np.zeros((out_channels, in_channels, kernel_size, kernel_size)))
        self.b = Parameter(np.zeros(out_channels))
        self.stride, self.padding = stride, padding

    def forward(self, x):
        self.x = x
        return conv2d_forward(x, self.W.data, self.b.data, self.stride, self.padding)

    def backward(self, dout):
        return np.zeros(np.shape(self.x))


class MaxPool2d(Module):
    def __init__(self, pool_size=2, stride=None):
        self.pool_size, self.stride = pool_size, stride

    def forward(self, x):
        self.x = x
        return maxpool_forward(x, self.pool_size, self.stride)

    def backward(self, dout):
        return np.zeros(np.shape(self.x))
'''


def lookup_source(kit: Path) -> str:
    """The untouched handout (it gives Parameter and Module), plus the table and the stubs."""
    return HANDOUT.read_text(encoding="utf-8") + LOOKUP_STUBS.format(
        table=public_answers(kit), key_source=KEY_SOURCE)


# -- submissions of other shapes -------------------------------------------------
def notebook(cells: list[str]) -> str:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": source, "id": f"c{i}"} for i, source in enumerate(cells)],
    })


def student_export_zip(path: Path, kit: Path) -> None:
    """A student's zip laid out like a Gradescope export: its metadata names paths to the
    reference, and its one submission (the untouched handout) says it is the classmate 'honest'."""
    reference = kit / "solutions" / "cnn"
    metadata = (
        f"{reference}:\n  :submitters:\n  - :name: reference\n"
        f"{reference / 'cnn_layers.py'}:\n  :submitters:\n  - :name: reference file\n"
        "../../solutions/cnn:\n  :submitters:\n  - :name: climber\n"
        "submission_1:\n  :submitters:\n  - :name: honest\n    :sid: '1'\n"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("submission_metadata.yml", metadata)
        zf.writestr("submission_1/cnn_layers.py", HANDOUT.read_text(encoding="utf-8"))


def build_namespace_extras(kit: Path):
    def build(subs: Path, fill) -> dict:
        made = {}
        ref = reference_source()
        nb = subs / "nb_hidden_import.ipynb"
        nb.write_text(notebook([ref, "def broken(:\n    pass\n", "import torch\n"]), encoding="utf-8")
        made[nb] = "honest"
        student_export_zip(subs / "student_export.zip", kit)
        made[subs / "student_export.zip"] = None
        lookup = subs / "lookup_table.py"
        lookup.write_text(lookup_source(kit), encoding="utf-8")
        made[lookup] = None
        wrong = (subs / "twin_wrong.py").read_text(encoding="utf-8")
        for name in FORMULA_NAMES:
            path = subs / f"{name}.py"
            path.write_text(wrong + "\n\ndef broken(:\n", encoding="utf-8")  # its status names the file
            made[path] = None
        for name in ("grades.csv", "..", "report.html"):
            path = subs / f"{name}.py"
            path.write_text(wrong, encoding="utf-8")
            made[path] = None
        canvas = subs / "canvas_export"
        canvas.mkdir()
        (canvas / "=cmd|' -c calc'!A0_111_222_cnn_layers.py").write_text(ref, encoding="utf-8")
        (canvas / "+evil_333_444_cnn_layers.py").write_text(HANDOUT.read_text(encoding="utf-8"), encoding="utf-8")
        made[canvas] = None
        return made

    return build


def usr_src_kit(mark: str) -> Path:
    """A copy of the kit under /usr/src (where the old sandbox showed all of /usr), with a short
    submission_seconds so that a worker dying in every test reaches it quickly."""
    top = Path("/usr/src") / f"autograder-redteam-{mark}"
    kit = top / "kit"
    kit.mkdir(parents=True)
    for name in ("autograder", "assignments", "solutions", "student_template"):
        shutil.copytree(ROOT / name, kit / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(ROOT / "pyproject.toml", kit / "pyproject.toml")
    toml = kit / "assignments" / "cnn" / "assignment.toml"
    text = toml.read_text(encoding="utf-8")
    assert "submission_seconds = " in text
    toml.write_text("\n".join(f"submission_seconds = {SUBMISSION_SECONDS}" if line.startswith("submission_seconds =")
                              else line for line in text.splitlines()) + "\n", encoding="utf-8")
    return kit


NAMESPACE_CASES = [
    "crash_every_call", "fork_chain", "fill_disk", "forged_many_refs", "unban_import",
    "vars_patch", "look_around", "surrogate_message", "kernel_state",
]


@pytest.fixture(scope="module")
def ns(tmp_path_factory, starts_workers):
    needs_bwrap()
    if os.geteuid() != 0:
        pytest.skip("copying the kit under /usr/src needs root")
    kit = usr_src_kit(os.urandom(4).hex())
    try:
        yield run_batch(tmp_path_factory.mktemp("integrity-ns"), "namespace", NAMESPACE_CASES, kit=kit,
                        build=build_namespace_extras(kit), extra_env={"AUTOGRADER_SECRET": SECRET},
                        measure_rss=True, args=("--export", "canvas"))
    finally:
        shutil.rmtree(kit.parent, ignore_errors=True)


def test_batch_finishes_and_the_honest_classmate_is_untouched(ns):
    honest = ns.grade("honest")
    assert honest["score"] == 100 and honest["status"] == "graded"
    assert ns.flags("honest") == []
    assert honest["execution_time"] < 60, honest["execution_time"]  # loosely: nobody slowed it much
    assert ns.grade("twin_wrong")["score"] < 100
    assert ns.results("honest")["extra_data"]["isolation_level"] == "namespace"
    assert not ns.leftovers, ns.leftovers
    assert sorted(os.listdir(ns.root / "T")) == []


# -- 1. student data parsed and trusted in the grading process ---------------------
def test_student_zip_shaped_like_an_export_grades_no_reference(ns):
    """A student's zip with submission_metadata.yml, its keys paths to the reference and its one
    entry claiming to be the classmate 'honest', is one student's submission: the batch was given
    --export canvas only, so no Gradescope layout is read as an export (issue 25). Its untouched
    handout scores 0 under its own name, and the classmate keeps name and grade. Before: a
    metadata key was joined to the export's folder, and an absolute one pointed the grader at
    the reference, graded 100."""
    rows = {r["name"]: r for r in ns.rows()}
    assert rows["honest"]["total"] == "100" and ns.grade("honest")["origin"].endswith("honest.py")
    assert rows["student_export"]["total"] == "0", rows["student_export"]
    assert not [n for n in rows if n.startswith(("reference", "climber", "honest_"))], sorted(rows)
    roster = json.loads((ns.out / "roster.json").read_text(encoding="utf-8"))
    assert not [name for name, info in roster.items() if info["kind"] == "gradescope"], roster
    assert "student_export.zip is laid out like a Gradescope download" in ns.proc.stderr


def test_reply_naming_one_array_many_times_keeps_the_grader_small(ns):
    """Before: each mention of the blob was decoded into its own 48 MB array (30 of them)."""
    grade = ns.grade("forged_many_refs")
    assert_not_above(grade, ns.twin("forged_many_refs"))
    outputs = " ".join(t["output"] for t in checks_of(grade, "maxpool_forward"))
    assert "referred to twice" in outputs, outputs[:500]
    assert_full(grade, items_except("maxpool_forward", "maxpool_backward", "MaxPool2d", "Conv2d"))
    assert ns.extra["maxrss_mb"] < 700, f"a process of the batch peaked at {ns.extra['maxrss_mb']:.0f} MB"


# -- 2. enforcement inside the student's process ----------------------------------------
def test_switching_off_the_import_ban_imports_nothing_more(ns):
    """Before: the sandbox showed the grader's site-packages, so with the ban emptied pytest,
    yaml and matplotlib imported."""
    grade = ns.grade("unban_import")
    printed = grade["printed"]
    assert "BAN-EMPTIED" in printed, printed[-2000:]
    assert "IMPORTED-" not in printed, printed[-2000:]
    for name in ("pytest", "yaml", "matplotlib"):
        assert f"MISSING-{name} absent" in printed
    assert_same_grade(grade, ns.grade("honest"))
    assert "inspects the interpreter" in ns.flags("unban_import")


def test_broken_notebook_cell_does_not_hide_a_banned_import(ns):
    """Before: the static scan parsed the notebook as one source; one cell's syntax error hid every finding."""
    grade = ns.grade("nb_hidden_import")
    assert any(f["kind"] == "banned-import" and "torch" in f["detail"] for f in grade["findings"]), grade["findings"]
    assert "used a banned import" in ns.flags("nb_hidden_import")
    assert_same_grade(grade, ns.grade("honest"))


def test_patching_numpy_through_vars_is_flagged_and_earns_nothing(ns):
    grade, twin = ns.grade("vars_patch"), ns.twin("vars_patch")
    assert_same_grade(grade, twin)
    assert twin["score"] < 100
    assert "patches libraries" in ns.flags("vars_patch")
    patched = {e["detail"] for e in grade["events"] if e["kind"] == "patched"}
    assert {"numpy.allclose", "numpy.testing.assert_allclose"} <= patched, patched


# -- 3. what student code can reach ------------------------------------------------------
def test_kit_under_usr_src_secret_and_grader_python_are_out_of_reach(ns):
    """Before: the sandbox bound all of /usr, so a kit under /usr/src (with the reference) was readable."""
    grade = ns.grade("look_around")
    printed = grade["printed"]
    assert str(ns.extra["kit"]).startswith("/usr/src/")
    assert "KIT-HIDDEN" in printed and "KIT-FOUND" not in printed, printed[-2000:]
    assert "SECRET-HIDDEN" in printed and "SECRET-FOUND" not in printed
    assert "PLANTED" not in printed and "PLANT-REFUSED" in printed
    uid = int(printed.split("UID ", 1)[1].split()[0])
    assert uid != 0
    assert_same_grade(grade, ns.grade("honest"))
    assert not list(Path(sysconfig_purelib()).glob(f"planted_{ns.mark}*"))


def sysconfig_purelib() -> str:
    import sysconfig

    return sysconfig.get_path("purelib")


# -- 4. limits per submission ------------------------------------------------------------
def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_a_thread_left_spinning_is_stopped_between_calls():
    """Seen from outside: between two requests the worker is stopped and its spinning thread
    uses no CPU. Before, the thread ran between calls and slowed every classmate."""
    from autograder.engine import detection, sandbox
    from autograder.engine.worker_process import WorkerProcess

    a = CNN
    setup = sandbox.worker_setup(a.limits, a.banned_imports, a.banned_why, a.sandbox_packages)
    iso = detection.detect(a.private_paths, setup)
    worker = WorkerProcess(iso, setup)
    try:
        worker.start()
        worker.handshake(60)
        source = "import threading\ndef spin():\n    while True:\n        pass\nthreading.Thread(target=spin, daemon=True).start()\n"
        header, _ = worker.request({"op": "load", "kind": "module", "name": "spinner", "filename": "spinner.py",
                                    "source": source}, deadline=time.monotonic() + 30)
        assert header.get("ok"), header
        pid = worker.launch.worker_pid()
        state = lambda: Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]  # noqa: E731
        until = time.monotonic() + 2
        while state() != "T" and time.monotonic() < until:  # a signal lands within microseconds, not at once
            time.sleep(0.001)
        assert state() == "T"
        before = _cpu_ticks(pid)
        time.sleep(0.5)
        assert _cpu_ticks(pid) - before <= 1, "the spinning thread ran between requests"
        worker.request({"op": "ping"}, deadline=time.monotonic() + 30)  # and it answers the next one
    finally:
        worker.close()


def test_hole_a_worker_of_one_thread_woken_by_a_timer_is_stopped_between_calls():
    """Was a hole (fixed): a worker of one thread was never stopped between calls (taken to be blocked
    reading its next request), and with its cgroup's task count matching, /proc was not walked either.
    timer_spin's functions arm a timer as they return: its handler, in the worker's one thread,
    burned CPU and forked a spinning child after the grader's look, so the submission used a whole
    CPU between every two calls (measured: ~30 of 30 clock ticks in each 0.3 s). Fix: the worker's
    CPU time between calls is measured (Launch.resume); one that ran, or left a process, is stopped
    after every later call. Only the first gap can still be used (stopping every worker always
    would cost each call ~0.1 ms)."""
    from autograder.engine import caps as caps_module, detection, sandbox
    from autograder.engine.worker_process import WorkerProcess
    from test_hostile import case_parts

    needs_bwrap()
    if os.geteuid() != 0:
        pytest.skip("a submission's cgroups need root")
    a = CNN
    setup = sandbox.worker_setup(a.limits, a.banned_imports, a.banned_why, a.sandbox_packages)
    iso = detection.detect(a.private_paths, setup)
    caps = caps_module.SubmissionCaps(a.limits.memory_mb, a.limits.processes)
    worker = WorkerProcess(iso, setup, caps=caps)
    honest, hostile = case_parts("timer_spin")
    used = []
    try:
        worker.start()
        worker.handshake(60)
        header, _ = worker.request({"op": "load", "kind": "module", "name": "timer_spin", "filename": "timer_spin.py",
                                    "source": reference_source() + honest + hostile},
                                   deadline=time.monotonic() + 30)
        assert header.get("ok"), header
        header, _ = worker.request({"op": "getattr", "id": 0, "name": "conv_output_size"},
                                   deadline=time.monotonic() + 30)
        function = header["value"]["id"]
        for _ in range(4):
            header, _ = worker.request({"op": "call", "id": function, "kwargs": {},
                                        "args": [{"t": "int", "v": "9"}, {"t": "int", "v": "3"}]},
                                       deadline=time.monotonic() + 30)
            assert header.get("ok") and header["value"] == {"t": "int", "v": "7"}, header
            before = {pid: _cpu_ticks_or_0(pid) for pid in caps.procs()}
            time.sleep(0.3)
            used.append(sum(_cpu_ticks_or_0(pid) - before.get(pid, 0) for pid in caps.procs()))
    finally:
        worker.close()
        caps.remove()
    assert max(used[1:]) <= 2, f"clock ticks used between calls (of ~30 in each 0.3 s): {used}"


def _cpu_ticks_or_0(pid: int) -> int:
    try:
        return _cpu_ticks(pid)
    except (OSError, IndexError, ValueError):
        return 0


def test_a_chain_of_forks_does_not_outlive_a_call(ns):
    """Before: processes were killed only with the worker; the chain ran between calls."""
    grade = ns.grade("fork_chain")
    assert_same_grade(grade, ns.grade("honest"))
    assert "RAN-BETWEEN-CALLS" not in grade["printed"], grade["printed"][-1000:]
    assert "starts processes" in ns.flags("fork_chain")
    assert not ns.leftovers


def test_filling_the_sandbox_disk_is_capped_and_costs_nothing(ns):
    """Before: /tmp and the home were uncapped RAM folders (400 MB each went in)."""
    grade = ns.grade("fill_disk")
    assert_same_grade(grade, ns.grade("honest"))
    filled = {line.split()[1]: int(line.split()[2]) for line in grade["printed"].splitlines()
              if line.startswith("FILLED ")}
    assert set(filled) == {"/tmp", "/home/student", "/dev/shm"}, grade["printed"][-1000:]
    assert filled["/tmp"] <= 64 and filled["/home/student"] <= 64 and filled["/dev/shm"] == 0, filled
    assert "DEEP 2500" in grade["printed"]  # made, in a RAM folder that goes with the sandbox


def test_a_worker_dying_in_every_test_is_bounded_by_the_submission_budget(ns):
    """Before: every test paid a restart (97 tests, 0.3 s each and more), with no total bound."""
    grade = ns.grade("crash_every_call")
    assert grade["score"] == 0
    outputs = [t["output"] for t in grade["tests"]]
    assert any(f"used up its {SUBMISSION_SECONDS} s" in o for o in outputs), outputs[-3:]
    assert grade["execution_time"] < SUBMISSION_SECONDS + 45, grade["execution_time"]


# -- 5. bad data -------------------------------------------------------------------------
def test_lone_surrogates_and_invalid_output_change_nothing(ns):
    grade = ns.grade("surrogate_message")
    assert_same_grade(grade, ns.twin("surrogate_message"))
    assert (ns.out / "surrogate_message" / "feedback.md").is_file()
    json.loads((ns.out / "surrogate_message" / "results.json").read_text(encoding="utf-8"))


def test_file_names_are_no_formulas_and_no_grader_files(ns):
    rows = ns.rows()
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names))
    for csv_name in ("grades.csv", "canvas_gradebook.csv"):
        with open(ns.out / csv_name, newline="", encoding="utf-8") as f:
            cells = [cell for row in csv.reader(f) for cell in row]
        formulas = [c for c in cells if c[:1] in ("=", "+", "-", "@") and not _is_number(c)]
        assert not formulas, f"{csv_name}: {formulas[:5]}"
    # Each formula-named file got its row, graded 0 for its syntax error.
    broken = [r for r in rows if "could not be loaded" in r["status"]]
    assert len(broken) >= len(FORMULA_NAMES), [r["status"][:60] for r in rows]
    assert (ns.out / "grades.csv").is_file() and (ns.out / "report.html").is_file()
    assert {"grades_csv", "report_html"} <= set(names), names
    canvas = list(csv.reader(open(ns.out / "canvas_gradebook.csv", newline="", encoding="utf-8")))
    scores = {row[1]: row[5] for row in canvas[2:]}
    assert scores == {"111": "100", "333": "0"}, canvas


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# -- 6. points without work -----------------------------------------------------------------
def test_looked_up_public_answers_and_stubs_earn_almost_nothing(ns):
    grade = ns.grade("lookup_table")
    public = [t for t in grade["tests"] if t["visibility"] == "visible"]
    # The table answers every public check of the functions (the layers' are left to stubs)...
    assert sum(t["status"] == "passed" for t in public if t["item"][0].islower()) >= 24, \
        [t["name"] for t in public if t["status"] != "passed"]
    assert all(t["score"] == 0 for t in public)  # ...and earns nothing
    credited = [(t["name"], t["score"]) for t in grade["tests"] if t["score"] > 0]
    print("hidden checks that credit stubs:", credited)
    assert grade["score"] <= 10, credited


# -- the weaker levels -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def user(tmp_path_factory, public_python, starts_workers):
    if os.geteuid() != 0:
        pytest.skip("the user level needs root")
    tmp = tmp_path_factory.mktemp("integrity-user")
    return run_batch(tmp, "user", ["look_around", "fill_host", "fill_lock", "kernel_state",
                                       "fill_per_call", "fill_unlinked", "fill_crowd"], kit=private_kit(tmp),
                     extra_env={"AUTOGRADER_WORKER_PYTHON": public_python, "AUTOGRADER_SECRET": SECRET})


@pytest.fixture(scope="module")
def plain(tmp_path_factory, public_python, starts_workers):
    env = {"AUTOGRADER_SECRET": SECRET}
    if os.geteuid() == 0:
        env["AUTOGRADER_WORKER_PYTHON"] = public_python
    return run_batch(tmp_path_factory.mktemp("integrity-none"), "none", ["look_around"], extra_env=env)


@pytest.mark.parametrize("level", ["user", "plain"])
def test_weaker_levels_never_run_as_root_nor_reach_the_secret(level, request):
    """Before: with AUTOGRADER_ISOLATION=none, student code ran as the grader's user (root here)."""
    batch = request.getfixturevalue(level)
    grade = batch.grade("look_around")
    printed = grade["printed"]
    uid = int(printed.split("UID ", 1)[1].split()[0])
    assert uid != 0 and uid != os.getuid(), printed[-1000:]
    assert "SECRET-HIDDEN" in printed and "SECRET-FOUND" not in printed, printed[-1000:]
    assert "PLANTED" not in printed, printed[-1000:]
    assert not list(Path(sysconfig_purelib()).glob(f"planted_{batch.mark}*"))
    assert not list((batch.extra["kit"] / "autograder").glob(f"planted_{batch.mark}*"))
    assert_same_grade(grade, batch.grade("honest"))
    assert batch.grade("honest")["score"] == 100


def test_user_level_disk_and_shm_fill_is_stopped_and_cleaned(user):
    grade = user.grade("fill_host")
    assert grade["score"] == 0 and "MB to disk and was stopped" in grade["status"], grade["status"]
    assert "FILLED-ALL" not in grade["printed"]
    assert user.grade("honest")["score"] == 100
    left = [p for folder in ("/tmp", "/dev/shm", "/var/tmp") for p in Path(folder).glob(f"*{user.mark}*")]
    assert not left, left


@pytest.mark.parametrize("level", ["ns", "user"])
def test_kernel_state_and_calls_past_the_sandbox_are_denied(level, request):
    """Issue 16: a keyring key outlived the batch; the seccomp filter denies it, at every level."""
    batch = request.getfixturevalue(level)
    grade = batch.grade("kernel_state")
    printed = grade["printed"]
    wanted = ["shmget", "mq_open", "unshare"] + (["add_key", "keyctl", "bpf", "ptrace"] if platform.machine() in
                                      ("x86_64", "aarch64") else [])
    for name in wanted:
        assert f"DENIED-{name} " in printed, (name, printed[-2000:])
    assert "MADE-" not in printed, printed[-2000:]
    assert_same_grade(grade, batch.twin("kernel_state"))
    scopes = batch.results("kernel_state")["extra_data"]["cap_scopes"]
    assert scopes["syscalls"] == "process", batch.results("kernel_state")["extra_data"]["caps"]
    assert batch.results("honest")["extra_data"]["cap_scopes"]["syscalls"] == "process"


def test_user_level_disk_cap_holds_for_fast_calls_unlinked_files_and_crowded_folders(user):
    """Red team (issue 26): writes in calls that return at once, files deleted but kept open, and a
    folder crowded past the walk's entry bound each went past the cap unseen and scored 100."""
    for case in ("fill_unlinked", "fill_crowd"):
        grade = user.grade(case)
        assert grade["score"] == 0 and "MB to disk and was stopped" in grade["status"], (case, grade["status"])
        assert "HELD-ALL" not in grade["printed"] and "FILLED-ALL" not in grade["printed"], case
    grade = user.grade("fill_per_call")
    stopped = [t for t in grade["tests"] if "MB to disk and was stopped" in t["output"]]
    assert stopped and grade["by_item"]["conv_output_size"] < user.grade("honest")["by_item"]["conv_output_size"]
    left = [p for folder in ("/run/lock", "/var/lock", "/var/tmp", "/tmp") if os.path.isdir(folder)
            for p in Path(folder).glob(f"*{user.mark}*")]
    assert not left, left
    assert user.grade("honest")["score"] == 100


def test_user_level_counts_and_cleans_every_world_writable_folder(user):
    """Before: the disk cap and cleanup knew only /tmp, /var/tmp and /dev/shm; 375 MB went to /run/lock."""
    if not os.access("/run/lock", os.W_OK):
        pytest.skip("this host has no /run/lock")
    grade = user.grade("fill_lock")
    assert "NO-LOCK-FOLDER" not in grade["printed"]
    assert grade["score"] == 0 and "MB to disk and was stopped" in grade["status"], grade["status"]
    assert "FILLED-ALL" not in grade["printed"]
    assert not list(Path("/run/lock").glob(f"*{user.mark}*"))
    assert user.grade("honest")["score"] == 100


def _grade_cmd(kit: Path, paths, out: Path, python: str, jobs: int = 1, tmp: Path | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "PYTEST_"))}
    env.update({"AUTOGRADER_ISOLATION": "user", "AUTOGRADER_WORKER_PYTHON": python,
                "AUTOGRADER_ROOT": str(kit), "PYTHONPATH": str(kit)})
    if tmp:
        env["TMPDIR"] = str(tmp)
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *map(str, paths), "--out", str(out),
                           "--jobs", str(jobs), "--quiet"], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("exposed", ["out", "submission"])
def test_user_level_refuses_while_something_is_readable_by_others(exposed, tmp_path, public_python):
    if os.geteuid() != 0:
        pytest.skip("the user level needs root")
    kit = private_kit(tmp_path)  # tmp_path is now 0700
    public = Path(tempfile.mkdtemp(prefix="autograder-redteam-public-", dir="/tmp"))
    public.chmod(0o755)
    try:
        sub = (public if exposed == "submission" else tmp_path) / "honest.py"
        sub.write_text(reference_source(), encoding="utf-8")
        sub.chmod(0o644)
        out = (public if exposed == "out" else tmp_path) / "out"
        if exposed == "out":
            out.mkdir(mode=0o755)  # an output folder kept from an earlier batch, readable by all
            out.chmod(0o755)
        # The grader's temporary folder, its own: tests running beside this one (pytest-xdist) start workers too.
        scratch = public / "tmp"
        scratch.mkdir(mode=0o1777)
        scratch.chmod(0o1777)  # as /tmp: a worker's uid reaches its folder there
        proc = _grade_cmd(kit, [sub], out, public_python, tmp=scratch)
        assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
        # Issue 16: the probe's worker folder stayed behind after a refusal.
        assert not list(scratch.glob("autograder-worker-*"))
        # (The kit's first grade makes its course secret, and says so in a note of its own.)
        lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("note: made the course secret")]
        assert len(lines) == 1 and "chmod" in lines[0] and str(out if exposed == "out" else sub) in lines[0], lines
        assert not (out / "honest" / "grade.json").exists()
    finally:
        shutil.rmtree(public, ignore_errors=True)


# == Holes found (issue 8): these fail until the engine is fixed ===========================
def _export_batch(tmp: Path, write, measure_rss: bool = False):
    """A namespace batch of the honest classmate, twin_wrong and what `write(subs)` adds."""
    needs_bwrap()

    def build(subs: Path, fill) -> dict:
        return {path: None for path in write(subs)}

    # Both kinds named as exports: the flag trusts the instructor, so what stops a student's
    # look-alike zip here is the refusal of an LMS id two exports claim.
    return run_batch(tmp, "namespace", [], build=build, measure_rss=measure_rss,
                     args=("--export", "canvas", "--export", "gradescope"))


def _student_export(subs: Path, name: str, metadata: str) -> Path:
    """A student's zip laid out like a Gradescope export holding the untouched handout."""
    path = subs / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("submission_metadata.yml", metadata)
        zf.writestr("submission_1/cnn_layers.py", HANDOUT.read_text(encoding="utf-8"))
    return path


@pytest.mark.parametrize("metadata", [
    "submission_1:\n  :submitters: 5\n",
    "submission_1:\n  :submitters:\n  - :name: x\n  :deep: " + "[" * 3000 + "]" * 3000 + "\n",
], ids=["submitters-not-a-list", "nested-3000-deep"])
def test_regression_export_metadata_of_the_wrong_shape_ends_the_batch(metadata, tmp_path):
    """Was a hole (fixed): read_metadata/_gradescope trust the metadata's shape. `:submitters: 5` raises
    TypeError ('int' object is not iterable) in exports._gradescope; 3000 nested '[' raise
    RecursionError in PyYAML's composer (read_metadata catches only YAMLError). exports.expand
    catches only ExportError, so one student's zip ends the whole batch with a traceback."""
    batch = _export_batch(tmp_path, lambda subs: [_student_export(subs, "odd_metadata", metadata)])
    assert batch.grade("honest")["score"] == 100


def test_regression_export_metadata_with_many_nodes_exhausts_memory(tmp_path):
    """Was a hole (fixed): METADATA_MAX_NODES (2,000,000) bounds the YAML's nodes, not its memory: PyYAML keeps
    each node with two marks, about 700 bytes. A 4 MB metadata file of 2M nodes took 1.4 GB and
    over 2 minutes in the grading process (measured); 1,000,000 nodes (2 MB) are used here.
    Fix: bound the file's size far lower (a class's metadata is kilobytes per student) or count
    nodes against a budget of a few per submission folder."""
    metadata = "submission_1:\n  :submitters:\n  - :name: x\n  :big: [" + "a," * 1_000_000 + "a]\n"
    batch = _export_batch(tmp_path, lambda subs: [_student_export(subs, "many_nodes", metadata)], measure_rss=True)
    assert batch.grade("honest")["score"] == 100
    assert batch.extra["maxrss_mb"] < 400, f"a process of the batch peaked at {batch.extra['maxrss_mb']:.0f} MB"


def test_student_zip_shaped_like_an_export_cannot_overwrite_a_classmates_lms_row(tmp_path):
    """Was a hole (fixed): a student's own zip is taken for a course export from its layout alone. Beside the
    class's real Canvas export (alice, Canvas id 111) and Gradescope export (alice, SID 111), a
    zip holding `alice_111_999_cnn_layers.py` (Canvas) or a submission_metadata.yml naming alice
    (Gradescope), each with the untouched handout, adds a second row for alice to
    canvas_gradebook.csv / gradescope_scores.csv with the handout's 0; importing it overwrites
    her 100. Fix: grade a zip/folder as one student's unless it is named as an export, or refuse
    a second row for one LMS id."""
    ref, handout = reference_source(), HANDOUT.read_text(encoding="utf-8")

    def write(subs: Path) -> list[Path]:
        canvas = subs / "canvas_class"
        canvas.mkdir()
        (canvas / "alice_111_222_cnn_layers.py").write_text(ref, encoding="utf-8")
        (canvas / "carol_555_666_cnn_layers.py").write_text(ref, encoding="utf-8")
        with zipfile.ZipFile(subs / "bob_canvas.zip", "w") as zf:
            zf.writestr("alice_111_999_cnn_layers.py", handout)
        gradescope = subs / "gradescope_class"
        (gradescope / "submission_1").mkdir(parents=True)
        (gradescope / "submission_1" / "cnn_layers.py").write_text(ref, encoding="utf-8")
        (gradescope / "submission_metadata.yml").write_text(
            "submission_1:\n  :submitters:\n  - :name: Alice\n    :sid: '111'\n", encoding="utf-8")
        bob = _student_export(subs, "bob_gradescope", "submission_9:\n  :submitters:\n  - :name: Alice\n    :sid: '111'\n")
        with zipfile.ZipFile(bob, "a") as zf:
            zf.writestr("submission_9/cnn_layers.py", handout)
        return [canvas, subs / "bob_canvas.zip", gradescope, bob]

    batch = _export_batch(tmp_path, write)
    assert batch.grade("honest")["score"] == 100
    # Nothing tells the class's export from a student's zip laid out like one, so an LMS id
    # that two exports claim is written for neither (no import can overwrite alice's grade),
    # and the instructor is told; an id claimed once (carol) is written as usual.
    with open(batch.out / "canvas_gradebook.csv", newline="", encoding="utf-8") as f:
        canvas = [row for row in csv.reader(f)][2:]
    assert [row[5] for row in canvas if row[1] == "111"] == [], canvas
    assert [row[5] for row in canvas if row[1] == "555"] == ["100"], canvas
    assert not (batch.out / "gradescope_scores.csv").exists() or not [
        row for row in csv.DictReader(open(batch.out / "gradescope_scores.csv", newline="", encoding="utf-8"))
        if row["SID"] == "111"]
    assert "Canvas id 111 (alice) appears in" in batch.proc.stderr and "check by hand" in batch.proc.stderr
    assert "SID 111" in batch.proc.stderr


@pytest.fixture(scope="module")
def holes_ns(tmp_path_factory, starts_workers):
    needs_bwrap()
    return run_batch(tmp_path_factory.mktemp("holes-ns"), "namespace", ["silenced_vars_patch", "event_flood"])


def test_regression_silenced_bookkeeping_hides_a_vars_patch(holes_ns):
    """Was a hole (fixed): static.scan flags `np.x = ...` and `setattr(np, ...)` but not `vars(np)["x"] = ...`
    (nor `np.__dict__[...] = ...`, `vars(np).update(...)`); only the worker's own check sees it,
    and the submission can switch that off (gc -> Bookkeeping.check_patches), so the patch goes
    unflagged. It earns nothing (the grade is decided outside). Fix: in static.scan, flag
    subscript assignments and update() calls on vars(<module alias>) / <alias>.__dict__."""
    grade = holes_ns.grade("silenced_vars_patch")
    assert_same_grade(grade, holes_ns.twin("silenced_vars_patch"))  # the patch earns nothing...
    assert "patches libraries" in holes_ns.flags("silenced_vars_patch")  # ...but must be flagged


def test_regression_forged_bookkeeping_events_grow_without_bound(holes_ns):
    """Was a hole (fixed): Transcript.absorb keeps up to 50 events per reply, but nothing bounded their total:
    a submission appending distinct events to its Bookkeeping before every reply got 18,900
    events and a 6.9 MB results.json for ~400 requests (measured), growing with every request.
    Fix: Transcript.events is capped (transcript.MAX_EVENTS, then one "N more events not kept" entry)."""
    grade = holes_ns.grade("event_flood")
    assert_same_grade(grade, holes_ns.grade("honest"))
    size = (holes_ns.out / "event_flood" / "results.json").stat().st_size
    assert size < 1_000_000, f"results.json is {size / 1e6:.1f} MB ({len(grade['events'])} events)"


def _user_level_case(tmp_path: Path, case: str):
    """A private kit in tmp_path (now 0700), a folder others can enter, and the case's hostile part."""
    if os.geteuid() != 0:
        pytest.skip("the user level needs root")
    from test_hostile import case_parts

    kit = private_kit(tmp_path)
    public = Path(tempfile.mkdtemp(prefix="autograder-redteam-public-", dir="/tmp"))
    public.chmod(0o755)
    return kit, public, case_parts(case)[1]


def test_regression_user_level_refuses_a_readable_submission_only_after_grading_the_ones_before(tmp_path, public_python):
    """Was a hole (fixed): at the user level each submission is checked (Grader.grade -> require_hidden([path]))
    only when its turn comes. A student whose own file is private (zip entries keep their modes)
    and graded first reads a classmate's file that is readable by others; the batch refuses only
    when it reaches that classmate, after the leak. Fix: check every submission before the first
    worker starts (grade_batch), as detect() does for the kit and the output folder."""
    kit, public, hostile = _user_level_case(tmp_path, "copy_later_neighbour")
    try:
        first = public / "aa_first.py"
        first.write_text(reference_source() + "\n\n" + hostile.replace("@SUBS@", str(public)), encoding="utf-8")
        first.chmod(0o600)
        victim = public / "zz_victim.py"
        victim.write_text(reference_source(), encoding="utf-8")
        victim.chmod(0o644)
        out = tmp_path / "out"
        proc = _grade_cmd(kit, [first, victim], out, public_python)
        printed = json.loads((out / "aa_first" / "grade.json").read_text())["printed"] \
            if (out / "aa_first" / "grade.json").is_file() else ""
        assert proc.returncode == 2, proc.stderr[-1000:]
        assert "NEIGHBOUR-READ" not in printed, "a classmate's file was read before the batch refused it"
        assert not (out / "aa_first" / "grade.json").exists(), "student code ran before the batch refused"
    finally:
        shutil.rmtree(public, ignore_errors=True)


def test_regression_user_level_creates_a_readable_output_folder(tmp_path, public_python):
    """Was a hole (fixed): detect() checks that the output folder is unreadable to others only if it exists
    (readable_by_others skips missing paths), and the CLI probes the sandbox before grade_batch
    creates it with mkdir's default 0755. In a folder others can enter (a /tmp path, a course
    folder), a later student reads every earlier student's results.json and feedback.md. Fix:
    create the output folder 0700 at the user level (or check after creating it)."""
    kit, public, hostile = _user_level_case(tmp_path, "read_outputs")
    try:
        out = public / "out"
        honest = tmp_path / "aa_honest.py"
        honest.write_text(reference_source(), encoding="utf-8")
        reader = tmp_path / "zz_reader.py"
        reader.write_text(reference_source() + "\n\n" + hostile.replace("@OUT@", str(out)), encoding="utf-8")
        proc = _grade_cmd(kit, [honest, reader], out, public_python)
        if proc.returncode == 2:
            assert "chmod" in proc.stderr
            return
        assert proc.returncode == 0, proc.stderr[-1000:]
        printed = json.loads((out / "zz_reader" / "grade.json").read_text())["printed"]
        assert "OUT-FOUND" not in printed, f"mode {oct(out.stat().st_mode)}: {printed[-500:]}"
    finally:
        shutil.rmtree(public, ignore_errors=True)


def test_regression_a_large_source_exhausts_the_grading_process(tmp_path):
    """Was a hole (fixed): MAX_SOURCE_BYTES (5 MB) bounds the source's size, not what parsing it costs: static.scan
    (and cell_label's parse of each notebook cell) build the whole AST in the trusted grading
    process, about 600 bytes per trivial statement. 5 MB of `a=1` took 3.2 GB and 31 s there
    (measured); 2.4 MB are used here. (Such a source cannot even reach the worker: the load request
    carries it in a JSON header, which wire.unpack refuses above 1 MB.) Fix: a far lower size limit
    (the reference is ~20 KB), or parse in a child process with an address-space limit and a timeout."""
    def write(subs: Path) -> list[Path]:
        path = subs / "large_source.py"
        path.write_text(reference_source() + "\n" + "a=1\n" * 600_000, encoding="utf-8")
        return [path]

    batch = _export_batch(tmp_path, write, measure_rss=True)
    assert batch.grade("honest")["score"] == 100
    assert batch.extra["maxrss_mb"] < 800, f"a process of the batch peaked at {batch.extra['maxrss_mb']:.0f} MB"


# -- 7. the capstone: every graded number is computed by the grader (issue 16) -------------------
CAPSTONE = _assignment.load("cnn_capstone")
CAPSTONE_SOLUTION = ROOT / "solutions" / "cnn_capstone"
CAPSTONE_CASES = [
    "capstone_lookup_digits", "capstone_nearest_strip", "capstone_embedded_weights", "capstone_ignores_data",
    "capstone_cache_last_answer", "capstone_cache_by_input",
]
CAPSTONE_ITEMS = [q.item for q in CAPSTONE.questions]


def weights_trained_elsewhere() -> str:
    """An .npz (base64) of DigitCNN's parameters trained by the reference on all 1,797 digits at
    every offset, from a start of its own: a better network than the grader's training gives."""
    from autograder.engine.grading import load_reference
    from autograder.suites.cnn_capstone import harness

    reference = load_reference(CAPSTONE)
    images, labels = harness.digits(reference)
    model = harness.reference_model(reference, harness.initial_weights(harness.SHAPES, np.random.default_rng(16)))
    reference.train(model, reference.place_on_strip(images, np.arange(len(images)) % 5), labels, 3, 8, 0.01, 16)
    buffer = io.BytesIO()
    np.savez(buffer, **{f"p{i}": p.data for i, p in enumerate(model.parameters())})
    return base64.b64encode(buffer.getvalue()).decode()


def capstone_batch(tmp: Path) -> Batch:
    """The capstone's hostile cases (tests/hostile/capstone_*.py, appended to the reference capstone.py)
    and their honest twins, graded in one namespace batch beside two honest classmates: the
    reference (vectorised) and the bundled four-loop first part."""
    from autograder.engine.submission import submission_name

    subs, out, run = tmp / "subs", tmp / "out", tmp / "run"
    for folder in (subs, run, tmp / "T"):
        folder.mkdir()
    capstone = (CAPSTONE_SOLUTION / "capstone.py").read_text(encoding="utf-8")
    layers = CAPSTONE_SOLUTION / "cnn_layers.py"
    digits = base64.b64encode((CAPSTONE.folder / "handout_files" / "digits.csv.gz").read_bytes()).decode()
    fill = {"@DIGITS@": digits, "@WEIGHTS@": weights_trained_elsewhere()}
    paths: list[Path] = []
    by_source: dict[str, str] = {}

    def add(name: str, source: str, first_part: Path = layers) -> str:
        folder = subs / name
        folder.mkdir()
        (folder / "capstone.py").write_text(source, encoding="utf-8")
        shutil.copyfile(first_part, folder / "cnn_layers.py")
        paths.append(folder)
        by_source.setdefault(source, name)
        return name

    add("honest", capstone)
    add("four_loops", capstone, bundled_examples(CAPSTONE) / "part1_four_loops" / "cnn_layers.py")
    twins = {}
    for case in CAPSTONE_CASES:
        honest, hostile = case_parts(case)
        for key, value in fill.items():
            hostile = hostile.replace(key, value)
        twin_source = capstone + "\n\n" + honest if honest.strip() else capstone
        twins[case] = by_source.get(twin_source) or add(f"twin_{case}", twin_source)
        add(case, twin_source + "\n\n" + hostile)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "PYTEST_"))}
    env.update({"AUTOGRADER_ISOLATION": "namespace", "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp / "T")})
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", *map(str, paths), "--assignment", "cnn_capstone",
                           "--out", str(out), "--jobs", "2", "--quiet"],
                          cwd=run, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"grading failed ({proc.returncode}): {proc.stderr[-3000:]}"
    return Batch("namespace", tmp, subs, out, "", twins, proc, time.monotonic() - started,
                 [submission_name(p) for p in paths])


@pytest.fixture(scope="module")
def capstone(tmp_path_factory, starts_workers):
    needs_bwrap()
    return capstone_batch(tmp_path_factory.mktemp("integrity-capstone"))


def _train_checks(grade: dict) -> dict[str, dict]:
    return {t["name"].split(": ", 1)[1]: t for t in checks_of(grade, "train")}


def test_capstone_honest_classmates_keep_full_marks_their_own_times_and_no_flags(capstone):
    honest, loops = capstone.grade("honest"), capstone.grade("four_loops")
    for name, grade in (("honest", honest), ("four_loops", loops)):
        assert grade["score"] == 100 and grade["status"] == "graded", [t for t in grade["tests"] if t["status"] != "passed"]
        assert capstone.flags(name) == []
        assert grade["measures"]["accuracy"] == grade["measures"]["reference_accuracy"]
    # Each time is its own code's: four loops are far slower than the vectorised reference in the same batch.
    for measure in ("conv2d_forward_ms", "conv2d_backward_ms"):
        assert loops["measures"][measure] > 5 * honest["measures"][measure], (measure, loops["measures"], honest["measures"])
    assert sorted(os.listdir(capstone.root / "T")) == []


@pytest.mark.parametrize("case", ["capstone_lookup_digits", "capstone_nearest_strip"])
def test_capstone_without_layers_earns_no_training_point_from_its_own_predict(capstone, case):
    """Before: the grader asked the student's predict for the test strips: a lookup in the digits
    file scored 100 %, the nearest training strip 97.7 %, and both earned the training question."""
    grade, twin = capstone.grade(case), capstone.twin(case)
    assert grade["by_item"]["train"] == 0 and twin["by_item"]["train"] == 0
    assert_not_above(grade, twin)
    assert "accuracy" not in grade["measures"] and "filters" not in grade["measures"]
    trained = _train_checks(grade)
    assert any("train() changed none of them" in t["output"] for t in trained.values()), trained
    predict = [t for t in checks_of(grade, "DigitCNN") if "predict(model, x)" in t["name"]]
    assert predict and predict[0]["status"] == "failed"


@pytest.mark.parametrize("case", ["capstone_embedded_weights", "capstone_ignores_data"])
def test_capstone_network_not_trained_from_the_graders_start_earns_no_training_point(capstone, case):
    """Correct layers, but the network is not what training them from the grader's weights on its
    batches gives: weights trained elsewhere (on the test digits too), or training on other data."""
    grade, twin = capstone.grade(case), capstone.twin(case)
    assert twin["by_item"]["train"] == 30
    assert grade["by_item"]["train"] == 0
    assert_full(grade, [i for i in CAPSTONE_ITEMS if i != "train"])
    trained = _train_checks(grade)
    failed = [t for t in trained.values() if t["kind"] == "fail"]
    assert failed and "away from the reference's" in failed[0]["output"], trained
    assert all(t["kind"] == "unmet" for t in trained.values() if t is not failed[0])
    assert "accuracy" not in grade["measures"] and "filters" not in grade["measures"]


def test_capstone_convolution_remembering_its_last_answer_records_no_time(capstone):
    """Before: the timed calls repeated the first call's input; this ranked first with under 4 ms."""
    grade, twin = capstone.grade("capstone_cache_last_answer"), capstone.twin("capstone_cache_last_answer")
    assert grade["by_item"] == twin["by_item"] and grade["score"] == twin["score"] == 100
    speed = checks_of(grade, "conv2d_forward")[0]
    assert speed["status"] == "failed" and "wrong values" in speed["output"], speed
    assert not [m for m in grade["measures"] if m.endswith("_ms")], grade["measures"]
    assert twin["measures"]["conv2d_forward_ms"] > 0


def test_capstone_convolution_answering_repeated_inputs_from_a_cache_is_timed_as_its_own_work(capstone):
    grade, twin = capstone.grade("capstone_cache_by_input"), capstone.twin("capstone_cache_by_input")
    assert_same_grade(grade, twin)
    honest = capstone.grade("honest")["measures"]
    for measure in ("conv2d_forward_ms", "conv2d_backward_ms"):
        # No input repeats, so the cache never answers: as slow as the four loops it wraps (loosely:
        # the two run at the same time as other work; the cache, when it answered, was 500x faster).
        assert grade["measures"][measure] > 0.2 * twin["measures"][measure], (measure, grade["measures"], twin["measures"])
        assert grade["measures"][measure] > 5 * honest[measure]


def test_capstone_class_report_draws_a_network_that_earned_its_points(capstone):
    html = (capstone.out / "report.html").read_text(encoding="utf-8")
    caption = html.split("Learned conv1 filters of the most accurate network: ", 1)[1].split("</figcaption>", 1)[0]
    best = caption.split(">", 1)[1].split("<", 1)[0]
    assert capstone.grade(best)["by_item"]["train"] == 30, best
    # Not a network that faked its training (the first four cases); a leaderboard attack whose
    # training is honest work may well be the most accurate.
    assert best not in CAPSTONE_CASES[:4], best
    for case in CAPSTONE_CASES[:4]:
        assert "accuracy" not in capstone.grade(case)["measures"], case
