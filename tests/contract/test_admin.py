"""Instance administration through dataikuapi: connections, code envs, users, groups, settings, variables."""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import Iterator

import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.admin import DSSAutomationCodeEnvSettings, DSSDesignCodeEnvSettings
from dataikuapi.dss.future import DSSFuture
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS, NON_ADMIN_KEY

sim_only = pytest.mark.skipif(AGAINST_REAL_DSS, reason="needs the simulator's non-admin key or a simulator knob")
guess = pytest.mark.skipif(AGAINST_REAL_DSS, reason="asserts a simulator guess about DSS, unverified on a real one")


def uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def pg(dss: DSSClient) -> Iterator[str]:
    """A PostgreSQL connection with a password, deleted afterwards."""
    name = uid("pg")
    dss.create_connection(name, "PostgreSQL", {"host": "db.example.com", "port": "5432", "user": "etl",
                                               "password": "s3cret"}, description="warehouse")
    yield name
    with contextlib.suppress(DataikuException):
        dss.get_connection(name).delete()


@pytest.fixture
def alice(sim) -> DSSClient:
    return sim.client(api_key=NON_ADMIN_KEY)


# -- connections ------------------------------------------------------------------------------------

def test_fresh_instance_has_filesystem_connections(dss: DSSClient) -> None:
    connections = dss.list_connections()
    assert isinstance(connections, dict)
    for name in ("filesystem_managed", "filesystem_folders"):
        assert connections[name].type == "Filesystem"
        assert name in dss.list_connections_names("Filesystem")


def test_connection_round_trip_fills_defaults(dss: DSSClient, pg: str) -> None:
    settings = dss.get_connection(pg).get_settings()
    raw = settings.get_raw()
    assert settings.type == "PostgreSQL"
    assert raw["params"]["host"] == "db.example.com"
    assert raw["description"] == "warehouse"
    assert settings.usable_by == "ALL"
    assert settings.allow_write and settings.allow_managed_datasets and settings.allow_managed_folders
    assert settings.details_readability.readable_by in ("ALL", "NONE", "ALLOWED")
    assert pg in dss.list_connections()
    assert pg in [c.name for c in dss.list_connections(as_type="objects")]


def test_connection_delete(dss: DSSClient, pg: str) -> None:
    dss.get_connection(pg).delete()
    assert pg not in dss.list_connections()
    with pytest.raises(DataikuException, match=pg):
        dss.get_connection(pg).get_settings()
    with pytest.raises(DataikuException):
        dss.get_connection(pg).delete()


def test_duplicate_connection_is_refused(dss: DSSClient, pg: str) -> None:
    with pytest.raises(DataikuException, match="already exists"):
        dss.create_connection(pg, "Filesystem", {"root": "/tmp"})
    assert dss.get_connection(pg).get_settings().type == "PostgreSQL"


@guess
@pytest.mark.parametrize("bad_name", ["has space", "dot.ted", ""])
def test_invalid_connection_name_is_refused(dss: DSSClient, bad_name: str) -> None:
    with pytest.raises(DataikuException, match="Invalid connection name"):
        dss.create_connection(bad_name, "Filesystem", {"root": "/tmp"})


def test_connection_without_type_is_refused(dss: DSSClient) -> None:
    name = uid("notype")
    with pytest.raises(DataikuException):
        dss.create_connection(name, "", {})
    assert name not in dss.list_connections()


def test_unknown_connection_is_an_error(dss: DSSClient) -> None:
    with pytest.raises(DataikuException, match="no_such_connection"):
        dss.get_connection("no_such_connection").get_settings()


def test_secrets_never_come_back_in_clear(dss: DSSClient, pg: str) -> None:
    params = dss.get_connection(pg).get_settings().get_raw()["params"]
    assert params["password"] != "s3cret"
    assert params["user"] == "etl"  # only secrets are hidden
    assert dss.list_connections()[pg]["params"]["password"] == params["password"]


