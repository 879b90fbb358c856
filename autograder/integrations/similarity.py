"""Similarity across a class and against known solutions, for instructors to review by hand.

`grade ... --similarity [--known ARCHIVE]` and `python -m autograder similarity OUT` compare
every pair of submissions, and each submission with an archive of known solutions (a folder
or .zip of .py files and notebooks: past years, public repositories the instructor collected).
They write:

- OUT/similarity.csv: a, b, score, kind (class or known), a_share, b_share, view; highest first.
- OUT/_similarity/<n>.html: a side-by-side view of each listed pair, matching regions marked.
- the "Similarity" section of OUT/report.html (classreport.py renders it from `Result`).

Nothing here reaches a student: results.json and feedback.md are never touched.

Each file is first put in a canonical form (normalise.py: no-ops and dead code dropped,
temporaries inlined, loops that append as comprehensions, independent statements in one order),
so that mechanical edits of a copy do not hide it; code that does not parse is compared as
written. The fingerprints of that form are copydetect's (winnowing over pygments tokens, with
names, strings and literals normalised, so renamed variables still match). We call its
CodeFingerprint and compare_files, and use its highlight_overlap for files compared as written;
the views show each file as written, the lines of matched statements marked. The handout's code (module and notebook: docstrings, stubs,
the given classes, the demo cells) is copydetect's "boilerplate": its fingerprints are removed
from every file before comparing, so it can never make two submissions alike.

A score is the larger of the two shares: the share of one side's own code (the handout's
excluded) that also appears in the other. It says "similar, review by hand", never that anyone
copied: independent solutions of a short, constrained exercise share idioms.

Instructor-side only: copydetect comes with the `similarity` extra (`pip install -e .[similarity]`,
which ./kit installs) and is not installed in the Gradescope image.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from ..assignment import ConfigError
from ..engine import batch
from ..engine.results import Grade
from ..engine.text import inert
from ..engine.submission import IGNORED_PARTS, notebook_cells, resolve, safe_extract, submission_name, unique_names
from . import classreport, exports, normalise, pages

# What the trusted side reads of untrusted files: every file is size-limited before parsing.
MAX_CODE_BYTES = 1024 * 1024  # a submission's or known file's code; larger ones are skipped
ARCHIVE_MAX_FILES = 100_000
ARCHIVE_MAX_BYTES = 2 * 1024**3
CACHE_FORMAT = 2
CSV_NAME = "similarity.csv"
# Not a name a submission gets from an export (slugs never start with "_").
VIEWS_DIR = "_similarity"


class SimilarityError(Exception):
    """The similarity step cannot run; the message says what to do."""


# -- settings ------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """The [similarity] table of assignment.toml (see the comments there)."""

    review_from: float = 0.5
    report_at_most: int = 25
    noise_threshold: int = 45
    guarantee_threshold: int = 50
    min_own_tokens: int = 200
    known_per_submission: int = 3
    known_candidates: int = 25


def settings(assignment) -> Settings:
    table = assignment.extra.get("similarity", {})
    where = f"{assignment.folder / 'assignment.toml'} [similarity]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: should be a table of settings")
    known = set(Settings.__dataclass_fields__)
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"{where}: unknown settings {sorted(unknown)}; known ones are {sorted(known)}")
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: '{key}' must be a number, got {value!r}")
        if key == "review_from":
            if not 0 <= value <= 1:
                raise ConfigError(f"{where}: 'review_from' is a score between 0 and 1, got {value!r}")
        elif value != int(value) or value < 1:
            raise ConfigError(f"{where}: '{key}' must be a whole number >= 1, got {value!r}")
    s = Settings(**{k: (float(v) if k == "review_from" else int(v)) for k, v in table.items()})
    if s.guarantee_threshold < s.noise_threshold:
        raise ConfigError(f"{where}: 'guarantee_threshold' ({s.guarantee_threshold}) must be at least "
                          f"'noise_threshold' ({s.noise_threshold})")
    return s


# -- what is compared ----------------------------------------------------------

@dataclass
class Code:
    """One file's code as compared: a submission (kind "class") or a known solution ("known")."""

    name: str
    kind: str
    text: str


