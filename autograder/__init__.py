"""A sandboxed, tamper-proof autograder for NumPy programming assignments.

Folders, in the order a newcomer needs them:
- assignment.py: reads assignments/<name>/assignment.toml.
- build.py: makes solutions/ and student_template/ from assignments/.
- cli.py: the `python -m autograder` commands.
"""

__version__ = "0.1.0"
