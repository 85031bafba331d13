"""What a keeper may ask of the conversation it serves: a narrow, typed protocol.

The keepers (context/keeper.py, conversation/checkpoints.py) act on a conversation only
through these few calls: record an event, ask the model on a worker thread, set the
status, wait on its condition. The conversation's engine implements them
(conversation/engine.py); the keepers never see its other parts, so they import nothing
of the conversation package and no import cycle runs through them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from agent.events import Event, LLMUsage
    from agent.llm import LLM
    from agent.status import AgentStatus
    from sandbox import DockerWorkspace


class AskedJob(Protocol):
    """An LLM call that came back: its result, or the error it raised."""

    @property
    def result(self) -> Any: ...

    @property
    def error(self) -> BaseException | None: ...


class EngineHost(Protocol):
    """The conversation as a keeper sees it."""

    @property
    def id(self) -> str: ...

    @property
    def workspace(self) -> DockerWorkspace: ...

    @property
    def events(self) -> list[Event]:
        """A copy of the events so far."""
        ...

    @property
    def cond(self) -> threading.Condition:
        """Guards the conversation's flags; notified when work finishes. Never held while
        calling ``record`` or ``set_status``."""
        ...

    def record(self, event: Event) -> None:
        """On disk, then in memory, then to the callbacks (raises PersistenceError)."""
        ...

    def set_status(self, status: AgentStatus, detail: str = "") -> None: ...

    def ask_llm(
        self, call: Callable[[threading.Event], Any], paused_detail: str
    ) -> AskedJob | AgentStatus:
        """Run ``call`` on a worker thread until it returns, a pause or a stop. The job when
        it came back, else the status the run ends with (the call abandoned)."""
        ...

    def count_usage(self, usage: LLMUsage, *, step: bool, condensation: bool = False) -> None: ...

    def save_state(self) -> None: ...


class Instructions(Protocol):
    """How the model is told to work (an ``Agent`` is one)."""

    def effective_system_prompt(self) -> str: ...

    def summariser(self) -> LLM: ...
