"""The workbench and instance files: the instance file of the chosen environment in the browser, a connection,
group or user edited in the YAML area, the plan previewed with the edit, and saved with the file's comments and
`${env:}` references kept."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import git
import pytest
from dataiku_iac.notebook import Workbench
from dataiku_iac.notebook.workbench import INSTANCE

from dataiku_iac import ConfigError, Workspace

DEV = """\
# dev's instance: what the platform team manages
groups:
  analysts:
    description: the analysts  # who may build
    permissions: [may_create_projects]
users:
  ada: {display_name: Ada Lovelace, groups: [analysts], password: "${env:ADA_PASSWORD}"}
connections:
  lake:
    type: Filesystem
    params: {root: /data/lake}  # mounted on every node
    usable_by: [analysts]
"""


def changed(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.fixture
def instance_repo(repo: git.Repo, monkeypatch: pytest.MonkeyPatch) -> git.Repo:
    """The example with an instance file for dev, applied (so a preview shows updates), committed."""
    monkeypatch.setenv("ADA_PASSWORD", "ada-s3cret")
    root = Path(str(repo.working_tree_dir))
    (root / "instance").mkdir()
    (root / "instance" / "dev.yaml").write_text(DEV)
    workspace = root / "dss-iac.yaml"
    workspace.write_text(workspace.read_text().replace("    host: embedded\n",
                                                      "    host: embedded\n    instance: instance/dev.yaml\n", 1))
    repo.index.add(["instance/dev.yaml", "dss-iac.yaml"])
    repo.index.commit("dev's instance file")
    with Workspace.load(root) as ws:
        assert ws.apply(ws.plan("dev"), parallelism=1).ok
    return repo


@pytest.fixture
def iwb(instance_repo: git.Repo) -> Iterator[Workbench]:
    w = Workbench(instance_repo.working_tree_dir, env="dev")
    yield w
    w.close()


def instance_file(wb: Workbench) -> Path:
    return wb.ws.root / "instance" / "dev.yaml"


def test_the_browser_offers_the_instance_file_of_the_environment(iwb: Workbench) -> None:
    assert iwb.project.options == (("CHURN", "CHURN"), ("(instance) instance/dev.yaml", INSTANCE))
    iwb.project.value = INSTANCE
    assert iwb.kind.options == ("connection", "code_env", "group", "user", "instance_variables")
    assert iwb.kind.value == "connection" and iwb.resource.options == ("lake",)
    assert "connection.lake" in iwb.title.value and "instance/dev.yaml" in iwb.title.value
    assert "type: Filesystem" in iwb.yaml.value and "root: /data/lake" in iwb.yaml.value
    iwb.kind.value = "user"
    assert iwb.resource.options == ("ada",)
    assert "${env:ADA_PASSWORD}" in iwb.yaml.value  # the reference, never a value
    iwb.env.value = "prod"  # prod names no instance file: the browser goes back to the projects
    assert iwb.project.options == (("CHURN", "CHURN"),)


def test_a_group_edit_is_previewed_then_saved_with_the_comments_kept(iwb: Workbench) -> None:
    before = instance_file(iwb).read_text()
    iwb.select("group.analysts")
    assert iwb.project.value == INSTANCE and str(iwb.address) == "group.analysts"
    iwb.yaml.value = iwb.yaml.value.replace("description: the analysts", "description: the EU analysts")
    assert "unsaved changes" in iwb.message.value
    iwb.preview_button.click()
    assert "group.analysts" in iwb.output.value and "the EU analysts" in iwb.output.value
    assert "Includes your unsaved changes" in iwb.output.value
    assert instance_file(iwb).read_text() == before  # a preview writes nothing
    iwb.save_button.click()
    assert "saved instance/dev.yaml" in iwb.message.value
    assert changed(before, instance_file(iwb).read_text()) == [
        "-    description: the analysts  # who may build", "+    description: the EU analysts  # who may build"]
    iwb.diff_button.click()
    assert "the EU analysts" in iwb.output.value
    iwb.commit_message.value = "The analysts are the EU's"
    iwb.commit_button.click()
    assert "committed" in iwb.message.value
    assert set(git.Repo(iwb.ws.root).head.commit.stats.files) == {"instance/dev.yaml"}


def test_a_user_and_a_connection_field_are_saved_in_place(iwb: Workbench) -> None:
    before = instance_file(iwb).read_text()
    iwb.select("user.ada")
    iwb.yaml.value = iwb.yaml.value.replace("Ada Lovelace", "Countess of Lovelace")
    iwb.save_button.click()
    iwb.select("connection.lake")
    iwb.yaml.value = iwb.yaml.value.replace("/data/lake", "/mnt/lake")
    iwb.save_button.click()
    assert "saved instance/dev.yaml" in iwb.message.value
    assert changed(before, instance_file(iwb).read_text()) == [
        '-  ada: {display_name: Ada Lovelace, groups: [analysts], password: "${env:ADA_PASSWORD}"}',
        '+  ada: {display_name: Countess of Lovelace, groups: [analysts], password: "${env:ADA_PASSWORD}"}',
        "-    params: {root: /data/lake}  # mounted on every node",
        "+    params: {root: /mnt/lake}  # mounted on every node"]
    with Workspace.load(iwb.ws.root) as ws:
        assert sorted(str(a.address) for a in ws.plan("dev").changes) == ["connection.lake", "user.ada"]


def test_bad_instance_values_are_refused_where_they_are(iwb: Workbench) -> None:
    before = instance_file(iwb).read_text()
    iwb.select("connection.lake")
    iwb.yaml.value = iwb.yaml.value.replace("type: Filesystem", "type: Postgres")
    assert "invalid value" in iwb.message.value and "Postgres" in iwb.message.value
    iwb.save_button.click()
    iwb.yaml.value = iwb.yaml.value.replace("type: Postgres", "type: Filesystem").replace(
        "  root: /data/lake\n", "  root: /data/lake\n  password: hunter2\n")
    iwb.save_button.click()  # a literal secret: refused at its place in the file, the value never repeated
    assert "a secret written in the file" in iwb.message.value and "hunter2" not in iwb.message.value
    assert instance_file(iwb).read_text() == before


def test_new_and_removed_instance_objects(iwb: Workbench) -> None:
    iwb.select("group.analysts")
    iwb.new_name.value = "auditors"
    iwb.new_button.click()
    assert str(iwb.address) == "group.auditors" and iwb.creating
    iwb.yaml.value = "description: read only\n"
    iwb.save_button.click()
    assert iwb.ws.instance_declared("dev", "group.auditors") == {"description": "read only"}
    assert iwb.resource.options == ("analysts", "auditors")
    iwb.remove_button.click()
    assert "click again" in iwb.message.value
    iwb.remove_button.click()
    assert iwb.ws.instance_declared("dev", "group.auditors") is None
    assert instance_file(iwb).read_text() == DEV
    with pytest.raises(ConfigError, match="not declared in the instance file of dev"):
        iwb.select("group.nobody")


def test_a_user_whose_login_holds_dots_is_started_and_saved(iwb: Workbench) -> None:
    """An LDAP or SSO login (`jane.doe@corp.com`) is one name: the workbench quotes it, as plans do."""
    iwb.select("user.ada")
    iwb.new_name.value = "jane doe"
    iwb.new_button.click()
    assert "Cannot start it" in iwb.message.value and 'user["NAME"]' in iwb.message.value and not iwb.creating
    iwb.new_name.value = "jane.doe@corp.com"
    iwb.new_button.click()
    assert str(iwb.address) == 'user["jane.doe@corp.com"]' and iwb.creating
    iwb.yaml.value = "display_name: Jane Doe\n"
    iwb.save_button.click()
    assert iwb.ws.instance_declared("dev", 'user["jane.doe@corp.com"]') == {"display_name": "Jane Doe"}
    assert "jane.doe@corp.com:" in instance_file(iwb).read_text()
