"""`dss-iac promote` end to end: a project applied to a design node, promoted by bundle through the Project
Deployer to an automation node, all through the real dataikuapi client against the simulator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.config.loader import load_workspace
from dataiku_iac.deploy import plan_promotion, promote, render_promotion
from dataiku_iac.deploy.bundle_id import bundle_id_for
from dataiku_iac.errors import ConfigError, StalePlanError
from tests.deploy.conftest import CHURN, PG, Promo

LAKE = """\
  events:
    type: PostgreSQL
    connection: lake
    params: {table: events, schema: raw}
"""


def bundle_of(promo: Promo) -> str:
    return f"git-{promo.repo.head.commit.hexsha[:12]}"


def promoted(promo: Promo, *extra: str) -> str:
    """Promote dev to prod (--yes); the bundle id it deployed."""
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes", *extra) == 0
    return bundle_of(promo)


def change_project(promo: Promo, text: str, *, apply: bool = True) -> str:
    promo.write({"projects/churn.yaml": text})
    if apply:
        promo.apply_dev()
    promo.commit()
    return bundle_of(promo)


def test_promotion_deploys_the_project_with_remapping_and_variables(promo: Promo,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    capsys.readouterr()
    bundle = promoted(promo)
    out = capsys.readouterr().out
    assert f"bundle {bundle} (commit {promo.repo.head.commit.hexsha})" in out
    assert f"Promotion complete! 1 project(s) deployed to prod with bundle {bundle}, 0 unchanged." in out

    target = promo.prod.get_project("CHURN")
    assert promo.active_bundle() == bundle
    assert target.get_dataset("orders").get_settings().get_raw()["params"]["connection"] == "pg_prod"
    recipe = target.get_recipe("score").get_settings().get_recipe_raw_definition()
    assert recipe["params"]["envSelection"]["envName"] == "py_prod"
    assert target.get_variables() == {"standard": {"threshold": "0.5"},
                                      "local": {"home": "/data/churn", "threshold": "0.9"}}
    assert target.get_scenario("NIGHTLY").get_settings().active is True

    deployment = promo.deployer.get_deployment("churn-prod")
    assert deployment.get_status().get_health() == "HEALTHY"
    settings = deployment.get_settings().get_raw()
    assert (settings["bundleId"], settings["infraId"], settings["deployedProjectKey"]) == (bundle, "prod", "CHURN")
    assert settings["bundleContainerSettings"]["remapping"]["connections"] == [{"source": "pg_dev",
                                                                                "target": "pg_prod"}]
    assert settings["bundleContainerSettings"]["remapping"]["codeEnvs"] == [{"source": "py_dev",
                                                                             "target": "py_prod"}]
    assert settings["scenariosToActivate"] == {"NIGHTLY": True}
    # The design project was only exported from: nothing in dev changed.
    assert promo.design.get_project("CHURN").get_dataset("orders").get_settings().get_raw()["params"][
        "connection"] == "pg_dev"
    assert "CHURN" not in promo.sim.client(node="staging").list_project_keys()


def test_promoting_the_same_commit_again_changes_nothing(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    bundle = promoted(promo)
    updates = len(promo.deployer.get_deployment("churn-prod").list_updates())
    capsys.readouterr()

    assert promo.run("promote", "--from", "dev", "--to", "prod") == 0  # no changes: no question asked
    out = capsys.readouterr().out
    assert out.startswith("No changes.")
    assert f"CHURN: bundle {bundle} as CHURN (deployment churn-prod, HEALTHY)" in out
    exported = promo.design.get_project("CHURN").list_exported_bundles()["bundles"]
    assert [b["bundleId"] for b in exported] == [bundle]
    assert [b["id"] for b in promo.deployer.get_project("CHURN").get_status().get_bundles()] == [bundle]
    assert len(promo.deployer.get_deployment("churn-prod").list_updates()) == updates

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["plan"]["has_changes"] is False
    assert report["plan"]["projects"][0]["bundle"] == {"id": bundle, "state": "published"}


def test_the_plan_shows_bundle_remapping_content_and_settings(promo: Promo,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    first = promoted(promo)
    changed = CHURN.replace("params: {table: orders, schema: sales}", "params: {table: orders_v2, schema: sales}")
    changed = changed.replace("  customers: {", "  archive: {type: Filesystem, managed: true, connection: files, "
                                                "format: csv}\n  customers: {")
    second = change_project(promo, changed)
    capsys.readouterr()

    # Without a terminal and without --yes: the plan, then a refusal (exit 6), and nothing deployed.
    assert promo.run("promote", "--from", "dev", "--to", "prod") == 6
    captured = capsys.readouterr()
    text = captured.out
    assert "refusing to promote without confirmation" in captured.err
    assert f"dss-iac will promote to environment prod from dev, bundle {second}" in text
    assert f"# project CHURN: deployment churn-prod will be updated (bundle {first} -> {second})" in text
    assert f"bundle:           {second} (new: exported from CHURN on dev, then published)" in text
    assert "connection files     : filesystem_managed -> filesystem_managed  (same name: no remapping)" in text
    assert "connection warehouse : pg_dev -> pg_prod" in text
    assert "code env py          : py_dev -> py_prod" in text
    assert '  + dataset "CHURN.archive" {' in text
    assert '  ~ dataset "CHURN.orders" {' in text
    assert '~ params.table = "orders" -> "orders_v2"' in text
    assert f'~ bundleId = "{first}" -> "{second}"' in text
    assert text.rstrip().endswith("Promotion: 1 project(s) to deploy, 0 unchanged; content: 1 to add, 1 to change, "
                                  "0 to remove.")
    assert promo.active_bundle() == first
    assert promo.design.get_project("CHURN").list_exported_bundles()["bundles"][-1]["bundleId"] == first

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--json") == 6
    plan = json.loads(capsys.readouterr().out)["plan"]
    [project] = plan["projects"]
    assert (plan["from"], plan["to"], plan["bundle_id"], plan["has_changes"]) == ("dev", "prod", second, True)
    assert {(r["kind"], r["logical"], r["source"], r["target"]) for r in project["remapping"]} == {
        ("connection", "warehouse", "pg_dev", "pg_prod"),
        ("connection", "files", "filesystem_managed", "filesystem_managed"),
        ("code_env", "py", "py_dev", "py_prod")}
    assert {(a["action"], a["address"]) for a in project["content"]} == {
        ("create", "dataset.CHURN.archive"), ("update", "dataset.CHURN.orders")}
    assert project["settings"]["localVariables"] == {"home": "/data/churn", "threshold": "0.9"}
    assert project["settings"]["scenariosToActivate"] == {"NIGHTLY": True}
    assert [c["path"] for c in project["settings_changes"]] == ["bundleId"]


def test_the_first_plan_creates_the_deployment(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    with Workspace.load(promo.root) as ws:
        plan = plan_promotion(ws, "dev", "prod")
    [p] = plan.projects
    assert (p.deployment_exists, p.bundle_state, p.infra, p.reason) == (False, "new", "prod",
                                                                         "no deployment churn-prod yet")
    text = render_promotion(plan)
    assert "# project CHURN: deployment churn-prod will be created on infrastructure prod" in text
    assert "deployed now:     no deployment" in text
    settings = text[text.index("deployment settings (churn-prod):"):text.index("Promotion:")].split("\n")
    assert [line.split()[1] for line in settings[1:] if line.strip()] == [
        "infraId", "bundleId", "deployedProjectKey", "remapping.codeEnvs.py_dev", "remapping.connections.pg_dev",
        "scenariosToActivate.NIGHTLY", "localVariables.home", "localVariables.threshold"]
    assert all(line.startswith("      + ") for line in settings[1:] if line.strip())
    assert '+ remapping.connections.pg_dev = "pg_prod"' in text  # the same name on both sides needs none
    assert '+ dataset "CHURN.orders" {' in text
    assert re.search(r'\+ connection +\= "pg_prod"', text)
    assert '+ scenario "CHURN.NIGHTLY" {' in text


def add_lake(promo: Promo, lake: str = LAKE) -> tuple[str, str]:
    """Promote once, then ship a project that stores `lake` in the `lake` connection (lake_dev, of type
    PostgreSQL, exists on dev; lake_prod is remapped to on prod). -> (bundle deployed, bundle of the change)."""
    promo.apply_dev()
    first = promoted(promo)
    promo.design.create_connection("lake_dev", "PostgreSQL", params=dict(PG))
    workspace = (promo.root / "dss-iac.yaml").read_text()
    promo.write({"dss-iac.yaml": workspace.replace("{warehouse: pg_dev,", "{lake: lake_dev, warehouse: pg_dev,")
                 .replace("{warehouse: pg_prod,", "{lake: lake_prod, warehouse: pg_prod,")})
    return first, change_project(promo, CHURN.replace("datasets:\n", "datasets:\n" + lake))


def assert_nothing_promoted(promo: Promo, first: str, second: str) -> None:
    """Bundle `second` was neither exported, nor published, nor deployed: prod still runs `first`."""
    exported = [b["bundleId"] for b in promo.design.get_project("CHURN").list_exported_bundles()["bundles"]]
    published = [b["id"] for b in promo.deployer.get_project("CHURN").get_status().get_bundles()]
    assert second not in exported and second not in published
    assert promo.deployer.get_deployment("churn-prod").get_settings().get_raw()["bundleId"] == first
    assert promo.active_bundle() == first


def test_a_target_node_without_the_connection_is_refused_before_anything_is_exported(
        promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = add_lake(promo)
    capsys.readouterr()
    for args in ((), ("--yes",)):
        assert promo.run("promote", "--from", "dev", "--to", "prod", *args) == 3
        assert capsys.readouterr().err.strip().splitlines() == [
            "error: projects/churn.yaml:10:17: connection 'lake_prod' (lake) of dataset 'events' does not exist on "
            "prod"]
    assert_nothing_promoted(promo, first, second)
    # Of the wrong type: refused too, before DSS's activation would have said so.
    promo.prod.create_connection("lake_prod", "Filesystem", params={"root": "/data"})
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 3
    assert ("dataset 'events' is PostgreSQL, but connection 'lake_prod' (lake) on prod is Filesystem"
            in capsys.readouterr().err)
    assert_nothing_promoted(promo, first, second)
    promo.prod.get_connection("lake_prod").delete()
    promo.prod.create_connection("lake_prod", "PostgreSQL", params=dict(PG))
    assert promoted(promo) == second
    assert promo.active_bundle() == second


def test_promote_checks_the_target_again_before_it_exports(promo: Promo) -> None:
    first, second = add_lake(promo)
    promo.prod.create_connection("lake_prod", "PostgreSQL", params=dict(PG))
    promo.prod.get_code_env("PYTHON", "py_prod").delete()
    with Workspace.load(promo.root) as ws:
        with pytest.raises(ConfigError, match=r"churn\.yaml:\d+:\d+: python code env 'py_prod' \(py\) of recipe "
                                              "'score' does not exist on prod"):
            plan_promotion(ws, "dev", "prod")
        promo.prod.create_code_env("python", "py_prod", "AUTOMATION_SINGLE")
        plan = plan_promotion(ws, "dev", "prod")
        promo.prod.get_connection("lake_prod").delete()  # between the plan and the promotion
        with pytest.raises(ConfigError, match="connection 'lake_prod' \\(lake\\) of dataset 'events' does not exist"):
            promote(ws, plan)
    assert_nothing_promoted(promo, first, second)


def test_an_activation_failure_keeps_the_previous_bundle(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    # A managed folder on prod's lake connection: it exists (the check is about existence), but DSS refuses to
    # activate the bundle on a connection of another type than the design's.
    first, second = add_lake(promo, "  events: {type: PostgreSQL, connection: warehouse, params: {table: ev}}\n")
    change = CHURN.replace("datasets:\n", "managed_folders:\n  archive: {connection: lake}\ndatasets:\n")
    promo.design.get_connection("lake_dev").delete()
    promo.design.create_connection("lake_dev", "Filesystem", params={"root": "/data/dev"})
    promo.prod.create_connection("lake_prod", "HDFS", params={"root": "/data/prod"})
    second = change_project(promo, change)
    capsys.readouterr()

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[-1].startswith(f"error: promoting project CHURN to prod failed: bundle {second} was not activated "
                                 f"(the deployment stays on bundle {first}): Update of deployment churn-prod failed")
    assert "ERR_BUNDLE_ACTIVATE_BAD_CONNECTION_TYPE" in errors[-1]
    assert "'lake_prod' (remapped from 'lake_dev')" in errors[-1]
    assert "Exception" not in errors[-1]
    # DSS activates all or nothing: prod still runs the first bundle, and the deployment says so.
    assert promo.active_bundle() == first
    assert "archive" not in [f["name"] for f in promo.prod.get_project("CHURN").list_managed_folders()]
    deployment = promo.deployer.get_deployment("churn-prod")
    assert deployment.get_settings().get_raw()["bundleId"] == first
    assert deployment.get_status().get_health() == "ERROR"

    # Once prod's connection is of the right type, the same promotion goes through (the bundle is reused).
    promo.prod.get_connection("lake_prod").delete()
    promo.prod.create_connection("lake_prod", "Filesystem", params={"root": "/data/prod"})
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 0
    assert "already on the Project Deployer: reused" in capsys.readouterr().out
    assert promo.active_bundle() == second
    assert "archive" in [f["name"] for f in promo.prod.get_project("CHURN").list_managed_folders()]


def test_rollback_redeploys_an_earlier_bundle(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    first = promoted(promo)
    second = change_project(promo, CHURN.replace("params: {table: orders, schema: sales}",
                                                 "params: {table: orders_v2, schema: sales}"))
    promoted(promo)
    assert promo.active_bundle() == second
    capsys.readouterr()

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--bundle", first) == 6
    text = capsys.readouterr().out
    assert f"dss-iac will roll back to environment prod from dev, bundle {first}:" in text
    assert f"bundle:           {first} (an earlier bundle, already on the Project Deployer)" in text
    assert f"content as configured at commit {first[4:]}" in text
    assert '~ params.table = "orders_v2" -> "orders"' in text

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--bundle", first, "--yes") == 0
    assert promo.active_bundle() == first
    orders = promo.prod.get_project("CHURN").get_dataset("orders").get_settings().get_raw()
    assert orders["params"]["table"] == "orders"
    assert orders["params"]["connection"] == "pg_prod"
    assert promo.deployer.get_deployment("churn-prod").get_status().get_health() == "HEALTHY"
    # Rolling forward again is a plain promotion of the current commit.
    assert promoted(promo) == second
    assert promo.active_bundle() == second


def test_an_unknown_bundle_lists_the_published_ones(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    first = promoted(promo)
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--bundle", "git-000000000000", "--yes") == 1
    assert capsys.readouterr().err.strip() == (
        "error: bundle git-000000000000 is not published for project CHURN on the Project Deployer of dev "
        f"(published bundles: {first})")


def test_uncommitted_configuration_is_refused(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    promo.write({"projects/churn.yaml": CHURN.replace("name: Churn", "name: Churn v2")})
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 1
    err = capsys.readouterr().err
    assert "error: the working tree has uncommitted changes to projects/churn.yaml: commit them first" in err
    promo.write({"projects/churn.yaml": CHURN, "projects/other.yaml": "project: {key: OTHER, name: Other}\n"})
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 1
    assert "uncommitted changes to projects/other.yaml" in capsys.readouterr().err
    (promo.root / "projects" / "other.yaml").unlink()
    promo.write({"recipes/score.py": "import dataiku\n# changed\n"})
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 1
    assert "uncommitted changes to recipes/score.py" in capsys.readouterr().err
    promo.write({"recipes/score.py": "import dataiku\n# score the customers\n", "README.md": "edited\n"})
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 0  # other files do not matter
    assert "CHURN" in promo.prod.list_project_keys()


def test_a_design_project_that_does_not_match_the_commit_is_refused(promo: Promo,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    change_project(promo, CHURN.replace("name: Churn", "name: Churn v2"), apply=False)
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 1
    assert capsys.readouterr().err.strip() == (
        "error: project CHURN in environment dev does not match the configuration (project.CHURN would change): "
        f"apply it first (dss-iac apply -e dev), so that bundle {bundle_of(promo)} holds this configuration")
    assert "CHURN" not in promo.prod.list_project_keys()


def test_environments_must_be_a_design_environment_and_a_bundle_environment(
        promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "dev") == 1
    assert "cannot promote environment dev to itself" in capsys.readouterr().err
    assert promo.run("promote", "--from", "prod", "--to", "dev") == 1
    assert "environment prod has deploy: bundle: promote --from needs a direct environment" in capsys.readouterr().err
    workspace = (promo.root / "dss-iac.yaml").read_text()
    promo.write({"dss-iac.yaml": workspace + "  staging:\n    host: " + promo.sim.url("staging") +
                 "\n    api_key: ${env:DSS_IAC_TEST_PROMOTE_KEY}\n"})
    assert promo.run("promote", "--from", "dev", "--to", "staging") == 1
    assert "environment staging has deploy: direct: set deploy: bundle" in capsys.readouterr().err
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--project", "NOPE") == 1
    assert "no project NOPE in the workspace (projects: CHURN)" in capsys.readouterr().err


def test_the_infra_is_the_environments_or_the_one_at_its_url(promo: Promo,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    workspace = (promo.root / "dss-iac.yaml").read_text()
    promo.write({"dss-iac.yaml": workspace.replace("    deploy: bundle\n", "    deploy: bundle\n    infra: nowhere\n")})
    promo.commit()
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 1
    assert ("error: the Project Deployer of dev has no infrastructure 'nowhere' for environment prod "
            "(infrastructures: prod, staging); set `infra:` in environment prod") in capsys.readouterr().err
    promo.write({"dss-iac.yaml": workspace.replace("    deploy: bundle\n", "    deploy: bundle\n    infra: prod\n")})
    promo.commit()
    promoted(promo)
    assert promo.active_bundle() == bundle_of(promo)


def test_the_python_api(promo: Promo) -> None:
    promo.apply_dev()
    with Workspace.load(promo.root) as ws:
        plan = plan_promotion(ws, "dev", "prod", ["CHURN"])
        assert json.loads(json.dumps(plan.to_dict()))["summary"] == {"deploy": 1, "unchanged": 0}
        seen: list[str] = []
        result = promote(ws, plan, progress=seen.append)
        assert result.ok
        assert [(p.project, p.status, p.health) for p in result.projects] == [("CHURN", "deployed", "HEALTHY")]
        assert seen[0] == f"CHURN: exporting bundle {plan.bundle_id} from CHURN on dev"
        assert seen[-1] == f"CHURN: deployed bundle {plan.bundle_id} as CHURN on prod (HEALTHY)"
        again = plan_promotion(ws, "dev", "prod")
        assert not again.has_changes
        assert promote(ws, again).projects[0].status == "unchanged"

        # Settings edited in the deployer are put back; a plan overtaken by another change is not run.
        deployment = promo.deployer.get_deployment("churn-prod")
        settings = deployment.get_settings()
        settings.get_raw()["localVariables"] = {"env": "edited by hand"}
        settings.save()
        fix = plan_promotion(ws, "dev", "prod")
        assert [(c.path, c.before, c.after) for c in fix.projects[0].settings_changes] == [
            ("localVariables.env", "edited by hand", None), ("localVariables.home", None, "/data/churn"),
            ("localVariables.threshold", None, "0.9")]
        deployment.delete()
        with pytest.raises(StalePlanError, match="deployment churn-prod changed since it was made"):
            promote(ws, fix)


def test_outside_git_the_bundle_id_is_a_utc_timestamp(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    (tmp_path / "dss-iac.yaml").write_text("version: 1\nenvironments: {dev: {host: embedded}}\n")
    ref = bundle_id_for(load_workspace(tmp_path), now=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC))
    assert (ref.id, ref.commit) == ("ts-20250304-050607", None)
    assert re.match(r"^ts-\d{8}-\d{6}$", bundle_id_for(load_workspace(tmp_path)).id)


class _Terminal:
    """Standard input as a terminal where the user types `answer`."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        return self.answer


