"""One conversation's life, driven by commands from a queue: Qt-free, for any front end.

A ``Session`` owns one Conversation from its start (or reopening) to its close or delete.
Its loop, ``serve()``, runs on the thread it is given (a QThread per conversation in the
window, a plain thread in the SDK and the CLI) and takes commands one at a time; the
conversation's ``run()`` runs there too. Notices (notices.py) tell what happens.

    factory = conversation_factory(agent, workspace="/path/to/repo")  # Conversation options
    session = Session(factory, notify=print)
    agent.background.start("session", session.serve, daemon=True)
    session.send("Write hello.py")    # starts the container, records, runs
    session.pause(); session.send("Use Python 3"); session.resume()
    session.rewind(checkpoint_id)     # or fork(): a run is paused first
    session.close()                   # serve() returns after it

The methods return at once on any thread. Which commands a phase and status allow is
``allowed()`` (commands.py): a refused command returns False and does nothing. Pause and
Stop call the engine's lock-free ``pause()``/``interrupt()`` directly while a run is
active, so they take effect within the engine's 100 ms whatever the loop is doing.
Messages are recorded by a small recorder thread of the session's (each is fsynced before
anyone is told), in the order sent, so one sent while the agent runs reaches the model at
its next step; one sent while paused waits for Resume; one sent into an idle, finished or
failed conversation starts a run; one sent while the container is still starting is held
and recorded once it is up (a failed start keeps them for ``start()`` again).

Adding a command: a ``Command`` member and its rule in commands.py, a public method here
that calls ``self._submit(Command.NAME, argument)``, and a ``_do_NAME(self, argument)``
handler, which runs on the loop's thread with the conversation idle (no run in progress):
it may use the Conversation freely and report with ``self._notify``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent import background
from agent.events import ActionEvent, Event, MessageEvent
from agent.llm.stream import StreamDelta
from agent.session import notices as n
from agent.session.commands import STARTS_A_RUN, Command, Phase, allowed_commands
from agent.session.output_buffer import OutputBuffer, StreamBuffer
from agent.session.queries import SessionQueries, describe
from agent.status import AgentStatus

if TYPE_CHECKING:
    from agent.conversation.conversation import Conversation
    from agent.conversation.state import ConversationStats

log = logging.getLogger(__name__)

_AFTER_SEND = "after_send"  # internal: a message was recorded while no run was active
_QUIT = "quit"


@dataclass(frozen=True)
class Hooks:
    """What a factory passes to the Conversation it makes, so the session hears of it."""

    conversation_id: str | None  # a saved conversation to reopen, or None for a new one
    on_event: Callable[[Event], None]
    on_status_change: Callable[[AgentStatus], None]
    on_command_output: Callable[[str, str], None]
    on_progress: Callable[[str], None]  # container start, image build
    on_token: Callable[[StreamDelta], None] = lambda _delta: None  # a streamed piece
    on_request_sent: Callable[[int], None] = lambda _count: None  # a step's request
    # The workspace about to start, before its start: Stop may cancel a long one (a big
    # repository's copy) through its ``cancel_start()``.
    on_workspace: Callable[[Any], None] = lambda _workspace: None


ConversationFactory = Callable[[Hooks], "Conversation"]


class Session(SessionQueries):
    """One conversation's life; see the module docstring (queries.py: what it answers
    beside a run)."""

    def __init__(
        self,
        factory: ConversationFactory,
        notify: Callable[[n.Notice], None],
        *,
        conversation_id: str | None = None,
        persistence_dir: Any = None,
    ) -> None:
        self._factory = factory
        self._cancel_start: Callable[[], None] | None = None  # while a start can be cancelled
        self._notify_fn = notify
        self.conversation_id = conversation_id  # known at once when reopening
        self._persistence_dir = persistence_dir
        self._lock = threading.RLock()  # notices may be sent while it is held
        self._commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._records: queue.Queue[str | None] = queue.Queue()
        self._recorder: threading.Thread | None = None
        self._phase = Phase.NOT_STARTED
        self._status = AgentStatus.IDLE
        self._detail = ""
        self._conversation: Conversation | None = None
        self._early: list[str] = []
        self._ending = False  # close or delete asked: no run starts any more
        self._rerun = False
        self._answer: tuple[str, Any] | None = None  # approve/reject given mid-run
        self._container: tuple[str, bool, bool] | None = None
        self._stats: ConversationStats | None = None
        self._delivered = 0  # events the model has seen
        self._event_count = 0
        self._user_indices: list[int] = []
        self.output = OutputBuffer()
        self.stream = StreamBuffer()

    # --- what a watcher reads (any thread) -------------------------------------------------

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def status(self) -> AgentStatus:
        return self._status

    @property
    def status_detail(self) -> str:
        return self._detail

    @property
    def conversation(self) -> Conversation | None:
        return self._conversation

    @property
    def queued_count(self) -> int:
        with self._lock:
            return sum(1 for i in self._user_indices if i >= self._delivered)

    def allowed(self) -> frozenset[Command]:
        allowed = allowed_commands(self._phase, self._status)
        if self._phase is Phase.STARTING and self._cancel_start is not None:
            allowed |= {Command.STOP}  # a start that can be cancelled (a repository's copy)
        return allowed

    def take_output(self) -> list[tuple[str, str]]:
        """Live output since the last call: [(tool_call_id, chunk)], in order."""
        return self.output.drain()

    def take_stream(self, request_event_count: int | None = None) -> n.StreamDeltas:
        """The pieces of a request's reply (None: the latest request's) since the last
        call, joined where they can be."""
        request, deltas = self.stream.drain(request_event_count)
        return n.StreamDeltas(request_event_count=request, deltas=tuple(deltas))

    # --- commands (any thread; return at once) ---------------------------------------------

    def start(self) -> bool:
        """Start the conversation (new or reopened) without a message; also the retry."""
        return self._submit(Command.START)

    def send(self, text: str) -> bool:
        if not text.strip() or Command.SEND not in self.allowed():
            return False
        with self._lock:
            if self._conversation is None:
                self._early.append(text)
                start = self._phase is Phase.NOT_STARTED
                if start:
                    self._set_phase(Phase.STARTING)
            else:
                self._records.put(text)
                return True
        if start:
            self._commands.put((Command.START, None))
        return True

    def resume(self) -> bool:
        """Run again from PAUSED or ERROR; with tool calls waiting for confirmation,
        Resume approves them."""
        allowed = self.allowed()
        if Command.RESUME not in allowed and Command.APPROVE in allowed:
            return self.approve()
        return self._submit(Command.RESUME)

    def pause(self) -> bool:
        return self._at_once_or_queued(Command.PAUSE, "pause")

    def stop(self) -> bool:
        cancel = self._cancel_start
        if self._phase is Phase.STARTING and cancel is not None:
            cancel()  # start() then raises, and the start fails in plain words
            self._notify(n.Starting(text="Cancelling…"))
            return True
        return self._at_once_or_queued(Command.STOP, "interrupt")

    def approve(self) -> bool:
        return self._answer_or_submit(Command.APPROVE, None)

    def reject(self, reason: str = "") -> bool:
        return self._answer_or_submit(Command.REJECT, reason)

    def rewind(self, checkpoint_id: str) -> bool:
        """/workspace and the history back to a checkpoint (a run is paused first)."""
        return self._between_runs(Command.REWIND, checkpoint_id)

    def fork(self, checkpoint_id: str) -> bool:
        """A new saved conversation from a checkpoint (a run is paused first); a
        ``Forked`` notice names it. This one is left as it was, paused if it ran."""
        return self._between_runs(Command.FORK, checkpoint_id)

    def close(self, why: str | None = None) -> bool:
        """Pause any run, stop the container (everything stays on disk); ends ``serve()``.
        ``why``: the result a command cut short gets (e.g. "the app stopped while this
        ran")."""
        return self._between_runs(Command.CLOSE, why)

    def quit(self) -> bool:
        """The app is quitting: close, and a command cut short gets the same result as
        one a crashed app left behind (the model is told the app stopped)."""
        from agent.conversation.recovery import APP_STOPPED_TEXT

        return self.close(APP_STOPPED_TEXT)

    def delete(self, remove_container: bool = True) -> bool:
        """Close, then remove the folder (and the container and volume, by label)."""
        return self._between_runs(Command.DELETE, remove_container)

    # --- the loop --------------------------------------------------------------------------

    def serve(self) -> None:
        """Take commands until the session is closed or deleted. Run it on its own thread."""
        self._remove_pending()
        while True:
            command, argument = self._commands.get()
            if command == _QUIT:
                break
            try:
                getattr(self, f"_do_{command}")(argument)
            except Exception as exc:
                log.exception("session command %s failed", command)
                self._notify(n.CommandFailed(command=command, message=describe(exc)))
            if self._phase is Phase.CLOSED:
                break
        self._records.put(None)

    # --- handlers, on the loop's thread ----------------------------------------------------

    def _do_start(self, _argument: None) -> None:
        if self._conversation is not None:
            return
        self._set_phase(Phase.STARTING)
        self._notify(n.Starting(text="Starting the container…"))
        try:
            conversation = self._factory(self._hooks())
        except Exception as exc:
            self._start_failed(exc)
            return
        finally:
            self._cancel_start = None
        with self._lock:
            reopened = self.conversation_id is not None
            self._conversation = conversation
            self.conversation_id = conversation.id
            early, self._early = self._early, []
            if reopened:  # saved events are shown as they are; the model saw them all
                self._event_count = self._delivered = len(conversation.state.events)
            self._set_phase(Phase.OPEN)
        self._recorder = background.start("session-recorder", self._record_messages, daemon=True)
        state = conversation.state
        saved = (tuple(state.events), state.stats) if reopened else ((), None)
        self._notify(
            n.Opened(conversation=conversation, reopened=reopened, events=saved[0], stats=saved[1])
        )
        self._report_container()
        self._on_status(state.agent_status)
        for text in early:
            conversation.send_message(text)
        if early:
            self._run()

    def _do_resume(self, _argument: None) -> None:
        self._run()

    def _do_approve(self, _argument: None) -> None:
        if self._status is AgentStatus.WAITING_FOR_CONFIRMATION:
            self._run()  # run() approves the pending tool calls

    def _do_reject(self, reason: str) -> None:
        if self._conversation is not None:
            self._conversation.reject(reason)
            self._run()  # the model answers the rejection

    def _do_pause(self, _argument: None) -> None:
        if self._conversation is not None:
            self._conversation.pause()

    def _do_stop(self, _argument: None) -> None:
        if self._conversation is not None:
            self._conversation.interrupt()

    def _do_after_send(self, _argument: None) -> None:
        # A Resume taken between the recording and this may have answered it already.
        if self._status in STARTS_A_RUN and self.queued_count:
            self._run()

    def _do_rewind(self, checkpoint_id: str) -> None:
        if self._conversation is not None:
            self._conversation.rewind(checkpoint_id)

    def _do_fork(self, checkpoint_id: str) -> None:
        if self._conversation is None:
            return
        fork = self._conversation.fork(checkpoint_id)
        fork.close()  # saved; whoever wants it reopens it by id, as any saved conversation
        self._notify(n.Forked(conversation_id=fork.id))

    def _do_close(self, why: str | None) -> None:
        conversation = self._conversation
        if conversation is not None:
            if why:
                conversation.close(why)
            else:
                conversation.close()
            self._report_container()
        self._set_phase(Phase.CLOSED)
        self._notify(n.Closed(conversation_id=self.conversation_id))

    def _do_delete(self, remove_container: bool) -> None:
        from agent.conversation.deletion import delete_saved

        conversation = self._conversation
        if conversation is not None:
            conversation.delete(remove_container=remove_container)
        pending = False
        if self.conversation_id is not None:
            # Not open: by label, never started. Open: whatever its own removal could not
            # reach (the engine went away) is written down for later, the same way.
            pending = delete_saved(
                self.conversation_id, self._persistence_dir, remove_container=remove_container
            )
        self._set_phase(Phase.CLOSED)
        if self.conversation_id is not None:
            self._notify(n.Deleted(conversation_id=self.conversation_id, removal_pending=pending))

    # --- internals -------------------------------------------------------------------------

    def _remove_pending(self) -> None:
        """Containers of conversations deleted while the engine was away go now, if the
        engine is back (agent/conversation/deletion.py); a no-op when nothing waits."""
        from agent.conversation.deletion import remove_pending

        try:
            remove_pending(self._persistence_dir)
        except Exception:  # the start or delete at hand matters more
            log.warning("could not remove the containers left for later", exc_info=True)

    def _submit(self, command: Command, argument: Any = None) -> bool:
        if command not in self.allowed():
            return False
        self._commands.put((command, argument))
        return True

    def _at_once_or_queued(self, command: Command, method: str) -> bool:
        """Pause and Stop: the engine's method at once while a run is active (it only sets
        a flag then); otherwise on the loop's thread, since it may touch Docker."""
        if command not in self.allowed():
            return False
        conversation = self._conversation
        if self._phase is Phase.RUNNING and conversation is not None:
            getattr(conversation, method)()
            return True
        return self._submit(command)

    def _between_runs(self, command: Command, argument: Any) -> bool:
        """A command that needs the conversation idle: a run is paused, and the loop
        takes the command as soon as run() has returned."""
        if command not in self.allowed():
            return False
        conversation = self._conversation
        if command in (Command.CLOSE, Command.DELETE):
            self._ending = True
        if conversation is not None and self._phase is Phase.RUNNING:
            conversation.pause()
        self._commands.put((command, argument))
        return True

    def _answer_or_submit(self, command: Command, argument: Any) -> bool:
        if command not in self.allowed():
            return False
        with self._lock:
            if self._phase is Phase.RUNNING:
                # The run that stopped to ask has not returned yet: answered when it has.
                self._answer = (command, argument)
                return True
        return self._submit(command, argument)

    def _run(self) -> None:
        conversation = self._conversation
        # Once a close or delete is asked (say while the container started), no run
        # starts only to be paused at once: messages held meanwhile are on disk, and reach
        # the model when the conversation next runs.
        if conversation is None or self._ending:
            return
        while True:
            with self._lock:
                self._rerun = False
                self._answer = None
                self._set_phase(Phase.RUNNING)
            try:
                status = conversation.run()
            except Exception as exc:
                log.exception("run() failed")
                with self._lock:
                    self._set_phase(Phase.OPEN)
                self._notify(n.CommandFailed(command="run", message=describe(exc)))
                return
            with self._lock:
                rerun, answer = self._rerun, self._answer
                self._set_phase(Phase.OPEN)
            self._report_container()
            self._notify(n.RunEnded(status=status))
            if answer is not None and status is AgentStatus.WAITING_FOR_CONFIRMATION:
                self._commands.put(answer)
                return
            # A message may have landed just as the run decided to finish (unseen by it).
            if not (rerun and status in STARTS_A_RUN and self.queued_count):
                return

    def _record_messages(self) -> None:
        """The recorder thread: records messages in order, then asks for a run if none."""
        while True:
            text = self._records.get()
            conversation = self._conversation
            if text is None or conversation is None:
                return
            try:
                conversation.send_message(text)
            except Exception as exc:
                log.exception("could not record a message")
                self._notify(n.CommandFailed(command=Command.SEND, message=describe(exc)))
                continue
            with self._lock:
                if self._phase is Phase.RUNNING:
                    self._rerun = True
                    continue
            self._commands.put((_AFTER_SEND, None))

    def _start_failed(self, exc: BaseException) -> None:
        from sandbox import EngineUnreachableError, ImageMissingError, StartCancelledError

        if isinstance(exc, StartCancelledError):
            log.info("the start was cancelled: %s", exc)
            notice = n.StartFailed(reason=n.StartFailure.CANCELLED, message=str(exc))
        elif isinstance(exc, EngineUnreachableError):
            log.warning("Docker engine unreachable: %s", exc)
            notice = n.StartFailed(reason=n.StartFailure.ENGINE_UNREACHABLE, message=str(exc))
        elif isinstance(exc, ImageMissingError):
            log.warning("sandbox image missing: %s", exc)
            notice = n.StartFailed(
                reason=n.StartFailure.IMAGE_MISSING, message=str(exc), image=exc.image
            )
        else:
            log.error("could not start the conversation", exc_info=exc)
            notice = n.StartFailed(reason=n.StartFailure.OTHER, message=describe(exc))
        with self._lock:  # the held messages stay for the retry
            self._set_phase(Phase.NOT_STARTED)
        self._notify(notice)

    def _hooks(self) -> Hooks:
        return Hooks(
            conversation_id=self.conversation_id,
            on_event=self._on_event,
            on_status_change=self._on_status,
            on_command_output=self._on_output,
            on_progress=lambda text: self._notify(n.Starting(text=text)),
            on_token=self._on_token,
            on_request_sent=self._on_request_sent,
            on_workspace=self._on_workspace,
        )

    def _on_workspace(self, workspace: Any) -> None:
        self._cancel_start = getattr(workspace, "cancel_start", None)
        self._notify(n.PhaseChanged(phase=self._phase))  # Stop is allowed now

    def _on_event(self, event: Event) -> None:
        queued: int | None = None
        with self._lock:
            index = self._event_count
            self._event_count += 1
            if isinstance(event, MessageEvent) and event.role == "user":
                self._user_indices.append(index)
                queued = -1
            count = getattr(event, "request_event_count", None)
            if (
                isinstance(event, MessageEvent | ActionEvent)
                and count is not None
                and count > self._delivered
            ):
                self._deliver(count)
                queued = -1
        self._notify(n.EventRecorded(event=event))
        if queued is not None:
            self._notify(n.QueuedChanged(count=self.queued_count))
        conversation = self._conversation
        if conversation is not None:
            stats = conversation.state.stats
            if stats != self._stats:  # they change once per LLM reply
                self._stats = stats
                self._notify(n.StatsChanged(stats=stats))
            self._report_container()

    def _deliver(self, count: int) -> None:
        """The first ``count`` events have reached the model (held: ``_lock``)."""
        if count > self._delivered:
            self._delivered = count
            self._user_indices = [i for i in self._user_indices if i >= count]

    def _on_status(self, status: AgentStatus) -> None:
        conversation = self._conversation
        self._status = status
        self._detail = conversation.state.status_detail if conversation is not None else ""
        pending: tuple[ActionEvent, ...] = ()
        if conversation is not None and status is AgentStatus.WAITING_FOR_CONFIRMATION:
            pending = tuple(conversation.state.pending_actions)
        self._notify(n.StatusChanged(status=status, detail=self._detail, pending_actions=pending))

    def _on_request_sent(self, request_event_count: int) -> None:
        with self._lock:
            self._deliver(request_event_count)
        self.stream.begin(request_event_count)
        self._notify(n.ModelAsked(request_event_count=request_event_count))
        self._notify(n.QueuedChanged(count=self.queued_count))

    def _on_token(self, delta: StreamDelta) -> None:
        if self.stream.add(delta):
            self._notify(n.StreamWaiting())

    def _on_output(self, tool_call_id: str, chunk: str) -> None:
        if self.output.add(tool_call_id, chunk):
            self._notify(n.OutputWaiting())
        self._report_container()

    def _report_container(self) -> None:
        """Say the container's id and what holds it still, when that changed."""
        conversation = self._conversation
        if conversation is None:
            return
        try:
            workspace = conversation.workspace
            stopped = str(getattr(workspace, "hold", "")) == "stopped"
            state = (str(workspace.short_id), bool(workspace.frozen), stopped)
        except Exception:  # not started, or gone: watchers keep what they had
            return
        with self._lock:
            if self._container == state:
                return
            self._container = state
        self._notify(n.ContainerChanged(short_id=state[0], frozen=state[1], stopped=state[2]))

    def _set_phase(self, phase: Phase) -> None:
        if phase is self._phase:
            return
        self._phase = phase
        self._notify(n.PhaseChanged(phase=phase))

    def _notify(self, notice: n.Notice) -> None:
        with contextlib.suppress(Exception):  # a watcher's failure must not stop the session
            self._notify_fn(notice)


def conversation_factory(agent: Any, **options: Any) -> ConversationFactory:
    """A factory for the SDK and the CLI: ``Conversation(agent, **options)`` with the hooks."""

    def make(hooks: Hooks) -> Conversation:
        from agent.conversation.conversation import Conversation

        if not isinstance(options.get("workspace"), str | type(None)):
            hooks.on_workspace(options["workspace"])
        return Conversation(
            agent,
            conversation_id=hooks.conversation_id,
            callbacks=[hooks.on_event],
            on_status_change=hooks.on_status_change,
            on_command_output=hooks.on_command_output,
            token_callbacks=[hooks.on_token],
            on_request_sent=hooks.on_request_sent,
            **options,
        )

    return make
