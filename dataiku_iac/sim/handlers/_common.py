"""Helpers shared by the simulator's handler modules: DSS normalisation rules in one place."""

from __future__ import annotations

import copy
import re
from typing import Any

from ..context import Ctx
from ..errors import SimError, bad_request

NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
# DSS rejects keys with characters outside [A-Za-z0-9_] (DSS_API.md §5); the exact regex and the length limit
# are unverified guesses (a key names files on the server, so it cannot be arbitrarily long).
PROJECT_KEY_RE = re.compile(r"^[A-Za-z0-9_]+$")
MAX_PROJECT_KEY_LENGTH = 128


def fill_defaults(doc: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Fill keys the client left out, recursively, as DSS does when it stores a document."""
    for key, value in defaults.items():
        if key not in doc or doc[key] is None:
            doc[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(doc[key], dict):
            fill_defaults(doc[key], value)
    return doc


def sort_tags(doc: dict[str, Any], key: str = "tags") -> dict[str, Any]:
    """DSS stores tags as a set and returns them sorted."""
    tags = doc.get(key)
    if isinstance(tags, list):
        doc[key] = sorted({str(t) for t in tags})
    return doc


def check_name(name: Any, what: str) -> str:
    """Dataset and recipe names: alphanumerics and underscores, no dots (DSS_API.md §5)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise bad_request(f"Invalid {what} name '{name}': use only letters, digits and underscores")
    return name


def check_project_key(key: Any, what: str = "project") -> str:
    """A project key as DSS takes it: letters, digits and underscores, at most MAX_PROJECT_KEY_LENGTH of them."""
    if not isinstance(key, str) or not PROJECT_KEY_RE.match(key):
        shown = key[:40] + "..." if isinstance(key, str) and len(key) > 40 else key
        raise bad_request(f"Invalid {what} key '{shown}': use only letters, digits and underscores")
    if len(key) > MAX_PROJECT_KEY_LENGTH:
        raise bad_request(f"Invalid {what} key '{key[:40]}...': longer than {MAX_PROJECT_KEY_LENGTH} characters")
    return key


def body_object(ctx: Ctx) -> dict[str, Any]:
    return ctx.req.json_object()


def already_exists(what: str, name: str) -> SimError:
    return SimError(409, "exceptions.CodedException", f"{what} {name} already exists")


def copy_doc(doc: Any) -> Any:
    """Replies never share structure with the store: a handler can't corrupt it through a reply."""
    return copy.deepcopy(doc)


def suffixed(base: str, taken: Any) -> str:
    """`base`, or `base_1`, `base_2`... whichever is free (GUESS: the suffix DSS uses for ids and names)."""
    candidate, n = base, 1
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def active_bundle_id(record: dict[str, Any]) -> str | None:
    """The bundle a project runs on an automation node: the last activated of its imported bundles."""
    imported = (record.get("bundles") or {}).get("imported") or {}
    activated = [(b["activatedOn"], bid) for bid, b in imported.items() if isinstance(b, dict) and b.get("activatedOn")]
    return max(activated)[1] if activated else None
