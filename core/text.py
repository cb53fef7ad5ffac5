"""User text at the boundary: control characters, lengths and e-mail headers.

- Control characters (NUL, vertical tab, form feed, the file/group/record separators, DEL,
  the C1 block…) are never typed by a person; they come from a paste, a script or an
  attack, and break PostgreSQL (NUL), e-mail headers (a vertical tab folds a header) and
  exports. Request data holding one is refused (``core.middleware.RequestHygieneMiddleware``);
  multi-line text keeps tab, line feed and carriage return.
- Single-line fields (a name, a hospital number) refuse line breaks too, including the
  ones only ``str.splitlines`` and e-mail headers know (U+2028, U+2029).
- Free text has a length: notes and reasons 2,000 characters.
- Headers of outgoing e-mail are built from ``header_safe`` text: whatever a row already
  holds, no header can be split or refused.

Pure Python, no Django.
"""

import re

NOTE_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 2000

# C0 controls but tab, line feed and carriage return; DEL; the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Everything that ends a line for str.splitlines() or an e-mail header, and every other
# control character.
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r" {2,}")


def control_character(text: str, *, single_line: bool = False) -> str | None:
    """The first control character in ``text`` (for a single line: also tab, CR, LF and
    the Unicode line separators), or None."""
    found = (_NOT_ONE_LINE if single_line else _CONTROL).search(text)
    return found.group() if found else None


def describe(char: str) -> str:
    """A control character as a person can read it: "U+000B"."""
    return f"U+{ord(char):04X}"


def header_safe(text: str) -> str:
    """Text for one e-mail header line: every control character and line separator
    becomes a space, runs of spaces one space."""
    return _SPACES.sub(" ", _NOT_ONE_LINE.sub(" ", str(text))).strip()


def too_long(text: str | None, max_length: int) -> bool:
    return text is not None and len(text) > max_length
