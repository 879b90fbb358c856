"""Ends the process with status 0 while being imported, as if all went well."""
# ==== HOSTILE ====
import os

os._exit(0)
