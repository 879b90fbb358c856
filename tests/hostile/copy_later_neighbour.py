"""The reference, plus a look at a classmate's file that the batch will only check later.

Graded first, at the unprivileged-user level, from a private file, it
reads @SUBS@/zz_victim.py (readable by others, which the batch must refuse
before any student code runs) and prints NEIGHBOUR-READ if it could.
"""
# ==== HOSTILE ====
try:
    with open("@SUBS@/zz_victim.py") as _f:
        if "def conv2d_forward" in _f.read():
            print("NEIGHBOUR-READ")
except OSError:
    print("NEIGHBOUR-HIDDEN")