@dataclass
class Pair:
    a: str
    b: str
    score: float
    kind: str
    a_share: float
    b_share: float
    view: str = ""  # the side-by-side page, relative to OUT, for listed pairs


@dataclass
class Result:
    pairs: list[Pair]  # highest first
    settings: Settings
    compared: int = 0  # submissions compared
    known_files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    seconds: float = 0.0
    known_archive: str = ""

    @property
    def listed(self) -> list[Pair]:
        """The pairs shown in the report, each with a view."""
        return [p for p in self.pairs if p.view]


def _read_limited(path: Path) -> str:
    if path.stat().st_size > MAX_CODE_BYTES:
        raise ValueError(f"larger than {MAX_CODE_BYTES // 1024} KB")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None


def _whole(text: str) -> str:
    """`text` with lone surrogates (a notebook's JSON may hold them) replaced: every encoder,
    lexer and parser below takes it (one such cell stopped similarity for the class)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def file_code(path: Path) -> str:
    """A .py file's text, or a notebook's code cells (magics and grader cells skipped), size-limited."""
    if path.suffix.lower() == ".ipynb":
        if path.stat().st_size > 5 * MAX_CODE_BYTES:
            raise ValueError(f"larger than {5 * MAX_CODE_BYTES // 1024 // 1024} MB")
        text = _whole("\n\n".join(cell for _, cell in notebook_cells(path)))
        if len(text.encode("utf-8")) > MAX_CODE_BYTES:
            raise ValueError(f"its code cells hold more than {MAX_CODE_BYTES // 1024} KB")
        return text
    return _read_limited(path)


def class_code(assignment, paths: list) -> tuple[list[Code], list[tuple[str, str]]]:
    """Each submission's code, read as the grader reads it (zips extracted safely, notebooks' code cells).

    `paths`: files, or (name, file) pairs where the gradebook's name is known (it may differ from
    the file's: a name taken twice is graded as name_2)."""
    handout = assignment.template_dir / f"{assignment.module}.py"
    codes, skipped = [], []
    for item in paths:
        name, path = item if isinstance(item, tuple) else (None, item)
        sub = resolve(Path(path), assignment.module, assignment.notebook, handout)
        name = name or sub.name
        sub.source = _whole(sub.source)
        if sub.problem:
            skipped.append((name, f"not read: {sub.problem}"))
        elif len(sub.source.encode("utf-8")) > MAX_CODE_BYTES:
            skipped.append((name, f"not compared: more than {MAX_CODE_BYTES // 1024} KB of code"))
        else:
            codes.append(Code(name, "class", sub.source))
    return codes, skipped


def boilerplate(assignment) -> list[str]:
    """The handout's code: its module and its notebook's code cells."""
    texts = []
    for path in (assignment.template_dir / f"{assignment.module}.py", assignment.template_dir / assignment.notebook):
        if path.is_file():
            texts.append(file_code(path))
    if not texts:
        raise SimilarityError(f"no handout in {assignment.template_dir} to exclude as boilerplate; "
                              "run `python -m autograder build` first")
    return texts


