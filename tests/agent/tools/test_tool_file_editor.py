"""file_editor against a real container from the minbase image (bash, coreutils, no Python).

One workspace serves the module; each test works in its own directory. What is checked is
what the model and the user see: the reply text, the diff, and the file's bytes and mode in
the container afterwards.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.tools import FileEditorTool, ToolResult
from agent.tools.file_editor import MAX_FILE_BYTES

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def home(workspace, request) -> str:
    """A fresh directory for one test."""
    path = f"/workspace/{request.node.name.split('[')[0]}-{uuid.uuid4().hex[:6]}"
    workspace.write_bytes(f"{path}/.keep", b"")
    return path


@pytest.fixture
def editor() -> FileEditorTool:
    return FileEditorTool()


def call(tool: FileEditorTool, ws, **arguments) -> ToolResult:
    return tool.run(arguments, ws)


def test_the_image_has_no_python(workspace) -> None:
    # The premise of the other tests: nothing here can lean on a Python in the container.
    result = workspace.execute("command -v python3 python || echo none")
    assert result.output.strip() == "none"


def test_create_then_view_numbers_lines_like_cat_n(workspace, editor, home) -> None:
    path = f"{home}/src/app.py"  # the parent does not exist yet
    created = call(editor, workspace, command="create", path=path, file_text="a = 1\nb = 2\n")
    assert not created.is_error, created.content
    assert "File created" in created.content
    assert created.diff is not None and "+a = 1" in created.diff
    assert workspace.read_bytes(path) == b"a = 1\nb = 2\n"
    cat_n = workspace.execute(f"cat -n {path}").output.rstrip("\n")
    viewed = call(editor, workspace, command="view", path=path)
    assert not viewed.is_error
    assert viewed.content.endswith(cat_n)


def test_view_range(workspace, editor, home) -> None:
    path = f"{home}/ten.txt"
    workspace.write_bytes(path, "".join(f"line {i}\n" for i in range(1, 11)).encode())
    part = call(editor, workspace, command="view", path=path, view_range=[3, 5])
    assert part.content.splitlines()[1:] == ["     3\tline 3", "     4\tline 4", "     5\tline 5"]
    assert "lines 3-5 of 10" in part.content
    tail = call(editor, workspace, command="view", path=path, view_range=[9, -1])
    assert tail.content.splitlines()[1:] == ["     9\tline 9", "    10\tline 10"]
    past = call(editor, workspace, command="view", path=path, view_range=[11, 12])
    assert past.is_error and "has 10 lines" in past.content
    backwards = call(editor, workspace, command="view", path=path, view_range=[5, 2])
    assert backwards.is_error and "before its start" in backwards.content


def test_create_refuses_an_existing_file(workspace, editor, home) -> None:
    path = f"{home}/keep.txt"
    workspace.write_bytes(path, b"precious\n")
    result = call(editor, workspace, command="create", path=path, file_text="overwrite!")
    assert result.is_error
    assert "already exists" in result.content and "str_replace" in result.content
    assert workspace.read_bytes(path) == b"precious\n"
    missing = call(editor, workspace, command="create", path=f"{home}/new.txt")
    assert missing.is_error and "file_text" in missing.content


def test_str_replace_one_match_edits_and_shows_the_change(workspace, editor, home) -> None:
    path = f"{home}/greet.py"
    workspace.write_bytes(path, b"def greet():\n    return 'hi'\n\nprint(greet())\n")
    result = call(
        editor, workspace, command="str_replace", path=path,
        old_str="    return 'hi'", new_str="    return 'hello'",
    )  # fmt: skip
    assert not result.is_error, result.content
    assert workspace.read_bytes(path) == b"def greet():\n    return 'hello'\n\nprint(greet())\n"
    assert "     2\t    return 'hello'" in result.content
    assert result.diff is not None
    assert "-    return 'hi'\n+    return 'hello'\n" in result.diff
    assert result.diff.startswith(f"--- a{path}\n+++ b{path}\n")


def test_str_replace_no_match_says_so_and_changes_nothing(workspace, editor, home) -> None:
    path = f"{home}/f.py"
    original = b"if x:\n        y = 1\n"
    workspace.write_bytes(path, original)
    result = call(editor, workspace, command="str_replace", path=path,
                  old_str="if x:\n    y = 1", new_str="if x:\n    y = 2")  # fmt: skip
    assert result.is_error
    assert "not found" in result.content
    assert "differs only in whitespace" in result.content and "line 1" in result.content
    assert workspace.read_bytes(path) == original


def test_str_replace_several_matches_lists_their_lines(workspace, editor, home) -> None:
    path = f"{home}/dup.txt"
    original = b"x = 1\ny = 2\nx = 1\nz = 3\nx = 1\n"
    workspace.write_bytes(path, original)
    result = call(editor, workspace, command="str_replace", path=path, old_str="x = 1",
                  new_str="x = 9")  # fmt: skip
    assert result.is_error
    assert "occurs 3 times" in result.content
    assert "lines 1, 3, 5" in result.content
    assert workspace.read_bytes(path) == original


def test_insert_at_top_middle_and_end(workspace, editor, home) -> None:
    path = f"{home}/ins.txt"
    workspace.write_bytes(path, b"b\nd")  # no final newline: it must stay that way
    steps = [(0, "a"), (2, "c"), (4, "e\n")]
    for line, text in steps:
        result = call(editor, workspace, command="insert", path=path, insert_line=line,
                      new_str=text)  # fmt: skip
        assert not result.is_error, result.content
    assert workspace.read_bytes(path) == b"a\nb\nc\nd\ne"
    past = call(editor, workspace, command="insert", path=path, insert_line=9, new_str="z")
    assert past.is_error and "from 0 to 5" in past.content


def test_undo_edit_walks_back_through_edits(workspace, editor, home) -> None:
    path = f"{home}/undo.txt"
    workspace.write_bytes(path, b"one\ntwo\n")
    call(editor, workspace, command="str_replace", path=path, old_str="one", new_str="ONE")
    call(editor, workspace, command="insert", path=path, insert_line=2, new_str="three")
    assert workspace.read_bytes(path) == b"ONE\ntwo\nthree\n"
    first = call(editor, workspace, command="undo_edit", path=path)
    assert not first.is_error and "undone" in first.content
    assert first.diff is not None and "-three" in first.diff
    assert workspace.read_bytes(path) == b"ONE\ntwo\n"
    call(editor, workspace, command="undo_edit", path=path)
    assert workspace.read_bytes(path) == b"one\ntwo\n"
    nothing = call(editor, workspace, command="undo_edit", path=path)
    assert nothing.is_error and "no edit to undo" in nothing.content


def test_undo_after_a_command_changed_the_file_says_so(workspace, editor, home) -> None:
    path = f"{home}/drift.txt"
    workspace.write_bytes(path, b"v1\n")
    call(editor, workspace, command="str_replace", path=path, old_str="v1", new_str="v2")
    workspace.write_bytes(path, b"v3 from a command\n")
    result = call(editor, workspace, command="undo_edit", path=path)
    assert "had changed since that edit" in result.content
    assert workspace.read_bytes(path) == b"v1\n"


def test_edits_keep_the_file_mode(workspace, editor, home) -> None:
    path = f"{home}/run.sh"
    workspace.write_bytes(path, b"#!/bin/bash\necho one\n", mode=0o755)
    call(editor, workspace, command="str_replace", path=path, old_str="one", new_str="two")
    assert workspace.execute(f"stat -c %a {path} && {path}").output.split() == ["755", "two"]
    call(editor, workspace, command="undo_edit", path=path)
    assert workspace.execute(f"stat -c %a {path} && {path}").output.split() == ["755", "one"]


def test_crlf_files_keep_their_line_ends(workspace, editor, home) -> None:
    path = f"{home}/win.txt"
    workspace.write_bytes(path, b"alpha\r\nbeta\r\n")
    result = call(editor, workspace, command="str_replace", path=path,
                  old_str="alpha\nbeta", new_str="alpha\nBETA")  # fmt: skip
    assert not result.is_error, result.content
    assert workspace.read_bytes(path) == b"alpha\r\nBETA\r\n"


def test_binary_and_huge_files_get_a_clear_error(workspace, editor, home) -> None:
    png = f"{home}/logo.png"
    workspace.write_bytes(png, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    for arguments in (
        {"command": "view", "path": png},
        {"command": "str_replace", "path": png, "old_str": "PNG", "new_str": "JPG"},
        {"command": "insert", "path": png, "insert_line": 0, "new_str": "x"},
    ):
        result = editor.run(arguments, workspace)
        assert result.is_error
        assert "not a text file" in result.content and "binary" in result.content
    big = f"{home}/big.log"
    workspace.write_bytes(big, b"x" * (MAX_FILE_BYTES + 1))
    result = call(editor, workspace, command="view", path=big)
    assert result.is_error and "10 MB" in result.content and "grep" in result.content


def test_a_long_file_view_asks_for_a_range(workspace, editor, home) -> None:
    path = f"{home}/long.txt"
    workspace.write_bytes(path, "".join(f"{i:08d} {'y' * 60}\n" for i in range(5000)).encode())
    whole = call(editor, workspace, command="view", path=path)
    assert whole.is_error and "view_range" in whole.content and "5000 lines" in whole.content
    part = call(editor, workspace, command="view", path=path, view_range=[4999, -1])
    assert not part.is_error and part.content.count("\n") == 2


def test_view_of_a_folder_lists_two_levels_and_skips_hidden(workspace, editor, home) -> None:
    for rel in ("README.md", "src/main.c", "src/lib/deep.c", ".git/config", "src/.env"):
        workspace.write_bytes(f"{home}/proj/{rel}", b"x\n")
    result = call(editor, workspace, command="view", path=f"{home}/proj")
    assert not result.is_error, result.content
    listed = result.content.splitlines()
    assert f"{home}/proj/README.md" in listed
    assert f"{home}/proj/src/" in listed
    assert f"{home}/proj/src/main.c" in listed
    assert f"{home}/proj/src/lib/" in listed
    assert not any("deep.c" in line for line in listed)  # third level
    assert not any(".git" in line or ".env" in line for line in listed[:-1])
    assert "1 hidden item" in listed[-1]
    ranged = call(editor, workspace, command="view", path=f"{home}/proj", view_range=[1, 2])
    assert ranged.is_error and "directory" in ranged.content


def test_missing_paths_and_directories_where_files_belong(workspace, editor, home) -> None:
    missing = call(editor, workspace, command="view", path=f"{home}/nope.txt")
    assert missing.is_error and "does not exist" in missing.content
    edit_dir = call(editor, workspace, command="str_replace", path=home, old_str="a",
                    new_str="b")  # fmt: skip
    assert edit_dir.is_error and "is a directory" in edit_dir.content
    empty = f"{home}/empty.txt"
    assert not call(editor, workspace, command="create", path=empty, file_text="").is_error
    assert "is empty" in call(editor, workspace, command="view", path=empty).content


def test_a_path_through_a_file_is_an_error_not_a_crash(workspace, editor, home) -> None:
    workspace.write_bytes(f"{home}/plain", b"x\n")
    result = call(editor, workspace, command="create", path=f"{home}/plain/inner.txt",
                  file_text="y")  # fmt: skip
    assert result.is_error
    assert f"{home}/plain is a file, not a directory" in result.content


def test_symlinks_are_followed(workspace, editor, home) -> None:
    workspace.write_bytes(f"{home}/real/target.txt", b"one\n")
    workspace.execute(f"ln -s {home}/real/target.txt {home}/link.txt && ln -s {home}/real "
                      f"{home}/dirlink && ln -s {home}/nowhere {home}/dangling")  # fmt: skip
    viewed = call(editor, workspace, command="view", path=f"{home}/link.txt")
    assert viewed.content.endswith("     1\tone")
    call(editor, workspace, command="str_replace", path=f"{home}/link.txt", old_str="one",
         new_str="two")  # fmt: skip
    assert workspace.read_bytes(f"{home}/real/target.txt") == b"two\n"
    assert workspace.stat(f"{home}/link.txt").kind == "symlink"  # still a link
    listing = call(editor, workspace, command="view", path=f"{home}/dirlink")
    assert f"{home}/dirlink/target.txt" in listing.content.splitlines()
    dangling = call(editor, workspace, command="view", path=f"{home}/dangling")
    assert dangling.is_error and "does not exist" in dangling.content


def test_view_and_create_work_while_the_container_is_frozen(workspace, editor, home) -> None:
    path = f"{home}/while-paused.txt"
    workspace.freeze()
    try:
        created = call(editor, workspace, command="create", path=path, file_text="paused\n")
        viewed = call(editor, workspace, command="view", path=path)
        edited = call(editor, workspace, command="str_replace", path=path, old_str="paused",
                      new_str="still paused")  # fmt: skip
        listing = call(editor, workspace, command="view", path=home)
    finally:
        workspace.thaw()
    assert not created.is_error, created.content
    assert viewed.content.endswith("     1\tpaused")
    assert not edited.is_error, edited.content
    assert f"{path}" in listing.content
    assert workspace.execute(f"cat {path}").output == "still paused\n"


# Short lines from a small alphabet, so replacements and repeats actually happen.
_texts = st.lists(st.text(alphabet="ab \u00e9\t", max_size=5), max_size=8).map("\n".join)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=_texts, old=st.text(alphabet="ab", min_size=1, max_size=3), new=_texts,
       at=st.integers(0, 10))  # fmt: skip
def test_edits_then_undo_restore_the_exact_bytes(workspace, home, text, old, new, at) -> None:
    editor = FileEditorTool()
    path = f"{home}/prop-{uuid.uuid4().hex[:6]}.txt"
    original = text.encode()
    workspace.write_bytes(path, original, mode=0o600)
    replaced = call(editor, workspace, command="str_replace", path=path, old_str=old,
                    new_str=new)  # fmt: skip
    # Overlapping matches count too: "aa" in "aaa" could mean either place, so it is refused.
    count = sum(text.startswith(old, i) for i in range(len(text)))
    assert replaced.is_error == (count != 1 or old == new)
    if not replaced.is_error:
        assert workspace.read_bytes(path) == text.replace(old, new).encode()
    current = workspace.read_bytes(path).decode()
    lines = current.count("\n") + (1 if current and not current.endswith("\n") else 0)
    inserted = call(editor, workspace, command="insert", path=path, insert_line=min(at, lines),
                    new_str=new or "n")  # fmt: skip
    assert not inserted.is_error, inserted.content
    while not call(editor, workspace, command="undo_edit", path=path).is_error:
        pass
    assert workspace.read_bytes(path) == original
    assert {e.name: e.mode & 0o777 for e in workspace.list_dir(home)}[
        path.rsplit("/", 1)[1]
    ] == 0o600
