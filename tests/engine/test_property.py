"""Property: for any workspace and any edits made in DSS by hand, apply performs exactly the planned
operations, and the plan right after it is empty."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dataiku_iac import Workspace
from dataiku_iac.plan.model import ActionType
from tests.engine.conftest import write_workspace

NAMES = ["alpha", "beta", "gamma", "delta", "eps"]
words = st.text(alphabet="abcdefgh xyz", min_size=0, max_size=12)
tags = st.lists(st.sampled_from(["raw", "clean", "pii", "ml"]), max_size=3)


@st.composite
def projects(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    datasets = {n: {"type": "Filesystem", "connection": "filesystem_managed", "params": {"path": f"/p/{n}"},
                    "tags": draw(tags), "description": draw(words)} for n in names}
    recipes = {}
    for i in range(1, len(names)):
        if draw(st.booleans()):
            recipes[f"sync_{names[i]}"] = {"type": "sync", "inputs": [names[i - 1]], "outputs": [names[i]]}
    variables = draw(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.text(max_size=5), max_size=3))
    return {"project": {"key": "PROP", "name": draw(words) or "prop", "tags": draw(tags),
                        "variables": {"standard": variables}},
            "datasets": datasets, "recipes": recipes}


@st.composite
def edits(draw: Any) -> list[tuple[str, str, str]]:
    kinds = st.sampled_from(["describe", "tag", "variable", "delete_dataset", "rename_project"])
    return draw(st.lists(st.tuples(kinds, st.sampled_from(NAMES), words), max_size=4))


def _dump(doc: dict[str, Any]) -> str:
    from io import StringIO

    out = StringIO()
    YAML().dump(doc, out)
    return out.getvalue()


def _edit_by_hand(client: Any, edit: tuple[str, str, str]) -> None:
    from dataikuapi.utils import DataikuException

    kind, name, text = edit
    project = client.get_project("PROP")
    # An edit may target a dataset this workspace does not have: then there is nothing to do.
    with contextlib.suppress(DataikuException):
        if kind == "describe":
            s = project.get_dataset(name).get_settings()
            s.get_raw()["description"] = f"by hand {text}"
            s.save()
        elif kind == "tag":
            s = project.get_dataset(name).get_settings()
            s.get_raw()["tags"] = [*s.get_raw().get("tags", []), "by_hand"]
            s.save()
        elif kind == "variable":
            project.update_variables({"a": f"hand {text}"})
        elif kind == "delete_dataset":
            project.get_dataset(name).delete()
        else:
            meta = project.get_metadata()
            meta["label"] = f"renamed {text}"
            project.set_metadata(meta)


def _steps(plan: Any) -> list[tuple[str, str]]:
    out = []
    for a in plan.changes:
        if a.action is ActionType.REPLACE:
            out += [(str(a.address), "delete"), (str(a.address), "create")]
        elif a.action is ActionType.DELETE:
            out.append((str(a.address), "forget" if a.with_project else "delete"))
        else:
            out.append((str(a.address), a.action.value))
    return sorted(out)


@settings(max_examples=40, deadline=None)
@given(first=projects(), second=projects(), hand=edits())
def test_apply_does_what_was_planned_and_settles(first: dict, second: dict, hand: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_workspace(Path(tmp), {"prop": _dump(first)})
        with Workspace.load(root) as ws:
            assert ws.apply(ws.plan("dev")).ok
            client = ws.connection("dev").client
            for edit in hand:
                _edit_by_hand(client, edit)
        write_workspace(Path(tmp), {"prop": _dump(second)})
        with Workspace.load(root) as ws:
            plan = ws.plan("dev")
            result = ws.apply(plan)
            assert result.ok, [(r.address, r.error) for r in result.failed + result.skipped]
            assert sorted((r.address, r.action) for r in result.results) == _steps(plan)
            assert ws.plan("dev").changes == []
