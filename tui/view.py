"""What the screens show, as plain data: plan groups, counts, field diffs, desired vs actual.

No Textual here, so that these helpers are tested (and benchmarked) without a terminal.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dataiku_iac import (
    MASK,
    Action,
    ActionType,
    Address,
    Plan,
    action_block,
    field_lines,
    is_secret_key,
    mask,
    set_path,
)
from dataiku_iac import kinds as registry

# The group of instance objects (connections, code envs, groups, users, global variables): they belong to no project.
INSTANCE = "(instance)"

SYMBOL_STYLE = {"+": "green", "~": "yellow", "-": "red", "-/+": "magenta", " ": "dim"}
ORDER = ("+", "~", "-", "-/+")


@dataclass(frozen=True)
class Entry:
    """One resource of the plan review: the action shown and whether the reviewed plan performs it."""

    action: Action
    included: bool
    # Excluded by the user but still in the plan: an included resource needs it (targets pull dependencies).
    pulled_in: bool = False
    # For a pulled-in entry: the included resources of the plan that depend on it.
    needed_by: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return str(self.action.address)

    @property
    def project(self) -> str:
        """The project the change belongs to; instance resources (connections, groups...) group as `(instance)`."""
        return INSTANCE if self.action.address.in_instance else self.action.address.project

    @property
    def name(self) -> str:
        return self.action.address.name or self.action.address.project


def is_instance(address: str) -> bool:
    """Whether the address is an instance object's (`connection.pg_prod`) rather than a project's."""
    # The kind ends at the first dot, or at the bracket of a quoted name (`user["jane.doe@corp.com"]`).
    kind = registry.KINDS.get(address.split("[", 1)[0].split(".", 1)[0])
    return kind is not None and kind.instance_level


def group_of(address: str) -> str:
    """The project an address belongs to (its key in DSS), or `(instance)` for an instance object."""
    return INSTANCE if is_instance(address) else address.split(".")[1]


def entries(full: Plan, current: Plan | None, excluded: set[str]) -> list[Entry]:
    """Every change of the untargeted plan, marked as in or out of the reviewed (targeted) plan."""
    if current is None or current is full:
        return [Entry(a, True) for a in full.changes]
    now = {str(a.address): a for a in current.changes}
    needs: dict[str, list[str]] = {}
    for a in current.actions:
        for dep in map(str, a.depends_on):
            if dep in excluded and dep in now and dep != str(a.address):
                needs.setdefault(dep, []).append(str(a.address))
    out = [Entry(now.get(e, a), e in now, e in now and e in excluded, tuple(needs.get(e, ())))
           for a, e in ((a, str(a.address)) for a in full.changes)]
    seen = {str(a.address) for a in full.changes}
    out += [Entry(a, True) for a in current.changes if str(a.address) not in seen]
    return out


def excluded_count(items: Iterable[Entry]) -> int:
    """Resources left out of the reviewed plan: what the tree marks excluded, counted once for the title too."""
    return sum(1 for e in items if not e.included)


def short_name(address: str) -> str:
    """`recipe.CHURN.clean` -> `recipe clean` (the tree groups by project already)."""
    if address.endswith('"]'):  # an instance object's quoted name: `user["jane.doe@corp.com"]`
        kind, _, name = address[:-2].partition('["')
        return f"{kind} {name}"
    parts = address.split(".", 2)
    return f"{parts[0]} {parts[2]}" if len(parts) == 3 else address


def plan_differences(old: Plan, new: Plan) -> list[str]:
    """The resources whose planned action, field changes or drift differ between two plans of one environment."""
    def shape(plan: Plan) -> dict[str, tuple[object, ...]]:
        return {str(a.address): (a.action, a.changes, a.drift, a.record_only) for a in plan.actions
                if a.action is not ActionType.NOOP or a.drift or a.record_only}

    before, after = shape(old), shape(new)
    order = [str(a.address) for a in new.actions] + [str(a.address) for a in old.actions]
    return [a for a in dict.fromkeys(order) if before.get(a) != after.get(a)]


def targets_for(full: Plan, excluded: set[str]) -> list[str]:
    """The `--target` list that keeps every change except the excluded ones.

    A `project.KEY` target selects the whole project, so it is left out when anything of that project is
    excluded: the project's own change still comes along as a dependency of what stays included.
    """
    keep = [a.address for a in full.changes if str(a.address) not in excluded]
    partial = {Address.parse(e).project for e in excluded}
    return [str(t) for t in keep if not (t.kind == "project" and t.project in partial)]


def grouped(items: Iterable[Entry]) -> dict[str, dict[str, list[Entry]]]:
    """Project -> kind -> entries, projects sorted, kinds in dependency order."""
    out: dict[str, dict[str, list[Entry]]] = {}
    for e in items:
        out.setdefault(e.project, {}).setdefault(e.action.kind, []).append(e)
    ranked = {k: i for i, k in enumerate(registry.names())}
    return {p: dict(sorted(out[p].items(), key=lambda kv: ranked.get(kv[0], 99))) for p in sorted(out)}


def counts(items: Iterable[Entry]) -> dict[str, int]:
    """Included changes by symbol (`+ ~ - -/+`)."""
    c = dict.fromkeys(ORDER, 0)
    for e in items:
        if e.included:
            c[e.action.symbol] += 1
    return c


def counts_label(c: Mapping[str, int]) -> str:
    shown = [f"{sym}{n}" for sym, n in c.items() if n]
    return " ".join(shown) if shown else "no change"


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    return f"{s.add} to add, {s.change} to change, {s.destroy} to destroy"


def matches(entry: Entry, query: str) -> bool:
    q = query.strip().lower()
    return not q or q in str(entry.address).lower() or q == entry.action.symbol


def drifted(entry: Entry) -> bool:
    """Changed or deleted in DSS outside dss-iac: what the review's drift-only view keeps."""
    return bool(entry.action.drift) or entry.action.reason == "deleted outside dss-iac"


