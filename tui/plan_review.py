"""Plan review: the changes as a tree (project -> kind -> resource), the field diff of the selected one,
include / exclude with the plan recomputed from targets, filter, and approval."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Static, Tree
from textual.widgets.tree import TreeNode

from dataiku_iac import Gate, Plan, brief

from . import view
from .plan_tree import PlanTree
from .view import Entry, Filter, Layout
from .widgets import EnvScreen, describe_error

# Plans with more changes than this are filtered in a thread worker, once typing has paused for FILTER_QUIET
# seconds: keys stay live (a burst of them costs one filter, not one each), and a filter that a newer keystroke
# made stale is dropped, never shown.
FILTER_IN_WORKER = 5000
FILTER_QUIET = 0.06


@dataclass(frozen=True)
class Group:
    label: str
    addresses: tuple[str, ...]


def _leaf_label(e: Entry, moved: bool) -> Text:
    sym = e.action.symbol
    if not e.included:
        return Text.assemble((f"{sym:>3} ", "dim"), (e.name, "dim strike"), ("  excluded", "dim italic"))
    label = Text.assemble((f"{sym:>3} ", f"bold {view.SYMBOL_STYLE[sym]}"), e.name)
    if e.pulled_in:
        label.append(f"  {_needed_by(e)}", "italic yellow")
    if e.action.drift:
        label.append("  drifted", "italic cyan")
    if moved:
        label.append("  changed since you approved", "italic magenta")
    return label


def _needed_by(e: Entry) -> str:
    return f"needed by {brief([view.short_name(a) for a in e.needed_by], 2)}" if e.needed_by else \
        "needed by an included resource"


def _group_label(title: str, items: list[Entry], style: str) -> Text:
    c = view.counts(items)
    out = Text.assemble((title, style), "  ")
    for sym, n in c.items():
        if n:
            out.append(f"{sym}{n} ", view.SYMBOL_STYLE[sym])
    excluded = sum(1 for e in items if not e.included)
    if excluded:
        out.append(f"({excluded} excluded)", "dim")
    return out


class PlanReviewScreen(EnvScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_target", "Include/exclude", id="toggle"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("n", "next_match", "Next", show=False, id="next-match"),
        Binding("N", "previous_match", "Previous", show=False, id="previous-match"),
        Binding("d", "drift_only", "Drift only", id="drift-only"),
        Binding("a", "approve", "Approve", id="approve"),
        Binding("s", "signoff", "Sign-off", show=False, id="signoff"),
    ]
    FOOTER = ("approve", "toggle_target", "filter", "drift_only", "select_cursor")

    def __init__(self, env: str, targets: tuple[str, ...] = (), purpose: str = "") -> None:
        super().__init__(env)
        self.initial_targets = targets
        self.purpose = purpose
        self.full: Plan | None = None
        self.plan: Plan | None = None
        self.excluded: set[str] = set()
        # The filter the tree shows (`wanted`: the one last asked for, shown once its worker has run).
        self.query_text = ""
        self.drift_only = False
        self.wanted = Filter()
        self._filters = 0  # filters asked for: a worker's result for an older one is stale
        self._superseded = threading.Event()  # set when a newer filter is asked for than the running worker's
        self._layout = Layout(())
        self._by_key: dict[str, TreeNode[Any]] = {}  # tree key (see _cursor_key) -> its node
        self._leaves: list[TreeNode[Any]] = []  # the entries' nodes, in the layout's order
        self._no_changes = False  # a plan is on screen, and it changes nothing
        self._summary, self._excluded = "", 0
        self._whole: dict[int, tuple[Text, Group]] = {}  # node id -> its label and data, nothing filtered out
        self._shown: dict[int, tuple[int, ...]] = {}  # node id -> the entries it shows (its label counts them)
        self._entries: tuple[tuple[object, ...], list[Entry]] | None = None
        # Set between a toggle and the recomputed plan: the tree shows the user's choice meanwhile.
        self.pending = False
        self.planned_at = 0.0
        self.filtered_at = 0.0  # for benchmarks/bench_tui.py: when the tree last showed a filter's result
        # Why there is no plan on screen (the last planning failed): approval is refused with it.
        self.failure = ""
        # After a refused apply: the plan the user approved, and what the new plan changed since.
        self.refused: Plan | None = None
        self.moved: list[str] = []
        # Environments with `approval: govern`: what Govern says of the plan on screen (None: not read yet).
        self.gate: Gate | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"Plan review · {self.env}", id="title", classes="title")
        yield Static("", id="notice")
        yield Static("", id="gate")
        with Horizontal(id="review"):
            tree = PlanTree("plan", id="plan-tree")
            tree.show_root = False
            tree.auto_expand = False
            yield tree
            with VerticalScroll(id="diff-pane"):
                yield Static("", id="diff")
        yield Input(placeholder="filter by address (enter: keep, esc: leave the field)", id="filter")
        yield from self.bottom()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(PlanTree).focus()
        self.reload()

    # -- planning ---------------------------------------------------------------------------------------
    def reload(self) -> None:
        """`r`: read the files and the state again and plan afresh, exclusions kept."""
        self.moved = []
        self.query_one("#notice", Static).remove_class("shown")
        self._plan(fresh=True)

    def replan_after_refusal(self, refused: Plan) -> None:
        """The apply refused `refused` as out of date: plan again and show what moved since it was approved."""
        self.refused = refused
        self.reload()

    def _plan(self, fresh: bool) -> None:
        """Plan in a worker. `fresh`: from the files and the state as they are now, the whole plan first; else
        (a toggle) with the remaining resources as targets, from the configuration the plan on screen came from."""
        excluded, full = frozenset(self.excluded), None if fresh else self.full
        doing = f"recomputing the plan without {len(excluded)} excluded" if excluded else f"planning {self.env}"
        self.run_io(lambda: self._compute(excluded, full), self._planned, group="plan", doing=doing,
                    failed=self._plan_failed)

    def _compute(self, excluded: frozenset[str], full: Plan | None) -> tuple[Plan, Plan | None]:
        service = self.dss_app.service
        if full is None:
            service.reload()  # an edit made since the files were read counts
            full = service.plan(self.env, self.initial_targets)
        if not excluded:
            return full, full
        targets = view.targets_for(full, set(excluded))
        if not targets:  # everything excluded: an empty target list would mean "everything"
            return full, None
        return full, service.plan(self.env, targets)

    def _planned(self, plans: tuple[Plan, Plan | None]) -> None:
        self.full, self.plan = plans
        self.pending = False
        self.failure = ""
        if self.refused is not None:
            self.moved = view.plan_differences(self.refused, self.plan or self.full)
            self._show_notice(self.refused)
            self.refused = None
        self._rebuild()
        self.planned_at = time.perf_counter()  # for benchmarks/bench_tui.py: the tree holds this plan from now
        self._read_gate()

    def _plan_failed(self, error: BaseException) -> None:
        """A plan that could not be made now must not be approved as it was: nothing stays on screen."""
        self.full = self.plan = None
        self.pending = False
        self.moved = []
        self.failure = describe_error(error).splitlines()[0]
        self._rebuild()
        self._read_gate()

    # -- the Govern sign-off ---------------------------------------------------------------------------------
    def _signoff_needed(self) -> bool:
        try:
            return self.dss_app.service.needs_signoff(self.env)
        except Exception:  # the configuration no longer loads: the plan failed and says why
            return False

    def _read_gate(self, request: bool = False) -> None:
        """Read (or, with `request`, open) the Govern sign-off of the plan on screen, in a worker."""
        self.gate = None
        plan = self.plan
        if plan is None or not plan.has_changes or not self._signoff_needed():
            self._show_gate("")
            return
        service = self.dss_app.service
        self._show_gate("Govern sign-off: reading its status...")
        self.run_io(lambda: service.request_signoff(plan) if request else service.gate(plan),
                    lambda gate: self._gated(plan, gate), group="govern",
                    doing="requesting the Govern sign-off" if request else "reading the Govern sign-off")

    def _gated(self, plan: Plan, gate: Gate | None) -> None:
        if plan is not self.plan:
            return  # the plan changed meanwhile: its own reading follows
        self.gate = gate
        if gate is None:
            self._show_gate("")
            return
        approval = gate.approvals[0]
        if gate.open:
            self._show_gate(f"Govern sign-off: {approval.summary()}", "open")
        elif gate.unrequested:
            self._show_gate(f"Govern sign-off needed ({gate.reason}), not requested yet · s: request it in Govern")
        elif gate.rejected:
            self._show_gate(f"Govern sign-off: {approval.summary()} · change the plan to ask again", "refused")
        else:
            self._show_gate(f"Govern sign-off: {approval.summary()} · s: look again")

    def _show_gate(self, text: str, state: str = "") -> None:
        line = self.query_one("#gate", Static)
        line.update(Text(text))
        line.set_class(bool(text), "shown")
        line.set_class(state == "open", "open")
        line.set_class(state == "refused", "refused")

    def action_signoff(self) -> None:
        if not self._signoff_needed():
            self.notify(f"environment {self.env} asks for no Govern sign-off (approval: govern)", severity="warning")
            return
        if self.busy or self.plan is None:
            self.notify("the plan is not computed yet", severity="warning")
            return
        self._read_gate(request=self.gate is not None and bool(self.gate.unrequested))

    def _show_notice(self, refused: Plan) -> None:
        notice = self.query_one("#notice", Static)
        text = Text("Planned again after the refused apply: ", "bold")
        if self.moved:
            text.append(f"{len(self.moved)} resource(s) differ from the plan you approved: "
                        f"{brief(self.moved)}.", "magenta")
        else:
            text.append("the same changes as the plan you approved (the state or DSS moved, not what "
                        "would change).", "")
        text.append(" Review them, then approve again.", "")
        notice.update(text)
        notice.add_class("shown")

    def current_entries(self) -> list[Entry]:
        key = (self.full, self.plan, self.pending, frozenset(self.excluded))
        if self._entries is None or any(a is not b for a, b in zip(self._entries[0][:3], key[:3], strict=True)) \
                or self._entries[0][3] != key[3]:
            self._entries = (key, self._make_entries())
        return self._entries[1]

    def _make_entries(self) -> list[Entry]:
        if self.full is None:
            return []
        if self.pending:
            return [Entry(a, str(a.address) not in self.excluded) for a in self.full.changes]
        if self.plan is None:  # everything excluded
            return [Entry(a, False) for a in self.full.changes]
        return view.entries(self.full, self.plan if self.excluded else None, self.excluded)

    def visible_entries(self) -> list[Entry]:
        """The entries the tree shows (the filter on screen), in the plan's order."""
        shown = Filter(self.query_text, self.drift_only)
        return [e for e in self.current_entries() if shown.keeps(e)]

    def _title(self) -> Text:
        title = Text.assemble(("Plan review", "bold"), f" · {self.env}")
        if self.purpose:
            title.append(f" · {self.purpose}", "cyan")
        if self.full is None:
            if self.failure:
                title.append("  ·  no plan: it could not be made", "red")
            return title
        if self.plan is None:
            title.append("  ·  nothing included: nothing to apply", "yellow")
        else:
            title.append(f"  ·  {self._summary}")
        excluded = self._excluded
        if excluded:
            title.append(f"  ·  {excluded} excluded", "yellow")
        if self.query_text:
            title.append(f"  ·  filter: {self.query_text}", "cyan")
        if self.drift_only:
            title.append("  ·  drift only", "cyan")
        return title

    def _rebuild(self) -> None:
        """The tree made again from the entries (a new plan, an exclusion): a node for every change, of which the
        filter asked for last shows some."""
        tree = self.query_one(PlanTree)
        keep = self._cursor_key(tree.cursor_node)
        tree.clear()
        self._filters += 1  # a filter still running was made for the old nodes
        layout = self._layout = Layout(self.current_entries())
        self._no_changes = self.full is not None and not self.full.changes
        # What the title says of the plan, whatever the filter shows.
        self._summary = view.summary_line(self.plan) if self.plan is not None else ""
        self._excluded = view.excluded_count(layout.entries)
        if self.failure:
            message = Text("No plan: it could not be made (the error is below). Fix the cause, then r plans "
                           "again.", "red")
        elif self._no_changes:
            message = Text(f"No changes: DSS matches the configuration in {self.env}.", "green")
        else:
            message = Text("Nothing matches.", "dim")
        with tree.filling():
            self._by_key = {"message": tree.add_nodes(tree.root, [(message, None)], expand=False, leaves=True)[0]}
            self._fill(tree, layout)
        self._shown, self._whole = {}, {}
        self._show(self.wanted, layout.shown(self.wanted), keep)

    def _fill(self, tree: PlanTree, layout: Layout) -> None:
        """A node for each project, kind and entry of `layout` (the groups' labels are set by `_show`)."""
        nodes = self._by_key
        projects = tree.add_nodes(tree.root, [(Text(p), None) for p in layout.projects], expand=True, leaves=False)
        for project, node in zip(layout.projects, projects, strict=True):
            nodes[f"group:{project}"] = node
        names: list[list[str]] = [[] for _ in projects]
        for pi, kind in layout.groups:
            names[pi].append(kind)
        kinds: list[TreeNode[Any]] = []
        for node, its in zip(projects, names, strict=True):
            kinds += tree.add_nodes(node, [(Text(k), None) for k in its], expand=True, leaves=False)
        by_group: list[list[Entry]] = [[] for _ in layout.groups]
        for e, g in zip(layout.entries, layout.group_of, strict=True):
            by_group[g].append(e)
        self._leaves = []
        for (pi, kind), node, es in zip(layout.groups, kinds, by_group, strict=True):
            nodes[f"group:{layout.projects[pi]} {kind}"] = node
            leaves = tree.add_nodes(node, [(_leaf_label(e, e.address in self.moved), e) for e in es], expand=False,
                                    leaves=True)
            nodes.update((str(e.address), leaf) for e, leaf in zip(es, leaves, strict=True))
            self._leaves += leaves  # in the layout's order, as its entries

    def _show(self, flt: Filter, shown: dict[int, list[int]], keep: str | None) -> None:
        """Show the entries `flt` keeps (`shown`, from `Layout.shown`), each group labelled with what it shows."""
        self.query_text, self.drift_only = flt.query, flt.drift_only
        self.filtered_at = time.perf_counter()
        tree = self.query_one(PlanTree)
        layout, nodes, leaves = self._layout, self._by_key, self._leaves
        self.query_one("#title", Static).update(self._title())
        kinds: dict[int, list[TreeNode[Any]]] = {}  # project index -> its kinds shown
        items: dict[int, list[int]] = {}  # project index -> its entries shown
        for g, indexes in shown.items():
            pi, kind = layout.groups[g]
            name = f"{layout.projects[pi]} {kind}"
            node = nodes[f"group:{name}"]
            if self._label(tree, node, name, kind, "", indexes, layout.sizes[g]):
                tree.show_children(node, [leaves[i] for i in indexes])
            kinds.setdefault(pi, []).append(node)
            items.setdefault(pi, []).extend(indexes)
        top = []
        for pi, knodes in kinds.items():
            project = layout.projects[pi]
            node = nodes[f"group:{project}"]
            tree.show_children(node, knodes)
            self._label(tree, node, project, project, "bold", items[pi], layout.project_sizes[pi])
            top.append(node)
        if self.failure or self._no_changes or (layout.entries and not top):
            top = [nodes["message"]]
        tree.show_children(tree.root, top)
        tree.relaid()
        target = nodes.get(keep) if keep is not None else None
        # Reading last_line lays the tree's lines out now, so the node's line is known for the cursor.
        if target is not None and tree.last_line >= 0 and target._line >= 0:
            tree.move_cursor(target)
        else:
            tree.cursor_line = 0
        self._show_diff(tree.cursor_node)

    def _label(self, tree: PlanTree, node: TreeNode[Any], label: str, title: str, style: str,
               indexes: list[int], size: int) -> bool:
        """A group's label counts the entries it shows (of its `size`); made again only when they changed
        (returns whether they did)."""
        now = tuple(indexes)
        if self._shown.get(node._id) == now:
            return False
        self._shown[node._id] = now
        whole = len(indexes) == size
        if whole and node._id in self._whole:  # back to the unfiltered tree: as it was
            tree.relabel(node, *self._whole[node._id])
            return True
        items = [self._layout.entries[i] for i in indexes]
        made = (_group_label(title, items, style), Group(label, tuple(e.address for e in items)))
        if whole:
            self._whole[node._id] = made
        tree.relabel(node, *made)
        return True

    @staticmethod
    def _cursor_key(node: TreeNode[Any] | None) -> str | None:
        if node is None:
            return None
        if isinstance(node.data, Entry):
            return str(node.data.address)
        if isinstance(node.data, Group):
            return f"group:{node.data.label}"
        return None

    # -- the diff pane ------------------------------------------------------------------------------------
    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        self._show_diff(event.node)

    def _show_diff(self, node: TreeNode[Any] | None) -> None:
        pane = self.query_one("#diff", Static)
        data = node.data if node is not None else None
        if isinstance(data, Entry):
            text = Text()
            if not data.included:
                text.append("excluded: not in the plan you approve (space includes it again)\n\n", "yellow")
            elif data.pulled_in:
                who = ", ".join(data.needed_by) or "an included resource"
                text.append(f"you excluded it, but {who} needs it: it stays in the plan\n\n", "yellow")
            if data.address in self.moved:
                text.append("changed since you approved the plan that was refused\n\n", "magenta")
            for style, line in view.diff_lines(data.action):
                text.append(line + "\n", style)
            pane.update(text)
        elif isinstance(data, Group):
            items = [e for a in data.addresses if isinstance(e := self._by_key[str(a)].data, Entry)]
            c = view.counts(items)
            text = Text.assemble((data.label, "bold"), "\n\n")
            for sym, word in (("+", "to create"), ("~", "to update"), ("-", "to destroy"), ("-/+", "to replace")):
                if c[sym]:
                    text.append(f"{sym:>3} {c[sym]} {word}\n", view.SYMBOL_STYLE[sym])
            excluded = sum(1 for e in items if not e.included)
            if excluded:
                text.append(f"    {excluded} excluded\n", "dim")
            text.append("\nspace: include / exclude the whole group", "dim")
            pane.update(text)
        else:
            pane.update("")

    # -- keys -----------------------------------------------------------------------------------------------
    def on_tree_node_selected(self, event: Tree.NodeSelected[Any]) -> None:
        event.stop()
        if isinstance(event.node.data, Entry):
            self.dss_app.open_detail(self.env, event.node.data.action)
        else:
            event.node.toggle()

    def action_toggle_target(self) -> None:  # not `toggle`: Textual's own flips an attribute
        if self.full is None or self.busy:
            self.notify("the plan is being computed: wait for it", severity="warning")
            return
        node = self.query_one(PlanTree).cursor_node
        data = node.data if node is not None else None
        if isinstance(data, Entry):
            addresses: tuple[str, ...] = (data.address,)
        elif isinstance(data, Group):
            addresses = data.addresses
        else:
            return
        if all(a in self.excluded for a in addresses):
            self.excluded.difference_update(addresses)
        else:
            self.excluded.update(addresses)
        self.pending = True
        self._rebuild()  # shows the choice at once; the recomputed plan follows
        self._plan(fresh=False)

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        field.value = self.query_text
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._filter(Filter(event.value, self.drift_only))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self._filter(self.wanted, now=True)  # what n / N then jump between is what was typed
            self._leave_filter()

    def _leave_filter(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(PlanTree).focus()

    def _filter(self, flt: Filter, now: bool = False) -> None:
        """Show what `flt` keeps: at once in a small plan (or `now`), else from a thread worker, so that typing
        into the filter stays live in a plan of 25,000 changes; a filter that a newer one made stale is dropped."""
        self.wanted = flt
        self._filters += 1
        self._superseded.set()
        ticket, layout = self._filters, self._layout
        tree = self.query_one(PlanTree)
        if now or len(layout.entries) <= FILTER_IN_WORKER:
            if flt != Filter(self.query_text, self.drift_only) or now:
                self._show(flt, layout.shown(flt), self._cursor_key(tree.cursor_node))
            return
        superseded = self._superseded = threading.Event()

        def run() -> None:
            if superseded.wait(FILTER_QUIET):  # typing goes on: a later key filters
                return
            shown = layout.shown(flt)
            if not superseded.is_set():
                self.app.call_from_thread(self._filtered, ticket, flt, shown)

        # Not `exclusive`: a cancelled worker fails those who wait for the workers; a superseded one ends itself.
        self.run_worker(run, thread=True, group="filter", exit_on_error=False, description="filtering")

    def on_unmount(self) -> None:
        self._superseded.set()  # a filter waiting for typing to pause ends now

    def _filtered(self, ticket: int, flt: Filter, shown: dict[int, list[int]]) -> None:
        if ticket == self._filters and self.is_attached:  # else a newer filter, or a new tree, came since
            self._show(flt, shown, self._cursor_key(self.query_one(PlanTree).cursor_node))

    def action_back(self) -> None:
        """esc undoes the narrowest thing first: the filter being typed, then the filters, then the screen."""
        field = self.query_one("#filter", Input)
        if field.has_focus or self.query_text or self.drift_only or self.wanted != Filter():
            drift_only = self.drift_only and field.has_focus
            with field.prevent(Input.Changed):
                field.value = ""
            self._leave_filter()
            self._filter(Filter("", drift_only), now=True)
            return
        super().action_back()

    def _jump(self, step: int) -> None:
        tree = self.query_one(PlanTree)
        last = tree.last_line
        line = tree.cursor_line
        for _ in range(last + 1):
            line = (line + step) % (last + 1)
            node = tree.get_node_at_line(line)
            if node is not None and isinstance(node.data, Entry) and view.matches(node.data, self.query_text):
                tree.move_cursor(node)
                return

    def action_next_match(self) -> None:
        self._jump(1)

    def action_previous_match(self) -> None:
        self._jump(-1)

    def action_drift_only(self) -> None:
        self._filter(Filter(self.wanted.query, not self.wanted.drift_only), now=True)

    def action_approve(self) -> None:
        if self.failure:
            self.notify(f"no plan to approve: {self.failure}", severity="error")
            return
        if self.busy or self.full is None or self.pending:
            # Only a plan that is on screen, computed for what is shown as included, can be approved.
            self.notify("the plan is not computed yet (r: compute it again)", severity="warning")
            return
        plan = self.plan
        if plan is None or not plan.has_changes:
            self.notify("nothing to apply", severity="warning")
            return
        if self._signoff_needed() and (self.gate is None or not self.gate.open):
            # The core refuses such an apply too; the review says so before the dialog.
            why = self.gate.summary() if self.gate is not None else "its status is being read"
            self.notify(f"Govern has not approved this plan: {why}", severity="error")
            return
        risky = [str(a.address) for a in plan.destructive]
        try:
            protected = self.dss_app.service.ws.environment(self.env).protected
        except Exception:  # the environment no longer resolves: the apply will say why
            protected = False
        from .modals import ApproveModal

        def approved(answer: bool | None) -> None:
            if answer is not None:
                self.dss_app.open_apply(plan, allow_delete=answer)

        self.app.push_screen(ApproveModal(self.env, view.summary_line(plan), risky if protected else []), approved)
