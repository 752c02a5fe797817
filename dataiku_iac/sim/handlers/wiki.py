"""Project wiki: settings (taxonomy, home article), articles (create, read by id or name, save, delete).

A project record keeps `wiki` = {"settings": {taxonomy, homeArticleId}, "articles": {id: {"article", "payload"}}}.
GUESS (docs/simulator.md): article ids are numbers counted per project ("1", "2"...), as in DSS's wiki URLs;
the first article becomes the home article; deleting an article hands its children to its parent.
"""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import already_exists, copy_doc, fill_defaults, sort_tags
from .projects import touch

ARTICLE_DEFAULTS: dict[str, Any] = {"layout": "", "tags": [], "attachments": [], "shortDesc": ""}


def _wiki(record: dict[str, Any]) -> dict[str, Any]:
    wiki = record.setdefault("wiki", {})
    wiki.setdefault("settings", {"taxonomy": []})
    wiki.setdefault("articles", {})
    return wiki


def _ids_in(taxonomy: Any) -> list[str]:
    """Every article id of a taxonomy tree, depth first; refuses a malformed tree."""
    if not isinstance(taxonomy, list):
        raise bad_request("The wiki taxonomy must be a list of {id, children}")
    out: list[str] = []
    for node in taxonomy:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            raise bad_request("Each wiki taxonomy entry needs an 'id' and a 'children' list")
        out.append(node["id"])
        out += _ids_in(node.setdefault("children", []))
    return out


def _find(taxonomy: list[dict[str, Any]], article_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """The sibling list holding an article's node, and the node."""
    for node in taxonomy:
        if node["id"] == article_id:
            return taxonomy, node
        found = _find(node["children"], article_id)
        if found:
            return found
    return None


def _article(ctx: Ctx, project_key: str, id_or_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    record = ctx.project(project_key)
    articles = _wiki(record)["articles"]
    entry = articles.get(id_or_name) or next(
        (a for a in articles.values() if a["article"]["name"] == id_or_name), None)
    if entry is None:
        raise ctx.not_found(f"Wiki article {id_or_name} does not exist in project {project_key}")
    return record, entry


def _check_article_name(articles: dict[str, Any], name: Any, article_id: str | None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise bad_request("A wiki article needs a non-empty name")
    if any(a["article"]["name"] == name for i, a in articles.items() if i != article_id):
        raise already_exists("Wiki article", name)
    return name


@route("GET", "/projects/{project_key}/wiki/")
def get_wiki(ctx: Ctx, project_key: str) -> dict[str, Any]:
    return {"projectKey": project_key, **copy_doc(_wiki(ctx.project(project_key))["settings"])}


@route("PUT", "/projects/{project_key}/wiki/")
def save_wiki(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    wiki = _wiki(record)
    body = ctx.req.json_object()
    taxonomy = body.get("taxonomy", [])
    ids = _ids_in(taxonomy)
    # DSS: every article is in the taxonomy once and only once (wiki.py get_taxonomy).
    if sorted(ids) != sorted(wiki["articles"]):
        missing = sorted(set(wiki["articles"]) - set(ids))
        extra = sorted({i for i in ids if ids.count(i) > 1 or i not in wiki["articles"]})
        raise bad_request(f"The wiki taxonomy must list every article once: missing {missing}, unknown or "
                          f"repeated {extra}")
    home = body.get("homeArticleId")
    if home is not None and home not in wiki["articles"]:
        raise bad_request(f"Home article {home} does not exist")
    wiki["settings"] = {"taxonomy": taxonomy, **({"homeArticleId": home} if home else {})}
    touch(ctx, record)
    return get_wiki(ctx, project_key)


@route("POST", "/projects/{project_key}/wiki/")
def create_article(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    wiki = _wiki(record)
    body = ctx.req.json_object()
    name = _check_article_name(wiki["articles"], body.get("name"), None)
    parent = body.get("parent")
    siblings = wiki["settings"]["taxonomy"]
    if parent is not None:
        found = _find(siblings, str(parent))
        if found is None:
            raise ctx.not_found(f"Parent wiki article {parent} does not exist in project {project_key}")
        siblings = found[1]["children"]
    wiki["nextId"] = wiki.get("nextId", 1)
    while str(wiki["nextId"]) in wiki["articles"]:
        wiki["nextId"] += 1
    article_id = str(wiki["nextId"])
    article = ctx.bump_version(fill_defaults({"id": article_id, "projectKey": project_key, "name": name},
                                             ARTICLE_DEFAULTS), None)
    wiki["articles"][article_id] = {"article": article, "payload": ""}
    siblings.append({"id": article_id, "children": []})
    wiki["settings"].setdefault("homeArticleId", article_id)
    touch(ctx, record)
    return copy_doc(wiki["articles"][article_id])


@route("GET", "/projects/{project_key}/wiki/{article}")
def get_article(ctx: Ctx, project_key: str, article: str) -> dict[str, Any]:
    return copy_doc(_article(ctx, project_key, article)[1])


@route("PUT", "/projects/{project_key}/wiki/{article}")
def save_article(ctx: Ctx, project_key: str, article: str) -> dict[str, Any]:
    record, old = _article(ctx, project_key, article)
    article_id = old["article"]["id"]
    body = ctx.req.json_object()
    doc, payload = body.get("article", old["article"]), body.get("payload", old["payload"])
    if not isinstance(doc, dict) or not isinstance(payload, str):
        raise bad_request("Expected {article: {...}, payload: \"markdown\"}")
    _check_article_name(_wiki(record)["articles"], doc.get("name"), article_id)
    doc.update(id=article_id, projectKey=project_key)  # identity is the server's
    doc = ctx.bump_version(sort_tags(fill_defaults(doc, ARTICLE_DEFAULTS)), old["article"])
    _wiki(record)["articles"][article_id] = {"article": doc, "payload": payload}
    touch(ctx, record)
    return copy_doc(_wiki(record)["articles"][article_id])


@route("DELETE", "/projects/{project_key}/wiki/{article}")
def delete_article(ctx: Ctx, project_key: str, article: str) -> dict[str, Any]:
    record, entry = _article(ctx, project_key, article)
    wiki = _wiki(record)
    article_id = entry["article"]["id"]
    found = _find(wiki["settings"]["taxonomy"], article_id)
    if found is not None:
        siblings, node = found
        at = siblings.index(node)
        siblings[at:at + 1] = node["children"]
    del wiki["articles"][article_id]
    if wiki["settings"].get("homeArticleId") == article_id:
        del wiki["settings"]["homeArticleId"]
    touch(ctx, record)
    return {}
