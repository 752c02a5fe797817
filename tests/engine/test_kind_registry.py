"""A resource kind is one module: registered from this test alone, a new kind flows through validate, plan,
apply, drift, adopt, import, destroy, the config reference and the JSON Schema, with no other file touched.

The kind, `team`, is a DSS group per project team (`teams: {analysts: {description: ...}}` in a project file,
the group `PROJECTKEY_analysts` in DSS), kept by the simulator's admin API like any DSS group.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dataikuapi.utils import DataikuException
from pydantic import BaseModel, ConfigDict, Field

from dataiku_iac import KINDS, Address, ConfigError, Kind, Workspace, kinds
from dataiku_iac.cli.main import main
from dataiku_iac.resources import Desired, Remote
from dataiku_iac.resources.base import ImportContext, NamedFile

from .conftest import apply_ok, changes

PROJECT = """\
project: {key: CHURN, name: Churn}
teams:
  analysts: {description: reads the churn tables}
"""


class Team(BaseModel):
    """A team of the project: a DSS group named after the project key and the team."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str = Field(default="", description="what the team does, shown in DSS's group list")


def _group(address: Address) -> str:
    return f"{address.project}_{address.name}"


class TeamKind(Kind):
    name = "team"
    model = Team
    collection = "teams"
    rank = 80
    listed = True
    in_bundle = False  # groups are instance-wide: activation never makes them
    dies_with_project = False  # a group outlives the project: deleted on its own
    adoptable = frozenset({"description"})
    template = {"description": ""}

    def desired(self, source: Any, env: Any) -> list[Desired]:
        return [Desired(Address("team", source.key, name), {"description": team.description},
                        (Address("project", source.key),)) for name, team in source.spec.teams.items()]

    def list_in(self, project: Any) -> list[tuple[str, str]]:
        prefix = f"{project.project_key}_"
        return sorted((g["name"][len(prefix):], g["name"]) for g in project.client.list_groups()
                      if g["name"].startswith(prefix))

    def read(self, client: Any, address: Address, remote_id: str | None) -> Remote | None:
        try:
            raw = client.get_group(remote_id or _group(address)).get_definition()
        except DataikuException as e:
            if "does not exist" in str(e):
                return None
            raise
        return Remote(raw["name"], {"description": raw.get("description") or ""}, raw)

    def create(self, client: Any, desired: Desired) -> str:
        client.create_group(_group(desired.address), desired.fields["description"])
        return _group(desired.address)

    def update(self, client: Any, desired: Desired, remote: Remote) -> None:
        group = client.get_group(remote.remote_id)
        definition = group.get_definition()
        definition["description"] = desired.fields["description"]
        group.set_definition(definition)

    def delete(self, client: Any, address: Address, remote_id: str) -> None:
        client.get_group(remote_id).delete()

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        return {"description": fields["description"]} if fields["description"] else {}


@pytest.fixture
def team_kind() -> Iterator[TeamKind]:
    with kinds.registered(TeamKind()) as kind:
        yield kind


def _groups(ws: Workspace) -> dict[str, str]:
    return {g["name"]: g["description"] for g in ws.connection("dev").client.list_groups()
            if g["name"].startswith("CHURN_")}


def test_a_kind_registered_by_a_test_is_managed_end_to_end(team_kind: TeamKind,
                                                            make_workspace: Callable[..., Workspace]) -> None:
    assert KINDS["team"] is team_kind and Address.parse("team.CHURN.analysts").kind == "team"
    ws = make_workspace({"churn": PROJECT})
    assert ws.config.projects["CHURN"].spec.teams["analysts"].description == "reads the churn tables"
    # plan and apply: created after the project (its rank), read back the same (the next plan is empty)
    assert ("+", "team.CHURN.analysts", ["description"]) in changes(ws)
    apply_ok(ws)
    assert _groups(ws) == {"CHURN_analysts": "reads the churn tables"}
    assert changes(ws) == []
    # drift, then adopt: the YAML says what DSS has, and the drift is gone
    client = ws.connection("dev").client
    group = client.get_group("CHURN_analysts")
    group.set_definition({**group.get_definition(), "description": "owns the churn model"})
    [item] = ws.drift("dev").items
    assert (item.address, item.status, [c.path for c in item.changes]) == ("team.CHURN.analysts", "changed",
                                                                          ["description"])
    ws.adopt("dev", item)
    assert "analysts: {description: owns the churn model}" in (ws.root / "projects" / "churn.yaml").read_text()
    assert not ws.drift("dev").items and changes(ws) == []
    # a group made in DSS is listed as not managed, and `import` adds it to the project file
    client.create_group("CHURN_engineers", "build the pipelines")
    assert [u.name for u in ws.plan("dev").unmanaged if u.kind == "team"] == ["engineers"]
    _import(ws, "CHURN")
    ws = make_workspace()
    assert ws.config.projects["CHURN"].spec.teams["engineers"].description == "build the pipelines"
    assert changes(ws) == [] and not ws.plan("dev").unmanaged
    # destroy deletes the groups, which do not die with the project
    result = ws.apply(ws.plan("dev", destroy=True))
    assert result.ok and _groups(ws) == {}


