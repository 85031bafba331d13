"""``berth run TASK``: the conversation engine in a terminal.

Events are printed as they happen. The first Ctrl+C pauses the agent (the container is
frozen if a command runs) and offers to send a message, resume or quit; a second Ctrl+C
while the pause takes effect stops the command instead.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    CheckpointFailedEvent,
    CondensationEvent,
    ContextFileEvent,
    Event,
    InterruptEvent,
    MessageEvent,
    ObservationEvent,
    PauseEvent,
    ResumeEvent,
    StatusEvent,
)
from agent.status import AgentStatus

if TYPE_CHECKING:
    from agent.conversation import Conversation

MAX_OBSERVATION_LINES = 30
PRESS_POLL_S = 0.05  # how soon a Ctrl+C press is acted on


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="berth run",
        description="Run the agent on TASK in a Docker container, printing what it does. "
        "Ctrl+C pauses it. The model comes from LLM_MODEL, LLM_BASE_URL and LLM_API_KEY.",
    )
    parser.add_argument("task", help="what the agent should do")
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        help="a folder to work on, bind-mounted at /workspace (default: a new Docker volume)",
    )
    parser.add_argument("--image", help="the container image (default: $BERTH_SANDBOX_IMAGE)")
    parser.add_argument("--model", help="the litellm model name (default: $LLM_MODEL)")
    parser.add_argument(
        "--max-iterations", type=int, default=100, help="steps per run before giving up"
    )
    parser.add_argument(
        "--confirm", action="store_true", help="ask before each tool call the agent makes"
    )
    return parser


class EventPrinter:
    """Turns events into short terminal lines."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._streamed: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        text = self.format(event)
        if text is not None:
            self._write(text + "\n")

    def output(self, tool_call_id: str, chunk: str) -> None:
        with self._lock:
            self._streamed.add(tool_call_id)
        self._write(chunk)

    def _write(self, text: str) -> None:
        with self._lock:
            self.out.write(text)
            self.out.flush()

    def format(self, event: Event) -> str | None:
        if isinstance(event, MessageEvent):
            who = "you" if event.role == "user" else "agent"
            return f"\n[{who}] {event.text}"
        if isinstance(event, ActionEvent):
            lead = f"\n{event.thought.strip()}\n" if event.thought.strip() else ""
            return lead + "→ " + describe_action(event)
        if isinstance(event, ObservationEvent):
            with self._lock:
                streamed = event.tool_call_id in self._streamed
            lines = event.content.rstrip("\n").splitlines() or ["(no output)"]
            if streamed:  # the output was printed live: only its status lines now
                lines = [line for line in lines if line.startswith("[")]
            if len(lines) > MAX_OBSERVATION_LINES:
                hidden = len(lines) - MAX_OBSERVATION_LINES
                half = MAX_OBSERVATION_LINES // 2
                lines = [*lines[:half], f"… {hidden} more lines …", *lines[-half:]]
            mark = "✗" if event.is_error else "←"
            return "\n".join(f"  {mark} {line}" for line in lines) if lines else None
        if isinstance(event, AgentErrorEvent):
            return f"! {event.message}"
        if isinstance(event, PauseEvent):
            return "‖ paused"
        if isinstance(event, ResumeEvent):
            return "▶ resumed"
        if isinstance(event, InterruptEvent):
            return "■ stopped"
        if isinstance(event, CheckpointFailedEvent):
            return f"! warning: {event.message} (the run goes on)"
        if isinstance(event, CondensationEvent):
            return f"≡ steps {event.first_step}-{event.last_step} summarised (context window)"
        if isinstance(event, ContextFileEvent):
            return f"≡ read {event.path}" + (" (first 32 KB)" if event.truncated else "")
        if isinstance(event, StatusEvent) and event.status in (
            AgentStatus.FINISHED,
            AgentStatus.STUCK,
        ):
            return f"[{event.status.value}]"
        return None


def describe_action(event: ActionEvent) -> str:
    args = event.arguments
    if event.raw_arguments is not None:
        return f"{event.tool_name} (unreadable arguments)"
    if event.tool_name == "bash":
        prefix = "$ (input) " if args.get("is_input") else "$ "
        return prefix + str(args.get("command", ""))
    if event.tool_name == "file_editor":
        return f"file_editor {args.get('command', '?')} {args.get('path', '')}".rstrip()
    if event.tool_name == "finish":
        return "finish"
    return f"{event.tool_name} {args}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_task(args, input_fn=input, out=sys.stdout)


