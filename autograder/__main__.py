import os
import sys

from .cli import main

code = main()
# Everything is written and closed by now: skip the interpreter's teardown of
# NumPy, pytest and matplotlib's modules, which costs a noticeable share of a
# one-submission grade.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