def known_code(archive: Path) -> tuple[list[Code], list[tuple[str, str]]]:
    """Every .py and .ipynb in a folder or .zip of known solutions, named by its path inside it."""
    archive = Path(archive)
    if not archive.exists():
        raise SimilarityError(f"{archive} does not exist; pass --known a folder or .zip of known solutions")
    scratch = None
    try:
        folder = archive
        if archive.is_file():
            if archive.suffix.lower() != ".zip":
                raise SimilarityError(f"{archive} is neither a folder nor a .zip; pass --known a folder or .zip of known solutions")
            scratch = Path(tempfile.mkdtemp(prefix="autograder-known-"))
            try:
                safe_extract(archive, scratch, max_files=ARCHIVE_MAX_FILES, max_bytes=ARCHIVE_MAX_BYTES)
            except ValueError as exc:
                raise SimilarityError(f"cannot read the known solutions: {exc}") from None
            folder = scratch
        codes, skipped = [], []
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if (path.suffix.lower() not in (".py", ".ipynb") or path.is_symlink() or not path.is_file()
                    or IGNORED_PARTS.intersection(rel.parts) or any(p.startswith(".") for p in rel.parts)):
                continue
            try:
                codes.append(Code(rel.as_posix(), "known", file_code(path)))
            except (ValueError, OSError) as exc:
                skipped.append((rel.as_posix(), f"not read: {exc}"))
        if not codes:
            raise SimilarityError(f"{archive} holds no .py or .ipynb files to compare with")
        return codes, skipped
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


# -- fingerprints (copydetect) ---------------------------------------------------

def _copydetect():
    try:  # the [similarity] extra (Gradescope's install leaves it out)
        import copydetect
        from copydetect import utils
    except ImportError:
        raise SimilarityError("the similarity check needs copydetect: run `pip install -e .[similarity]` "
                              "(./kit installs it)") from None
    return copydetect, utils


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cnn-autograder" / "similarity"


class TokenCache:
    """Each file's normalised form and copydetect's tokens of it, by hash: a large archive is
    normalised and lexed once.

    Only the code and its offsets are kept, not the fingerprints: copydetect hashes k-grams with
    Python's hash(), which differs between processes. A normalised form is keyed by the
    normaliser's version and the entry points too, as it depends on both.
    """

    def __init__(self, path: Path | None, library: str):
        self.path, self.library = path, library
        self.entries: dict[str, list] = {}
        self.hits = self.misses = 0
        if path is not None and path.is_file():
            try:
                with gzip.open(path, "rt", encoding="utf-8") as f:
                    data = json.load(f)
                if data.get("format") == CACHE_FORMAT and data.get("library") == library:
                    self.entries = data["entries"]
            except (OSError, ValueError, KeyError, EOFError):
                self.entries = {}  # a damaged cache is rebuilt

    def tokens(self, text: str, lex) -> tuple[str, list]:
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if key in self.entries:
            self.hits += 1
            filtered, offsets = self.entries[key]
            return filtered, offsets
        self.misses += 1
        filtered, offsets = lex(text)
        self.entries[key] = [filtered, offsets]
        return filtered, offsets

    def form(self, text: str, entries, compute):
        """The normalised form of `text` (a normalise.Normalised, or None when it has none)."""
        key = hashlib.sha256("\0".join([f"normalise {normalise.VERSION}", *sorted(entries), text]).encode("utf-8")).hexdigest()
        if key in self.entries:
            self.hits += 1
            saved = self.entries[key]
            return None if saved is None else normalise.Normalised(saved[0], [tuple(lines) for lines in saved[1]])
        self.misses += 1
        found = compute(text)
        self.entries[key] = None if found is None else [found.text, [list(lines) for lines in found.origin]]
        return found

    def save(self) -> None:
        if self.path is None or not self.misses:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=5) as f:
            json.dump({"format": CACHE_FORMAT, "library": self.library, "entries": self.entries}, f)
        tmp.replace(self.path)


