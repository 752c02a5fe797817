"""Path routing for the simulator: `@route("GET", "/projects/{project_key}/settings")`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .errors import SimError

Handler = Callable[..., Any]

DSS_NODES = ("DESIGN", "AUTOMATION")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler
    node_types: tuple[str, ...]


def _compile(pattern: str) -> re.Pattern[str]:
    # Trailing slashes are optional: the client mixes `/projects/` and `/projects/{key}`. A `{name:path}`
    # placeholder takes the rest of the path, slashes included (library files live in folders).
    body = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", pattern.rstrip("/"))
    body = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", body)
    return re.compile("^" + body + "/?$")


class Router:
    """A table of routes; a node type selects which routes a node answers."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, pattern: str, *, nodes: tuple[str, ...] = DSS_NODES) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, pattern, _compile(pattern), handler, nodes))
            # Literal segments win over placeholders: `/scenarios/testing-status` before `/scenarios/{id}`.
            self.routes.sort(key=lambda r: r.pattern.count("{"))
            return handler

        return register

    def match(self, node_type: str, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed: set[str] = set()
        for r in self.routes:
            if node_type not in r.node_types:
                continue
            m = r.regex.match(path)
            if m is None:
                continue
            if r.method != method:
                allowed.add(r.method)
                continue
            return r, {k: unquote(v) for k, v in m.groupdict().items()}
        if allowed:
            raise SimError(
                405,
                "exceptions.MethodNotAllowedException",
                f"Method {method} is not supported on {path} (allowed: {', '.join(sorted(allowed))})",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        raise SimError(404, "exceptions.NotFoundException", f"No API endpoint at {path}")


router = Router()
route = router.route