def test_read_merge_write_keeps_the_secret(dss: DSSClient, pg: str) -> None:
    conn = dss.get_connection(pg)
    settings = conn.get_settings()
    token = settings.get_raw()["params"]["password"]
    settings.get_raw()["params"]["port"] = "5433"
    settings.allow_write = False
    settings.save()
    raw = conn.get_settings().get_raw()
    assert raw["params"]["port"] == "5433"
    assert raw["allowWrite"] is False
    assert raw["params"]["password"] == token  # same secret, read back the same way


@guess
def test_azure_access_key_is_a_secret_but_s3_access_key_is_not(dss: DSSClient) -> None:
    s3, azure = uid("s3"), uid("az")
    dss.create_connection(s3, "EC2", {"accessKey": "AKIAEXAMPLE", "secretKey": "wJalr"})
    dss.create_connection(azure, "Azure", {"storageAccount": "acct", "accessKey": "azkey=="})
    try:
        s3_params = dss.get_connection(s3).get_definition()["params"]
        assert s3_params["accessKey"] == "AKIAEXAMPLE"
        assert s3_params["secretKey"] != "wJalr"
        assert dss.get_connection(azure).get_definition()["params"]["accessKey"] != "azkey=="
    finally:
        dss.get_connection(s3).delete()
        dss.get_connection(azure).delete()


@guess
def test_flagged_properties_are_secret(dss: DSSClient) -> None:
    name = uid("jdbc")
    props = [{"name": "ssl", "value": "true", "secret": False}, {"name": "pin", "value": "1234", "secret": True}]
    dss.create_connection(name, "JDBC", {"url": "jdbc:x://h", "properties": props})
    try:
        conn = dss.get_connection(name)
        definition = conn.get_definition()
        got = definition["params"]["properties"]
        assert got[0]["value"] == "true"
        assert got[1]["value"] != "1234"
        conn.set_definition(definition)
        assert conn.get_definition()["params"]["properties"][1]["value"] == got[1]["value"]
    finally:
        dss.get_connection(name).delete()


def test_connection_save_bumps_version_tag(dss: DSSClient, pg: str) -> None:
    conn = dss.get_connection(pg)
    before = conn.get_definition()["versionTag"]["versionNumber"]
    conn.get_settings().save()
    conn.get_settings().save()
    assert conn.get_definition()["versionTag"]["versionNumber"] == before + 2


@guess
def test_connection_type_cannot_change(dss: DSSClient, pg: str) -> None:
    definition = dss.get_connection(pg).get_definition()
    definition["type"] = "Snowflake"
    with pytest.raises(DataikuException, match="Cannot change the type"):
        dss.get_connection(pg).set_definition(definition)
    assert dss.get_connection(pg).get_definition()["type"] == "PostgreSQL"


def test_unknown_connection_keys_are_dropped(dss: DSSClient, pg: str) -> None:
    definition = dss.get_connection(pg).get_definition()
    definition["iacSentinel"] = "dropped"
    dss.get_connection(pg).set_definition(definition)
    assert "iacSentinel" not in dss.get_connection(pg).get_definition()


def test_usability_restricted_to_groups(dss: DSSClient, pg: str) -> None:
    settings = dss.get_connection(pg).get_settings()
    settings.set_usability(False, "readers")
    settings.details_readability.set_readability(False, "readers")
    settings.save()
    again = dss.get_connection(pg).get_settings()
    assert again.usable_by == "ALLOWED"
    assert again.usable_by_allowed_groups == ["readers"]
    assert again.details_readability.readable_by == "ALLOWED"


@guess
def test_connection_test_answers_ok(dss: DSSClient, pg: str) -> None:
    assert dss.get_connection(pg).test()["connectionOK"] is True


