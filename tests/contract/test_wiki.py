"""The project wiki, through dataikuapi only: articles, their Markdown, the taxonomy and the home article."""

from __future__ import annotations

import pytest
from dataikuapi.dss.project import DSSProject
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS


def test_articles_with_content_and_children(project: DSSProject) -> None:
    wiki = project.get_wiki()
    home = wiki.create_article("Home", content="# Welcome\n")
    child = wiki.create_article("Runbook", parent_id=home.article_id, content="Restart the flow.")
    assert [a.article_id for a in wiki.list_articles()] == [home.article_id, child.article_id]
    taxonomy = wiki.get_settings().get_taxonomy()
    assert taxonomy == [{"id": home.article_id, "children": [{"id": child.article_id, "children": []}]}]
    data = wiki.get_article("Runbook").get_data()  # by name as well as by id
    assert data.get_body() == "Restart the flow." and data.get_name() == "Runbook"
    assert data.get_metadata()["id"] == child.article_id


def test_article_body_name_and_tags_round_trip(project: DSSProject) -> None:
    article = project.get_wiki().create_article("Notes")
    data = article.get_data()
    data.set_body("line 1\n\n| a | b |\n|---|---|\n")
    data.set_name("Team notes")
    meta = data.get_metadata()
    meta["tags"] = ["ops", "doc", "ops"]
    data.set_metadata(meta)
    data.save()
    again = project.get_wiki().get_article(article.article_id).get_data()
    assert again.get_body() == "line 1\n\n| a | b |\n|---|---|\n" and again.get_name() == "Team notes"
    assert again.get_metadata()["tags"] == ["doc", "ops"]


def test_taxonomy_moves_and_home_article(project: DSSProject) -> None:
    wiki = project.get_wiki()
    a = wiki.create_article("A")
    b = wiki.create_article("B")
    settings = wiki.get_settings()
    settings.move_article_in_taxonomy(a.article_id, parent_article_id=b.article_id)
    settings.set_home_article_id(b.article_id)
    settings.save()
    settings = wiki.get_settings()
    assert settings.get_taxonomy() == [{"id": b.article_id, "children": [{"id": a.article_id, "children": []}]}]
    assert settings.get_home_article_id() == b.article_id


def test_delete_article(project: DSSProject) -> None:
    wiki = project.get_wiki()
    a = wiki.create_article("Gone")
    keep = wiki.create_article("Kept")
    a.delete()
    assert [x.article_id for x in wiki.list_articles()] == [keep.article_id]
    with pytest.raises(DataikuException):
        wiki.get_article("Gone")


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the simulator's checks of a wiki taxonomy are guesses")
def test_taxonomy_must_list_every_article_once(project: DSSProject) -> None:
    wiki = project.get_wiki()
    a = wiki.create_article("Only")
    settings = wiki.get_settings()
    settings.set_taxonomy([])
    with pytest.raises(DataikuException, match="every article once"):
        settings.save()
    assert wiki.get_settings().get_taxonomy() == [{"id": a.article_id, "children": []}]


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the refusal of a second article of one name is a simulator guess")
def test_article_names_are_unique(project: DSSProject) -> None:
    wiki = project.get_wiki()
    wiki.create_article("Same")
    with pytest.raises(DataikuException, match="already exists"):
        wiki.create_article("Same")
