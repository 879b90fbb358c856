"""Where the worker's Python keeps what it needs (its layout), probed once per interpreter and
remembered in the user's cache; and which folders of the host hold the system's shared libraries."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from .isolation import worker_env


def _cache_file() -> Path | None:
    # In the user's own cache folder, never a shared /tmp: bind paths read from
    # a file someone else could write would let them widen the sandbox.
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "autograder" / "python-layout-3.json"


# Run by the worker's Python: where its parts live. Argument: packages to find.
_LAYOUT_PROBE = r"""
import glob, importlib.util, json, os, site, sys, sysconfig
real = os.path.realpath
# The base interpreter's own library (a venv adds only site-packages, which are not shown).
stdlib = sorted({real(os.path.dirname(os.__file__))} | {real(p) for p in sys.path if p.endswith("lib-dynload")})
sites = set(site.getsitepackages()) | {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
libdir = sysconfig.get_config_var("LIBDIR") or ""
packages = {}
for name in sys.argv[1:]:
    spec = importlib.util.find_spec(name)
    if spec is None:
        continue
    if spec.submodule_search_locations:
        folder = real(list(spec.submodule_search_locations)[0])
        packages[name] = folder
        if os.path.isdir(folder + ".libs"):  # a wheel's bundled shared libraries (numpy.libs)
            packages[name + ".libs"] = folder + ".libs"
    elif spec.origin:
        packages[name] = real(spec.origin)
print(json.dumps({
    "executable": real(sys.executable),
    "stdlib": stdlib,
    "site": sorted({real(p) for p in sites}),
    "libpython": sorted({real(p) for p in glob.glob(os.path.join(libdir, "libpython*.so*"))}),
    "multiarch": sysconfig.get_config_var("MULTIARCH") or "",
    "packages": packages,
}))
"""


def python_layout(python: str, packages: tuple[str, ...] = ("numpy",)) -> dict:
    """Where the worker's Python keeps what it needs, remembered per interpreter and package list."""
    real = os.path.realpath(python)
    try:
        key = f"{python}|{real}|{os.stat(real).st_mtime_ns}|{os.stat(python).st_mtime_ns}|{','.join(packages)}"
    except OSError:
        return _probe_layout(python, packages)
    cache = _cache_file()
    try:
        known = json.loads(cache.read_text()) if cache and cache.is_file() else {}
    except (OSError, ValueError):
        known = {}
    layout = known.get(key)
    if isinstance(layout, dict) and all(os.path.exists(p) for p in [layout.get("executable", ""), *layout.get("stdlib", [])]):
        return layout
    layout = _probe_layout(python, packages)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        known[key] = layout
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        tmp.replace(cache)
    except OSError:
        pass  # no cache: the probe runs next time too
    return layout


def _probe_layout(python: str, packages: tuple[str, ...]) -> dict:
    out = subprocess.run(
        [python, "-I", "-c", _LAYOUT_PROBE, *packages], capture_output=True, text=True, timeout=60, env=worker_env("/tmp")
    )
    if out.returncode != 0:
        raise RuntimeError(f"{python} could not report where its parts live: {out.stderr.strip().splitlines()[-1:]}")
    layout = json.loads(out.stdout)
    missing = [p for p in packages if p not in layout["packages"]]
    if missing:
        raise RuntimeError(f"{python} cannot import {', '.join(missing)}, which the assignment allows")
    return layout


def find_modules(python: str, names: tuple[str, ...]) -> dict[str, str]:
    """Where `python` (with its site-packages) finds each of these modules: {name: path}."""
    probe = (
        "import importlib.util, json, os, sys\n"
        "found = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        spec = importlib.util.find_spec(name)\n"
        "    except Exception:\n"
        "        spec = None\n"
        "    if spec is not None:\n"
        "        where = list(spec.submodule_search_locations or []) or [spec.origin or '']\n"
        "        found[name] = os.path.realpath(where[0])\n"
        "print(json.dumps(found))\n"
    )
    out = subprocess.run([python, "-I", "-c", probe, *names], capture_output=True, text=True, timeout=120,
                         env=worker_env("/tmp"))
    try:
        return json.loads(out.stdout) if out.returncode == 0 else {}
    except ValueError:
        return {}


def under(path: str, folders) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def system_library_folders(multiarch: str) -> list[str]:
    """Folders of the system's shared libraries (libc, libm, libz, OpenBLAS...): never /usr itself."""
    found = []
    for top in ("/lib", "/usr/lib"):
        folder = os.path.join(top, multiarch) if multiarch else ""
        if folder and os.path.isdir(folder) and not os.path.islink(top):
            found.append(folder)
    for folder in ("/lib64", "/usr/lib64", "/lib32", "/libx32"):
        if os.path.isdir(folder) and not os.path.islink(folder):
            found.append(folder)
    return found
