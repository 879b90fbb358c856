"""Python code normalised before fingerprinting, so that mechanical edits do not hide a copy.

copydetect fingerprints k-grams of tokens: one inserted statement breaks every k-gram across it,
so a copy with `pass` after each line, dead code, split temporaries or statements in another
order shares few fingerprints with its source. Like JPlag's token normalisation, we first put
each file in a canonical form with Python's `ast`, and fingerprint that:

- no-ops go: `pass`, bare constants and docstrings, expressions with no call, `x = x`;
- dead code goes: statements after return/raise/break/continue, `if False:` (and `if True:`
  keeps only its body), assignments to locals that are never read, nested functions never
  used, and top-level functions, classes and imports that the contract's entry points (the
  handout's names) never reach, with module-level code that is not a definition (demo calls);
- loops that build a list, set or dict one item at a time become comprehensions;
- a temporary assigned once and read once is inlined where it is read;
- independent statements of a block are put in one canonical order: a topological order of
  the block's dependency graph (reads and writes of names and attribute paths), ties broken by
  the statements' structure with names anonymised (copydetect anonymises names itself).

Both sides of a comparison go through the same steps, so an edit that one of them undoes costs
the copy nothing. The form is for fingerprints only: it is never run.

Reading student bytes must be total and bounded: code that does not parse, or is larger than
MAX_NODES, or too deep for the interpreter's recursion limit, gives None and is compared as
written (the behaviour before normalisation). The passes repeat at most ROUNDS times, and a
block longer than MAX_BLOCK statements keeps its order (the dependency graph is quadratic).
"""

from __future__ import annotations

import ast
import builtins
import copy
import heapq
from dataclasses import dataclass

# Version of the canonical form: a change of the passes changes fingerprints.
VERSION = 1
MAX_NODES = 150_000
MAX_BLOCK = 400
ROUNDS = 6

_BUILTINS = frozenset(dir(builtins))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_BLOCK_FIELDS = ("body", "orelse", "finalbody")
_JUMPS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


@dataclass
class Normalised:
    text: str
    # For each line of `text` (index 0 is line 1): the lines of the original code it stands for.
    origin: list[tuple[int, ...]]


def entry_points(sources: list[str]) -> set[str]:
    """The names the handout defines at top level, and `Class.method` for its classes' methods."""
    names = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names.update(f"{node.name}.{m.name}" for m in node.body
                             if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return names


def normalise(source: str, entries: set[str] | frozenset[str] = frozenset()) -> Normalised | None:
    """The canonical form of `source`, or None when it cannot be had within the bounds."""
    try:
        tree = ast.parse(source)
        size = sum(1 for _ in _walk(tree))
        if size > MAX_NODES:
            return None
        tree = _ComprehensionCalls().visit(tree)
        _strip_annotations(tree)
        for _ in range(ROUNDS):
            _strip(tree)
            _prune_module(tree, entries)
            for scope in _functions(tree):
                _drop_dead_locals(scope)
                _loops_to_comprehensions(scope)
                _inline_single_use(scope)
            _strip(tree)
            # Every pass only takes nodes away (or rewrites into fewer): a round that takes none changed nothing.
            before, size = size, sum(1 for _ in _walk(tree))
            if size == before:
                break
        _reorder(tree, entries)
        # (No fix_missing_locations: a node made here would take its parent's lines, and the view
        # would mark them all. unparse needs no positions.)
        text = ast.unparse(tree) + "\n"
        return Normalised(text, _origin(tree, text))
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError, OverflowError):
        return None


# -- helpers ----------------------------------------------------------------------------

