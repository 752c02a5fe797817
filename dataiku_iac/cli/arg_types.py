"""Argument types shared by the commands: whole numbers and durations (`30s`, `5m`, `1h30m`, or seconds)."""

from __future__ import annotations

import argparse
import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_DURATION = re.compile(rf"(?:{_PART.pattern})+")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def duration(text: str) -> float:
    """Seconds, from a Terraform-style duration (`30s`, `5m`, `1h`, `1h30m`, `500ms`) or a plain number of
    seconds; 0 or more."""
    value = _seconds(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_duration(text: str) -> float:
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _seconds(text: str) -> float:
    cleaned = text.strip().lower()
    if _DURATION.fullmatch(cleaned):
        return sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(cleaned))
    try:
        value = float(cleaned)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a duration such as 30s, 5m or 1h (or a number of seconds), "
                                         f"got {text!r}")
    return value
