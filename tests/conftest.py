"""Fixtures shared by the kit's tests."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.engine.worker_process import WorkerProcess

# Every test draws hidden inputs with this course secret, so a test's inputs are the same in every
# checkout (each makes its own random .course-secret on its first `grade`). Tests of the secret
# itself unset it; tests that run the kit without it (their env drops AUTOGRADER_*) use the
# checkout's file and compare gradings with each other, never with fixed values.
os.environ["AUTOGRADER_SECRET"] = "the kit's own tests"

# `./kit test -m "not slow"` is the quick loop: it leaves out the tests marked slow where they
# are defined (`@pytest.mark.slow`, or a module's `pytestmark`): those that grade batches, start
# sandboxed workers, run the kit as a subprocess, or build environments. Two checks keep the marks
# honest: collection fails when a test not marked slow uses a fixture that starts workers (one
# that requests `starts_workers`), and a session that runs no slow test fails any test that
# starts a worker anyway (WorkerProcess.start, through which every worker of the engine starts).
SLOW_HINT = "mark it @pytest.mark.slow (the quick loop, -m \"not slow\", starts no sandboxed worker)"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: grades batches or starts many sandboxed workers; "
                                       "`-m \"not slow\"` leaves these out for a quick loop")
    # The hidden suites' own mark (autograder.suite.check), met when a test imports a suite's checks.
    config.addinivalue_line("markers", "grade: a hidden check's item and weight")


@pytest.fixture(scope="session")
def starts_workers():
    """Requested by every fixture that grades (starts sandboxed workers): its users must be marked slow."""


def pytest_collection_modifyitems(config, items):
    unmarked = [item.nodeid for item in items
                if "starts_workers" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("slow")]
    if unmarked:
        raise pytest.UsageError(f"{unmarked[0]}{f' (and {len(unmarked) - 1} more)' if len(unmarked) > 1 else ''} "
                                f"uses a fixture that starts sandboxed workers: {SLOW_HINT}")


# The test running now, while this session runs no slow test (None otherwise), and the workers it tried to start.
_quick = {"item": None, "starts": []}


def pytest_collection_finish(session):
    if session.items and not any(item.get_closest_marker("slow") for item in session.items):
        _quick["item"] = ""


def _refuse_start(self) -> None:
    _quick["starts"].append(_quick["item"])
    raise RuntimeError(f"{_quick['item']} starts a sandboxed worker: {SLOW_HINT}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _quick["item"] is None:
        yield
        return
    _quick["item"], _quick["starts"] = item.nodeid, []
    # Patched for each test (not once) so a test's own monkeypatch of start is undone onto the guard.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WorkerProcess, "start", _refuse_start)
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    # The engine may catch the error (a probe that fails is a level that is unavailable): fail the test all the same.
    if _quick["item"] == item.nodeid and _quick["starts"] and report.when == "call":
        report.outcome, report.longrepr = "failed", f"{item.nodeid} starts a sandboxed worker: {SLOW_HINT}"


@pytest.fixture(scope="session")
def public_python(starts_workers):
    """A Python with NumPy that an unprivileged uid can run, as on Gradescope (Python under /usr): for workers.

    The kit's own Python may live where other users cannot read (pyenv under a
    0700 /root); the unprivileged-uid level needs one they can.
    """
    system = "/usr/bin/python3"
    if not os.path.exists(system):
        pytest.skip("no /usr/bin/python3 to make a Python other users can run")
    version = subprocess.run([system, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True).stdout
    if version.strip() != str(sys.version_info[:2]):
        pytest.skip(f"/usr/bin/python3 is {version.strip()}, not {sys.version_info[:2]}: cannot reuse this NumPy wheel")
    base = Path(tempfile.mkdtemp(prefix="autograder-public-python-", dir="/tmp"))
    base.chmod(0o755)
    venv = base / "venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = glob.glob(str(venv / "lib" / "python3*" / "site-packages"))[0]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", site, "numpy"], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-I", "-c", "import numpy"], check=True)
    yield python
    shutil.rmtree(base, ignore_errors=True)