def _walk(node):
    """Every node under `node` (itself first), depth first: ast.walk's nodes, in less time."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        for name in n._fields:
            value = getattr(n, name, None)
            if isinstance(value, ast.AST):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, ast.AST))


def _blocks(node):
    """The statement lists directly held by `node` (its body, orelse, ...; try handlers' bodies)."""
    for name in _BLOCK_FIELDS:
        block = getattr(node, name, None)
        if isinstance(block, list) and (not block or isinstance(block[0], ast.stmt)):
            yield node, name
    for handler in getattr(node, "handlers", ()) or ():
        yield handler, "body"
    for case in getattr(node, "cases", ()) or ():
        yield case, "body"


def _all_blocks(tree):
    """Every statement list under `tree` (blocks hold statements, and only statements hold blocks)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for owner, name in _blocks(node):
            yield owner, name
            stack.extend(getattr(owner, name))


def _functions(tree):
    return [s for owner, name in _all_blocks(tree) for s in getattr(owner, name)
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _walk_scope(node):
    """Nodes of one scope: not into nested functions, lambdas or classes (their own scopes)."""
    todo = list(ast.iter_child_nodes(node))
    while todo:
        child = todo.pop()
        yield child
        if not isinstance(child, _SCOPES):
            todo.extend(ast.iter_child_nodes(child))


def _own_nodes(stmt):
    """The expressions of a statement itself, not of the statements it holds."""
    todo = [c for c in ast.iter_child_nodes(stmt) if not isinstance(c, ast.stmt)]
    while todo:
        child = todo.pop()
        yield child
        todo.extend(c for c in ast.iter_child_nodes(child) if not isinstance(c, ast.stmt))


def _truth(test):
    """True or False for a test whose value is a constant (`if False:`, `while 0:`), else None."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _truth(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [_truth(v) for v in test.values]
        if isinstance(test.op, ast.And):
            return False if False in values else (True if all(v is True for v in values) else None)
        return True if True in values else (False if all(v is False for v in values) else None)
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Constant)
            and isinstance(test.comparators[0], ast.Constant)):
        a, b = test.left.value, test.comparators[0].value
        compare = {ast.Eq: lambda: a == b, ast.NotEq: lambda: a != b, ast.Lt: lambda: a < b, ast.LtE: lambda: a <= b,
                   ast.Gt: lambda: a > b, ast.GtE: lambda: a >= b, ast.Is: lambda: a is b, ast.IsNot: lambda: a is not b}
        try:
            return bool(compare[type(test.ops[0])]())
        except (KeyError, TypeError):
            return None
    return None


# -- no-ops and unreachable code ----------------------------------------------------------

def _strip(tree) -> None:
    for owner, name in list(_all_blocks(tree)):
        setattr(owner, name, _strip_block(getattr(owner, name)))
        if not getattr(owner, name) and name == "body":
            getattr(owner, name).append(ast.Pass())


# Calls that only compute a value: as a statement, their result dropped, they do nothing.
_PURE_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "hash", "id", "int",
    "isinstance", "len", "list", "map", "max", "min", "pow", "range", "repr", "reversed", "round", "set",
    "sorted", "str", "sum", "tuple", "type", "zip",
})
_PURE_MODULES = frozenset({"np", "numpy", "math"})
# numpy functions that change an argument or the library's state.
_MUTATING = frozenset({"copyto", "put", "place", "putmask", "fill_diagonal", "seterr", "set_printoptions",
                       "save", "savez", "savez_compressed", "savetxt", "put_along_axis"})


def _pure(expr) -> bool:
    for n in _walk(expr):
        if isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
        if isinstance(n, ast.Call):
            func = n.func
            if isinstance(func, ast.Name) and func.id in _PURE_BUILTINS:
                continue
            if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    and func.value.id in _PURE_MODULES and func.attr not in _MUTATING):
                continue
            return False
    return True


def _only_noops(block: list) -> bool:
    return all(isinstance(s, ast.Pass) or isinstance(s, ast.Expr) and _pure(s.value) for s in block)


def _same(a, b) -> bool:
    return ast.dump(a).replace("Store()", "Load()") == ast.dump(b).replace("Store()", "Load()")


