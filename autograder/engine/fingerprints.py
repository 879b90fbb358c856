"""What produced a grade, as short hashes: the submission's bytes, the hidden suite, the reference.

The gradebook keeps them beside each grade (for `grade --stale`), and a submission's seed
follows its fingerprint (results.seed_for). Files are read as the grader reads a submission.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .. import assignment as assignments
from .submission import IGNORED_PARTS, SNAPSHOT_SUFFIXES, ZIP_MAX_BYTES, read_regular, walk


def _digest_files(files: list[tuple[str, Path]]) -> str:
    h = hashlib.sha256()
    for name, path in sorted(files):
        h.update(name.encode("utf-8", "surrogateescape") + b"\0")
        try:
            # Read as the grader reads a submission: no link, no FIFO, the size checked first (a
            # 1 GiB sparse file beside the code was read whole, for every grade).
            h.update(hashlib.sha256(read_regular(path, ZIP_MAX_BYTES, links_ok=True)).digest())
        except (OSError, ValueError) as exc:
            h.update(b"unreadable: " + str(exc).encode("utf-8", "replace"))
    return h.hexdigest()[:16]


def _tree(folder: Path, suffixes: tuple[str, ...] | None = SNAPSHOT_SUFFIXES) -> list[tuple[str, Path]]:
    """The files that make a submission (or, for the kit's own folders, of `suffixes`)."""
    if folder.is_file():
        return [("", folder)]  # a file: its bytes, whatever its name (the name is the student's)
    found = []
    try:
        entries = walk(folder)
    except ValueError:
        return [("too large", folder)]  # graded as its problem; fingerprinted by that
    for p in entries:
        rel = p.relative_to(folder)
        if IGNORED_PARTS.intersection(rel.parts) or any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_file() and not p.is_symlink() and (suffixes is None or p.suffix in suffixes):
            found.append((rel.as_posix(), p))
    return found


def suite_fingerprint(a: assignments.Assignment) -> str:
    """What decides the grade besides the submission: hidden suite, public checks, assignment.toml."""
    files = [(f"suite/{n}", p) for n, p in _tree(a.suite, (".py",))]
    files += [(f"public/{n}", p) for n, p in _tree(a.public_tests_dir, (".py",))]
    files.append(("assignment.toml", a.root / "assignment.toml"))
    return _digest_files(files)


def reference_fingerprint(a: assignments.Assignment) -> str:
    return _digest_files([("reference", a.reference_module)])


def submission_fingerprint(path: Path) -> str:
    """The bytes a student handed in: a file, or every file of a folder."""
    return _digest_files(_tree(Path(path)))
