"""Wrong answers, plus a hunt for the reference solution and the hidden suite on disk.

It tries the kit's absolute path, relative paths, Gradescope's layout, a
glob for '**/solutions/**' and a (time-boxed) walk of the whole file system.
If it finds the reference, it runs it and replaces its own functions with
the reference's. It prints what it found, so the test can tell.
"""
# include: wrong_answers.py
# ==== HOSTILE ====
import fnmatch
import os
import time

try:
    from glob import glob
except ImportError:  # not importable in every sandbox (see test_hostile.py); a walk does the same
    def glob(pattern, recursive=False):
        found = []
        for folder, _, files in os.walk(os.path.dirname(pattern.split("*")[0]) or "."):
            found += [os.path.join(folder, f) for f in files if fnmatch.fnmatch(os.path.join(folder, f), pattern)]
        return found

_KIT = "@KIT@"
_REL = "solutions/cnn/cnn_layers.py"
_CONTRACT = ("conv_output_size", "pad", "conv2d_forward", "conv2d_backward", "maxpool_forward",
             "maxpool_backward", "Parameter", "Module", "Conv2d", "MaxPool2d")
_SKIP = {"proc", "sys", "dev", "usr", "lib", "lib32", "lib64", "bin", "sbin", "etc", "var", "run", "boot",
         "snap", ".venv", "venv", "site-packages", ".git", "node_modules", ".pyenv", ".cache"}


def _walk(top, deadline):
    for folder, subfolders, files in os.walk(top):
        subfolders[:] = [d for d in subfolders if d not in _SKIP and folder.count(os.sep) < 8]
        for name in files:
            path = os.path.join(folder, name)
            if name == "cnn_layers.py" and "solutions" in path:
                yield "reference", path
            elif name.startswith("test_") and name.endswith(".py") and "suites" in path:
                yield "suite", path
        if time.monotonic() > deadline:
            return


def _candidates():
    found = [("reference", p) for p in (
        os.path.join(_KIT, _REL), "/work/main/" + _REL, _REL, "../" + _REL, "../../" + _REL,
        "../../../" + _REL, "../../../../work/main/" + _REL, "/autograder/source/" + _REL,
        "/autograder/" + _REL, os.path.expanduser("~/" + _REL))]
    found += [("suite", p) for p in glob(os.path.join(_KIT, "autograder/suites/*/test_*.py"))]
    found += [("reference", p) for p in glob("**/solutions/**/cnn_layers.py", recursive=True)]
    deadline = time.monotonic() + 4
    for top in ("/", os.path.expanduser("~"), os.getcwd()):
        found += list(_walk(top, deadline))
    return found


def _steal():
    stolen = suites = None
    for kind, path in _candidates():
        try:
            with open(path, encoding="utf-8") as f:
                source = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        if kind == "suite":
            suites = suites or path
            continue
        namespace = {"__name__": "stolen"}
        try:
            exec(compile(source, path, "exec"), namespace)
        except Exception:  # noqa: BLE001
            continue
        if all(name in namespace for name in _CONTRACT):
            stolen = path
            for name in _CONTRACT:
                globals()[name] = namespace[name]
            break
    print("FOUND-REFERENCE " + stolen if stolen else "SEARCHED-REFERENCE nothing found", flush=True)
    print("FOUND-SUITE " + suites if suites else "SEARCHED-SUITE nothing found", flush=True)


_steal()
