"""An assignment as the engine sees it: a folder under assignments/ with an assignment.toml.

The engine knows nothing about any particular lesson. Everything it needs to
know about one (what students submit, what is graded, points, limits,
banned imports) is read from that folder, and validated here so that a typo
in the config is a one-line error rather than a wrong grade.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib


class ConfigError(Exception):
    """The assignment folder or its config is unusable; the message says how to fix it."""


def kit_root() -> Path:
    """The folder holding assignments/, solutions/ and autograder/.

    AUTOGRADER_ROOT overrides it, so a Gradescope zip (whose layout differs
    from a checkout) can say where it unpacked the kit.
    """
    override = os.environ.get("AUTOGRADER_ROOT")
    return Path(override).resolve() if override else Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Question:
    item: str
    title: str
    points: float
    # Questions whose code this one's calls (a student's conv2d_forward calls their conv_output_size):
    # a failure of this one with no named cause says that one fails too, with its mistake, to fix first.
    uses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    test_seconds: float = 5.0
    import_seconds: float = 20.0
    memory_mb: int = 2048
    cpu_seconds: int = 300
    open_files: int = 64
    file_size_mb: int = 16
    processes: int = 16
    # A callable that timed out this many times without ever returning is not
    # called again in that submission (0: always call it).
    give_up_after_timeouts: int = 2
    # Seconds of student time for a whole submission: worker starts, loading and calls.
    submission_seconds: float = 300.0
    # Each RAM folder of a sandboxed worker (its home, /tmp); outside a sandbox, how far
    # the host's free disk space may drop while a worker runs.
    disk_mb: int = 64
    # The most array data one reply from the worker may carry.
    reply_mb: int = 64


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    folder: Path
    root: Path
    module: str
    notebook: str
    contract: tuple[str, ...]
    questions: tuple[Question, ...]
    limits: Limits
    banned_imports: tuple[str, ...]
    banned_why: str
    suite: Path
    # Third-party packages student code may import: the only ones the sandbox shows.
    sandbox_packages: tuple[str, ...] = ("numpy",)
    # Modules of earlier parts a submission brings along (see load()).
    requires: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def solution_dir(self) -> Path:
        return self.root / "solutions" / self.name

    @property
    def template_dir(self) -> Path:
        return self.root / "student_template" / self.name

    @property
    def reference_module(self) -> Path:
        return self.solution_dir / f"{self.module}.py"

    @property
    def public_tests_dir(self) -> Path:
        return self.folder / "public_tests"

    @property
    def private_paths(self) -> list[Path]:
        """Everything student code must not see: the sandbox hides these, or checks they are unreadable.

        The kit's whole folder (its .git, tests and any built files too), and
        the assignment's folder where it lives elsewhere."""
        return [self.root, self.root / "solutions", self.root / "autograder", self.folder]

    @property
    def total_points(self) -> float:
        return sum(q.points for q in self.questions)

    def question(self, item: str) -> Question:
        for q in self.questions:
            if q.item == item:
                return q
        raise KeyError(item)


def _require(table: dict, key: str, kind, where: str):
    if key not in table:
        raise ConfigError(f"{where}: missing '{key}'; add it to the config")
    value = table[key]
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: '{key}' should be {kind.__name__ if isinstance(kind, type) else kind}, got {value!r}")
    return value


