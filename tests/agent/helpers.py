"""Small helpers for the conversation tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent import Agent, Conversation, Tool
from agent.events import ActionEvent, Event, ObservationEvent
from tests.support.fixtures import make_llm
from tests.support.llm_server import ScriptedLLMServer

TOOLS = [Tool(name="BashTool"), Tool(name="FileEditorTool")]


def make_agent(server: ScriptedLLMServer, **llm_overrides: Any) -> Agent:
    return Agent(llm=make_llm(server, **llm_overrides), tools=list(TOOLS))


def make_conversation(
    server: ScriptedLLMServer, workspace: Any, data_dir: Path, **kwargs: Any
) -> Conversation:
    return Conversation(make_agent(server), workspace=workspace, persistence_dir=data_dir, **kwargs)


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


def kinds(events: list[Event]) -> list[str]:
    """The kinds in order, without checkpoints: they land whenever the store is done (off
    the loop's thread), so their place among the other events is not fixed."""
    return [e.kind for e in events if e.kind != "checkpoint"]


def history(conversation: Conversation) -> list[Event]:
    """The events without checkpoints (see kinds)."""
    return [e for e in conversation.state.events if e.kind != "checkpoint"]


def actions(conversation: Conversation) -> list[ActionEvent]:
    return [e for e in conversation.state.events if isinstance(e, ActionEvent)]


def observations(conversation: Conversation) -> list[ObservationEvent]:
    return [e for e in conversation.state.events if isinstance(e, ObservationEvent)]


def line_count(workspace: Any, path: str) -> int:
    """Lines of a container file, read through the archive API (works while frozen)."""
    try:
        return len(workspace.read_bytes(path).decode().split())
    except Exception:
        return 0
