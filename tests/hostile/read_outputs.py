"""The reference, plus a look into the batch's output folder (@OUT@) for a classmate's results.

Graded after a classmate, at the unprivileged-user level, it prints
OUT-FOUND <path> for every results.json or feedback.md it can read there,
else OUT-HIDDEN.
"""
# ==== HOSTILE ====
import glob as _glob

_seen = []
for _path in _glob.glob("@OUT@/*/results.json") + _glob.glob("@OUT@/*/feedback.md") + _glob.glob("@OUT@/grades.csv"):
    try:
        with open(_path) as _f:
            _f.read(100)
        _seen.append(_path)
    except OSError:
        pass
print(*(f"OUT-FOUND {p}" for p in _seen), sep="\n") if _seen else print("OUT-HIDDEN")
