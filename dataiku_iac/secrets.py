"""Recognising and masking secret values: they never reach state, plans, logs or screens."""

from __future__ import annotations

import hashlib
import re
from typing import Any

_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|private_?key|credential)", re.IGNORECASE)
MASK = "(sensitive)"


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


FINGERPRINT = "sha256:"


def fingerprint(value: Any) -> str:
    """A short hash: enough to tell "changed" from "same" without keeping the value."""
    if isinstance(value, str) and value.startswith(FINGERPRINT) and len(value) == len(FINGERPRINT) + 16:
        return value  # already a fingerprint: scrubbing twice changes nothing
    return FINGERPRINT + hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def _replace_secrets(value: Any, by: Any) -> Any:
    if isinstance(value, dict):
        return {k: (by(v) if is_secret_key(str(k)) and v not in (None, "") else _replace_secrets(v, by))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secrets(v, by) for v in value]
    return value


def scrub(value: Any) -> Any:
    """A copy where every value under a secret-looking key is replaced by its fingerprint (for state)."""
    return _replace_secrets(value, fingerprint)


def mask(value: Any) -> Any:
    """A copy where every value under a secret-looking key reads `(sensitive)` (for plans and screens)."""
    return _replace_secrets(value, lambda v: MASK)
