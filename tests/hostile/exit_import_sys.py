"""Raises SystemExit(0) while being imported."""
# ==== HOSTILE ====
import sys

sys.exit(0)