class Fingerprinter:
    """copydetect's CodeFingerprint of each file's normalised code, with the handout's fingerprints removed.

    Each file is first put in normalise.py's canonical form (no-ops and dead code dropped,
    temporaries inlined, independent statements in one order), so mechanical edits of a copy do
    not break its fingerprints. Code that cannot be normalised (it does not parse, or is too
    large or deep) is fingerprinted as written. The handout's fingerprints are taken from it both
    as written and normalised, so neither form of it counts.
    """

    def __init__(self, settings: Settings, boiler: list[str], normalised: bool = True):
        # NumPy only when comparing: the CLI imports this module before grading's sandbox probe starts.
        import numpy as np

        self.np = np
        self.copydetect, self.utils = _copydetect()
        self.k = settings.noise_threshold
        self.window = settings.guarantee_threshold - settings.noise_threshold + 1
        self.normalised = normalised
        # The entry points of the contract, as the handout defines them: what they never reach is dead.
        self.entries = normalise.entry_points(boiler) if normalised else set()
        forms = list(boiler)
        if normalised:
            forms += [n.text for n in map(self.normalise, boiler) if n is not None]
        # Every k-gram of the handout (window 1), as copydetect does for boilerplate files.
        hashes = [self._fingerprint("handout", *self.lex(text), window=1, boiler=[]).hashes for text in forms]
        self.boiler = np.unique(np.array([h for hs in hashes for h in hs], dtype=np.int64))

    @property
    def library(self) -> str:
        return f"copydetect {self.copydetect.__version__}"

    def normalise(self, text: str):
        return normalise.normalise(text, self.entries) if self.normalised else None

    def lex(self, text: str) -> tuple[str, list]:
        filtered, offsets = self.utils.filter_code(text, "code.py", "python")
        return filtered, [[int(a), int(b)] for a, b in offsets]

    def _fingerprint(self, name: str, filtered: str, offsets, window: int, boiler, raw: str = ""):
        fp = self.copydetect.CodeFingerprint(name, self.k, window, boiler, filter=False, fp=io.StringIO(filtered))
        fp.raw_code = raw
        fp.offsets = self.np.array(offsets, dtype=self.np.int64).reshape(-1, 2) if len(offsets) else self.np.array([])
        return fp

    def fingerprint(self, code: Code, cache: TokenCache | None = None):
        """The fingerprint of the code's normalised form; `.original` is the code as written and
        `.origin` each normalised line's lines in it (None when compared as written)."""
        form = cache.form(code.text, self.entries, self.normalise) if cache and self.normalised else self.normalise(code.text)
        text = form.text if form is not None else code.text
        filtered, offsets = cache.tokens(text, self.lex) if cache else self.lex(text)
        fp = self._fingerprint(code.name, filtered, offsets, self.window, self.boiler, raw=text)
        fp.original = code.text
        fp.origin = form.origin if form is not None else None
        return fp


# -- comparing -------------------------------------------------------------------

def _shares(fp_a, fp_b, compare_files) -> tuple[float, float, tuple]:
    _, (share_a, share_b), slices = compare_files(fp_a, fp_b)
    return float(share_a), float(share_b), slices


def _shared_counts(hash_sets: list[set]):
    """A function: a set of fingerprints -> how many of them each of `hash_sets` holds (an array)."""
    import numpy as np  # only when comparing (see Fingerprinter.__init__)

    holders: dict[int, list[int]] = {}
    for index, hashes in enumerate(hash_sets):
        for h in hashes:
            holders.setdefault(h, []).append(index)
    owners = {h: np.array(ids, dtype=np.int64) for h, ids in holders.items()}

    def counts(hashes: set) -> np.ndarray:
        found = [owners[h] for h in hashes if h in owners]
        if not found:
            return np.zeros(len(hash_sets), dtype=np.int64)
        return np.bincount(np.concatenate(found), minlength=len(hash_sets))

    return counts


