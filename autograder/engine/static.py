"""A look at a submission's source, in the trusted process, before it runs.

It finds banned imports and the marks of tampering (exiting, patching
libraries, spawning, writing or reading files, ctypes, sockets, rigged
comparison methods). These findings cannot be hidden by the submission,
unlike what the worker reports about itself. They never change a score
directly: the grade comes from what the code returned. They tell the
instructor where to look.
"""

from __future__ import annotations

import ast

# (module, attribute) calls and what they mean.
CALLS = {
    ("os", "_exit"): ("exit", "calls os._exit"),
    ("sys", "exit"): ("exit", "calls sys.exit"),
    ("os", "kill"): ("signal", "sends signals with os.kill"),
    ("os", "killpg"): ("signal", "sends signals with os.killpg"),
    ("os", "system"): ("spawn", "runs shell commands with os.system"),
    ("os", "popen"): ("spawn", "runs shell commands with os.popen"),
    ("os", "fork"): ("spawn", "forks with os.fork"),
    ("os", "setsid"): ("spawn", "detaches with os.setsid"),
    ("os", "remove"): ("write-file", "deletes files"),
    ("os", "unlink"): ("write-file", "deletes files"),
    ("sys", "settrace"): ("patch", "installs a tracer with sys.settrace"),
    ("sys", "setprofile"): ("patch", "installs a profiler with sys.setprofile"),
    ("signal", "signal"): ("signal", "changes signal handlers"),
    ("gc", "get_objects"): ("introspection", "walks the interpreter's objects with gc.get_objects"),
    ("gc", "get_referrers"): ("introspection", "walks the interpreter's objects with gc.get_referrers"),
    ("gc", "get_referents"): ("introspection", "walks the interpreter's objects with gc.get_referents"),
    ("inspect", "stack"): ("introspection", "inspects the call stack"),
    ("sys", "_getframe"): ("introspection", "inspects the call stack"),
}
MODULES = {
    "subprocess": ("spawn", "imports subprocess"),
    "multiprocessing": ("spawn", "imports multiprocessing"),
    "ctypes": ("ctypes", "imports ctypes"),
    "socket": ("network", "imports socket"),
    "urllib": ("network", "imports urllib"),
    "requests": ("network", "imports requests"),
    "shutil": ("write-file", "imports shutil"),
    "pytest": ("patch", "imports pytest (the grader does not run pytest in the sandbox)"),
    "unittest": ("patch", "imports unittest"),
    "importlib": ("introspection", "imports importlib"),
    # The worker's own module: its bookkeeping (the import ban) is no business of a submission's.
    "__main__": ("patch", "imports the grader's worker module (__main__)"),
}
# Attributes of the worker's bookkeeping (worker.py): reading or changing them is tampering with the ban.
WORKER_INTERNALS = {"banned", "is_banned", "books", "banned_why"}
RIGGED_METHODS = {"__eq__", "__ne__", "__array__", "__array_ufunc__", "__array_function__", "__bool__", "__float__"}


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _namespace_of(node: ast.AST, resolve) -> str | None:
    """The module whose namespace `node` is, for vars(m), m.__dict__ or getattr(m, "__dict__")."""
    if isinstance(node, ast.Call) and _dotted(node.func) in ("vars", "getattr") and node.args:
        if _dotted(node.func) == "getattr" and not (
                len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "__dict__"):
            return None
        return resolve(_dotted(node.args[0])) or "an object"
    if isinstance(node, ast.Attribute) and node.attr == "__dict__":
        return resolve(_dotted(node.value)) or "an object"
    return None


def _banned(module: str, banned: tuple[str, ...]) -> bool:
    return any(module == b or module.startswith(b + ".") for b in banned)


def scan_cells(cells, banned: tuple[str, ...]) -> list[dict]:
    """scan() of each notebook cell on its own: a cell that does not parse hides only itself.

    `cells` are (label, source); each finding says its cell.
    """
    findings = []
    for label, source in cells:
        for found in scan(source, banned):
            findings.append({**found, "detail": f"{found['detail']} ({label})"})
    return findings