@sim_only
def test_connection_test_fails_for_invalid_hosts(dss: DSSClient) -> None:
    name = uid("pg")
    dss.create_connection(name, "PostgreSQL", {"host": "db.invalid", "password": "x"})
    try:
        result = dss.get_connection(name).test()
        assert result["connectionOK"] is False
        assert "db.invalid" in result["connectionErrorMsg"]
    finally:
        dss.get_connection(name).delete()


@guess
def test_connection_info_has_no_secret(dss: DSSClient, pg: str) -> None:
    info = dss.get_connection(pg).get_info()
    assert info.get_type() == "PostgreSQL"
    assert info.get_params()["host"] == "db.example.com"
    assert info.get_params()["password"] != "s3cret"


@sim_only
def test_connection_info_never_hands_out_credentials(dss: DSSClient, pg: str) -> None:
    with pytest.raises(ValueError, match="No basic credential"):
        dss.get_connection(pg).get_info().get_basic_credential()


@sim_only
def test_non_admin_cannot_administer_connections(alice: DSSClient, pg: str) -> None:
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.list_connections()
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.create_connection(uid("fs"), "Filesystem", {"root": "/tmp"})
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.get_connection(pg).get_settings()
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.get_connection(pg).delete()


@sim_only
def test_non_admin_sees_usable_connections_and_their_info(dss: DSSClient, alice: DSSClient, pg: str) -> None:
    assert pg in alice.list_connections_names("PostgreSQL")
    assert pg not in alice.list_connections_names("Filesystem")
    assert pg in alice.list_connections_names("all")
    assert alice.get_connection(pg).get_info().get_params()["password"] != "s3cret"
    assert alice.get_connection(pg).test()["connectionOK"] is True
    # alice is in data_team, not in readers: the connection disappears and its details close.
    settings = dss.get_connection(pg).get_settings()
    settings.set_usability(False, "readers")
    settings.details_readability.set_readability(False)
    settings.save()
    assert pg not in alice.list_connections_names("all")
    with pytest.raises(DataikuException, match="may not read the details"):
        alice.get_connection(pg).get_info()
    with pytest.raises(DataikuException, match="may not use"):
        alice.get_connection(pg).test()
    settings.set_usability(False, "data_team")
    settings.save()
    assert pg in alice.list_connections_names("all")


# -- code envs --------------------------------------------------------------------------------------

@pytest.fixture
def env(dss: DSSClient) -> Iterator[str]:
    """A managed Python env created through a lowercase language, deleted afterwards."""
    name = uid("py")
    dss.create_code_env("python", name, "DESIGN_MANAGED", {"specPackageList": "requests"})
    yield name
    with contextlib.suppress(Exception):
        dss.get_code_env("PYTHON", name).delete()


def test_code_env_create_list_get(dss: DSSClient, env: str) -> None:
    listed = [e for e in dss.list_code_envs() if e["envName"] == env]
    assert listed and listed[0]["envLang"] == "PYTHON"
    assert listed[0]["deploymentMode"] == "DESIGN_MANAGED"
    settings = dss.get_code_env("python", env).get_settings()  # the language is case-insensitive
    assert isinstance(settings, DSSDesignCodeEnvSettings)
    raw = settings.get_raw()
    assert raw["envName"] == env and raw["envLang"] == "PYTHON"
    assert settings.get_required_packages() == "requests"
    assert raw["desc"]["pythonInterpreter"]
    assert raw["usableByAll"] == raw["desc"]["usableByAll"]
    assert any(e.env_name == env for e in dss.list_code_envs(as_objects=True))


def test_code_env_delete(dss: DSSClient, env: str) -> None:
    dss.get_code_env("PYTHON", env).delete()
    assert env not in [e["envName"] for e in dss.list_code_envs()]
    with pytest.raises(DataikuException, match=f"env {env} doesn't exist"):
        dss.get_code_env("PYTHON", env).get_settings()


def test_duplicate_code_env_is_refused(dss: DSSClient, env: str) -> None:
    with pytest.raises(DataikuException, match="already exists"):
        dss.create_code_env("PYTHON", env, "DESIGN_MANAGED")


