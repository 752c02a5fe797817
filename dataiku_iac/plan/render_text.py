"""Plans as text, in Terraform's style: `+ ~ - -/+` blocks, unchanged fields collapsed, drift apart."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from .._text import brief, printable
from ..resources.address import label
from .diff import FieldChange, is_item_list, item_changes
from .model import Action, ActionType, Plan, Unmanaged

_VERB = {
    ActionType.CREATE: "will be created",
    ActionType.UPDATE: "will be updated in place",
    ActionType.DELETE: "will be destroyed",
    ActionType.REPLACE: "must be replaced",
}
MAX_INLINE = 100


def fmt(value: Any, limit: int = MAX_INLINE) -> str:
    """A value as it reads in a plan: JSON, compact, truncated when long."""
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) <= limit:
        return text
    return text[: limit - 4] + " ..." + text[-1] if text[-1] in "]}" else text[: limit - 4] + " ..."


MAX_TEXT_LINES = 20


def is_text_change(c: FieldChange) -> bool:
    """A change of a text over several lines (a recipe's code): shown as a line diff."""
    return isinstance(c.before, str) and isinstance(c.after, str) and ("\n" in c.before or "\n" in c.after)


def text_diff(before: str, after: str) -> list[str]:
    """The changed lines of a text with one line of context, unified-diff style (without file headers)."""
    return list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1))[2:]


def _value_lines(value: Any, indent: str) -> list[str] | None:
    """A long value spread over lines (text, or a list of items), or None when it fits on one."""
    if isinstance(value, str) and "\n" in value:
        text = value.splitlines()
        shown = [f"{indent}    {line}".rstrip() for line in text[:MAX_TEXT_LINES]]
        if len(text) > MAX_TEXT_LINES:
            shown.append(f"{indent}    ... ({len(text) - MAX_TEXT_LINES} more lines)")
        return ["<<EOT", *shown, f"{indent}  EOT"]
    if isinstance(value, list) and len(fmt(value)) >= MAX_INLINE:
        return ["[", *(f"{indent}    {fmt(item, 2 * MAX_INLINE)}," for item in value), f"{indent}  ]"]
    return None


