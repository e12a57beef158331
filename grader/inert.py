"""Text a submission produced, made inert before anyone sees it.

Everything that comes from student code (printed output, exception messages and
type names, values in feedback, file and folder names) goes through `visible`
once, where the report model is built (results.py) and where notices are printed
(cli.py): a terminal, a JSON or an XML reader then gets only printable text.
`for_html` adds escaping for places that render HTML or Markdown (nbgrader's
gradebook comments).
"""

from __future__ import annotations

import html
import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ufffe\uffff\ud800-\udfff]")
"""C0 but tab and newline, DEL, C1 (every ESC, CSI and OSC sequence starts with one of these),
bidirectional overrides and line separators that reorder or break what a reader sees, the two
non-characters XML 1.0 forbids, and lone surrogates (not text at all)."""
_MARKDOWN = re.compile(r"[\\`*_\[\]{}()#+\-!|~=]")
"""What starts a heading (also a line of = or - under text), emphasis, code, a link or image,
a table, or escapes one of those: each gets a backslash, which Markdown shows as the character."""


def _show(match: re.Match[str]) -> str:
    ch = match.group()
    if "\ud800" <= ch <= "\udfff":
        return "\ufffd"
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character shown as its escape (`\\x1b[2J` prints as those five
    characters, clearing nothing); Windows line ends become newlines. Idempotent."""
    return _UNSAFE.sub(_show, text.replace("\r\n", "\n"))


def for_html(text: str) -> str:
    """`visible(text)` that Markdown (and the HTML it may hold) renders as it is: no tags, no
    entities, no headings, links or emphasis."""
    return html.escape(_MARKDOWN.sub(r"\\\g<0>", visible(text)), quote=True)
