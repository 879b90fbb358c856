"""The vocabularies of a result: what was seen of a submission, and the flags it raises.

An Event is one thing the grader found or saw: in the source before it ran
(static.py), from outside the worker while it ran (session.py, transcript.py), or as the
worker's own bookkeeping (worker.py, which student code can switch off, so
its events are hints). Every Event maps to exactly one Flag, the phrase an
instructor reads in grades.csv and the class report; a test keeps the map
total. Nothing compares these as free text.
"""

from __future__ import annotations

from enum import Enum


class Event(str, Enum):
    BANNED_IMPORT = "banned-import"
    REFUSED_IMPORT = "refused-import"
    EXIT = "exit"
    PATCH = "patch"  # the source assigns to a library's attribute
    PATCHED = "patched"  # a watched library function was found replaced at run time
    SPAWN = "spawn"
    LEFT_PROCESSES = "left-processes"  # seen from outside: processes alive after a call
    WRITE_FILE = "write-file"
    READ_FILE = "read-file"
    NETWORK = "network"
    CTYPES = "ctypes"
    SIGNAL = "signal"
    INTROSPECTION = "introspection"
    RIGGED_VALUE = "rigged-value"
    SUBCLASS = "subclass"
    CONFTEST = "conftest"
    UNSAFE_ZIP = "unsafe-zip"
    SYMLINK = "symlink"
    # A kind our worker never sends: its bookkeeping was forged.
    FORGED = "forged-bookkeeping"


class Flag(str, Enum):
    BANNED_IMPORT = "used a banned import"
    REFUSED_IMPORT = "tried a banned import (refused)"
    EXIT = "exits the process"
    PATCH = "patches libraries"
    SPAWN = "starts processes"
    WRITE_FILE = "writes files"
    READ_FILE = "reads files"
    NETWORK = "uses the network"
    CTYPES = "uses ctypes"
    SIGNAL = "sends or handles signals"
    INTROSPECTION = "inspects the interpreter"
    RIGGED_VALUE = "defines rigged comparisons or array subclasses"
    SUBCLASS = "returned an ndarray subclass"
    CONFTEST = "submitted a conftest.py"
    UNSAFE_ZIP = "zip had unsafe entries"
    SYMLINK = "submitted symbolic links"
    FORGED = "forged the grader's bookkeeping"
    CRASH = "crashed the worker"
    PROTOCOL = "corrupted the grader's channel"


FLAG_OF_EVENT: dict[Event, Flag] = {
    Event.BANNED_IMPORT: Flag.BANNED_IMPORT,
    Event.REFUSED_IMPORT: Flag.REFUSED_IMPORT,
    Event.EXIT: Flag.EXIT,
    Event.PATCH: Flag.PATCH,
    Event.PATCHED: Flag.PATCH,
    Event.SPAWN: Flag.SPAWN,
    Event.LEFT_PROCESSES: Flag.SPAWN,
    Event.WRITE_FILE: Flag.WRITE_FILE,
    Event.READ_FILE: Flag.READ_FILE,
    Event.NETWORK: Flag.NETWORK,
    Event.CTYPES: Flag.CTYPES,
    Event.SIGNAL: Flag.SIGNAL,
    Event.INTROSPECTION: Flag.INTROSPECTION,
    Event.RIGGED_VALUE: Flag.RIGGED_VALUE,
    Event.SUBCLASS: Flag.SUBCLASS,
    Event.CONFTEST: Flag.CONFTEST,
    Event.UNSAFE_ZIP: Flag.UNSAFE_ZIP,
    Event.SYMLINK: Flag.SYMLINK,
    Event.FORGED: Flag.FORGED,
}

class TestKind(str, Enum):
    """How a test ended: a pass, or the kind of its failure."""

    __test__ = False  # not a pytest test class, whatever its name

    PASS = "pass"
    FAIL = "fail"            # the check found a wrong answer
    ERROR = "error"          # the student's code raised
    TIMEOUT = "timeout"      # a call ran out of time
    CRASH = "crash"          # the worker died
    PROTOCOL = "protocol"    # the worker's reply could not be read
    NOTRUN = "notrun"        # given up on: the function never returned before, or no time was left
    UNMET = "unmet"          # withheld: a check it depends on failed

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


FLAG_OF_TEST_KIND = {TestKind.CRASH: Flag.CRASH, TestKind.PROTOCOL: Flag.PROTOCOL}


def event(kind: str) -> Event:
    """The Event named `kind`; a name our own code never uses means forged bookkeeping."""
    try:
        return Event(kind)
    except ValueError:
        return Event.FORGED


class Level(str, Enum):
    """How a worker is isolated (sandbox/ says what each guarantees), strongest first."""

    NAMESPACE = "namespace"  # bubblewrap: an allow-listed file system, no network, a uid of its own
    USER = "user"  # an unused uid on the host: it sees what any other user may read
    NONE = "none"  # a plain subprocess, only when asked for by name

    def __str__(self) -> str:  # in messages and paths, the name a user types (AUTOGRADER_ISOLATION=user)
        return self.value

    __format__ = str.__format__


# What each level guarantees, as every result says it (isolation_text).
LEVEL_DESCRIPTIONS = {
    Level.NAMESPACE: ("Namespace sandbox (bubblewrap): no network; sees only its Python, the allowed packages and its "
                      "own RAM folders, not the kit or other submissions."),
    Level.USER: ("Unprivileged user (namespaces unavailable here): no root; the kit, the submissions and banned "
                 "packages were checked unreadable to it."),
    Level.NONE: "No sandbox (AUTOGRADER_ISOLATION=none): a plain subprocess with resource limits.",
}


def isolation_text(level: str, fallbacks: list[str], warnings: list[str]) -> str:
    """The sentence a result shows for its isolation: the level's guarantees, why stronger levels
    failed (`fallbacks`), and its warnings; with no level ("": none could start), the warnings alone."""
    if not level:
        return f"none: {'; '.join(warnings)}" if warnings else ""
    known = level in {lv.value for lv in Level}  # else a record of a level this kit does not know
    text = LEVEL_DESCRIPTIONS[Level(level)] if known else str(level)
    if fallbacks and known and Level(level) == Level.USER:
        text += " Stronger isolation failed: " + "; ".join(fallbacks)[:300] + "."
    return text + "".join(f" Warning: {w}" for w in warnings)


class Scope(str, Enum):
    """How far one limit reaches (each of Grade.caps holds its scope, and how it holds for people)."""

    SUBMISSION = "submission"  # a cgroup holding all of a submission's workers and what they start
    WORKER = "worker"  # each worker's own (its RAM folders; outside a sandbox, its disk use watched)
    PROCESS = "process"  # an rlimit of each process: a submission with many processes gets more
    UID = "uid"  # an rlimit counted for the worker's uid
    NONE = "none"

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


class State(str, Enum):
    """What became of a submission as a whole (its `status` is the sentence for people)."""

    GRADED = "graded"  # the suite ran; each test's kind says how it ended
    NOT_LOADED = "not-loaded"  # unreadable, or loading it failed: every test failed with the reason
    LOAD_TIMEOUT = "load-timeout"  # loading it ran out of time
    GRADER_ERROR = "grader-error"  # the grader itself failed on it: graded 0, the batch went on
