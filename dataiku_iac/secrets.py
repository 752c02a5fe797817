"""Recognising and masking secret values: they never reach state, plans, logs or screens."""

from __future__ import annotations

import hashlib
import re
from typing import Any

_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|private_?key|credential)", re.IGNORECASE)
MASK = "(sensitive)"


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def fingerprint(value: Any) -> str:
    """A salted-free short hash: enough to tell "changed" from "same" without keeping the value."""
    return "sha256:" + hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def scrub(value: Any) -> Any:
    """A copy where every value under a secret-looking key is replaced by its fingerprint."""
    if isinstance(value, dict):
        return {k: (fingerprint(v) if is_secret_key(str(k)) and v not in (None, "") else scrub(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value
