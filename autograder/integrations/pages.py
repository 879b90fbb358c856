"""The kit's HTML pages, rendered from the Jinja2 templates in templates/.

Every page extends templates/base.html (the document, its Content-Security-Policy, its
style and script blocks): the class report (report.html, with charts.html's SVG charts),
the similarity views (similarity_view.html), and the grading service's pages to come.

Student text is never trusted. Autoescape escapes every value a template prints, in
content and in attributes, and `finalize` shows its control characters as escapes first
(engine/text.py's `inert`), so a name, a message or a line of code can neither add markup
nor reorder or hide what is around it. Only `Markup` values (HTML the kit built itself,
such as copydetect's escaped, highlighted code) are printed as they are.
"""

from __future__ import annotations

import base64
import hashlib

import jinja2
from markupsafe import Markup

from ..engine.text import inert


def _finalize(value):
    """Every printed value as inert text; the kit's own markup (Markup) as it is."""
    return value if isinstance(value, Markup) else inert(value)


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("autograder.integrations", "templates"),
    autoescape=True,
    finalize=_finalize,
    # A misspelt name fails the render instead of printing nothing.
    undefined=jinja2.StrictUndefined,
    # Block tags on lines of their own leave no blank lines or indentation in the page.
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render(template: str, **context) -> str:
    """The page `template` (a file of templates/) with `context`."""
    return ENV.get_template(template).render(**context)


def script(template: str) -> tuple[Markup, str]:
    """(the script rendered from `template`, the base64 of its SHA-256): a page's CSP allows
    that script by its hash ('sha256-...') and no other."""
    text = ENV.get_template(template).render()
    return Markup(text), base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