def run_task(
    args: argparse.Namespace,
    *,
    input_fn: Callable[[str], str],
    out: TextIO,
) -> int:
    from agent import LLM, Agent, Conversation, Tool

    llm = LLM(model=args.model) if args.model else LLM()
    if llm.api_key is None:
        out.write("note: LLM_API_KEY is not set; the model endpoint may refuse requests.\n")
    agent = Agent(llm=llm, tools=[Tool(name="BashTool"), Tool(name="FileEditorTool")])
    printer = EventPrinter(out)
    workspace: object = args.workspace
    if args.image:
        from sandbox import DockerWorkspace

        host_dir = os.path.abspath(args.workspace) if args.workspace else None
        workspace = DockerWorkspace(args.image, host_dir=host_dir)
    out.write("Starting the container…\n")
    out.flush()
    conversation = Conversation(
        agent,
        workspace=workspace,  # type: ignore[arg-type]
        callbacks=[printer],
        on_command_output=printer.output,
        max_iterations=args.max_iterations,
        confirmation_mode=args.confirm,
    )
    out.write(f"Conversation {conversation.id} (Ctrl+C pauses)\n")
    conversation.send_message(args.task)
    try:
        while True:
            status = _run_until_stopped(conversation, out)
            if status == AgentStatus.FINISHED:
                return 0
            if status == AgentStatus.WAITING_FOR_CONFIRMATION:
                action = conversation.state.pending_actions[0]
                answer = _ask(input_fn, f"Run {describe_action(action)}? [y/N/reason] ")
                if answer is None:
                    return 130
                if answer.strip().lower() in ("y", "yes"):
                    continue
                conversation.reject("" if answer.strip().lower() in ("", "n", "no") else answer)
                continue
            choice = _menu(conversation, status, input_fn, out)
            if choice is None:
                out.write(f"Saved as {conversation.id}.\n")
                return 130 if status == AgentStatus.PAUSED else 1
    finally:
        conversation.close()


def _run_until_stopped(conversation: Conversation, out: TextIO) -> AgentStatus:
    result: list[AgentStatus] = []
    done = threading.Event()

    def target() -> None:
        try:
            result.append(conversation.run())
        finally:
            done.set()

    threading.Thread(target=target, daemon=True).start()
    # Ctrl+C is counted by a handler rather than caught as KeyboardInterrupt: that
    # exception lands at any bytecode of this thread, also outside a try (the press was
    # then lost and the app died) or inside Event.wait (CPython gh-90882).
    presses: list[int] = []
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda _signum, _frame: presses.append(1))
    handled = 0
    try:
        while not done.wait(PRESS_POLL_S):
            while handled < len(presses):
                handled += 1
                if handled == 1:
                    out.write("\nPausing… (Ctrl+C again stops the running command)\n")
                    conversation.pause()
                else:
                    conversation.interrupt()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return result[0] if result else conversation.state.agent_status


def _menu(
    conversation: Conversation, status: AgentStatus, input_fn: Callable[[str], str], out: TextIO
) -> str | None:
    label = {
        AgentStatus.PAUSED: "Paused",
        AgentStatus.ERROR: "The agent hit an error",
        AgentStatus.STUCK: "The agent looks stuck",
    }.get(status, str(status))
    while True:
        answer = _ask(input_fn, f"{label}. [m]essage, [r]esume or [q]uit? ")
        if answer is None:
            return None
        choice = answer.strip().lower()[:1]
        if choice == "q":
            return None
        if choice == "r":
            return "resume"
        if choice == "m":
            text = _ask(input_fn, "message> ")
            if text is None:
                return None
            if text.strip():
                conversation.send_message(text)
            return "message"
        out.write("Type m, r or q.\n")


def _ask(input_fn: Callable[[str], str], prompt: str) -> str | None:
    try:
        return input_fn(prompt)
    except (EOFError, KeyboardInterrupt):
        return None


if __name__ == "__main__":
    sys.exit(main())