def _parallel(stmt):
    """`a, b = x, y` as `a = x` and `b = y` when no value reads a name the tuple assigns."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    target, value = stmt.targets[0], stmt.value
    if not (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))
            and len(target.elts) == len(value.elts)):
        return None
    if any(isinstance(e, ast.Starred) for e in [*target.elts, *value.elts]):
        return None
    stored = {n.id for n in _walk(target) if isinstance(n, ast.Name)}
    if any(isinstance(n, ast.Name) and n.id in stored for n in _walk(value)):
        return None
    return [ast.copy_location(ast.Assign([t], v), stmt) for t, v in zip(target.elts, value.elts)]


def _canonical_stmt(stmt):
    """One spelling for statements written in several ways."""
    # x = x + y  ->  x += y
    if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.BinOp)
            and isinstance(stmt.targets[0], (ast.Name, ast.Attribute, ast.Subscript)) and _same(stmt.targets[0], stmt.value.left)):
        return ast.copy_location(ast.AugAssign(stmt.targets[0], stmt.value.op, stmt.value.right), stmt)
    if isinstance(stmt, ast.If):
        # if not c: A else: B  ->  if c: B else: A;  if c: pass else: B  ->  if not c: B
        if isinstance(stmt.test, ast.UnaryOp) and isinstance(stmt.test.op, ast.Not) and stmt.orelse:
            stmt.test, stmt.body, stmt.orelse = stmt.test.operand, stmt.orelse, stmt.body
        elif stmt.orelse and _only_noops(stmt.body):
            stmt.test, stmt.body, stmt.orelse = ast.UnaryOp(ast.Not(), stmt.test), stmt.orelse, []
        # if c: x = a else: x = b  ->  x = a if c else b
        if (len(stmt.body) == 1 and len(stmt.orelse) == 1 and all(isinstance(s, ast.Assign) and len(s.targets) == 1
                                                                  for s in (stmt.body[0], stmt.orelse[0]))
                and _same(stmt.body[0].targets[0], stmt.orelse[0].targets[0])):
            return ast.copy_location(ast.Assign(stmt.body[0].targets, ast.IfExp(stmt.test, stmt.body[0].value,
                                                                                 stmt.orelse[0].value)), stmt)
    return stmt


def _strip_block(block: list) -> list:
    out = []
    for stmt in block:
        stmt = _canonical_stmt(stmt)
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and _pure(stmt.value):
            continue  # docstrings, bare constants and names, calls whose value is dropped
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Name) and stmt.value.id == stmt.targets[0].id):
            continue
        if isinstance(stmt, ast.Assert) and _truth(stmt.test) is True:
            continue
        split = _parallel(stmt)
        if split:
            out.extend(split)
            continue
        if isinstance(stmt, (ast.If, ast.While)):
            truth = _truth(stmt.test)
            if truth is False:
                out.extend(_strip_block(stmt.orelse))
                continue
            if truth is True and isinstance(stmt, ast.If):
                out.extend(_strip_block(stmt.body))
                continue
            if not stmt.orelse and _only_noops(stmt.body) and _pure(stmt.test):
                continue
        if isinstance(stmt, ast.For):
            if isinstance(stmt.iter, (ast.List, ast.Tuple, ast.Set)) and not stmt.iter.elts or _is_range_zero(stmt.iter):
                out.extend(_strip_block(stmt.orelse))
                continue
            if not stmt.orelse and _only_noops(stmt.body) and _pure(stmt.iter):
                continue
        if (isinstance(stmt, ast.Try) and not stmt.orelse and not stmt.finalbody and stmt.handlers
                and all(len(h.body) == 1 and isinstance(h.body[0], ast.Raise) and h.body[0].exc is None for h in stmt.handlers)):
            out.extend(_strip_block(stmt.body))  # try: A except E: raise  is A
            continue
        out.append(stmt)
        if isinstance(stmt, _JUMPS):
            break  # what follows never runs
    return out


def _is_range_zero(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0)


def _strip_annotations(tree) -> None:
    """Type annotations say nothing about how the code computes."""
    for owner, name in list(_all_blocks(tree)):
        out = []
        for stmt in getattr(owner, name):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stmt.returns = None
                for arg in _walk(stmt.args):
                    if isinstance(arg, ast.arg):
                        arg.annotation = None
            if isinstance(stmt, ast.AnnAssign):
                if stmt.value is None:
                    continue
                stmt = ast.copy_location(ast.Assign([stmt.target], stmt.value), stmt)
            out.append(stmt)
        setattr(owner, name, out)


# -- dead definitions at module level -------------------------------------------------------

def _defined(stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    return {n.id for n in _walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _used_names(node) -> set[str]:
    """Names and attribute names read anywhere in `node` (a method may be reached as self.name)."""
    used = set()
    for n in _walk(node):
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store):
            used.add(n.id)
        elif isinstance(n, ast.Attribute):
            used.add(n.attr)
    return used


def _is_method(node):
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))


def _prune_module(tree, entries) -> None:
    """Keep what the entry points reach. A file that defines none of them keeps every definition."""
    body = tree.body
    roots = {e for e in entries if "." not in e}
    defined = {name for stmt in body for name in _defined(stmt)}
    if not roots & defined:
        roots = defined
    live_names = set(roots)
    while True:
        keep = [s for s in body if _defined(s) & live_names]
        used = set()
        for stmt in keep:
            if isinstance(stmt, ast.ClassDef):
                used |= _used_names(ast.Module(body=[*stmt.bases, *stmt.keywords, *stmt.decorator_list], type_ignores=[]))
                for item in stmt.body:
                    if not _is_method(item) or _method_live(stmt.name, item.name, entries, live_names):
                        used |= _used_names(item)
            else:
                used |= _used_names(stmt)
        grown = live_names | (used & defined)
        if grown == live_names:
            break
        live_names = grown
    tree.body = [s for s in body if _defined(s) & live_names]
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            stmt.body = [i for i in stmt.body if not _is_method(i) or _method_live(stmt.name, i.name, entries, live_names)]


def _method_live(cls: str, name: str, entries, live_names) -> bool:
    return (name.startswith("__") and name.endswith("__")) or f"{cls}.{name}" in entries or name in live_names \
        or not any(e.startswith(cls + ".") for e in entries) and not name.startswith("_")


# -- dead locals -------------------------------------------------------------------------

def _declared(func) -> set[str]:
    """Parameters, and names declared global or nonlocal: never dropped or inlined."""
    args = func.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
    for owner, name in _all_blocks(func):
        for n in getattr(owner, name):
            if isinstance(n, (ast.Global, ast.Nonlocal)):
                names.update(n.names)
    return names


def _loads(func) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in _walk(func):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            counts[n.id] = counts.get(n.id, 0) + 1
    return counts


def _drop_dead_locals(func) -> None:
    keep = _declared(func)
    loads = _loads(func)

    def dead_target(t) -> bool:
        if isinstance(t, ast.Name):
            return t.id not in loads and t.id not in keep
        if isinstance(t, (ast.Tuple, ast.List)):
            return all(dead_target(e) for e in t.elts)
        if isinstance(t, ast.Starred):
            return dead_target(t.value)
        return False

    for owner, name in list(_all_blocks(func)):
        if owner is not func and isinstance(owner, _SCOPES):
            continue  # a nested scope's blocks: done when that scope is
        kept = []
        for stmt in getattr(owner, name):
            if isinstance(stmt, ast.Assign) and all(dead_target(t) for t in stmt.targets):
                continue
            if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and dead_target(stmt.target):
                continue
            if isinstance(stmt, ast.Delete) and all(dead_target(t) for t in stmt.targets):
                continue
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                    and stmt.name not in loads and stmt.name not in keep:
                continue  # a nested function nobody calls
            kept.append(stmt)
        setattr(owner, name, kept)


# -- loops that build a collection --------------------------------------------------------

def _empty_kind(value) -> str | None:
    if isinstance(value, ast.List) and not value.elts:
        return "list"
    if isinstance(value, ast.Dict) and not value.keys:
        return "dict"
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and not value.args and not value.keywords \
            and value.func.id in ("list", "set", "dict"):
        return value.func.id
    return None


def _collect(loop, target: str, kind: str):
    """(generators, element) when `loop` only adds items to `target`, through nested for/if."""
    generators = []
    node = loop
    while True:
        if isinstance(node, ast.For) and not node.orelse and len(node.body) == 1:
            generators.append(ast.comprehension(target=node.target, iter=node.iter, ifs=[], is_async=0))
            node = node.body[0]
        elif isinstance(node, ast.If) and not node.orelse and len(node.body) == 1 and generators:
            generators[-1].ifs.append(node.test)
            node = node.body[0]
        else:
            break
    if not generators:
        return None
    if kind in ("list", "set") and isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
        method = "append" if kind == "list" else "add"
        if (isinstance(call.func, ast.Attribute) and call.func.attr == method and isinstance(call.func.value, ast.Name)
                and call.func.value.id == target and len(call.args) == 1 and not call.keywords):
            element = call.args[0]
            if target not in {n.id for n in _walk(element) if isinstance(n, ast.Name)}:
                return generators, element
    if kind == "dict" and isinstance(node, ast.Assign) and len(node.targets) == 1:
        sub = node.targets[0]
        if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id == target:
            used = {n.id for n in _walk(node.value) if isinstance(n, ast.Name)}
            used |= {n.id for n in _walk(sub.slice) if isinstance(n, ast.Name)}
            if target not in used:
                return generators, (sub.slice, node.value)
    return None


def _loops_to_comprehensions(func) -> None:
    for owner, name in list(_all_blocks(func)):
        block = getattr(owner, name)
        out = []
        for stmt in block:
            prev = out[-1] if out else None
            if (isinstance(stmt, ast.For) and isinstance(prev, ast.Assign) and len(prev.targets) == 1
                    and isinstance(prev.targets[0], ast.Name) and _empty_kind(prev.value)):
                kind = _empty_kind(prev.value)
                found = _collect(stmt, prev.targets[0].id, kind)
                if found:
                    generators, element = found
                    if kind == "list":
                        prev.value = ast.ListComp(elt=element, generators=generators)
                    elif kind == "set":
                        prev.value = ast.SetComp(elt=element, generators=generators)
                    else:
                        prev.value = ast.DictComp(key=element[0], value=element[1], generators=generators)
                    continue
            out.append(stmt)
        setattr(owner, name, out)


class _ComprehensionCalls(ast.NodeTransformer):
    """list(x for ...) and set(x for ...) are comprehensions too."""

    def visit_Call(self, call):
        self.generic_visit(call)
        if (isinstance(call.func, ast.Name) and call.func.id in ("list", "set") and len(call.args) == 1
                and not call.keywords and isinstance(call.args[0], ast.GeneratorExp)):
            gen = call.args[0]
            kind = ast.ListComp if call.func.id == "list" else ast.SetComp
            return ast.copy_location(kind(elt=gen.elt, generators=gen.generators), call)
        return call


# -- single-use temporaries ------------------------------------------------------------------

def _inline_single_use(func) -> None:
    keep = _declared(func)
    stores: dict[str, int] = {}
    loads: dict[str, list] = {}
    for n in _walk(func):
        if isinstance(n, ast.Name):
            if isinstance(n.ctx, ast.Load):
                loads.setdefault(n.id, []).append(n)
            else:
                stores[n.id] = stores.get(n.id, 0) + 1
        elif isinstance(n, ast.arg):
            keep.add(n.arg)  # a nested function's or lambda's parameter shadows
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not func:
            keep.add(n.name)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            keep.add(n.name)
        elif isinstance(n, ast.alias):
            keep.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            keep.add(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            keep.add(n.rest)
    values, gone = {}, set()
    for owner, name in _all_blocks(func):
        for stmt in getattr(owner, name):
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
                continue
            var = stmt.targets[0].id
            if var in keep or stores.get(var) != 1 or len(loads.get(var, ())) != 1:
                continue
            use = loads[var][0]
            if any(n is use or isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await, ast.NamedExpr, ast.Starred))
                   for n in _walk(stmt.value)):
                continue
            if (getattr(use, "lineno", 0), getattr(use, "col_offset", 0)) > (stmt.lineno, stmt.col_offset):
                values[var] = stmt.value
                gone.add(id(stmt))
    if not values:
        return

    class Inline(ast.NodeTransformer):
        # By name: each inlined name is read once in the function, or once in a value inlined into it.
        def visit_Name(self, node):
            if isinstance(node.ctx, ast.Load) and node.id in values:
                return self.visit(copy.deepcopy(values[node.id]))
            return node

    for owner, name in list(_all_blocks(func)):
        setattr(owner, name, [s for s in getattr(owner, name) if id(s) not in gone])
    Inline().visit(func)


# -- canonical order of independent statements ------------------------------------------------

def _chain(node) -> str | None:
    """'self.W.grad' for an attribute path on a name; the name for a name; None otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Subscript):
        return _chain(node.value)
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _access(stmt) -> tuple[set[str], set[str], bool]:
    """(paths read, paths written, is a barrier) of one statement of a block.

    A path is a name or an attribute path on it (`self.W.grad`); a subscript reads or writes its
    array's path. A call whose result is dropped (`g.fill(0)`, `np.add.at(g, i, v)`) may change
    its object and arguments. A function's body runs later: its definition reads only its
    decorators and defaults. Jumps (return, break, continue, yield) keep their place.
    """
    reads, writes = set(), set()
    barrier = isinstance(stmt, _JUMPS) or isinstance(stmt, (ast.Global, ast.Nonlocal))
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        writes.add(stmt.name)
        start = list(stmt.decorator_list)
        if isinstance(stmt, ast.ClassDef):
            start += [*stmt.bases, *(k.value for k in stmt.keywords)]
        else:
            start += [*stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d is not None)]
    else:
        start = [stmt]
    stack = list(start)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) and n is not stmt:
            reads.update(x.id for x in _walk(n) if isinstance(x, ast.Name))  # a nested scope: its reads
            if not isinstance(n, ast.Lambda):
                writes.add(n.name)
            continue
        if isinstance(n, (ast.Return, ast.Continue, ast.Break, ast.Yield, ast.YieldFrom, ast.Await)):
            barrier = True
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            writes |= _defined(n)
        if isinstance(n, ast.Name):
            (reads if isinstance(n.ctx, ast.Load) else writes).add(n.id)
            continue
        if isinstance(n, (ast.Attribute, ast.Subscript)):
            path = _chain(n)
            if path is not None:
                (reads if isinstance(n.ctx, ast.Load) else writes).add(path)
                if isinstance(n.ctx, ast.Store) and isinstance(n, ast.Subscript):
                    reads.add(path)  # a slice assignment keeps the rest of the array
                base = n
                while isinstance(base, (ast.Attribute, ast.Subscript)):
                    if isinstance(base, ast.Subscript):
                        stack.append(base.slice)
                    base = base.value
                continue
        if isinstance(n, ast.AugAssign):
            path = _chain(n.target)
            if path:
                reads.add(path)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call):
            call = n.value
            targets = [call.func.value] if isinstance(call.func, ast.Attribute) else []
            for target in [*targets, *call.args, *(k.value for k in call.keywords)]:
                path = _chain(target)
                if path:
                    writes.add(path)
        stack.extend(ast.iter_child_nodes(n))
    return reads, writes, barrier


