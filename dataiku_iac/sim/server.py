"""The simulator's HTTP server: one loopback listener, several DSS nodes under URL prefixes."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import handlers as _handlers  # noqa: F401  (registers the routes)
from .context import ApiKey, Ctx, Node, Raw, Request, SimOptions
from .errors import SimError, bad_request, unauthorized
from .routing import router
from .stats import Stats

log = logging.getLogger("dataiku_iac.sim")

API_PREFIXES = ("/dip/publicapi", "/public/api")
SIM_PREFIX = "/__sim__"


FAULTS = ("500", "reset", "429")  # drawn at random: DSS never processed the request
# Also queued on demand: "lost" lets DSS process the request, then drops the connection before the reply (a
# proxy timeout or a network cut on the way back): the client cannot tell whether it happened.
QUEUED_FAULTS = (*FAULTS, "lost")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,19}")
_MAX_LINE = 4096  # a chunk-size or trailer line
_MAX_TRAILERS = 100
_LINGER_SECONDS = 2.0  # how long, and how much, a refused request's remaining input is read before closing
_LINGER_BYTES = 4 * 1024 * 1024


def _current_error() -> str:
    e = sys.exc_info()[1]
    return f"{type(e).__name__}: {e}" if e is not None else "unknown error"


def _too_large(limit: int) -> SimError:
    return SimError(413, "exceptions.PayloadTooLargeException", f"Request body over {limit} bytes")


@dataclass(frozen=True)
class ControlRequest:
    """A `/__sim__/` request no built-in endpoint serves, handed to the server's `control` hook."""

    method: str
    path: str
    key: ApiKey | None  # who the request authenticates as; None without a valid key
    body: bytes


@dataclass(frozen=True)
class ControlReply:
    status: int
    payload: Any
    # When set, the connection is held open after the reply until the client closes it, then this runs:
    # a client that stays attached for as long as it lives (the shared simulator counts its clients so).
    on_close: Callable[[], None] | None = None


ControlHook = Callable[[ControlRequest], ControlReply | None]


