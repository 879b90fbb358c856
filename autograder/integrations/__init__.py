"""Bringing the engine to where courses grade: Gradescope, LMS exports, CI, reports.

Each module grades through the engine's API (engine/api.py) and reads its typed
results (engine/results.py); none adds to how a grade is decided, so every place
gives the same grades. Gradescope's results.json format lives here (gradescope.py).
"""
