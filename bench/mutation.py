"""Mutation testing of the hidden suites: how many small bugs in the reference they catch.

mutmut's mutation operators (used as a library: its libcst visitor and
operator table, not its test runner) make mutants of the code students
write, i.e. the lines between `### BEGIN SOLUTION` and `### END SOLUTION`
of assignments/cnn/cnn_layers.py. Each mutant is the reference module with
one change, and is graded through the real engine as a student submission
(sandboxed worker, hidden suite, fixed seed), never used as the reference.

A mutant belongs to the contract item whose function or method it lives in;
mutants of the shared helpers (_pair, _pad_widths, _check_4d, _windows)
form their own row. A mutant is

  killed      its item scored below full points (a helper mutant: any item did);
              a failure of another item alone does not count, because each
              item's own checks should catch a bug in that item's code
  survived    its item kept full points; a survivor is "equivalent" when
              autograder/suites/cnn/equivalent_mutants.toml lists its identity
              with the reason, and "unjustified" otherwise
  broken      it does not compile or its module fails to load (not counted)

Beside mutmut's, the mutants written by hand in
autograder/suites/cnn/hand_mutants.toml (operator "hand"): checks of the
arguments one step off at the edges mutmut's operators do not reach (a kernel
of 0, a padding of -1, an exact fit thanks to the padding, a stride longer
than the input), as issue 17's last survivors of an independent reference were.
`--hand` grades only those.

A mutant's identity is stable across edits elsewhere in the file:
`<function>/<operator>/<hash>`, the hash taken over the changed lines'
text before and after (stripped), not their line numbers.

The score of an item is killed / (mutants - equivalent - broken).
Goal: at least 98% for every item, and no unjustified survivor.

Usage (from the repository root; needs the `mutation` extra:
`.venv/bin/pip install -e '.[mutation]'`):

    nice -n 10 .venv/bin/python bench/mutation.py                  # all mutants, --jobs 2
    .venv/bin/python bench/mutation.py --item pad --jobs 1         # one item's mutants
    .venv/bin/python bench/mutation.py --hand                      # the hand-written ones (own JSON)
    .venv/bin/python bench/mutation.py --rescore                   # after editing the equivalents list
    .venv/bin/python bench/mutation.py --write-sample              # choose the CI sample from the last run
    nice -n 10 .venv/bin/python bench/mutation.py --compare 40     # time the ways of grading a batch
    .venv/bin/python bench/mutation.py --show conv2d_forward/swap_op/0123abcd45

Prints the table (per item) and every unjustified survivor, and writes
bench/results/mutation.json. Exit code 1 when the goal is not met.
"""

import benchlib  # noqa: F401  (pins BLAS to one thread first)

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

from benchlib import ROOT, RESULTS_DIR, machine_info  # noqa: E402

sys.path.insert(0, str(ROOT))
from autograder import assignment as assignments  # noqa: E402
from autograder.build import BEGIN, END, split_solution  # noqa: E402
from autograder.engine import api  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib  # noqa: E402
else:  # pragma: no cover
    import tomli as tomllib  # noqa: E402

ASSIGNMENT = "cnn"
EQUIVALENTS = ROOT / "autograder" / "suites" / ASSIGNMENT / "equivalent_mutants.toml"
HAND = ROOT / "autograder" / "suites" / ASSIGNMENT / "hand_mutants.toml"
SAMPLE = ROOT / "tests" / "fixtures" / "mutation_sample.toml"
RESULT = RESULTS_DIR / "mutation.json"
HAND_RESULT = RESULTS_DIR / "mutation_hand.json"
HELPERS = "(helpers)"
# Any fixed seed: every mutant is graded on the same inputs, and a rerun gives the same table.
SEED = 20260907
GOAL = 0.98
# The sample prefers operators that change arithmetic or logic over those that change text.
SAMPLE_PREFERENCE = ("swap_op", "number", "arg_removal", "assignment", "augmented_assignment",
                     "remove_unary_ops", "keywords", "name", "if_exp", "string")


@dataclass
class Mutant:
    id: str
    item: str        # a contract item, or HELPERS
    function: str    # "conv2d_forward", "Conv2d.backward", "_pair"
    operator: str    # mutmut's operator, without its "operator_" prefix
    line: int        # first changed line of the annotated source (for people; not the identity)
    before: str      # the changed lines, as in the reference
    after: str       # what the mutant has instead
    source: str = field(repr=False)  # the whole mutated reference module


