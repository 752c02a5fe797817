"""Passthrough: an object of a kind's collection kept as its DSS document, for what the kind's typed model does
not cover (a recipe type, a scenario step the model has no form for).

A project file declares them in its `passthrough:` section, by collection then by name:

    passthrough:
      recipes:
        by_customer:            # recipe.SALES.by_customer, kept as DSS holds it
          recipe: {type: grouping, inputs: ..., outputs: ..., params: ...}
          payload: {keys: [...], values: [...]}

The document is DSS's own, minus what the server makes (`Kind.server_made`: version tags, the project key and
the object's identity). dss-iac manages it as one field, `passthrough`: a plan compares it with the document
read from DSS on the keys the document sets, at every level (`pruned`: DSS's defaults and additions never show),
apply writes those keys back (`merged`, through `Kind.write_document`), drift and adopt see it like any field.
Any kind gets this by providing `document` and `write_document`; typed support for a type, when it lands, takes
over at the next import. Passthrough objects get no environment overrides and no remapping: the document is
written as it is in every environment.
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


def merged(current: Any, wanted: Any) -> Any:
    """`wanted` (a passthrough document, or a value in it) written over `current` (what DSS holds there): a mapping
    sets its keys and keeps DSS's others, a list's items merge with DSS's items at the same place (an item keeps the
    id and the defaults DSS gave it), anything else is `wanted`."""
    if isinstance(wanted, dict):
        base = dict(current) if isinstance(current, dict) else {}
        return {**base, **{k: merged(base.get(k), v) for k, v in wanted.items()}}
    if isinstance(wanted, list):
        old = current if isinstance(current, list) else []
        return [merged(old[i] if i < len(old) else None, v) for i, v in enumerate(wanted)]
    return copy.deepcopy(wanted)


def pruned(found: Any, wanted: Any) -> Any:
    """What DSS holds (`found`), on the keys `wanted` sets only: a passthrough document is compared as an open
    map at every level, so the defaults DSS adds to what it is given (and new keys of a newer DSS) never show as
    changes. A key taken out of the document is no longer managed; a list is compared item by item when it has
    as many items, whole otherwise."""
    if isinstance(wanted, dict) and isinstance(found, dict):
        return {k: pruned(found[k], v) for k, v in wanted.items() if k in found}
    if isinstance(wanted, list) and isinstance(found, list) and len(wanted) == len(found):
        return [pruned(f, w) for f, w in zip(found, wanted, strict=True)]
    return found


def without_ids(items: Any) -> Any:
    """A list of DSS items (triggers, steps, reporters) without the ids DSS generates for them."""
    if not isinstance(items, list):
        return items
    return [{k: v for k, v in i.items() if k != "id"} if isinstance(i, dict) else i for i in items]
