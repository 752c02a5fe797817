"""The example workspaces a new user copies: they load, hold what their READMEs promise, and apply cleanly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.config.loader import load_workspace
from dataiku_iac.errors import ConfigError
from dataiku_iac.resources.recipe import CODE_RECIPES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SIMPLE = EXAMPLES / "simple-project"
ML = EXAMPLES / "ml-pipeline"
RETAIL = EXAMPLES / "retail-flow"


def test_simple_project_declares_one_complete_project() -> None:
    config = load_workspace(SIMPLE)
    assert list(config.projects) == ["CHURN"]
    churn = config.projects["CHURN"]
    spec = churn.spec
    assert churn.file.shown == "projects/churn.yaml"
    assert spec.project.tags and spec.project.variables.standard["threshold"] == "0.5"
    [perm] = spec.project.permissions
    assert perm.group == "data_team" and perm.read_project_content and perm.write_project_content

    assert sorted(spec.datasets) == ["customers_clean", "customers_export", "customers_raw", "events_raw"]
    external = {n for n, d in spec.datasets.items() if not d.managed}
    assert external == {"customers_raw", "events_raw"}
    assert all(spec.datasets[n].type == "Filesystem" and "path" in spec.datasets[n].params for n in external)
    assert all(d.type == "Filesystem" for d in spec.datasets.values())
    assert list(spec.managed_folders) == ["reports"]

    assert {n: r.type for n, r in spec.recipes.items()} == {"clean_customers": "python", "export_customers": "sync"}
    code = (SIMPLE / "recipes" / "clean_customers.py").read_text(encoding="utf-8")
    assert churn.code == {"clean_customers": code}

    [scenario] = spec.scenarios.values()
    [trigger] = scenario.triggers
    assert (trigger.frequency, trigger.hour) == ("Daily", 2)
    assert [s.type for s in scenario.steps] == ["build"]


def test_simple_project_environments_remap_and_read_secrets_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_workspace(SIMPLE)
    assert list(config.spec.environments) == ["dev", "prod"]
    dev = config.environment("dev")
    assert dev.host == "embedded"
    assert dev.remap.connections["warehouse"] == dev.remap.connections["storage"] == "filesystem_managed"
    assert dev.variables == {"threshold": "0.4"}

    monkeypatch.delenv("DSS_PROD_HOST", raising=False)
    monkeypatch.delenv("DSS_PROD_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="DSS_PROD_HOST is not set"):
        config.environment("prod")
    monkeypatch.setenv("DSS_PROD_HOST", "https://dss.example.com:11200")
    monkeypatch.setenv("DSS_PROD_API_KEY", "secret-from-env")
    prod = config.environment("prod")
    assert (prod.host, prod.api_key) == ("https://dss.example.com:11200", "secret-from-env")
    assert prod.remap.connections["warehouse"] != "filesystem_managed"
    # The key is never in the file itself.
    assert "secret-from-env" not in (SIMPLE / "dss-iac.yaml").read_text()


def test_ml_pipeline_declares_two_projects_linked_by_a_cross_project_input() -> None:
    config = load_workspace(ML)
    assert sorted(config.projects) == ["FEATURES", "SCORING"]
    specs = {k: p.spec for k, p in config.projects.items()}
    assert sum(len(s.datasets) for s in specs.values()) >= 10
    assert {r.type for s in specs.values() for r in s.recipes.values()} >= {"python", "r", "shell", "sync"}
    assert all(s.zones for s in specs.values())
    assert all(s.scenarios for s in specs.values())

    cross = {(name, ref) for name, r in specs["SCORING"].recipes.items() for ref in r.inputs if "." in ref}
    assert ("train_model", "FEATURES.customer_features") in cross
    assert all(ref.split(".", 1)[1] in specs[ref.split(".", 1)[0]].datasets for _, ref in cross)


def test_retail_flow_is_typed_visual_recipes_scenarios_of_several_steps_and_a_cross_project_input() -> None:
    config = load_workspace(RETAIL)
    retail, reporting = config.projects["RETAIL"].spec, config.projects["REPORTING"].spec
    # Everything is typed: nothing kept as a DSS document.
    assert retail.passthrough is None or not (retail.passthrough.recipes or retail.passthrough.scenarios)
    recipes = retail.recipes
    assert {r.type for r in recipes.values()} >= {"prepare", "join", "grouping", "window", "distinct", "sort", "topn",
                                                  "python"}
    steps = recipes["prepare_orders"].steps or []
    assert len(steps) >= 12 and len({s.type for s in steps}) == len(steps)
    [join] = recipes["join_customers"].joins or []
    assert (join.left, join.right, join.type, [(c.left, c.right) for c in join.on]) == (
        "orders_clean", "customers_raw", "LEFT", [("customer_id", "customer_id")])
    assert recipes["sales_by_store"].keys == ["store_id"] and recipes["sales_by_store"].aggregations
    [window] = recipes["running_totals"].windows or []
    assert window.partition_by == ["store_id"] and window.order_by

    nightly, on_new = retail.scenarios["nightly"], retail.scenarios["on_new_orders"]
    assert [s.type for s in nightly.steps] == ["build", "compute_metrics", "run_checks", "set_project_variables",
                                               "python"]
    [slack] = nightly.reporters
    assert slack.type == "slack" and slack.webhook_url == "${env:RETAIL_SLACK_WEBHOOK_URL}"
    [trigger] = on_new.triggers
    assert trigger.type == "dataset" and trigger.datasets == ["orders_raw"]
    assert retail.exposed_objects["orders_clean"].to == ["REPORTING"]
    assert reporting.recipes["copy_orders"].inputs == ["RETAIL.orders_clean"]
    assert "hooks.slack.com" not in (RETAIL / "projects" / "retail.yaml").read_text()


@pytest.mark.parametrize("root", [SIMPLE, ML, RETAIL], ids=lambda p: p.name)
def test_every_code_recipe_has_its_code_file_and_every_code_file_is_used(root: Path) -> None:
    config = load_workspace(root)
    used: set[Path] = set()
    for source in config.projects.values():
        for name, recipe in source.spec.recipes.items():
            if recipe.type in CODE_RECIPES:
                assert recipe.code, f"{source.key}.{name} has no code file"
                path = (source.file.path.parent / recipe.code).resolve()
                assert source.code[name] == path.read_text(encoding="utf-8") != ""
                used.add(path)
        for scenario in source.spec.scenarios.values():  # Python steps' code sits in files too
            for step in scenario.steps:
                if step.type == "python":
                    path = (source.file.path.parent / step.code).resolve()
                    assert path.read_text(encoding="utf-8") != ""
                    used.add(path)
    # sample-data/ holds the extracts and the script that drops them into a DSS: no recipe's code.
    files = {p.resolve() for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".R", ".sh", ".sql")
             and "sample-data" not in p.relative_to(root).parts}
    assert files == used


@pytest.mark.parametrize("root", [SIMPLE, ML, RETAIL], ids=lambda p: p.name)
def test_example_applies_on_the_embedded_dss_and_then_has_nothing_to_change(root: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T1/B1/test")
    workspace = tmp_path / root.name
    shutil.copytree(root, workspace)
    with Workspace.load(workspace) as ws:
        plan = ws.plan("dev")
        created = {str(a.address) for a in plan.changes if a.symbol == "+"}
        config = ws.config
        for key, source in config.projects.items():
            assert f"project.{key}" in created
            assert {f"dataset.{key}.{n}" for n in source.spec.datasets} <= created
            assert {f"recipe.{key}.{n}" for n in source.spec.recipes} <= created
            kept = source.spec.passthrough.recipes if source.spec.passthrough else None
            assert {f"recipe.{key}.{n}" for n in kept or {}} <= created
        result = ws.apply(plan)
        assert result.ok, [(r.address, r.error) for r in result.results if r.status != "ok"]
        assert [(a.symbol, str(a.address)) for a in ws.plan("dev").changes if a.symbol != " "] == []


PLATFORM = EXAMPLES / "platform"
PLATFORM_SECRETS = ("WAREHOUSE_PASSWORD", "SNOWFLAKE_PASSWORD", "LAKE_SECRET_KEY", "BQ_SERVICE_ACCOUNT_KEY",
                    "ADA_PASSWORD", "GRACE_PASSWORD")


def test_platform_declares_a_realistic_instance_and_applies_cleanly(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PLATFORM_SECRETS:
        monkeypatch.setenv(name, f"{name.lower()}-value")
    root = tmp_path / "platform"
    shutil.copytree(PLATFORM, root, ignore=shutil.ignore_patterns(".dss-iac"))
    config = load_workspace(root)
    spec = config.instances["instance/dev.yaml"].spec
    assert len({c.type for c in spec.connections.values()}) == len(spec.connections) == 5
    assert len(spec.code_envs) == 2 and {e.language for e in spec.code_envs.values()} == {"python", "r"}
    assert len(spec.groups) == 4 and len(spec.users) >= 2
    with Workspace.load(root) as ws:
        plan = ws.plan("dev")
        order = [str(a.address) for a in plan.actions]
        assert order.index("connection.pg_warehouse") < order.index("dataset.SALES.orders")
        assert ws.apply(plan).ok
        assert not ws.plan("dev").has_changes
