"""A sandboxed, tamper-proof autograder for NumPy programming assignments.

Floors, lowest first; a module imports only from its floor and those below (tests/test_layers.py):
- assignment.py, errors.py, course_secret.py: an assignment's configuration, the errors the
  CLI and integrations share, the course's secret.
- engine/: grading, knowing nothing of CNNs. engine/api.py is its one public surface.
- suite.py (what a hidden check is, for suites/<assignment>/) and build.py (makes solutions/,
  student_template/ and, on demand, the bundled examples from assignments/).
- suites/: the hidden checks of each assignment.
- integrations/: where courses grade (Gradescope, LMS exports, CI, reports, similarity).
- cli.py: the `python -m autograder` commands, a few lines each over engine/api.py.
"""

__version__ = "0.1.0"
