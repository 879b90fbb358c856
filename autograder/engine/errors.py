"""What student code can do to a call, as exceptions the grader's side raises.

Each carries a `kind` (a kinds.TestKind) so the plugin records
how a test ended without reading the message.
"""

from __future__ import annotations

import builtins

from .kinds import TestKind


class StudentError(Exception):
    """Something the student's code did: raised, timed out, crashed or returned junk."""

    kind = TestKind.ERROR

    def __init__(self, message: str, type_name: str = "", where: str = "", lines: tuple = ()):
        super().__init__(message)
        self.message = message
        self.type_name = type_name
        self.where = where
        # The student's source lines on the way to the error (innermost last), for causes.py.
        self.lines = tuple(lines)

    def __str__(self) -> str:
        text = f"{self.type_name}: {self.message}" if self.type_name else self.message
        return f"{text} (at {self.where})" if self.where else text


class StudentTimeout(StudentError):
    kind = TestKind.TIMEOUT


class WorkerDied(StudentError):
    kind = TestKind.CRASH


class BadReply(StudentError):
    kind = TestKind.PROTOCOL


class CellSkipped(Exception):
    """A notebook cell ran out of time or killed its worker: load again without it."""


class NotRun(StudentError):
    """The grader did not call the code: it never returned before, or the submission's time is used up."""

    kind = TestKind.NOTRUN


class BadValue(StudentError):
    """The call returned something that cannot be graded as data."""


_remote_exception_classes: dict[str, type] = {}


def remote_exception(type_name: str, builtin: bool, message: str, where: str, base_name: str = "",
                     lines: tuple = ()) -> StudentError:
    """An exception that is both a StudentError and the builtin it is (or derives from).

    So `pytest.raises(ValueError)` in a suite works on a student's ValueError,
    or on a student's subclass of it, while nothing from the worker is ever
    instantiated here but strings.
    """
    base = getattr(builtins, type_name if builtin else base_name, None) if (builtin or base_name) else None
    if isinstance(base, type) and issubclass(base, Exception) and not issubclass(base, StudentError):
        key = (type_name, base.__name__)
        cls = _remote_exception_classes.get(key)
        if cls is None:
            try:
                cls = type(type_name, (StudentError, base), {"__module__": "student"})
            except TypeError:  # builtin with an incompatible layout
                cls = StudentError
            _remote_exception_classes[key] = cls
        error = cls.__new__(cls)
        StudentError.__init__(error, message, type_name, where, lines)
        error.args = (message,)
        return error
    return StudentError(message, type_name, where, lines)
