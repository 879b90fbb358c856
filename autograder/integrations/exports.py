"""Gradescope "export submissions" and Canvas bulk downloads, mapped to students.

`grade` accepts either export (as the downloaded .zip or as the extracted
folder) beside plain submissions. Each export becomes one submission per
student, named after the student, so grades.csv, feedback and seeds follow
the student rather than an LMS file name:

- Gradescope: the export holds `submission_metadata.yml` and one folder
  `submission_<id>/` per submission. The metadata (Ruby-flavoured YAML) maps
  `submission_<id>` to `:submitters:` (`:name:`, `:sid:`, `:email:`),
  `:created_at:`, `:score:` and more. A submission is named after its
  submitter (a slug of the name, else the SID).
- Canvas: "Download Submissions" gives loose files named
  `<name>[_LATE]_<user id>_<attachment id>_<file name>`, where Canvas adds
  `-1`, `-2`, ... to a file name a student submitted before. The files of
  one student are gathered into a folder named after the student, renamed
  back to what the assignment expects (cnn_layers.py, cnn.ipynb).

Anything else passes through unchanged. After grading, write_gradebooks
writes files the LMS imports: canvas_gradebook.csv (Canvas's gradebook
import) or gradescope_scores.csv, plus roster.json (who each submission is,
late or not, and which file it came from).
"""

from __future__ import annotations

import csv
import json
import re
import sys
import unicodedata
import zipfile
from collections import defaultdict
from pathlib import Path

import yaml  # PyYAML: Gradescope's submission_metadata.yml

from ..engine import batch
from ..engine.report import csv_row
from ..engine.text import inert
from ..engine.submission import (
    IGNORED_PARTS, MAX_NOTEBOOK_BYTES, ZIP_MAX_BYTES, read_regular, safe_extract, snapshot, submission_name,
    unique_names, walk, zip_entry_count,
)

# A whole class's export: far more files than one submission may hold.
EXPORT_MAX_FILES = 200_000
EXPORT_MAX_BYTES = 4 * 1024**3

METADATA = "submission_metadata.yml"
METADATA_MAX_BYTES = 20 * 1024 * 1024
# The metadata is a map of a few small maps per submission (a few dozen nodes each): far
# fewer than this, which keeps PyYAML's own memory (~700 bytes a node) near 100 MB. No YAML
# aliases either (an alias bomb expands exponentially).
METADATA_MAX_NODES = 150_000
GRADESCOPE_FOLDER = re.compile(r"^submission_\d+$")
# <name>[_late]_<canvas user id>_<attachment id>_<file name>. Canvas writes the
# name as "lastfirst" and "late" in lower case (older exports: last_first,
# LATE); with anonymous grading there is no name at all.
CANVAS_FILE = re.compile(
    r"^(?:(?P<name>.+?)_)??(?P<late>(?i:late)_)?(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)$"
)
# Canvas's mark of a resubmitted file name: cnn_layers-1.py, cnn-2.ipynb.
RESUBMISSION = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)$")


class ExportError(Exception):
    """An export that cannot be read; the message says what to do."""


def _note(message: str) -> None:
    print(f"note: {inert(message, one_line=True)}", file=sys.stderr)  # it may name a student's files


