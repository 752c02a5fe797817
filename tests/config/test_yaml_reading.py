"""The fast reading of YAML (one pass over the parser's events) builds exactly what ruamel's loader builds, and
leaves every unusual document to it, so that values, counts and errors are the same as before it existed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac.config import yamlio
from dataiku_iac.errors import ConfigError

# Plain texts that YAML 1.2 reads as something else than text, or nearly so; then texts that break a document.
RESOLVING = ["yes", "no", "on", "true", "False", "TRUE", "null", "~", "Null", "", "0", "-0", "007", "0o17", "0x1F",
             "0b101", "1_000", "1e3", "1.5", ".5", "-.5e-3", "+12", "1.2.3", "9" * 25, "a b", "é", "x-y", "x.y"]
RISKY = [".inf", ".NaN", "2001-12-14", "12:30:00", "9" * 45, "=", "<<", "#x", "- x", "@x", "`x", "%x", "!x", "&x",
         "*x", "x: y", "[x]", "{x}", "'x'", '"x"', "x\ty", "  padded  "]
WORDS = st.text(alphabet="abcxyz019_-. ", min_size=1, max_size=8).map(str.strip).filter(bool)
SCALAR = st.sampled_from(RESOLVING * 4 + RISKY) | WORDS
NAMES = st.from_regex(r"[a-z][a-z0-9_.-]{0,7}", fullmatch=True)
KEY = st.one_of(NAMES, NAMES, NAMES, st.sampled_from(RESOLVING + RISKY))  # mostly keys that read as text
LINE_START = st.sampled_from(["", "  ", "    "])


def full_path(text: str) -> tuple[str, Any]:
    """What parse_counted gave before the fast reading: the value and count, or the error."""
    try:
        count = yamlio.check_shape(text, "f.yaml")
        return "ok", (yamlio._safe_yaml().load(text), count)
    except Exception as e:  # any error: the fast reading must then step aside
        return "error", type(e).__name__


def agree(text: str) -> None:
    fast = yamlio._build_from_events(text)
    outcome, full = full_path(text)
    if fast is not None:
        assert outcome == "ok" and fast == full, (text, fast, full)
    # Either way, parse_counted answers as the full path does.
    if outcome == "ok":
        assert yamlio.parse_counted(text, "f.yaml") == full
    else:
        with pytest.raises(ConfigError):
            yamlio.parse_counted(text, "f.yaml")


@st.composite
def plain_documents(draw: st.DrawFn) -> str:
    """Block and flow YAML written by hand: plain (unquoted) scalars, so the resolver decides what they are."""
    lines: list[str] = []
    keys: set[str] = set()
    anchored = False
    for _ in range(draw(st.integers(1, 6))):
        key, value = draw(KEY), draw(SCALAR)
        if key in keys:
            continue
        keys.add(key)
        form = draw(st.sampled_from(["scalar", "flow map", "flow list", "anchor", "alias", "block list", "nested"]))
        if form == "scalar":
            lines.append(f"{key}: {value}")
        elif form == "flow map":
            lines.append(f"{key}: {{{draw(KEY)}: [{value}, {draw(SCALAR)}]}}")
        elif form == "flow list":
            lines.append(f"{key}: [{value}, {draw(SCALAR)}]")
        elif form == "anchor" or (form == "alias" and not anchored):
            lines.append(f"{key}: &a {{k: {value}}}")
            anchored = True
        elif form == "alias":
            lines.append(f"{key}: *a")
        elif form == "block list":
            lines += [f"{key}:", f"  - {value}", f"  - {draw(SCALAR)}"]
        else:
            lines += [f"{key}:", f"  {draw(KEY)}: {value}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None)
@given(plain_documents())
def test_documents_written_by_hand_read_the_same(text: str) -> None:
    agree(text)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | SCALAR | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY | st.text(max_size=6), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=100, deadline=None)
@given(JSONISH, st.sampled_from([None, True, False]))
def test_values_written_by_ruamel_read_the_same(value: Any, flow: bool | None) -> None:
    from io import StringIO

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    out = StringIO()
    yaml.dump(value, out)
    agree(out.getvalue())


@pytest.mark.parametrize("text", [
    "a: !!int 3\n", "<<: {a: 1}\nb: 2\n", "a: 2001-12-14\n", "a: 1\na: 2\n", "? [1]\n: 2\n", "1: a\n",
    "a: .inf\n", "a: *missing\n", "--- 1\n--- 2\n", "a: [1, 2\n", "a: " + "[" * 70 + "]" * 70 + "\n",
    "a: &x [*x]\n", "a: 99999999999999999999\n", "a: &a {k: yes}\nyes: &a {k: yes}\n", "a: &a 1\nb: &a 2\n",
])
def test_unusual_documents_get_the_full_readers_answer(text: str) -> None:
    assert yamlio._build_from_events(text) is None
    agree(text)


def test_ordinary_documents_take_the_fast_reading() -> None:
    text = "project: {key: K, name: n}\ndatasets:\n  a: &d {type: Filesystem, tags: [x, 'y'], n: 1, f: 1.5}\n" \
           "  b: *d\nflag: true\nnothing:\n"
    data, count = yamlio._build_from_events(text) or (None, 0)
    assert data == {"project": {"key": "K", "name": "n"},
                    "datasets": {"a": {"type": "Filesystem", "tags": ["x", "y"], "n": 1, "f": 1.5},
                                 "b": {"type": "Filesystem", "tags": ["x", "y"], "n": 1, "f": 1.5}},
                    "flag": True, "nothing": None}
    assert (data, count) == full_path(text)[1]
