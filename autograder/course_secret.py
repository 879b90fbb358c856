"""The course's secret: what makes hidden inputs unpredictable to anyone who holds the kit.

A submission's seed is a hash of the secret, the assignment, the student's
name and the submitted code (grading.seed_for). Without a secret, anyone with
the kit and a classmate's name and file could compute the hidden inputs.

The secret comes from AUTOGRADER_SECRET when that is set, else from the file
`.course-secret` in the kit's folder. The first command that grades students
(`grade`, `gradescope`) makes that file once, with a random value, readable by
its owner only; .gitignore keeps it out of the repository, and the handout is
built from assignments/, never from it. `gradescope` copies it into the
autograder zip, so Gradescope grades with it. `check` (students, public checks,
their own machine) and `demo` only read it: they work without one.

Only a short hash of the secret (`fingerprint`) is ever shown or written
(`doctor`, gradebook.json), never the secret itself.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import tempfile
from pathlib import Path

from . import assignment as assignments

ENV = "AUTOGRADER_SECRET"
FILE_NAME = ".course-secret"
# 256 random bits, as hex text: a line a person can copy to another machine.
_BYTES = 32


class SecretError(assignments.ConfigError):
    """The secret file exists but cannot be used; the message says what to do."""


def path(root: Path | None = None) -> Path:
    return (Path(root) if root is not None else assignments.kit_root()) / FILE_NAME


def _read(file: Path) -> str | None:
    try:
        text = file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"the course secret {file} cannot be read ({exc}); fix its permissions, "
                          f"or set {ENV} to the course's secret") from None
    if not text:
        raise SecretError(f"the course secret {file} is empty; restore it from a backup (or delete it to make "
                          "a new one: grades made with the old one then get other inputs on a regrade)")
    return text


def current(root: Path | None = None) -> tuple[str, str]:
    """(secret, where it came from): the environment, the file, or ("", "") when there is none."""
    value = os.environ.get(ENV)
    if value:  # an empty variable says nothing: the file (or none) decides
        return value, f"the environment variable {ENV}"
    file = path(root)
    text = _read(file)
    return (text, str(file)) if text else ("", "")


def value(root: Path | None = None) -> str:
    """The secret to grade with, or "" if there is none; never makes one."""
    return current(root)[0]


def ensure(root: Path | None = None) -> str:
    """The secret to grade with, made (once, in the kit's folder) if there is none yet."""
    secret, _ = current(root)
    if secret:
        return secret
    file = path(root)
    made = secrets.token_hex(_BYTES)
    try:
        # Written whole under another name, then linked into place: link never replaces a file, so of
        # two commands started at once (a job array's shards) one makes the secret and the other reads
        # it, and neither ever reads it half written.
        fd, tmp = tempfile.mkstemp(prefix=f"{FILE_NAME}.", dir=file.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(made + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, file)
        finally:
            os.unlink(tmp)
    except FileExistsError:
        return value(root)
    except OSError as exc:
        raise SecretError(f"cannot make the course secret {file} ({exc.strerror or exc}); make the kit's folder "
                          f"writable, or set {ENV} to a secret of your own") from None
    print(f"note: made the course secret {file} (git ignores it). Keep it with the kit: hidden inputs are drawn "
          f"from it, and a regrade without it draws other inputs", file=sys.stderr)
    return made


def fingerprint(secret: str) -> str:
    """A short name for a secret that does not reveal it ("" for none): what gradebooks record."""
    if not secret:
        return ""
    return hashlib.sha256(b"autograder course secret\0" + secret.encode()).hexdigest()[:12]
