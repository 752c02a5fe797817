"""Plans as Markdown, for pull-request comments: a summary table, then one folded diff per resource."""

from __future__ import annotations

import re

from .._text import printable
from .diff import FieldChange
from .model import Action, ActionType, Plan
from .render_text import changed_items, fmt, is_long_list_change, is_text_change, text_diff

_ICON = {ActionType.CREATE: "🆕 create", ActionType.UPDATE: "✏️ update", ActionType.DELETE: "🗑️ destroy",
         ActionType.REPLACE: "♻️ replace"}


def render_markdown(plan: Plan) -> str:
    # What the configuration holds (code, descriptions) may be hostile: it neither leaves its code block nor
    # sends control characters to whoever reads the comment in a terminal.
    return printable(_render(plan), keep="\n\t")


def _render(plan: Plan) -> str:
    s = plan.summary()
    out = [f"### dss-iac plan: `{plan.environment}`", ""]
    if not plan.changes:
        out.append(f"No changes. DSS matches the configuration in environment `{plan.environment}`.")
    else:
        out.append(f"**Plan: {s.add} to add, {s.change} to change, {s.destroy} to destroy.**")
        out += ["", "| | resource | why |", "|---|---|---|"]
        for a in plan.changes:
            out.append(f"| {_ICON[a.action]} | `{a.address}` | {a.reason} |")
        out.append("")
        for a in plan.changes:
            out += [f"<details><summary><code>{a.symbol} {a.address}</code></summary>", ""]
            out += _fenced(_diff_lines(a.changes) + _notes(a))
            out += ["", "</details>"]
    if plan.drifted:
        out += ["", f"⚠️ **{len(plan.drifted)} resource(s) changed outside dss-iac since the last apply:**", ""]
        for a in plan.drifted:
            out += [f"<details><summary><code>{a.address}</code></summary>", ""]
            out += _fenced(_diff_lines(a.drift))
            out += ["", "</details>"]
    if plan.unmanaged:
        out += ["", f"🔎 **{len(plan.unmanaged)} object(s) in DSS not managed by dss-iac** (neither in the "
                    "configuration nor in state: made by hand; never deleted):", ""]
        for u in plan.unmanaged:
            how = f"import: `{u.import_command}`" if u.import_command else u.hint
            out.append(f"- `{u.address}`" + (f" — {how}" if how else ""))
    out += ["", f"<sub>state serial {plan.state_serial}, config {plan.config_digest[:12]}</sub>"]
    return "\n".join(out) + "\n"


def _fenced(lines: list[str]) -> list[str]:
    """A ```diff block whose fence is longer than any run of backticks inside it: code holding ``` cannot close
    it early and have the rest of the comment read as Markdown of its own."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}diff", *lines, fence]


def _diff_lines(changes: tuple[FieldChange, ...]) -> list[str]:
    """Each field as `-` before and `+` after, so a pull-request's diff colouring reads it right."""
    lines: list[str] = []
    for c in changes:
        if is_text_change(c):
            lines += [f"  {c.path}:", *text_diff(c.before, c.after)]
            continue
        if is_long_list_change(c):
            lines += [f"  {c.path}:", *(f"{m} {text}" for m, text in changed_items(c.before, c.after))]
            continue
        if c.before is not None:
            lines.append(f"- {c.path} = {fmt(c.before)}")
        if c.after is not None:
            lines.append(f"+ {c.path} = {fmt(c.after)}")
    return lines


def _notes(a: Action) -> list[str]:
    return [f"# {key}: {note}" for key, note in sorted(a.notes.items())]