def test_unknown_code_env_is_an_error(dss: DSSClient) -> None:
    with pytest.raises(DataikuException, match="CodedIOException: PYTHON env no_such_env doesn't exist"):
        dss.get_code_env("PYTHON", "no_such_env").get_definition()
    with pytest.raises(DataikuException):
        dss.get_code_env("PYTHON", "no_such_env").delete()


@guess
def test_code_env_bad_language_or_mode_is_refused(dss: DSSClient) -> None:
    with pytest.raises(DataikuException, match="Unknown code env language"):
        dss.create_code_env("JULIA", uid("jl"), "DESIGN_MANAGED")
    with pytest.raises(DataikuException, match="Invalid deploymentMode"):
        dss.create_code_env("PYTHON", uid("py"), "AUTOMATION_SINGLE")
    with pytest.raises(DataikuException, match="Unknown pythonInterpreter"):
        dss.create_code_env("PYTHON", uid("py"), "DESIGN_MANAGED", {"pythonInterpreter": "PYTHON2000"})


def test_code_env_settings_save_and_update_packages(dss: DSSClient, env: str) -> None:
    code_env = dss.get_code_env("PYTHON", env)
    settings = code_env.get_settings()
    settings.set_required_packages("requests", "rich")
    settings.set_built_container_confs("cpu")
    settings.save()
    raw = code_env.get_settings().get_raw()
    assert raw["specPackageList"] == "requests\nrich"
    assert raw["containerConfs"] == ["cpu"] and raw["desc"]["containerConfs"] == ["cpu"]
    assert "rich" not in raw["actualPackageList"]  # a save alone installs nothing
    result = code_env.update_packages()
    assert result["messages"]["error"] is False
    assert "rich" in code_env.get_settings().get_raw()["actualPackageList"]


@guess
def test_code_env_top_level_wins_over_desc(dss: DSSClient, env: str) -> None:
    code_env = dss.get_code_env("PYTHON", env)
    raw = code_env.get_settings().get_raw()
    raw["desc"]["usableByAll"] = not raw["usableByAll"]  # only desc changed: the top-level value wins
    code_env.set_definition(raw)
    again = code_env.get_definition()
    assert again["usableByAll"] == raw["usableByAll"] == again["desc"]["usableByAll"]
    raw = code_env.get_definition()
    del raw["usableByAll"]
    raw["desc"]["usableByAll"] = False  # no top-level value: desc is taken
    code_env.set_definition(raw)
    assert code_env.get_definition()["usableByAll"] is False


@guess
def test_code_env_interpreter_is_fixed_at_creation(dss: DSSClient, env: str) -> None:
    code_env = dss.get_code_env("PYTHON", env)
    raw = code_env.get_definition()
    interpreter = raw["desc"]["pythonInterpreter"]
    raw["desc"]["pythonInterpreter"] = "PYTHON39" if interpreter != "PYTHON39" else "PYTHON310"
    code_env.set_definition(raw)
    assert code_env.get_definition()["desc"]["pythonInterpreter"] == interpreter


def test_code_env_create_without_waiting_returns_a_future(dss: DSSClient) -> None:
    name = uid("py")
    future = dss.create_code_env("PYTHON", name, "DESIGN_MANAGED", wait=False)
    try:
        assert isinstance(future, DSSFuture)
        assert future.wait_for_result()["envName"] == name
        assert dss.get_code_env("PYTHON", name).get_definition()["envName"] == name
    finally:
        dss.get_code_env("PYTHON", name).delete()


