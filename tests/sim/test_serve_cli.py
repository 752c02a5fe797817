"""`dss-iac sim serve` as a user runs it."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from dataikuapi import DSSClient

from dataiku_iac.sim import Simulator

DSS_IAC = [sys.executable, "-m", "dataiku_iac"]


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen([*DSS_IAC, "sim", "serve", "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    urls: dict[str, str] = {}
    for line in proc.stdout:
        if line.startswith("serving"):
            break
        name, _, rest = line.partition(" ")
        urls[name] = rest.split()[-1]
    return proc, urls


def test_serve_prints_node_urls_serves_and_stops_cleanly(tmp_path: Path) -> None:
    proc, urls = _start("--api-key", "k3y", "--automation", "staging", "--automation", "prod",
                        "--data-dir", str(tmp_path))
    try:
        assert set(urls) == {"design", "staging", "prod", "govern", "api"}
        assert urls["prod"] == urls["design"] + "/prod"
        client = DSSClient(urls["design"], "k3y")
        client.create_project("SERVED", "served", "admin")
        assert DSSClient(urls["prod"], "k3y").get_instance_info().raw["nodeType"] == "AUTOMATION"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in out
    with contextlib.closing(sqlite3.connect(tmp_path / "design" / "store.db")) as db:
        assert db.execute("SELECT count(*) FROM docs WHERE owner = 'SERVED'").fetchone()[0] > 0


def test_bad_flags_are_usage_errors_without_traceback() -> None:
    r = subprocess.run([*DSS_IAC, "sim", "serve", "--fault-rate", "2"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 64
    assert "--fault-rate must be between 0 and 1" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([*DSS_IAC, "sim", "serve", "--user-key", "nologin"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 64 and "KEY=LOGIN" in r.stderr


def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    proc, urls = _start()
    try:
        port = urls["design"].rsplit(":", 1)[1]
        r = subprocess.run([*DSS_IAC, "sim", "serve", "--port", port], capture_output=True, text=True, timeout=30)
        assert r.returncode == 1
        assert r.stderr.strip().startswith("dss-iac sim serve: error: cannot listen on")
        assert len(r.stderr.strip().splitlines()) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


# -- --data-dir: the nodes a folder holds (issue 11, point 6) -------------------------------------------------------
def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


def test_sim_serve_data_dir_serves_every_node_found_there(tmp_path: Path) -> None:
    data = tmp_path / "embedded"
    with Simulator(data_dir=data, automation_nodes=["staging", "prod"]) as sim:
        sim.client(node="prod").create_project("IN_PROD", "in prod", "admin")
    (data / "notes").mkdir()  # a folder that is not a node is left alone
    proc, urls = _start("--data-dir", str(data))
    try:
        assert set(urls) == {"design", "staging", "prod", "govern", "api"}
        assert DSSClient(urls["prod"], sim.api_key).list_project_keys() == ["IN_PROD"]
    finally:
        _stop(proc)


def test_sim_serve_adds_named_nodes_to_those_found(tmp_path: Path) -> None:
    with Simulator(data_dir=tmp_path, automation_nodes=["prod"], govern=False):
        pass
    proc, urls = _start("-C", str(tmp_path.parent), "--data-dir", tmp_path.name, "--automation", "qa", "--no-govern")
    try:
        assert list(urls) == ["design", "qa", "prod", "api"]
    finally:
        _stop(proc)


def test_sim_serve_on_a_new_data_dir_serves_the_default_automation_node(tmp_path: Path) -> None:
    proc, urls = _start("--data-dir", str(tmp_path / "new"), "--no-govern")
    try:
        assert list(urls) == ["design", "automation", "api"]
    finally:
        _stop(proc)


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--port", "99999", "expected a port number from 0 to 65535, got '99999'"),
    ("--latency-ms", "-5", "expected a number of milliseconds, 0 or more, got '-5'"),
])
def test_sim_serve_refuses_out_of_range_numbers_in_one_line(flag: str, value: str, message: str) -> None:
    r = subprocess.run([*DSS_IAC, "sim", "serve", flag, value], capture_output=True, text=True, timeout=30)
    assert r.returncode == 64
    assert f"error: argument {flag}: {message}" in r.stderr
    assert "Traceback" not in r.stderr
