"""A canary secret never reaches state, plans, logs, errors, files or Git history.

The first test declares secrets the way users do (an API key, a password in dataset params). The second passes
one canary through `${env:...}` under plain keys that say nothing of a secret, in the credentials of the host URL,
and in the secret fields of a project made by hand and imported; then it runs the whole loop, the error paths
included, and scans every output stream, every file of the workspace and every object of its Git repository.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import git
import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from dataiku_iac.sim import Simulator
from tests.engine.conftest import write_workspace
from tests.gitrepos import commit_all, make_repo

KEY = "CANARY-API-KEY-7f3a9c"
PASSWORD = "CANARY-PASSWORD-51d0e2"
PROJECT = f"""\
project: {{key: CANARY, name: Canary}}
datasets:
  remote_files:
    type: FTP
    connection: ftp_in
    params: {{path: /in, password: {PASSWORD}}}
"""


def every_file(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "sim" not in p.relative_to(root).parts]


def test_the_canary_is_nowhere(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSS_KEY", KEY)
    with Simulator(api_key=KEY, govern=False, automation_nodes=()) as sim:
        sim.client().create_connection("ftp_in", "FTP", {"host": "ftp.example.com"})  # plan checks it exists
        root = write_workspace(tmp_path, {"canary": PROJECT}, workspace_yaml=(
            f"version: 1\nenvironments:\n  prod: {{host: '{sim.base_url}', api_key: '${{env:DSS_KEY}}'}}\n"))
        outputs = []
        for args in (["plan", "-e", "prod"], ["plan", "-e", "prod", "--json"], ["plan", "-e", "prod", "--markdown"],
                     ["plan", "-e", "prod", "--out", "prod.plan"], ["apply", "prod.plan"],
                     ["drift", "-e", "prod", "--json"], ["state", "list", "-e", "prod", "--json"],
                     ["state", "show", "-e", "prod", "dataset.CANARY.remote_files"], ["state", "pull", "-e", "prod"],
                     ["state", "history", "-e", "prod", "--json"]):
            code = main(["-C", str(root), *args])
            captured = capsys.readouterr()
            outputs.append((args, code, captured.out + captured.err))
        # The password does reach DSS: that is the point of declaring it.
        raw = sim.node().store.projects["CANARY"]["datasets"]["remote_files"]
        assert raw["params"]["password"] == PASSWORD
        # A wrong key and an error from DSS: the messages name the environment, never the key.
        monkeypatch.setenv("DSS_KEY", KEY + "-wrong")
        assert main(["-C", str(root), "plan", "-e", "prod"]) == 1
        captured = capsys.readouterr()
        outputs.append((["plan with a wrong key"], 1, captured.out + captured.err))
    assert [code for _, code, _ in outputs[:-1]] == [0] * 10, outputs
    for args, _, text in outputs:
        assert KEY not in text and PASSWORD not in text, args
    plan_text = outputs[0][2]
    assert "\"password\": \"(sensitive)\"" in plan_text
    files = every_file(root)
    assert any(p.name == "prod.plan" for p in files) and any(p.name == "state.json" for p in files)
    for path in files:
        data = path.read_bytes()
        if path.name != "canary.yaml":  # the config is where the user put it (they should use ${env:...})
            assert KEY.encode() not in data and PASSWORD.encode() not in data, path


# -- through ${env:...} -----------------------------------------------------------------------------------------------
CANARY = f"CANARY-{uuid.uuid4().hex[:12]}"
API_KEY = f"APIKEY-{uuid.uuid4().hex[:12]}"
WORKSPACE = """\
version: 1
projects: [projects/*.yaml]
environments:
  prod:
    host: ${env:DSS_HOST}
    api_key: ${env:DSS_KEY}
    variables: {warehouse_dsn: "${env:CANARY}"}
    overrides:
      dataset.CANARY.files: {description: "${env:CANARY}"}
  broken:
    host: ${env:DSS_HOST}
    api_key: ${env:DSS_KEY}
    project_key: "{key}_BROKEN"
    remap: {connections: {filesystem_managed: "${env:CANARY}", filesystem_folders: filesystem_folders}}
state: {backend: git}
"""
CANARY_PROJECT = """\
project:
  key: CANARY
  name: Canary
  description: "owned by ${env:CANARY}"
  short_desc: ${env:CANARY}
  custom: {owner: "${env:CANARY}"}
  variables:
    standard: {warehouse_dsn: placeholder, dsn: "${env:CANARY}"}
    local: {note: "${env:CANARY}"}
datasets:
  files:
    type: Filesystem
    connection: filesystem_managed
    params: {path: "/data/${env:CANARY}", comment: "${env:CANARY}"}
    tags: ["${env:CANARY}"]
  copied: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
managed_folders:
  models: {connection: filesystem_folders, description: "${env:CANARY}"}
recipes:
  copy: {type: sync, inputs: [files], outputs: [copied], description: "${env:CANARY}", params: {note: "${env:CANARY}"}}
scenarios:
  nightly:
    description: "${env:CANARY}"
    steps: [{type: build, items: [copied]}]
    reporters:
      - {type: slack, webhook_url: "${env:CANARY}", token: "${env:CANARY}", message: "ran"}
      - {type: webhook, webhook_url: "https://ci.example/${env:CANARY}", payload: "${env:CANARY}"}
"""
# Where the canary goes in through ${env:...}: under keys that do not look secret at all.
PLAIN_KEYS = ["environments.prod.variables.warehouse_dsn", "overrides dataset description", "project.description",
              "project.short_desc", "project.custom.owner", "variables.standard.dsn", "variables.local.note",
              "dataset params.path", "dataset params.comment", "dataset tags", "managed_folder description",
              "recipe description", "recipe params.note", "scenario description", "remap.connections",
              "scenario reporter payload"]
# Where it goes in as a reporter's credential: write-only, never read back from DSS.
REPORTER_SECRETS = ["slack webhook_url", "slack token", "webhook webhook_url"]


def _git_objects(repo: git.Repo) -> dict[str, bytes]:
    """Every object of the repository, reachable or not: what `git cat-file` can show."""
    listing = repo.git.cat_file("--batch-all-objects", "--batch-check=%(objectname)").split()
    return {sha: repo.odb.stream(bytes.fromhex(sha)).read() for sha in listing}


def _build_by_hand(client: object) -> None:
    project = client.create_project("HANDMADE", "Made by hand", "admin")  # type: ignore[attr-defined]
    project.set_variables({"standard": {"api_token": CANARY, "region": "eu"}, "local": {"db_password": CANARY}})
    project.create_fslike_dataset("remote", "Filesystem", "filesystem_managed", "/in")
    settings = project.get_dataset("remote").get_settings()
    settings.get_raw()["params"]["password"] = CANARY
    settings.save()
    scenario = project.create_scenario("alerts", "step_based").get_settings()
    scenario.raw_reporters.append({"name": "Slack", "messaging": {
        "type": "slack-scenario", "configuration": {"webhookUrl": f"https://hooks.example/{CANARY}", "message": "x"}}})
    scenario.save()


def test_a_canary_from_the_environment_reaches_no_file_plan_stream_or_git_history(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    repo = make_repo(root, files={"dss-iac.yaml": WORKSPACE, "projects/canary.yaml": CANARY_PROJECT})
    monkeypatch.setenv("CANARY", CANARY)
    monkeypatch.setenv("DSS_KEY", API_KEY)
    streams: list[tuple[str, int, str]] = []

    def run(*args: str) -> int:
        code = main(["-C", str(root), *args])
        out = capsys.readouterr()
        streams.append((" ".join(args), code, out.out + out.err))
        return code

    with Simulator(api_key=API_KEY, govern=False, automation_nodes=()) as sim:
        scheme, rest = sim.base_url.split("://", 1)
        monkeypatch.setenv("DSS_HOST", f"{scheme}://dssuser:{CANARY}@{rest}")  # credentials in the host URL
        assert run("validate") == 0
        assert run("validate", "-e", "prod") == 0
        assert run("plan", "-e", "prod") == 0
        assert run("plan", "-e", "prod", "--json") == 0
        assert run("plan", "-e", "prod", "--markdown") == 0
        assert run("plan", "-e", "prod", "--out", "prod.plan") == 0
        assert run("apply", "prod.plan") == 0
        assert run("plan", "-e", "prod", "--detailed-exitcode") == 0  # no false drift on any of them
        assert run("drift", "-e", "prod") == 0
        assert run("drift", "-e", "prod", "--json") == 0
        with Workspace.load(root) as ws:
            html = ws.plan("prod")._repr_html_()  # what notebooks show
            _build_by_hand(ws.connection("prod").client)
        streams.append(("plan as HTML", 0, html))
        assert run("import", "-e", "prod", "--project", "HANDMADE") == 0
        refs = [line.split()[0] for line in streams[-1][2].splitlines() if line.startswith("  HANDMADE_")]
        assert len(refs) == 4
        for name in refs:
            monkeypatch.setenv(name, CANARY)
        # The imported project round-trips, but for the reporter's webhook URL: write-only, import cannot know it
        # (DSS holds it, dss-iac never reads it back), so the next apply writes it once.
        assert run("plan", "-e", "prod", "--detailed-exitcode") == 2
        with Workspace.load(root) as ws:
            assert [(str(a.address), [c.path for c in a.changes]) for a in ws.plan("prod").changes] == [
                ("scenario.HANDMADE.alerts", ["reporters.0.webhook_url"])]
        streams.append(("plan via the API", 0, ""))
        commit_all(repo, "imported HANDMADE")
        assert run("apply", "-e", "prod", "--yes") == 0
        for args in (["state", "list", "-e", "prod", "--json"], ["state", "pull", "-e", "prod"],
                     ["state", "history", "-e", "prod", "--json"]):
            assert run(*args) == 0
        for address in ("project.CANARY", "variables.CANARY", "dataset.CANARY.files", "recipe.CANARY.copy",
                        "variables.HANDMADE", "dataset.HANDMADE.remote", "scenario.CANARY.nightly",
                        "scenario.HANDMADE.alerts"):
            assert run("state", "show", "-e", "prod", address) == 0
            assert run("state", "show", "-e", "prod", address, "--json") == 0
        # Error paths: DSS refusing the key, a DSS with no such connection, a host that does not answer.
        assert run("validate", "-e", "broken") == 3
        assert "connection '(sensitive)'" in streams[-1][2]
        assert run("plan", "-e", "broken") == 3  # plan checks the connections exist before anything
        assert "connection '(sensitive)'" in streams[-1][2]
        monkeypatch.setenv("DSS_KEY", API_KEY + "-wrong")
        assert run("plan", "-e", "prod") == 1
        monkeypatch.setenv("DSS_KEY", API_KEY)
        monkeypatch.setenv("DSS_HOST", f"http://dssuser:{CANARY}@127.0.0.1:9")
        assert run("plan", "-e", "prod") == 1
        assert "cannot reach DSS at http://***@127.0.0.1:9" in streams[-1][2]
        # It all reached DSS: that is what the values are for.
        raw = sim.node().store.projects["CANARY"]
        assert raw["variables"]["standard"]["dsn"] == CANARY and raw["datasets"]["files"]["description"] == CANARY
        slack = raw["scenarios"]["NIGHTLY"]["reporters"][0]["messaging"]["configuration"]
        assert slack["webhookUrl"] == CANARY and slack["authorizationToken"] == CANARY
    leaked = [(args, text) for args, _, text in streams if CANARY in text or API_KEY in text]
    assert leaked == []
    assert "(sensitive)" in streams[2][2]
    files = [p for p in root.rglob("*") if p.is_file()]
    assert {"prod.plan", "canary.yaml", "handmade.yaml"} <= {p.name for p in files}
    assert [p for p in files if CANARY.encode() in p.read_bytes() or API_KEY.encode() in p.read_bytes()] == []
    objects = _git_objects(repo)
    assert repo.git.rev_list("--count", "dss-iac-state") != "0"
    assert [sha for sha, data in objects.items() if CANARY.encode() in data or API_KEY.encode() in data] == []
    # The figures this test stands for (docs/state.md quotes them).
    print(f"canary: {len(PLAIN_KEYS)} plain keys, {len(REPORTER_SECRETS)} reporter secrets, 1 host URL, "
          f"{len(refs)} imported secret fields; "
          f"{len(streams)} output streams, {len(files)} files, {len(objects)} Git objects scanned")
    assert len(PLAIN_KEYS) >= 10



# -- connection and user secrets of an instance file ------------------------------------------------------------------
CONN_CANARY = f"CONN-CANARY-{uuid.uuid4().hex[:12]}"
USER_CANARY = f"USER-CANARY-{uuid.uuid4().hex[:12]}"
INSTANCE = """\
connections:
  pg_prod:
    type: PostgreSQL
    params: {host: db.prod, db: sales, user: etl, password: "${env:PG_PASSWORD}"}
  lake:
    type: S3
    params: {bucket: lake, accessKey: AKIAEXAMPLE, secretKey: "${env:PG_PASSWORD}"}
users:
  ada: {groups: [], password: "${env:ADA_PASSWORD}"}
"""


def test_connection_and_user_secrets_reach_dss_and_nothing_else(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSS_KEY", KEY)
    monkeypatch.setenv("PG_PASSWORD", CONN_CANARY)
    monkeypatch.setenv("ADA_PASSWORD", USER_CANARY)
    with Simulator(api_key=KEY, govern=False, automation_nodes=()) as sim:
        root = write_workspace(tmp_path, {}, workspace_yaml=(
            f"version: 1\nenvironments:\n  prod: {{host: '{sim.base_url}', api_key: '${{env:DSS_KEY}}', "
            f"instance: instance/prod.yaml}}\n  mirror: {{host: '{sim.base_url}', api_key: '${{env:DSS_KEY}}'}}\n"),
            files={"instance/prod.yaml": INSTANCE})
        outputs = []
        for args in (["plan", "-e", "prod"], ["plan", "-e", "prod", "--json"], ["plan", "-e", "prod", "--markdown"],
                     ["plan", "-e", "prod", "--out", "prod.plan"], ["apply", "prod.plan"],
                     ["drift", "-e", "prod", "--json"], ["state", "show", "-e", "prod", "connection.pg_prod"],
                     ["import", "-e", "mirror", "--instance"],
                     ["state", "pull", "-e", "prod"]):
            code = main(["-C", str(root), *args])
            captured = capsys.readouterr()
            outputs.append((args, code, captured.out + captured.err))
        stored = sim.node().store.coll("connections")
        assert stored["pg_prod"]["params"]["password"] == CONN_CANARY  # DSS has it: that is the point
        assert stored["lake"]["params"]["secretKey"] == CONN_CANARY
        # A changed secret is an update, told without the value.
        monkeypatch.setenv("PG_PASSWORD", CONN_CANARY + "-rotated")
        assert main(["-C", str(root), "plan", "-e", "prod", "--detailed-exitcode"]) == 2
        captured = capsys.readouterr()
        outputs.append((["plan after rotation"], 2, captured.out + captured.err))
        assert "params.password" in captured.out
    assert [code for _, code, _ in outputs[:-1]] == [0] * (len(outputs) - 1), outputs
    for args, _, text in outputs:
        assert CONN_CANARY not in text and USER_CANARY not in text and KEY not in text, args
    for path in every_file(root):
        data = path.read_bytes()
        assert CONN_CANARY.encode() not in data and USER_CANARY.encode() not in data, path
