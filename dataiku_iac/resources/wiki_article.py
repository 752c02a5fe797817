"""Wiki articles: the project wiki's articles, each written as a Markdown file of the repository.

Managed fields: name (the article's title in DSS), body (the Markdown file's text, byte for byte), parent (the
parent article's name, None at the top of the wiki) and tags. DSS gives articles ids of its own (the remote id);
without one (first plan, an article made by hand) an article is found by its name, so it is adopted rather than
made twice (DSS refuses two articles of one name). An edit of the article in DSS shows as drift of `body`.
The wiki's taxonomy (which article is under which) is one document: its writes take the project's lock.
DSS's taxonomy names articles by id only, so listing a wiki's articles by title costs one call for the taxonomy
and two per article (dataikuapi's handle, then its data): the listing of other kinds costs one call whatever
their number.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import Field

from ..config.models import OBJECT_NAME, Strict
from ._flow import absent_as_none, tag_set
from ._project_settings import project_lock
from .address import Address
from .base import Desired, ImportContext, Kind, NamedFile, Remote, file_key, nonempty

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject
    from dataikuapi.dss.wiki import DSSWiki

    from ..config.loader import ProjectSource
    from ..errors import ConfigError
    from .context import EnvContext

COLLECTION = "wiki_articles"


class WikiArticle(Strict):
    """An article of the project wiki, its text in a Markdown file of the repository."""

    file: str = Field(min_length=1, description="the article's Markdown file, relative to this project file")
    name: str | None = Field(default=None, min_length=1, description="the article's title in DSS (default: the key)")
    parent: str | None = Field(default=None, pattern=OBJECT_NAME,
                               description="the key of the article it sits under (default: the top of the wiki)")
    tags: list[str] = Field(default_factory=list, description="article tags")


def key_of(title: str) -> str:
    """The key `import` gives an article: its title in lower case, other characters than letters and digits
    turned into `_` (`Team notes` -> `team_notes`); found by it on a first plan."""
    return re.sub(r"[^a-z0-9_]+", "_", title.lower()).strip("_") or "article"


def _title(name: str, article: WikiArticle) -> str:
    return article.name or name


def _parents(taxonomy: list[dict[str, Any]], parent: str | None = None) -> dict[str, str | None]:
    """Article id -> its parent's id (None at the top), for the whole taxonomy."""
    out: dict[str, str | None] = {}
    for node in taxonomy:
        out[str(node["id"])] = parent
        out.update(_parents(node.get("children") or [], str(node["id"])))
    return out


def _titles(wiki: DSSWiki) -> dict[str, str]:
    """Article id -> title, for every article of the wiki."""
    return {str(a.article_id): a.get_data().get_name() for a in wiki.list_articles()}


