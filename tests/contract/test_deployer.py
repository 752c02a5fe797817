"""Project Deployer: stages, infrastructures, published projects, deployments and their updates, through
dataikuapi. The simulator's design node hosts the deployer and deploys to its `automation` node."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from dataikuapi import DSSClient, GovernClient
from dataikuapi.dss.project import DSSProject
from dataikuapi.dss.projectdeployer import DSSProjectDeployer, DSSProjectDeployerDeployment
from dataikuapi.govern.blueprint import GovernBlueprintVersionId
from dataikuapi.utils import DataikuException

from dataiku_iac.sim import Simulator
from tests.conftest import NON_ADMIN_KEY

pytestmark = pytest.mark.multinode

PG_PARAMS = {"host": "db.example.com", "port": 5432, "db": "dwh", "user": "etl"}


def unique(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:10].upper()


@dataclass
class Env:
    """A design project published on the deployer under its own key, and what the test creates around it."""

    dss: DSSClient
    auto: DSSClient
    deployer: DSSProjectDeployer
    project: DSSProject
    key: str
    cleanups: list[Any] = field(default_factory=list)

    def publish(self, bundle_id: str) -> None:
        self.project.export_bundle(bundle_id)
        self.project.publish_bundle(bundle_id, published_project_key=self.key)

    def deploy(self, bundle_id: str = "v1", infra: str = "automation", **kwargs: Any) -> DSSProjectDeployerDeployment:
        dep = self.deployer.create_deployment(unique("dep-").lower(), self.key, infra, bundle_id, **kwargs)
        self.cleanups.append(dep.delete)
        deployed_key = kwargs.get("deployed_project_key") or self.key
        self.cleanups.append(lambda: self.auto.get_project(deployed_key).delete())
        return dep

    def connection(self, client: DSSClient, name: str | None = None) -> str:
        name = name or unique("pg_").lower()
        conn = client.create_connection(name, "PostgreSQL", params=dict(PG_PARAMS))
        self.cleanups.append(conn.delete)
        return name

    def infra(self, policy: str = "NO_CHECK", url: str | None = None) -> str:
        infra_id = unique("infra-").lower()
        infra = self.deployer.create_infra(infra_id, "Test", govern_check_policy=policy)
        self.cleanups.append(infra.delete)
        settings = infra.get_settings()
        settings.get_raw()["automationNodeUrl"] = url or self.auto.host
        settings.save()
        return infra_id


@pytest.fixture
def env(sim: Simulator, project: DSSProject) -> Iterator[Env]:
    dss = sim.client()
    project.new_managed_dataset("customers").with_store_into("filesystem_managed").create()
    project.set_variables({"standard": {"env": "dev"}, "local": {"home": "/home/dev"}})
    e = Env(dss, sim.client(node="automation"), dss.get_projectdeployer(), project, unique("PUB"))
    e.publish("v1")
    yield e
    for cleanup in reversed(e.cleanups):  # deployments before what they use
        with contextlib.suppress(DataikuException):
            cleanup()
    with contextlib.suppress(DataikuException):
        e.deployer.get_project(e.key).delete()


def health(dep: DSSProjectDeployerDeployment) -> str:
    return dep.get_status().get_health()


def active_bundle(project: DSSProject) -> str | None:
    return next((b["bundleId"] for b in project.list_imported_bundles()["bundles"] if b["active"]), None)


# -- stages and infrastructures ---------------------------------------------------------------------------

def test_stages_and_the_seeded_infrastructure(sim: Simulator) -> None:
    deployer = sim.client().get_projectdeployer()
    assert [s["id"] for s in deployer.list_stages()] == ["Development", "Test", "Production"]
    listed = {i["infraBasicInfo"]["id"]: i for i in deployer.list_infras(as_objects=False)}
    assert listed["automation"]["infraBasicInfo"]["governCheckPolicy"] == "NO_CHECK"
    raw = deployer.get_infra("automation").get_settings().get_raw()
    assert (raw["automationNodeUrl"], raw["nodeId"]) == (sim.url("automation"), "automation")
    # An infra's settings are enough to reach its automation node, as with a real deployer.
    assert DSSClient(raw["automationNodeUrl"], raw["adminApiKey"]).get_instance_info().node_type == "AUTOMATION"


def test_infrastructure_lifecycle(sim: Simulator) -> None:
    deployer = sim.client().get_projectdeployer()
    infra_id = unique("infra-").lower()
    infra = deployer.create_infra(infra_id, "Test", govern_check_policy="WARN")
    try:
        assert infra.get_status().get_raw()["infraBasicInfo"] == {
            "id": infra_id, "stage": "Test", "governCheckPolicy": "WARN"}
        with pytest.raises(DataikuException, match="already exists"):
            deployer.create_infra(infra_id, "Test")
        settings = infra.get_settings()
        raw = settings.get_raw()
        raw["automationNodeUrl"] = "https://auto.example.com"
        raw["permissions"] = [{"group": "ops", "deploy": True}]
        raw["stage"] = "Production"
        settings.save()
        again = infra.get_settings().get_raw()
        assert again["automationNodeUrl"] == "https://auto.example.com"
        assert again["permissions"] == [{"group": "ops", "admin": False, "read": False, "deploy": True}]
        assert infra.get_status().get_raw()["infraBasicInfo"]["stage"] == "Production"
        for key, value in (("id", "other"), ("stage", "Nowhere"), ("governCheckPolicy", "MAYBE")):
            bad = infra.get_settings()
            bad.get_raw()[key] = value
            with pytest.raises(DataikuException):
                bad.save()
        assert infra.get_settings().get_raw() == again  # refused saves change nothing
    finally:
        infra.delete()
    with pytest.raises(DataikuException, match=infra_id):
        infra.get_settings()


@pytest.mark.parametrize(("stage", "policy"), [("Nowhere", "NO_CHECK"), ("Test", "SOMETIMES")])
def test_invalid_infrastructures_are_refused(sim: Simulator, stage: str, policy: str) -> None:
    deployer = sim.client().get_projectdeployer()
    infra_id = unique("infra-").lower()
    with pytest.raises(DataikuException):
        deployer.create_infra(infra_id, stage, govern_check_policy=policy)
    assert infra_id not in [i.id for i in deployer.list_infras()]


def test_only_admins_manage_infrastructures(sim: Simulator) -> None:
    deployer = sim.client(api_key=NON_ADMIN_KEY).get_projectdeployer()
    with pytest.raises(DataikuException, match="not an administrator"):
        deployer.create_infra(unique("infra-").lower(), "Test")


# -- published projects --------------------------------------------------------------------------------------

def test_published_project_lifecycle(sim: Simulator, project: DSSProject, tmp_path: Path) -> None:
    deployer = sim.client().get_projectdeployer()
    key = unique("PUB")
    published = deployer.create_project(key)
    try:
        with pytest.raises(DataikuException, match="already exists"):
            deployer.create_project(key)
        assert key in [p.id for p in deployer.list_projects()]
        settings = published.get_settings()
        settings.get_raw()["permissions"] = [{"group": "data_team", "read": True, "deploy": True}]
        settings.save()
        assert published.get_settings().get_raw()["permissions"] == [
            {"group": "data_team", "admin": False, "read": True, "write": False, "deploy": True}]

        project.export_bundle("v1")
        archive = tmp_path / "v1.zip"
        project.download_exported_bundle_archive_to_file("v1", str(archive))
        with open(archive, "rb") as f:
            deployer.upload_bundle(f, project_key=key)
        assert [b["id"] for b in published.get_status().get_bundles()] == ["v1"]
        with published.get_bundle_stream("v1") as stream:
            assert stream.content == archive.read_bytes()
        published.delete_bundle("v1")
        assert published.get_status().get_bundles() == []
        with pytest.raises(DataikuException, match="v1"):
            published.delete_bundle("v1")
    finally:
        published.delete()
    assert key not in [p.id for p in deployer.list_projects()]


def test_upload_without_a_key_uses_the_source_project(sim: Simulator, project: DSSProject, tmp_path: Path) -> None:
    deployer = sim.client().get_projectdeployer()
    project.export_bundle("v1")
    archive = tmp_path / "v1.zip"
    project.download_exported_bundle_archive_to_file("v1", str(archive))
    with open(archive, "rb") as f:
        deployer.upload_bundle(f)
    try:
        assert [b["id"] for b in deployer.get_project(project.project_key).get_status().get_bundles()] == ["v1"]
    finally:
        deployer.get_project(project.project_key).delete()


@pytest.mark.parametrize("bad_key", ["has space", "dash-ed", ""])
def test_invalid_published_keys_are_refused(sim: Simulator, bad_key: str) -> None:
    with pytest.raises(DataikuException):
        sim.client().get_projectdeployer().create_project(bad_key)


# -- deployments -----------------------------------------------------------------------------------------------

def test_create_deployment_checks_what_it_points_to(env: Env) -> None:
    for project_key, infra, bundle in ((unique("NOPE"), "automation", "v1"), (env.key, "no-infra", "v1"),
                                       (env.key, "automation", "v9")):
        with pytest.raises(DataikuException):
            env.deployer.create_deployment(unique("dep-").lower(), project_key, infra, bundle)
    dep = env.deploy()
    with pytest.raises(DataikuException, match="already exists"):
        env.deployer.create_deployment(dep.id, env.key, "automation", "v1")
    with pytest.raises(DataikuException, match="already deploys"):  # same project key on the same infra
        env.deployer.create_deployment(unique("dep-").lower(), env.key, "automation", "v1")
    assert env.deployer.list_deployments(as_objects=False).count(dep.get_status().get_light()) == 1

    raw = dep.get_settings().get_raw()
    assert (raw["publishedProjectKey"], raw["infraId"], raw["bundleId"], raw["deployedProjectKey"]) == (
        env.key, "automation", "v1", env.key)
    assert raw["bundleContainerSettings"]["remapping"] == {"connections": [], "codeEnvs": []}
    assert (raw["localVariables"], raw["scenariosToActivate"], raw["disableAutomaticTriggers"]) == ({}, {}, False)
    assert dep.id in [d.id for d in env.deployer.get_project(env.key).get_status().get_deployments("automation")]
    assert dep.id in [d.id for d in env.deployer.get_infra("automation").get_status().get_deployments()]
    assert health(dep) == "UNKNOWN"
    # What a deployment uses can't go away under it.
    with pytest.raises(DataikuException, match=dep.id):
        env.deployer.get_project(env.key).delete_bundle("v1")
    with pytest.raises(DataikuException, match=dep.id):
        env.deployer.get_project(env.key).delete()
    with pytest.raises(DataikuException, match=dep.id):
        env.deployer.get_infra("automation").delete()


def test_invalid_settings_are_refused(env: Env) -> None:
    dep = env.deploy()
    before = dep.get_settings().get_raw()
    changes = [("publishedProjectKey", "OTHER"), ("infraId", "elsewhere"), ("bundleId", "v9"),
               ("localVariables", ["not", "a", "dict"]), ("deployedProjectKey", "bad key"),
               ("bundleContainerSettings", {"remapping": {"connections": [{"source": "only"}]}})]
    for key, value in changes:
        settings = dep.get_settings()
        settings.get_raw()[key] = value
        with pytest.raises(DataikuException):
            settings.save()
    assert dep.get_settings().get_raw() == before


def test_update_deploys_the_bundle_with_the_deployment_settings(env: Env) -> None:
    dev, prod = env.connection(env.dss), env.connection(env.auto)
    env.project.create_sql_table_dataset("orders", "PostgreSQL", dev, "orders", "sales")
    scenario_id = env.project.create_scenario("Nightly", "step_based").id
    env.publish("v2")
    deployed_key = unique("PROD")
    dep = env.deploy("v2", deployed_project_key=deployed_key)
    settings = dep.get_settings()
    raw = settings.get_raw()
    raw["bundleContainerSettings"]["remapping"]["connections"] = [{"source": dev, "target": prod}]
    raw["localVariables"] = {"env": "prod"}
    raw["scenariosToActivate"] = {scenario_id: True}
    raw["tags"] = ["prod", "critical", "prod"]
    settings.save()
    assert dep.get_settings().get_raw()["tags"] == ["critical", "prod"]

    result = dep.start_update().wait_for_result()
    assert result["error"] is False
    assert health(dep) == "HEALTHY"
    target = env.auto.get_project(deployed_key)
    assert active_bundle(target) == "v2"
    assert target.get_dataset("orders").get_settings().get_raw()["params"]["connection"] == prod
    assert target.get_variables() == {"standard": {"env": "dev"}, "local": {"env": "prod"}}
    assert target.get_scenario(scenario_id).get_settings().active is True
    remapping = target.get_settings().get_raw()["bundleContainerSettings"]["remapping"]
    assert remapping["connections"] == [{"source": dev, "target": prod}]
    [update] = dep.list_updates()
    assert update.status == "SUCCESS"
    assert dep.get_update().get_raw()["requester"] == "admin"

    settings = dep.get_settings()
    settings.get_raw()["localVariables"] = {"env": "production"}
    settings.save()
    assert health(dep) == "OUT_OF_SYNC"
    dep.start_update().wait_for_result()
    assert health(dep) == "HEALTHY"
    assert target.get_variables()["local"] == {"env": "production"}
    assert [u.status for u in dep.list_updates()] == ["SUCCESS", "SUCCESS"]


def test_a_deployed_key_rehomes_references_to_the_project_itself(env: Env) -> None:
    scenario = env.project.create_scenario("Build", "step_based")
    settings = scenario.get_settings()
    settings.get_raw()["params"]["steps"] = [{"type": "build_flowitem", "params": {"builds": [
        {"type": "DATASET", "itemId": "customers", "projectKey": env.project.project_key}]}}]
    settings.save()
    env.publish("v2")
    deployed_key = unique("PROD")
    env.deploy("v2", deployed_project_key=deployed_key).start_update().wait_for_result()
    raw = env.auto.get_project(deployed_key).get_scenario(scenario.id).get_settings().get_raw()
    assert raw["params"]["steps"][0]["params"]["builds"][0]["projectKey"] == deployed_key


def test_a_failed_update_keeps_the_previous_bundle(env: Env) -> None:
    dep = env.deploy()
    dep.start_update().wait_for_result()
    dev = env.connection(env.dss)
    env.project.create_sql_table_dataset("orders", "PostgreSQL", dev, "orders", "sales")
    env.publish("v2")
    settings = dep.get_settings()
    settings.bundle_id = "v2"
    settings.save()

    with pytest.raises(DataikuException, match=f"ERR_BUNDLE_ACTIVATE_CONNECTION_NOT_FOUND.*'{dev}'"):
        dep.start_update().wait_for_result()
    status = dep.get_status()
    assert status.get_health() == "ERROR"
    assert status.get_health_messages()["messages"][0]["severity"] == "ERROR"
    target = env.auto.get_project(env.key)
    assert active_bundle(target) == "v1"
    assert [d.name for d in target.list_datasets()] == ["customers"]
    assert [u.status for u in dep.list_updates()] == ["FAILED", "SUCCESS"]  # newest first

    prod = env.connection(env.auto)
    settings = dep.get_settings()
    settings.get_raw()["bundleContainerSettings"]["remapping"]["connections"] = [{"source": dev, "target": prod}]
    settings.save()
    dep.start_update().wait_for_result()
    assert health(dep) == "HEALTHY"
    assert active_bundle(target) == "v2"


def test_deleting_the_deployed_project_shows_in_health(env: Env) -> None:
    dep = env.deploy()
    dep.start_update().wait_for_result()
    env.auto.get_project(env.key).delete()
    status = dep.get_status()
    assert status.get_health() == "ERROR"
    assert env.key in status.get_health_messages()["messages"][0]["title"]
    dep.start_update().wait_for_result()  # an update deploys it again
    assert health(dep) == "HEALTHY"


def test_deleting_a_deployment_leaves_the_automation_project(env: Env) -> None:
    dep = env.deployer.create_deployment(unique("dep-").lower(), env.key, "automation", "v1")
    env.cleanups.append(lambda: env.auto.get_project(env.key).delete())
    dep.start_update().wait_for_result()
    dep.delete()
    assert dep.id not in [d.id for d in env.deployer.list_deployments()]
    assert env.key in env.auto.list_project_keys()
    with pytest.raises(DataikuException, match=dep.id):
        dep.get_settings()


def test_infra_remappings_seed_new_deployments_only(env: Env) -> None:
    infra_id = env.infra()
    infra = env.deployer.get_infra(infra_id)
    settings = infra.get_settings()
    settings.get_raw()["bundleContainerSettings"]["remapping"]["connections"] = [{"source": "a", "target": "b"}]
    settings.save()
    dep = env.deploy(infra=infra_id)
    assert dep.get_settings().get_raw()["bundleContainerSettings"]["remapping"]["connections"] == [
        {"source": "a", "target": "b"}]
    settings = infra.get_settings()
    settings.get_raw()["bundleContainerSettings"]["remapping"]["connections"] = []
    settings.save()
    assert dep.get_settings().get_raw()["bundleContainerSettings"]["remapping"]["connections"] == [
        {"source": "a", "target": "b"}]
    dep.start_update().wait_for_result()  # the infra reaches the automation node by its URL
    assert active_bundle(env.auto.get_project(env.key)) == "v1"


def test_an_infra_pointing_nowhere_fails_the_update(env: Env) -> None:
    dep = env.deploy(infra=env.infra(url="https://nowhere.example.com"))
    with pytest.raises(DataikuException, match="no known automation node"):
        dep.start_update().wait_for_result()
    assert health(dep) == "ERROR"
    assert env.key not in env.auto.list_project_keys()


def test_test_scenarios_run_on_the_automation_node(env: Env) -> None:
    scenario = env.project.create_scenario("Smoke test", "step_based")
    settings = scenario.get_settings()
    settings.get_raw()["markedAsTest"] = True
    settings.save()
    env.publish("v2")
    dep = env.deploy("v2")
    dep.start_update().wait_for_result()
    status = dep.run_test_scenarios()
    assert status.nb_total_ran_scenarios == 1
    assert status.nb_scenarios_per_outcome["SUCCESS"] == 1
    assert dep.get_testing_status(bundle_id="v2").nb_total_ran_scenarios == 1
    assert dep.get_testing_status(bundle_id="v1").nb_total_ran_scenarios == 0
    assert env.auto.get_project(env.key).get_scenario(scenario.id).get_last_runs(limit=1)[0].outcome == "SUCCESS"
    with pytest.raises(DataikuException, match="elsewhere"):
        dep.get_testing_status(automation_node_id="elsewhere")


def test_deployer_state_survives_a_restart(tmp_path: Path) -> None:
    key = unique("PERS")
    with Simulator(data_dir=tmp_path / "sim") as first:
        design = first.client()
        project = design.create_project(key, key, "admin")
        for bundle_id in ("zeta", "alpha"):  # import order is not name order
            project.export_bundle(bundle_id)
            project.publish_bundle(bundle_id)
        deployer = design.get_projectdeployer()
        deployer.create_deployment("dep-persisted", key, "automation", "zeta").start_update().wait_for_result()
    with Simulator(data_dir=tmp_path / "sim") as second:  # another port: the infra finds its node by id
        dep = second.client().get_projectdeployer().get_deployment("dep-persisted")
        assert health(dep) == "HEALTHY"
        settings = dep.get_settings()
        settings.bundle_id = "alpha"
        settings.save()
        dep.start_update().wait_for_result()
        target = second.client(node="automation").get_project(key)
        assert [b["bundleId"] for b in target.list_imported_bundles()["bundles"]] == ["zeta", "alpha"]
        assert active_bundle(target) == "alpha"


# -- governance -----------------------------------------------------------------------------------------------

def approve_in_govern(gov: GovernClient, published_key: str, bundle_id: str) -> Any:
    artifact = gov.create_artifact({
        "blueprintVersionId": GovernBlueprintVersionId("bp.system.govern_bundle", "bv.system.default").build(),
        "name": f"{published_key} {bundle_id}",
        "fields": {"published_project_key": published_key, "bundle_id": bundle_id},
    })
    signoff = artifact.get_signoff("review")
    signoff.update_status("WAITING_FOR_APPROVAL", users_to_notify=[])
    signoff.add_approval("APPROVED")
    return artifact


def severities(status: dict[str, Any]) -> list[str]:
    return [m["severity"] for m in status["messages"]]


def test_prevent_policy_blocks_unapproved_bundles(env: Env, sim: Simulator) -> None:
    infra_id = env.infra("PREVENT")
    for ignore in (False, True):  # an error, not a warning: ignoreWarnings does not help
        with pytest.raises(DataikuException, match="ERR_GOVERN_BUNDLE_NOT_APPROVED"):
            env.deployer.create_deployment(unique("dep-").lower(), env.key, infra_id, "v1", ignore_warnings=ignore)
    artifact = approve_in_govern(sim.govern_client(), env.key, "v1")
    env.cleanups.append(artifact.delete)
    dep = env.deploy(infra=infra_id)
    assert severities(dep.get_governance_status("v1")) == ["SUCCESS"]
    dep.start_update().wait_for_result()
    assert health(dep) == "HEALTHY"

    env.publish("v2")
    assert severities(dep.get_governance_status("v2")) == ["ERROR"]
    settings = dep.get_settings()
    settings.bundle_id = "v2"
    with pytest.raises(DataikuException, match="ERR_GOVERN_BUNDLE_NOT_APPROVED"):
        settings.save(ignore_warnings=True)
    assert dep.get_settings().bundle_id == "v1"


def test_warn_policy_asks_for_confirmation(env: Env) -> None:
    infra_id = env.infra("WARN")
    with pytest.raises(DataikuException, match="ignoreWarnings"):
        env.deployer.create_deployment(unique("dep-").lower(), env.key, infra_id, "v1")
    dep = env.deploy(infra=infra_id, ignore_warnings=True)
    assert severities(dep.get_governance_status()) == ["WARNING"]
    result = dep.start_update().wait_for_result()
    assert result["warning"] is True
    assert health(dep) == "WARNING"


def test_no_check_policy_ignores_govern(env: Env) -> None:
    dep = env.deploy()
    assert severities(dep.get_governance_status()) == ["INFO"]
    with pytest.raises(DataikuException, match="v9"):
        dep.get_governance_status("v9")


def test_the_govern_check_policy_is_an_infrastructure_setting(env: Env, sim: Simulator) -> None:
    """What `govern_check` plans and sets: the policy in the infrastructure's settings document; the deployer's
    governance status follows it."""
    infra_id = env.infra("NO_CHECK")
    dep = env.deploy(infra=infra_id)
    assert severities(dep.get_governance_status("v1")) == ["INFO"]
    settings = env.deployer.get_infra(infra_id).get_settings()
    assert settings.get_raw()["governCheckPolicy"] == "NO_CHECK"
    settings.get_raw()["governCheckPolicy"] = "PREVENT"
    settings.save()
    assert env.deployer.get_infra(infra_id).get_settings().get_raw()["governCheckPolicy"] == "PREVENT"
    assert severities(dep.get_governance_status("v1")) == ["ERROR"]
    artifact = approve_in_govern(sim.govern_client(), env.key, "v1")
    env.cleanups.append(artifact.delete)
    assert severities(dep.get_governance_status("v1")) == ["SUCCESS"]
