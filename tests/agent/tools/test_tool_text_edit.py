"""The file editor's text logic on arbitrary text: numbering, replacing, inserting, diffs.

No container: these are the pure functions behind the tool, checked against `cat -n` and
`patch` on this machine so "numbered like cat -n" and "a unified diff" mean what they say.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from agent.tools import text_edit as te
from agent.tools.edit_history import EditHistory

# Text made of a few short lines, so matches and repeats actually happen.
line_text = st.text(alphabet=st.sampled_from("ab \t\u00e9\u4e2d"), max_size=6)
lines = st.lists(line_text, max_size=12)
texts = st.builds(
    lambda ls, final: "\n".join(ls) + ("\n" if final and ls else ""), lines, st.booleans()
)
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts | any_text)
@example(text="")
@example(text="no final newline")
@example(text="a\rb\x0bc\x1cd\u2028e\n")
def test_numbering_matches_cat_n(tmp_path: Path, text: str) -> None:
    target = tmp_path / "f.txt"
    target.write_bytes(text.encode("utf-8"))
    expected = subprocess.run(["cat", "-n", str(target)], capture_output=True, check=True)
    shown = te.number_lines(te.split_lines(text))
    assert shown == expected.stdout.decode("utf-8").removesuffix("\n")


@given(text=texts | any_text, crlf=st.booleans())
def test_decode_encode_round_trip(text: str, crlf: bool) -> None:
    data = (text.replace("\n", "\r\n") if crlf else text).encode("utf-8")
    doc = te.TextFile.decode(data)
    assert doc.encode() == data
    assert "\r\n" not in doc.text or doc.newline == "\n"


def test_crlf_files_are_edited_as_lf_and_written_back_as_crlf() -> None:
    doc = te.TextFile.decode(b"one\r\ntwo\r\n")
    assert doc.newline == "\r\n"
    assert doc.text == "one\ntwo\n"
    assert doc.normalise("one\r\ntwo") == "one\ntwo"
    assert doc.encode("one\nTWO\n") == b"one\r\nTWO\r\n"


@pytest.mark.parametrize(
    ("data", "why"),
    [(b"\x7fELF\x02\x01\x00\x00", "NUL"), (b"caf\xe9 latin-1", "UTF-8"), (b"\xff\xfe", "UTF-8")],
)
def test_binary_and_non_utf8_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(te.NotTextError, match=why):
        te.TextFile.decode(data)


@given(before=texts, old=line_text.filter(bool), after=texts, new=texts)
def test_single_replacement_changes_only_that_place(
    before: str, old: str, after: str, new: str
) -> None:
    text = before + old + after
    found = te.find_occurrences(text, old)
    assume(len(found) == 1)
    result = te.replace_at(text, found[0], old, new)
    assert result == before + new + after
    # The diff, applied by patch, turns the old text into the new one.
    assert _patched(text, te.unified_diff(text, result, "/w/f")) == result


@given(text=texts, needle=line_text.filter(bool))
def test_occurrence_lines_point_at_each_match(text: str, needle: str) -> None:
    for offset in te.find_occurrences(text, needle):
        line_no = te.line_of_offset(text, offset)
        line_start = text.rfind("\n", 0, offset) + 1
        assert te.split_lines(text + "x")[line_no - 1].startswith(
            text[line_start:offset] + needle.split("\n")[0]
        )


@given(text=texts, new=texts.filter(bool), data=st.data())
def test_insert_puts_whole_lines_after_the_given_line(text: str, new: str, data) -> None:
    original = te.split_lines(text)
    at = data.draw(st.integers(0, len(original)))
    result = te.insert_after_line(text, at, new)
    assert te.split_lines(result) == original[:at] + te.split_lines(new) + original[at:]
    # A non-empty file keeps its choice about a final newline (an empty last line needs one).
    block = new if new.endswith("\n") else new + "\n"
    empty_last = block == "\n" or block.endswith("\n\n")
    if text and not (at == len(original) and empty_last):
        assert result.endswith("\n") == text.endswith("\n")
    assert _patched(text, te.unified_diff(text, result, "/w/f")) == result


def test_appending_after_a_last_line_without_newline() -> None:
    assert te.insert_after_line("a\nb", 2, "c") == "a\nb\nc"
    assert te.insert_after_line("a\nb", 2, "c\n") == "a\nb\nc"
    # An empty last line only exists with a newline after it.
    assert te.insert_after_line("\n\na", 3, "\n") == "\n\na\n\n"
    assert te.split_lines("\n\na\n\n") == ["", "", "a", ""]


def test_insert_outside_the_file_is_refused() -> None:
    with pytest.raises(ValueError, match=r"0\.\.2"):
        te.insert_after_line("a\nb\n", 3, "c")


@given(old=texts, new=texts)
def test_changed_span_covers_every_changed_line(old: str, new: str) -> None:
    first, last = te.changed_line_span(old, new)
    new_lines = te.split_lines(new)
    assert 1 <= first <= last <= max(len(new_lines), 1)
    # Outside the span, the new text's lines equal the old text's head and tail.
    old_lines = te.split_lines(old)
    assert new_lines[: first - 1] == old_lines[: first - 1]


def test_snippet_shows_context_around_the_change() -> None:
    text = "".join(f"line {i}\n" for i in range(1, 21))
    shown = te.snippet(text, 10, 11, context=2)
    assert shown.splitlines()[0] == "     8\tline 8"
    assert shown.splitlines()[-1] == "    13\tline 13"
    assert te.snippet("", 1, 1) == "(the file is now empty)"
    long = te.snippet(text * 10, 1, 200, max_lines=10)
    assert long.splitlines()[0] == "     1\tline 1"
    assert "[190 lines not shown]" in long.splitlines()[5]
    assert long.splitlines()[-1] == "   200\tline 20"


def test_whitespace_only_differences_are_pointed_out() -> None:
    text = "def f():\n    return 1\n\n\ndef g():\n        return 2\n"
    assert te.whitespace_insensitive_match(text, "def g():\n    return 2") == 5
    assert te.whitespace_insensitive_match(text, "def h():") is None


def test_diff_marks_a_missing_final_newline() -> None:
    diff = te.unified_diff("a\nb", "a\nc", "/w/f")
    assert diff.startswith("--- a/w/f\n+++ b/w/f\n")
    assert "-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n" in diff


@given(edits=st.lists(st.tuples(st.sampled_from("abc"), st.binary(max_size=40)), max_size=40))
def test_history_stays_within_its_bounds_and_undoes_in_order(edits) -> None:
    history = EditHistory(per_file=3, max_files=2, max_bytes=200)
    model: dict[str, list[tuple[bytes, bytes]]] = {}
    for path, data in edits:
        before = model[path][-1][1] if path in model else b""
        history.push(path, before, data)
        model.setdefault(path, []).append((before, data))
        assert history.stored_bytes <= 200
        assert sum(1 for p in "abc" if history.depth(p)) <= 2
        assert all(history.depth(p) <= 3 for p in "abc")
    for path in "abc":
        expected = model.get(path, [])
        depth = history.depth(path)
        for before, after in reversed(expected[len(expected) - depth :]):
            edit = history.pop(path)
            assert edit is not None
            assert (edit.before, edit.after) == (before, after)
        assert history.pop(path) is None
    assert history.stored_bytes == 0


def _patched(old: str, diff: str) -> str:
    """``old`` with ``diff`` applied by patch(1)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "f"
        target.write_bytes(old.encode("utf-8"))
        if diff:
            subprocess.run(
                ["patch", "--quiet", "--force", str(target)],
                input=diff.encode("utf-8"),
                check=True,
                capture_output=True,
            )
        return target.read_bytes().decode("utf-8")
