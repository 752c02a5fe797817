"""A DSS behind a corporate HTTP proxy: the proxy variables are honoured as requests honours them (read once per
client, not for every request), and NO_PROXY bypasses it."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dataiku_iac.cli.main import main
from dataiku_iac.sim import Simulator
from tests.cli.test_terraform_habits import remote_workspace


class _Forwarding(BaseHTTPRequestHandler):
    """A forwarding proxy: each request (absolute-form, as clients send them to a proxy) passed on and noted."""

    seen: list[str]

    def _forward(self) -> None:
        self.seen.append(self.path)
        target = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        conn = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        conn.request(self.command, target.path + (f"?{target.query}" if target.query else ""), body, headers)
        reply = conn.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for k, v in reply.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def forwarding_proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Forwarding,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("bypassed", [False, True])
def test_a_plan_goes_through_the_proxy_the_environment_names_unless_no_proxy_says_otherwise(
        tmp_path: Path, sim: Simulator, forwarding_proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], bypassed: bool) -> None:
    url, seen = forwarding_proxy
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1" if bypassed else "")
    root = remote_workspace(tmp_path, sim.base_url, sim.api_key)
    assert main(["-C", str(root), "plan", "-e", "dev"]) == 0
    assert '+ dataset "HABITS.raw"' in capsys.readouterr().out  # DSS answered, through the proxy or not
    if bypassed:
        assert seen == []
    else:
        assert seen and all(p.startswith(sim.base_url + "/") for p in seen)
        assert any("/projects/" in p for p in seen)