def changed_items(before: list[Any], after: list[Any], context: int = 1) -> list[tuple[str, str]]:
    """A list change item by item, as (mark, text): "-" removed, "+" added, " " kept nearby, and "#" for a run
    of unchanged items left out. For lists too long to read inline on both sides of an arrow."""
    a = [fmt(item, 2 * MAX_INLINE) for item in before]
    b = [fmt(item, 2 * MAX_INLINE) for item in after]
    out: list[tuple[str, str]] = []
    for group in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_grouped_opcodes(context):
        if out or group[0][1] > 0:
            out.append(("#", "unchanged items hidden"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend((" ", text) for text in a[i1:i2])
                continue
            out.extend(("-", text) for text in a[i1:i2])
            out.extend(("+", text) for text in b[j1:j2])
    return out


def is_long_list_change(c: FieldChange) -> bool:
    """A change of a list too long to read inline: shown item by item."""
    return isinstance(c.before, list) and isinstance(c.after, list) and \
        max(len(fmt(c.before, 10**6)), len(fmt(c.after, 10**6))) > MAX_INLINE


def item_lines(before: list[Any], after: list[Any]) -> list[str]:
    """A change of a list of records, item by item: `+ [3] = ...` added, `- [1] = ...` removed, `~ [0] moved from
    [2]`, `~ [1].params.x = a -> b` changed in place."""
    out: list[str] = []
    for op in item_changes(before, after):
        if op["op"] == "moved":
            out.append(f"~ [{op['to']}] moved from [{op['from']}] = {fmt(op['value'])}")
        elif op["op"] == "changed":
            out.extend(f"~ [{op['at']}]{'.' if ch['path'] else ''}{ch['path']} = {fmt(ch['before'])} -> "
                       f"{fmt(ch['after'])}" for ch in op["changes"])
        else:
            sign = "+" if op["op"] == "added" else "-"
            out.append(f"{sign} [{op['at']}] = {fmt(op['value'])}")
    return out


def field_lines(changes: Iterable[FieldChange], symbol: str, *, forced: frozenset[str] = frozenset(),
                indent: str = "      ") -> list[str]:
    changes = list(changes)
    width = max((len(c.path) for c in changes), default=0)
    out: list[str] = []
    for c in changes:
        mark = symbol if symbol != "~" else ("+" if c.before is None else "-" if c.after is None else "~")
        note = "  # forces replacement" if c.path.split(".", 1)[0] in forced else ""
        if is_text_change(c):
            out.append(f"{indent}{mark} {c.path} = <<EOT{note}")
            out.extend(f"{indent}    {line}".rstrip() for line in text_diff(c.before, c.after))
            out.append(f"{indent}  EOT")
        elif symbol == "~" and is_item_list(c.before) and is_item_list(c.after):
            out.append(f"{indent}{mark} {c.path} = [{note}")
            out.extend(f"{indent}    {line}" for line in item_lines(c.before, c.after))
            out.append(f"{indent}  ]")
        elif symbol == "~" and is_long_list_change(c):
            out.append(f"{indent}{mark} {c.path} = [{note}")
            out.extend(f"{indent}    {m} {text}" + ("" if m == "#" else ",")
                       for m, text in changed_items(c.before, c.after))
            out.append(f"{indent}  ]")
        elif symbol in ("+", "-"):
            value = c.after if symbol == "+" else c.before
            spread = _value_lines(value, indent)
            if spread is None:
                out.append(f"{indent}{mark} {c.path.ljust(width)} = {fmt(value)}{note}")
            else:
                out.append(f"{indent}{mark} {c.path.ljust(width)} = {spread[0]}{note}")
                out.extend(spread[1:])
        else:
            out.append(f"{indent}{mark} {c.path.ljust(width)} = {fmt(c.before)} -> {fmt(c.after)}{note}")
    # Values come from the configuration and from DSS: drift, promotion and the terminal app show them too.
    return [printable(line, keep="\t") for line in out]


def _label(a: Action) -> str:
    return label(str(a.address))


def action_block(a: Action, forced: frozenset[str] = frozenset()) -> list[str]:
    why = f" ({a.reason})" if a.reason else ""
    verb = "will be forgotten" if a.forgotten_only else _VERB[a.action]
    lines = [f"  # {a.address} {verb}{why}"]
    sym = a.symbol
    pad = "" if sym == "-/+" else "  "
    if a.action is ActionType.DELETE and (a.with_project or not a.changes):
        lines.append(f"{pad}{sym} {_label(a)}")
        return lines
    lines.append(f"{pad}{sym} {_label(a)} {{")
    field_symbol = {"+": "+", "-": "-"}.get(sym, "~")
    lines.extend(field_lines(a.changes, field_symbol, forced=forced))
    for key, note in sorted(a.notes.items()):
        lines.append(f"        # {key}: {note}")
    if a.fields is not None and a.action in (ActionType.UPDATE, ActionType.REPLACE):
        changed = {c.path.split(".", 1)[0] for c in a.changes}
        hidden = len([k for k in a.fields if k not in changed])
        if hidden:
            lines.append(f"        ({hidden} unchanged field{'s' if hidden != 1 else ''} hidden)")
    lines.append("    }")
    return lines


def render_plan(plan: Plan, *, kinds_replace_on: dict[str, frozenset[str]] | None = None) -> str:
    # Names, values and code come from the configuration, which may be hostile: escape sequences in a
    # description or a code file must not rewrite the plan a reviewer reads in a terminal.
    return printable(_render_plan(plan, kinds_replace_on or {}), keep="\n\t")


def _render_plan(plan: Plan, forced_by_kind: dict[str, frozenset[str]]) -> str:
    out: list[str] = []
    drifted = plan.drifted
    if drifted:
        out.append("Note: objects have changed outside of dss-iac since the last apply:")
        out.append("")
        for a in drifted:
            out.append(f"  # {a.address} has changed")
            out.append(f"  ~ {_label(a)} {{")
            out.extend(field_lines(a.drift, "~"))
            out.append("    }")
            out.append("")
    changes = plan.changes
    if not changes:
        target = f" for {', '.join(plan.targets)}" if plan.targets else ""
        out.append(f"No changes. DSS matches the configuration in environment {plan.environment}{target}.")
        out.extend(_recorded_note(plan))
        out.extend(unmanaged_section(plan.unmanaged))
        return "\n".join(out) + "\n"
    verb = "destroy everything dss-iac manages" if plan.destroy else "perform these actions"
    out.append(f"dss-iac will {verb} in environment {plan.environment}:")
    legend = sorted({a.action for a in changes}, key=list(ActionType).index)
    out.append("  " + ", ".join(f"{_SYM[t]} {_WORD[t]}" for t in legend))
    out.append("")
    for a in changes:
        forced = forced_by_kind.get(a.kind, frozenset()) if a.action is ActionType.REPLACE else frozenset()
        out.extend(action_block(a, forced))
        out.append("")
    s = plan.summary()
    out.append(f"Plan: {s.add} to add, {s.change} to change, {s.destroy} to destroy.")
    out.extend(_recorded_note(plan))
    out.extend(unmanaged_section(plan.unmanaged))
    return "\n".join(out) + "\n"


def unmanaged_section(objects: Sequence[Unmanaged]) -> list[str]:
    """Objects of the configuration's projects that dss-iac does not manage, each project's with how to import
    them; empty when there are none."""
    if not objects:
        return []
    out = ["", f"Not managed: {len(objects)} object(s) in DSS are neither in the configuration nor in state "
               "(made by hand); dss-iac never deletes them:"]
    groups: dict[tuple[str, str], list[Unmanaged]] = {}
    for u in objects:
        groups.setdefault((u.project, u.hint), []).append(u)
    for (_, hint), group in groups.items():
        for u in group:
            out.append(f"  ? {u.address}" + (f" (id {u.remote_id})" if u.remote_id.lower() != u.name.lower() else ""))
        if group[0].import_command:
            out.append(f"      # to manage {'it' if len(group) == 1 else 'them'}: {hint}")
        elif hint:
            out.append(f"      # {hint}")
    return out


def _recorded_note(plan: Plan) -> list[str]:
    found = [str(a.address) for a in plan.to_record]
    if not found:
        return []
    return [f"{len(found)} resource(s) already in DSS as configured but not in state ({brief(found)}): "
            "apply records them, without calling DSS."]


_SYM = {ActionType.CREATE: "+", ActionType.UPDATE: "~", ActionType.DELETE: "-", ActionType.REPLACE: "-/+"}
_WORD = {ActionType.CREATE: "create", ActionType.UPDATE: "update in place", ActionType.DELETE: "destroy",
         ActionType.REPLACE: "destroy and then create replacement"}