@sim_only
def test_failed_build_registers_an_unreadable_env(dss: DSSClient) -> None:
    name = uid("broken")
    code_env = dss.create_code_env("PYTHON", name, "DESIGN_MANAGED", {"specPackageList": "pandas\nfail-build==1"})
    assert name in [e["envName"] for e in dss.list_code_envs()]  # creation "succeeded"
    with pytest.raises(DataikuException, match=f"Not a file: /python/{name}/desc.json"):
        code_env.get_settings()
    with pytest.raises(DataikuException, match="Not a file"):
        code_env.update_packages()
    logs = code_env.list_logs()
    assert "fail-build" in code_env.get_log(logs[-1]["name"])
    code_env.delete()  # the way out: delete, then recreate with a good spec
    dss.create_code_env("PYTHON", name, "DESIGN_MANAGED", {"specPackageList": "pandas"})
    assert dss.get_code_env("PYTHON", name).get_definition()["actualPackageList"] == "pandas"
    dss.get_code_env("PYTHON", name).delete()


@sim_only
def test_failed_package_update_reports_an_error(dss: DSSClient, env: str) -> None:
    code_env = dss.get_code_env("PYTHON", env)
    settings = code_env.get_settings()
    settings.set_required_packages("requests", "fail-build")
    settings.save()
    with pytest.raises(Exception, match="Env update failed"):
        code_env.update_packages()
    assert code_env.get_settings().get_raw()["actualPackageList"] == "requests"  # left as it was


def test_code_env_usages_list_projects(dss: DSSClient, env: str, project) -> None:
    assert dss.get_code_env("PYTHON", env).list_usages() == []
    settings = project.get_settings()
    settings.set_python_code_env(env)
    settings.save()
    usages = dss.get_code_env("PYTHON", env).list_usages()
    assert [u["projectKey"] for u in usages if u["envUsage"] == "PROJECT"] == [project.project_key]


@pytest.mark.multinode
def test_automation_code_envs_are_versioned(sim) -> None:
    auto = sim.client(node="automation")
    name = uid("py")
    with pytest.raises(DataikuException, match="Invalid deploymentMode"):
        auto.create_code_env("PYTHON", name, "DESIGN_MANAGED")
    auto.create_code_env("PYTHON", name, "AUTOMATION_SINGLE", {"specPackageList": "numpy"})
    try:
        code_env = auto.get_code_env("PYTHON", name)
        settings = code_env.get_settings()
        assert isinstance(settings, DSSAutomationCodeEnvSettings)
        assert settings.get_raw()["versions"] is not None
        version = settings.get_version()
        assert version.get_required_packages() == "numpy"
        version.get_raw()["specPackageList"] = "numpy\nscipy"
        settings.save()
        code_env.update_packages()
        assert code_env.get_settings().get_version().get_raw()["actualPackageList"] == "numpy\nscipy"
    finally:
        auto.get_code_env("PYTHON", name).delete()


@sim_only
def test_non_admin_cannot_manage_code_envs(alice: DSSClient, env: str) -> None:
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.list_code_envs()
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.create_code_env("PYTHON", uid("py"), "DESIGN_MANAGED")
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.get_code_env("PYTHON", env).get_settings()


# -- groups and users -------------------------------------------------------------------------------

@pytest.fixture
def group(dss: DSSClient) -> Iterator[str]:
    name = uid("grp")
    dss.create_group(name, "analysts of the risk team")
    yield name
    with contextlib.suppress(DataikuException):
        dss.get_group(name).delete()


@pytest.fixture
def user(dss: DSSClient, group: str) -> Iterator[str]:
    login = uid("usr")
    dss.create_user(login, "pw-123", "Ada Lovelace", groups=[group], email="ada@example.com")
    yield login
    with contextlib.suppress(DataikuException):
        dss.get_user(login).delete()


def test_group_round_trip(dss: DSSClient, group: str) -> None:
    definition = dss.get_group(group).get_definition()
    assert definition["name"] == group
    assert definition["description"] == "analysts of the risk team"
    assert definition["sourceType"] == "LOCAL"
    assert group in [g["name"] for g in dss.list_groups()]
    definition["description"] = "renamed team"
    definition["mayCreateProject"] = True
    dss.get_group(group).set_definition(definition)
    again = dss.get_group(group).get_definition()
    assert again["description"] == "renamed team" and again["mayCreateProject"] is True
    dss.get_group(group).delete()
    assert group not in [g["name"] for g in dss.list_groups()]
    with pytest.raises(DataikuException, match=group):
        dss.get_group(group).get_definition()


