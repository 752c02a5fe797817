"""Plans as Markdown, for pull-request comments: a summary table, then one folded diff per resource."""

from __future__ import annotations

from .model import ActionType, Plan
from .render_text import action_block, field_lines

_ICON = {ActionType.CREATE: "🆕 create", ActionType.UPDATE: "✏️ update", ActionType.DELETE: "🗑️ destroy",
         ActionType.REPLACE: "♻️ replace"}


def render_markdown(plan: Plan) -> str:
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
            out += [f"<details><summary><code>{a.symbol} {a.address}</code></summary>", "", "```diff"]
            out += [line[2:] if line.startswith("  ") else line for line in action_block(a)[1:]]
            out += ["```", "", "</details>"]
    if plan.drifted:
        out += ["", f"⚠️ **{len(plan.drifted)} resource(s) changed outside dss-iac since the last apply:**", ""]
        for a in plan.drifted:
            out += [f"<details><summary><code>{a.address}</code></summary>", "", "```diff"]
            out += [line.strip() for line in field_lines(a.drift, "~")]
            out += ["```", "", "</details>"]
    out += ["", f"<sub>state serial {plan.state_serial}, config {plan.config_digest[:12]}</sub>"]
    return "\n".join(out) + "\n"
