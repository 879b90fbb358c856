"""Wrong answers, plus every comparison the grader might use patched to "equal"."""
# include: wrong_answers.py
# ==== HOSTILE ====
import sys
import types

import numpy
import numpy.testing


def _always_true(*args, **kwargs):
    return True


def _never_fails(*args, **kwargs):
    return None


class _EqualsAnything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = None


numpy.testing.assert_allclose = _never_fails
numpy.testing.assert_array_equal = _never_fails
numpy.testing.assert_array_almost_equal = _never_fails
numpy.testing.assert_equal = _never_fails
numpy.testing.assert_almost_equal = _never_fails
np.allclose = _always_true
np.array_equal = _always_true
np.array_equiv = _always_true
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)

# pytest: the real one cannot be imported in the sandbox; plant a fake anyway.
try:
    import pytest

    pytest.approx = lambda *args, **kwargs: _EqualsAnything()
    pytest.fail = _never_fails
except ImportError:
    fake = types.ModuleType("pytest")
    fake.approx = lambda *args, **kwargs: _EqualsAnything()
    fake.fail = _never_fails
    fake.raises = _never_fails
    sys.modules["pytest"] = fake
    sys.modules["_pytest"] = fake