# Each scored check's number in a grade ("4.2": question 4's second check) -> its name;
# the JSON names failing checks by number.
CHECKS: dict[str, str] = {}


@dataclass
class Outcome:
    status: str                     # killed | survived | broken
    item_score: float = 0.0
    failed: list = field(default_factory=list)        # "<check number> <kind>" of the item's failing scored checks
    other_items: list = field(default_factory=list)   # other items that lost points
    note: str = ""
    seconds: float = 0.0
    named: bool = False     # killed, and one of its item's failing checks names a mistake (issue 17's measure)


# -- making mutants -------------------------------------------------------------
def solution_lines(text: str) -> set[int]:
    """Line numbers (1-based) strictly inside the BEGIN/END SOLUTION regions."""
    lines, inside = set(), False
    for number, line in enumerate(text.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            inside = True
        elif marker == END:
            inside = False
        elif inside:
            lines.add(number)
    return lines


def changed_hunk(old: str, new: str) -> tuple[int, str, str]:
    """(first changed line, old lines, new lines): the texts less their common first and last lines."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return start + 1, "".join(a[start:len(a) - end]), "".join(b[start:len(b) - end])


def identity(function: str, operator: str, before: str, after: str) -> str:
    text = "\n".join(line.strip() for line in before.splitlines()) + "\0" + "\n".join(
        line.strip() for line in after.splitlines())
    return f"{function}/{operator}/{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def qualified_names(module) -> dict:
    """Each top-level function and method node of a libcst module -> ("name" or "Class.name", top-level statement)."""
    import libcst as cst

    names = {}
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            names[statement] = (statement.name.value, statement)
        elif isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            for member in statement.body.body:
                if isinstance(member, cst.FunctionDef):
                    names[member] = (f"{statement.name.value}.{member.name.value}", statement)
    return names


def mutated_text(module, text: str, statement, mutation) -> str:
    """The module's text with one mutation applied.

    Only the top-level statement holding the change is regenerated (the whole
    module's deep_replace and codegen would take ~0.1 s per mutant).
    """
    if statement is None:
        return module.deep_replace(mutation.original_node, mutation.mutated_node).code
    old = module.code_for_node(statement)
    new = module.code_for_node(statement.deep_replace(mutation.original_node, mutation.mutated_node))
    if text.count(old) != 1:
        return module.deep_replace(mutation.original_node, mutation.mutated_node).code
    return text.replace(old, new)


def item_of(function: str, contract) -> str:
    top = function.split(".")[0]
    return top if top in contract else HELPERS


def generate(a: assignments.Assignment) -> list[Mutant]:
    """Every mutant mutmut's operators make of the solution regions, in source order, duplicates dropped."""
    try:
        import libcst as cst
        from libcst.metadata import MetadataWrapper
        from mutmut.mutation.file_mutation import MutationVisitor
        from mutmut.mutation.mutators import mutation_operators
        from mutmut.mutation.pragma_handling import IgnoredCode
    except ImportError as exc:
        sys.exit(f"error: {exc.name} is missing; install the mutation extra: .venv/bin/pip install -e '.[mutation]'")

    path = a.folder / f"{a.module}.py"
    text = path.read_text(encoding="utf-8")
    origin = path.relative_to(ROOT).as_posix()
    solution = split_solution(text, origin)[0]
    # A mutant is the built reference (its header line too) with the mutated solution.
    reference = a.reference_module.read_text(encoding="utf-8")
    if not reference.endswith(solution):
        sys.exit(f"error: {a.reference_module.relative_to(ROOT)} is stale; run `./kit build` first")
    header = reference[: len(reference) - len(solution)]
    wrapper = MetadataWrapper(cst.parse_module(text))
    names = qualified_names(wrapper.module)
    region = solution_lines(text)
    found: dict[str, Mutant] = {}
    seen_sources = {reference}
    for node_type, operator in mutation_operators:
        # One operator at a time, so each mutant knows which operator made it;
        # covered_lines restricts mutmut to the solution regions.
        visitor = MutationVisitor([(node_type, operator)], IgnoredCode(set(), set(), set()), region)
        wrapper.visit(visitor)
        for mutation in visitor.mutations:
            function, statement = names.get(mutation.contained_by_top_level_function, ("(module)", None))
            mutated = mutated_text(wrapper.module, text, statement, mutation)
            source = header + split_solution(mutated, origin)[0]
            if source in seen_sources:
                continue  # the same change by another operator, or no change at all
            seen_sources.add(source)
            line, before, after = changed_hunk(text, mutated)
            name = operator.__name__.removeprefix("operator_")
            key = identity(function, name, before, after)
            # The same change on two identical lines of one function: number them in source order.
            unique, n = key, 2
            while unique in found:
                unique, n = f"{key}#{n}", n + 1
            found[unique] = Mutant(unique, item_of(function, a.contract), function, name, line, before, after, source)
    for m in hand_mutants(a, reference, seen_sources):
        found[m.id] = m
    return sorted(found.values(), key=lambda m: (m.line, m.id))


def hand_mutants(a, reference: str, seen_sources: set, path: Path = HAND) -> list[Mutant]:
    """The mutants of `path`, each applied to the built reference; one that mutmut already made is
    left out (it is graded once, under mutmut's identity)."""
    if not path.is_file():
        return []
    made = []
    for entry in tomllib.loads(path.read_text(encoding="utf-8")).get("mutant", []):
        function, before, after = entry["function"], entry["before"], entry["after"]
        try:
            source = apply_hunk(reference, function, before, after)
        except ValueError as exc:
            sys.exit(f"error: {path.relative_to(ROOT)}: {function}: {exc} (the reference changed; update the entry)")
        if source in seen_sources:
            continue
        seen_sources.add(source)
        line = changed_hunk(reference, source)[0]  # of the built reference (for people; not the identity)
        key = identity(function, "hand", before, after)
        made.append(Mutant(key, item_of(function, a.contract), function, "hand", line, before, after, source))
    return made


def apply_hunk(reference: str, function: str, before: str, after: str) -> str:
    """The reference with `before` replaced by `after` inside `function` (exactly one match there).

    How the CI sample rebuilds its mutants without mutmut; raises ValueError when
    the reference has changed so that the sample no longer applies.
    """
    import ast

    tree = ast.parse(reference)
    parts = function.split(".")
    scope, node = tree.body, None
    for part in parts:
        node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part), None)
        if node is None:
            raise ValueError(f"{function} is not defined in the reference")
        scope = node.body
    lines = reference.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: node.lineno - 1])
    stop = sum(len(line) for line in lines[: node.end_lineno])
    body = reference[start:stop]
    if body.count(before) != 1:
        raise ValueError(f"the changed lines occur {body.count(before)} times in {function}, not once")
    return reference[:start] + body.replace(before, after) + reference[stop:]


