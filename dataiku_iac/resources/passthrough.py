"""Passthrough: an object of a kind's collection kept as its DSS document, for what the kind's typed model does
not cover (a recipe type, a scenario step the model has no form for).

A project file declares them in its `passthrough:` section, by collection then by name:

    passthrough:
      recipes:
        by_customer:            # recipe.SALES.by_customer, kept as DSS holds it
          recipe: {type: grouping, inputs: ..., outputs: ..., params: ...}
          payload: {keys: [...], values: [...]}

The document is DSS's own, minus what the server makes (`Kind.server_made`: version tags, the project key and
the object's identity). dss-iac manages it as one opaque field, `passthrough`: a plan compares it with the
document read from DSS (every key, nested), apply writes it back whole (`Kind.write_document`), drift and
adopt see it like any field. Any kind gets this by providing `document` and `write_document`; typed support
for a type, when it lands, takes over at the next import. Passthrough objects get no environment overrides
and no remapping: the document is written as it is in every environment.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import registry
from .address import Address
from .base import Desired

if TYPE_CHECKING:
    from ..config.loader import ProjectSource
    from .base import Kind

SECTION = "passthrough"  # the project file's section, and the one managed field of a passthrough object


def is_passthrough(fields: Mapping[str, Any] | None) -> bool:
    """Whether managed fields (desired, recorded or compared) are a passthrough object's."""
    return fields is not None and set(fields) == {SECTION}


def entries(spec: Any, kind: Kind) -> dict[str, Any]:
    """The passthrough documents a project file (`spec`) declares for `kind`, by name."""
    section = getattr(spec, SECTION, None)
    if section is None or kind.collection is None:
        return {}
    return dict(getattr(section, kind.collection, None) or {})


def names(spec: Any, kind_name: str) -> set[str]:
    """The names of the objects of a kind a project file declares, typed or passthrough."""
    kind = registry.get(kind_name)
    return {str(n) for n in kind.declared(spec)} | set(entries(spec, kind))


def place(kind: Kind, name: str) -> tuple[str, ...]:
    """Where a passthrough object sits in its project file."""
    return (SECTION, str(kind.collection), name)


def without(doc: Mapping[str, Any], server_made: frozenset[str]) -> dict[str, Any]:
    """A DSS document without the top-level keys the server makes."""
    return {k: copy.deepcopy(v) for k, v in doc.items() if k not in server_made}


def desired(kind: Kind, source: ProjectSource) -> list[Desired]:
    """The passthrough objects of `kind` a project file declares, as the planner wants them."""
    from ._flowrefs import flow_address

    out = []
    key = source.key
    for name, doc in sorted(entries(source.spec, kind).items()):
        document = copy.deepcopy(dict(doc))
        declared = {n for k in ("dataset", "managed_folder") if k in registry.KINDS for n in names(source.spec, k)}
        uses = sorted({flow_address(source, ref) for ref in kind.document_refs(document)
                       if "." in ref or ref in declared})
        out.append(Desired(Address(kind.name, key, name), {SECTION: document}, (Address("project", key), *uses)))
    return out


def overwrite(raw: dict[str, Any], document: Mapping[str, Any], server_made: frozenset[str]) -> dict[str, Any]:
    """`raw` (a DSS document just read) made to say `document`: its keys set, the keys it lacks removed, what the
    server makes kept as DSS sent it."""
    for k in [k for k in raw if k not in document and k not in server_made]:
        del raw[k]
    raw.update(copy.deepcopy(dict(document)))
    return raw


def without_ids(items: Any) -> Any:
    """A list of DSS items (triggers, steps, reporters) without the ids DSS generates for them."""
    if not isinstance(items, list):
        return items
    return [{k: v for k, v in i.items() if k != "id"} if isinstance(i, dict) else i for i in items]


def with_ids(items: Any, current: Any) -> Any:
    """Items of a passthrough document given back the ids DSS gave the items at the same place (`current`): an
    item added gets a new one from DSS."""
    if not isinstance(items, list):
        return items
    old = current if isinstance(current, list) else []
    out = []
    for i, item in enumerate(copy.deepcopy(items)):
        if isinstance(item, dict) and i < len(old) and isinstance(old[i], dict) and old[i].get("id") \
                and "id" not in item:
            item = {"id": old[i]["id"], **item}
        out.append(item)
    return out
