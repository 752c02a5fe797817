"""The resource the editor holds (form fields plus the YAML text area), read and checked as it is typed.

Problems come back as HTML list items, each pointing where it is: `line:col` in the text area, or the form field.
"""

from __future__ import annotations

from html import escape
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from dataiku_iac import KINDS, ConfigError, locate, parse_yaml, to_config_errors

from .forms import Form, FormError

EDITOR = "YAML"  # how validation messages name the text area


def at(e: ConfigError) -> str:
    """`line:col message`, pointing into the text area."""
    where = f"{e.position.line}:{e.position.col}" if e.position is not None else "1:1"
    return f"<code>{where}</code> {escape(e.message)}"


def read_draft(kind: str, text: str, form: Form, original: Any) -> tuple[Any, list[str]]:
    """The resource as the editor has it (keys in the file's order) and no problem, or None and the problems."""
    try:
        rest = parse_yaml(text, EDITOR) if text.strip() else None
    except ConfigError as e:  # dates and other values DSS cannot store included, located
        return None, [at(e)]
    problems: list[str] = []
    if KINDS[kind].keyed_by is not None:  # a list of entries
        value: Any = rest if rest is not None else []
    else:
        if rest is None:
            rest = {}
        if not isinstance(rest, dict):
            return None, [f"<code>1:1</code> expected keys and values (a mapping), not a {type(rest).__name__}"]
        for key in rest:
            if key in form.keys:
                pos = locate(text, EDITOR, [key], at_key=True)
                said = escape(f"'{key}' is edited in the form above: remove it here")
                problems.append(f"<code>{pos.line}:{pos.col}</code> {said}")
        try:
            value = {**rest, **form.values()}
        except FormError as e:
            problems.extend(f"<code>form</code> {escape(m)}" for m in e.messages)
            value = None
    if value is not None and not problems:
        problems.extend(_validate(kind, value, text, form.keys))
    if problems:
        return None, problems
    if isinstance(value, dict) and isinstance(original, dict):
        # Keys in the order the file has them, new keys after: what Save writes reads the same way.
        value = {**{k: value[k] for k in original if k in value}, **value}
    return value, []


def _validate(kind: str, value: Any, text: str, form_keys: tuple[str, ...]) -> list[str]:
    model = KINDS[kind].model
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            model.model_validate(value)
        else:
            TypeAdapter(model).validate_python(value)
    except ValidationError as e:
        out = []
        for err, located in zip(e.errors(), to_config_errors(e, model, text, EDITOR), strict=True):
            loc = [str(x) for x in err["loc"]]
            if loc and loc[0] in form_keys:
                out.append(f"<code>form: {escape('.'.join(loc))}</code> {escape(located.message)}")
            else:
                out.append(at(located))
        return out
    return []