class Knobs:
    """Latency, fault injection and a gate that holds requests, changeable while the server runs."""

    def __init__(self, latency_ms: float = 0.0, fault_rate: float = 0.0, seed: int | None = None) -> None:
        self.latency_ms = latency_ms
        self.fault_rate = fault_rate
        self.gate = threading.Event()  # cleared: requests wait (a DSS that hangs, for as long as a test needs)
        self.gate.set()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        # (fault, or None to let a request through; only this method; only this API path)
        self._queued: list[tuple[str | None, str | None, str | None]] = []

    def queue(self, count: int, fault: str, method: str | None = None, path: str | None = None,
              after: int = 0) -> None:
        if fault not in QUEUED_FAULTS:
            raise ValueError(f"unknown fault {fault!r} (one of {', '.join(QUEUED_FAULTS)})")
        with self._lock:
            self._queued.extend([(None, method, path)] * after + [(fault, method, path)] * count)

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()

    def draw_fault(self, method: str = "GET", path: str | None = None) -> str | None:
        with self._lock:
            for i, (fault, only_method, only_path) in enumerate(self._queued):
                if only_method in (None, method) and only_path in (None, path):
                    del self._queued[i]
                    return fault
        if self.fault_rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.fault_rate:
                return None
            return self._rng.choice(FAULTS)


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, nodes: list[Node], keys: dict[str, ApiKey],
                 options: SimOptions, knobs: Knobs) -> None:
        super().__init__((host, port), _Handler)
        self.nodes = sorted(nodes, key=lambda n: len(n.prefix), reverse=True)
        self.keys = keys
        self.options = options
        self.knobs = knobs
        self.stats = Stats()
        self.stopped = False
        self.control: ControlHook | None = None
        self._writes = {"before": 0, "after": 0}  # write requests arrived, writes stored (crash knobs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        for n in nodes:
            n.server = self

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed outside any handler (the client went away mid-reply): one log line, no
        traceback on stderr; the traceback only at debug level."""
        log.warning("simulator connection from %s failed: %s", client_address[0], _current_error())
        log.debug("simulator connection failure", exc_info=True)

    def add_node(self, node: Node) -> None:
        node.server = self
        # One assignment: request threads iterating the old list keep a consistent view.
        self.nodes = sorted([*self.nodes, node], key=lambda n: len(n.prefix), reverse=True)

    def arm_crash(self, *, after: int | None, before: int | None) -> None:
        """Set (None: clear) both crash knobs, counted from now."""
        with self._connections_lock:
            self.options.crash_after_writes = after
            self.options.crash_before_write = before
            self._writes = {"before": 0, "after": 0}

    def count_write(self) -> None:
        """A write was stored: the crash knob that kills after DSS did the k-th one, before its reply."""
        self._crash_on("after", self.options.crash_after_writes)

    def count_write_request(self) -> None:
        """A write request arrived: the crash knob that kills before DSS processes the k-th one."""
        self._crash_on("before", self.options.crash_before_write)

    def _crash_on(self, counter: str, limit: int | None) -> None:
        if limit is None:
            return
        with self._connections_lock:
            self._writes[counter] += 1
            if self._writes[counter] == limit:
                os.kill(os.getpid(), signal.SIGKILL)

    def track(self, sock: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            (self._connections.add if alive else self._connections.discard)(sock)

    def close_connections(self) -> None:
        """Cut kept-alive connections too: a stopped simulator must not answer from its stale memory."""
        self.stopped = True
        with self._connections_lock:
            for sock in list(self._connections):
                with contextlib.suppress(OSError):  # already closed by the client
                    sock.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"  # bytes only for AF_UNIX

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def nodes_of_kind(self, kind: str) -> list[Node]:
        return [n for n in self.nodes if n.kind == kind]

    def locate(self, path: str) -> tuple[Node, str] | None:
        for n in self.nodes:
            if not path.startswith(n.prefix):
                continue
            rest = path[len(n.prefix):]
            for api in API_PREFIXES:
                if rest == api or rest.startswith(api + "/"):
                    return n, rest[len(api):] or "/"
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimServer
    server_version = "DSS-Simulator/0.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms delayed-ACK stalls

    def setup(self) -> None:
        # A client that stops sending (mid-body, or idle between requests) is let go after this long, so no
        # connection holds a thread forever.
        self.timeout = self.server.options.idle_timeout_s  # type: ignore[misc]  # typeshed: a ClassVar; setup() reads it per instance
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """HTTP-level refusals (a malformed request line or header, an unsupported method) as DSS JSON
        errors, like every other error, instead of http.server's HTML page."""
        self.close_connection = True
        text = message or self.responses.get(code, ("Bad request",))[0]
        err = SimError(code, "exceptions.BadRequestException" if code < 500 else "java.lang.RuntimeException", text)
        if self.command == "HEAD" or code < 200 or code in (204, 304):
            self.send_response(code, text)
            self.send_header("Connection", "close")
            self.end_headers()
            return
        self._send_json(code, err.body())

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # -- plumbing --------------------------------------------------------------------------------
    def _serve(self) -> None:
        if self.server.stopped:
            self.close_connection = True
            return
        split = urlsplit(self.path)
        path = split.path
        params = parse_qs(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = self._read_body(headers)
        except SimError as e:
            self.close_connection = True
            self._send_json(e.status, e.body(), e.headers)
            self._discard_input()
            return
        if path.startswith(SIM_PREFIX):
            self._serve_admin_endpoint(path, params, headers, body)
            return
        located = self.server.locate(path)
        if located is None:
            err = SimError(404, "exceptions.NotFoundException", f"No DSS node serves {path}")
            self._send_json(err.status, err.body())
            self.server.stats.record("-", self.command, path, None, err.status, None)
            return
        node, api_path = located
        self.server.knobs.gate.wait()
        if self.server.knobs.latency_ms > 0:
            time.sleep(self.server.knobs.latency_ms / 1000.0)
        if self.command != "GET":
            self.server.count_write_request()
        fault = self.server.knobs.draw_fault(self.command, api_path)
        if fault is not None and fault != "lost":
            status = 0 if fault == "reset" else int(fault)
            self.server.stats.record(node.name, self.command, api_path, None, status, fault)
            self._inject(fault)
            return
        req = Request(self.command, api_path, params, headers, body)
        status, payload, route_pattern, extra = self._dispatch(node, req)
        self.server.stats.record(node.name, self.command, api_path, route_pattern, status, fault)
        if fault == "lost":
            self._inject("reset")
            return
        if isinstance(payload, Raw):
            self._send(status, payload.data, payload.content_type, extra)
        else:
            self._send_json(status, payload, extra)

    def _dispatch(self, node: Node, req: Request) -> tuple[int, Any, str | None, dict[str, str]]:
        pattern = None
        try:
            key = self._authenticate(req.headers)
            route, args = router.match(node.kind, req.method, req.path)
            pattern = route.pattern
            ctx = Ctx(node, req, key, self.server.options)
            # A handler reaches what it changes through the store during its request: a precise write.
            with node.store.transaction(precise=True):
                result = route.handler(ctx, **args)
            if req.method != "GET":
                self.server.count_write()
            return 200, {} if result is None else result, pattern, {}
        except SimError as e:
            return e.status, e.body(), pattern, e.headers
        except OSError as e:  # the node's disk said no (full, read-only): the store put the node back as it was
            log.warning("simulator I/O error on %s %s: %s", req.method, req.path, e)
            err = SimError(500, "java.io.IOException", f"I/O error: {e.strerror or e}")
            return 500, err.body(), pattern, {}
        except Exception as e:  # a simulator bug must still answer as DSS would, and keep serving
            log.exception("simulator handler failed on %s %s", req.method, req.path)
            err = SimError(500, "java.lang.RuntimeException", f"Internal server error: {type(e).__name__}")
            return 500, err.body(), pattern, {}

    def _authenticate(self, headers: dict[str, str]) -> ApiKey:
        import base64

        auth = headers.get("authorization", "")
        secret = None
        if auth.lower().startswith("basic "):
            try:
                secret = base64.b64decode(auth[6:].strip()).decode("utf-8").split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                secret = None
        elif auth.lower().startswith("bearer "):
            secret = auth[7:].strip()
        elif "x-dku-apiticket" in headers:
            secret = headers["x-dku-apiticket"]
        key = self.server.keys.get(secret) if secret else None
        if key is None:
            raise unauthorized()
        return key

    def _read_body(self, headers: dict[str, str]) -> bytes:
        """The request body, whole; a SimError (the connection is then closed) for one that is malformed,
        too large, shorter than announced or too slow to arrive (`SimOptions.idle_timeout_s`)."""
        limit = self.server.options.max_body_bytes
        try:
            if headers.get("transfer-encoding", "").lower() == "chunked":
                return self._read_chunked(limit)
            text = headers.get("content-length", "").strip()
            if text and not _DIGITS.fullmatch(text):  # int() would take "-5", "+5" and "1_0"
                raise bad_request(f"Invalid Content-Length '{text[:40]}'")
            length = int(text or 0)
            if length > limit:
                raise _too_large(limit)
            return self._read_exactly(length)
        except TimeoutError:
            message = f"The request body did not arrive within {self.timeout} s"
            raise SimError(408, "exceptions.RequestTimeoutException", message) from None

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self._read_line("chunk size")
            size_text = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                raise bad_request(f"Malformed chunked body: invalid chunk size {size_text[:20]!r}")
            size = int(size_text, 16)
            if size == 0:
                for _ in range(_MAX_TRAILERS):
                    if self._read_line("trailer") == b"":
                        return b"".join(chunks)
                raise bad_request("Malformed chunked body: too many trailer lines")
            total += size
            if total > limit:
                raise _too_large(limit)
            chunks.append(self._read_exactly(size))
            if self._read_line("chunk end") != b"":
                raise bad_request("Malformed chunked body: a chunk is longer than its announced size")

    def _read_line(self, what: str) -> bytes:
        """One CRLF-terminated line of the chunked framing, without its line break."""
        line = self.rfile.readline(_MAX_LINE + 1)
        if not line.endswith(b"\n"):
            problem = "too long" if len(line) > _MAX_LINE else "cut short"
            raise bad_request(f"Malformed chunked body: {what} line {problem}")
        return line.rstrip(b"\r\n")

    def _read_exactly(self, length: int) -> bytes:
        data = self.rfile.read(length) if length > 0 else b""
        if len(data) < length:
            raise bad_request(f"Request body cut short: {len(data)} of {length} bytes arrived")
        return data

    def _discard_input(self) -> None:
        """Read and drop what the client is still sending (for a moment, up to a limit) before closing: closing
        a socket with unread input resets the connection, and the client could lose the error just sent (the
        "lingering close" of web servers)."""
        deadline = time.monotonic() + _LINGER_SECONDS
        left = _LINGER_BYTES
        with contextlib.suppress(OSError):  # the client is gone already: nothing to protect
            self.connection.shutdown(socket.SHUT_WR)
            while left > 0 and (remaining := deadline - time.monotonic()) > 0:
                self.connection.settimeout(remaining)
                chunk = self.connection.recv(min(65536, left))
                if not chunk:
                    break
                left -= len(chunk)

    def _inject(self, fault: str) -> None:
        if fault == "reset":
            # An abrupt close (RST), as a crashed proxy or node would give.
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if fault == "429":
            err = SimError(429, "exceptions.TooManyRequestsException", "Too many requests (injected fault)",
                           headers={"Retry-After": "1"})
        else:
            err = SimError(500, "java.lang.RuntimeException", "Internal server error (injected fault)")
        self._send_json(err.status, err.body(), err.headers)

    def _serve_admin_endpoint(self, path: str, params: dict[str, list[str]], headers: dict[str, str],
                              body: bytes) -> None:
        stats = self.server.stats
        if path.rstrip("/") == SIM_PREFIX + "/stats" and self.command == "GET":
            with_log = params.get("log", ["false"])[-1].lower() == "true"
            self._send_json(200, stats.snapshot(with_log=with_log))
        elif path.rstrip("/") in (SIM_PREFIX + "/stats", SIM_PREFIX + "/stats/reset") and self.command != "GET":
            stats.reset()
            self._send_json(200, stats.snapshot())
        elif path.rstrip("/") == SIM_PREFIX + "/nodes" and self.command == "GET":
            self._send_json(200, [{"name": n.name, "nodeType": n.kind, "url": n.url} for n in self.server.nodes])
        elif not self._serve_control(path, headers, body):
            err = SimError(404, "exceptions.NotFoundException", f"No simulator endpoint at {path}")
            self._send_json(err.status, err.body())

    def _serve_control(self, path: str, headers: dict[str, str], body: bytes) -> bool:
        hook = self.server.control
        if hook is None:
            return False
        try:
            key: ApiKey | None = self._authenticate(headers)
        except SimError:
            key = None
        reply = hook(ControlRequest(self.command, path.rstrip("/"), key, body))
        if reply is None:
            return False
        self._send_json(reply.status, reply.payload)
        if reply.on_close is not None:
            self.close_connection = True
            try:
                while self.rfile.read(1):  # the client sends nothing more: this returns when it goes away
                    pass
            except OSError:
                pass
            finally:
                reply.on_close()
        return True

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json", headers)

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