# -- grading mutants ------------------------------------------------------------
def grade(a, mutants: list[Mutant], jobs: int, seed: int, folder: Path) -> dict[str, Outcome]:
    """Grade every mutant as a submission, in one batch, through the engine."""
    outcomes: dict[str, Outcome] = {}
    paths, by_name = [], {}
    for index, mutant in enumerate(mutants):
        try:
            compile(mutant.source, mutant.id, "exec")
        except SyntaxError as exc:
            outcomes[mutant.id] = Outcome("broken", note=f"syntax error: {exc.msg}")
            continue
        path = folder / f"m{index:04d}.py"
        path.write_text(mutant.source, encoding="utf-8")
        paths.append(path)
        by_name[path.stem] = mutant
    inputs = [api.Input(p.stem, p, n) for n, p in enumerate(paths)]
    for g in api.grade(a, inputs, folder / "out", api.Options(jobs=jobs, seed=seed, make_secret=False)).grades:
        outcomes[by_name[g.name].id] = judge(a, by_name[g.name], g)
    return outcomes


def judge(a, mutant: Mutant, g) -> Outcome:
    """Killed, survived or broken, from one mutant's Grade."""
    points = {q.item: q.points for q in a.questions}
    if not g.graded:
        return Outcome("broken", note=g.status, seconds=g.execution_time)
    lost = [item for item, score in g.by_item.items() if score < points[item] - 1e-9]
    if mutant.item == HELPERS:
        own, others = lost, []
        score = sum(g.by_item.values())
    else:
        own = [mutant.item] if mutant.item in lost else []
        others = [item for item in lost if item != mutant.item]
        score = g.by_item[mutant.item]
    # The scored (hidden) checks that failed; public checks earn no points, so they kill nothing.
    failed = [f"{t.number} {t.kind}" for t in g.tests if t.status != "passed" and t.item in own and t.max_score > 0]
    CHECKS.update({t.number: t.name for t in g.tests if t.max_score > 0})
    named = any(t.mistake for t in g.tests if t.status != "passed" and t.item in own and t.max_score > 0)
    return Outcome("killed" if own else "survived", score, failed, others, seconds=g.execution_time, named=named)