@dataclass(frozen=True)
class Filter:
    """What the plan review shows: the changes whose address holds `query` (or whose symbol it is); with
    `drift_only`, only those changed in DSS outside dss-iac."""

    query: str = ""
    drift_only: bool = False

    def keeps(self, entry: Entry) -> bool:
        return matches(entry, self.query) and (not self.drift_only or drifted(entry))


class Layout:
    """The entries as the review's tree groups them (project, then kind, in `grouped`'s order), each address
    lower-cased once: a filter is then one pass over strings, a few milliseconds for 25,000 changes.
    Read-only once made, so a filter can run in a thread."""

    def __init__(self, items: Iterable[Entry]) -> None:
        self.projects: list[str] = []
        self.groups: list[tuple[int, str]] = []  # (project index, kind), in the tree's order
        self.entries: list[Entry] = []  # in the tree's order
        self.group_of: list[int] = []
        for project, kinds in grouped(items).items():
            self.projects.append(project)
            for kind, es in kinds.items():
                self.groups.append((len(self.projects) - 1, kind))
                self.entries += es
                self.group_of += [len(self.groups) - 1] * len(es)
        self.sizes = [0] * len(self.groups)  # entries per group, and per project
        self.project_sizes = [0] * len(self.projects)
        for g in self.group_of:
            self.sizes[g] += 1
            self.project_sizes[self.groups[g][0]] += 1
        self.keys = [str(e.address).lower() for e in self.entries]
        self.symbols = [e.action.symbol for e in self.entries]
        self.drifted = [drifted(e) for e in self.entries]

    def shown(self, flt: Filter) -> dict[int, list[int]]:
        """Group index -> the indexes of its entries `flt` keeps, both in the tree's order (kept groups only)."""
        q = flt.query.strip().lower()
        out: dict[int, list[int]] = {}
        group_of, drift = self.group_of, self.drifted
        if not q and not flt.drift_only:
            for i, g in enumerate(group_of):
                out.setdefault(g, []).append(i)
            return out
        for i, (key, symbol) in enumerate(zip(self.keys, self.symbols, strict=True)):
            if (not q or q in key or q == symbol) and (not flt.drift_only or drift[i]):
                out.setdefault(group_of[i], []).append(i)
        return out


def diff_lines(action: Action) -> list[tuple[str, str]]:
    """The field-level diff of one resource, as the CLI prints it: (style, line) pairs, secrets masked."""
    out: list[tuple[str, str]] = []
    if action.action is not ActionType.NOOP:
        for line in action_block(action):
            out.append((line_style(line), line))
    if action.drift:
        out.append(("", ""))
        out.append(("bold", "  changed in DSS outside dss-iac (last applied -> found):"))
        out.extend((line_style(line), line) for line in field_lines(action.drift, "~"))
    return out


