"""A project's flow as a picture: built from the project file, coloured by the plan, drawn as SVG and as text."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac import Workspace
from dataiku_iac.errors import ConfigError
from dataiku_iac.plan.flow import FlowNode, layered

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    shutil.copytree(EXAMPLES / "simple-project", tmp_path / "ws")
    with Workspace.load(tmp_path / "ws") as w:
        yield w


def nodes_of(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("data-id", ""): g for g in root.iter(f"{SVG}g") if "node" in (g.get("class") or "").split()}


def fill(g: ET.Element) -> str | None:
    shape = next(e for e in g if e.tag in (f"{SVG}rect", f"{SVG}path"))
    return shape.get("fill")


def test_the_text_flow_of_a_new_project_shows_what_the_plan_creates(ws: Workspace) -> None:
    assert ws.flow("CHURN", "dev").lines() == [
        "Flow of CHURN in dev: 4 dataset(s), 1 folder(s), 2 recipe(s), 0 zone(s)",
        "  (+ create  ~ update  - delete  -/+ replace  = unchanged)",
        "  + customers_raw, + events_raw → + clean_customers (python) → + customers_clean, + reports",
        "  + customers_clean → + export_customers (sync) → + customers_export",
    ]


def test_after_edits_nodes_show_update_unchanged_and_delete(ws: Workspace) -> None:
    ws.apply(ws.plan("dev"))
    ws.update_resource("dataset.CHURN.customers_clean", {"description": "changed"})
    ws.update_resource("recipe.CHURN.clean_customers", {"outputs": ["customers_clean"]})
    ws.remove_resource("managed_folder.CHURN.reports")
    ws.remove_resource("recipe.CHURN.export_customers")
    flow = ws.flow("CHURN", "dev")
    assert flow.lines()[2:] == [
        "  = customers_raw, = events_raw → ~ clean_customers (python) → ~ customers_clean",
        "  not read or written by a recipe: = customers_export",
        "  no longer in the file: - export_customers, - reports",
    ]
    svg = ws.flow_svg("CHURN", env="dev")
    nodes = nodes_of(svg)
    assert fill(nodes["dataset:customers_clean"]) == "#fff5b1"  # update: yellow
    assert fill(nodes["dataset:customers_raw"]) == "#ffffff"  # unchanged
    assert fill(nodes["recipe:export_customers"]) == "#ffdce0"  # delete: red
    assert nodes["recipe:export_customers"].get("class") == "node recipe delete"
    tip = nodes["dataset:customers_clean"].find(f"{SVG}title")
    assert tip is not None and tip.text == "dataset customers_clean: update (config changed)"


def test_the_svg_draws_every_node_and_edge_left_to_right(ws: Workspace) -> None:
    svg = ws.flow_svg("CHURN")  # no environment: the file's flow, not coloured by a plan
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and "<script" not in svg
    nodes = nodes_of(svg)
    assert set(nodes) == {"dataset:customers_raw", "dataset:events_raw", "dataset:customers_clean",
                          "dataset:customers_export", "managed_folder:reports", "recipe:clean_customers",
                          "recipe:export_customers"}
    assert {fill(g) for g in nodes.values()} == {"#f6f8fa"}
    edges = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
    assert len(edges) == 6
    for p in edges:  # every edge ends right of where it starts: inputs on the left, outputs on the right
        numbers = p.get("d", "").replace("M", "").replace("C", "").split()
        assert float(numbers[-2]) > float(numbers[0])


def test_zones_frame_their_members_in_the_zone_colour_and_other_projects_datasets_are_dashed(
        tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "ml-pipeline", tmp_path / "ws")
    with Workspace.load(tmp_path / "ws") as ws:
        features = ws.flow("FEATURES")
        assert features.zones == {"ingestion": "#9e9e9e", "preparation": "#2ab1ac", "features": "#ff9800"}
        stroke = nodes_of(features.svg())["recipe:build_features"].find(f"{SVG}rect")
        assert stroke is not None and stroke.get("stroke") == "#ff9800"
        assert "  zone preparation: transactions_clean, web_sessions, clean_transactions, sessionize_events" in \
            features.lines()
        scoring = nodes_of(ws.flow_svg("SCORING"))
        other = scoring["dataset:FEATURES.customer_features"].find(f"{SVG}rect")
        assert other is not None and other.get("stroke-dasharray") == "4 3"


def test_a_project_renders_its_flow_in_a_notebook_cell(ws: Workspace) -> None:
    html = ws.config.projects["CHURN"]._repr_html_()
    assert html.startswith("<p><b>CHURN</b> (Churn prediction), <code>projects/churn.yaml</code></p><svg")
    assert ws.flow("CHURN", "dev")._repr_html_().startswith("<svg")


def test_an_unknown_project_is_a_clear_error(ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="no project SALES in this workspace"):
        ws.flow_svg("SALES")


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[FlowNode], list[tuple[str, str]]]:
    count = draw(st.integers(1, 14))
    ids = [f"n{i}" for i in range(count)]
    edges = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), max_size=30))
    return [FlowNode(i, "dataset", i) for i in ids], sorted({(ids[a], ids[b]) for a, b in edges if a < b})


@settings(max_examples=150, deadline=None)
@given(dags())
def test_the_layout_puts_every_node_after_what_it_reads_and_never_two_in_one_place(
        graph: tuple[list[FlowNode], list[tuple[str, str]]]) -> None:
    nodes, edges = graph
    placed = layered(nodes, edges)
    for a, b in edges:
        assert placed.column[a] < placed.column[b]
        assert len(placed.bends[(a, b)]) == placed.column[b] - placed.column[a] - 1
    spots = [(placed.column[n.id], placed.row[n.id]) for n in nodes]
    assert len(set(spots)) == len(spots)
    assert all(0 <= r <= placed.rows - 1 for _, r in spots)
