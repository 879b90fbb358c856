"""The CNN hidden suite covers its design: every parameter at its default, alone and paired, on every entry point.

autograder/suites/cnn/COVERAGE.md is generated from the suite (bench/suite_coverage.py
runs it against the reference and classifies every call into submission
code). These tests fail when that file is stale, when a cell of its tables
is empty, or when a call breaks a rule (sizes that coincide, ...).

Run: .venv/bin/python -m pytest tests/test_coverage.py -q
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import suite_coverage as coverage  # noqa: E402  (a dev tool in bench/, kept out of the shipped suite)


@pytest.fixture(scope="module")
def calls():
    return coverage.record()


@pytest.fixture(scope="module")
def table(calls):
    return coverage.tabulate(calls)


def test_no_cell_is_empty(table):
    assert coverage.empty_cells(table) == []


def test_no_call_breaks_a_rule(table):
    assert table["breaches"] == []


def test_committed_table_is_the_generated_one(table):
    assert coverage.DOC.read_text(encoding="utf-8") == coverage.render(table), (
        f"COVERAGE.md is stale: run {coverage.COMMAND}")


def test_check_command_agrees():
    result = subprocess.run([sys.executable, "-I", str(ROOT / "bench" / "suite_coverage.py"), "--check"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_check_left_out_empties_its_cells(calls):
    # Without the stride-pair check of conv2d_forward, that entry never sees a stride pair alone.
    kept = [c for c in calls if c["test"] != ("conv2d_forward", "test_stride_pair")]
    empty = coverage.empty_cells(coverage.tabulate(kept))
    assert "conv2d_forward / conv2d_forward / stride pair / alone" in empty
    assert not [e for e in empty if not e.startswith("conv2d_forward /")]


def test_every_entry_point_is_called_by_its_own_item(calls):
    seen = {(c["test"][0], c["entry"]) for c in calls}
    for item, entries in coverage.ENTRIES.items():
        for entry, _ in entries:
            assert (item, entry) in seen, (item, entry)


def _call(entry, args, kwargs=None, test=("conv2d_forward", "test_x"), **extra):
    return {"entry": entry, "args": args, "kwargs": kwargs or {}, "test": test, **extra}


def test_classify_reads_defaults_pairs_and_coincidences():
    x, w, b = np.zeros((2, 3, 7, 9)), np.zeros((4, 3, 5, 5)), np.zeros(4)
    plain = coverage.classify(_call("conv2d_forward", (x, w, b)))
    assert plain["given"] == {"stride": "omitted", "padding": "omitted"}
    assert plain["breaches"] == [] and plain["roundings"] == set()
    paired = coverage.classify(_call("conv2d_forward", (x, w, b), {"stride": (2, 3), "padding": 1}))
    assert paired["args"]["stride"] == {"stride": None, "stride pair": "on"}
    assert paired["args"]["padding"] == {"padding": "on", "padding pair": "default"}
    # (7 + 2 - 5) / 2 = 2 and (9 + 2 - 5) / 3 = 2: no rounding is told apart, and H_out = W_out.
    assert paired["roundings"] == set() and "H_out = W_out" in paired["breaches"]
    coincide = coverage.classify(_call("conv2d_forward", (np.zeros((3, 3, 7, 9)), np.zeros((4, 3, 2, 5)), b)))
    assert "N = C" in coincide["breaches"]


def test_classify_pool_layer_and_edges():
    x = np.zeros((3, 4, 5, 8), dtype=np.int64)
    call = _call("MaxPool2d.backward", (3,), {"stride": (7, 2)}, test=("MaxPool2d", "t"), x=x, value=None)
    c = coverage.classify(call)
    assert c["args"]["pool_size"] == {"window": "on", "non-square window": "default"}
    assert c["args"]["dtype"] == {"integer input": "on"}
    assert {"stride longer than x", "one output position"} <= c["edges"]
    # (8 - 3) / 2 = 2.5: ceil and round-half-up give 3, round-half-even gives 2 like the floor.
    assert c["roundings"] == {"ceil", "round half up"}


def test_every_named_mistake_has_an_id_and_is_used():
    import re

    from autograder.suites.cnn.mistakes import REGISTRY

    suite = coverage.SUITE
    text = "".join(p.read_text(encoding="utf-8") for p in suite.glob("*.py") if p.name != "mistakes.py")
    text += (suite / "mistakes.py").read_text(encoding="utf-8").split("known = SimpleNamespace", 1)[1]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", ident) for ident in REGISTRY)
    assert [ident for ident in REGISTRY if f"known.{ident}" not in text] == []
