"""The reference, plus the worker's import ban switched off, then packages the grader has imported.

The ban is bookkeeping inside the worker: the Bookkeeping object (found
with gc) has its `banned` emptied. Then it imports what is installed beside
NumPy in the grader's own environment (pytest, yaml, matplotlib), also
after adding that environment's site-packages to sys.path, and a banned
module. None of them may import: in the namespace sandbox they are not
there at all. Each attempt prints IMPORTED-<name> or MISSING-<name>, and
the banned one says whether the ban still refused it.
"""
# ==== HOSTILE ====
import gc as _gc
import glob as _glob
import sys as _sys

for _obj in _gc.get_objects():
    if type(_obj).__name__ == "Bookkeeping":
        _obj.banned = ()
        print("BAN-EMPTIED")

_sys.path += _glob.glob("@SITE@") + _glob.glob("@KIT@/.venv/lib/python3*/site-packages")
for _name in ("pytest", "yaml", "matplotlib", "_pytest", "pluggy", "scipy.signal"):
    try:
        __import__(_name)
        print(f"IMPORTED-{_name}")
    except ImportError as _exc:
        print(f"MISSING-{_name} {'refused' if 'not allowed' in str(_exc) else 'absent'}")