def slug(text: str) -> str:
    """A file-system- and CSV-safe name: lowercase ASCII letters, digits, _ and -."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9_-]+", "_", text.lower())
    return re.sub(r"_+", "_", text).strip("_-")[:60].strip("_-")


# -- recognising an export ------------------------------------------------
def _visible(parts) -> bool:
    return not IGNORED_PARTS.intersection(parts) and not any(p.startswith(".") for p in parts)


def _strip_top(names: list[str]) -> list[str]:
    """Entries relative to the single folder they all sit in, if they do (a zipped export folder)."""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return [n.split("/", 1)[1] for n in names]
    return names


def _zip_names(path: Path) -> list[str] | None:
    # Any zip that cannot be read is not an export: the grader reports it as that submission's
    # problem (submission.safe_extract says why). The count is checked before zipfile reads them all.
    try:
        if zip_entry_count(path, stop_after=EXPORT_MAX_FILES + 1) > EXPORT_MAX_FILES:
            return None
        with zipfile.ZipFile(path) as zf:
            names = [i.filename.replace("\\", "/") for i in zf.infolist() if not i.is_dir()]
    except Exception:  # noqa: BLE001 - a broken zip in any way (a bad name encoding, a version, ...)
        return None
    return _strip_top([n for n in names if _visible(n.split("/"))])


def _folder_names(path: Path) -> list[str]:
    try:
        entries = walk(path, max_entries=EXPORT_MAX_FILES)
    except ValueError:
        return []  # too deep or too large for an export: a submission, whose reading says why
    return [p.relative_to(path).as_posix() for p in entries
            if p.is_file() and not p.is_symlink() and _visible(p.relative_to(path).parts)]


def export_kind(path: Path, assignment) -> str | None:
    """'gradescope', 'canvas', or None for a plain submission."""
    if path.is_file() and path.suffix.lower() == ".zip":
        names = _zip_names(path)
        if names is None:
            return None
    elif path.is_dir():
        names = _strip_top(_folder_names(path))
    else:
        return None
    top = [n for n in names if "/" not in n]
    if f"{assignment.module}.py" in top or assignment.notebook in top:
        return None  # one student's folder
    # Gradescope's export, by its own top-level layout only: the metadata file and
    # submission_<id>/ folders, nothing else that could be graded. A student's
    # folder holding a metadata file of its own is just a student's folder.
    folders = {n.split("/", 1)[0] for n in names if "/" in n}
    if METADATA in top and folders and all(GRADESCOPE_FOLDER.match(f) for f in folders) \
            and not any(n.endswith((".py", ".ipynb", ".zip")) for n in top):
        return "gradescope"
    if any(CANVAS_FILE.match(n) for n in top):
        return "canvas"
    return None


def _export_root(path: Path, work: Path) -> Path:
    """The export's top folder on disk: extracted into `work` if it is a zip."""
    if path.is_dir():
        root = path
    else:
        root = work / "raw"
        root.mkdir(parents=True)
        try:
            skipped = safe_extract(path, root, EXPORT_MAX_FILES, EXPORT_MAX_BYTES)
        except ValueError as exc:
            raise ExportError(f"{path}: {exc}; unzip it and pass the folder instead") from None
        if skipped:
            _note(f"{path.name}: entries not extracted: {'; '.join(skipped[:5])}")
    entries = [p for p in root.iterdir() if _visible([p.name])]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return root


def _copy_files(source: Path, target: Path) -> None:
    """Copy a student's folder of an export into `target` as the grader reads any folder
    (submission.snapshot: no link followed, regular files of a submission's kinds, sizes first)."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        left_out = snapshot(source, target)
    except ValueError as exc:
        _note(f"{source.name}: {exc}")
        return
    if left_out:
        _note(f"{source.name}: not copied: {', '.join(left_out[:5])}")


def _unique(bases: dict[str, str], suffixes: dict[str, str]) -> dict[str, str]:
    """Make names unique: every name shared by several keys gets that key's suffix."""
    counts = defaultdict(int)
    for name in bases.values():
        counts[name] += 1
    return {key: (f"{name}_{slug(suffixes[key])}" if counts[name] > 1 else name) for key, name in bases.items()}