def load(name_or_path: str | os.PathLike = "cnn", root: Path | None = None) -> Assignment:
    """Read assignments/<name>/assignment.toml (or the folder given) and check it."""
    root = root or kit_root()
    folder = Path(name_or_path)
    if not folder.is_dir():
        folder = root / "assignments" / str(name_or_path)
    config_path = folder / "assignment.toml"
    if not config_path.is_file():
        available = sorted(p.parent.name for p in (root / "assignments").glob("*/assignment.toml"))
        raise ConfigError(
            f"no assignment '{name_or_path}': {config_path} does not exist"
            + (f" (available: {', '.join(available)})" if available else "")
        )
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML ({exc})") from None

    where = str(config_path)
    head = _require(config, "assignment", dict, where)
    contract = tuple(_require(head, "contract", list, where))
    questions = []
    for entry in _require(config, "questions", list, where):
        item = _require(entry, "item", str, where)
        if item not in contract:
            raise ConfigError(f"{where}: question '{item}' is not in the contract {list(contract)}")
        points = _require(entry, "points", (int, float), where)
        if points < 0:
            raise ConfigError(f"{where}: question '{item}' has negative points")
        uses = entry.get("uses", [])
        if not isinstance(uses, list) or not all(isinstance(u, str) for u in uses):
            raise ConfigError(f"{where}: question '{item}': uses must be a list of question items")
        questions.append(Question(item=item, title=entry.get("title", item), points=float(points), uses=tuple(uses)))
    items = [q.item for q in questions]
    if len(set(items)) != len(items):
        raise ConfigError(f"{where}: a question item appears twice: {items}")
    for q in questions:
        unknown = [u for u in q.uses if u not in items or u == q.item]
        if unknown:
            raise ConfigError(f"{where}: question '{q.item}' uses {unknown[0]!r}, which is not another question")
    total = sum(q.points for q in questions)
    if abs(total - 100) > 1e-9:
        raise ConfigError(f"{where}: question points add up to {total:g}, not 100")

    limits_table = config.get("limits", {})
    known = set(Limits.__dataclass_fields__)
    unknown = set(limits_table) - known
    if unknown:
        raise ConfigError(f"{where}: unknown limits {sorted(unknown)}; known ones are {sorted(known)}")
    for key, value in limits_table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{where}: limit '{key}' must be a number >= 0, got {value!r}")
    limits = Limits(**limits_table)
    banned = config.get("banned", {})
    suite = root / _require(head, "suite", str, where)
    # A later part builds on an earlier one: `requires = ["cnn_layers"]` means a submission
    # holds cnn_layers.py beside its module or notebook, loaded first and importable by name.
    requires = head.get("requires", [])
    if not isinstance(requires, list) or not all(isinstance(r, str) and r.isidentifier() for r in requires):
        raise ConfigError(f"{where}: 'requires' should be a list of module names, got {requires!r}")
    return Assignment(
        name=_require(head, "name", str, where),
        title=head.get("title", head["name"]),
        folder=folder.resolve(),
        root=root,
        module=_require(head, "module", str, where),
        notebook=_require(head, "notebook", str, where),
        contract=contract,
        questions=tuple(questions),
        limits=limits,
        banned_imports=tuple(banned.get("imports", ())),
        banned_why=banned.get("why", "it is not allowed in this assignment"),
        suite=suite,
        sandbox_packages=tuple(config.get("sandbox", {}).get("packages", ["numpy"])),
        requires=tuple(requires),
        extra=config,
    )


def all_assignments(root: Path | None = None) -> list[Assignment]:
    root = root or kit_root()
    return [load(p.parent, root) for p in sorted((root / "assignments").glob("*/assignment.toml"))]


def provider(name: str, root: Path | None = None) -> Assignment:
    """The assignment whose module is `name`: where a required module's reference comes from."""
    found = [a for a in all_assignments(root) if a.module == name]
    if len(found) != 1:
        raise ConfigError(f"'requires' names {name}, but {len(found)} assignments have a module of that name; exactly one must")
    return found[0]


# Where `build` records a hash of what it was built from (solutions/<name>/BUILT_FROM).
SOURCES_STAMP = "BUILT_FROM"


def sources_digest(assignment: Assignment) -> str:
    """A hash of everything the build reads: the assignment's folder and the modules it requires.

    The build writes it beside the reference, so `grade` can tell in a millisecond
    (and without importing the build) whether the built files may be stale.
    """
    digest = hashlib.sha256()
    folders = [assignment.folder, *(provider(r, assignment.root).folder for r in assignment.requires)]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            parts = path.relative_to(folder).parts
            # As the Gradescope zip carries the folder: without hidden files and caches.
            if path.is_file() and "__pycache__" not in parts and not any(x.startswith(".") for x in parts) \
                    and path.suffix not in (".pyc", ".pyo"):
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
