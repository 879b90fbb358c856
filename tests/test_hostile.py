"""Hostile submissions are graded as their honest work deserves.

Each case in tests/hostile/ is the reference solution (read at test time)
with tampering added, or an honestly wrong solution with tampering meant to
make it pass. Every case is graded in the same batch as its *honest twin*
(the same submission without the tampering) by the real command line,
`python -m autograder grade ... --jobs 2 --quiet`, once per isolation
level:

- namespace (bubblewrap): every case;
- user (an unprivileged uid) and none (a plain subprocess): the cases the
  fallbacks must still handle (exits, loops, reading files, processes).

The tests then read grade.json / results.json / grades.csv and check, per
case, that the tampering earned nothing (hostile <= twin, item by item, and
== where it should have no effect at all), that it was flagged, that
nothing was written outside where it may write, that no process survived,
and that the batch finished.

Run: .venv/bin/python -m pytest tests/test_hostile.py -q   (about a minute and a half)
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import golden_outputs

# Every test here grades hostile submissions in batches of sandboxed workers.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
REFERENCE = ROOT / "solutions" / "cnn" / "cnn_layers.py"
SEPARATOR = "# ==== HOSTILE ====\n"
BATCH_TIMEOUT = 900  # seconds; a batch that takes longer has stalled

# The questions of assignments/cnn/assignment.toml. A case that breaks one
# function must leave the items that do not call it at full points.
ALL_ITEMS = ("conv_output_size", "pad", "conv2d_forward", "conv2d_backward",
             "maxpool_forward", "maxpool_backward", "Conv2d", "MaxPool2d")


def items_except(*lost):
    return [i for i in ALL_ITEMS if i not in lost]


# -- building submissions ----------------------------------------------------
def reference_source() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def expand(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("# include: "):
            lines.append(expand((HOSTILE / line.split(":", 1)[1].strip()).read_text(encoding="utf-8")))
        else:
            lines.append(line)
    return "".join(lines)


def case_parts(case: str) -> tuple[str, str]:
    """(honest part, hostile part) of tests/hostile/<case>.py."""
    text = (HOSTILE / f"{case}.py").read_text(encoding="utf-8")
    assert SEPARATOR in text, f"{case}.py has no '{SEPARATOR.strip()}' line"
    honest, hostile = text.split(SEPARATOR, 1)
    return expand(honest), expand(hostile)


@dataclass
class Batch:
    level: str
    root: Path
    subs: Path
    out: Path
    mark: str
    twins: dict[str, str]
    proc: subprocess.CompletedProcess
    elapsed: float
    names: list[str]
    leftovers: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def grade(self, name: str) -> dict:
        return json.loads((self.out / name / "grade.json").read_text(encoding="utf-8"))

    def results(self, name: str) -> dict:
        return json.loads((self.out / name / "results.json").read_text(encoding="utf-8"))

    def twin(self, case: str) -> dict:
        return self.grade(self.twins[case])

    def flags(self, name: str) -> list[str]:
        return self.results(name)["extra_data"]["flags"]

    def leftovers_of(self, case: str) -> list[str]:
        signs = [sign.format(m=self.mark[:12]) for sign in LEFTOVER_SIGNS[case]]
        return [line for line in self.leftovers if any(sign in line for sign in signs)]

    def rows(self) -> list[dict]:
        with open(self.out / "grades.csv", newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))


def marked_processes(mark: str) -> list[tuple[int, str]]:
    """Live processes whose command line or name carries this run's marker, as (pid, "[comm] cmdline")."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            comm = Path(f"/proc/{entry}/comm").read_text(errors="replace").strip()
            state = Path(f"/proc/{entry}/stat").read_text(errors="replace").rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and (mark in cmdline or mark[:12] in comm):
            found.append((int(entry), f"[{comm}] {cmdline.strip()[:160]}"))
    return found


# How each case marks the processes it starts (see the files in tests/hostile/).
LEFTOVER_SIGNS = {
    "spawn_leftovers": ("sleep 1000.{m}", "orphan-{m}", "[s{m}]", "[d{m}]"),
    "fork_bomb": ("[b{m}]",),
    "loop_import": ("[i{m}]",),
    "loop_method": ("[m{m}]",),
    "sigterm_sleep": ("[t{m}]",),
}


