"""Plans, drift reports and configuration errors as HTML, for notebooks (`_repr_html_`).

Plain HTML with inline styles and no JavaScript, so a notebook renders it the same in Jupyter, VS Code or a
static export. The lines are the text plan's lines (same `+ ~ -` layout, secrets already masked), coloured
by their change symbol; nothing here imports a notebook toolkit.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from ..secrets import MASK, redact
from .model import Plan
from .render_text import render_plan, unmanaged_section

if TYPE_CHECKING:
    from ..drift import DriftReport
    from ..errors import ConfigError

_COLOURS = {"+": "#22863a", "~": "#b08800", "-": "#cb2431", "-/+": "#6f42c1", "?": "#0366d6", "#": "#6a737d"}
_PRE = ("font-family: SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; line-height: 1.4; "
        "background: #f6f8fa; color: #24292e; padding: 8px 12px; border-radius: 4px; overflow-x: auto")


def _line(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith("-/+"):
        symbol = "-/+"
    elif stripped[:2] in ("+ ", "~ ", "- ", "? ") or stripped in ("+", "~", "-"):
        symbol = stripped[0]
    elif stripped.startswith("#"):
        symbol = "#"
    else:
        return escape(line)
    weight = "; font-weight: bold" if symbol != "#" and line.startswith(("  + ", "  ~ ", "  - ", "-/+", "  ? ")) else ""
    return f'<span style="color: {_COLOURS[symbol]}{weight}">{escape(line)}</span>'


def _pre(lines: list[str]) -> str:
    return f'<pre style="{_PRE}">' + "\n".join(_line(line) for line in lines) + "</pre>"


def plan_html(plan: Plan) -> str:
    """The plan as a coloured diff: a summary line, then one block per change (drift first, as in text)."""
    s = plan.summary()
    env = escape(plan.environment)
    if not plan.changes:
        head = f"<b>No changes.</b> DSS matches the configuration in environment <code>{env}</code>."
    else:
        counts = [(s.add, "to add", "+"), (s.change, "to change", "~"), (s.destroy, "to destroy", "-")]
        shown = ", ".join(f'<span style="color: {_COLOURS[sym]}">{n} {what}</span>' for n, what, sym in counts)
        head = f"<b>Plan for environment <code>{env}</code>:</b> {shown}."
    body = render_plan(plan).rstrip("\n").splitlines()
    if not plan.changes and not plan.drifted:
        body = unmanaged_section(plan.unmanaged)[1:]
    masked = [line for line in body if MASK in line]
    note = f' <span style="color: #6a737d">({len(masked)} sensitive value(s) masked)</span>' if masked else ""
    return f'<div class="dss-iac-plan"><p>{head}{note}</p>{_pre(body) if body else ""}</div>'


def drift_html(report: DriftReport) -> str:
    env = escape(report.environment)
    if not report.has_drift:
        return (f'<div class="dss-iac-drift"><p><b>No drift:</b> the {report.checked} resources of environment '
                f"<code>{env}</code> are as dss-iac last applied them.</p></div>")
    lines = report.lines()
    head = f"<b>Drift in environment <code>{env}</code>:</b> {escape(report.summary())}."
    return f'<div class="dss-iac-drift"><p>{head}</p>{_pre(lines)}</div>'


def error_html(error: ConfigError) -> str:
    """Each error on its own line, its `file:line:col` first."""
    items = getattr(error, "errors", None) or [error]
    rows = []
    for e in items:
        where = str(e.position) if e.position is not None else (e.file or "")
        loc = f"<code>{escape(where)}</code>: " if where else ""
        rows.append(f"<li>{loc}{escape(redact(e.message))}</li>")
    title = "Invalid configuration" if len(items) == 1 else f"Invalid configuration ({len(items)} problems)"
    return (f'<div class="dss-iac-error" style="color: #cb2431"><b>{title}</b>'
            f'<ul style="margin: 4px 0">{"".join(rows)}</ul></div>')