def grade_all(a, mutants: list[Mutant], jobs: int, seed: int, keep: Path | None):
    """(outcomes, seconds for the batch, seconds in all): the batch, then a second look at timeouts."""
    with tempfile.TemporaryDirectory(prefix="mutants-") as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        outcomes = grade(a, mutants, jobs, seed, folder)
        graded = time.perf_counter() - start
        # A kill by timeouts alone may be the machine's load, not the mutant: grade those again, alone.
        suspects = [m for m in mutants if only_timeouts(outcomes[m.id])]
        if suspects:
            print(f"re-grading {len(suspects)} mutant(s) killed only by timeouts, with --jobs 1...", flush=True)
            regraded = grade(a, suspects, 1, seed, folder / "regrade")
            for m in suspects:
                outcomes[m.id] = regraded[m.id]
        return outcomes, graded, time.perf_counter() - start


def only_timeouts(outcome: Outcome) -> bool:
    return bool(outcome.failed) and all(f.endswith(" timeout") for f in outcome.failed)


def compare_runners(a, mutants: list[Mutant], count: int, seed: int) -> dict:
    """Seconds to grade the same `count` mutants three ways, each in a fresh folder.

    in-process, --jobs 1: one Grader reused (what `grade` here does with jobs=1)
    in-process, --jobs 2: two spawned processes, each reusing a Grader
    CLI, --jobs 2:        `python -m autograder grade DIR/*.py --out OUT --jobs 2 --quiet --no-report`
    """
    import subprocess

    from autograder.engine.grading import Grade

    step = max(len(mutants) // count, 1)
    chosen = [m for m in mutants[::step][:count] if _compiles(m)]
    timings, verdicts = {}, {}
    for label, jobs, cli in (("in-process, --jobs 1", 1, False), ("in-process, --jobs 2", 2, False),
                             ("CLI, --jobs 2", 2, True)):
        with tempfile.TemporaryDirectory(prefix="mutants-") as scratch:
            folder = Path(scratch)
            start = time.perf_counter()
            if cli:
                paths = []
                for index, m in enumerate(chosen):
                    paths.append(folder / f"m{index:04d}.py")
                    paths[-1].write_text(m.source, encoding="utf-8")
                subprocess.run([sys.executable, "-I", "-m", "autograder", "grade", *map(str, paths), "--out",
                                str(folder / "out"), "--jobs", "2", "--quiet", "--no-report", "--seed", str(seed)],
                               cwd=ROOT, capture_output=True, check=False)
                outcomes = {m.id: judge(a, m, Grade.from_dict(json.loads(
                    (folder / "out" / f"m{index:04d}" / "grade.json").read_text()))) for index, m in enumerate(chosen)}
            else:
                outcomes = grade(a, chosen, jobs, seed, folder)
            timings[label] = round(time.perf_counter() - start, 2)
            verdicts[label] = [outcomes[m.id].status for m in chosen]
            print(f"  {label:<22} {timings[label]:7.2f} s for {len(chosen)} mutants", flush=True)
    same = len({tuple(v) for v in verdicts.values()}) == 1
    print(f"  same verdicts all three ways: {same}")
    return {"mutants": len(chosen), "seconds": timings, "same_verdicts": same}


def _compiles(m: Mutant) -> bool:
    try:
        compile(m.source, m.id, "exec")
    except SyntaxError:
        return False
    return True


# -- equivalents and the sample -----------------------------------------------
def load_equivalents(path: Path = EQUIVALENTS) -> dict[str, str]:
    """Identity -> reason, from the committed list (empty if there is none yet)."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = {}
    for entry in data.get("equivalent", []):
        reason, ids = str(entry.get("reason", "")).strip(), entry.get("ids")
        if not reason or not isinstance(ids, list) or not ids:
            sys.exit(f"error: {path.relative_to(ROOT)}: every [[equivalent]] needs a reason and a list of ids; "
                     f"got {entry}")
        for key in ids:
            if key in entries:
                sys.exit(f"error: {path.relative_to(ROOT)}: {key} is listed twice; keep one entry")
            entries[key] = reason
    return entries


def toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def rebuilds(reference: str, m: Mutant) -> bool:
    """Whether the CI test, which has only the changed lines, rebuilds exactly this mutant."""
    try:
        return apply_hunk(reference, m.function, m.before, m.after) == m.source
    except (ValueError, SyntaxError):
        return False


def choose_sample(a, mutants: list[Mutant], outcomes: dict[str, Outcome], size: int = 10) -> list[Mutant]:
    """One killed mutant per row (item or helpers), then more from the largest rows, up to `size`.

    Within a row, the mutant the fewest checks caught comes first (a sample of bugs
    that every check catches would not notice a weakened suite), then the operator
    first in SAMPLE_PREFERENCE, then the earliest line. Only mutants killed without
    timeouts (fast, and not the machine's doing) that the test can rebuild from
    their changed lines are eligible.
    """
    rank = {op: i for i, op in enumerate(SAMPLE_PREFERENCE)}
    reference = a.reference_module.read_text(encoding="utf-8")
    killed = [m for m in mutants if outcomes.get(m.id, Outcome("")).status == "killed"
              and not only_timeouts(outcomes[m.id]) and rebuilds(reference, m)]
    rows: dict[str, list[Mutant]] = {}
    for m in sorted(killed, key=lambda m: (len(outcomes[m.id].failed), rank.get(m.operator, 99), m.line)):
        rows.setdefault(m.item, []).append(m)
    chosen = [row[0] for row in rows.values()]
    for row in sorted(rows.values(), key=len, reverse=True):
        for m in row[1:]:
            if len(chosen) >= size:
                break
            if m.function not in {c.function for c in chosen}:
                chosen.append(m)
                break
    return sorted(chosen[:size], key=lambda m: m.line)


def outcomes_from(path: Path, mutants: list[Mutant]) -> dict[str, Outcome]:
    """The outcomes of a previous full run (its JSON), which must cover every mutant made now."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    saved = {m["id"]: m for m in data.get("mutants", [])}
    missing = [m.id for m in mutants if m.id not in saved]
    if missing:
        sys.exit(f"error: {path.relative_to(ROOT)} lacks {len(missing)} of today's mutants (first: {missing[0]}); "
                 "run the full bench first: nice -n 10 .venv/bin/python bench/mutation.py")
    return {key: Outcome(m["status"], m["item_score"], m["failed"], m["other_items"], m["note"], m["seconds"],
                         m.get("named", False))
            for key, m in saved.items()}


def write_sample(sample: list[Mutant], seed: int, path: Path = SAMPLE) -> None:
    lines = [
        "# Mutants of the reference that tests/test_mutation.py grades in CI: each must lose its item",
        "# points (a helper's: any item's). Written by `bench/mutation.py --write-sample` from mutmut's",
        "# operators; the test rebuilds each from `before`/`after` inside `function`, so it needs no mutmut.",
        "# Graded with this seed, as the bench grades them.",
        f"seed = {seed}",
        "",
    ]
    for m in sample:
        lines += [
            "[[mutant]]",
            f"id = {toml_string(m.id)}",
            f"item = {toml_string(m.item)}",
            f"function = {toml_string(m.function)}",
            f"before = {toml_string(m.before)}",
            f"after = {toml_string(m.after)}",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({len(sample)} mutants)")


# -- the report -----------------------------------------------------------------
def change_text(m: Mutant) -> str:
    squash = lambda s: " ".join(s.split())  # noqa: E731
    return f"{squash(m.before)}  ->  {squash(m.after)}"


def summarise(a, mutants, outcomes, equivalents) -> tuple[list[dict], list[Mutant]]:
    rows, unjustified = [], []
    order = [q.item for q in a.questions] + [HELPERS]
    for item in order:
        mine = [m for m in mutants if m.item == item and m.id in outcomes]
        if not mine:
            continue
        count = {"killed": 0, "survived": 0, "broken": 0, "equivalent": 0}
        for m in mine:
            status = outcomes[m.id].status
            if status == "survived" and m.id in equivalents:
                status = "equivalent"
            elif status == "survived":
                unjustified.append(m)
            count[status] += 1
        counted = len(mine) - count["equivalent"] - count["broken"]
        named = sum(1 for m in mine if outcomes[m.id].status == "killed" and outcomes[m.id].named)
        rows.append({
            "item": item, "mutants": len(mine), **count, "unjustified": count["survived"],
            "score": round(count["killed"] / counted, 4) if counted else None,
            # Of the killed, the share whose feedback names a mistake: a mutant is an arbitrary edit
            # (a + for a -), not a student's typical mistake, so this is a floor, not a goal.
            "named": round(named / count["killed"], 4) if count["killed"] else None,
        })
    return rows, unjustified


def print_table(rows) -> None:
    print(f"\n{'item':<18} {'mutants':>7} {'killed':>7} {'equiv.':>7} {'broken':>7} {'unjust.':>7} {'score':>8} "
          f"{'named':>7}")
    for r in rows:
        score = "-" if r["score"] is None else f"{100 * r['score']:.1f}%"
        named = "-" if r.get("named") is None else f"{100 * r['named']:.0f}%"
        print(f"{r['item']:<18} {r['mutants']:>7} {r['killed']:>7} {r['equivalent']:>7} {r['broken']:>7} "
              f"{r['unjustified']:>7} {score:>8} {named:>7}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="grading processes (default 2)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"inputs' seed for every mutant (default {SEED})")
    parser.add_argument("--item", action="append", help="grade only this item's mutants (repeatable; '(helpers)' too)")
    parser.add_argument("--hand", action="store_true",
                        help=f"grade only the mutants written by hand ({HAND.relative_to(ROOT)})")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--show", metavar="ID", help="print one mutant's change and stop")
    parser.add_argument("--write-sample", action="store_true",
                        help=f"choose {SAMPLE.relative_to(ROOT)} from the last full run's JSON, and stop")
    parser.add_argument("--keep", type=Path, help="grade in this folder and keep the mutants and their grades")
    parser.add_argument("--compare", type=int, metavar="N",
                        help="time N mutants graded in-process (--jobs 1 and 2) and by the CLI, add it to the "
                             "JSON, and stop")
    parser.add_argument("--rescore", action="store_true",
                        help="re-read the equivalents list and re-score the last full run's outcomes without "
                             "grading (after editing the list; the suites and the reference must be unchanged)")
    parser.add_argument("--output", type=Path, help=f"the JSON report (default {RESULT.relative_to(ROOT)}; "
                                                    f"with --hand, {HAND_RESULT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    args.output = args.output or (HAND_RESULT if args.hand else RESULT)

    a = assignments.load(ASSIGNMENT, ROOT)
    started = time.perf_counter()
    mutants = generate(a)
    generated = time.perf_counter() - started
    if args.show:
        m = next((m for m in mutants if m.id == args.show), None)
        if m is None:
            sys.exit(f"error: no mutant {args.show}; list them with --list")
        print(f"{m.id}  ({m.item}, line {m.line} of {a.module}.py)\n--- before\n{m.before}+++ after\n{m.after}", end="")
        return 0
    if args.list:
        for m in mutants:
            print(f"{m.id:<45} line {m.line:>4}  {change_text(m)}")
        return 0
    if args.write_sample:
        saved = outcomes_from(args.output, mutants)
        write_sample(choose_sample(a, mutants, saved), json.loads(args.output.read_text())["seed"])
        return 0
    if args.compare:
        print(f"grading {args.compare} mutants three ways...", flush=True)
        comparison = compare_runners(a, mutants, args.compare, args.seed)
        report = json.loads(args.output.read_text()) if args.output.is_file() else {}
        report["runners"] = {"machine": machine_info(), **comparison}
        benchlib.write_json(args.output, report)
        return 0
    if args.item:
        unknown = set(args.item) - {q.item for q in a.questions} - {HELPERS}
        if unknown:
            sys.exit(f"error: unknown item(s) {sorted(unknown)}; use the items of assignment.toml or '{HELPERS}'")
        mutants = [m for m in mutants if m.item in args.item]
    if args.hand:
        mutants = [m for m in mutants if m.operator == "hand"]
    equivalents = load_equivalents()
    previous = json.loads(args.output.read_text()) if args.output.is_file() else {}
    if args.rescore:
        outcomes = outcomes_from(args.output, mutants)
        args.seed, args.jobs = previous["seed"], previous["jobs"]
        graded, total = previous["seconds"]["grade"], previous["seconds"]["total"]
        print(f"{len(mutants)} mutants, outcomes of the run of {previous['machine']['date']} re-scored "
              "against today's equivalents list")
    else:
        print(f"{len(mutants)} mutants ({generated:.1f} s to make), grading with --jobs {args.jobs}, "
              f"seed {args.seed}...", flush=True)
        outcomes, graded, total = grade_all(a, mutants, args.jobs, args.seed, args.keep)

    rows, unjustified = summarise(a, mutants, outcomes, equivalents)
    print_table(rows)
    stale = sorted(set(equivalents) - {m.id for m in mutants}) if not (args.item or args.hand) else []
    wrongly = [m for m in mutants if m.id in equivalents and outcomes[m.id].status == "killed"]
    if unjustified:
        print(f"\n{len(unjustified)} unjustified survivor(s) (kill each with a check, or list it in "
              f"{EQUIVALENTS.relative_to(ROOT)} with the reason):")
        for m in unjustified:
            also = f"  [other items lost points: {', '.join(outcomes[m.id].other_items)}]" if outcomes[m.id].other_items else ""
            print(f"  {m.id:<45} line {m.line:>4}  {change_text(m)}{also}")
    if wrongly:
        print(f"\n{len(wrongly)} mutant(s) listed as equivalent were killed; remove them from the list:")
        for m in wrongly:
            print(f"  {m.id}")
    if stale:
        print(f"\n{len(stale)} listed equivalent(s) match no mutant any more (the code changed); remove them:")
        for key in stale:
            print(f"  {key}")
    broken = [m for m in mutants if outcomes[m.id].status == "broken"]
    met = all(r["score"] is None or r["score"] >= GOAL for r in rows) and not unjustified
    print(f"\ngraded {len(mutants)} mutants in {total:.1f} s ({graded / max(len(mutants), 1):.2f} s each); "
          f"goal (>= {100 * GOAL:.0f}% killed per item, every survivor justified): {'met' if met else 'NOT met'}")

    report = {
        "machine": previous["machine"] if args.rescore else machine_info(),
        "rescored": machine_info()["date"] if args.rescore else None,
        "tool": {"mutmut": _version("mutmut"), "libcst": _version("libcst")},
        "seed": args.seed,
        "jobs": args.jobs,
        "items": args.item or ("hand" if args.hand else "all"),
        "goal": GOAL,
        "goal_met": met,
        "seconds": {"generate": round(generated, 2), "grade": round(graded, 2), "total": round(total, 2),
                    "per_mutant": round(graded / max(len(mutants), 1), 3)},
        "rows": rows,
        "unjustified": [m.id for m in unjustified],
        "listed_but_killed": [m.id for m in wrongly],
        "stale_equivalents": stale,
        "mutants": [
            {
                "id": m.id, "item": m.item, "function": m.function, "operator": m.operator, "line": m.line,
                "change": change_text(m), "status": outcomes[m.id].status,
                "equivalent": equivalents.get(m.id), "item_score": outcomes[m.id].item_score,
                "failed": outcomes[m.id].failed, "other_items": outcomes[m.id].other_items,
                "note": outcomes[m.id].note, "seconds": outcomes[m.id].seconds, "named": outcomes[m.id].named,
            }
            for m in mutants
        ],
        "broken": [m.id for m in broken],
        "checks": dict(sorted(CHECKS.items(), key=lambda kv: tuple(map(int, kv[0].split("."))))) if not args.rescore
        else previous.get("checks", {}),
    }
    if "runners" in previous:  # bench/mutation.py --compare's figures stay until it runs again
        report["runners"] = previous["runners"]
    benchlib.write_json(args.output, report)
    return 0 if met else 1


def _version(package: str):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
