"""What a Terraform user expects of the command line (issue 11, point 6): durations for --lock-timeout, global
options anywhere, HTTP errors that name the call, transient 500s retried on reads. `sim serve --data-dir`:
tests/sim/test_serve_cli.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac.cli.main import build_parser, main
from dataiku_iac.sim import Simulator
from tests.cli.test_docs import _commands
from tests.engine.conftest import write_workspace

PROJECT = """\
project: {key: HABITS, name: Habits, variables: {standard: {a: "1"}}}
datasets:
  raw: {type: Filesystem, connection: filesystem_managed, params: {path: /raw}}
  clean: {type: Filesystem, connection: filesystem_managed, params: {path: /clean}}
managed_folders:
  out: {connection: filesystem_folders}
recipes:
  clean_it: {type: sync, inputs: [raw], outputs: [clean]}
scenarios:
  nightly: {triggers: [{type: temporal, frequency: Daily}], steps: [{type: build, items: [clean]}]}
zones:
  ingest: {items: [raw]}
"""
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def remote_workspace(root: Path, host: str, api_key: str = "key") -> Path:
    return write_workspace(root, {"habits": PROJECT}, workspace_yaml=f"""\
        version: 1
        environments:
          dev: {{host: "{host}", api_key: "{api_key}"}}
        """)


def error_lines(err: str) -> list[str]:
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error:")]


# -- --lock-timeout DURATION ----------------------------------------------------------------------------------------
PARSER = build_parser()


@settings(deadline=None)  # parsing is quick, but a loaded CI machine is not
@given(amount=st.integers(min_value=0, max_value=100_000), unit=st.sampled_from(sorted(UNITS)))
def test_lock_timeout_takes_a_duration(amount: int, unit: str) -> None:
    args = PARSER.parse_args(["apply", "-e", "dev", "--lock-timeout", f"{amount}{unit}"])
    assert args.lock_timeout == pytest.approx(amount * UNITS[unit])


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2m30s", 150), ("1.5s", 1.5), ("500ms", 0.5),
    ("45", 45), ("0", 0), ("0s", 0), ("5M", 300),
])
def test_lock_timeout_durations_and_plain_seconds(text: str, seconds: float) -> None:
    for argv in (["apply", "-e", "dev"], ["destroy", "-e", "dev"], ["state", "rm", "-e", "dev", "a.B"]):
        assert build_parser().parse_args([*argv, "--lock-timeout", text]).lock_timeout == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "problem"), [
    *[(text, f"expected a duration such as 30s, 5m or 1h (or a number of seconds), got {text!r}")
      for text in ("soon", "-5s", "5 minutes", "1d", "inf", "nan", "", "s", "1h-5m")],
    ("-5", "must be 0 or more, got -5"),
])
def test_a_bad_duration_is_a_one_line_usage_error(text: str, problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["apply", "-e", "dev", f"--lock-timeout={text}"])  # "=": argparse reads "-5s" as an option
    assert e.value.code == 64
    lines = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert lines == [f"dss-iac apply: error: argument --lock-timeout: {problem}"]


def test_drift_watch_takes_a_duration_too() -> None:
    assert build_parser().parse_args(["drift", "-e", "dev", "--watch", "5m"]).watch == 300


# -- global options before or after the command -----------------------------------------------------------------------
def test_every_command_takes_the_global_options_after_it() -> None:
    for name, sub in _commands(build_parser()):
        flags = {flag for action in sub._actions for flag in action.option_strings}
        assert {"-C", "--no-color"} <= flags, name


@pytest.mark.parametrize(("argv", "directory", "no_color"), [
    (["-C", "a", "--no-color", "plan", "-e", "dev"], "a", True),
    (["plan", "-e", "dev", "-C", "a", "--no-color"], "a", True),
    (["plan", "-C", "a", "-e", "dev"], "a", False),
    (["-C", "a", "plan", "-e", "dev"], "a", False),  # the command's parser does not reset it
    (["-C", "a", "plan", "-e", "dev", "-C", "b"], "b", False),  # the last one wins
    (["--no-color", "state", "list", "-e", "dev"], ".", True),
    (["state", "list", "-e", "dev", "--no-color", "-C", "x"], "x", True),
    (["sim", "serve", "-C", "x"], "x", False),
])
def test_global_options_are_read_wherever_they_are(argv: list[str], directory: str, no_color: bool) -> None:
    args = build_parser().parse_args(argv)
    assert (args.directory, args.no_color) == (directory, no_color)


def test_a_workspace_named_after_the_command_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_workspace(tmp_path / "ws", {"habits": PROJECT})
    monkeypatch.chdir(tmp_path)  # no workspace here: only -C finds it
    assert main(["validate", "--no-color", "-C", str(root)]) == 0
    assert capsys.readouterr().out.startswith("The configuration is valid: 1 project(s)")


def test_help_of_every_command_lists_the_global_options_and_keeps_its_example() -> None:
    for name, sub in _commands(build_parser()):
        text = sub.format_help()
        assert "global options:" in text and "-C DIR" in text, name
        assert "example" in text.split("global options:")[1], name


# -- HTTP errors that do not come from DSS -----------------------------------------------------------------------------
class _Proxy(BaseHTTPRequestHandler):
    """What a proxy in front of a missing DSS answers: a status and an empty (or HTML) body."""

    status = 404
    body = b""

    def _answer(self) -> None:
        self.send_response(self.status)
        if self.body:
            self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("status", "body", "what"), [
    (404, b"", "an empty body"),
    (502, b"<html><h1>502 Bad Gateway</h1></html>", "a body that is not a DSS error (text/html)"),
    (404, b"<html><h1>404 Not Found</h1> the page does not exist</html>", "a body that is not a DSS error (text/html)"),
])
def test_an_error_that_is_not_from_dss_names_the_call_and_the_status(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], proxy: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch,
        status: int, body: bytes, what: str) -> None:
    monkeypatch.setattr(_Proxy, "status", status)
    monkeypatch.setattr(_Proxy, "body", body)
    port = proxy.server_address[1]
    root = remote_workspace(tmp_path, f"http://admin:hunter2@127.0.0.1:{port}")
    assert main(["-C", str(root), "plan", "-e", "dev"]) == 1
    err = capsys.readouterr().err
    assert error_lines(err) == [
        f"error: DSS at http://***@127.0.0.1:{port}: HTTP {status} from GET http://***@127.0.0.1:{port}"
        f"/dip/publicapi/auth/info?withSecrets=False with {what}: not an answer from DSS (check the host URL, and any "
        "proxy in between)"]
    assert "Unknown error" not in err and "hunter2" not in err


# -- transient 500s on reads -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def applied() -> Iterator[tuple[Simulator, Path]]:
    import tempfile

    with Simulator(govern=False, automation_nodes=()) as sim, tempfile.TemporaryDirectory() as tmp:
        root = remote_workspace(Path(tmp), sim.base_url, sim.api_key)
        assert main(["-C", str(root), "apply", "-e", "dev", "--yes"]) == 0
        yield sim, root


@pytest.mark.parametrize("command", [["plan", "-e", "dev"], ["drift", "-e", "dev"], ["validate", "-e", "dev"]])
def test_a_transient_500_on_any_read_is_tried_again(applied: tuple[Simulator, Path], command: list[str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sim, root = applied
    sim.reset_stats()
    assert main(["-C", str(root), *command]) == 0
    expected = capsys.readouterr().out
    reads = sorted({(e["method"], e["path"]) for e in sim.stats(with_log=True)["log"]})
    assert len(reads) >= 2 and all(method == "GET" for method, _ in reads)  # auth, and at least one listing
    for method, path in reads:
        sim.fail_next(1, "500", method=method, path=path)
        sim.reset_stats()
        assert main(["-C", str(root), *command]) == 0, (path, capsys.readouterr().err)
        assert capsys.readouterr().out == expected, path
        assert sim.stats()["faults"] == 1, path  # the 500 did happen, and the read was tried again
