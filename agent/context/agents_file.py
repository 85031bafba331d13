"""AGENTS.md: the instructions a repository leaves for coding agents.

Read once, when a conversation starts (before its first LLM request), from the root of
``/workspace`` through the archive API, and kept in a ContextFileEvent: the system prompt
is rebuilt from that event, so it stays the same for the whole conversation (and after a
reopen) whatever later happens to the file.
"""

from __future__ import annotations

import codecs
import logging
from typing import TYPE_CHECKING

from agent.events import ContextFileEvent

if TYPE_CHECKING:
    from sandbox import DockerWorkspace

log = logging.getLogger(__name__)

AGENTS_PATH = "/workspace/AGENTS.md"
CAP_BYTES = 32 * 1024


def read_agents_file(workspace: DockerWorkspace) -> ContextFileEvent | None:
    """The event for /workspace/AGENTS.md, or None when there is none (or it cannot be
    read: a conversation must start without it rather than not at all).

    Only its first CAP_BYTES are ever read from the container, whatever its size (a sparse
    file of 64 GB costs the same as one of 40 KB); a file that is not text is refused."""
    try:
        data, size = workspace.read_head(AGENTS_PATH, CAP_BYTES)
    except Exception as exc:  # missing, a folder, a frozen engine: no instructions
        log.debug("no %s: %s", AGENTS_PATH, exc)
        return None
    if not data.strip():
        return None
    truncated = size > len(data)
    why = _not_text(data, truncated)
    if why:
        return ContextFileEvent(path=AGENTS_PATH, text="", size=size, refused=why)
    # A cut in the middle of a UTF-8 sequence drops that character, not the file.
    text = data.decode("utf-8", errors="ignore")
    return ContextFileEvent(path=AGENTS_PATH, text=text, size=size, truncated=truncated)


def _not_text(data: bytes, truncated: bool) -> str:
    """Why ``data`` is not text for a prompt, or "" when it is."""
    if b"\0" in data:
        return "it holds NUL bytes (a binary file)"
    try:
        # Not final when cut: a character split by the cap is not the file's fault.
        codecs.getincrementaldecoder("utf-8")().decode(data, final=not truncated)
    except UnicodeDecodeError as exc:
        return f"it is not UTF-8 text (byte {exc.start:,} cannot be read)"
    return ""


def refusal_notice(event: ContextFileEvent) -> str:
    """What the user is told of a refused file."""
    return f"{event.path} was not given to the agent: {event.refused}."


def system_prompt_section(event: ContextFileEvent) -> str:
    """What the system prompt says of the file."""
    if event.refused:
        return (
            f"The workspace has {event.path}, but it was left out: {event.refused}. Do not "
            "rely on it; ask the user if its instructions matter."
        )
    section = (
        f"The repository's instructions for agents ({event.path}) follow. Follow them "
        "unless the user says otherwise.\n\n"
        f"<agents_md>\n{event.text.rstrip()}\n</agents_md>"
    )
    if event.truncated:
        section += (
            f"\n\n{event.path} is {event.size:,} bytes; only its first {CAP_BYTES // 1024} KB "
            "are above. Read the rest with file_editor (view, view_range) when you need it."
        )
    return section
