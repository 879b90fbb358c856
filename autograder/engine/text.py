"""Text a submission chose, made inert for every place an instructor or student reads it.

Student code decides the text of its exceptions, its printed output, its class
names, and a submission decides its file and zip entry names. Shown raw, such
text moves a terminal's cursor and rewrites other rows (ESC, CR), reorders what
is read (bidirectional overrides), breaks a CSV row or an XML file (NUL), or
makes a writer raise (a lone surrogate). `inert` shows each such character as
an escape a reader can see (`\\x1b`, `\\u202e`, `\\udc80`), and leaves every
other character as it is. It is applied once where student data enters the
grader (wire.clean) and again by every writer (the terminal, CSV, JUnit,
Markdown): applying it twice changes nothing, since its output holds no
character it escapes.

The Markdown helpers put such text in code spans and fenced blocks, where no
heading, link, image or HTML of the student's is rendered.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates, the Unicode line and
# paragraph separators, and the bidirectional marks, embeddings, overrides and isolates.
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
_KEEP_LINES = re.compile(f"[{_UNSAFE}]")
_ONE_LINE = re.compile(f"[{_UNSAFE}\t\n]")
_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text, *, one_line: bool = False) -> str:
    """`text` (any object, as str) with every control character shown as an escape.

    Tabs and newlines are kept, unless `one_line` (a table row, a CSV cell, a
    terminal line), where they are escaped too.
    """
    text = text if isinstance(text, str) else str(text)
    return (_ONE_LINE if one_line else _KEEP_LINES).sub(_escape, text)


def md_code(text) -> str:
    """Student text as one Markdown code span: shown verbatim, on one line, never rendered."""
    body = inert(text, one_line=True)
    fence = "`" * (_longest_run(body, "`") + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or not body.strip() else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def md_block(text) -> list[str]:
    """Student text as a fenced Markdown block (its lines), shown verbatim and never rendered."""
    body = inert(text)
    fence = "`" * max(3, _longest_run(body, "`") + 1)
    return [fence + "text", *body.splitlines(), fence]


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(r) for r in runs), default=0)