def test_duplicate_group_is_refused(dss: DSSClient, group: str) -> None:
    with pytest.raises(DataikuException, match="already exists"):
        dss.create_group(group)


def test_unknown_group_is_an_error(dss: DSSClient) -> None:
    with pytest.raises(DataikuException, match="no_such_group"):
        dss.get_group("no_such_group").get_definition()
    with pytest.raises(DataikuException):
        dss.get_group("no_such_group").delete()


def test_user_round_trip_never_returns_the_password(dss: DSSClient, user: str, group: str) -> None:
    settings = dss.get_user(user).get_settings()
    raw = settings.get_raw()
    assert raw["login"] == user and raw["displayName"] == "Ada Lovelace"
    assert raw["groups"] == [group] and raw["email"] == "ada@example.com"
    assert "password" not in raw
    assert settings.enabled is True
    assert user in [u["login"] for u in dss.list_users()]
    assert any(u.login == user for u in dss.list_users(as_objects=True))


def test_user_settings_save(dss: DSSClient, user: str) -> None:
    settings = dss.get_user(user).get_settings()
    settings.enabled = False
    settings.get_raw()["displayName"] = "Countess"
    settings.get_raw()["password"] = "new-pw"
    settings.save()
    raw = dss.get_user(user).get_settings().get_raw()
    assert raw["enabled"] is False and raw["displayName"] == "Countess"
    assert "password" not in raw


def test_user_delete(dss: DSSClient, user: str) -> None:
    dss.get_user(user).delete()
    assert user not in [u["login"] for u in dss.list_users()]
    with pytest.raises(DataikuException, match=user):
        dss.get_user(user).get_settings()


def test_duplicate_user_is_refused(dss: DSSClient, user: str) -> None:
    with pytest.raises(DataikuException, match="already exists"):
        dss.create_user(user, "pw", "again")


def test_user_in_unknown_group_is_refused(dss: DSSClient, user: str) -> None:
    login = uid("usr")
    with pytest.raises(DataikuException, match="no_such_group"):
        dss.create_user(login, "pw", groups=["no_such_group"])
    assert login not in [u["login"] for u in dss.list_users()]
    settings = dss.get_user(user).get_settings()
    settings.get_raw()["groups"].append("no_such_group")
    with pytest.raises(DataikuException, match="no_such_group"):
        settings.save()


def test_unknown_user_is_an_error(dss: DSSClient) -> None:
    with pytest.raises(DataikuException, match="no_such_user"):
        dss.get_user("no_such_user").get_settings()


@guess
def test_user_secrets_are_hidden_and_kept(dss: DSSClient, user: str) -> None:
    settings = dss.get_user(user).get_settings()
    settings.add_secret("github", "ghp_abc")
    settings.save()
    settings = dss.get_user(user).get_settings()
    token = settings.get_raw()["secrets"][0]["value"]
    assert token != "ghp_abc"
    settings.get_raw()["displayName"] = "changed"
    settings.save()
    assert dss.get_user(user).get_settings().get_raw()["secrets"][0]["value"] == token


@guess
def test_deleting_a_group_removes_its_members(dss: DSSClient, user: str, group: str) -> None:
    dss.get_group(group).delete()
    assert dss.get_user(user).get_settings().get_raw()["groups"] == []


@sim_only
def test_own_user_is_only_deleted_on_purpose(dss: DSSClient) -> None:
    me = dss.get_auth_info()["authIdentifier"]
    with pytest.raises(DataikuException, match="allowSelfDeletion"):
        dss.get_user(me).delete()
    assert me in [u["login"] for u in dss.list_users()]


