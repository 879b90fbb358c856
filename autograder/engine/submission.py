"""What a SUBMISSION argument is, turned into code the worker can load.

A submission is a .py module, an .ipynb notebook, a folder holding one of
them, or a .zip of such a folder. Its name is the file or folder name
without extension. Nothing here runs student code; a submission that
cannot be read gets a `problem` (graded 0 with that reason) instead of an
exception, so one broken file never stops a batch.
"""

from __future__ import annotations

import ast
import errno
import hashlib
import json
import os
import re
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .sandbox import remove_tree


# A notebook file may carry megabytes of outputs (figures); the code the trusted side
# parses (the static scan, cell labels) is bounded far lower: its syntax tree costs
# ~600 bytes a statement. The reference is ~20 KB.
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_CODE_BYTES = 512 * 1024
# JSON values a notebook may hold (a notebook of 512 KB of code has ~50,000), and the size of a
# notebook of an older format that nbformat is asked to upgrade.
MAX_NOTEBOOK_VALUES = 1_000_000
MAX_OLD_NOTEBOOK_BYTES = 2 * 1024 * 1024
ZIP_MAX_FILES = 2000
ZIP_MAX_BYTES = 100 * 1024 * 1024
IGNORED_PARTS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git"}

# Notebook lines the grader does not run: IPython magics, shell escapes and
# otter's own cells (otter is not installed in the sandbox).
_SKIPPED_LINE = re.compile(
    r"^\s*(?:[%!]|import\s+otter\b|from\s+otter\b|grader\s*=\s*otter\.|grader\s*\.\s*(?:check|check_all|export)\b)"
)


@dataclass
class Submission:
    name: str
    origin: Path
    kind: str = "module"  # or "notebook"
    display: str = ""
    module_name: str = ""
    source: str = ""
    cells: list[tuple[str, str]] = field(default_factory=list)
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    # Modules of earlier parts submitted beside it: (name, file name, source), loaded first.
    modules: list[tuple[str, str, str]] = field(default_factory=list)

    def load_request(self) -> dict:
        request = {"op": "load", "kind": self.kind, "name": self.module_name, "filename": self.display}
        if self.modules:
            request["modules"] = [list(m) for m in self.modules]
        if self.kind == "module":
            request["source"] = self.source
        else:
            request["cells"] = self.cells
        return request


def safe_name(raw: str) -> str:
    """A name fit to be a folder in the output, a CSV cell and a seed, from any text.

    Letters without accents, digits, '-' and '_' only: no '.', so no name is
    '..', hidden, or one of the files the grader writes beside the folders
    (grades.csv, report.html); never empty.
    """

    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_text).strip("_-")[:80].strip("_-")
    return name or "submission"