def line_style(line: str) -> str:
    """The colour of a line of a rendered plan: by its `+ ~ - -/+` symbol, comments dimmed."""
    s = line.lstrip()
    if s.startswith("#"):
        return "dim"
    if s.startswith("-/+"):
        return "magenta"
    return {"+": "green", "-": "red", "~": "yellow"}.get(s[:1], "")


def actual_fields(action: Action) -> dict[str, Any] | None:
    """The managed fields as DSS holds them, rebuilt from the plan: None when the object is not in DSS.

    The planner compares the desired fields with DSS's, so the desired fields with each change's `before`
    put back are what DSS has (secrets masked; DSS's own keys of open maps are not compared, so not shown).
    """
    if action.action is ActionType.CREATE:
        return None
    if action.action is ActionType.DELETE:
        return {c.path: c.before for c in action.changes} if action.changes else None
    doc = copy.deepcopy(mask(dict(action.fields or {})))
    for c in action.changes:
        set_path(doc, c.path, c.before)
    return doc


def desired_fields(action: Action) -> dict[str, Any] | None:
    if action.action is ActionType.DELETE or action.fields is None:
        return None
    return mask(dict(action.fields))


def to_yaml(data: Any) -> str:
    if data is None:
        return "(none)"
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 100
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue().rstrip("\n")


def to_json(data: Any) -> str:
    if data is None:
        return "(not in DSS)"
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def drift_rows(action: Action | None, drift: Sequence[Any], limit: int = 400) -> list[tuple[str, str, str, str]]:
    """Per drifted field: (path, last applied, found in DSS, wanted by the config), as compact JSON cut after
    `limit` characters (the table cuts them to its width; the detail view shows them whole)."""
    from dataiku_iac import fmt

    wanted: dict[str, Any] = {}
    if action is not None:
        desired = desired_fields(action) or {}
        for c in drift:
            wanted[c.path] = _get_path(desired, c.path)
    return [(c.path, fmt(shown(c, c.before), limit), fmt(shown(c, c.after), limit),
             fmt(shown(c, wanted.get(c.path)), limit)) for c in drift]


def shown(change: Any, value: Any) -> Any:
    """A value of a field change as screens show it: a sensitive field's value masked, whatever it is."""
    if value is not None and (getattr(change, "sensitive", False) or is_secret_key(change.path.split(".")[-1])):
        return MASK
    return mask(value)


def _get_path(doc: Mapping[str, Any], path: str) -> Any:
    node: Any = doc
    for p in path.split("."):
        if not isinstance(node, Mapping) or p not in node:
            return None
        node = node[p]
    return node


def fit_widths(natural: Sequence[int], minimum: Sequence[int], available: int) -> list[int]:
    """Column widths within `available` cells: the natural ones when they fit, else the widest columns are cut
    down first, none below its minimum (or its natural width, when smaller); if even that is too wide, the
    minimums (the table then scrolls)."""
    floor = [min(n, m) for n, m in zip(natural, minimum, strict=True)]

    def total(cap: int) -> int:
        return sum(max(f, min(n, cap)) for n, f in zip(natural, floor, strict=True))

    widest = max(natural, default=0)
    if total(widest) <= available:
        return list(natural)
    lo, hi = 0, widest
    while lo < hi:  # the largest cap on every column's width that fits
        mid = (lo + hi + 1) // 2
        if total(mid) <= available:
            lo = mid
        else:
            hi = mid - 1
    widths = [max(f, min(n, lo)) for n, f in zip(natural, floor, strict=True)]
    spare = available - sum(widths)
    for i, n in enumerate(natural):  # fewer cells than a cap one wider needs: one each to the first capped columns
        if spare <= 0:
            break
        if widths[i] == lo < n:
            widths[i] += 1
            spare -= 1
    return widths


def clock() -> datetime:
    """Now, for the ages on screen (tests that compare screenshots set it)."""
    return datetime.now(UTC)


def age(iso: str, now: datetime | None = None) -> str:
    """How long ago an ISO timestamp was, in one short word: `<1m`, `5m`, `3h`, `2d`; the date after 30 days."""
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = max(0.0, ((now or clock()) - then).total_seconds())
    if seconds < 60:
        return "<1m"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return then.date().isoformat() if unit == "d" and seconds >= 30 * size else f"{int(seconds // size)}{unit}"
    return "<1m"
