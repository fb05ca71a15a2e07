"""Make names read from a model safe to print.

Node, signature, variable and file names come from untrusted files.  Printed
raw, a name could carry terminal escape sequences (move the cursor, rewrite
the screen, set the window title) or fake line breaks.  Every control
character and every bidirectional-override character is shown as a Python
escape instead; ordinary text, including non-ASCII letters, is unchanged.
"""

from __future__ import annotations

import re

__all__ = ["escape", "escape_text"]

# C0 controls, DEL, C1 controls, and the Unicode bidi controls used in
# "Trojan Source" tricks; lone surrogates stand for undecodable bytes.
_SPECIAL = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f{_SPECIAL}]")
# Same but keeping newline and tab, for multi-line messages we wrote ourselves.
_UNSAFE_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f{_SPECIAL}]")


def _replace(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not valid UTF-8
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}")
    return f"\\u{code:04x}"


def escape(name: str | bytes) -> str:
    """Escape one name for display (bytes are decoded as UTF-8, bad bytes as ``\\xNN``)."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "surrogateescape")
    return _UNSAFE.sub(_replace, name)


def escape_text(text: str) -> str:
    """Escape a message, keeping its own newlines and tabs."""
    return _UNSAFE_TEXT.sub(_replace, text)
