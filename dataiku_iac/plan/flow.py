"""A project's flow as a graph: its datasets, managed folders and recipes, joined by the recipes' inputs and
outputs, with their zones, and what a plan does to each. `Flow.svg()` draws it (notebooks, `ws.flow_svg`),
`Flow.lines()` writes it as text (the terminal app's project detail).

The layout is layered, left to right as in DSS: each node one column after the nodes it reads, columns ordered
to cross few edges (barycentres, a few sweeps). Flows are tens of nodes, so this small layout of our own does
the job without a graph library or Graphviz's `dot` binary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from ..resources.address import Address
from .model import SYMBOLS, ActionType, Plan

if TYPE_CHECKING:
    from ..config.loader import ProjectSource

FLOW_KINDS = ("dataset", "managed_folder", "recipe")
SWEEPS = 4  # barycentre passes (down then up); flows of tens of nodes settle in a few


@dataclass(frozen=True)
class FlowNode:
    id: str  # `kind:name`, unique in the flow
    kind: str  # dataset | managed_folder | recipe
    name: str  # as the project file names it; `OTHER.name` for a dataset of another project
    detail: str = ""  # the dataset or recipe type, "folder"
    zone: str | None = None
    action: ActionType | None = None  # what the plan does to it; None without a plan (or not in it)
    reason: str = ""
    foreign: bool = False  # another project's dataset, read by a recipe of this one

    @property
    def symbol(self) -> str:
        """`+ ~ - -/+` as in plans, `=` for unchanged, `` without a plan."""
        if self.action is None:
            return ""
        return "=" if self.action is ActionType.NOOP else SYMBOLS[self.action]


@dataclass(frozen=True)
class Placed:
    """Where the layout puts things: column and row of each node, and the rows an edge passes through."""

    column: dict[str, int]
    row: dict[str, float]
    rows: int  # height of the tallest column
    columns: int
    bends: dict[tuple[str, str], list[tuple[int, float]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Flow:
    project: str
    environment: str | None
    nodes: tuple[FlowNode, ...]
    edges: tuple[tuple[str, str], ...]  # (from id, to id): input -> recipe -> output
    zones: Mapping[str, str] = field(default_factory=dict)  # zone name -> colour

    @cached_property
    def _by_id(self) -> dict[str, FlowNode]:
        return {n.id: n for n in self.nodes}

    def node(self, node_id: str) -> FlowNode:
        return self._by_id[node_id]

    def layout(self) -> Placed:
        return layered(self.nodes, self.edges)

    def svg(self) -> str:
        from .render_svg import flow_svg

        return flow_svg(self)

    def _repr_html_(self) -> str:
        return self.svg()

    def lines(self) -> list[str]:
        """The flow as text: a heading, then each recipe as `inputs → recipe → outputs` in flow order, the objects
        no recipe touches, and the zones. Each name carries its plan symbol."""
        def named(node_id: str) -> str:
            n = self.node(node_id)
            return f"{n.symbol} {n.name}" if n.symbol else n.name

        counts = {k: sum(1 for n in self.nodes if n.kind == k and not n.foreign) for k in FLOW_KINDS}
        where = f" in {self.environment}" if self.environment else ""
        out = [f"Flow of {self.project}{where}: {counts['dataset']} dataset(s), {counts['managed_folder']} "
               f"folder(s), {counts['recipe']} recipe(s), {len(self.zones)} zone(s)"]
        if self.environment:
            out.append("  (+ create  ~ update  - delete  -/+ replace  = unchanged)")
        placed = self.layout()
        linked = {x for e in self.edges for x in e}
        recipes = sorted((n for n in self.nodes if n.kind == "recipe" and n.id in linked),
                         key=lambda n: (placed.column[n.id], placed.row[n.id]))
        for r in recipes:
            ins = ", ".join(named(a) for a, b in self.edges if b == r.id) or "(no input)"
            outs = ", ".join(named(b) for a, b in self.edges if a == r.id)
            label = f"{named(r.id)} ({r.detail})" if r.detail else named(r.id)
            out.append(f"  {ins} → {label} → {outs}")
        gone = [n for n in self.nodes if n.action is ActionType.DELETE]
        alone = [n for n in self.nodes if n.id not in linked and n not in gone]
        if alone:
            out.append("  not read or written by a recipe: " + ", ".join(named(n.id) for n in alone))
        if gone:
            out.append("  no longer in the file: " + ", ".join(named(n.id) for n in gone))
        for zone in self.zones:
            members = [named(n.id) for n in self.nodes if n.zone == zone]
            out.append(f"  zone {zone}: " + (", ".join(members) or "(empty)"))
        return out


def project_flow(source: ProjectSource, plan: Plan | None = None, physical_key: str | None = None) -> Flow:
    """The flow a project file declares; with `plan`, each node carries the plan's action on it (the plan's
    addresses use `physical_key`, the project's key in the plan's environment), and objects the plan deletes
    are nodes too."""
    spec, key = source.spec, source.key
    zone_of: dict[str, str] = {}
    for zone, z in spec.zones.items():
        for item in z.items:
            zone_of.setdefault(item, zone)
    actions = {a.address: a for a in plan.actions} if plan is not None else {}
    remote = physical_key or key

    def node(kind: str, name: str, detail: str, foreign: bool = False) -> FlowNode:
        found = actions.get(Address(kind, remote, name))
        return FlowNode(f"{kind}:{name}", kind, name, detail, None if foreign else zone_of.get(name),
                        found.action if found else None, found.reason if found else "", foreign)

    nodes: dict[str, FlowNode] = {}
    for name, d in spec.datasets.items():
        nodes[f"dataset:{name}"] = node("dataset", name, d.type)
    for name in spec.managed_folders:
        nodes[f"managed_folder:{name}"] = node("managed_folder", name, "folder")
    edges: list[tuple[str, str]] = []
    for name, r in spec.recipes.items():
        rid = f"recipe:{name}"
        nodes[rid] = node("recipe", name, r.type)
        for ref in r.inputs:
            edges.append((_ref(nodes, ref, spec.managed_folders), rid))
        for ref in r.outputs:
            edges.append((rid, _ref(nodes, ref, spec.managed_folders)))
    for a in actions.values():  # deleted objects: no longer in the file, still in the picture
        kind, project, name = a.address.kind, a.address.project, str(a.address.name)
        if kind in FLOW_KINDS and project == remote and f"{kind}:{name}" not in nodes:
            nodes[f"{kind}:{name}"] = FlowNode(f"{kind}:{name}", kind, name, "", None, a.action, a.reason)
    return Flow(key, plan.environment if plan else None, tuple(nodes.values()), tuple(dict.fromkeys(edges)),
                {zone: z.color for zone, z in spec.zones.items()})


def _ref(nodes: dict[str, FlowNode], ref: str, folders: Iterable[str]) -> str:
    """The node a recipe input or output names, added as another project's dataset when it is one."""
    if ref in folders:
        return f"managed_folder:{ref}"
    node_id = f"dataset:{ref}"
    if node_id not in nodes:  # `OTHER.name` (validation refused any other unknown name)
        nodes[node_id] = FlowNode(node_id, "dataset", ref, "other project", foreign=True)
    return node_id


