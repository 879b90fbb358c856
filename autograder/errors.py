"""Errors shared by the command line and the integrations (below both, so neither imports the other)."""


class UsageError(Exception):
    """Bad arguments; the message is shown as one line and the exit code is 2."""
