"""A simulator with a data dir survives restarts; writes are atomic."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    with Simulator(data_dir=tmp_path, govern=False) as sim:
        assert sorted(sim.client().list_project_keys()) == sorted(f"P{i}" for i in range(20))


def test_leftover_temp_files_from_a_crash_are_ignored(tmp_path: Path) -> None:
    with Simulator(data_dir=tmp_path, govern=False) as sim:
        sim.client().create_project("OK", "ok", "admin")
    torn = tmp_path / "design" / "blobs" / ".0123abcd.123.456.tmp"  # a bundle archive cut short
    torn.parent.mkdir(parents=True, exist_ok=True)
    torn.write_bytes(b"PK half an archive")
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


BURST = textwrap.dedent("""
    import sys
    from dataiku_iac.sim import Simulator
    sim = Simulator(data_dir=sys.argv[1], govern=False, automation_nodes=()).start()
    project = sim.client().create_project("BURST", "burst", "admin")
    sim.arm_crash(after=int(sys.argv[2]))  # SIGKILL right after that write is stored, before its reply
    for i in range(10_000):
        ds = project.create_dataset(f"ds_{i}", "Filesystem", params={"connection": "filesystem_managed",
                                                                      "path": f"/burst/{i}"}, formatType="csv")
        settings = ds.get_settings()
        settings.get_raw()["tags"] = [f"saved_{i}"]
        settings.save()
        print(f"acked {i}", flush=True)
""")


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.integers(min_value=1, max_value=120))
def test_kill_9_in_a_burst_of_writes_keeps_every_acknowledged_one(tmp_path_factory: pytest.TempPathFactory,
                                                                    writes: int) -> None:
    # A real process writing datasets to one project as fast as it can is killed (SIGKILL) right after its
    # `writes`-th write is stored: every write whose reply it read is there after a restart, and the one the
    # kill cut off before its reply is either wholly there or not at all.
    data_dir = tmp_path_factory.mktemp("burst")
    proc = subprocess.run([sys.executable, "-c", BURST, str(data_dir), str(writes)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    acked = [int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("acked ")]
    last = (writes - 1) // 2  # two writes per dataset (create, save its settings): the kill came in this one's
    assert acked == list(range(last))
    with Simulator(data_dir=data_dir, govern=False, automation_nodes=()) as sim:
        found = {d["name"]: d.get("tags") for d in sim.client().get_project("BURST").list_datasets()}
    assert set(found) == {f"ds_{i}" for i in range(last + 1)}
    for i in acked:
        assert found[f"ds_{i}"] == [f"saved_{i}"]
    # The write the kill cut off after it was stored is there too: it was committed before its reply.
    assert (found[f"ds_{last}"] == [f"saved_{last}"]) == (writes % 2 == 0)


def test_a_data_dir_of_the_earlier_layout_is_migrated_on_open(tmp_path: Path) -> None:
    # One JSON file per project and instance.json (the layout before store.db): read once, moved into the
    # database, removed.
    node = tmp_path / "design"
    (node / "projects").mkdir(parents=True)
    with Simulator(govern=False, automation_nodes=()) as sim:
        client = sim.client()
        client.create_project("OLD", "Old one", "admin").set_variables({"standard": {"a": "1"}, "local": {}})
        store = sim.node().store
        (node / "instance.json").write_text(json.dumps(store.instance))
        (node / "projects" / "OLD.json").write_text(json.dumps(store.projects["OLD"]))
        install_id = client.get_instance_info().raw["installId"]
    with Simulator(data_dir=tmp_path, govern=False, automation_nodes=()) as sim:
        client = sim.client()
        assert client.list_project_keys() == ["OLD"]
        assert client.get_project("OLD").get_variables()["standard"] == {"a": "1"}
        assert client.get_instance_info().raw["installId"] == install_id
        client.create_project("NEW", "new", "admin")
    assert not (node / "instance.json").exists() and not (node / "projects").exists()
    with Simulator(data_dir=tmp_path, govern=False, automation_nodes=()) as sim:
        assert sorted(sim.client().list_project_keys()) == ["NEW", "OLD"]
