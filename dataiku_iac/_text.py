"""Short lists and values in one-line messages."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Control characters (C0, DEL, C1), the line and paragraph separators str.splitlines breaks on, and the
# bidirectional marks and overrides that make text read in another order than it is stored.
_UNPRINTABLE = "\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"


def brief(items: Sequence[str], limit: int = 3) -> str:
    """The first `limit` items, then how many more: `a, b, c and 4 more`."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def shorten(text: str, limit: int = 40) -> str:
    """`text`, or its start and end around `...` when longer than `limit` (a 2,000-character key in an error)."""
    return text if len(text) <= limit else f"{text[:limit - 10]}...{text[-6:]}"


def printable(text: str, keep: str = "") -> str:
    """`text` with control and bidirectional characters written as escapes (`\\x1b`, `\\u202e`), but those in
    `keep`: what a configuration holds cannot move the cursor, recolour or reorder what a terminal shows."""
    pattern = _escapable(keep)
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _escapable(keep: str) -> re.Pattern[str]:
    if keep not in _PATTERNS:
        kept = "".join(re.escape(c) for c in keep)
        _PATTERNS[keep] = re.compile(f"(?![{kept}])[{_UNPRINTABLE}]" if keep else f"[{_UNPRINTABLE}]")
    return _PATTERNS[keep]
