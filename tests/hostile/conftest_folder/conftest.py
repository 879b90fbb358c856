"""A conftest.py submitted beside a wrong cnn_layers.py, hoping pytest loads it.

If anything ever imported it, it would leave a mark on disk, make every
comparison pass, rewrite every test report as passed, and exit.
"""
import os

import numpy
import numpy.testing

with open("@CONFTEST_RAN@", "w") as mark:
    mark.write("the submission's conftest.py was executed\n")

numpy.testing.assert_allclose = lambda *args, **kwargs: None
numpy.testing.assert_array_equal = lambda *args, **kwargs: None
numpy.allclose = lambda *args, **kwargs: True

try:
    import pytest

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        outcome = yield
        report = outcome.get_result()
        report.outcome = "passed"
        report.longrepr = None

    def pytest_collection_modifyitems(session, config, items):
        items[:] = []
except ImportError:
    pass

os._exit(0)
