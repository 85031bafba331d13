"""The `file_editor` tool: view, create and edit text files in the container.

Every file access goes through the workspace's archive API (stat, read_bytes, write_bytes,
list_dir), never through exec: it works on an image with no Python, and on a frozen
container while the agent is paused.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.tools import text_edit as te
from agent.tools.base import OutputCallback, ToolDefinition, ToolResult
from agent.tools.edit_history import EditHistory

if TYPE_CHECKING:
    from sandbox import DockerWorkspace, FileEntry

MAX_FILE_BYTES = 10 * 1024 * 1024
# What one view may return; past this the model is asked to view a range instead. Bash
# output is cut at 30,000 characters; a file view gets a little more room.
MAX_VIEW_CHARS = 40_000
MAX_DIR_ENTRIES = 1_000
MAX_SUBDIR_LISTINGS = 200
DEFAULT_FILE_MODE = 0o644
UNKNOWN_MODE = -1

Command = Literal["view", "create", "str_replace", "insert", "undo_edit"]


class FileEditorArguments(BaseModel):
    model_config = ConfigDict(extra="ignore")

    command: Command = Field(description="The operation to perform (see the tool description).")
    path: str = Field(
        description="Absolute path of the file or directory, e.g. /workspace/src/app.py."
    )
    file_text: str | None = Field(
        default=None, description="create: the whole content of the new file."
    )
    old_str: str | None = Field(
        default=None,
        description="str_replace: the exact text to replace; must occur exactly once.",
    )
    new_str: str | None = Field(
        default=None,
        description="str_replace: the replacement text (empty deletes old_str). "
        "insert: the lines to insert.",
    )
    insert_line: int | None = Field(
        default=None,
        ge=0,
        description="insert: new_str goes after this line number (0 = top of the file).",
    )
    view_range: list[int] | None = Field(
        default=None,
        min_length=2,
        max_length=2,
        description="view: [start, end] line numbers, 1-based and inclusive; end -1 means "
        "to the end of the file.",
    )

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith("/"):
            example = posixpath.join("/workspace", value) if value else "/workspace/file.txt"
            raise ValueError(
                f"must be an absolute path starting with '/'; got {value!r}. "
                f"For example {example!r}."
            )
        normal = posixpath.normpath(value)
        # normpath keeps a leading "//" (POSIX allows it to mean something else).
        return "/" + normal.lstrip("/")


class FileEditorTool(ToolDefinition[FileEditorArguments]):
    name: ClassVar[str] = "file_editor"
    Arguments: ClassVar[type[BaseModel]] = FileEditorArguments
    description: ClassVar[str] = (
        "View, create and edit text files in the sandbox container. Paths must be absolute "
        "(e.g. /workspace/src/app.py).\n"
        "Commands:\n"
        "* view: show a file with line numbers (like `cat -n`); add view_range [start, end] "
        "for part of it (end -1 = to the end). For a directory, lists files and "
        "subdirectories two levels deep, hidden items skipped.\n"
        "* create: write a new file with file_text. Refuses a path that exists: edit "
        "existing files with str_replace or insert.\n"
        "* str_replace: replace old_str with new_str. old_str must match exactly one place "
        "in the file, character for character, whitespace and indentation included; add "
        "surrounding lines to make it unique. An empty new_str deletes old_str.\n"
        "* insert: insert new_str as new lines after line insert_line (0 = at the top).\n"
        "* undo_edit: revert the last edit this tool made to the file.\n"
        "Each edit replies with the changed lines and a few around them. Only UTF-8 text "
        "files up to 10 MB are supported; use bash for anything else."
    )

    def __init__(self, history_per_file: int = 10, history_files: int = 64) -> None:
        self.history = EditHistory(per_file=history_per_file, max_files=history_files)

    def execute(
        self,
        args: FileEditorArguments,
        workspace: DockerWorkspace,
        on_output: OutputCallback | None = None,
    ) -> ToolResult:
        from sandbox import ContainerGoneError, SandboxError

        handler = getattr(self, f"_{args.command}")
        try:
            return handler(args, workspace)
        except ContainerGoneError:
            raise  # the engine's business: the run cannot go on
        except SandboxError as exc:
            # A parent that is a file, a path that vanished mid-call...: the model can act.
            return ToolResult.error(f"{args.command} failed on {args.path}: {exc}")

    # -- view ------------------------------------------------------------------------------

    def _view(self, args: FileEditorArguments, ws: DockerWorkspace) -> ToolResult:
        entry = _stat(ws, args.path)
        if entry is None:
            return _missing(args.path)
        if entry.kind == "dir":
            if args.view_range is not None:
                return ToolResult.error(
                    f"{args.path} is a directory; view_range applies to files only. "
                    "View the directory without view_range."
                )
            return self._view_dir(args.path, ws)
        loaded = _load_text(ws, args.path, entry)
        if isinstance(loaded, ToolResult):
            return loaded
        lines = te.split_lines(loaded.text)
        if not lines:
            return ToolResult(content=f"{args.path} is empty.")
        start, end = 1, len(lines)
        note = ""
        if args.view_range is not None:
            checked = _check_range(args.view_range, len(lines))
            if isinstance(checked, ToolResult):
                return checked
            start, end, note = checked
        body = te.number_lines(lines[start - 1 : end], start)
        if len(body) > MAX_VIEW_CHARS:
            what = "The file" if args.view_range is None else "That range"
            return ToolResult.error(
                f"{what} is too long to show at once: {end - start + 1} lines, {len(body)} "
                f"characters (the limit is {MAX_VIEW_CHARS}). {args.path} has {len(lines)} "
                "lines: view a part with view_range, e.g. [1, 200], or search it with bash "
                "(grep -n)."
            )
        part = "" if (start, end) == (1, len(lines)) else f" (lines {start}-{end} of {len(lines)})"
        return ToolResult(
            content=f"Here's the result of running `cat -n` on {args.path}{part}:\n{body}{note}"
        )

    def _view_dir(self, path: str, ws: DockerWorkspace) -> ToolResult:
        listing = _sorted_entries(ws.list_dir(path))
        top = [e for e in listing if not e.name.startswith(".")]
        hidden = len(listing) - len(top)
        subdirs = [e.path for e in top if e.kind == "dir"][:MAX_SUBDIR_LISTINGS]
        # One archive round trip per subfolder. (Issuing them in parallel gains nothing:
        # the engine serialises archive requests on a container.)
        children = {d: _list_or_none(ws, d) for d in subdirs}
        shown: list[str] = []
        truncated = False
        for entry in top:
            shown.append(_entry_line(entry))
            for child in _sorted_entries(children.get(entry.path) or []):
                if not child.name.startswith("."):
                    shown.append(_entry_line(child))
            if len(shown) >= MAX_DIR_ENTRIES:
                truncated = True
                break
        lines = [
            f"Here are the files and directories up to 2 levels deep in {path}, "
            "excluding hidden items:",
            path.rstrip("/") + "/",
            *shown[:MAX_DIR_ENTRIES],
        ]
        if truncated:
            lines.append(f"[Listing cut at {MAX_DIR_ENTRIES} entries; view subdirectories.]")
        if not shown:
            lines.append("(no visible entries)")
        if hidden:
            lines.append(
                f"[{hidden} hidden item(s) in {path} not shown; use `ls -la {path}` in bash "
                "to see them.]"
            )
        return ToolResult(content="\n".join(lines))

    # -- create ----------------------------------------------------------------------------

    def _create(self, args: FileEditorArguments, ws: DockerWorkspace) -> ToolResult:
        if args.file_text is None:
            return ToolResult.error(
                "create needs file_text: the whole content of the new file (it may be empty)."
            )
        blocker = _file_in_the_way(ws, args.path)
        if blocker is not None:
            return ToolResult.error(
                f"Cannot create {args.path}: {blocker} is a file, not a directory. Choose "
                "another path, or remove that file with bash first."
            )
        entry = _stat(ws, args.path)
        if entry is not None:
            kind = "A directory" if entry.kind == "dir" else "A file"
            return ToolResult.error(
                f"{kind} already exists at {args.path}; create only makes new files. Edit "
                "it with str_replace or insert (view it first), or remove it with bash "
                "before creating it again."
            )
        data = args.file_text.encode("utf-8")
        ws.write_bytes(args.path, data, mode=DEFAULT_FILE_MODE)
        # A create has nothing to return to (there is no delete over the archive API), so
        # an earlier history for a file at this path would undo to the wrong state.
        self.history.forget(args.path)
        lines = te.line_count(args.file_text)
        return ToolResult(
            content=f"File created at {args.path} ({lines} line{'s' if lines != 1 else ''}).",
            diff=te.unified_diff("", args.file_text, args.path),
        )

    # -- str_replace -----------------------------------------------------------------------

    def _str_replace(self, args: FileEditorArguments, ws: DockerWorkspace) -> ToolResult:
        if not args.old_str:
            return ToolResult.error(
                "str_replace needs old_str: the exact, non-empty text to replace. To add "
                "text without replacing any, use insert."
            )
        loaded = _load_existing(ws, args.path)
        if isinstance(loaded, ToolResult):
            return loaded
        entry, raw, doc = loaded
        old = doc.normalise(args.old_str)
        new = doc.normalise(args.new_str or "")
        if old == new:
            return ToolResult.error("old_str and new_str are identical: nothing would change.")
        found = te.find_occurrences(doc.text, old)
        if not found:
            hint = ""
            near = te.whitespace_insensitive_match(doc.text, old)
            if near is not None:
                hint = (
                    f" Text that differs only in whitespace or indentation starts at line "
                    f"{near}; view that part and copy it exactly."
                )
            return ToolResult.error(
                f"No replacement was made: old_str was not found in {args.path}. It must "
                "match the file exactly, whitespace and indentation included." + hint
            )
        if len(found) > 1:
            lines = sorted({te.line_of_offset(doc.text, offset) for offset in found})
            return ToolResult.error(
                f"No replacement was made: old_str occurs {len(found)} times in {args.path}, "
                f"starting at lines {', '.join(map(str, lines))}. It must match exactly one "
                "place: include more surrounding lines to make it unique."
            )
        text = te.replace_at(doc.text, found[0], old, new)
        return self._write_edit(ws, args.path, entry, raw, doc, text, "edited")

    # -- insert ----------------------------------------------------------------------------

    def _insert(self, args: FileEditorArguments, ws: DockerWorkspace) -> ToolResult:
        if args.insert_line is None:
            return ToolResult.error(
                "insert needs insert_line: the line after which new_str goes (0 = top)."
            )
        if args.new_str is None:
            return ToolResult.error("insert needs new_str: the text to insert.")
        loaded = _load_existing(ws, args.path)
        if isinstance(loaded, ToolResult):
            return loaded
        entry, raw, doc = loaded
        count = te.line_count(doc.text)
        if args.insert_line > count:
            return ToolResult.error(
                f"insert_line {args.insert_line} is past the end of {args.path}, which has "
                f"{count} line{'s' if count != 1 else ''}: use a number from 0 to {count}."
            )
        text = te.insert_after_line(doc.text, args.insert_line, doc.normalise(args.new_str))
        return self._write_edit(ws, args.path, entry, raw, doc, text, "edited")

    # -- undo_edit -------------------------------------------------------------------------

    def _undo_edit(self, args: FileEditorArguments, ws: DockerWorkspace) -> ToolResult:
        edit = self.history.pop(args.path)
        if edit is None:
            return ToolResult.error(
                f"There is no edit to undo for {args.path}: undo_edit reverts this tool's "
                "str_replace and insert edits (not create, and not changes made with bash)."
            )
        entry = _stat(ws, args.path)
        current = _read_capped(ws, args.path) if entry is not None else b""
        if isinstance(current, ToolResult):
            self.history.push(args.path, edit.before, edit.after)  # still there to undo
            return current
        mode = entry.mode if entry is not None else DEFAULT_FILE_MODE
        ws.write_bytes(args.path, edit.before, mode=_permission_bits(mode))
        note = ""
        if current != edit.after:
            note = (
                "\nNote: the file had changed since that edit (by a command?); those later "
                "changes were overwritten too."
            )
        old_text = _lenient_text(current)
        new_text = _lenient_text(edit.before)
        first, last = te.changed_line_span(old_text, new_text)
        return ToolResult(
            content=f"Last edit to {args.path} undone. Here's the result of running `cat -n` "
            f"on a snippet of it:\n{te.snippet(new_text, first, last)}{note}",
            diff=te.unified_diff(old_text, new_text, args.path),
        )

    # -- shared ----------------------------------------------------------------------------

    def _write_edit(
        self,
        ws: DockerWorkspace,
        path: str,
        entry: FileEntry,
        raw: bytes,
        doc: te.TextFile,
        text: str,
        verb: str,
    ) -> ToolResult:
        data = doc.encode(text)
        ws.write_bytes(path, data, mode=_permission_bits(entry.mode))
        self.history.push(path, raw, data)
        first, last = te.changed_line_span(doc.text, text)
        return ToolResult(
            content=f"The file {path} has been {verb}. Here's the result of running `cat -n` "
            f"on a snippet of it:\n{te.snippet(text, first, last)}\n"
            "Check that the change is what you intended; edit again if not.",
            diff=te.unified_diff(doc.text, text, path),
        )


def _stat(ws: DockerWorkspace, path: str) -> FileEntry | None:
    """The entry for ``path``, a symlink taken as what it points to; None when nothing is
    there (a dangling link included)."""
    entry = ws.stat(path)
    if entry is None or entry.kind != "symlink":
        return entry
    from sandbox import NoSuchPathError, SandboxError

    # The sandbox follows links in list_dir/read_bytes/write_bytes but its stat does not:
    # probing with list_dir tells a linked folder from a linked file without reading it.
    try:
        ws.list_dir(path)
        kind = "dir"
    except NoSuchPathError:
        return None
    except SandboxError:
        kind = "file"
    # The target's size and mode are unknown here: the sandbox checks the target's size
    # before reading it, and writes use the default mode (UNKNOWN_MODE).
    return entry.model_copy(update={"kind": kind, "size": 0, "mode": UNKNOWN_MODE})


def _file_in_the_way(ws: DockerWorkspace, path: str) -> str | None:
    """The first ancestor of ``path`` that exists and is not a folder, if any."""
    parts = path.strip("/").split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        ancestor = "/" + "/".join(parts[:depth])
        entry = ws.stat(ancestor)
        if entry is None:
            return None  # the rest will be created
        if entry.kind not in ("dir", "symlink"):
            return ancestor
    return None


def _missing(path: str) -> ToolResult:
    parent = posixpath.dirname(path)
    return ToolResult.error(
        f"{path} does not exist. Check the path (view {parent} to list it), or create the "
        "file with the create command."
    )


def _load_existing(
    ws: DockerWorkspace, path: str
) -> tuple[FileEntry, bytes, te.TextFile] | ToolResult:
    entry = _stat(ws, path)
    if entry is None:
        return _missing(path)
    if entry.kind == "dir":
        return ToolResult.error(
            f"{path} is a directory; str_replace, insert and undo_edit work on files."
        )
    raw = _read_checked(ws, path, entry)
    if isinstance(raw, ToolResult):
        return raw
    try:
        return entry, raw, te.TextFile.decode(raw)
    except te.NotTextError as exc:
        return _not_text(path, str(exc))


def _load_text(ws: DockerWorkspace, path: str, entry: FileEntry) -> te.TextFile | ToolResult:
    raw = _read_checked(ws, path, entry)
    if isinstance(raw, ToolResult):
        return raw
    try:
        return te.TextFile.decode(raw)
    except te.NotTextError as exc:
        return _not_text(path, str(exc))


def _read_checked(ws: DockerWorkspace, path: str, entry: FileEntry) -> bytes | ToolResult:
    if entry.kind != "file":
        return ToolResult.error(f"{path} is not a regular file; use bash to inspect it.")
    if entry.size > MAX_FILE_BYTES:
        return _too_large(path, entry.size)
    return _read_capped(ws, path)


def _read_capped(ws: DockerWorkspace, path: str) -> bytes | ToolResult:
    """The file's bytes, or the too-large error: the sandbox checks the link's target's size
    before reading any of it (a link's own size, 0 above, says nothing)."""
    from sandbox import FileTooLargeError

    try:
        return ws.read_bytes(path, limit=MAX_FILE_BYTES)
    except FileTooLargeError as exc:
        return _too_large(path, exc.size)


def _too_large(path: str, size: int) -> ToolResult:
    return ToolResult.error(
        f"{path} is {size / 1024 / 1024:.1f} MB; file_editor handles files up to "
        f"{MAX_FILE_BYTES // 1024 // 1024} MB. Use bash (head, tail, grep -n, sed -n "
        "'START,ENDp') to read parts of it."
    )


def _not_text(path: str, why: str) -> ToolResult:
    return ToolResult.error(
        f"{path} is not a text file that file_editor can show or edit: {why}. Use bash "
        "to inspect it (e.g. `file`, `head -c 256 | od -c`)."
    )


def _check_range(view_range: list[int], count: int) -> tuple[int, int, str] | ToolResult:
    start, end = view_range
    if start < 1 or start > count:
        return ToolResult.error(
            f"view_range start {start} is outside the file, which has {count} "
            f"line{'s' if count != 1 else ''}: use a start from 1 to {count}."
        )
    if end == -1:
        return start, count, ""
    if end < start:
        return ToolResult.error(
            f"view_range end {end} is before its start {start}: use an end >= start, or -1 "
            "for the end of the file."
        )
    if end > count:
        return start, count, f"\n[The file ends at line {count}.]"
    return start, end, ""


def _list_or_none(ws: DockerWorkspace, path: str) -> list[FileEntry] | None:
    """A subfolder's entries, or None when it vanished or cannot be listed."""
    from sandbox import ContainerGoneError, SandboxError

    try:
        return ws.list_dir(path)
    except ContainerGoneError:
        raise
    except SandboxError:
        return None


def _sorted_entries(entries: list[Any]) -> list[Any]:
    return sorted(entries, key=lambda e: e.name)


def _entry_line(entry: FileEntry) -> str:
    return entry.path.rstrip("/") + ("/" if entry.kind == "dir" else "")


def _permission_bits(mode: int) -> int:
    return DEFAULT_FILE_MODE if mode == UNKNOWN_MODE else mode & 0o7777


def _lenient_text(data: bytes) -> str:
    """Text for a diff or snippet of content we wrote before; never fails."""
    try:
        return te.TextFile.decode(data).text
    except te.NotTextError:
        return data.decode("utf-8", errors="replace")