def _import(ws: Workspace, key: str) -> None:
    """`dss-iac import`, as a user runs it (the workspace's embedded DSS released first)."""
    ws.close()
    assert main(["-C", str(ws.root), "import", "-e", "dev", "--project", key]) == 0


def test_a_registered_kind_is_validated_by_its_own_model(team_kind: TeamKind,
                                                         make_workspace: Callable[..., Workspace]) -> None:
    bad = PROJECT.replace("{description: reads the churn tables}", "{descripton: typo}")
    with pytest.raises(ConfigError) as e:
        make_workspace({"churn": bad})
    assert "projects/churn.yaml:3:" in e.value.render() and "descripton" in e.value.render()


def test_a_new_project_file_is_imported_with_the_registered_kind(team_kind: TeamKind,
                                                                 make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"churn": PROJECT})
    apply_ok(ws)
    (ws.root / "projects" / "churn.yaml").unlink()
    _import(ws, "CHURN")
    text = (ws.root / "projects" / "churn.yaml").read_text()
    assert "teams:\n  analysts:\n    description: reads the churn tables\n" in text
    assert changes(make_workspace()) == []


def test_a_registered_kind_is_in_the_config_reference_and_the_schema(team_kind: TeamKind) -> None:
    from dataiku_iac.config.reference import json_schema, render_reference

    reference = render_reference()
    assert "teams.<name>" in reference and "what the team does, shown in DSS's group list" in reference
    schema = json_schema("project")
    teams = schema["$defs"]["ProjectFile"]["properties"]["teams"]
    assert teams["additionalProperties"] is False and "Team" in schema["$defs"]
    assert schema["$defs"]["Team"]["properties"]["description"]["description"].startswith("what the team does")


def test_an_environment_may_override_a_registered_kind(team_kind: TeamKind,
                                                       make_workspace: Callable[..., Workspace]) -> None:
    workspace = textwrap.dedent("""\
        version: 1
        projects: [projects/*.yaml]
        environments:
          dev:
            host: embedded
            overrides:
              team.*.analysts: {description: dev analysts}
        """)
    ws = make_workspace({"churn": PROJECT}, workspace_yaml=workspace)
    apply_ok(ws)
    assert _groups(ws) == {"CHURN_analysts": "dev analysts"}


def test_unregistered_the_kind_is_gone_everywhere(make_workspace: Callable[..., Workspace]) -> None:
    with kinds.registered(TeamKind()):
        assert "team" in kinds.names()
    assert "team" not in KINDS
    with pytest.raises(ConfigError, match="teams"):
        make_workspace({"churn": PROJECT})


class Charter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    charter: str = Field(description="the team's charter, a Markdown file relative to this project file")


class CharteredTeamKind(TeamKind):
    """A team whose group description is a Markdown file of the repository: the kind names it with `files`."""

    model = Charter

    def files(self, name: str, entry: Any) -> list[NamedFile]:
        refused = None if entry.charter.endswith(".md") else "a charter is Markdown: name a .md file"
        return [NamedFile(("charter",), entry.charter, f"teams.{name}.charter", "description", "charter", refused)]

    def desired(self, source: Any, env: Any) -> list[Desired]:
        return [Desired(Address("team", source.key, name), {"description": source.code[f"teams.{name}.charter"]},
                        (Address("project", source.key),)) for name in source.spec.teams]


def test_the_files_a_registered_kind_names_are_read_with_the_project_file(
        make_workspace: Callable[..., Workspace]) -> None:
    project = "project: {key: CHURN, name: Churn}\nteams:\n  analysts: {charter: ../teams/analysts.md}\n"
    with kinds.registered(CharteredTeamKind()):
        ws = make_workspace({"churn": project}, files={"teams/analysts.md": "Reads the churn tables."})
        apply_ok(ws)
        assert _groups(ws) == {"CHURN_analysts": "Reads the churn tables."}
        (ws.root / "teams" / "analysts.md").write_text("Owns the churn model.")
        assert changes(make_workspace()) == [("~", "team.CHURN.analysts", ["description"])]
        with pytest.raises(ConfigError, match=r"churn\.yaml:3:23: a charter is Markdown: name a \.md file"):
            make_workspace({"churn": project.replace("analysts.md", "analysts.txt")})
        with pytest.raises(ConfigError, match=r"churn\.yaml:3:23: charter '\.\./teams/gone\.md' not found"):
            make_workspace({"churn": project.replace("analysts.md", "gone.md")})
