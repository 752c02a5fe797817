"""The shared simulator: one server per data dir for every process, found through its discovery file, started
on demand, replaced when stale, stopped when idle. Clients are real dataikuapi clients in real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataiku_iac.sim.shared import (
    DISCOVERY,
    LOG,
    SharedServerError,
    SharedSimulator,
    attach,
    read_discovery,
    stop,
    wait_gone,
)

WRITER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from dataiku_iac.sim.shared import attach
    data_dir, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    with attach(data_dir, ["automation"], idle_seconds=30) as sim:
        client = sim.client()
        for i in range(count):
            project = client.create_project(f"{tag}{i}", f"{tag} {i}", "admin")
            project.update_variables({"writer": tag, "i": str(i)})
        print(json.dumps({"pid": sim.pid, "url": sim.base_url}))
""")


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "shared"
    yield d
    stop(d)


def open_sim(data_dir: Path, nodes: tuple[str, ...] = ("automation",), idle: float = 30) -> SharedSimulator:
    return attach(data_dir, list(nodes), idle_seconds=idle)


def test_processes_share_one_server_and_no_write_is_lost(data_dir: Path) -> None:
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir), f"W{n}", "15"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(4)]
    outs = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0] * 4, [err[-800:] for _, err in outs]
    replies = [json.loads(out) for out, _ in outs]
    assert len({r["pid"] for r in replies}) == 1  # they raced to start it: one server all the same
    expected = {f"W{n}{i}" for n in range(4) for i in range(15)}
    with open_sim(data_dir) as sim:
        assert set(sim.client().list_project_keys()) == expected
        assert sim.client().get_project("W37").get_variables()["standard"] == {"writer": "W3", "i": "7"}
    assert stop(data_dir) == replies[0]["pid"]
    with open_sim(data_dir) as sim:  # a new server, from what the first one wrote down
        assert sim.pid != replies[0]["pid"]
        assert set(sim.client().list_project_keys()) == expected


def test_a_killed_server_is_replaced_with_the_same_data_key_and_url(data_dir: Path) -> None:
    sim = open_sim(data_dir)
    sim.client().create_project("KEPT", "kept", "admin")
    assert sim.alive
    assert sim.pid is not None
    os.kill(sim.pid, signal.SIGKILL)
    assert wait_gone(sim.pid, 10)
    assert not sim.alive  # its attachment tells the client at once
    stale = read_discovery(data_dir)
    assert stale is not None and stale.pid == sim.pid  # a dead pid: stale, taken over by the next process
    with open_sim(data_dir) as again:
        assert again.pid != sim.pid
        assert (again.base_url, again.api_key) == (sim.base_url, sim.api_key)  # users' scripts keep working
        assert again.client().list_project_keys() == ["KEPT"]
    sim.close()


def test_it_stops_once_idle_but_never_while_a_process_is_attached(data_dir: Path) -> None:
    sim = open_sim(data_dir, idle=0.5)
    assert sim.pid is not None
    assert not wait_gone(sim.pid, 2.5)  # five idle periods, and still serving its attached client
    sim.client().create_project("P", "p", "admin")
    sim.close()
    assert wait_gone(sim.pid, 10)
    found = read_discovery(data_dir)
    assert found is not None and found.pid is None and found.api_key == sim.api_key
    with open_sim(data_dir) as again:
        assert again.client().list_project_keys() == ["P"]


def test_a_copied_folder_gets_a_server_of_its_own(tmp_path: Path, data_dir: Path) -> None:
    with open_sim(data_dir) as original:
        original.client().create_project("ORIG", "orig", "admin")
        copy = tmp_path / "copy"
        shutil.copytree(data_dir, copy)  # its discovery file names the original's server
        try:
            with open_sim(copy) as copied:
                assert copied.pid != original.pid
                assert copied.data_dir == copy.resolve()
                copied.client().create_project("COPY", "copy", "admin")
            assert original.client().list_project_keys() == ["ORIG"]
        finally:
            stop(copy)


def test_the_discovery_file_is_private_and_the_key_shows_in_no_log_or_process_list(data_dir: Path) -> None:
    with open_sim(data_dir) as sim:
        sim.client().create_project("P", "p", "admin")
        with pytest.raises(Exception, match="NOPE"):
            sim.client().get_project("NOPE").get_variables()
        assert (data_dir / DISCOVERY).stat().st_mode & 0o777 == 0o600
        assert data_dir.stat().st_mode & 0o777 == 0o700  # the stored documents are private too
        assert json.loads((data_dir / DISCOVERY).read_text())["api_key"] == sim.api_key
        assert len(sim.api_key) >= 32  # a key of its own, not the simulator's well-known one
        cmdline = Path(f"/proc/{sim.pid}/cmdline").read_bytes().decode()
        environ = Path(f"/proc/{sim.pid}/environ").read_bytes().decode(errors="replace")
        assert sim.api_key not in cmdline and sim.api_key not in environ
        assert sim.api_key not in repr(sim) and sim.api_key not in repr(read_discovery(data_dir))
    stop(data_dir)
    log = (data_dir / LOG).read_text()
    assert "serving" in log and "stopped" in log
    assert sim.api_key not in log


def test_a_deleted_folder_stops_its_server(data_dir: Path) -> None:
    sim = open_sim(data_dir, idle=8)  # checked every 2 s; idleness alone would take 8 s
    sim.close()
    assert sim.pid is not None
    shutil.rmtree(data_dir)
    assert wait_gone(sim.pid, 6)


def test_an_automation_node_asked_for_later_is_served_with_its_infrastructure(data_dir: Path) -> None:
    with open_sim(data_dir) as first, open_sim(data_dir, ("automation", "prod")) as second:
        assert second.pid == first.pid
        assert second.url("prod") == second.base_url + "/prod"
        prod = second.client("prod")
        assert prod.get_instance_info().node_type == "AUTOMATION"
        infras = {i.id for i in second.client().get_projectdeployer().list_infras(as_objects=True)}
        assert {"automation", "prod"} <= infras
        with pytest.raises(SharedServerError, match="node name 'Bad Name'"):
            open_sim(data_dir, ("Bad Name",))


def test_stopping_cuts_attached_processes_off(data_dir: Path) -> None:
    sim = open_sim(data_dir)
    assert stop(data_dir) == sim.pid
    assert not sim.alive
    assert stop(data_dir) is None  # nothing runs any more
    sim.close()


def test_it_never_stops_as_idle_while_a_job_runs(data_dir: Path) -> None:
    sim = open_sim(data_dir, idle=0.5)
    project = sim.client().create_project("P", "p", "admin")
    builder = project.new_recipe("python")
    builder.with_new_output_dataset("out", "filesystem_managed")
    builder.with_script("import time, dataiku\ntime.sleep(3)\nout = dataiku.Dataset('out')\n"
                        "out.write_schema([{'name': 'a', 'type': 'string'}])\n"
                        "with out.get_writer() as w:\n    w.write_row_dict({'a': 'x'})\n")
    builder.create()
    job = project.new_job("NON_RECURSIVE_FORCED_BUILD").with_output("out").start()
    sim.close()
    assert not wait_gone(sim.pid, 2.0)  # four idle periods, no request, no client: the job keeps it up
    assert wait_gone(sim.pid, 30)
    with open_sim(data_dir) as again:
        status = again.client().get_project("P").get_job(job.id).get_status()
        assert status["baseStatus"]["state"] == "DONE"
