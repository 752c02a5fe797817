"""The workbench's short HTML messages: done (green), to know (amber), refused (red), and the Git diff."""

from __future__ import annotations

from html import escape

from dataiku_iac import redact


def ok(text: str) -> str:
    return f'<span style="color: #22863a">{escape(text)}</span>'


def warn(text: str) -> str:
    return f'<span style="color: #b08800">{escape(text)}</span>'


def bad(lines: list[str], title: str = "Not valid, nothing written") -> str:
    """A refusal: a title and one line each (HTML already escaped)."""
    items = "".join(f"<li>{redact(line)}</li>" for line in lines)  # no value read from the environment
    return f'<div style="color: #cb2431"><b>{escape(title)}</b><ul style="margin: 2px 0">{items}</ul></div>'


def diff_html(text: str) -> str:
    colours = {"+": "#22863a", "-": "#cb2431", "@": "#6f42c1"}
    lines = []
    for line in text.splitlines():
        colour = None if line.startswith(("+++", "---")) else colours.get(line[:1])
        shown = escape(line)
        lines.append(f'<span style="color: {colour}">{shown}</span>' if colour else shown)
    return ('<pre style="font-family: monospace; font-size: 12px; background: #f6f8fa; padding: 8px 12px">'
            + "\n".join(lines) + "</pre>")
