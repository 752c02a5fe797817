"""A comment longer than the platform takes is cut at a line, closes the code block and the <details> it cut into,
says so, and never exceeds the limit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac.ci.comment import CommentParts, marker, render_comment

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="`<>"), max_size=120)
PARAGRAPH = st.lists(TEXT, min_size=1, max_size=5).map(lambda lines: lines)
DETAILS = st.lists(TEXT, max_size=30).map(
    lambda lines: ["<details><summary>a diff</summary>", "", "```diff", *lines, "```", "", "</details>"])
MARK = marker("dss-iac")


def open_at_end(text: str) -> tuple[bool, int]:
    """Whether a code block is left open, and how many <details> are, counted plainly."""
    fence, depth = False, 0
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence:
            depth += line.count("<details") - line.count("</details>")
    return fence, depth


@settings(max_examples=200, deadline=None)
@given(blocks=st.lists(st.one_of(PARAGRAPH, DETAILS), max_size=40), limit=st.integers(300, 6000))
def test_a_cut_comment_fits_and_closes_what_it_opened(blocks: list[list[str]], limit: int) -> None:
    section = "\n".join(line for block in blocks for line in block)
    parts = CommentParts(sections=(section,), log_url="https://ci.example/job/1")
    whole = render_comment(parts, mark=MARK, limit=10**9)
    body = render_comment(parts, mark=MARK, limit=limit)
    assert len(body) <= limit and body.startswith(MARK + "\n")
    assert open_at_end(body) == (False, 0)
    if len(whole) <= limit:
        assert body == whole
        return
    kept, note = body.split("\n> ✂️ **Truncated:**")
    assert note.endswith("everything is in the job log (https://ci.example/job/1).\n")
    # What is kept is the start of the whole comment, cut at a line, then only what closes it.
    lines, full = kept.splitlines(), whole.splitlines()
    k = next(k for k in range(len(lines), -1, -1) if lines[:k] == full[:k])
    assert all(line in ("```", "</details>") for line in lines[k:])
    assert len(body) > limit - 300  # cut at the last line that fits, not much before
