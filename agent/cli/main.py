"""``berth run TASK``: the conversation engine in a terminal.

Events are printed as they happen. The first Ctrl+C pauses the agent (the container is
frozen if a command runs) and offers to send a message, resume or quit; a second Ctrl+C
while the pause takes effect stops the command instead.

The conversation is an ``agent.Session`` served on a plain thread, as each of the
window's is on a QThread: what may be done when is the session's rule, and this module
only asks the user and passes the answers on. Notices are printed where they happen (the
session's threads); those the terminal waits for (a run ended, the start failed, a
message recorded) are queued for the main thread, which also acts on Ctrl+C.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Literal, TextIO

from agent import background
from agent.cli.printer import EventPrinter, describe_action
from agent.events import MessageEvent
from agent.session import notices as n
from agent.session.commands import STARTS_A_RUN
from agent.status import AgentStatus

if TYPE_CHECKING:
    from agent.conversation import Conversation
    from agent.session.session import Session

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
    parser.add_argument(
        "--repo",
        metavar="DIR",
        help="a git repository to work on a copy of, on a branch berth/<id>; your files are "
        "not touched (see --hand-back)",
    )
    parser.add_argument(
        "--hand-back",
        action="store_true",
        help="with --repo: at the end, put the agent's work in DIR as its branch",
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The session's warnings (the engine away, the image missing) say what its notices
    # say, and those are printed; its errors still reach stderr with their traceback.
    logging.getLogger("agent.session").setLevel(logging.ERROR)
    return run_task(args, input_fn=input, out=sys.stdout)


def run_task(
    args: argparse.Namespace,
    *,
    input_fn: Callable[[str], str],
    out: TextIO,
) -> int:
    from agent import LLM, Agent, Tool
    from agent.session.session import Session, conversation_factory

    # The reply streams: its text is printed as the model writes it.
    llm = LLM(model=args.model, stream=True) if args.model else LLM(stream=True)
    if llm.api_key is None:
        out.write("note: LLM_API_KEY is not set; the model endpoint may refuse requests.\n")
    agent = Agent(llm=llm, tools=[Tool(name="BashTool"), Tool(name="FileEditorTool")])
    workspace: object = args.workspace
    if args.repo or args.hand_back:
        made = _repository_workspace(args, out)
        if made is None:
            return 2
        workspace = made
    elif args.image:
        from sandbox import DockerWorkspace

        host_dir = os.path.abspath(args.workspace) if args.workspace else None
        workspace = DockerWorkspace(args.image, host_dir=host_dir)
    factory = conversation_factory(
        agent,
        workspace=workspace,
        max_iterations=args.max_iterations,
        confirmation_mode=args.confirm,
    )
    watcher = _Watcher(EventPrinter(out))
    session = Session(factory, notify=watcher)
    watcher.session = session
    thread = background.start("run-session", session.serve, daemon=True)
    try:
        code = _drive(session, watcher, args.task, input_fn)
        if args.hand_back and session.conversation is not None:
            code = _hand_back(session.conversation, out) or code
        return code
    finally:
        session.close()
        thread.join()


def _repository_workspace(args: argparse.Namespace, out: TextIO) -> object | None:
    """A GitWorkspace on --repo, or None once the reason is printed."""
    from sandbox import GitWorkspace, SandboxError

    if not args.repo:
        out.write("! --hand-back needs --repo DIR: the repository to hand the work back to.\n")
        return None
    if args.workspace:
        out.write("! --repo and --workspace are two different folders to work on: give one.\n")
        return None
    try:
        return GitWorkspace(args.image, repo=args.repo)
    except SandboxError as exc:
        out.write(f"! {exc}\n")
        return None


def _hand_back(conversation: Conversation, out: TextIO) -> int:
    """Hand the work back and say how to look at it; the exit code (0, or 1 on failure)."""
    from sandbox import SandboxError

    try:
        branch = conversation.hand_back()
    except SandboxError as exc:
        out.write(f"! The work was not handed back: {exc}\n")
        return 1
    repo = getattr(conversation.workspace, "repo", "")
    out.write(f"The work is on branch {branch} in {repo}. To look at it:\n")
    out.write(f"  git switch {branch}\n")
    return 0


# What the main thread does once the menu has been answered.
_Next = Literal["run", "resume_once_recorded"]


def _drive(session: Session, watcher: _Watcher, task: str, input_fn: Callable[[str], str]) -> int:
    """Send the task, then answer each run's end until the agent finishes or the user
    quits; the exit code."""
    write = watcher.printer.write
    session.send(task)
    ended = watcher.wait_for_run()
    while True:
        if isinstance(ended, n.StartFailed):
            write(f"! {ended.message}\n")
            return 1
        status = ended
        if status == AgentStatus.FINISHED:
            return 0
        if status == AgentStatus.WAITING_FOR_CONFIRMATION:
            conversation = session.conversation
            assert conversation is not None  # a run ended, so it is open
            action = conversation.state.pending_actions[0]
            answer = _ask(input_fn, f"Run {describe_action(action)}? [y/N/reason] ")
            if answer is None:
                return 130
            word = answer.strip().lower()
            next_step: _Next = "run"
            if word in ("y", "yes"):
                taken = session.approve()
            else:
                taken = session.reject("" if word in ("", "n", "no") else answer)
        else:
            chosen = _menu(session, status, input_fn, write)
            if chosen is None:
                write(f"Saved as {session.conversation_id}.\n")
                return 130 if status == AgentStatus.PAUSED else 1
            taken, next_step = True, chosen
        # A refused answer (the status moved on meanwhile) is asked again from the new one.
        ended = watcher.wait_for_run(next_step) if taken else session.status


class _Watcher:
    """The session's notices: printed as they come, and queued for the main thread when
    it waits for them."""

    def __init__(self, printer: EventPrinter) -> None:
        self.printer = printer
        self.session: Session | None = None  # set before the session is served
        self._awaited: queue.Queue[n.Notice] = queue.Queue()
        # Live output is printed before the event that ends it, from whichever thread.
        self._lock = threading.Lock()

    def __call__(self, notice: n.Notice) -> None:
        if isinstance(notice, n.Starting):
            self.printer.write(notice.text + "\n")
        elif isinstance(notice, n.Opened):
            self.printer.write(f"Conversation {notice.conversation.id} (Ctrl+C pauses)\n")
        elif isinstance(notice, n.OutputWaiting):
            with self._lock:
                self._print_output()
        elif isinstance(notice, n.ModelAsked):
            self.printer.begin_reply()
        elif isinstance(notice, n.StreamWaiting):
            assert self.session is not None
            with self._lock:
                self.printer.stream(self.session.take_stream().deltas)
        elif isinstance(notice, n.EventRecorded):
            with self._lock:
                self._print_output()
                self.printer(notice.event)
            if isinstance(notice.event, MessageEvent) and notice.event.role == "user":
                self._awaited.put(notice)
        elif isinstance(notice, n.CommandFailed):
            self.printer.write(f"! {notice.message}\n")
            self._awaited.put(notice)
        elif isinstance(notice, n.RunEnded | n.StartFailed):
            self._awaited.put(notice)

    def _print_output(self) -> None:
        assert self.session is not None
        for tool_call_id, chunk in self.session.take_output():
            self.printer.output(tool_call_id, chunk)

    def wait_for_run(self, next_step: _Next = "run") -> AgentStatus | n.StartFailed:
        """Until the run ends (or the start fails), acting on Ctrl+C within PRESS_POLL_S:
        the first press pauses, later ones stop the running command.
        ``resume_once_recorded``: a message was sent while paused; Resume once it is on
        disk, so the resumed run has it from its first step."""
        session = self.session
        assert session is not None
        handled = 0
        announced = False
        with _presses_counted() as presses:
            while True:
                try:
                    notice: n.Notice | None = self._awaited.get(timeout=PRESS_POLL_S)
                except queue.Empty:
                    notice = None
                if isinstance(notice, n.RunEnded):
                    return notice.status
                if isinstance(notice, n.StartFailed):
                    return notice
                if isinstance(notice, n.CommandFailed) and (
                    notice.command == "run" or next_step == "resume_once_recorded"
                ):
                    return session.status  # printed already; the menu again
                if isinstance(notice, n.EventRecorded) and next_step == "resume_once_recorded":
                    next_step = "run"
                    if not session.resume():
                        return session.status
                while handled < len(presses):
                    if handled == 0:
                        if not announced:
                            announced = True
                            self.printer.write(
                                "\nPausing… (Ctrl+C again stops the running command)\n"
                            )
                        if not session.pause():
                            break  # the run has not begun yet: asked again at the next poll
                    else:
                        session.stop()
                    handled += 1


@contextlib.contextmanager
def _presses_counted() -> Iterator[list[int]]:
    """Ctrl+C presses while waiting, counted by a handler rather than caught as
    KeyboardInterrupt: that exception lands at any bytecode of this thread, also outside
    a try (the press was then lost and the app died) or inside a wait (CPython gh-90882).
    Each press appends to the list."""
    presses: list[int] = []
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda _signum, _frame: presses.append(1))
    try:
        yield presses
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _menu(
    session: Session,
    status: AgentStatus,
    input_fn: Callable[[str], str],
    write: Callable[[str], None],
) -> _Next | None:
    """Paused, failed or stuck: what next. None: the user quits."""
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
        if choice == "m":
            text = _ask(input_fn, "message> ")
            if text is None:
                return None
            # Into a failed or stuck conversation a message starts the run itself; while
            # paused it waits for Resume.
            starts_a_run = session.status in STARTS_A_RUN
            if text.strip() and session.send(text):
                return "run" if starts_a_run else "resume_once_recorded"
            choice = "r"
        if choice == "r":
            if session.resume():
                return "run"
            write("It cannot go on as it is: send it a message instead.\n")
            continue
        write("Type m, r or q.\n")


def _ask(input_fn: Callable[[str], str], prompt: str) -> str | None:
    try:
        return input_fn(prompt)
    except (EOFError, KeyboardInterrupt):
        return None


if __name__ == "__main__":
    sys.exit(main())
