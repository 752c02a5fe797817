"""Short lists in one-line messages."""

from __future__ import annotations

from collections.abc import Sequence


def brief(items: Sequence[str], limit: int = 3) -> str:
    """The first `limit` items, then how many more: `a, b, c and 4 more`."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