def test_a_typed_yes_is_the_approval(promo: Promo, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    promo.apply_dev()
    monkeypatch.setattr("sys.stdin", _Terminal("no\n"))
    assert promo.run("promote", "--from", "dev", "--to", "prod") == 1
    err = capsys.readouterr().err
    assert "Do you want to deploy these bundles to environment prod?" in err
    assert "Promotion cancelled." in err
    assert "CHURN" not in promo.prod.list_project_keys()
    assert promo.design.get_project("CHURN").list_exported_bundles()["bundles"] == []

    monkeypatch.setattr("sys.stdin", _Terminal("yes\n"))
    assert promo.run("promote", "--from", "dev", "--to", "prod") == 0
    assert promo.active_bundle() == bundle_of(promo)


def test_json_with_yes_reports_the_plan_and_the_result(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    capsys.readouterr()
    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes", "--json") == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["format_version"] == 1
    assert report["plan"]["projects"][0]["deployment_id"] == "churn-prod"
    result = report["result"]
    assert (result["ok"], result["bundle_id"]) == (True, bundle_of(promo))
    assert [(p["project"], p["status"], p["health"]) for p in result["projects"]] == [
        ("CHURN", "deployed", "HEALTHY")]
    assert "CHURN: updating deployment churn-prod" in captured.err  # progress goes to stderr


def test_a_protected_target_needs_allow_delete_and_secret_variables_stay_masked(
        promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    promo.apply_dev()
    first = promoted(promo)
    workspace = (promo.root / "dss-iac.yaml").read_text()
    workspace = workspace.replace("    deploy: bundle\n", "    deploy: bundle\n    protected: true\n")
    promo.write({"dss-iac.yaml": workspace})
    kept = [line for line in CHURN.splitlines(keepends=True) if not line.startswith(("  scored:", "  score:"))]
    without_score = "".join(kept).replace("local: {home: /data/churn}",
                                          "local: {home: /data/churn, api_token: CANARY-7731}")
    second = change_project(promo, without_score)
    capsys.readouterr()

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes") == 6
    captured = capsys.readouterr()
    assert "error: environment prod is protected and activating the bundle deletes or replaces 2 object(s)" in \
        captured.err and "pass --allow-delete" in captured.err
    assert promo.active_bundle() == first  # nothing was deployed
    assert "CANARY-7731" not in captured.out + captured.err

    assert promo.run("promote", "--from", "dev", "--to", "prod", "--yes", "--allow-delete", "--json") == 0
    out = capsys.readouterr().out
    assert "CANARY-7731" not in out
    assert json.loads(out)["plan"]["projects"][0]["settings"]["localVariables"]["api_token"] == "(sensitive)"
    assert promo.active_bundle() == second


def test_a_re_plan_right_after_a_promotion_is_empty(promo: Promo, capsys: pytest.CaptureFixture[str]) -> None:
    """The bundle brings the design project's standard variables (dev's values) and the deployment sets the local
    ones (the project's, and prod's values of the standard ones): `plan -e prod` must expect exactly that."""
    promo.write({"dss-iac.yaml": (promo.root / "dss-iac.yaml").read_text().replace(
        "code_envs: {py: py_dev}", "code_envs: {py: py_dev}\n    variables: {threshold: \"0.1\"}")})
    promo.commit("dev has its own threshold")
    promo.apply_dev()
    promoted(promo)
    assert promo.prod.get_project("CHURN").get_variables() == {
        "standard": {"threshold": "0.1"}, "local": {"home": "/data/churn", "threshold": "0.9"}}
    capsys.readouterr()

    assert promo.run("plan", "-e", "prod", "--detailed-exitcode") == 0, capsys.readouterr().out
    assert "No changes." in capsys.readouterr().out
