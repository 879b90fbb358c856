"""Naming the cause of a crash: a student's call raised, and the kind of error, its message and
the student's lines that led to it match a known cause.

A suite lists its causes as data (`Cause`: a mistake's id and phrase, the
exception types, a pattern of the message and one of the lines); the
plugin asks `name_crash` for the first that matches an error of the
student's code. Everything matched is strings the worker sent, already
bounded (errors.StudentError); patterns are the suite's, so the engine
knows no assignment's mistakes, only how to match them.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Cause(NamedTuple):
    """A known cause of a crash.

    id, phrase: the mistake, as suite.Mistake has them; the phrase completes
    "This is what happens when you ...", and may hold `{name}` fields filled
    from the message pattern's named groups (`np.{name}`).
    types: the exception's class names (the student's, or the builtin it derives from).
    message: a regular expression searched in the message ("" matches any).
    line: a regular expression searched in each of the student's lines that led there ("" matches any).
    source: a regular expression searched in the submission's whole code ("" matches any), for a
    cause whose line has returned before the crash (a crop in a helper, then a reshape that fails).
    """

    id: str
    phrase: str
    types: tuple[str, ...]
    message: str = ""
    line: str = ""
    source: str = ""


# The mistakes of an error path (suite.raises): a function that does not refuse bad arguments
# computes its values as before, so what fails elsewhere does not follow from it.
NOT_RAISED, WRONG_ERROR = "error_not_raised", "wrong_error_type"
ERROR_PATHS = frozenset({NOT_RAISED, WRONG_ERROR})


class Named(NamedTuple):
    id: str
    phrase: str


def name_crash(error, causes, sources=()) -> Named | None:
    """The first cause in `causes` an error of the student's code matches, with its phrase filled in.

    `sources` are the texts of the submission's code (a module, a notebook's cells)."""
    kinds = {getattr(error, "type_name", ""), *(c.__name__ for c in type(error).__mro__)}
    message = str(getattr(error, "message", ""))
    lines = tuple(getattr(error, "lines", ()))
    for cause in causes:
        if not kinds.intersection(cause.types):
            continue
        found = re.search(cause.message, message) if cause.message else None
        if cause.message and found is None:
            continue
        if cause.line and not any(re.search(cause.line, line) for line in lines):
            continue
        if cause.source and not any(re.search(cause.source, text, re.M) for text in sources):
            continue
        fields = found.groupdict() if found is not None else {}
        try:
            phrase = cause.phrase.format(**{k: v or "" for k, v in fields.items()})
        except (KeyError, IndexError, ValueError):
            phrase = cause.phrase
        return Named(cause.id, phrase)
    return None