class WikiArticleKind(Kind):
    name = "wiki_article"
    model = WikiArticle  # the entry under `wiki_articles.<key>` in a project file
    collection = COLLECTION
    listed = True
    rank = 70  # documentation: after the flow it describes
    adoptable = frozenset({"name", "tags"})
    # DSS names the parent by its title; the file, by its key (`reshape`).
    reshaped = {"parent": lambda found, _compared, _current: None if found is None else key_of(found)}
    template = {"file": ""}
    in_bundle = False  # promotion leaves a bundle's wiki as DSS ships it

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        articles: dict[str, WikiArticle] = getattr(source.spec, self.collection)
        out = []
        for name, article in sorted(articles.items()):
            parent = articles.get(article.parent) if article.parent else None
            fields = {"name": _title(name, article), "body": source.code[file_key(COLLECTION, name, "file")],
                      "parent": None if parent is None or article.parent is None else _title(article.parent, parent),
                      "tags": tag_set(article.tags)}
            deps = [Address("project", key)] + ([Address(self.name, key, article.parent)] if article.parent else [])
            out.append(Desired(Address(self.name, key, name), fields, tuple(deps)))
        return out

    def files(self, name: str, entry: Any) -> list[NamedFile]:
        """The Markdown file of the article: its `body`."""
        return [NamedFile(("file",), str(cast(WikiArticle, entry).file), file_key(COLLECTION, name, "file"), "body",
                          "file")]

    def checked(self, source: ProjectSource, projects: Mapping[str, ProjectSource]) -> list[ConfigError]:
        articles: dict[str, WikiArticle] = getattr(source.spec, self.collection)
        err = source.file.error
        errors = []
        titles: dict[str, str] = {}
        for name, article in articles.items():
            if (other := titles.setdefault(_title(name, article), name)) != name:
                errors.append(err(f"wiki articles '{other}' and '{name}' have the same title: DSS needs them unique",
                                  (COLLECTION, name), at_key=True))
            if article.parent is not None and article.parent not in articles:
                errors.append(err(f"wiki article '{name}': its parent '{article.parent}' is no article of this file",
                                  (COLLECTION, name, "parent")))
                continue
            chain, up = [name], article.parent
            while up is not None and up in articles:
                if up in chain:
                    if up == name and name == min(chain):  # a loop is reported once, at its first article
                        errors.append(err(f"wiki article '{name}' is under itself: {' -> '.join([*chain, up])}",
                                          (COLLECTION, name, "parent")))
                    break
                chain.append(up)
                up = articles[up].parent
        return errors

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        folder = (ctx.project_dir.parent / "wiki" / ctx.project_key.lower() if ctx.project_dir.name == "projects"
                  else ctx.project_dir / f"{ctx.project_key.lower()}_wiki")
        path = folder / f"{name}.md"
        ctx.code[path] = fields["body"]
        return {"file": Path(os.path.relpath(path, ctx.project_dir)).as_posix()} | nonempty(
            {"name": None if fields["name"] == name else fields["name"],
             "parent": None if fields["parent"] is None else key_of(fields["parent"]), "tags": fields["tags"]})

    def reshape(self, root: str, found: Any, compared: Any, declared: Any, spec: Any) -> Any:
        # The parent: the file's article of that title, else the key `import` would give it.
        articles: dict[str, WikiArticle] = getattr(spec, self.collection)
        titled = [key for key, article in articles.items() if _title(key, article) == found]
        return titled[0] if titled else super().reshape(root, found, compared, declared, spec)

    def list_in(self, project: DSSProject) -> list[tuple[str, str]]:
        return sorted((key_of(title), article_id) for article_id, title in _titles(project.get_wiki()).items())

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        wiki = client.get_project(address.project).get_wiki()
        settings = absent_as_none(wiki.get_settings)
        if settings is None:
            return None
        parents = _parents(settings.get_taxonomy())
        if remote_id is None:  # found by its title
            titles = _titles(wiki)
            remote_id = next((i for i, t in titles.items() if key_of(t) == address.name), None)
        if remote_id is None or remote_id not in parents:
            return None
        data = wiki.get_article(remote_id).get_data()
        parent_id = parents[remote_id]
        parent = None if parent_id is None else wiki.get_article(parent_id).get_data().get_name()
        fields = {"name": data.get_name(), "body": data.get_body() or "", "parent": parent,
                  "tags": tag_set(data.get_metadata().get("tags"))}
        return Remote(remote_id, fields, None)

    def find(self, client: DSSClient, address: Address, name: str | None) -> Remote | None:
        wiki = client.get_project(address.project).get_wiki()
        found = absent_as_none(lambda: next((i for i, t in _titles(wiki).items() if t == name), None))
        return None if found is None else self.read(client, address, found)

    def create(self, client: DSSClient, desired: Desired) -> str:
        f = desired.fields
        wiki = client.get_project(desired.address.project).get_wiki()
        with project_lock(desired.address.project):
            parent = None if f["parent"] is None else wiki.get_article(f["parent"]).article_id
            article = wiki.create_article(f["name"], parent_id=parent)
            self._write(wiki, str(article.article_id), f, parent_moved=False)
        return str(article.article_id)

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        wiki = client.get_project(desired.address.project).get_wiki()
        with project_lock(desired.address.project):
            self._write(wiki, remote.remote_id, desired.fields, parent_moved=remote.fields["parent"] !=
                        desired.fields["parent"])

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        wiki = client.get_project(address.project).get_wiki()
        with project_lock(address.project):
            wiki.get_article(remote_id).delete()

    @staticmethod
    def _write(wiki: DSSWiki, article_id: str, fields: dict[str, Any], parent_moved: bool) -> None:
        data = wiki.get_article(article_id).get_data()
        data.set_name(fields["name"])
        data.set_body(fields["body"])
        meta = data.get_metadata()
        meta["tags"] = list(fields["tags"])
        data.set_metadata(meta)
        data.save()
        if parent_moved:
            settings = wiki.get_settings()
            parent = None if fields["parent"] is None else wiki.get_article(fields["parent"]).article_id
            settings.move_article_in_taxonomy(article_id, parent_article_id=parent)
            settings.save()