def scan(source: str, banned: tuple[str, ...]) -> list[dict]:
    """Findings as {"kind", "detail", "line"}; a file that does not parse has none."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # Python's parser bounds its own depth (and the source's size is bounded on reading).
        return []
    aliases: dict[str, str] = {}  # local name -> module it refers to
    findings: list[dict] = []
    seen: set = set()

    def add(kind: str, detail: str, node: ast.AST) -> None:
        key = (kind, detail)
        if key not in seen:
            seen.add(key)
            findings.append({"kind": kind, "detail": detail, "line": getattr(node, "lineno", 0)})

    def imported(module: str, node: ast.AST) -> None:
        if _banned(module, banned):
            add("banned-import", f"imports {module}", node)
        top = module.split(".")[0]
        if top in MODULES:
            add(*MODULES[top], node)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imported(alias.name, node)
                aliases[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported(node.module, node)
            for alias in node.names:
                imported(f"{node.module}.{alias.name}", node)
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def resolve(name: str | None) -> str | None:
        if not name:
            return None
        head, _, rest = name.partition(".")
        if head in aliases:
            return aliases[head] + ("." + rest if rest else "")
        return name

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            target = resolve(_dotted(node.func))
            if target:
                module, _, attr = target.rpartition(".")
                if (module, attr) in CALLS:
                    add(*CALLS[(module, attr)], node)
                if target in ("exit", "quit"):
                    add("exit", f"calls {target}()", node)
                if target in ("__import__", "importlib.import_module") and node.args:
                    arg = node.args[0]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        imported(arg.value, node)
                    else:
                        add("introspection", f"imports a module by a computed name with {target}", node)
                if target == "open":
                    mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
                    writing = isinstance(mode, ast.Constant) and isinstance(mode.value, str) and any(c in mode.value for c in "wax+")
                    add("write-file" if writing else "read-file", "opens files for writing" if writing else "opens files for reading", node)
                if target == "setattr" and node.args:
                    owner = resolve(_dotted(node.args[0]))
                    if owner and owner.split(".")[0] in {m.split(".")[0] for m in aliases.values()} | {"builtins"}:
                        add("patch", f"replaces attributes of {owner} with setattr", node)
                if target in ("exec", "eval", "compile"):
                    add("introspection", f"calls {target}()", node)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("update", "__setitem__", "setdefault") \
                    and (owner := _namespace_of(node.func.value, resolve)):
                add("patch", f"replaces entries of {owner}'s namespace", node)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("write_text", "write_bytes"):
                add("write-file", "writes files with pathlib", node)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    owner = _dotted(target.value)
                    if owner and owner.split(".")[0] in aliases:
                        add("patch", f"replaces {resolve(owner)}.{target.attr}", node)
                    elif owner in ("builtins", "__builtins__"):
                        add("patch", f"replaces builtins.{target.attr}", node)
                elif isinstance(target, ast.Subscript) and _dotted(target.value) in ("__builtins__", "sys.modules"):
                    add("patch", f"replaces entries of {_dotted(target.value)}", node)
                elif isinstance(target, ast.Subscript) and (owner := _namespace_of(target.value, resolve)):
                    add("patch", f"replaces entries of {owner}'s namespace", node)
        elif isinstance(node, ast.Attribute) and node.attr in WORKER_INTERNALS:
            add("patch", f"reaches into the grader's worker (.{node.attr}, its import ban)", node)
        elif isinstance(node, ast.Subscript) and _dotted(node.value) == "sys.modules" \
                and isinstance(node.slice, ast.Constant) and node.slice.value == "__main__":
            add("patch", "reaches into the grader's worker module (sys.modules['__main__'])", node)
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = resolve(_dotted(base)) or ""
                if name in ("numpy.ndarray", "ndarray"):
                    add("rigged-value", f"class {node.name} subclasses numpy.ndarray", node)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name in RIGGED_METHODS:
                    add("rigged-value", f"class {node.name} defines {item.name}", item)
        elif isinstance(node, ast.Global):
            continue
    return sorted(findings, key=lambda f: (f["line"], f["kind"]))


def references(sources, names) -> dict[str, set[str]]:
    """For each of `names` defined at the top of `sources` (texts: a module, or a notebook's cells),
    the top-level names its definition refers to, through the module's own helpers too.

    So a failure of conv2d_forward may point at conv_output_size only when the
    student's conv2d_forward (or a helper it calls) really refers to it. A
    source that does not parse refers to nothing.
    """
    direct: dict[str, set[str]] = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                used |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}  # self.forward, layers.pad
                direct[node.name] = used - {node.name}
    found = {}
    for name in names:
        seen, todo = set(), [name]
        while todo:
            for used in direct.get(todo.pop(), ()):
                if used not in seen and used != name:
                    seen.add(used)
                    if used in direct:
                        todo.append(used)
        found[name] = seen
    return found
