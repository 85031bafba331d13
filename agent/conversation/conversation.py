"""The Conversation: drives an Agent in a DockerWorkspace, and can be paused at any moment.

How the loop is built (the pause semantics of DESIGN.md rest on it): ``run()`` drives the
loop on the caller's thread, but each blocking piece, the LLM request and the tool call,
runs on a worker thread. ``run()`` waits on one Condition for "the piece is done", "pause
requested" or "interrupt requested". ``pause()`` only sets a flag and notifies, so it never
waits for Docker, the network or the disk; ``run()`` wakes at once and:

- LLM request in flight: the request is abandoned (its result is dropped when it arrives)
  and nothing of it is recorded; the next ``run()`` asks again, with every message since.
- tool call in flight: the container is frozen (cgroup freezer) and ``run()`` returns; the
  worker thread stays blocked on the frozen command. The next ``run()`` records a
  ResumeEvent, thaws, waits for that same call and records its result.
- between steps: no new step starts.

Every event is appended to events.jsonl and fsynced before it enters ``state.events`` and
before any callback sees it; callbacks run without any lock that ``pause()`` or
``send_message()`` needs.

Where the parts live: the live state, the recording and the wait for worker threads in
engine.py; the container in workspace.py; reopen and revival in recovery.py; the events a
step makes in results.py; checkpoints in checkpoints.py; what the model sees in
agent/context/.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent.agent import Agent
from agent.context.keeper import ContextKeeper
from agent.context.window import ContextWindow
from agent.conversation.checkpoints import REWOUND_STOPPED, Checkpoint, CheckpointKeeper
from agent.conversation.engine import (
    ConversationState,
    Engine,
    EventCallback,
    RequestCallback,
    StatusCallback,
)
from agent.conversation.loop import Loop, OutputCallback
from agent.conversation.mcp import McpKeeper
from agent.conversation.network import (
    NetworkSetting,
    SecretLookup,
    apply_network,
    keep_saved_secrets,
    with_host,
    with_network,
)
from agent.conversation.persistence import (
    ConversationStore,
    PersistenceError,
    resolve_persistence_dir,
)
from agent.conversation.recovery import (
    APP_STOPPED_TEXT,
    recover_after_reopen,
)
from agent.conversation.repository import git_workspace, record_notices
from agent.conversation.state import ConversationStats, WorkspaceSpec, make_title
from agent.conversation.workspace import make_workspace, spec_of
from agent.events import (
    AgentErrorEvent,
    MessageEvent,
    PauseEvent,
    RejectionEvent,
)
from agent.status import AgentStatus

if TYPE_CHECKING:
    from agent.llm import LLM
    from agent.llm.stream import DeltaCallback
    from agent.mcp import McpServerStatus, ToolApproval
    from agent.tools import ToolDefinition
    from sandbox import DockerWorkspace, NetworkPolicy, NetworkRequest
    from sandbox.checkpoints import FileChange

log = logging.getLogger(__name__)


__all__ = ["APP_STOPPED_TEXT", "Conversation", "ConversationState"]


class Conversation:
    """A conversation between the user and an Agent working in a Docker container.

    ``workspace`` is a DockerWorkspace, a host folder (bind-mounted at /workspace in a
    container of the default image), or None (a named volume of its own). With
    ``conversation_id`` naming a saved conversation, it is reopened: events, status and
    stats come back and its container is found again by label. The constructor starts
    (or reattaches) the container, so it blocks on Docker: keep it off a GUI thread.

    Pause while idle: ``pause()`` on a conversation that is not running records the pause
    and sets PAUSED at once. ``run()`` always resumes: from PAUSED it carries on where it
    stopped; from WAITING_FOR_CONFIRMATION it approves the pending tool calls.
    """

    def __init__(
        self,
        agent: Agent,
        workspace: DockerWorkspace | str | os.PathLike[str] | None = None,
        *,
        conversation_id: str | None = None,
        persistence_dir: str | os.PathLike[str] | None = None,
        callbacks: Sequence[EventCallback] = (),
        on_status_change: StatusCallback | None = None,
        on_command_output: OutputCallback | None = None,
        max_iterations: int = 100,
        confirmation_mode: bool = False,
        token_callbacks: Sequence[DeltaCallback] = (),
        on_request_sent: RequestCallback | None = None,
        secret_value: SecretLookup | None = None,
    ) -> None:
        from agent.tools import resolve_tools

        self.agent = agent
        tools: list[ToolDefinition] = resolve_tools(agent.tools)
        self._tools = tools
        # Held by whoever drives the engine: run(), or interrupt()/reject() when idle.
        self._engine_lock = threading.Lock()
        self._network_lock = threading.RLock()  # two Allow clicks never lose a host

        self.id = conversation_id or uuid.uuid4().hex
        store = ConversationStore(resolve_persistence_dir(persistence_dir) / self.id)
        self.persistence_path: Path = store.folder
        reopened = store.exists()
        events = store.load_events() if reopened else []
        saved = store.load_state(events) if reopened else None
        if saved is None:
            store.create()
        self._e = Engine(
            self.id,
            store,
            agent.llm,
            saved,
            events,
            confirmation_mode=confirmation_mode,
            max_iterations=max_iterations,
            callbacks=callbacks,
            on_status_change=on_status_change,
            on_interrupt=lambda: self._loop.interrupt_now(),
        )
        self._e.token_callbacks.extend(token_callbacks)
        if on_request_sent is not None:
            self._e.request_callbacks.append(on_request_sent)
        self.state = ConversationState(self._e)
        window = ContextWindow(agent.llm, [tool.openai_schema() for tool in tools])
        self._context = ContextKeeper(self._e, window, agent)

        # Reopened (or forked): the saved secrets' values by name, e.g. from a keyring.
        self._secret_value = secret_value
        saved_spec = saved.workspace if saved else None
        made = make_workspace(workspace, saved_spec or WorkspaceSpec(), self.id, secret_value)
        self._e.spec = keep_saved_secrets(spec_of(made), saved_spec)
        self._e.workspace = made
        made.start()
        try:
            self._e.spec = keep_saved_secrets(spec_of(made), saved_spec)
            self._e.save_state()
            self._checkpoints = CheckpointKeeper(self._e)
            self._mcp = McpKeeper(self._e, agent, window)
            self._loop = Loop(
                self._e, agent, tools, self._context, self._checkpoints, on_command_output,
                self._mcp,
            )  # fmt: skip
            if reopened:
                recover_after_reopen(self._e)
                self._checkpoints.recover()
            else:
                record_notices(self._e, made)
            self._mcp.start()  # in the background; the first step waits for it
        except BaseException:
            # Nobody holds this conversation: its container must not run on unowned.
            with contextlib.suppress(Exception):
                made.close()
            store.close()
            raise

    @property
    def workspace(self) -> DockerWorkspace:
        return self._e.workspace

    # --- the public API --------------------------------------------------------------------

    def send_message(self, text: str) -> MessageEvent:
        """Record a user message now (any thread, any status); the next LLM request has it."""
        event = MessageEvent(role="user", text=text)
        if not self._e.title and text.strip():
            self._e.title = make_title(text)
            # On disk before anyone hears of the message: the window lists the conversations
            # again when its first message comes, and read before this it stayed "(untitled)".
            self._e.save_state()
        self._e.record(event)
        self._e.save_state()
        return event

    def run(self) -> AgentStatus:
        """Drive the agent until FINISHED, PAUSED, WAITING_FOR_CONFIRMATION, ERROR or STUCK.

        From PAUSED it resumes (thawing and finishing a command paused mid-way); from
        WAITING_FOR_CONFIRMATION it approves the pending tool calls; after ERROR it retries
        the step that failed.
        """
        e = self._e
        with e.cond:
            if e.running:
                raise RuntimeError("run() is already running for this conversation")
            if e.closed:
                raise RuntimeError("this conversation was closed")
            e.running = True
        with self._engine_lock:
            # Flags are not cleared here: a pause() that came after run() was called counts.
            with e.cond:
                start_status = e.status
            try:
                e.write_unwritten()
                outcome = self._loop.run(start_status)
                if outcome != AgentStatus.PAUSED:
                    # A run that ended on its own returns with its last step's checkpoint
                    # saved (conversation.checkpoints lists it); a pause never waits for it.
                    self._checkpoints.settle(e.stop_requested)
                return outcome
            except PersistenceError as exc:
                return e.pause_for_disk(exc)
            except Exception as exc:
                log.exception("the conversation loop failed")
                try:
                    message = f"Internal error: {exc!r}"
                    e.record(AgentErrorEvent(message=message, source="internal"))
                    e.set_status(AgentStatus.ERROR, f"Internal error: {exc}")
                except PersistenceError as disk:
                    return e.pause_for_disk(disk)
                return AgentStatus.ERROR
            finally:
                with e.cond:
                    late_interrupt = e.interrupt_requested
                    e.running = False
                    e.pause_requested = False
                    e.interrupt_requested = False
                if late_interrupt and e.tool_job is not None:
                    # Stop came as the run was pausing: the command must not stay frozen.
                    self._loop.interrupt_now()

    def set_llm(self, llm: LLM, condensation_llm: LLM | None = None) -> None:
        """Ask ``llm`` from the next request on: a key, base URL or model fixed in
        Settings reaches an open conversation, and Resume uses it. Any thread; a request
        already in flight keeps the model it was sent to."""
        model_changed = llm.model != self.agent.llm.model
        self.agent.llm = llm
        self.agent.condensation_llm = condensation_llm
        window = self._context.window
        window.llm = llm
        if model_changed:  # what another model's provider taught us is not this one's
            window.learned_window = None
        with self._e.cond:
            self._e.llm = llm

    def pause(self) -> None:
        """Ask the run to pause. Non-blocking when a run is active; idempotent.

        When no run is active, an IDLE conversation (or one waiting for confirmation)
        records the pause itself and is PAUSED at once; otherwise it is a no-op.
        """
        e = self._e
        with e.cond:
            if e.running:
                e.pause_requested = True
                e.cond.notify_all()
                return
            # Only a conversation that is about to run can be paused ahead of it: a finished,
            # failed or stuck one keeps its status (the GUI pauses everything on quit).
            idle = (AgentStatus.IDLE, AgentStatus.WAITING_FOR_CONFIRMATION)
            if e.status not in idle or e.closed:
                return
        e.record(PauseEvent())
        e.set_status(AgentStatus.PAUSED, "Paused before the run started")

    def interrupt(self) -> None:
        """Stop now: end the command in flight (SIGINT), abandon the LLM request, give every
        pending tool call a result, and leave the conversation PAUSED."""
        with self._e.cond:
            if self._e.running:
                self._e.interrupt_requested = True
                self._e.cond.notify_all()
                return
        with self._engine_lock:
            self._loop.interrupt_now()

    def reject(self, reason: str = "") -> None:
        """Reject the tool calls awaiting confirmation; the model sees ``reason``.

        The status becomes IDLE: ``run()`` then lets the model answer the rejection.
        """
        from agent.context.history import answers_for_pending

        with self._engine_lock:
            text = "The user rejected this action" + (
                f". Reason: {reason}" if reason.strip() else "."
            )
            answers = answers_for_pending(self.state.events, text, "rejected")
            if not answers:
                return
            for answer in answers:
                self._e.record(RejectionEvent(tool_call_id=answer.tool_call_id, reason=reason))
                self._e.record(answer)
            self._e.clear_approvals()
            self._e.set_status(AgentStatus.IDLE, "Rejected; run() to let the agent go on")

    def set_confirmation_mode(self, on: bool) -> None:
        self._e.confirmation_mode = on
        self._e.save_state()

    def add_callback(self, callback: EventCallback) -> None:
        self._e.callbacks.append(callback)

    def add_token_callback(self, callback: DeltaCallback) -> None:
        """``callback`` hears each piece of a streamed reply (``StreamDelta``) as it comes,
        from the thread reading the stream; the pieces are never recorded (the finished
        reply is, whole). Needs ``LLM(stream=True)``."""
        self._e.token_callbacks.append(callback)

    def close(self, why: str = "The conversation was closed while it ran.") -> None:
        """Stop any run, end a command left paused, stop the container (data is kept).
        ``why``: the result a command still running gets (the app quitting says so)."""
        e = self._e
        if e.closed:
            return
        self._pause_a_run()
        with self._engine_lock:
            with e.cond:
                e.closed = True
            if e.tool_job is not None:
                self._loop.interrupt_now(note=why)
            self._checkpoints.close()
            with contextlib.suppress(Exception):
                self._mcp.close()
            with contextlib.suppress(Exception):
                self.workspace.close()
            e.save_state()
            e.store.close()

    def delete(self, remove_container: bool = True) -> None:
        """Close, remove the container and its volume, and delete the saved conversation
        (its checkpoints with it)."""
        self._checkpoints.delete()
        self.close()
        if remove_container:
            with contextlib.suppress(Exception):
                self.workspace.remove(volume=True)
        self._e.store.remove()

    @property
    def stats(self) -> ConversationStats:
        return self.state.stats

    # --- checkpoints (agent/conversation/checkpoints.py has the rules) ---------------------

    @property
    def checkpoints(self) -> list[Checkpoint]:
        """Oldest first: [0] is /workspace as the conversation found it, then one after
        each tool call that ran."""
        return self._checkpoints.checkpoints

    def rewind(self, checkpoint_id: str) -> None:
        """/workspace back to a checkpoint byte for byte; the history goes on from there
        (later events stay in the log as an abandoned branch). Status: PAUSED."""
        self._checkpoints.get(checkpoint_id)  # an unknown id changes nothing
        self._pause_a_run()  # rewinding a running conversation pauses it first
        with self._engine_lock:
            if self._e.tool_job is not None:  # a command left frozen by a pause: end it
                self._loop.interrupt_now(note=REWOUND_STOPPED)
            self._checkpoints.rewind(checkpoint_id)

    def fork(self, checkpoint_id: str) -> Conversation:
        """A new conversation (own id, container, volume) with the events up to that
        checkpoint and /workspace as it was there. This one is untouched."""
        fork_id = self._checkpoints.fork(checkpoint_id)
        root = self.persistence_path.parent
        return Conversation(
            self.agent,
            conversation_id=fork_id,
            persistence_dir=root,
            secret_value=self._secret_value,
        )

    def changes(self, since: str | None = None) -> list[FileChange]:
        """What changed in /workspace since the first checkpoint (or the one named)."""
        return self._checkpoints.changes(since)

    # --- the network door (agent/conversation/network.py has the rules) --------------------

    @property
    def network(self) -> NetworkSetting:
        """The network as state.json keeps it: mode and allow-list."""
        return NetworkSetting.of_spec(self._e.spec)

    def network_log(self) -> list[NetworkRequest]:
        """Every request the conversation's proxy saw, oldest first (none without an
        allow-list). Blocks on Docker: keep it off a GUI thread."""
        return self.workspace.network_log()

    def set_network(self, network: bool | NetworkPolicy) -> bool:
        """A new network, saved in state.json at once (reopen and fork keep it). A new
        allow-list holds at the proxy's next request; True when it took at once, False
        when it waits for the container's next start (a change of mode)."""
        with self._network_lock:
            now = apply_network(self.workspace, network)
            self._e.spec = with_network(self._e.spec, network)
            self._e.save_state()
        return now

    def allow_host(self, host: str) -> bool:
        """Add ``host`` to the allow-list (ValueError when there is none, or when the host
        is not one a list can name): the next request to it passes."""
        with self._network_lock:
            policy = with_host(self.workspace.network, host)
            return self.set_network(policy)

    # --- MCP servers (agent/conversation/mcp.py) -------------------------------------------

    @property
    def mcp_servers(self) -> list[McpServerStatus]:
        """Each MCP server as it stands now (starting, ready with its tools, failed with
        why); empty when there are none. The history has the same in McpServersEvents."""
        return self._mcp.statuses()

    def set_mcp_approvals(self, approvals: dict[str, ToolApproval]) -> None:
        """Each MCP tool's approval (by ``<server>__<tool>``) from its next call on: allow,
        ask or never. Any thread."""
        self._mcp.set_approvals(approvals)

    # --- the repository door (a GitWorkspace) ---------------------------------------------

    def hand_back(self) -> str:
        """The agent's commits, plus its uncommitted work as a last commit, into the host
        repository as the conversation's branch; returns its name. Works while paused.
        GitWorkspaceError when the workspace is not a copy of a repository."""
        return git_workspace(self.workspace).hand_back()

    def patch(self) -> str:
        """The whole change since the start as a unified diff. Works while paused."""
        return git_workspace(self.workspace).patch()

    @property
    def checkpoint_keeper(self) -> CheckpointKeeper:
        return self._checkpoints

    # --- the loop --------------------------------------------------------------------------

    def _pause_a_run(self) -> None:
        """Only a live run is paused; a finished one keeps its status."""
        with self._e.cond:
            if self._e.running:
                self._e.pause_requested = True
                self._e.cond.notify_all()
