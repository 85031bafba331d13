"""What a conversation is, as data: stats, the persisted state, the summary for a list.

``PersistedState`` is state.json. It names the workspace (image, host folder, volume) so a
reopened conversation finds its container again, and the model's settings, but never the
API key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agent.status import AgentStatus

STATE_VERSION = 1


def _now() -> datetime:
    return datetime.now(UTC)


class ConversationStats(BaseModel):
    """Totals over the conversation's life (all runs)."""

    steps: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Of prompt_tokens, those read from the provider's prompt cache.
    cached_tokens: int = 0
    cost: float = 0.0
    llm_latency_s: float = 0.0
    # Times older steps were summarised to fit the context window.
    condensations: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class SecretSpec(BaseModel):
    """A secret as state.json keeps it: its name and hosts, never its value (on reopen
    the caller passes the values again)."""

    name: str
    hosts: list[str] = Field(default_factory=list)


class WorkspaceSpec(BaseModel):
    """How to get the conversation's container back: the DockerWorkspace arguments."""

    image: str | None = None
    host_dir: str | None = None
    volume: str | None = None
    network: bool = True
    # With network on: the allow-list its proxy lets through (None: open, no proxy).
    allow: list[str] | None = None
    secrets: list[SecretSpec] = Field(default_factory=list)
    memory: str | None = None
    cpus: float | None = None
    pids_limit: int | None = None
    pause_mode: str | None = None
    # A GitWorkspace's repository on the host and the branch its work is handed back as.
    repo: str | None = None
    branch: str | None = None

    def options(self) -> dict[str, Any]:
        """The DockerWorkspace keyword arguments that recreate this container as it was
        (network, limits, pause mode); unset ones keep DockerWorkspace's defaults."""
        options: dict[str, Any] = {"network": self.network}
        if self.network and self.allow is not None:
            from sandbox import NetworkPolicy  # only here: state.json loads without docker

            options["network"] = NetworkPolicy(allow=self.allow)
        for name in ("memory", "cpus", "pids_limit", "pause_mode"):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        return options


class LLMSpec(BaseModel):
    """The model's settings, for display and for reopening. No key."""

    model: str
    base_url: str | None = None
    usage_id: str = "agent"


class PersistedState(BaseModel):
    """state.json."""

    version: int = STATE_VERSION
    id: str
    title: str = ""
    created: datetime = Field(default_factory=_now)
    updated: datetime = Field(default_factory=_now)
    agent_status: AgentStatus = AgentStatus.IDLE
    status_detail: str = ""
    stats: ConversationStats = Field(default_factory=ConversationStats)
    confirmation_mode: bool = False
    max_iterations: int = 100
    workspace: WorkspaceSpec = Field(default_factory=WorkspaceSpec)
    llm: LLMSpec | None = None


class ConversationSummary(BaseModel):
    """One line of a conversation list. ``agent_status`` is the status saved in state.json
    as it stands with no app holding the conversation (``AgentStatus.at_rest``), and
    ``status_detail`` the words saved with it ("" when the status was changed that way)."""

    id: str
    title: str
    updated: datetime
    created: datetime
    agent_status: AgentStatus
    status_detail: str = ""
    path: Path
    stats: ConversationStats = Field(default_factory=ConversationStats)
    repo: str | None = None  # works on a copy of this git repository
    branch: str | None = None  # handed back as this branch


def make_title(text: str, limit: int = 60) -> str:
    """A conversation's title: its first user message, on one line, shortened."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"
