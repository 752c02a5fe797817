"""How the simulator hands secrets back: blanked (default) or in an opaque encrypted form."""

from __future__ import annotations

import pytest
from dataikuapi.utils import DataikuException

from dataiku_iac.sim import SimOptions, Simulator


def _stored(sim: Simulator, name: str) -> str:
    return sim.node().store.coll("connections")[name]["params"]["password"]


def test_blank_mode_hides_secrets_and_keeps_them_on_read_merge_write() -> None:
    with Simulator(govern=False, automation_nodes=()) as sim:
        dss = sim.client()
        dss.create_connection("pg", "PostgreSQL", {"host": "h", "password": "s3cret"})
        conn = dss.get_connection("pg")
        definition = conn.get_definition()
        assert definition["params"]["password"] == ""
        definition["params"]["host"] = "h2"
        conn.set_definition(definition)
        assert _stored(sim, "pg") == "s3cret"
        definition["params"]["password"] = "rotated"
        conn.set_definition(definition)
        assert _stored(sim, "pg") == "rotated"
        assert conn.get_definition()["params"]["password"] == ""


def test_encrypted_mode_gives_stable_tokens_that_only_this_object_can_decrypt() -> None:
    with Simulator(govern=False, automation_nodes=(), options=SimOptions(secrets_on_read="encrypted")) as sim:
        dss = sim.client()
        dss.create_connection("pg", "PostgreSQL", {"host": "h", "password": "s3cret"})
        dss.create_connection("other", "PostgreSQL", {"host": "h", "password": "mine"})
        conn = dss.get_connection("pg")
        token = conn.get_definition()["params"]["password"]
        assert token.startswith("e:AES:") and token == conn.get_definition()["params"]["password"]
        definition = conn.get_definition()
        definition["params"]["password"] = "rotated"
        conn.set_definition(definition)
        assert conn.get_definition()["params"]["password"] not in (token, "rotated")
        definition["params"]["password"] = ""
        conn.set_definition(definition)
        assert conn.get_definition()["params"]["password"] == ""
        other = dss.get_connection("other").get_definition()
        other["params"]["password"] = token
        with pytest.raises(DataikuException, match="Cannot decrypt"):
            dss.get_connection("other").set_definition(other)
        assert _stored(sim, "other") == "mine"
