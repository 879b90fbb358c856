import os
import sys

# `python -m` puts the current folder first on sys.path. Outside a namespace sandbox
# student code may write to folders (a shared /tmp); a module planted where the grader
# happens to run must never be imported by the trusted process.
_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd()) or os.path.abspath(p or ".") == _here]

# The arguments first, and the sandbox probe of a command that grades (commands.py is light):
# its worker starts in its own process while cli.py imports the integrations and the grader.
from .commands import parser, start_early  # noqa: E402

args = parser().parse_args()
try:
    start_early(args)
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    os._exit(130)

from .cli import run  # noqa: E402

code = run(args)
# Workers that outlived their use (a spare never needed) are ended and their folders removed:
# os._exit below runs no clean-up of its own.
from .engine import sandbox  # noqa: E402

sandbox.shutdown()
# Everything is written and closed by now: skip the interpreter's teardown of
# NumPy's and pytest's modules, which costs a noticeable share of a
# one-submission grade.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
