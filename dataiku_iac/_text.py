"""Short lists and values in one-line messages."""

from __future__ import annotations

from collections.abc import Sequence


def brief(items: Sequence[str], limit: int = 3) -> str:
    """The first `limit` items, then how many more: `a, b, c and 4 more`."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def shorten(text: str, limit: int = 40) -> str:
    """`text`, or its start and end around `...` when longer than `limit` (a 2,000-character key in an error)."""
    return text if len(text) <= limit else f"{text[:limit - 10]}...{text[-6:]}"
