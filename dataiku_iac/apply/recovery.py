"""Finishing what a crashed apply left: replay its recorded results, check DSS for its open intents."""

from __future__ import annotations

import base64
from functools import partial
from typing import Any

from ..dss.connect import Connection, read_with_retry
from ..resources import KINDS, Address
from ..secrets import taint
from ..state.model import ResourceState, State


def replay(state: State, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply the journal's results to `state`; return the intents that have no result."""
    open_intents: dict[tuple[str, str], dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: r.get("seq", 0)):
        step = (r.get("address", ""), r.get("phase", ""))
        if r.get("op") == "intent":
            open_intents[step] = r
        elif r.get("op") == "done":
            open_intents.pop(step, None)
            if r.get("fingerprint_key") and state.fingerprint_key is None:  # the results were sealed with it
                state.fingerprint_key = base64.b64decode(r["fingerprint_key"])
            res = r.get("resource")
            if res is None:
                state.resources.pop(r["address"], None)
            else:
                state.resources[r["address"]] = ResourceState.from_dict(res)
    return list(open_intents.values())


def resolve(state: State, intents: list[dict[str, Any]], conn: Connection) -> list[str]:
    """Look in DSS for what each unfinished operation really did, and record it. Returns what was found."""
    found: list[str] = []
    for intent in intents:
        address = Address.parse(intent["address"])
        kind = KINDS[intent["kind"]]
        phase = intent["phase"]
        if phase == "create":
            # Created just before the crash? Then adopt it, found by what the intent says: never create it twice.
            name = intent.get("name")
            remote = kind.observed(read_with_retry(conn, partial(kind.find, conn.client, address, name)),
                                   intent.get("masked"))
            if remote is not None:
                # What it was created with says which of DSS's values are sensitive (they are sealed).
                fields = state.sealer().scrub(taint(dict(remote.fields), intent.get("masked")))
                state.resources[str(address)] = ResourceState(kind.name, remote.remote_id, fields,
                                                              list(intent.get("depends_on", [])))
                found.append(f"{address}: created before the interruption, adopted")
            else:
                found.append(f"{address}: not created before the interruption")
        elif phase == "delete":
            remote_id = intent.get("remote_id")
            remote = read_with_retry(conn, partial(kind.read, conn.client, address, remote_id))
            if remote is None:
                gone = [str(address)]
                if address.kind == "project":  # DSS deleted its contents with it
                    gone += [k for k, r in state.resources.items() if Address.parse(k).project == address.project
                             and KINDS[r.kind].dies_with_project]
                for k in gone:
                    state.resources.pop(k, None)
                found.append(f"{address}: deleted before the interruption, forgotten"
                             + (f" with the {len(gone) - 1} object(s) in it" if len(gone) > 1 else ""))
            else:
                found.append(f"{address}: still in DSS, the plan deletes it again")
        else:
            found.append(f"{address}: update interrupted, the plan compares it again")
    return found
