"""Fixtures shared by the kit's tests."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def public_python():
    """A Python with NumPy that an unprivileged uid can run, as on Gradescope (Python under /usr).

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
