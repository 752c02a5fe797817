"""A first hour with DSS automation, as a new user would spend it, using only `dataikuapi`.

Against a running simulator (`dss-iac sim serve`) or any DSS with a design node, an automation node
and Govern:
    python tour.py --url http://127.0.0.1:11200 --api-key KEY
With no --url, the tour starts its own simulator in-process.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from dataikuapi import DSSClient
from dataikuapi.govern.blueprint import GovernBlueprintVersionId
from dataikuapi.utils import DataikuException

# Reads and writes row by row: runs the same on DSS and on the simulator (which needs no pandas).
SCRIPT = """\
import dataiku
signups = dataiku.Dataset("signups")
clean = dataiku.Dataset("customers_clean")
clean.write_schema(signups.read_schema())
with clean.get_writer() as writer:
    for row in signups.iter_rows():
        if row["email"]:
            writer.write_row_dict(row)
"""


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def tour(url: str, api_key: str) -> None:
    design = DSSClient(url, api_key)
    automation = DSSClient(url + "/automation", api_key)
    suffix = time.strftime("%H%M%S")
    key = f"TOUR_{suffix}"

    step("Who and where am I?")
    print("design node:", design.get_instance_info().node_type, "| user:", design.get_auth_info()["authIdentifier"])
    print("automation node:", automation.get_instance_info().node_type)

    step("A connection on each node: the warehouse is pg_dev on design, pg_prod on automation")
    for client, name in ((design, f"pg_dev_{suffix}"), (automation, f"pg_prod_{suffix}")):
        client.create_connection(name, "PostgreSQL", {"host": "db.internal", "user": "etl", "password": "s3cret"})
        shown = client.get_connection(name).get_definition()["params"]["password"]
        print(f"{name}: password reads back as {shown!r} (secrets are never returned)")
    dev_conn, prod_conn = f"pg_dev_{suffix}", f"pg_prod_{suffix}"

    step(f"Project {key}: three datasets, a Python recipe, a scenario")
    project = design.create_project(key, "Simulator tour", "admin", tags=["tour"])
    project.create_sql_table_dataset("customers_raw", "PostgreSQL", dev_conn, "customers", "public")
    signups = project.create_upload_dataset("signups")
    signups.uploaded_add_file(io.BytesIO(b"id,email\n1,ann@example.com\n2,\n3,bob@example.com\n"), "signups.csv")
    signups.autodetect_settings(infer_storage_types=True).save()
    builder = project.new_recipe("python", "clean_customers")
    builder.with_input("signups")
    builder.with_new_output_dataset("customers_clean", "filesystem_managed")
    builder.with_script(SCRIPT)
    recipe = builder.create()
    scenario = project.create_scenario("Nightly build", "step_based")
    settings = scenario.get_settings()
    settings.add_periodic_trigger(every_minutes=60)
    settings.raw_steps.append({"type": "build_flowitem", "name": "build clean",
                               "params": {"builds": [{"type": "DATASET", "itemId": "customers_clean"}],
                                          "jobType": "RECURSIVE_BUILD"}})
    settings.active = True
    settings.save()
    print("datasets:", sorted(d.name for d in project.list_datasets()))
    print("recipe:", recipe.name, "| scenario id:", scenario.id)

    step("Run the scenario and wait for its outcome")
    run = scenario.run_and_wait()
    print("outcome:", run.outcome)
    print("customers_clean rows:", list(project.get_dataset("customers_clean").iter_rows()))

    step("Export bundle v1 and activate it on the automation node, remapping the connection")
    project.export_bundle("v1")
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "v1.zip"
        project.download_exported_bundle_archive_to_file("v1", str(archive))
        automation.create_project_from_bundle_local_archive(str(archive))
    target = automation.get_project(key)
    auto_settings = target.get_settings()
    auto_settings.get_raw().setdefault("bundleContainerSettings", {})["remapping"] = {
        "connections": [{"source": dev_conn, "target": prod_conn}], "codeEnvs": []}
    auto_settings.save()
    target.preload_bundle("v1")
    target.activate_bundle("v1")
    activated_conn = target.get_dataset("customers_raw").get_settings().get_raw()["params"]["connection"]
    print(f"customers_raw on automation uses {activated_conn}")

    step("Production only takes bundles Govern approved: deploying v2 before sign-off is refused")
    deployer = design.get_projectdeployer()
    infra_settings = deployer.get_infra("automation").get_settings()
    infra_settings.get_raw()["governCheckPolicy"] = "PREVENT"
    infra_settings.save()
    project.export_bundle("v2")
    project.publish_bundle("v2")
    deployment_id = f"tour-{suffix.lower()}"
    try:
        deployer.create_deployment(deployment_id, key, "automation", "v2", deployed_project_key=f"{key}_PROD")
        print("deployment created WITHOUT approval (unexpected)")
    except DataikuException as e:
        print("refused:", str(e).split(": ", 1)[-1][:100])

    step("Sign off bundle v2 in Govern")
    govern = design.get_govern_client()
    artifact = govern.create_artifact({
        "blueprintVersionId": GovernBlueprintVersionId("bp.system.govern_bundle", "bv.system.default").build(),
        "name": f"{key} v2", "fields": {"published_project_key": key, "bundle_id": "v2"}})
    signoff = artifact.get_signoff("review")
    signoff.update_status("WAITING_FOR_APPROVAL", users_to_notify=[])
    signoff.add_approval("APPROVED", comment="tour approved")
    print("sign-off status:", signoff.get_definition().get_raw()["status"])

    step("Deploy v2 through the Project Deployer, with prod's remapping and local variables")
    deployment = deployer.create_deployment(deployment_id, key, "automation", "v2", deployed_project_key=f"{key}_PROD")
    dep_settings = deployment.get_settings()
    raw = dep_settings.get_raw()
    raw["bundleContainerSettings"]["remapping"]["connections"] = [{"source": dev_conn, "target": prod_conn}]
    raw["localVariables"] = {"env": "prod"}
    dep_settings.save()
    deployment.start_update().wait_for_result()
    print("deployment health:", deployment.get_status().get_health())
    deployed = automation.get_project(f"{key}_PROD")
    print("deployed project local variables:", deployed.get_variables()["local"])
    print("deployed customers_raw uses", deployed.get_dataset("customers_raw").get_settings().get_raw()["params"]
          ["connection"])

    step("Done")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="design node URL (default: start a simulator in-process)")
    parser.add_argument("--api-key", help="admin API key")
    args = parser.parse_args()
    if args.url:
        tour(args.url.rstrip("/"), args.api_key or "")
        return 0
    from dataiku_iac.sim import Simulator

    with Simulator() as sim:
        print("started a DSS simulator at", sim.base_url)
        tour(sim.base_url, sim.api_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