def submission_name(path: Path) -> str:
    name = path.name or Path(path).resolve().name  # `.` is named after the folder it is
    if name in (".", ".."):
        name = Path(path).resolve().name
    for suffix in (".zip", ".ipynb", ".py"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return safe_name(name)


def unique_names(paths, warn=None) -> dict[Path, str]:
    """Each path's submission name, in input order, none taken from another.

    When several paths make the same name (`honest.py` and `honest!.py`), none
    keeps it: each gets a suffix from a hash of the path as given, the same in
    every run whatever the order, and `warn` is told which files. Otherwise the
    one sorted first would take a classmate's name, row and seed.
    """

    paths = list(dict.fromkeys(paths))
    base = {path: submission_name(path) for path in paths}
    groups: dict[str, list[Path]] = {}
    for path in paths:
        groups.setdefault(base[path].lower(), []).append(path)
    names: dict[Path, str] = {}
    taken = {key for key, group in groups.items() if len(group) == 1}
    for path in paths:
        group = groups[base[path].lower()]
        if len(group) == 1:
            names[path] = base[path]
            continue
        digest = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()
        for width in range(6, 65, 2):  # longer only if two hashes share their start
            name = f"{base[path]}_{digest[:width]}"
            if name.lower() not in taken:
                break
        taken.add(name.lower())
        names[path] = name
        if warn is not None and path is group[-1]:
            shown = ", ".join(f"{p} as '{names[p]}'" for p in group)
            warn(f"{len(group)} submissions make the name '{base[path]}', so none keeps it: graded {shown}")
    return names


def _open_regular(path: Path, limit: int, follow: bool, links_ok: bool) -> int:
    """A descriptor of `path`, open for reading, after the refusals read_regular documents."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError(f"{path.name} is a symbolic link; the grader never follows links in a submission: "
                             "submit the file itself") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path.name} is not a regular file; submit your code as a plain file")
        if info.st_nlink > 1 and not links_ok:
            raise ValueError(f"{path.name} is a hard link (the file has other names); submit the file itself")
        if info.st_size > limit:
            raise ValueError(f"{path.name} is larger than {_size(limit)}; submit only your code")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _size(limit: int) -> str:
    return f"{limit // 1024 // 1024} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def check_regular(path: Path, limit: int) -> None:
    """read_regular's refusals (a link, a hard link, not a regular file, over `limit`) without
    reading the file: for a zip, which zipfile then reads as it needs."""
    os.close(_open_regular(path, limit, follow=False, links_ok=False))


def read_regular(path: Path, limit: int, *, follow: bool = False, links_ok: bool = False) -> bytes:
    """A regular file's bytes, refused (ValueError, with the reason) before anything is read
    when it is larger than `limit`, is not a regular file (a FIFO would block, a device never
    ends), unless `follow` is a symbolic link, or unless `links_ok` has another name (a hard
    link: the other name may be the reference's).

    Files found inside a student's folder are read with follow=False: a link could point the
    grader, which may run as root, at the reference or a classmate's file. The size is taken
    from the open file, so the file read is the file checked.
    """
    with os.fdopen(_open_regular(path, limit, follow, links_ok), "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:  # it grew while we read
        raise ValueError(f"{path.name} is larger than {_size(limit)}; submit only your code")
    return data


def _read_text(path: Path, limit: int = MAX_CODE_BYTES) -> str:
    data = read_regular(path, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text") from None


def _defines(source: str) -> list[str]:
    """Names of the functions and classes a cell defines at its top level (none if it does not parse)."""

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def cell_label(number: int, source: str) -> str:
    """How feedback names a cell: its place among the code cells, and what it defines."""
    names = _defines(source)
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"code cell {number}" + (f" (defines {shown})" if names else "")


def notebook_cells(path: Path) -> list[tuple[str, str]]:
    """Code cells to run, as (label, source); a cell's number counts code cells only, as a student would."""
    text = _read_text(path, MAX_NOTEBOOK_BYTES)
    # Bounded before parsing: every JSON value costs a Python object (~50 bytes and more), so a
    # 20 MB notebook of empty objects or lists took 580 MB. Commas, braces and brackets bound
    # the number of values from above.
    values = text.count(",") + text.count("{") + text.count("[")
    if values > MAX_NOTEBOOK_VALUES:
        raise ValueError(f"{path.name} holds more than {MAX_NOTEBOOK_VALUES:,} JSON values; clear its outputs "
                         "(Kernel > Restart & Clear Output) and save it again")
    try:
        notebook = json.loads(text)
        if not (isinstance(notebook, dict) and notebook.get("nbformat") == 4 and isinstance(notebook.get("cells"), list)):
            # Not today's format (v3, say): nbformat upgrades it. A v4 notebook is read as
            # nbformat would read it, without the import of its schema validator (~0.1 s).
            # The upgrade parses and validates again (a 20 MB v3 notebook took 675 MB and 45 s):
            # only for small ones.
            if len(text) > MAX_OLD_NOTEBOOK_BYTES:
                raise ValueError(f"{path.name} is in an old notebook format and larger than "
                                 f"{MAX_OLD_NOTEBOOK_BYTES // 1024 // 1024} MB; open it in Jupyter and save it again")
            import nbformat

            notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - json and nbformat raise many kinds
        raise ValueError(f"{path.name} is not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})") from None
    cells = []
    code_cells = [c for c in notebook.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
    sources = []
    for number, cell in enumerate(code_cells, start=1):
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        if not isinstance(source, str):
            raise ValueError(f"{path.name}: code cell {number} has no readable source")
        sources.append(source)
    # Bounded before any cell is parsed: a syntax tree costs ~600 bytes a statement (a 9 MB cell
    # took 5 GB), so the code's size is checked first, not after the cells' labels are made.
    if sum(len(source.encode("utf-8", "replace")) for source in sources) > MAX_CODE_BYTES:
        raise ValueError(f"{path.name} holds more than {MAX_CODE_BYTES // 1024} KB of code")
    for number, source in enumerate(sources, start=1):
        if source.lstrip().startswith("%%"):
            continue  # a cell magic (%%time, %%bash...) makes the whole cell non-Python
        lines = []
        for line in source.splitlines():
            if _SKIPPED_LINE.match(line):
                indent = line[: len(line) - len(line.lstrip())]
                line = indent + "pass  # skipped by the grader"
            lines.append(line)
        text = "\n".join(lines)
        if text.strip():
            cells.append((cell_label(number, text), text))
    return cells


def _load_file(sub: Submission, path: Path, module: str, notebook: str) -> None:
    if path.suffix == ".py":
        sub.kind, sub.display = "module", f"{module}.py"
        sub.source = _read_text(path)
    elif path.suffix == ".ipynb":
        sub.kind, sub.display = "notebook", notebook
        sub.cells = notebook_cells(path)
        if not sub.cells:
            raise ValueError(f"{path.name} has no code to run (an empty or unsaved notebook?)")
        sub.source = "\n\n".join(cell for _, cell in sub.cells)
        if len(sub.source.encode("utf-8", "replace")) > MAX_CODE_BYTES:
            raise ValueError(f"{path.name} holds more than {MAX_CODE_BYTES // 1024} KB of code")
    else:
        raise ValueError(f"{path.name} is not a .py file, an .ipynb notebook, a folder or a .zip")
    sub.module_name = module


FOLDER_MAX_DEPTH = 32
FOLDER_MAX_ENTRIES = 20_000


def walk(folder: Path, max_depth: int = FOLDER_MAX_DEPTH, max_entries: int = FOLDER_MAX_ENTRIES) -> list[Path]:
    """Every entry under `folder`, sorted, without following links: iterative, so no tree is too
    deep for it (Path.rglob recurses), and bounded: past `max_depth` or `max_entries` it raises
    ValueError, since no submission is shaped like that."""
    found, pending = [], [(folder, 0)]
    while pending:
        here, depth = pending.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        for entry in entries:
            found.append(Path(entry.path))
            if len(found) > max_entries:
                raise ValueError(f"{folder.name} holds more than {max_entries} files and folders; submit only your code")
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 >= max_depth:
                    raise ValueError(f"{folder.name} holds folders more than {max_depth} deep; submit only your code")
                pending.append((Path(entry.path), depth + 1))
    return sorted(found)


# What a snapshot of a student's folder copies: the files a submission is made of.
SNAPSHOT_SUFFIXES = (".py", ".ipynb", ".zip")


def snapshot(folder: Path, into: Path, suffixes=SNAPSHOT_SUFFIXES, total_limit: int = ZIP_MAX_BYTES) -> list[str]:
    """Copy the regular files of a student's folder (of `suffixes`) into `into`, a folder of ours;
    returns what was left out, each with its reason.

    Walked through descriptors: every folder is opened relative to its parent's descriptor and
    without following a link, so swapping a folder for a link while it is read leads nowhere
    (a path, looked up again at each step, could be redirected between a check and an open).
    Links (symbolic, or hard with a name outside the folder), FIFOs and devices are left out;
    each file's size is checked on the open file before it is read, and so is the total.
    Bounded like walk(): past FOLDER_MAX_DEPTH or FOLDER_MAX_ENTRIES it raises ValueError.
    """
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    flags_file = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        top = os.open(folder, flags_dir)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ValueError(f"{folder.name} is a symbolic link; the grader follows no link: pass the folder itself") from None
        raise
    left_out, copied, names, total, entries = [], [], {}, 0, 0
    pending = [(top, Path("."), 0)]
    try:
        while pending:
            fd, rel, depth = pending.pop()
            try:
                for entry in sorted(os.scandir(fd), key=lambda e: e.name):
                    entries += 1
                    if entries > FOLDER_MAX_ENTRIES:
                        raise ValueError(f"{folder.name} holds more than {FOLDER_MAX_ENTRIES} files and folders; "
                                         "submit only your code")
                    name = rel / entry.name
                    if IGNORED_PARTS.intersection(name.parts) or entry.name.startswith("."):
                        continue
                    if entry.is_symlink():
                        left_out.append(f"{name} (a symbolic link)")
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        if depth + 1 >= FOLDER_MAX_DEPTH:
                            raise ValueError(f"{folder.name} holds folders more than {FOLDER_MAX_DEPTH} deep; "
                                             "submit only your code")
                        try:
                            pending.append((os.open(entry.name, flags_dir, dir_fd=fd), name, depth + 1))
                        except OSError:
                            left_out.append(f"{name} (a folder that could not be opened, or a link)")
                        continue
                    if not entry.name.lower().endswith(tuple(suffixes)):
                        continue  # not part of a submission: never read (a data file may be huge)
                    try:
                        file_fd = os.open(entry.name, flags_file, dir_fd=fd)
                    except OSError:
                        left_out.append(f"{name} (a link, or unreadable)")
                        continue
                    with os.fdopen(file_fd, "rb") as f:
                        info = os.fstat(file_fd)
                        if not stat.S_ISREG(info.st_mode):
                            left_out.append(f"{name} (not a regular file)")
                            continue
                        limit = MAX_NOTEBOOK_BYTES if not name.suffix.lower() == ".zip" else ZIP_MAX_BYTES
                        if info.st_size > limit or total + info.st_size > total_limit:
                            left_out.append(f"{name} (too large: {info.st_size // 1024} KB)")
                            continue
                        data = f.read(limit + 1)
                    if len(data) > limit:
                        left_out.append(f"{name} (too large)")
                        continue
                    total += len(data)
                    key = (info.st_dev, info.st_ino)
                    names[key] = names.get(key, 0) + 1
                    copied.append((name, data, key, info.st_nlink))
            finally:
                os.close(fd)
    except BaseException:
        for fd, _, _ in pending:
            os.close(fd)
        raise
    for name, data, key, nlink in copied:
        if nlink > names[key]:
            left_out.append(f"{name} (a hard link to a file outside the folder)")
            continue
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return left_out


def _files_of(folder: Path) -> list[Path]:
    """The regular files of a folder of ours (a snapshot, an extracted zip), hidden ones left out.

    Links, FIFOs and devices never get there: snapshot() and safe_extract() leave them out and
    name them.
    """
    found = []
    for p in walk(folder):
        parts = p.relative_to(folder).parts
        if IGNORED_PARTS.intersection(parts) or any(part.startswith(".") for part in parts):
            continue
        if p.is_file() and not p.is_symlink():
            found.append(p)
    return found


def _pick_in_folder(sub: Submission, folder: Path, module: str, notebook: str, handout: Path | None,
                    requires: tuple[str, ...] = ()) -> Path:
    files = _files_of(folder)
    by_name = {}
    for p in files:
        by_name.setdefault(p.name, p)
    for wanted in (f"{module}.py", notebook):
        # One at the top is the submission (a copy in a subfolder is a backup); several
        # only in subfolders are several submissions (a class's folder, or a kit's zip).
        found = [p for p in files if p.name == wanted]
        top = [p for p in found if p.parent == folder]
        if top:
            by_name[wanted] = top[0]
        elif len(found) > 1:
            where = ", ".join(str(p.relative_to(folder)) for p in found[:3])
            raise ValueError(f"it holds {len(found)} files named {wanted} in subfolders ({where}); "
                             f"if each subfolder is a student's, grade them one by one (FOLDER/*)")
    if "conftest.py" in by_name:
        sub.notes.append("a conftest.py in the submission was ignored: only the graded file is loaded")
        sub.findings.append({"kind": "conftest", "detail": "submitted a conftest.py", "line": 0})
    for name in requires:
        if f"{name}.py" in by_name:
            sub.modules.append((name, f"{name}.py", _read_text(by_name[f"{name}.py"])))
    files = [p for p in files if p.name not in {f"{name}.py" for name in requires}]
    py, nb = by_name.get(f"{module}.py"), by_name.get(notebook)
    if py and nb:
        untouched = handout is not None and handout.is_file() and read_regular(py, MAX_CODE_BYTES) == handout.read_bytes()
        chosen = nb if untouched else py
        other = py if untouched else nb
        why = "is the untouched handout" if untouched else "takes precedence"
        sub.notes.append(f"both {py.name} and {nb.name} were submitted; graded {chosen.name} ({(py if untouched else chosen).name} {why}), ignored {other.name}")
        return chosen
    if py or nb:
        return py or nb
    candidates = [p for p in files if p.suffix in (".py", ".ipynb") and p.name != "conftest.py"]
    if len(candidates) == 1:
        sub.notes.append(f"graded {candidates[0].name} (expected {module}.py or {notebook})")
        return candidates[0]
    raise ValueError(
        f"no {module}.py or {notebook} found"
        + (f" (found {', '.join(p.name for p in candidates[:5])})" if candidates else " (the folder has no .py or .ipynb file)")
    )


# Folders deeper than this in a zip are refused before extraction (deep trees break recursive walks).
ZIP_MAX_DEPTH = 32
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"


def zip_entry_count(archive: Path, stop_after: int = 1 << 62) -> int:
    """How many entries a zip's central directory holds, counted record by record from the end
    record's offset and size, before zipfile parses the directory (which builds an object per
    record: 2M records took 843 MB). The end record's own count can lie, so the records are
    counted, reading 46-byte headers and skipping names; past `stop_after` counting stops.

    ValueError when there is no end record (not a zip).
    """
    with open(archive, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        tail_size = min(size, 22 + 65535 + 20)  # the record, its comment, and zip64's locator before it
        f.seek(size - tail_size)
        tail = f.read(tail_size)
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            raise ValueError(f"{archive.name} is not a valid zip file")
        stated = int.from_bytes(tail[at + 10:at + 12], "little")
        cd_size = int.from_bytes(tail[at + 12:at + 16], "little")
        cd_offset = int.from_bytes(tail[at + 16:at + 20], "little")
        if (stated == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF) and at >= 20 \
                and tail[at - 20:at - 16] == _EOCD64_LOCATOR:
            return 1 << 62  # a zip64 directory: far more than any submission's limit, refused unread
        # Where the directory really starts: zipfile allows data prepended to the archive.
        start = size - tail_size + at - cd_size
        if start < 0:
            raise ValueError(f"{archive.name} is not a valid zip file")
        f.seek(start)
        count, left = 0, cd_size
        while left >= 46 and count < stop_after:
            header = f.read(46)
            if len(header) < 46 or header[:4] != b"PK\x01\x02":
                break
            skip = sum(int.from_bytes(header[i:i + 2], "little") for i in (28, 30, 32))
            f.seek(skip, os.SEEK_CUR)
            left -= 46 + skip
            count += 1
    return max(count, stated if count == 0 else count)


def safe_extract(archive: Path, target: Path, max_files: int = ZIP_MAX_FILES, max_bytes: int = ZIP_MAX_BYTES) -> list[str]:
    """Extract a zip without letting any entry leave `target`; returns what was skipped.

    Total: any way a zip can be broken (a bad header, an unknown compression
    method or version, encryption, a name that is not what its flag says, a
    truncated entry) is a ValueError naming the cause, for that submission
    alone. Bounded before the work: the entry count from the end record, the
    depth of every name before anything is written.
    """
    try:
        count = zip_entry_count(archive, stop_after=max_files + 1)
    except OSError as exc:
        raise ValueError(f"{archive.name} could not be read ({exc.strerror or exc})") from None
    if count > max_files:
        raise ValueError(f"{archive.name} holds more than {max_files} files; zip only your own folder")
    try:
        return _extract(archive, target, max_files, max_bytes)
    except UnicodeError:  # a ValueError too, but one that names no file
        raise ValueError(f"{archive.name} could not be read as a zip (a file name in it is not what its "
                         "encoding flag says)") from None
    except ValueError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, UnicodeError, EOFError,
            OverflowError, LookupError, RecursionError, MemoryError, TypeError, AttributeError, zlib.error,
            struct.error) as exc:
        cause = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ValueError(f"{archive.name} could not be read as a zip ({cause})") from None


def _extract(archive: Path, target: Path, max_files: int, max_bytes: int) -> list[str]:
    skipped = []
    try:
        with zipfile.ZipFile(archive) as zf:
            entries = zf.infolist()
            if len(entries) > max_files:
                raise ValueError(f"{archive.name} holds {len(entries)} files; the limit is {max_files}")
            total = 0
            root = target.resolve()
            for entry in entries:
                name = entry.filename.replace("\\", "/")
                mode = entry.external_attr >> 16
                destination = (root / name).resolve()
                if (
                    name.startswith("/")
                    or ".." in name.split("/")
                    or re.match(r"^[A-Za-z]:", name)
                    or not str(destination).startswith(str(root) + "/") and destination != root
                ):
                    skipped.append(f"{entry.filename} (path outside the folder)")
                    continue
                if stat.S_ISLNK(mode):
                    skipped.append(f"{entry.filename} (symbolic link)")
                    continue
                if len([part for part in name.split("/") if part]) > ZIP_MAX_DEPTH:
                    raise ValueError(f"{archive.name} holds folders more than {ZIP_MAX_DEPTH} deep; "
                                     "zip only your own folder")
                if entry.flag_bits & 0x1:
                    raise ValueError(f"{archive.name} is encrypted; zip your files without a password")
                if entry.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                total += entry.file_size
                if total > max_bytes:
                    raise ValueError(f"{archive.name} unpacks to more than {max_bytes // 1024 // 1024} MB")
                destination.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(entry) as src, open(destination, "wb") as dst:
                    # Copy in bounded chunks: file_size in the header can lie.
                    written = 0
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > entry.file_size + 1024 or written > max_bytes:
                            raise ValueError(f"{archive.name}: {entry.filename} unpacks larger than it claims")
                        dst.write(chunk)
    except zipfile.BadZipFile:
        raise ValueError(f"{archive.name} is not a valid zip file") from None
    return skipped


def resolve(path: Path, module: str, notebook: str, handout: Path | None = None, name: str | None = None,
            requires: tuple[str, ...] = ()) -> Submission:
    """Read one submission; problems become `sub.problem`, never exceptions.

    `requires` names modules of earlier parts the submission holds beside its
    module or notebook (cnn_layers.py, say); each found is loaded before it.
    """
    path = Path(path)
    sub = Submission(name=name or submission_name(path), origin=path, display=path.name, module_name=module)
    scratch = None
    try:
        target = path
        # No link is followed, not even a path named on the command line: `grade FOLDER/*`
        # names every entry of a folder, a student's link among them.
        if path.is_symlink():
            raise ValueError(f"{path.name} is a symbolic link; the grader follows no link (it could lead to "
                             "the reference or a classmate's file): pass what it points to")
        if path.is_file() and path.suffix.lower() == ".zip":
            scratch = Path(tempfile.mkdtemp(prefix="autograder-zip-"))
            check_regular(path, ZIP_MAX_BYTES)  # no hard link, no FIFO, the size first (nothing read)
            skipped = safe_extract(path, scratch)
            if skipped:
                sub.notes.append("zip entries not extracted: " + "; ".join(skipped[:5]))
                sub.findings.append({"kind": "unsafe-zip", "detail": "; ".join(skipped[:5]), "line": 0})
            target = scratch
        elif path.is_dir():
            # A student's folder may change while it is read: what is graded is a private copy.
            scratch = Path(tempfile.mkdtemp(prefix="autograder-folder-"))
            left_out = snapshot(path, scratch)
            if left_out:
                sub.notes.append("not read (the grader follows no link and reads only regular files): "
                                 + ", ".join(left_out[:5]) + (f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""))
                sub.findings.append({"kind": "symlink", "detail": "submitted links or special files: "
                                     + ", ".join(left_out[:5]), "line": 0})
            target = scratch
        if target.is_dir():
            target = _pick_in_folder(sub, target, module, notebook, handout, requires)
        _load_file(sub, target, module, notebook)
        missing = [f"{r}.py" for r in requires if r not in {m[0] for m in sub.modules}]
        if missing:
            # Not a problem by itself: a notebook may define everything it needs.
            sub.notes.append(f"no {', '.join(missing)} was submitted beside {sub.display}; "
                             "submit a folder or zip holding both if your code imports it")
    except (ValueError, OSError) as exc:
        sub.problem = str(exc)
    except Exception as exc:  # noqa: BLE001 - every reader of student bytes is total: one submission's problem
        sub.problem = f"it could not be read ({type(exc).__name__}: {str(exc)[:200]})"
    finally:
        if scratch is not None:
            remove_tree(str(scratch))  # whatever was extracted: a tree too deep for rmtree too
    return sub
