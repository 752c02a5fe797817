"""Turning pydantic validation errors into one-line `file:line:col: message` errors."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from .._text import shorten
from ..errors import ConfigError
from .yamlio import locate


def _unwrap(tp: Any) -> Any:
    """Strip Annotated/Optional wrappers down to the type that has the fields."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that validates the value at `loc` inside `model`, if it is a model."""
    tp: Any = model
    steps = list(loc)
    while steps:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            step = steps.pop(0)
            field = next((f for n, f in tp.model_fields.items() if n == step or f.alias == step), None)
            if field is None:
                return None
            tp = field.annotation
            continue
        origin = typing.get_origin(tp)
        if origin in (dict, list):
            steps.pop(0)
            tp = typing.get_args(tp)[-1]
            continue
        return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _message(err: dict[str, Any], root: type[BaseModel]) -> tuple[str, tuple[str | int, ...], bool]:
    """The message, where it points, and whether it points at the key rather than the value."""
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = model_at(root, loc[:-1])
        expected = f" (expected one of: {', '.join(_keys_of(parent))})" if parent else ""
        return f"unknown key '{loc[-1]}'{expected}", loc, True
    if kind == "missing":
        return f"missing required key '{loc[-1]}'", loc[:-1], False
    if "[key]" in loc:
        i = loc.index("[key]")
        name = str(loc[i - 1])
        if kind == "string_too_long":
            return (f"name '{shorten(name)}' is {len(name)} characters long: at most {err['ctx']['max_length']}",
                    loc[:i], True)
        return f"invalid name '{shorten(name)}': use only letters, digits and underscores", loc[:i], True
    msg = err["msg"]
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, "), loc, False
    got = err.get("input")
    shown = repr(shorten(got) if isinstance(got, str) else got) if isinstance(got, str | int | float | bool) \
        else type(got).__name__
    return f"invalid value {shown} for '{loc[-1] if loc else 'document'}': {msg[0].lower()}{msg[1:]}", loc, False


def to_config_errors(exc: ValidationError, root: type[BaseModel], text: str, shown: str) -> list[ConfigError]:
    out = []
    for err in exc.errors():
        message, where, at_key = _message(dict(err), root)
        out.append(ConfigError(message, locate(text, shown, where, at_key=at_key)))
    return out
