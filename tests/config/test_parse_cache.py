"""The parse cache (config/parse_cache.py): a project file is parsed again whenever its text changed, and the cache
never changes what a workspace loads to, nor where its errors point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac.config import loader, parse_cache
from dataiku_iac.config.loader import load_workspace
from dataiku_iac.errors import ConfigError, ConfigErrors

from ..engine.conftest import write_workspace

PROJECT = """\
project: {{key: P{i}, name: Project {i}}}
datasets:
  raw: {{type: Filesystem, connection: filesystem_managed, params: {{path: /data/raw{i}}}, tags: [a, b]}}
  clean:
    type: Filesystem
    connection: filesystem_managed
    schema: [{{name: id, type: bigint}}]
recipes:
  prep: {{type: sync, inputs: [raw], outputs: [clean]}}
"""


@pytest.fixture(autouse=True)
def cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every workspace here is large enough to be cached, with a key of this test's own."""
    monkeypatch.setattr(parse_cache, "MIN_CACHED_BYTES", 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the loader parses (rather than takes from the cache), in order."""
    seen: list[str] = []
    real = loader.parse_counted

    def counting(text: str, shown: str) -> tuple[Any, int]:
        seen.append(shown)
        return real(text, shown)

    monkeypatch.setattr(loader, "parse_counted", counting)
    return seen


def workspace(root: Path, projects: int = 3) -> Path:
    return write_workspace(root, {f"p{i}": PROJECT.format(i=i) for i in range(projects)})


def loaded(root: Path) -> Any:
    """What the workspace loads to (its projects' configuration and digest), or the errors it reports."""
    try:
        config = load_workspace(root)
    except ConfigErrors as e:
        return sorted(str(x) for x in e.errors)
    except ConfigError as e:
        return [str(e)]
    return config.digest, {k: p.spec.model_dump() for k, p in config.projects.items()}


def uncached(root: Path) -> Any:
    parse_cache.cache_file(root).unlink(missing_ok=True)
    return loaded(root)


def test_a_second_load_parses_no_unchanged_file(tmp_path: Path, parses: list[str]) -> None:
    root = workspace(tmp_path / "ws")
    first = loaded(root)
    assert len([p for p in parses if p.startswith("projects")]) == 3
    parses.clear()
    assert loaded(root) == first
    assert [p for p in parses if p.startswith("projects")] == []
    assert parse_cache.cache_file(root).is_file() and not (root / ".dss-iac").exists()  # nothing in the workspace


def test_an_edited_file_is_parsed_again_and_loads_as_edited(tmp_path: Path, parses: list[str]) -> None:
    root = workspace(tmp_path / "ws")
    loaded(root)
    path = root / "projects" / "p1.yaml"
    path.write_text(path.read_text().replace("/data/raw1", "/data/elsewhere"))
    parses.clear()
    config = load_workspace(root)
    assert [p for p in parses if p.startswith("projects")] == ["projects/p1.yaml"]
    assert config.projects["P1"].spec.datasets["raw"].model_dump()["params"] == {"path": "/data/elsewhere"}
    assert loaded(root) == uncached(root)


def test_errors_of_an_edited_file_keep_their_positions(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws")
    loaded(root)
    path = root / "projects" / "p2.yaml"
    path.write_text(path.read_text().replace("type: bigint", "type: bigint, colour: red"))
    with pytest.raises(ConfigError) as warm:
        load_workspace(root)
    assert "projects/p2.yaml:7:" in str(warm.value)
    assert loaded(root) == uncached(root)


def test_a_file_whose_content_is_reverted_loads_as_it_was(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws")
    before = loaded(root)
    path = root / "projects" / "p0.yaml"
    text = path.read_text()
    path.write_text(text.replace("tags: [a, b]", "tags: [c]"))
    assert loaded(root) != before
    path.write_text(text)
    assert loaded(root) == before


@pytest.mark.parametrize("damage", [
    lambda data: data[: len(data) // 2],  # torn
    lambda data: b"\x00\xff" * 50,  # garbage
    lambda data: data.replace(b"/data/raw1", b"/data/rawX"),  # an entry's data changed: its signature fails
    lambda data: data.replace(b"dss-iac parse cache", b"something else"),  # another format
    lambda data: b"",
], ids=["torn", "garbage", "altered", "header", "empty"])
def test_a_damaged_cache_loads_the_files_as_they_are(tmp_path: Path, damage: Any, parses: list[str]) -> None:
    root = workspace(tmp_path / "ws")
    expected = loaded(root)
    cache = parse_cache.cache_file(root)
    cache.write_bytes(damage(cache.read_bytes()))
    parses.clear()
    assert loaded(root) == expected
    assert parses  # what the cache could not vouch for was parsed again


def test_a_cache_signed_elsewhere_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache committed to the repository (or written by someone else) would make dss-iac apply values no reviewer
    saw in the YAML: entries signed by another key are never used."""
    root = workspace(tmp_path / "ws")
    expected = loaded(root)
    mine = parse_cache.cache_file(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "attacker-cache"))
    forged = parse_cache.cache_file(root)
    path = root / "projects" / "p1.yaml"
    text = path.read_text()
    path.write_text(text.replace("/data/raw1", "/stolen"))
    loaded(root)  # the attacker's cache: the text as reviewed, the data of another text
    data = forged.read_bytes()
    path.write_text(text)
    import hashlib

    reviewed, other = (hashlib.sha256(t.encode()).hexdigest().encode()
                       for t in (text, text.replace("/data/raw1", "/stolen")))
    mine.write_bytes(data.replace(other, reviewed))  # put where this user's dss-iac looks
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    assert loaded(root) == expected


def test_another_dss_iac_version_parses_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              parses: list[str]) -> None:
    root = workspace(tmp_path / "ws")
    expected = loaded(root)
    monkeypatch.setattr(parse_cache, "_parser_version", lambda: b"another dss-iac")
    parses.clear()
    assert loaded(root) == expected
    assert len([p for p in parses if p.startswith("projects")]) == 3


def test_files_removed_leave_the_cache(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws")
    loaded(root)
    (root / "projects" / "p2.yaml").unlink()
    loaded(root)
    assert b"p2.yaml" not in (parse_cache.cache_file(root)).read_bytes()


def test_small_workspaces_write_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_cache, "MIN_CACHED_BYTES", 64 << 10)
    root = workspace(tmp_path / "ws")
    loaded(root)
    assert not parse_cache.cache_file(root).exists()


def test_secrets_and_the_workspace_file_are_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "s3cr3t-value")
    root = write_workspace(tmp_path / "ws", {"p0": PROJECT.format(i=0)}, workspace_yaml="""\
        version: 1
        projects: [projects/*.yaml]
        environments:
          dev: {host: embedded, api_key: "${env:SECRET_KEY}"}
        """)
    load_workspace(root).environment("dev")
    cached = (parse_cache.cache_file(root)).read_bytes()
    assert b"s3cr3t-value" not in cached and b"SECRET_KEY" not in cached and b"dss-iac.yaml" not in cached


EDITS = st.lists(st.tuples(
    st.sampled_from(["p0", "p1", "p2"]),
    st.one_of(
        st.tuples(st.just("replace"), st.sampled_from(["raw", "clean", "bigint", "sync", "a, b", "/data"]),
                  st.text(alphabet="abc :{}[],-#\n'\"", max_size=8)),
        st.tuples(st.just("append"), st.sampled_from(["  extra: {type: Filesystem}\n", "# note\n", "bad: [\n",
                                                      "datasets: {}\n", "\t\n"]), st.just("")),
    )), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_any_edits_load_as_without_a_cache(tmp_path_factory: pytest.TempPathFactory, edits: list[Any]) -> None:
    root = workspace(tmp_path_factory.mktemp("ws"))
    loaded(root)
    for name, (how, what, text) in edits:
        path = root / "projects" / f"{name}.yaml"
        body = path.read_text()
        path.write_text(body.replace(what, text, 1) if how == "replace" else body + what)
        warm = loaded(root)
        assert warm == uncached(root)
        assert loaded(root) == warm  # and from the cache that load wrote