def compare(class_codes: list[Code], known_codes: list[Code], boiler: list[str], s: Settings,
            cache: TokenCache | None = None) -> tuple[list[Pair], dict, list[tuple[str, str]]]:
    """Every pair of submissions, and each submission's closest known files, highest score first.

    Returns (pairs, fingerprints by (kind, name), skipped). Known files are first ranked by the
    share of fingerprints they have in common with the submission (a set intersection, cheap),
    and only the `known_candidates` best get copydetect's full comparison.
    """
    np = __import__("numpy")
    fingerprinter = Fingerprinter(s, boiler)
    compare_files = fingerprinter.copydetect.compare_files
    skipped, prints = [], {}
    students = []
    for code in class_codes:
        fp = fingerprinter.fingerprint(code)
        if fp.token_coverage < s.min_own_tokens:
            skipped.append((code.name, f"not compared: {int(fp.token_coverage)} tokens of its own once the handout "
                                       f"is excluded (fewer than min_own_tokens = {s.min_own_tokens})"))
            continue
        prints[("class", code.name)] = fp
        students.append(code.name)
    known = []
    for code in known_codes:
        fp = fingerprinter.fingerprint(code, cache)
        if fp.token_coverage < 1:
            continue  # nothing but the handout (or nothing at all): it can match nobody
        prints[("known", code.name)] = fp
        known.append(code.name)

    pairs = []
    # Two files that share no fingerprint score 0: copydetect need not compare them.
    shared_with = _shared_counts([prints[("class", a)].hashes for a in students])
    for i, a in enumerate(students):
        common = shared_with(prints[("class", a)].hashes)
        for j in range(i + 1, len(students)):
            b = students[j]
            if common[j] == 0:
                pairs.append(Pair(a, b, 0.0, "class", 0.0, 0.0))
                continue
            share_a, share_b, _ = _shares(prints[("class", a)], prints[("class", b)], compare_files)
            pairs.append(Pair(a, b, max(share_a, share_b), "class", share_a, share_b))

    if known and students:
        shared_with = _shared_counts([prints[("known", k)].hashes for k in known])
        sizes = np.array([max(len(prints[("known", k)].hashes), 1) for k in known], dtype=float)
        for a in students:
            mine = prints[("class", a)].hashes
            shared = shared_with(mine).astype(float)
            rough = np.maximum(shared / sizes, shared / max(len(mine), 1))
            order = [i for i in np.argsort(-rough, kind="stable")[: s.known_candidates] if shared[i] > 0]
            found = []
            for i in order:
                share_a, share_b, _ = _shares(prints[("class", a)], prints[("known", known[i])], compare_files)
                if max(share_a, share_b) > 0:
                    found.append(Pair(a, known[i], max(share_a, share_b), "known", share_a, share_b))
            found.sort(key=lambda p: -p.score)
            pairs += found[: s.known_per_submission]
    pairs.sort(key=lambda p: (-p.score, p.kind, p.a, p.b))
    return pairs, prints, skipped


# -- writing -----------------------------------------------------------------------

def _marked_lines(fp, slices) -> set[int]:
    """The lines of the code as written whose normalised statements are in `slices` (of the normalised text)."""
    starts, at = [0], 0
    for line in fp.raw_code.splitlines(keepends=True):
        at += len(line)
        starts.append(at)
    lines: set[int] = set()
    for start, end in zip(slices[0], slices[1]):
        first = bisect.bisect_right(starts, int(start))
        last = bisect.bisect_right(starts, max(int(start), int(end) - 1))
        for number in range(first, min(last, len(fp.origin)) + 1):
            lines.update(fp.origin[number - 1])
    return lines


