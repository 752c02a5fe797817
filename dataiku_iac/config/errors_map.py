"""Turning pydantic validation errors into one-line `file:line:col: message` errors."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Tag, ValidationError

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


def _tagged(tp: Any, tag: str | int) -> type[BaseModel] | None:
    """The member of a tagged union (`type` is its tag: a scenario's triggers) that `tag` names, if any."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    for member in typing.get_args(tp):
        if typing.get_origin(member) is typing.Annotated:  # a member named by a callable discriminator's Tag
            member, *meta = typing.get_args(member)
            if any(isinstance(m, Tag) and m.tag == tag for m in meta):
                return member if isinstance(member, type) and issubclass(member, BaseModel) else None
        field = member.model_fields.get("type") if isinstance(member, type) and issubclass(member, BaseModel) else None
        if field is not None and typing.get_origin(field.annotation) is typing.Literal \
                and tag in typing.get_args(field.annotation):
            return member
    return None


def without_tags(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """`loc` without the steps pydantic adds for a tagged union's member (`triggers.0.temporal.hour` ->
    `triggers.0.hour`): what the file holds."""
    tp: Any = model
    out: list[str | int] = []
    for step in loc:
        tp = _unwrap(tp)
        member = _tagged(tp, step)
        if member is not None:
            tp = member
            continue
        out.append(step)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for n, f in tp.model_fields.items() if n == step or f.alias == step), None)
            tp = field.annotation if field is not None else None
        elif typing.get_origin(tp) in (dict, list):
            tp = typing.get_args(tp)[-1]
        else:
            tp = None
    return tuple(out)


def model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that validates the value at `loc` inside `model`, if it is a model."""
    tp: Any = model
    steps = list(loc)
    while steps:
        tp = _unwrap(tp)
        member = _tagged(tp, steps[0])
        if member is not None:
            tp = member
            steps.pop(0)
            continue
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


def _name_rule(err: dict[str, Any]) -> str:
    """What a name may hold, said as the kind whose pattern it missed says it (user logins allow `.` and `@`)."""
    from ..resources import registry

    pattern = err.get("ctx", {}).get("pattern")
    for kind in registry.instance_kinds():
        if pattern is not None and kind.name_pattern == pattern:
            return kind.name_help
    return "letters, digits and underscores"


def _message(err: dict[str, Any], root: type[BaseModel]) -> tuple[str, tuple[str | int, ...], bool]:
    """The message, where it points, and whether it points at the key rather than the value."""
    loc = without_tags(root, err["loc"])
    kind = err["type"]
    if kind == "union_tag_not_found":
        key = err.get("ctx", {}).get("discriminator", "type").strip(chr(39))
        return f"missing required key '{'type' if key.endswith('()') else key}'", loc, False  # a callable's: `type`
    if kind == "union_tag_invalid":
        expected = err.get("ctx", {}).get("expected_tags", "")
        return (f"unknown type {err['input'].get('type')!r} (expected one of: {str(expected).replace(chr(39), '')})",
                (*loc, "type"), False)
    if kind == "extra_forbidden":
        parent = model_at(root, tuple(err["loc"])[:-1])
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
        return f"invalid name '{shorten(name)}': use only {_name_rule(err)}", loc[:i], True
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
        out.append(ConfigError(message, locate(text, shown, where, at_key=at_key), loc=tuple(where)))
    return out