@sim_only
def test_fresh_instance_users_and_groups(dss: DSSClient, alice: DSSClient) -> None:
    groups = {g["name"]: g for g in dss.list_groups()}
    assert {"administrators", "data_team", "readers"} <= set(groups)
    assert groups["administrators"]["admin"] is True and groups["readers"]["admin"] is False
    assert "administrators" in dss.get_user("admin").get_settings().get_raw()["groups"]
    assert alice.get_auth_info()["groups"] == ["data_team"]


def test_user_info_is_public(dss: DSSClient, user: str, group: str) -> None:
    info = dss.get_user(user).get_info()
    assert info.login == user and info.display_name == "Ada Lovelace" and info.groups == [group]


@sim_only
def test_non_admin_cannot_manage_users_or_groups(alice: DSSClient, user: str, group: str) -> None:
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.list_users()
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.create_user(uid("usr"), "pw")
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.get_user(user).delete()
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.create_group(uid("grp"))
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.get_group(group).get_definition()
    assert alice.get_user(user).get_info().login == user


# -- general settings and instance variables ----------------------------------------------------------

def test_general_settings_round_trip(dss: DSSClient) -> None:
    original = copy.deepcopy(dss.get_general_settings().get_raw())
    rule = {"type": "SINGLE_MAPPING", "scope": "GLOBAL", "dssUser": uid("u"), "targetUnix": "svc"}
    try:
        settings = dss.get_general_settings()
        settings.add_impersonation_rule(rule, is_user_rule=True)
        settings.save()
        assert dss.get_general_settings().get_impersonation_rules(dss_user=rule["dssUser"])
    finally:
        dss._perform_empty("PUT", "/admin/general-settings", body=original)
    assert not dss.get_general_settings().get_impersonation_rules(dss_user=rule["dssUser"])


@sim_only
def test_general_settings_keep_unknown_keys_and_fill_defaults(fresh_sim) -> None:
    client = fresh_sim.client()
    client._perform_empty("PUT", "/admin/general-settings", body={"iacSentinel": {"kept": True}})
    raw = client.get_general_settings().get_raw()
    assert raw["iacSentinel"] == {"kept": True}  # a free-form document: unknown keys stay
    assert raw["impersonation"] == {"userRules": [], "groupRules": []}


def test_instance_variables_are_saved_whole(dss: DSSClient) -> None:
    key = uid("var")
    variables = dss.get_global_variables()
    variables[key] = {"threshold": 0.5}
    variables.save()
    assert dss.get_global_variables()[key] == {"threshold": 0.5}
    variables = dss.get_global_variables()
    del variables[key]
    variables.save()
    assert key not in dss.get_global_variables()


@sim_only
def test_non_admin_cannot_touch_instance_settings(alice: DSSClient) -> None:
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.get_general_settings()
    with pytest.raises(DataikuException, match="not an administrator"):
        alice.get_global_variables()
    with pytest.raises(DataikuException, match="not an administrator"):
        alice._perform_empty("PUT", "/admin/variables/", body={"x": 1})


# -- what the instance kinds rely on (dataiku_iac/resources/{connection,code_env,group,user}.py) ------------------

def test_connection_access_settings_round_trip(dss: DSSClient, pg: str) -> None:
    conn = dss.get_connection(pg)
    definition = conn.get_definition()
    definition.update(usableBy="ALLOWED", allowedGroups=["data_team"], allowWrite=False, allowManagedDatasets=False,
                      allowManagedFolders=False,
                      detailsReadability={"readableBy": "ALLOWED", "allowedGroups": ["data_team", "readers"]})
    conn.set_definition(definition)
    again = conn.get_definition()
    assert (again["usableBy"], again["allowedGroups"]) == ("ALLOWED", ["data_team"])
    assert again["allowWrite"] is False and again["allowManagedDatasets"] is False
    assert again["allowManagedFolders"] is False
    assert again["detailsReadability"] == {"readableBy": "ALLOWED", "allowedGroups": ["data_team", "readers"]}
    assert again["params"]["host"] == "db.example.com"