def kill_marked(mark: str) -> None:
    for pid, _ in marked_processes(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def build_zip(path: Path, mark: str, escape_dir: Path) -> None:
    """A zip whose one good entry is the reference, with entries that try to leave the folder."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("cnn_layers.py", reference_source())
        zf.writestr(f"../../evil_{mark}_up.py", "print('escaped')\n")
        zf.writestr(zipfile.ZipInfo(f"/tmp/evil_{mark}_abs.txt"), "escaped\n")
        zf.writestr(f"notes/../../../evil_{mark}_deep.txt", "escaped\n")
        link = zipfile.ZipInfo(f"link_{mark}")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, str(escape_dir))
        zf.writestr(f"link_{mark}/evil_{mark}_through_link.txt", "escaped\n")
    names = zipfile.ZipFile(path).namelist()
    assert f"/tmp/evil_{mark}_abs.txt" in names and f"../../evil_{mark}_up.py" in names


STDLIB_IMPORTS = """

import decimal, fractions, glob, queue, statistics  # noqa: E401 - honest use of the standard library

_CHECK = (statistics.mean([1, 2]) + float(fractions.Fraction(1, 2)) + float(decimal.Decimal("0.5")),
          queue.Queue().empty(), glob.escape("x"))
"""


def private_kit(tmp: Path) -> Path:
    """A copy of the kit only root can read, as run_autograder leaves it on Gradescope.

    The unprivileged-uid level refuses to grade while the kit is readable by
    other users; a checkout usually is.
    """
    kit = tmp / "kit"
    kit.mkdir()
    for name in ("autograder", "assignments", "solutions", "student_template"):
        shutil.copytree(ROOT / name, kit / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(ROOT / "pyproject.toml", kit / "pyproject.toml")
    tmp.chmod(0o700)
    return kit


def run_batch(tmp: Path, level: str, cases: list[str], extras: tuple[str, ...] = (), extra_env=None,
              kit: Path = ROOT, build=None, measure_rss: bool = False, args: tuple[str, ...] = ()) -> Batch:
    """Write the cases and their twins, grade them all in one command, collect the results.

    `build(subs, fill)` may add submissions of other shapes (notebooks, zips, exports):
    it returns {path: name of its honest twin, or None}. With `measure_rss`, the
    command's peak memory (its largest process, in MB) lands in extra["maxrss_mb"].
    """
    mark = str(random.SystemRandom().randrange(10**11, 10**12))  # 12 digits, also a valid sleep time
    subs, out, run = tmp / "subs", tmp / "out", tmp / "run"
    for folder in (subs, run):
        folder.mkdir()
    ref = reference_source()
    subst = {"@KIT@": str(kit), "@OUT@": str(out), "@MARK@": mark, "@SUBS@": str(subs),
             "@SITE@": sysconfig.get_path("purelib"),
             "@VICTIM@": str(subs / "victim.py"), "@CONFTEST_RAN@": str(tmp / "conftest_ran.txt")}

    def fill(text: str) -> str:
        for key, value in subst.items():
            text = text.replace(key, value)
        return text

    paths: list[Path] = []
    by_source: dict[str, str] = {}

    def add_module(name: str, source: str) -> str:
        path = subs / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        paths.append(path)
        by_source.setdefault(source, name)
        return name

    add_module("honest", ref)
    add_module("twin_wrong", ref + "\n\n" + expand((HOSTILE / "wrong_answers.py").read_text(encoding="utf-8")))
    twins = {}
    for case in cases:
        honest, hostile = case_parts(case)
        twin_source = ref + "\n\n" + fill(honest) if honest.strip() else ref
        twins[case] = by_source.get(twin_source) or add_module(f"twin_{case}", twin_source)
        add_module(case, twin_source + "\n\n" + fill(hostile))
    extra = {}
    if "victim" in extras:  # the classmate copy_neighbour tries to copy
        add_module("victim", ref)
    if "stdlib_imports" in extras:  # honest: the reference using standard modules numpy does not import
        add_module("stdlib_imports", ref + STDLIB_IMPORTS)
    if "conftest_folder" in extras:
        folder = subs / "conftest_folder"
        folder.mkdir()
        (folder / "cnn_layers.py").write_text((subs / "twin_wrong.py").read_text(encoding="utf-8"), encoding="utf-8")
        (folder / "conftest.py").write_text(fill((HOSTILE / "conftest_folder" / "conftest.py").read_text()), encoding="utf-8")
        paths.append(folder)
        twins["conftest_folder"] = "twin_wrong"
    if "zip_slip" in extras:
        escape_dir = tmp / "escape_target"
        escape_dir.mkdir()
        build_zip(subs / "zip_slip.zip", mark, escape_dir)
        paths.append(subs / "zip_slip.zip")
        twins["zip_slip"] = "honest"
        extra["escape_dir"] = escape_dir
    if "symlink_folder" in extras:
        # A folder whose cnn_layers.py is a symbolic link to the kit's reference
        # (what `unzip` makes of a zip holding such a link).
        folder = subs / "symlink_folder"
        folder.mkdir()
        (folder / "cnn_layers.py").symlink_to(REFERENCE)
        paths.append(folder)
    if build is not None:
        for path, twin in build(subs, fill).items():
            paths.append(path)
            if twin:
                twins[path.name.split(".")[0]] = twin

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "PYTEST_"))}
    env["AUTOGRADER_ISOLATION"] = level
    env["PYTHONPATH"] = str(kit)
    if kit != ROOT:
        env["AUTOGRADER_ROOT"] = str(kit)
    env.update(extra_env or {})
    if level == "namespace":
        # The grader's own temporary folders (zip extraction, workers' folders)
        # go here, so the test can see that they are removed and that no zip
        # entry climbed out of them.
        (tmp / "T").mkdir()
        env["TMPDIR"] = str(tmp / "T")
    # The peak resident memory of any process of the command (the grader, its jobs, workers).
    prefix = [sys.executable, "-c", RSS_WRAPPER] if measure_rss else []
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "autograder", "grade", *map(str, paths), "--out", str(out), "--jobs", "2", "--quiet", *args],
            cwd=run, env=env, capture_output=True, text=True, timeout=BATCH_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        kill_marked(mark)
        pytest.fail(f"the {level} batch did not finish within {BATCH_TIMEOUT} s")
    elapsed = time.monotonic() - started
    leftovers = [line for _, line in marked_processes(mark)]
    kill_marked(mark)  # leave the machine clean even when the check below fails
    from autograder.engine.submission import submission_name

    extra["kit"] = kit
    if measure_rss:
        extra["maxrss_mb"] = int(proc.stderr.rsplit("MAXRSS-KB ", 1)[1].split()[0]) / 1024
    batch = Batch(level, tmp, subs, out, mark, twins, proc, elapsed, [submission_name(p) for p in paths],
                  leftovers, extra)
    assert proc.returncode == 0, f"grading failed ({proc.returncode}): {proc.stderr[-3000:]}"
    return batch


RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "print('MAXRSS-KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def needs_bwrap():
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap (bwrap) is not installed")


NAMESPACE_CASES = [
    # slow ones first, so that the two jobs share them
    "loop_import", "loop_method", "sigterm_sleep", "fork_bomb",
    "exit_import_os", "exit_import_sys", "exit_call_os", "exit_call_sys",
    "patch_libraries", "fake_results", "rigged_values", "read_reference", "copy_neighbour",
    "fake_output", "memory_hog", "spawn_leftovers", "garbage_import", "garbage_call", "forged_frames",
]
USER_CASES = ["loop_method", "fork_bomb", "exit_call_os", "read_reference", "copy_neighbour", "spawn_leftovers"]
NONE_CASES = ["loop_method", "exit_call_os", "read_reference", "spawn_leftovers"]


@pytest.fixture(scope="module")
def ns(tmp_path_factory, starts_workers):
    needs_bwrap()
    # One seed for all: a case's code holds this run's random mark and folders, which the seed would follow.
    return run_batch(tmp_path_factory.mktemp("ns"), "namespace", NAMESPACE_CASES,
                     ("victim", "conftest_folder", "zip_slip", "symlink_folder", "stdlib_imports"), args=("--seed", "7"))


@pytest.fixture(scope="module")
def user(tmp_path_factory, public_python, starts_workers):
    if os.geteuid() != 0:
        pytest.skip("the user level needs root")
    # As on Gradescope, the worker's Python is one other users can read, and the kit is not.
    tmp = tmp_path_factory.mktemp("user")
    return run_batch(tmp, "user", USER_CASES, ("victim", "stdlib_imports"),
                     extra_env={"AUTOGRADER_WORKER_PYTHON": public_python}, kit=private_kit(tmp))


@pytest.fixture(scope="module")
def plain(tmp_path_factory, public_python, starts_workers):
    # Even with no sandbox, student code does not run as root: as root, it needs a public Python.
    env = {"AUTOGRADER_WORKER_PYTHON": public_python} if os.geteuid() == 0 else {}
    return run_batch(tmp_path_factory.mktemp("none"), "none", NONE_CASES, ("stdlib_imports",), extra_env=env)


# -- helpers for assertions ----------------------------------------------------
def item_max(grade: dict) -> dict[str, float]:
    maxima: dict[str, float] = {}
    for t in grade["tests"]:
        maxima[t["item"]] = maxima.get(t["item"], 0.0) + t["max_score"]
    return {k: round(v, 2) for k, v in maxima.items()}


def checks_of(grade: dict, item: str) -> list[dict]:
    found = [t for t in grade["tests"] if t["item"] == item]
    assert found, f"no tests of {item} in {grade['name']}"
    return found


def statuses(grade: dict) -> dict[str, str]:
    return {t["name"]: t["status"] for t in grade["tests"]}


def assert_same_grade(hostile: dict, twin: dict) -> None:
    """The tampering changed nothing: same total, same items, same test outcomes."""
    assert statuses(hostile) == statuses(twin), (
        f"{hostile['name']} vs {twin['name']}: "
        + str({k: (v, statuses(twin).get(k)) for k, v in statuses(hostile).items() if statuses(twin).get(k) != v})
    )
    assert hostile["by_item"] == twin["by_item"]
    assert hostile["score"] == twin["score"]


def assert_not_above(hostile: dict, twin: dict) -> None:
    """The tampering earned nothing anywhere: no item above the honest twin's."""
    above = {i: (s, twin["by_item"][i]) for i, s in hostile["by_item"].items() if s > twin["by_item"][i] + 1e-9}
    assert not above, f"{hostile['name']} scored above its honest twin {twin['name']}: {above}"
    assert hostile["score"] <= twin["score"] + 1e-9
    twin_status = statuses(twin)
    gained = [name for name, status in statuses(hostile).items() if status == "passed" and twin_status[name] != "passed"]
    assert not gained, f"{hostile['name']} passed checks its honest twin fails: {gained}"


def assert_full(grade: dict, items) -> None:
    maxima = item_max(grade)
    short = {i: (grade["by_item"][i], maxima[i]) for i in items if grade["by_item"][i] < maxima[i] - 1e-9}
    assert not short, f"{grade['name']} lost points on items its tampering did not touch: {short}"


def assert_whole_loss(grade: dict, items) -> None:
    assert {i: grade["by_item"][i] for i in items} == {i: 0.0 for i in items}


# -- the batch as a whole --------------------------------------------------------
def check_batch(batch: Batch) -> None:
    rows = batch.rows()
    names = [r["name"] for r in rows]
    assert sorted(names) == sorted(batch.names), "grades.csv must have exactly one row per submission"
    for name in batch.names:
        grade, results = batch.grade(name), batch.results(name)
        assert (batch.out / name / "feedback.md").is_file()
        assert results["score"] == grade["score"]
        row = next(r for r in rows if r["name"] == name)
        assert float(row["total"]) == grade["score"]
        assert row["status"] == grade["status"]
    honest = batch.grade("honest")
    assert honest["score"] == 100 and honest["status"] == "graded"
    assert batch.grade("twin_wrong")["score"] < 100


def test_namespace_batch_completes_with_one_result_each(ns):
    check_batch(ns)
    assert ns.results("honest")["extra_data"]["isolation_level"] == "namespace"
    # The students' prints (fake pytest summaries, fake JSON) never reach the grader's terminal.
    assert "passed" not in ns.proc.stdout + ns.proc.stderr
    assert '"score"' not in ns.proc.stdout + ns.proc.stderr
    # Nothing of the grader's own temporary folders remains (worker folders, extracted zips).
    assert sorted(os.listdir(ns.root / "T")) == []
    assert not ns.leftovers, f"processes started by the submissions outlived the batch: {ns.leftovers}"


# Cases whose outcome has no timing in it: their outputs must stay those of the snapshot (read_reference
# walks the whole file system for a while: what it finds depends on the machine).
STEADY = ["honest", "twin_wrong", "victim", "stdlib_imports", "conftest_folder", "zip_slip", "symlink_folder",
          "exit_import_os", "exit_import_sys", "exit_call_os", "exit_call_sys", "patch_libraries", "fake_results",
          "rigged_values", "copy_neighbour", "fake_output", "garbage_import", "garbage_call",
          "forged_frames"]


def test_steady_cases_give_the_outputs_of_the_snapshot(ns):
    golden_outputs.compare("hostile_namespace", golden_outputs.outputs(ns.out, set(STEADY), report=False),
                           {str(ns.root): "<tmp>", ns.mark: "<mark>", str(ROOT): "<kit>"})


# -- exits -----------------------------------------------------------------------
@pytest.mark.parametrize("case, reason", [("exit_import_os", "exited with code 0"), ("exit_import_sys", "sys.exit(0)")])
def test_exit_at_import_costs_the_submission(ns, case, reason):
    grade = ns.grade(case)
    assert grade["score"] == 0
    assert grade["state"] == "not-loaded" and reason in grade["status"], grade["status"]
    assert all(t["status"] == "failed" for t in grade["tests"])
    assert "exits the process" in ns.flags(case)


@pytest.mark.parametrize("case, reason", [
    ("exit_call_os", "the worker exited with code 0 during the call"),
    ("exit_call_sys", "sys.exit(0)"),
])
def test_exit_inside_a_call_costs_only_that_function(ns, case, reason):
    grade = ns.grade(case)
    assert_same_grade(grade, ns.twin(case))
    for t in checks_of(grade, "conv2d_forward"):
        assert t["status"] == "failed" and reason in t["output"], t
    assert_whole_loss(grade, ["conv2d_forward"])
    assert_full(grade, items_except("conv2d_forward", "Conv2d"))  # Conv2d.forward calls conv2d_forward
    assert grade["state"] == "graded"
    assert "exits the process" in ns.flags(case)


# -- patching and rigged values ------------------------------------------------------
def test_patching_libraries_earns_nothing(ns):
    grade, twin = ns.grade("patch_libraries"), ns.twin("patch_libraries")
    assert twin["by_item"]["conv2d_forward"] < item_max(twin)["conv2d_forward"]  # the twin is really wrong
    assert_same_grade(grade, twin)
    assert "patches libraries" in ns.flags("patch_libraries")
    patched = {e["detail"] for e in grade["events"] if e["kind"] == "patched"}
    assert {"numpy.testing.assert_allclose", "numpy.allclose", "numpy.array_equal"} <= patched, patched


def test_rigged_values_get_no_credit(ns):
    grade, twin = ns.grade("rigged_values"), ns.twin("rigged_values")
    assert_not_above(grade, twin)
    # Objects that are not arrays (rigged __eq__, __array__) are not graded as arrays at all:
    # every check that looks at a returned value fails, even where the twin's zeros pass.
    valued = [t for t in checks_of(grade, "conv2d_forward") + checks_of(grade, "maxpool_forward")
              if "raise" not in t["name"].lower()]
    assert valued and all(t["status"] == "failed" for t in valued), [t["name"] for t in valued if t["status"] != "failed"]
    # An ndarray subclass is graded on its (wrong) values, exactly like plain zeros.
    backward = [t["status"] for t in checks_of(grade, "maxpool_backward")]
    assert backward == [t["status"] for t in checks_of(twin, "maxpool_backward")]
    assert grade["by_item"]["maxpool_backward"] == twin["by_item"]["maxpool_backward"] < item_max(twin)["maxpool_backward"]
    assert_full(grade, items_except("conv2d_forward", "maxpool_forward", "maxpool_backward", "Conv2d", "MaxPool2d"))
    flags = ns.flags("rigged_values")
    assert "defines rigged comparisons or array subclasses" in flags
    assert "returned an ndarray subclass" in flags


# -- files -------------------------------------------------------------------------
def test_forged_result_files_change_nothing(ns):
    grade = ns.grade("fake_results")
    assert_same_grade(grade, ns.grade("honest"))
    assert "writes files" in ns.flags("fake_results")
    tag = "FORGED-" + ns.mark
    # Nowhere the grader or an instructor looks: the --out folder, the folder
    # the grader ran in, their parents, the whole test folder except the
    # submissions' sources, Gradescope's results path and the usual suspects.
    suspects = [p for p in ns.root.rglob("*") if p.is_file() and ns.subs not in p.parents]
    suspects += [Path(p) for p in ("/autograder/results/results.json", "/results.json", "/grades.csv",
                                   "/tmp/results.json", "/tmp/grades.csv", "/home/results.json",
                                   "/home/grades.csv", str(ns.root.parent / "grades.csv"))]
    touched = [str(p) for p in suspects if p.is_file() and tag in p.read_text(errors="replace")]
    assert not touched, f"forged files written by the submission: {touched}"
    rows = {r["name"]: r for r in ns.rows()}
    assert rows["fake_results"]["total"] == "100" and tag not in rows["fake_results"]["flags"]


def test_conftest_in_a_folder_is_ignored(ns):
    grade = ns.grade("conftest_folder")
    assert_same_grade(grade, ns.grade("twin_wrong"))
    assert not (ns.root / "conftest_ran.txt").exists(), "the submission's conftest.py was executed"
    assert "submitted a conftest.py" in ns.flags("conftest_folder")
    assert any("conftest.py" in note for note in grade["notes"])


def test_zip_entries_cannot_leave_the_extraction_folder(ns):
    grade = ns.grade("zip_slip")
    assert_same_grade(grade, ns.grade("honest"))  # the good entry is graded
    assert "zip had unsafe entries" in ns.flags("zip_slip")
    escaped = [str(p) for p in ns.root.rglob(f"*evil_{ns.mark}*") if ns.subs not in p.parents]
    escaped += [p for p in (f"/evil_{ns.mark}_up.py", f"/tmp/evil_{ns.mark}_abs.txt",
                            f"/evil_{ns.mark}_deep.txt", f"/tmp/evil_{ns.mark}_deep.txt") if os.path.exists(p)]
    assert not escaped, f"zip entries written outside the extraction folder: {escaped}"
    assert os.listdir(ns.extra["escape_dir"]) == [], "a zip entry was written through a symbolic link"


def test_symlink_out_of_a_folder_is_not_followed(ns):
    grade = ns.grade("symlink_folder")
    assert grade["score"] == 0, f"a symbolic link to the reference was graded: {grade['score']}"
    assert any(f["kind"] == "symlink" for f in grade["findings"]), grade["findings"]


# -- reading what it must not see ---------------------------------------------------
def test_reference_and_suite_are_out_of_sight(ns):
    grade = ns.grade("read_reference")
    assert "SEARCHED-REFERENCE nothing found" in grade["printed"], grade["printed"][-2000:]
    assert "SEARCHED-SUITE nothing found" in grade["printed"]
    assert "FOUND-" not in grade["printed"]
    assert_same_grade(grade, ns.twin("read_reference"))
    assert "reads files" in ns.flags("read_reference")


def test_another_submission_of_the_batch_is_out_of_sight(ns):
    grade = ns.grade("copy_neighbour")
    assert "SEARCHED-NEIGHBOUR nothing found" in grade["printed"], grade["printed"][-2000:]
    assert_same_grade(grade, ns.twin("copy_neighbour"))
    assert ns.grade("victim")["score"] == 100


# -- output ---------------------------------------------------------------------------
def test_fake_output_and_floods_change_nothing(ns):
    grade = ns.grade("fake_output")
    assert_same_grade(grade, ns.twin("fake_output"))
    # 10 MB and more were printed; the grader kept a bounded part and did not stall.
    assert len(grade["printed"]) <= 100_000
    assert (ns.out / "fake_output" / "results.json").stat().st_size < 1_000_000
    assert grade["execution_time"] < 60
    assert ns.results("fake_output")["score"] == ns.twin("fake_output")["score"]


# -- time, memory, processes -------------------------------------------------------------
def test_infinite_loop_at_import_costs_the_submission_only(ns):
    grade = ns.grade("loop_import")
    assert grade["score"] == 0
    assert grade["state"] == "load-timeout", grade["status"]
    assert grade["execution_time"] < 60  # the import limit, not the whole batch
    assert ns.grade("honest")["score"] == 100


def test_infinite_loop_in_a_function_costs_only_its_tests(ns):
    grade = ns.grade("loop_method")
    assert_same_grade(grade, ns.twin("loop_method"))
    timed_out = [t for t in checks_of(grade, "MaxPool2d") if "timed out after" in t["output"]]
    assert timed_out and all(t["status"] == "failed" and t["duration"] < 15 for t in timed_out), timed_out
    assert_full(grade, items_except("MaxPool2d"))
    assert "timeout" in grade["status"]
    assert not ns.leftovers_of("loop_method"), ns.leftovers


def test_ignoring_sigterm_and_sleeping_is_killed_anyway(ns):
    grade = ns.grade("sigterm_sleep")
    assert_same_grade(grade, ns.twin("sigterm_sleep"))
    timed_out = [t for t in checks_of(grade, "MaxPool2d") if "timed out after" in t["output"]]
    assert timed_out and all(t["status"] == "failed" for t in timed_out)
    assert_full(grade, items_except("MaxPool2d"))
    assert "sends or handles signals" in ns.flags("sigterm_sleep")


def test_huge_allocation_fails_only_that_function(ns):
    grade = ns.grade("memory_hog")
    assert_same_grade(grade, ns.twin("memory_hog"))
    for t in checks_of(grade, "maxpool_forward"):
        assert t["status"] == "failed" and "MemoryError" in t["output"], t
    assert_full(grade, items_except("maxpool_forward", "MaxPool2d"))


def test_spawned_processes_do_not_survive(ns):
    grade = ns.grade("spawn_leftovers")
    assert_same_grade(grade, ns.grade("honest"))
    assert "starts processes" in ns.flags("spawn_leftovers")
    spawned = {e["detail"].split()[0] for e in grade["events"] if e["kind"] == "spawn"}
    assert {"subprocess.Popen", "os.fork"} <= spawned, grade["events"]
    assert not ns.leftovers_of("spawn_leftovers"), ns.leftovers


def test_fork_bomb_does_not_stall_the_batch(ns):
    grade = ns.grade("fork_bomb")
    assert_same_grade(grade, ns.twin("fork_bomb"))
    assert_full(grade, items_except("MaxPool2d"))
    assert grade["execution_time"] < 120
    assert not ns.leftovers_of("fork_bomb"), ns.leftovers


# -- the grader's channel -------------------------------------------------------------------
def test_garbage_in_the_channel_at_import(ns):
    grade = ns.grade("garbage_import")
    assert_not_above(grade, ns.grade("honest"))
    text = grade["status"] + " ".join(t["output"] for t in grade["tests"])
    assert "malformed" in text, grade["status"]


def test_garbage_in_the_channel_during_a_call(ns):
    grade = ns.grade("garbage_call")
    assert_not_above(grade, ns.grade("honest"))
    for t in checks_of(grade, "maxpool_backward"):
        assert t["status"] == "failed" and "malformed reply" in t["output"], t
    assert_full(grade, items_except("maxpool_backward", "MaxPool2d"))
    assert "corrupted the grader's channel" in ns.flags("garbage_call")


def test_forged_frames_earn_nothing(ns):
    grade = ns.grade("forged_frames")
    assert_not_above(grade, ns.twin("forged_frames"))
    assert grade["by_item"]["conv2d_forward"] < item_max(grade)["conv2d_forward"]


# -- the fallbacks: an unprivileged uid, and a plain subprocess -----------------------------
def test_user_level_batch(user):
    check_batch(user)
    iso = user.results("honest")["extra_data"]["isolation"]
    assert iso.startswith("Unprivileged user"), iso
    for name in user.names:
        assert user.results(name)["extra_data"]["isolation"] == iso


def test_plain_level_batch(plain):
    check_batch(plain)
    iso = plain.results("honest")["extra_data"]["isolation"]
    assert iso.startswith("No sandbox"), iso
    assert "student code could read" in iso  # the warning every result of this level carries


@pytest.mark.parametrize("level", ["user", "plain"])
def test_fallback_exit_and_loop(level, request):
    batch = request.getfixturevalue(level)
    grade = batch.grade("exit_call_os")
    assert_same_grade(grade, batch.twin("exit_call_os"))
    for t in checks_of(grade, "conv2d_forward"):
        assert "the worker exited with code 0 during the call" in t["output"], t
    assert_full(grade, items_except("conv2d_forward", "Conv2d"))
    loop = batch.grade("loop_method")
    assert_same_grade(loop, batch.twin("loop_method"))
    assert any("timed out after" in t["output"] for t in checks_of(loop, "MaxPool2d"))
    assert_full(loop, items_except("MaxPool2d"))
    assert not batch.leftovers_of("loop_method"), batch.leftovers


@pytest.mark.parametrize("level", ["user", "plain"])
def test_fallback_reading_the_reference_is_reported(level, request):
    """The uid level refuses a readable kit; with no sandbox, the results must say what it could read."""
    batch = request.getfixturevalue(level)
    grade = batch.grade("read_reference")
    assert "SEARCHED-REFERENCE" in grade["printed"] or "FOUND-REFERENCE" in grade["printed"], grade["printed"][-2000:]
    assert "reads files" in batch.flags("read_reference")
    iso = batch.results("read_reference")["extra_data"]["isolation"]
    if level == "user":
        # The uid level grades only once the kit it runs from is unreadable to others (else
        # it refuses). Another copy elsewhere on the host (this machine's checkouts) it cannot
        # know of: that limit is in the README's security section.
        found = [line.split(" ", 1)[1] for line in grade["printed"].splitlines() if line.startswith("FOUND-REFERENCE ")]
        assert not [f for f in found if f.startswith(str(batch.extra["kit"]))], found
        if found:
            return
    if "FOUND-REFERENCE" in grade["printed"]:
        # It read the reference: the isolation line must have warned that it could.
        assert "student code could read" in iso, iso
    else:
        assert_same_grade(grade, batch.twin("read_reference"))


def test_user_level_hides_other_submissions_and_kills_processes(user):
    grade = user.grade("copy_neighbour")
    assert "SEARCHED-NEIGHBOUR nothing found" in grade["printed"], grade["printed"][-2000:]
    assert_same_grade(grade, user.twin("copy_neighbour"))
    assert_same_grade(user.grade("spawn_leftovers"), user.grade("honest"))
    assert_same_grade(user.grade("fork_bomb"), user.twin("fork_bomb"))
    assert not user.leftovers, f"processes started by the submissions outlived the batch: {user.leftovers}"


def test_plain_level_kills_detached_processes(plain):
    assert_same_grade(plain.grade("spawn_leftovers"), plain.grade("honest"))
    assert not plain.leftovers_of("spawn_leftovers"), plain.leftovers


# -- honest code must not suffer from the sandbox either ----------------------------------
@pytest.mark.parametrize("level", [
    "ns",
    "user",
    "plain",
])
def test_honest_standard_library_imports_work(level, request):
    batch = request.getfixturevalue(level)
    grade = batch.grade("stdlib_imports")
    assert grade["status"] == "graded", grade["status"]
    assert_same_grade(grade, batch.grade("honest"))