# -- Gradescope -----------------------------------------------------------
class _MetadataLoader(yaml.SafeLoader):
    """YAML's safe loader that reads Ruby's tags (Gradescope writes them) as plain maps, lists and strings."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_MetadataLoader.add_multi_constructor("!", _any_tag)
_MetadataLoader.add_multi_constructor("tag:ruby.yaml.org,2002:", _any_tag)


def read_metadata(path: Path) -> dict:
    """submission_metadata.yml as plain data (Ruby tags read as plain maps, lists and strings)."""
    nodes = [0]

    def compose_node(loader, parent, index):
        if loader.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("aliases are not allowed in the metadata")
        nodes[0] += 1
        if nodes[0] > METADATA_MAX_NODES:
            raise yaml.YAMLError(f"more than {METADATA_MAX_NODES} nodes")
        return yaml.SafeLoader.compose_node(loader, parent, index)

    class Loader(_MetadataLoader):  # this read's own count of nodes
        pass

    Loader.compose_node = compose_node
    if path.stat().st_size > METADATA_MAX_BYTES:
        raise ExportError(f"{path}: larger than {METADATA_MAX_BYTES // 1024 // 1024} MB; is this a Gradescope export?")
    try:
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=Loader)  # noqa: S506 - a SafeLoader
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, MemoryError) as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise ExportError(f"{path}: not readable YAML{at}; re-download the export from Gradescope") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ExportError(
            f"{path}: expected 'submission_<id>:' entries with ':submitters:'; re-download the export from Gradescope"
        )
    return data


def _text(value) -> str:
    """A scalar as text; anything else (a list or map where a name should be) as nothing."""
    if value is None or isinstance(value, (list, dict, tuple, set)):
        return ""
    return str(value).strip()[:200]


def _gradescope(path: Path, assignment, work: Path) -> list[tuple[Path, dict]]:
    root = _export_root(path, work)
    metadata = read_metadata(root / METADATA)
    entries = {}
    for key in sorted(metadata, key=str):
        meta = metadata[key]
        if not GRADESCOPE_FOLDER.match(str(key)):
            # A path from the metadata is only ever one folder of this export by its id.
            _note(f"{path.name}: {str(key)[:80]!r} in {METADATA} is not a submission_<id> entry; not graded")
            continue
        folder = root / str(key)
        if folder.is_symlink():
            _note(f"{path.name}: {key} is a symbolic link; not graded")
            continue
        submitters = []
        people = meta.get(":submitters") or []
        for person in people if isinstance(people, list) else []:
            if isinstance(person, dict):
                submitters.append({
                    "name": _text(person.get(":name")),
                    "sid": _text(person.get(":sid")),
                    "email": _text(person.get(":email")),
                })
        if not folder.is_dir():
            _note(f"{path.name}: {key} is in {METADATA} but has no folder; not graded")
            continue
        if not submitters:
            _note(f"{path.name}: {key} names no submitters; graded as '{slug(str(key))}'")
        entries[str(key)] = (meta, folder, submitters)
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and _visible([p.name])):
        if folder.name not in entries and folder.name not in metadata:
            _note(f"{path.name}: {folder.name}/ is not in {METADATA}; not graded")
    if not entries:
        raise ExportError(f"{path}: the export has no submission folders that {METADATA} lists")

    bases = {}
    for key, (_, _, submitters) in entries.items():
        names = [slug(s["name"]) or slug(s["sid"]) for s in submitters]
        bases[key] = "-".join(n for n in names if n)[:80] or slug(key) or "submission"
    # Two students with one name: told apart by SID (else by submission id).
    suffixes = {key: next((s["sid"] for s in people[:1] if s["sid"]), key) for key, (_, _, people) in entries.items()}
    names = _unique(bases, suffixes)
    names = _unique(names, {key: key for key in entries})  # two submissions of one student: by submission id

    produced = []
    for key, (meta, folder, submitters) in entries.items():
        target = work / "students" / names[key]
        _copy_files(folder, target)
        first = submitters[0] if submitters else {"name": "", "sid": "", "email": ""}
        produced.append((target, {
            "kind": "gradescope",
            "student": ", ".join(s["name"] for s in submitters if s["name"]) or first["sid"] or key,
            "sid": first["sid"],
            "email": first["email"],
            "submitters": submitters,
            "late": bool(meta.get(":late", False)),
            "created_at": _text(meta.get(":created_at")),
            "source": key,
        }))
    return produced


# -- Canvas ---------------------------------------------------------------
def _canvas_file_name(original: str) -> tuple[str, int]:
    """The name the student gave a file, without Canvas's resubmission mark, and that mark's number."""
    stem, dot, ext = original.rpartition(".")
    if not dot:
        stem, ext = original, ""
    found = RESUBMISSION.match(stem)
    n = int(found["n"]) if found else 0
    stem = found["stem"] if found else stem
    return (f"{stem}.{ext}" if dot else stem), n


def _canvas(path: Path, assignment, work: Path) -> list[tuple[Path, dict]]:
    root = _export_root(path, work)
    by_user: dict[str, list[dict]] = defaultdict(list)
    for p in sorted(root.iterdir()):
        if not p.is_file() or p.is_symlink() or not _visible([p.name]):
            continue
        found = CANVAS_FILE.match(p.name)
        if not found:
            _note(f"{path.name}: {p.name} is not named like a Canvas submission file; not graded")
            continue
        name, n = _canvas_file_name(found["file"])
        by_user[found["user"]].append({
            "path": p, "original": p.name, "student": found["name"] or "", "late": bool(found["late"]),
            "attachment": int(found["attachment"]), "name": name, "n": n,
        })
    if not by_user:
        raise ExportError(f"{path}: no files named like a Canvas download (<name>_<user id>_<id>_<file>)")

    bases = {user: slug(files[0]["student"]) or f"canvas_{user}" for user, files in by_user.items()}
    names = _unique(bases, {user: user for user in by_user})
    produced = []
    for user, files in sorted(by_user.items(), key=lambda kv: names[kv[0]]):
        # One file of each kind is the graded file, whatever the student called it.
        for suffix, expected in ((".py", f"{assignment.module}.py"), (".ipynb", assignment.notebook)):
            kinds = {f["name"] for f in files if f["name"].lower().endswith(suffix)}
            if len(kinds) == 1 or expected in kinds:
                chosen = expected if expected in kinds else kinds.pop()
                for f in files:
                    if f["name"] == chosen:
                        f["name"] = expected
        # The latest of several files with one name (an earlier upload and its "-1" resubmission).
        latest: dict[str, dict] = {}
        for f in sorted(files, key=lambda f: (f["attachment"], f["n"])):
            latest[f["name"]] = f
        kept = sorted(latest.values(), key=lambda f: f["name"])
        ignored = [f["original"] for f in files if f not in kept]
        target = work / "students" / names[user]
        target.mkdir(parents=True)
        for f in kept:
            if f["name"].lower().endswith(".zip") and zipfile.is_zipfile(f["path"]):
                inner = target / (slug(f["name"][:-4]) or "zip")
                inner.mkdir()
                try:
                    skipped = safe_extract(f["path"], inner)
                    if skipped:
                        _note(f"{f['original']}: entries not extracted: {'; '.join(skipped[:5])}")
                except ValueError as exc:
                    _note(f"{f['original']}: {exc}")
            else:
                try:  # as any file of a student's: no link, no FIFO, the size first
                    limit = ZIP_MAX_BYTES if f["name"].lower().endswith(".zip") else MAX_NOTEBOOK_BYTES
                    (target / f["name"]).write_bytes(read_regular(f["path"], limit))
                except (ValueError, OSError) as exc:
                    _note(f"{f['original']}: not copied ({exc})")
        info = {
            "kind": "canvas",
            "student": files[0]["student"] or names[user],  # anonymous grading: no name
            "canvas_user_id": user,
            "late": any(f["late"] for f in kept),
            "source": ", ".join(f["original"] for f in kept),
        }
        if ignored:
            info["superseded"] = ignored
        produced.append((target, info))
    return produced


# -- the command's entry points --------------------------------------------
KINDS = ("canvas", "gradescope")


def expand(paths: list[Path], assignment, scratch: Path, export=(), named=None) -> tuple[list[Path], dict]:
    """Paths to grade and a roster {submission name: student info}; plain submissions pass through.

    A zip or folder is an export only when the instructor says so (`export`:
    the kinds given with `grade --export canvas|gradescope`), it is laid out as
    one, and it was named on the command line (`named`; None: every path was),
    never found in a class folder. Otherwise every zip is one student's, with
    a student's limits, wherever it sits: a crafted zip could otherwise write
    LMS rows for classmates. A look-alike graded as one submission gets a
    one-line note naming the flag.

    Names are unique across everything given: a student of an export whose
    name is taken already (by a plain submission or another export) is graded
    as name_2, with a note; nothing an export says can stop the batch.
    """
    export = set([export] if isinstance(export, str) else export or ())
    for kind in sorted(export - set(KINDS)):
        raise ExportError(f"--export {kind}: give one of {', '.join(KINDS)}")
    kinds = []
    for path in paths:
        kind = export_kind(path, assignment) if named is None or path in named else None
        if kind is not None and kind not in export:
            _note(f"{path.name} is laid out like a {kind.capitalize()} download; it is graded as one student's "
                  f"submission (to grade each student in it, pass --export {kind})")
            kind = None
        kinds.append(kind)
    taken = {submission_name(path).lower() for path, kind in zip(paths, kinds) if kind is None}
    expanded: list[Path] = []
    roster: dict[str, dict] = {}
    for index, (path, kind) in enumerate(zip(paths, kinds)):
        if kind is None:
            expanded.append(path)
            continue
        work = scratch / f"export{index}"
        work.mkdir(parents=True)
        try:
            produced = _gradescope(path, assignment, work) if kind == "gradescope" else _canvas(path, assignment, work)
        except Exception as exc:  # noqa: BLE001 - metadata of any shape, from anyone
            if len(paths) == 1:
                if isinstance(exc, ExportError):
                    raise
                raise ExportError(f"{path}: not a readable export ({type(exc).__name__}); re-download it") from None
            # Among other submissions, what only looks like an export (a student's zip, say)
            # must not stop the batch: it is graded as what it is, with the reason.
            _note(f"{exc}; graded as one submission")
            expanded.append(path)
            continue
        for folder, info in produced:
            base = name = submission_name(folder)
            n = 1
            while name.lower() in taken or (name != base and folder.with_name(name).exists()):
                n += 1
                name = f"{base}_{n}"
            if name != base:
                _note(f"{path.name}: a submission is already named '{base}'; this student is graded as '{name}'")
                folder = folder.rename(folder.with_name(name))
            taken.add(name.lower())
            roster[name] = {**info, "export": str(path)}
            expanded.append(folder)
    return expanded, roster


def canvas_column(assignment) -> str:
    """The gradebook column. Canvas matches an existing assignment by 'Title (id)': with
    [lms] canvas_assignment_id set, the column carries it; [lms] canvas_column overrides it all."""
    lms = assignment.extra.get("lms", {})
    if lms.get("canvas_column"):
        return str(lms["canvas_column"])
    if lms.get("canvas_assignment_id"):
        return f"{assignment.title} ({lms['canvas_assignment_id']})"
    return assignment.title


ROSTER = "roster.json"


def read_rosters(folders) -> dict:
    """The rosters of gradebook folders, later folders' entries replacing earlier ones'."""
    roster: dict = {}
    for folder in folders:
        path = Path(folder) / ROSTER
        if path.is_file():
            try:
                entries = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                _note(f"{path} is not readable JSON; its students are left out of the LMS gradebooks")
                continue
            roster.update({name: {k: v for k, v in info.items() if k != "score"} for name, info in entries.items()})
    return roster


def _lms_ids(info: dict) -> list[str]:
    if info.get("kind") == "canvas":
        return [f"Canvas id {info.get('canvas_user_id')}"]
    people = info.get("submitters") or [{"sid": info.get("sid"), "email": info.get("email")}]
    return [f"SID {p['sid']}" if p.get("sid") else f"email {p.get('email')}" for p in people if p.get("sid") or p.get("email")]


def _unambiguous(graded: dict) -> dict:
    """The roster without LMS identities that two exports claim: a zip laid out like an export
    (a student's own, say) could otherwise put a second row for a classmate into the import.
    Neither row is written; a note names both sources so the instructor decides."""
    claims: dict[str, set[str]] = defaultdict(set)
    for info in graded.values():
        for lms_id in _lms_ids(info):
            claims[lms_id].add(info.get("export", ""))
    ambiguous = {lms_id for lms_id, sources in claims.items() if len(sources) > 1}
    kept = {}
    for name, info in graded.items():
        clash = [i for i in _lms_ids(info) if i in ambiguous]
        if clash:
            _note(f"{clash[0]} ({info.get('student')}) appears in {' and '.join(sorted(claims[clash[0]]))}; "
                  f"left out of the LMS gradebook file: check by hand (graded as '{name}' in grades.csv)")
        else:
            kept[name] = info
    return kept


def write_gradebooks(out: Path, grades, roster: dict, assignment) -> None:
    """Gradebook files an LMS can import (a Canvas CSV, a Gradescope CSV), beside grades.csv.

    `grades` is everyone in OUT's gradebook; `roster` this run's students of
    exports, added to (and replacing) those of OUT/roster.json from earlier runs.
    """
    out.mkdir(parents=True, exist_ok=True)
    roster = {**read_rosters([out]), **roster}
    by_name = {g.name: g for g in grades}
    graded = _unambiguous({name: info for name, info in roster.items() if name in by_name})

    def of_kind(kind):
        return sorted(((n, i) for n, i in graded.items() if i.get("kind") == kind), key=lambda x: (x[1]["student"], x[0]))

    canvas = of_kind("canvas")
    if canvas:
        lms = assignment.extra.get("lms", {})
        if not (lms.get("canvas_assignment_id") or lms.get("canvas_column")):
            _note(f"canvas_gradebook.csv's column is '{canvas_column(assignment)}', with no Canvas assignment id: "
                  "Canvas will import it as a new assignment. To fill an existing one, set canvas_assignment_id "
                  "(the number in its URL) under [lms] in assignment.toml")
        # Canvas's gradebook import: students are matched by ID (the Canvas user id);
        # the "Points Possible" row is the one Canvas's own export writes.
        with open(out / "canvas_gradebook.csv", "w", newline="", encoding="utf-8", errors="replace") as f:
            writer = csv.writer(f)
            writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", canvas_column(assignment)])
            writer.writerow(["    Points Possible", "", "", "", "", f"{assignment.total_points:g}"])
            for name, info in canvas:
                writer.writerow(csv_row([info["student"], info["canvas_user_id"], "", "", "", f"{by_name[name].score:g}"]))

    gradescope = of_kind("gradescope")
    if gradescope:
        with open(out / "gradescope_scores.csv", "w", newline="", encoding="utf-8", errors="replace") as f:
            writer = csv.writer(f)
            writer.writerow(["Name", "SID", "Email", "Total Score"])
            for name, info in gradescope:
                people = info["submitters"] or [{"name": info["student"], "sid": info["sid"], "email": info["email"]}]
                for person in people:  # a group submission: one row per member
                    writer.writerow(csv_row([person["name"], person["sid"], person["email"], f"{by_name[name].score:g}"]))

    if graded:
        entries = {name: {**info, "score": by_name[name].score} for name, info in sorted(graded.items())}
        (out / ROSTER).write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def inputs(raw: list[str], a, scratch: Path, export=()) -> tuple[list[batch.Input], dict]:
    """The SUBMISSION arguments as one input per student (batch.Input), and the roster of LMS exports.

    Before the engine sees them: a class folder becomes one input per file, an
    export one per student (expand, above); names are decided once, here.
    """
    paths = []
    for text in raw:
        path = Path(text)
        if not path.exists():
            raise batch.BatchError(f"{text} does not exist (relative paths start from {Path.cwd()}); "
                                   "pass .py, .ipynb, .zip files or folders")
        files = batch.class_files(path, a) if not export or export_kind(path, a) not in export else None
        if files:
            kinds = "/".join(sorted({p.suffix.lower() for p in files}))
            batch.note(f"{text} holds no {a.module}.py or {a.notebook} but {len(files)} {kinds} files: "
                       f"grading each file as one student's submission")
            paths += files
        else:
            paths.append(path)
    try:
        # Only what was named on the command line can be an export, never a file of a class folder.
        expanded, roster = expand(paths, a, scratch, export, named={Path(text) for text in raw})
    except ExportError as exc:
        raise batch.BatchError(str(exc)) from None
    # Names are decided once, here: safe as folder names, collisions resolved (_2, _3).
    name_of = unique_names(list(dict.fromkeys(expanded)), warn=batch.note)
    found = [batch.Input(name, path, position) for position, (path, name) in enumerate(name_of.items())]
    return found, roster
