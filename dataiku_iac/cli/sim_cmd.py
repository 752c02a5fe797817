"""`dss-iac sim serve|info|stop`: the DSS simulator standalone, and the workspace's embedded DSS."""

from __future__ import annotations

import argparse
import math
import re
import signal
import sys
from pathlib import Path
from typing import Any

# Folders of a data dir that are not automation nodes; a node folder holds the node's store.db (instance.json in
# the layout before it, migrated when served).
NOT_AUTOMATION = ("design", "govern")
NODE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def register(sub: Any) -> None:
    sim = sub.add_parser(
        "sim", help="run the DSS simulator", description="Run the DSS simulator (design, automation, govern nodes).",
        epilog="example:\n  dss-iac sim serve --port 11200 --api-key secret --data-dir .dss-sim",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sim_sub = sim.add_subparsers(dest="sim_command", metavar="SUBCOMMAND", parser_class=sub._parser_class)
    serve = sim_sub.add_parser(
        "serve",
        help="serve the DSS REST API over HTTP until interrupted",
        description="Serve the DSS public REST API over HTTP until interrupted; prints each node's URL.",
        epilog=(
            "example:\n"
            "  dss-iac sim serve --port 11200 --api-key secret --automation staging --automation prod\n"
            "  dss-iac sim serve --data-dir .dss-iac/sim/embedded   # every node that folder holds\n"
            "  python -c \"import dataikuapi; print(dataikuapi.DSSClient('http://127.0.0.1:11200', 'secret')"
            ".list_project_keys())\""
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=11200, help="port to listen on, 0 for any (default: 11200)")
    serve.add_argument("--api-key", default=None, help="admin API key (default: the simulator's well-known key)")
    serve.add_argument("--user-key", action="append", default=[], metavar="KEY=LOGIN",
                       help="a non-admin API key for LOGIN (repeatable)")
    serve.add_argument("--automation", action="append", default=None, metavar="NAME",
                       help="an automation node served at /NAME (repeatable; default: those found in --data-dir, "
                            "else one named 'automation')")
    serve.add_argument("--no-govern", action="store_true", help="serve no Govern node")
    serve.add_argument("--data-dir", default=None, metavar="DIR",
                       help="persist every node under this folder; the automation nodes found there are served too")
    serve.add_argument("--latency-ms", type=_milliseconds, default=0.0, help="added latency per request, in ms")
    serve.add_argument("--fault-rate", type=float, default=0.0,
                       help="share of requests answered with a fault (500, connection reset, 429)")
    serve.add_argument("--seed", type=int, default=None, help="random seed for fault injection")
    serve.add_argument("--strict-404", action="store_true",
                       help="answer 'not found' with 404 rather than DSS's usual 500")
    serve.set_defaults(func=_serve)
    _register_embedded(sim_sub)
    sim.set_defaults(func=lambda args, console: (sim.print_help(), 64)[1])


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return int(text)


def _milliseconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of milliseconds, 0 or more, got {text!r}")
    return value


def _automation_nodes(data_dir: Path | None, named: list[str] | None) -> list[str]:
    """The nodes named with --automation, and those a data dir already holds (a workspace's embedded DSS)."""
    found = []
    if data_dir is not None and data_dir.is_dir():
        found = sorted(d.name for d in data_dir.iterdir()
                       if d.name not in NOT_AUTOMATION and NODE_NAME.fullmatch(d.name)
                       and ((d / "store.db").is_file() or (d / "instance.json").is_file()))
    nodes = list(dict.fromkeys([*(named or []), *found]))
    return nodes or ["automation"]


def _serve(args: argparse.Namespace, console: object = None) -> int:
    from ..sim import DEFAULT_API_KEY, DataDirBusyError, SimOptions, Simulator

    if not 0.0 <= args.fault_rate <= 1.0:
        print("dss-iac sim serve: error: --fault-rate must be between 0 and 1", file=sys.stderr)
        return 64
    user_keys: dict[str, str] = {}
    for item in args.user_key:
        secret, sep, login = item.partition("=")
        if not sep or not secret or not login:
            print(f"dss-iac sim serve: error: --user-key expects KEY=LOGIN, got '{item}'", file=sys.stderr)
            return 64
        user_keys[secret] = login
    data_dir = Path(args.directory, args.data_dir) if args.data_dir is not None else None  # -C DIR applies
    try:
        sim = Simulator(
            host=args.host, port=args.port, api_key=args.api_key or DEFAULT_API_KEY, user_keys=user_keys,
            automation_nodes=_automation_nodes(data_dir, args.automation), govern=not args.no_govern,
            data_dir=data_dir, latency_ms=args.latency_ms, fault_rate=args.fault_rate, seed=args.seed,
            options=SimOptions(realistic_errors=not args.strict_404),
        )
    except OSError as e:
        what = f"cannot use {e.filename}" if e.filename else f"cannot listen on {args.host}:{args.port}"
        print(f"dss-iac sim serve: error: {what}: {e.strerror}", file=sys.stderr)
        return 1
    except DataDirBusyError as e:
        print(f"dss-iac sim serve: error: {e}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"dss-iac sim serve: error: {e}", file=sys.stderr)
        return 64
    # Before "serving" is printed: whoever waits for that line may stop the server at once.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        for node in sim.nodes:
            print(f"{node.name:<12} {node.kind:<11} {node.url}", flush=True)
        print(f"api key      {'(as given)' if args.api_key else DEFAULT_API_KEY}", flush=True)
        print("serving; press Ctrl+C to stop", flush=True)
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()  # however far it got: every node flushed, the data dir released
    print("stopped", flush=True)
    return 0


def _register_embedded(sim_sub: Any) -> None:
    info = sim_sub.add_parser(
        "info", help="the workspace's embedded DSS: URLs and API key (started if needed)",
        description="Print the URL of each node of the workspace's embedded DSS (host: embedded) and its admin API "
                    "key, starting it if no process runs it. Every process of the workspace shares it: the CLI, "
                    "the terminal app, notebooks and your own dataikuapi scripts.",
        epilog="example:\n  dss-iac sim info\n"
               "  python -c \"import dataikuapi, json, subprocess; i = json.loads(subprocess.check_output("
               "['dss-iac', 'sim', 'info', '--json'])); print(dataikuapi.DSSClient(i['url'], i['api_key'])"
               ".list_project_keys())\"",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    info.add_argument("--json", action="store_true", help="print as JSON (url, api_key, pid, nodes...)")
    info.set_defaults(func=_info)
    stop = sim_sub.add_parser(
        "stop", help="stop the workspace's embedded DSS (the next use starts it again)",
        description="Stop the workspace's embedded DSS now rather than when idle. Processes using it are cut off; "
                    "the next command that needs it starts it again, with the same data and key.",
        epilog="example:\n  dss-iac sim stop", formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stop.set_defaults(func=_stop)


def _info(args: argparse.Namespace, console: Any) -> int:
    from pathlib import Path

    from ..dss.connect import workspace_embedded

    with workspace_embedded(Path(args.directory)) as sim:
        if args.json:
            console.json({"url": sim.base_url, "api_key": sim.api_key, "pid": sim.pid, "data_dir": str(sim.data_dir),
                          "idle_seconds": sim.idle_seconds,
                          "nodes": {n.name: {"type": n.kind, "url": n.url} for n in sim.nodes}})
        else:
            console.out(sim.describe())
    return 0


def _stop(args: argparse.Namespace, console: Any) -> int:
    from pathlib import Path

    from ..dss.connect import stop_embedded

    pid = stop_embedded(Path(args.directory))
    console.out(f"stopped the embedded DSS (pid {pid})" if pid else "the embedded DSS was not running")
    return 0