def test_s3_connections_are_of_type_ec2(dss: DSSClient) -> None:
    name = uid("s3")
    dss.create_connection(name, "EC2", {"bucket": "lake", "accessKey": "AKIAEXAMPLE", "secretKey": "k"})
    try:
        assert dss.list_connections()[name]["type"] == "EC2"
        assert dss.get_connection(name).get_definition()["params"]["bucket"] == "lake"
    finally:
        dss.get_connection(name).delete()


def test_dataset_params_name_their_connection(dss: DSSClient, pg: str, project) -> None:
    project.create_dataset("ledger", "PostgreSQL", params={"connection": pg, "mode": "table", "table": "ledger"})
    listed = {d["name"]: d for d in project.list_datasets()}
    assert listed["ledger"]["params"]["connection"] == pg


def test_code_env_interpreter_is_chosen_at_creation_and_the_build_is_a_future(dss: DSSClient) -> None:
    name = uid("py")
    future = dss.create_code_env("PYTHON", name, "DESIGN_MANAGED",
                                 {"pythonInterpreter": "PYTHON312", "specPackageList": "pandas>=2.0\nnumpy"},
                                 wait=False)
    try:
        assert isinstance(future, DSSFuture)
        result = future.wait_for_result()
        assert result["envName"] == name and not result["messages"]["error"]
        definition = dss.get_code_env("PYTHON", name).get_definition()
        assert definition["desc"]["pythonInterpreter"] == "PYTHON312"
        assert definition["specPackageList"] == "pandas>=2.0\nnumpy"
        assert definition["actualPackageList"] == "pandas>=2.0\nnumpy"
    finally:
        dss.get_code_env("PYTHON", name).delete()


def test_r_code_env_round_trip(dss: DSSClient) -> None:
    name = uid("r")
    dss.create_code_env("R", name, "DESIGN_MANAGED", {"specPackageList": "dplyr\nggplot2"})
    try:
        assert (("R", name) in {(e["envLang"], e["envName"]) for e in dss.list_code_envs()})
        code_env = dss.get_code_env("R", name)
        settings = code_env.get_settings()
        settings.set_required_packages("dplyr", "ggplot2", "rmarkdown")
        settings.save()
        code_env.update_packages()
        assert code_env.get_definition()["actualPackageList"] == "dplyr\nggplot2\nrmarkdown"
    finally:
        dss.get_code_env("R", name).delete()


def test_group_permission_flags_round_trip(dss: DSSClient, group: str) -> None:
    handle = dss.get_group(group)
    definition = handle.get_definition()
    flags = ("mayWriteSafeCode", "mayWriteUnsafeCode", "mayCreateCodeEnvs", "mayManageCodeEnvs",
             "mayCreateWorkspaces", "admin")
    assert all(definition[f] is False for f in flags)
    definition.update({f: True for f in flags})
    handle.set_definition(definition)
    again = handle.get_definition()
    assert all(again[f] is True for f in flags) and again["mayCreateProject"] is False


def test_user_profile_groups_and_password_update(dss: DSSClient, user: str, group: str) -> None:
    other = uid("grp")
    dss.create_group(other)
    try:
        settings = dss.get_user(user).get_settings()
        raw = settings.get_raw()
        raw.update(userProfile="READER", groups=[group, other], email="ada@acme.example", password="rotated-pw")
        settings.save()
        again = dss.get_user(user).get_settings().get_raw()
        assert again["userProfile"] == "READER" and again["groups"] == [group, other]
        assert again["email"] == "ada@acme.example" and "password" not in again
        dss.get_group(other).delete()
        assert dss.get_user(user).get_settings().get_raw()["groups"] == [group]  # the other membership stays
    finally:
        with contextlib.suppress(DataikuException):
            dss.get_group(other).delete()