def view_html(pair: Pair, fp_a, fp_b, title: str, compare_files, highlight) -> str:
    """A side-by-side page: each side's code as written, with what the other also has marked.

    A side compared in its normalised form (normalise.py) shows its code as written with the
    lines marked whose statements matched; a side compared as written (it did not parse) shows
    copydetect's own marks."""
    _, _, (slices_a, slices_b) = compare_files(fp_a, fp_b)

    def marked(fp, slices):
        """The side's code as (text, marked) pieces, or as HTML with copydetect's marks."""
        empty = len(slices) == 0 or slices.shape[-1] == 0
        if getattr(fp, "origin", None) is not None:
            lines = set() if empty else _marked_lines(fp, slices)
            return [(line, number in lines and bool(line.strip()))
                    for number, line in enumerate(fp.original.splitlines(keepends=True), start=1)]
        if empty:
            return [(fp.raw_code, False)]
        # copydetect escapes the code itself (escape_html=True) and wraps the matches in our tags;
        # inert adds no markup, so its control characters can be shown as escapes afterwards.
        text, _ = highlight(fp.raw_code, slices, "<mark>", "</mark>", escape_html=True)
        return Markup(inert(text))

    return pages.render("similarity_view.html", pair=pair, title=title,
                        what="a known solution" if pair.kind == "known" else "another submission",
                        sides=[(pair.a, marked(fp_a, slices_a)), (pair.b, marked(fp_b, slices_b))])


def write(out: Path, result: Result, prints: dict, title: str) -> Path:
    """OUT/similarity.csv and a view for each of the top pairs (report_at_most of them)."""
    out = Path(out)
    views = out / VIEWS_DIR
    if (views / "grade.json").exists():
        raise SimilarityError(f"{views} holds a graded submission's results; rename that submission or use another --out")
    if views.exists():
        shutil.rmtree(views)  # views of an earlier run would name pairs no longer listed
    views.mkdir(parents=True)
    copydetect, utils = _copydetect()

    for number, pair in enumerate(result.pairs[: result.settings.report_at_most], start=1):
        fp_a, fp_b = prints[("class", pair.a)], prints[(pair.kind, pair.b)]
        page = f"{VIEWS_DIR}/{number}.html"
        (out / page).write_text(view_html(pair, fp_a, fp_b, title, copydetect.compare_files, utils.highlight_overlap),
                                encoding="utf-8")
        pair.view = page
    path = out / CSV_NAME
    tmp = out / (CSV_NAME + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "score", "kind", "a_share", "b_share", "view"])
        for p in result.pairs:
            writer.writerow([p.a, p.b, f"{p.score:.4f}", p.kind, f"{p.a_share:.4f}", f"{p.b_share:.4f}", p.view])
    tmp.replace(path)
    return path


# -- the step ------------------------------------------------------------------------

def run(assignment, out: Path, paths: list[Path], known: Path | None = None, cache: Path | None = None,
        quiet: bool = False, missing: list[tuple[str, str]] = ()) -> Result:
    """Compare the submissions at `paths` (and with `known`), write OUT/similarity.csv and the views.

    `missing`: (name, why) of the gradebook's students whose files cannot be read again; the
    report lists them as not compared, so the section still accounts for everyone."""
    started = time.perf_counter()
    s = settings(assignment)
    _copydetect()
    codes, skipped = class_code(assignment, paths)
    known_codes, known_skipped = known_code(Path(known)) if known else ([], [])
    token_cache = None
    if known:
        library = f"copydetect {_copydetect()[0].__version__}"
        key = hashlib.sha256(str(Path(known).resolve()).encode()).hexdigest()[:20]
        token_cache = TokenCache((Path(cache) if cache else cache_dir()) / f"{key}.json.gz", library)
    pairs, prints, too_small = compare(codes, known_codes, boilerplate(assignment), s, token_cache)
    if token_cache is not None:
        token_cache.save()
    result = Result(pairs, s, compared=len(codes) - len(too_small), known_files=len(known_codes),
                    skipped=list(missing) + skipped + too_small + [(f"known: {n}", why) for n, why in known_skipped],
                    known_archive=str(known or ""))
    result.seconds = time.perf_counter() - started
    write(out, result, prints, assignment.title)
    if not quiet:
        flagged = sum(1 for p in result.pairs if p.score >= s.review_from)
        print(f"similarity: {result.compared} submissions compared"
              + (f" with each other and with {result.known_files} known files" if known else " with each other")
              + f" in {result.seconds:.1f} s; {flagged} pair(s) at or above {s.review_from:g} to review by hand: "
              f"{Path(out) / CSV_NAME}", file=sys.stderr)
        for name, why in result.skipped[:10]:  # `why` may name a student's files: inert
            print(f"similarity: {inert(name, one_line=True)}: {inert(why, one_line=True)}", file=sys.stderr)
    return result


