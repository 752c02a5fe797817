"""A simulator with a data dir survives restarts; writes are atomic."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from dataiku_iac.sim import Simulator


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    with Simulator(data_dir=tmp_path, govern=False) as sim:
        client = sim.client()
        p = client.create_project("KEEP", "Kept", "admin", tags=["x"])
        p.set_variables({"standard": {"a": "1"}, "local": {"b": "2"}})
        version = p.get_summary()["versionTag"]["versionNumber"]
        install_id = client.get_instance_info().raw["installId"]
    with Simulator(data_dir=tmp_path, govern=False) as sim:
        client = sim.client()
        p = client.get_project("KEEP")
        assert p.get_summary()["name"] == "Kept"
        assert p.get_variables() == {"standard": {"a": "1"}, "local": {"b": "2"}}
        assert p.get_summary()["versionTag"]["versionNumber"] == version
        assert client.get_instance_info().raw["installId"] == install_id


def test_deleted_projects_stay_deleted(tmp_path: Path) -> None:
    with Simulator(data_dir=tmp_path, govern=False) as sim:
        sim.client().create_project("GONE", "gone", "admin").delete()
    with Simulator(data_dir=tmp_path, govern=False) as sim:
        assert sim.client().list_project_keys() == []


def test_nodes_persist_separately(tmp_path: Path) -> None:
    with Simulator(data_dir=tmp_path) as sim:
        sim.client(node="automation").create_project("AUTO", "auto", "admin")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["automation", "design", "govern"]
    with Simulator(data_dir=tmp_path) as sim:
        assert sim.client().list_project_keys() == []
        assert sim.client(node="automation").list_project_keys() == ["AUTO"]


def test_a_killed_server_loses_no_acknowledged_write(tmp_path: Path) -> None:
    # Each acknowledged write is on disk before the reply: kill -9 right after it loses nothing.
    script = textwrap.dedent(f"""
        import os, signal
        from dataiku_iac.sim import Simulator
        sim = Simulator(data_dir={str(tmp_path)!r}, govern=False).start()
        c = sim.client()
        for i in range(20):
            c.create_project(f"P{{i}}", f"p{{i}}", "admin")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -9
    assert not list(tmp_path.rglob("*.tmp"))
    for f in tmp_path.rglob("*.json"):
        json.loads(f.read_text())  # every file on disk is whole
    with Simulator(data_dir=tmp_path, govern=False) as sim:
        assert sorted(sim.client().list_project_keys()) == sorted(f"P{i}" for i in range(20))


def test_leftover_temp_files_from_a_crash_are_ignored(tmp_path: Path) -> None:
    with Simulator(data_dir=tmp_path, govern=False) as sim:
        sim.client().create_project("OK", "ok", "admin")
    torn = tmp_path / "design" / "projects" / ".OK.json.123.456.tmp"
    torn.write_text('{"half": ')
    with Simulator(data_dir=tmp_path, govern=False) as sim:
        assert sim.client().list_project_keys() == ["OK"]
    assert not torn.exists()


def test_a_data_dir_serves_one_simulator_at_a_time(tmp_path: Path) -> None:
    from dataiku_iac.sim import DataDirBusyError

    with Simulator(data_dir=tmp_path, govern=False):
        try:
            Simulator(data_dir=tmp_path, govern=False)
        except DataDirBusyError as e:
            assert str(tmp_path) in str(e) and "in use by another process" in str(e)
        else:
            raise AssertionError("a second simulator on a busy data dir must be refused")
    with Simulator(data_dir=tmp_path, govern=False) as sim:  # released on stop
        assert sim.client().list_project_keys() == []


def test_a_stopped_simulator_answers_nothing_even_on_kept_alive_connections(tmp_path: Path) -> None:
    import pytest
    import requests

    sim = Simulator(data_dir=tmp_path, govern=False).start()
    client = sim.client()
    client.create_project("OLD", "old", "admin")  # opens a kept-alive connection
    sim.stop()
    with pytest.raises(requests.ConnectionError):
        client.list_project_keys()
    with Simulator(data_dir=tmp_path, govern=False) as again:
        assert again.client().list_project_keys() == ["OLD"]
