"""Users whose login holds `.`, `@` or `+` (LDAP and SSO logins such as `jane.doe@corp.com`): declared in the
instance file, addressed quoted (`user["jane.doe@corp.com"]`), planned, applied, drifted, targeted, shown and
imported; plain addresses unchanged; bad logins refused at their place in the file."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac import Address, ApprovalError, ConfigError, kinds
from dataiku_iac.plan.render_text import render_plan
from dataiku_iac.resources.user import LOGIN
from dataiku_iac.sim import Simulator
from tests.engine.conftest import apply_ok, changes

WORKSPACE = """\
version: 1
projects: [projects/*.yaml]
environments:
  dev:
    host: embedded
    instance: instance/dev.yaml
"""

INSTANCE = """\
groups:
  analysts: {description: the analysts}
users:
  jane.doe@corp.com:
    display_name: Jane Doe
    groups: [analysts]
  bob+ops@corp.io: {email: bob@corp.io}
  ada: {display_name: Ada}
"""

JANE = 'user["jane.doe@corp.com"]'

# What DSS accepts as a login (the simulator's rule, see sim/handlers/admin_security.py), starting with a letter,
# a digit or `_` as the instance file asks.
logins = st.from_regex(re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,40}"), fullmatch=True)


def _ws(make_workspace, instance: str = INSTANCE):
    return make_workspace({}, WORKSPACE, {"instance/dev.yaml": instance})


def test_dotted_logins_are_planned_applied_and_quoted(make_workspace) -> None:
    ws = _ws(make_workspace)
    plan = ws.plan("dev")
    addresses = [str(a.address) for a in plan.changes]
    assert JANE in addresses and 'user["bob+ops@corp.io"]' in addresses and "user.ada" in addresses
    jane = next(a for a in plan.actions if str(a.address) == JANE)
    assert "group.analysts" in map(str, jane.depends_on)
    text = render_plan(plan)
    assert f"# {JANE} will be created" in text and '+ user "jane.doe@corp.com" {' in text
    apply_ok(ws)
    client = ws.connection("dev").client
    assert client.get_user("jane.doe@corp.com").get_settings().get_raw()["groups"] == ["analysts"]
    assert JANE in ws.state("dev").resources and "user.ada" in ws.state("dev").resources
    assert changes(ws) == []
    # A hand edit in DSS is drift of the quoted address, and a target selects it alone.
    settings = client.get_user("jane.doe@corp.com").get_settings()
    settings.get_raw()["displayName"] = "J. Doe"
    settings.save()
    ws = _ws(make_workspace)
    assert changes(ws) == [("~", JANE, ["display_name"])]
    targeted = ws.plan("dev", targets=[JANE])
    assert [str(a.address) for a in targeted.changes] == [JANE]
    apply_ok(ws)
    assert client.get_user("jane.doe@corp.com").get_definition()["displayName"] == "Jane Doe"


def test_removing_a_dotted_login_needs_allow_delete(make_workspace) -> None:
    ws = _ws(make_workspace)
    apply_ok(ws)
    ws = _ws(make_workspace, INSTANCE.replace("  bob+ops@corp.io: {email: bob@corp.io}\n", ""))
    plan = ws.plan("dev")
    assert [(a.symbol, str(a.address)) for a in plan.changes] == [("-", 'user["bob+ops@corp.io"]')]
    with pytest.raises(ApprovalError, match=re.escape('user["bob+ops@corp.io"]') + ".*--allow-delete"):
        ws.apply(plan)
    client = ws.connection("dev").client
    assert "bob+ops@corp.io" in [u["login"] for u in client.list_users()]
    assert ws.apply(plan, allow_delete=True).ok
    assert "bob+ops@corp.io" not in [u["login"] for u in client.list_users()]
    assert 'user["bob+ops@corp.io"]' not in ws.state("dev").resources


def test_import_writes_dotted_logins_and_the_next_plan_is_empty(make_workspace, tmp_path) -> None:
    from dataiku_iac.cli.main import main

    ws = _ws(make_workspace)
    apply_ok(ws)
    ws.close()
    (tmp_path / "dss-iac.yaml").write_text(WORKSPACE + "  mirror:\n    host: embedded\n")
    assert main(["-C", str(tmp_path), "import", "-e", "mirror", "--instance"]) == 0
    written = (tmp_path / "instance" / "mirror.yaml").read_text()
    assert "jane.doe@corp.com:" in written and "bob+ops@corp.io:" in written
    ws = make_workspace()
    assert [str(a.address) for a in ws.plan("mirror").changes] == []
    assert JANE in ws.state("mirror").resources


@pytest.mark.parametrize("name", ["jane doe", "jane/doe", ".jane", 'ja"ne', "jane\\doe"])
def test_a_bad_login_is_a_located_error(make_workspace, name: str) -> None:
    with pytest.raises(ConfigError) as e:
        _ws(make_workspace, f"users:\n  ok: {{}}\n  '{name}': {{}}\n")
    text = str(e.value)
    assert re.search(r"instance/dev\.yaml:3:\d+:", text) and len(text.splitlines()) == 1, text
    assert "a login such as `jane.doe@corp.com`" in text


def test_plain_addresses_are_unchanged_and_dotted_ones_refused_unquoted() -> None:
    for text in ("user.ada", "group.data-team", "connection.pg_dev", "dataset.CHURN.raw", "project.CHURN"):
        assert str(Address.parse(text)) == text
    assert Address.parse('user["ada"]') == Address.parse("user.ada")
    quoted_hint = re.escape('user["NAME"] for a name with other characters') + r".*: " + re.escape(JANE)
    with pytest.raises(ValueError, match=quoted_hint):
        Address.parse("user.jane.doe@corp.com")
    for bad in ('user["jane doe"]', 'user["a/b"]', 'dataset["x"]', 'user["a"b"]'):
        with pytest.raises(ValueError, match="invalid address"):
            Address.parse(bad)


@settings(max_examples=300, deadline=None)
@given(logins)
def test_every_login_has_one_address_that_parses_back(login: str) -> None:
    address = Address.instance("user", login)
    text = str(address)
    assert Address.parse(text) == address
    assert Address.parse(f'user["{login}"]') == address
    # Plain where it can be, quoted otherwise: never a dotted text that would split into more parts.
    assert text == f"user.{login}" if re.fullmatch(r"[A-Za-z0-9_-]+", login) else text == f'user["{login}"]'
    assert re.fullmatch(LOGIN, login)


@pytest.fixture(scope="module")
def dss() -> object:
    with Simulator() as sim:
        yield sim.client()


@settings(max_examples=25, deadline=None)
@given(login=logins.filter(lambda login: login != "admin"),
       display=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20))
def test_every_login_is_read_from_dss_under_its_address(dss, login: str, display: str) -> None:
    """What the user kind reads and imports: any login DSS holds comes back under its own address."""
    kind = kinds.get("user")
    if login in [u["login"] for u in dss.list_users()]:  # the simulator's own admin, or an earlier example
        dss.get_user(login).delete()
    dss.create_user(login, "pw", display)
    address = Address.parse(str(Address.instance("user", login)))
    remote = kind.read(dss, address, None)
    assert remote is not None and remote.remote_id == login
    assert remote.fields["display_name"] == (display or login)
    assert login in kind.list_all(dss)
    dss.get_user(login).delete()
    assert kind.read(dss, address, None) is None
