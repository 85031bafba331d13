"""file_editor against files the agent made huge: a link to a 2 GB sparse file costs the app's
process next to no memory, whatever the command (the sandbox checks the link's target's size
before reading any of it)."""

from __future__ import annotations

import pytest

from agent.tools import FileEditorTool
from tests.support.memory import MB, peak_growth

pytestmark = pytest.mark.timeout(300)

SPARSE = "/workspace/limits/sparse.bin"
LINK = "/workspace/limits/link.txt"


@pytest.fixture(scope="module")
def sparse_link(workspace) -> str:
    made = workspace.execute(
        f"mkdir -p /workspace/limits && truncate -s 2G {SPARSE} && ln -sf sparse.bin {LINK}"
    )
    assert made.exit_code == 0, made.output
    yield LINK
    workspace.execute("rm -rf /workspace/limits")


@pytest.mark.parametrize(
    "arguments",
    [
        {"command": "view"},
        {"command": "view", "view_range": [1, 5]},
        {"command": "str_replace", "old_str": "a", "new_str": "b"},
        {"command": "insert", "insert_line": 0, "new_str": "x\n"},
    ],
    ids=["view", "view_range", "str_replace", "insert"],
)
def test_a_link_to_a_2gb_sparse_file_is_refused_without_reading_it(
    workspace, sparse_link, arguments
) -> None:
    editor = FileEditorTool()
    with peak_growth() as growth:
        result = editor.run({**arguments, "path": sparse_link}, workspace)
    assert result.is_error
    assert "2048.0 MB" in result.content and "up to 10 MB" in result.content
    assert growth.bytes < 50 * MB, f"the app grew by {growth.bytes / MB:.0f} MB"


def test_undo_after_the_file_became_huge_keeps_the_edit_to_undo(workspace) -> None:
    editor = FileEditorTool()
    path = "/workspace/limits-undo/notes.txt"
    editor.run({"command": "create", "path": path, "file_text": "one\n"}, workspace)
    edited = editor.run(
        {"command": "str_replace", "path": path, "old_str": "one", "new_str": "two"}, workspace
    )
    assert not edited.is_error, edited.content
    workspace.execute(f"truncate -s 2G {path}")
    try:
        with peak_growth() as growth:
            result = editor.run({"command": "undo_edit", "path": path}, workspace)
        assert result.is_error and "2048.0 MB" in result.content
        assert growth.bytes < 50 * MB, f"the app grew by {growth.bytes / MB:.0f} MB"
        workspace.execute(f"truncate -s 4 {path}")  # "two\n" again
        undone = editor.run({"command": "undo_edit", "path": path}, workspace)
        assert not undone.is_error, undone.content
        assert workspace.read_bytes(path) == b"one\n"
    finally:
        workspace.execute("rm -rf /workspace/limits-undo")
