"""Bringing the engine to where courses grade: Gradescope, LMS exports, CI, reports.

Each module uses the engine's public pieces (Grader, grade_batch, Grade) and
adds nothing to how a grade is decided, so every place gives the same grades.
"""