def _overlap(a: set[str], b: set[str]) -> bool:
    if not a or not b:
        return False
    roots_a = {p.split(".", 1)[0] for p in a}
    roots_b = {p.split(".", 1)[0] for p in b}
    if not roots_a & roots_b:
        return False
    for x in a:
        for y in b:
            if x == y or x.startswith(y + ".") or y.startswith(x + "."):
                return True
    return False


def shape_key(node) -> str:
    """A statement's structure with names anonymised as copydetect does (builtins kept)."""
    parts = []
    for n in _walk(node):
        kind = type(n).__name__
        if isinstance(n, ast.Name):
            parts.append(n.id if n.id in _BUILTINS else "V")
        elif isinstance(n, ast.Constant):
            parts.append("S" if isinstance(n.value, (str, bytes)) else repr(n.value))
        elif isinstance(n, (ast.expr_context,)):
            continue
        else:
            parts.append(kind)
    return " ".join(parts)


def _canonical(block: list, fixed: dict[str, str] | None = None) -> list:
    """The block in a topological order of its dependencies, the smallest key first among those ready.

    `fixed` names definitions whose place is fixed by name (the handout's, in a module or class
    body): they come in the order of their names, before the file's own definitions, so the code
    between two of them is always the same and the handout's fingerprints match across it.
    """
    if len(block) < 2 or len(block) > MAX_BLOCK:
        return block
    access = [_access(s) for s in block]
    after = [set() for _ in block]  # j in after[i]: i must come before j
    needs = [0] * len(block)
    for j, (reads_j, writes_j, barrier_j) in enumerate(access):
        for i in range(j):
            reads_i, writes_i, barrier_i = access[i]
            if (barrier_i or barrier_j or _overlap(writes_i, reads_j) or _overlap(reads_i, writes_j)
                    or _overlap(writes_i, writes_j)):
                after[i].add(j)
                needs[j] += 1
    fixed = fixed or {}
    keys = [("0 " + fixed[s.name]) if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and s.name in fixed else "1 " + shape_key(s) for s in block]
    ready = [(keys[i], i) for i in range(len(block)) if needs[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(block[i])
        for j in after[i]:
            needs[j] -= 1
            if needs[j] == 0:
                heapq.heappush(ready, (keys[j], j))
    return order


def _reorder(tree, entries) -> None:
    # Inner blocks first: a block's key then holds its statements in their canonical order.
    blocks = list(_all_blocks(tree))
    for owner, name in reversed(blocks):
        fixed = None
        if owner is tree:
            fixed = {e: e for e in entries if "." not in e}
        elif isinstance(owner, ast.ClassDef) and owner in tree.body:
            fixed = {e.split(".", 1)[1]: e for e in entries if e.startswith(owner.name + ".")}
        setattr(owner, name, _canonical(getattr(owner, name), fixed))


# -- where each line came from ------------------------------------------------------------------

def _origin(tree, text: str) -> list[tuple[int, ...]]:
    """For each line of `text`, the original lines its statement's own code came from.

    `text` is `tree` unparsed; parsed again, its statements come in the same order as
    `tree`'s, whose nodes keep the original code's positions (an inlined temporary keeps its own).
    """
    again = ast.parse(text)
    old = [n for n in _walk(tree) if isinstance(n, ast.stmt)]
    new = [n for n in _walk(again) if isinstance(n, ast.stmt)]
    origin: list[set[int]] = [set() for _ in range(text.count("\n") + 1)]
    if len(old) != len(new):
        return [()] * len(origin)
    for before, after in zip(old, new):
        lines = set()
        # The statement's first line and its own expressions' lines, not its whole span: a
        # statement made from several (an if/else turned into one assignment) spans lines whose
        # code was dropped; a compound statement's body maps line by line.
        if getattr(before, "lineno", None):
            lines.add(before.lineno)
        for n in _own_nodes(before):
            first, last = getattr(n, "lineno", None), getattr(n, "end_lineno", None)
            if first is not None:
                lines.update(range(first, (last or first) + 1))
        header_end = after.end_lineno if not any(True for _ in _blocks(after)) else after.lineno
        for line in range(after.lineno, (header_end or after.lineno) + 1):
            origin[line - 1] |= lines
    return [tuple(sorted(s)) for s in origin]
