"""Fuzzing every reader of student bytes (issue 25): generated zips, notebooks and sources.

Property: whatever the bytes, submission.resolve returns (never raises), with either
code or a one-line problem naming the file; extraction never writes outside its
folder and leaves nothing behind. Hypothesis makes the inputs: valid zips and
notebooks with fields replaced, truncated or flipped, and raw text. The grader's
peak memory on the largest inputs the caps allow is measured in bench/readers.py.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="the dev extra is not installed: pip install -e .[dev]")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from autograder import assignment as assignments  # noqa: E402
from autograder.engine import submission  # noqa: E402
from autograder.engine.text import inert  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CNN = assignments.load("cnn", ROOT)
REFERENCE = (ROOT / "solutions" / "cnn" / "cnn_layers.py").read_bytes()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40) | st.sampled_from(
    ["cnn_layers.py", "cnn.ipynb", "../x.py", "/abs.py", "a\\..\\b.py", "d/" * 40 + "cnn_layers.py", "", "\x1b[2J.py"])


def _zip(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries:
            try:
                zf.writestr(name or "x", data)
            except (ValueError, UnicodeEncodeError, IndexError):
                continue  # names Python's zipfile cannot write ("\x00": it cuts a name at NUL, then indexes it)
    return buffer.getvalue()


@st.composite
def hostile_zips(draw) -> bytes:
    entries = draw(st.lists(st.tuples(names, st.binary(max_size=200) | st.just(REFERENCE)), min_size=0, max_size=6))
    data = bytearray(_zip(entries))
    for _ in range(draw(st.integers(0, 6))):  # flip bytes anywhere: headers, directory, end record
        if data:
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
    if draw(st.booleans()) and data:
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)


@st.composite
def hostile_notebooks(draw) -> bytes:
    cell = {"cell_type": draw(st.sampled_from(["code", "markdown", "raw", 7, None])), "metadata": {},
            "source": draw(st.text(max_size=200) | st.lists(st.text(max_size=40), max_size=5) | json_values)}
    notebook = {"nbformat": draw(st.sampled_from([4, 3, "4", None, 5])), "nbformat_minor": 5, "metadata": draw(json_values),
                "cells": draw(st.lists(st.just(cell), max_size=3) | json_values)}
    text = json.dumps(notebook)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "surrogatepass")


def _resolves(filename: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch, pytest.MonkeyPatch.context() as patch:
        folder = Path(scratch) / "in"
        folder.mkdir()
        path = folder / filename
        path.write_bytes(data)
        # The reader's own scratch goes here, not in the shared temporary folder, where tests
        # running beside this one (pytest-xdist) unpack zips of their own.
        patch.setattr(tempfile, "tempdir", scratch)
        sub = submission.resolve(path, CNN.module, CNN.notebook)
        assert sub.problem is None or (isinstance(sub.problem, str) and sub.problem.strip())
        # Nothing was written outside the submission's own scratch, and the scratch is gone.
        assert sorted(p.name for p in Path(scratch).iterdir()) == ["in"]
        assert sorted(p.name for p in folder.iterdir()) == [filename]
        inert(sub.problem or "").encode("utf-8")  # every writer can take the reason


@SETTINGS
@given(hostile_zips())
def test_any_zip_is_read_or_refused_with_a_reason(data):
    _resolves("sub.zip", data)


@SETTINGS
@given(hostile_notebooks())
def test_any_notebook_is_read_or_refused_with_a_reason(data):
    _resolves("cnn.ipynb", data)


@SETTINGS
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_source_is_read_or_refused_with_a_reason(data):
    _resolves("cnn_layers.py", data)
