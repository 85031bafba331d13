"""AGENTS.md: the instructions a repository leaves for coding agents.

Read once, when a conversation starts (before its first LLM request), from the root of
``/workspace`` through the archive API, and kept in a ContextFileEvent: the system prompt
is rebuilt from that event, so it stays the same for the whole conversation (and after a
reopen) whatever later happens to the file.
"""

from __future__ import annotations

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
    read: a conversation must start without it rather than not at all)."""
    try:
        data = workspace.read_bytes(AGENTS_PATH)
    except Exception as exc:  # missing, a folder, a frozen engine: no instructions
        log.debug("no %s: %s", AGENTS_PATH, exc)
        return None
    if not data.strip():
        return None
    truncated = len(data) > CAP_BYTES
    # A cut in the middle of a UTF-8 sequence drops that character, not the file.
    text = data[:CAP_BYTES].decode("utf-8", errors="ignore") if truncated else None
    if text is None:
        text = data.decode("utf-8", errors="replace")
    return ContextFileEvent(path=AGENTS_PATH, text=text, size=len(data), truncated=truncated)


def system_prompt_section(event: ContextFileEvent) -> str:
    """What the system prompt says of the file."""
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