def layered(nodes: Iterable[FlowNode], edges: Iterable[tuple[str, str]]) -> Placed:
    """Columns by longest path from the sources; rows by barycentre sweeps, long edges through placeholders."""
    ids = [n.id for n in nodes]
    preds: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in edges:
        preds[b].append(a)
    column: dict[str, int] = {}

    def depth(i: str, seen: frozenset[str] = frozenset()) -> int:
        if i not in column:  # validation refuses cycles; `seen` only keeps a bad input from recursing forever
            column[i] = 1 + max((depth(p, seen | {i}) for p in preds[i] if p not in seen), default=-1)
        return column[i]

    for i in ids:
        depth(i)
    # A long edge passes through a placeholder in each column it crosses, so that rows keep it straight.
    succs: dict[str, list[str]] = {i: [] for i in ids}
    up: dict[str, list[str]] = {i: [] for i in ids}
    bends: dict[tuple[str, str], list[str]] = {}
    for a, b in edges:
        prev = a
        hops = []
        for c in range(column[a] + 1, column[b]):
            dummy = f"\0{a}\0{b}\0{c}"
            column[dummy] = c
            succs[dummy], up[dummy] = [], []
            succs[prev].append(dummy)
            up[dummy].append(prev)
            hops.append(dummy)
            prev = dummy
        succs[prev].append(b)
        up[b].append(prev)
        bends[(a, b)] = hops
    columns = max(column.values(), default=-1) + 1
    order: list[list[str]] = [[] for _ in range(columns)]
    for i in column:  # the file's order first
        order[column[i]].append(i)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        span = range(1, columns) if downward else range(columns - 2, -1, -1)
        for c in span:
            ref = order[c - 1] if downward else order[c + 1]
            pos = {x: k for k, x in enumerate(ref)}
            links = up if downward else succs
            now = {x: k for k, x in enumerate(order[c])}
            order[c].sort(key=lambda x: _barycentre([pos[y] for y in links[x] if y in pos], now[x]))
    tallest = max((len(col) for col in order), default=0)
    row = {x: k + (tallest - len(col)) / 2 for col in order for k, x in enumerate(col)}
    return Placed({i: column[i] for i in ids}, {i: row[i] for i in ids}, tallest, columns,
                  {e: [(column[d], row[d]) for d in hops] for e, hops in bends.items()})


def _barycentre(positions: list[int], current: int) -> float:
    return sum(positions) / len(positions) if positions else float(current)