def _origin(out: Path, name: str) -> Path | None:
    """The file an earlier `grade --out OUT` read as `name` (OUT/<name>/grade.json's origin), if it is still there."""
    try:
        origin = json.loads((Path(out) / name / "grade.json").read_text(encoding="utf-8")).get("origin") or ""
    except (OSError, ValueError, AttributeError):
        origin = ""
    if not origin or not Path(origin).exists():
        return None
    # The name is the file's, or that with a suffix where several files made one name: _2, _3
    # in an export, a hash of the path (hex) in a batch (submission.unique_names).
    own = submission_name(Path(origin))
    suffix = name[len(own) + 1:] if name.startswith(own + "_") else ""
    if name == own or suffix and all(c in "0123456789abcdef" for c in suffix):
        return Path(origin)
    return None


def class_paths(out: Path, names: list[str], given: dict[str, Path]) -> tuple[list[tuple[str, Path]], list[str]]:
    """Everyone in `names` (the gradebook's students): the file given for them in this run, else
    the one they were graded from. ((name, path) found, names whose file is gone)."""
    found, missing = [], []
    for name in names:
        path = given.get(name) or _origin(out, name)
        if path is None:
            missing.append(name)
        else:
            found.append((name, Path(path)))
    return found, missing


def gone(names: list[str], out: Path) -> list[tuple[str, str]]:
    """`missing` entries for run(): why each was not compared, and what to do."""
    return [(name, f"not compared: the file it was graded from is gone; to compare it, run "
                   f"`similarity {out} SUBMISSION...` with it") for name in names]


def grades_in(out: Path) -> list[Grade]:
    grades = []
    for saved in sorted(Path(out).glob("*/grade.json")):
        try:
            grades.append(Grade.from_dict(json.loads(saved.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return grades


def run_on_output(assignment, out: Path, submissions: list[Path], known: Path | None,
                  export: str | None = None) -> tuple[Result, Path | None]:
    """`similarity OUT [SUBMISSION...]`: compare what OUT graded, rewrite report.html with the section.

    The submissions are read again from where they were graded (grade.json's origin), or from
    the SUBMISSION arguments (exports expanded as `grade` expands them) when given.
    """
    out = Path(out)
    if not out.is_dir() or not any(out.glob("*/grade.json")):
        raise SimilarityError(f"{out} holds no graded submissions; run `grade ... --out {out}` first")

    try:
        names = batch.open_gradebook(assignment, out).names()
    except batch.BatchError as exc:
        raise SimilarityError(str(exc)) from None
    names = names or [saved.parent.name for saved in sorted(out.glob("*/grade.json"))]
    with tempfile.TemporaryDirectory(prefix="autograder-similarity-") as scratch:
        given: dict[str, Path] = {}
        if submissions:
            try:
                paths, _ = exports.expand([Path(p) for p in submissions], assignment, Path(scratch), export)
            except exports.ExportError as exc:
                raise SimilarityError(str(exc)) from None
            given = {name: p for p, name in unique_names(paths).items()}  # named as grade names them
        # Everyone in the gradebook: the submissions given here, the rest from where they were graded.
        paths, missing = class_paths(out, names, given)
        paths += [(name, p) for name, p in given.items() if name not in names]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise SimilarityError(f"the files graded as {shown} are gone (an export or a temporary folder?); "
                                  f"pass the submissions again: similarity {out} SUBMISSION...")
        result = run(assignment, out, paths, known)
    grades = grades_in(out)
    report = classreport.write_report(out, grades, assignment, similarity=result) if grades else None
    return result, report
