"""A flow as SVG: datasets as boxes, managed folders as boxes with a tab, recipes as pills, filled by the plan's
action on them, framed in their zone's colour, edges left to right. Self-contained: no script, no external
font or style, so it shows the same in a notebook, a browser or an image viewer."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from .flow import Flow, FlowNode
from .model import ActionType

W, H = 176, 40  # a node
GAP_X, GAP_Y = 52, 16
MARGIN, TOP, LEGEND = 12, 30, 26
CHAR = 6.8  # average width of a 12px sans-serif character, to cut long names

FILL = {ActionType.CREATE: "#dcffe4", ActionType.UPDATE: "#fff5b1", ActionType.DELETE: "#ffdce0",
        ActionType.REPLACE: "#f1e5ff", ActionType.NOOP: "#ffffff", None: "#f6f8fa"}
WORD = {ActionType.CREATE: "create", ActionType.UPDATE: "update", ActionType.DELETE: "delete",
        ActionType.REPLACE: "replace", ActionType.NOOP: "unchanged"}
KIND_WORD = {"dataset": "dataset", "managed_folder": "managed folder", "recipe": "recipe"}
PLAIN_STROKE = "#586069"


def _x(column: float) -> float:
    return MARGIN + column * (W + GAP_X)


def _y(row: float) -> float:
    return TOP + row * (H + GAP_Y)


def _cut(text: str, room: float) -> str:
    fits = max(int(room / CHAR), 3)
    return text if len(text) <= fits else text[: fits - 1] + "…"


def flow_svg(flow: Flow) -> str:
    placed = flow.layout()
    width = max(_x(placed.columns) - GAP_X + MARGIN, 320)
    height = _y(placed.rows) - GAP_Y + LEGEND + MARGIN
    where = f" in {flow.environment}" if flow.environment else ""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="dss-iac-flow" width="{width:.0f}" '
             f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" '
             f'font-size="12">',
             '<defs><marker id="dss-iac-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6a737d"/>'
             '</marker></defs>',
             f'<text x="{MARGIN}" y="18" font-weight="bold">Flow of {escape(flow.project)}{escape(where)}</text>']
    if not flow.nodes:
        parts.append(f'<text x="{MARGIN}" y="{TOP + 16}" fill="#6a737d">no datasets, folders or recipes</text>')
    for a, b in flow.edges:
        points = [(_x(placed.column[a]) + W, _y(placed.row[a]) + H / 2)]
        for c, r in placed.bends.get((a, b), []):  # straight across the columns it passes
            points += [(_x(c), _y(r) + H / 2), (_x(c) + W, _y(r) + H / 2)]
        points.append((_x(placed.column[b]), _y(placed.row[b]) + H / 2))
        parts.append(f'<path class="edge" d="{_curve(points)}" fill="none" stroke="#6a737d" stroke-width="1.3" '
                     'marker-end="url(#dss-iac-arrow)"/>')
    for n in flow.nodes:
        parts.append(_node(n, _x(placed.column[n.id]), _y(placed.row[n.id]), flow.zones))
    parts.append(_legend(flow, height - LEGEND + 4))
    parts.append("</svg>")
    return "\n".join(parts)


def _curve(points: list[tuple[float, float]]) -> str:
    """Horizontal S-curves through the points."""
    (x0, y0), rest = points[0], points[1:]
    d = f"M {x0:.1f} {y0:.1f}"
    for x1, y1 in rest:
        mid = (x0 + x1) / 2
        d += f" C {mid:.1f} {y0:.1f} {mid:.1f} {y1:.1f} {x1:.1f} {y1:.1f}"
        x0, y0 = x1, y1
    return d


def _node(n: FlowNode, x: float, y: float, zones: Mapping[str, str]) -> str:
    colour = zones.get(n.zone, PLAIN_STROKE) if n.zone else PLAIN_STROKE
    stroke = f'stroke="{colour}" stroke-width="{3 if n.zone else 1}"'
    if n.foreign:
        stroke += ' stroke-dasharray="4 3"'
    fill = FILL[n.action]
    if n.kind == "recipe":
        shape = f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="{H / 2}" fill="{fill}" {stroke}/>'
    elif n.kind == "managed_folder":
        shape = (f'<path d="M {x} {y + 6} h 40 l 6 -6 h {W - 46} v {H} h {-W} z" fill="{fill}" {stroke}/>')
    else:
        shape = f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="3" fill="{fill}" {stroke}/>'
    action = WORD.get(n.action, "") if n.action is not None else ""
    tip = " ".join(p for p in (KIND_WORD[n.kind], n.name, f"in zone {n.zone}" if n.zone else "") if p)
    tip += (f": {action}" if action else "") + (f" ({n.reason})" if n.reason else "")
    title = f"{n.symbol} {n.name}" if n.symbol else n.name
    sub = n.detail
    classes = " ".join(p for p in ("node", n.kind, action) if p)
    strike = ' text-decoration="line-through"' if n.action is ActionType.DELETE else ""
    return (f'<g class="{classes}" data-id="{escape(n.id)}"><title>{escape(tip)}</title>{shape}'
            f'<text x="{x + 10}" y="{y + 17}" font-weight="bold"{strike}>{escape(_cut(title, W - 16))}</text>'
            f'<text x="{x + 10}" y="{y + 32}" font-size="10" fill="#586069">{escape(_cut(sub, (W - 16) * 1.2))}'
            "</text></g>")


def _legend(flow: Flow, y: float) -> str:
    items: list[str] = []
    x = float(MARGIN)
    used = [t for t in (*WORD, None) if any(n.action is t for n in flow.nodes)] if flow.environment else []
    for t in used:
        word = WORD.get(t, "not in the plan") if t is not None else "not in the plan"
        items.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{FILL[t]}" stroke="{PLAIN_STROKE}"/>'
                     f'<text x="{x + 16}" y="{y + 10}" font-size="11">{escape(word)}</text>')
        x += 28 + CHAR * len(word)
    for zone, colour in flow.zones.items():
        items.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="none" stroke="{escape(colour)}" '
                     f'stroke-width="3"/><text x="{x + 16}" y="{y + 10}" font-size="11">zone {escape(zone)}</text>')
        x += 34 + CHAR * (len(zone) + 5)
    return f'<g class="legend">{"".join(items)}</g>'
